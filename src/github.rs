//! GitHub Actions' native channels, used when `GITHUB_ACTIONS=true`: workflow commands on
//! standard output (`::group::`, `::error file=…,line=…,col=…::`), step outputs appended to
//! the file `$GITHUB_OUTPUT` names, and Markdown appended to `$GITHUB_STEP_SUMMARY`.
//! Facts from GitHub's "Workflow commands for GitHub Actions" page: data escapes `%`, CR
//! and LF; property values also escape `:` and `,`; multi-line outputs use a
//! `name<<DELIMITER` block.

use std::io::Write;

use crate::diagnostic::{JsonDiagnostic, Severity};
use crate::document::Document;
use crate::redact::redact;

pub fn in_github_actions() -> bool {
    std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v.eq_ignore_ascii_case("true"))
}

/// A workflow command's message.
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// A workflow command's property value (`file=`, `title=`).
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// `::error file=F,line=L,col=C,endLine=…,endColumn=…,title=CODE::message` for a diagnostic.
pub fn annotation(d: &JsonDiagnostic) -> String {
    let level = match d.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let mut message = d.message.to_string();
    if let Some(h) = d.hint {
        message.push_str("\nhelp: ");
        message.push_str(h);
    }
    format!(
        "::{level} file={},line={},col={},endLine={},endColumn={},title={}::{}",
        escape_property(&d.file),
        d.line,
        d.column,
        d.end_line,
        d.end_column,
        escape_property(d.code),
        escape_data(&redact(&message))
    )
}

/// Annotates every diagnostic of `doc` on standard output, when under GitHub Actions.
pub fn annotate(doc: &Document) {
    if !in_github_actions() {
        return;
    }
    let mut out = std::io::stdout().lock();
    for d in &doc.diags {
        let _ = writeln!(out, "{}", annotation(&JsonDiagnostic::new(d, &doc.sources)));
    }
}

/// `IMAGE_VERSION` → `image-version`: the output names a workflow reads as
/// `steps.<id>.outputs.image-version`.
pub fn output_name(name: &str) -> String {
    name.to_ascii_lowercase().replace('_', "-")
}

/// The text appended to `$GITHUB_OUTPUT` for one output; a value with a line break uses a
/// delimiter block whose delimiter cannot occur in it.
pub fn output_entry(name: &str, value: &str) -> String {
    if !value.contains(['\n', '\r']) {
        return format!("{name}={value}\n");
    }
    let mut delimiter = String::from("AIBC_EOF");
    while value.contains(&delimiter) {
        delimiter.push('_');
    }
    format!("{name}<<{delimiter}\n{value}\n{delimiter}\n")
}

fn append(var: &str, text: &str) {
    let Some(path) = std::env::var_os(var).filter(|p| !p.is_empty()) else { return };
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut f| f.write_all(text.as_bytes()));
    if let Err(e) = written {
        eprintln!("warning: cannot append to ${var} ({}): {e}", std::path::Path::new(&path).display());
    }
}

/// Sets a step output (redacted), when under GitHub Actions.
pub fn set_output(name: &str, value: &str) {
    if in_github_actions() {
        append("GITHUB_OUTPUT", &output_entry(&output_name(name), &redact(value)));
    }
}

/// Appends Markdown to the job summary, when under GitHub Actions.
pub fn add_summary(markdown: &str) {
    if in_github_actions() {
        append("GITHUB_STEP_SUMMARY", &redact(markdown));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn properties_escape_what_ends_them() {
        assert_eq!(escape_property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
        assert_eq!(escape_data("50%: a,b\r\n"), "50%25: a,b%0D%0A");
    }

    #[test]
    fn multi_line_outputs_use_a_delimiter_not_in_the_value() {
        assert_eq!(output_entry("image-version", "1.2.3"), "image-version=1.2.3\n");
        assert_eq!(output_entry("log", "a\nAIBC_EOF"), "log<<AIBC_EOF_\na\nAIBC_EOF\nAIBC_EOF_\n");
        assert_eq!(output_name("GALLERY_IMAGE_VERSION_ID"), "gallery-image-version-id");
    }

    #[test]
    fn a_diagnostic_becomes_a_located_annotation() {
        let d = JsonDiagnostic {
            code: "AIB003",
            severity: Severity::Error,
            message: "unknown key `vmSzie` in `build`",
            file: "img/web,1.yaml".into(),
            line: 14,
            column: 3,
            end_line: 14,
            end_column: 9,
            label: None,
            hint: Some("rename it to `vmSize`"),
        };
        assert_eq!(
            annotation(&d),
            "::error file=img/web%2C1.yaml,line=14,col=3,endLine=14,endColumn=9,title=AIB003::unknown key `vmSzie` in `build`%0Ahelp: rename it to `vmSize`"
        );
    }
}
