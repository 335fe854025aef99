//! What an import reports: located findings that print exactly like aibc's diagnostics.
//!
//! The import codes (AIB7xx) are part of aibc's catalogue (`crate::diagnostic::Code`), so
//! `aibc explain` and docs/diagnostics.md list them; `ImportCode` names the ones an
//! import uses, one meaning each.

use crate::diagnostic::{self, Code, Diagnostic, Severity};
use crate::source::{Sources, Span};

/// Why an import reports something.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ImportCode {
    /// The input is not valid JSON/HCL (aibc's AIB001).
    Syntax,
    /// A part of the template with no AIB counterpart; it is left out of the spec.
    Unsupported,
    /// A step or setting AIB does itself (generalizing, connecting, authenticating).
    DoneByAib,
    /// A placeholder such as `<region>` that became a required spec parameter.
    Placeholder,
    /// A deploy-time value where the spec needs one known when compiling.
    CompileTime,
    /// The input is not a template that can be imported.
    Invalid,
    /// Imported, but with a change the spec makes necessary.
    Changed,
    /// The OS had to be guessed.
    Os,
    /// A value only known when deploying or building became a required spec parameter.
    DeployTime,
    /// A part that could not be imported: a `# TODO(aibc import)` in the spec, exit 8.
    Gap,
    /// A source AIB cannot build from (a VHD URL).
    Source,
    /// Content that comes from a parameter or variable with no value.
    MissingValue,
    /// A value given on the command line or in a values file that cannot be used.
    ValueFile,
}

impl ImportCode {
    pub const ALL: &'static [ImportCode] = &[
        ImportCode::Syntax,
        ImportCode::Unsupported,
        ImportCode::DoneByAib,
        ImportCode::Placeholder,
        ImportCode::CompileTime,
        ImportCode::Invalid,
        ImportCode::Changed,
        ImportCode::Os,
        ImportCode::DeployTime,
        ImportCode::Gap,
        ImportCode::Source,
        ImportCode::MissingValue,
        ImportCode::ValueFile,
    ];

    /// The catalogue entry.
    pub fn code(self) -> Code {
        match self {
            ImportCode::Syntax => Code::Syntax,
            ImportCode::Unsupported => Code::ImportUnsupported,
            ImportCode::DoneByAib => Code::ImportDoneByAib,
            ImportCode::Placeholder => Code::ImportPlaceholder,
            ImportCode::CompileTime => Code::ImportCompileTime,
            ImportCode::Invalid => Code::ImportInvalid,
            ImportCode::Changed => Code::ImportChanged,
            ImportCode::Os => Code::ImportOs,
            ImportCode::DeployTime => Code::ImportDeployTime,
            ImportCode::Gap => Code::ImportGap,
            ImportCode::Source => Code::ImportSource,
            ImportCode::MissingValue => Code::ImportMissingValue,
            ImportCode::ValueFile => Code::ImportValueFile,
        }
    }

    pub fn id(self) -> &'static str {
        self.code().id()
    }

    pub fn severity(self) -> Severity {
        self.code().default_severity()
    }

    pub fn title(self) -> &'static str {
        self.code().title()
    }

    /// What to do about it, for `aibc explain`.
    pub fn what_to_do(self) -> &'static str {
        match self {
            ImportCode::Syntax => "Fix the file at the place shown and import again.",
            ImportCode::Unsupported => {
                "Nothing in the image depends on it, or the hint says how to do the same with the spec."
            }
            ImportCode::DoneByAib => {
                "Nothing: AIB signs in as the identity aibc creates, connects to the build VM and generalizes the image (Sysprep, waagent -deprovision) after the last step."
            }
            ImportCode::Placeholder => "Give the parameter's value when deploying.",
            ImportCode::CompileTime => {
                "The spec has the value known when importing: change it in the spec, or import again with other values (`--parameters`, `-var`)."
            }
            ImportCode::Invalid => "Fix the template at the place shown and import again.",
            ImportCode::Changed => {
                "Check the value in the spec; `aibc import --check` lists every change the import made on purpose."
            }
            ImportCode::Os => "Check `os:` in the spec, or import again with `--os windows` or `--os linux`.",
            ImportCode::DeployTime => {
                "Give the parameter's value when deploying; its description says where the template took it from."
            }
            ImportCode::Gap => {
                "Finish each `# TODO(aibc import)` comment in the spec (write the value it asks for, or the step by hand), then run `aibc validate`."
            }
            ImportCode::Source => {
                "Create a managed image (`az image create --source <VHD URL>`) or a gallery image version from the VHD, then build from that."
            }
            ImportCode::MissingValue => {
                "Import again with the values: `--parameters FILE` for an ARM template, `-var NAME=VALUE` or `-var-file FILE` for a Packer template."
            }
            ImportCode::ValueFile => {
                "Fix the value at the place shown: name only parameters or variables the template declares, and write plain values (no expressions) in a .bicepparam file."
            }
        }
    }
}

/// One located finding.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub code: ImportCode,
    pub span: Span,
    pub message: String,
    pub label: Option<String>,
    pub hint: Option<String>,
    /// For a gap: where in the spec (a path such as `/customize/2`) its
    /// `# TODO(aibc import)` comment goes.
    pub todo: Option<String>,
}

impl Finding {
    pub fn new(code: ImportCode, span: Span, message: impl Into<String>) -> Finding {
        Finding { code, span, message: message.into(), label: None, hint: None, todo: None }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Finding {
        self.hint = Some(hint.into());
        self
    }

    /// Sets the hint of a finding already reported.
    pub fn help(&mut self, hint: impl Into<String>) -> &mut Finding {
        self.hint = Some(hint.into());
        self
    }

    pub fn label(mut self, label: impl Into<String>) -> Finding {
        self.label = Some(label.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.code.severity() == Severity::Error
    }

    /// `file:line:col`, as the rendered finding shows it.
    pub fn location(&self, sources: &Sources) -> String {
        let path = sources.get(self.span.file).map(|f| f.path.display().to_string()).unwrap_or_default();
        format!("{path}:{}:{}", self.span.start.line.max(1), self.span.start.col.max(1))
    }

    /// Renders like every aibc diagnostic (header, `-->` location, caret, help).
    pub fn render(&self, sources: &Sources, color: bool) -> String {
        let d = Diagnostic {
            code: self.code.code(),
            severity: self.code.severity(),
            span: self.span,
            message: self.message.clone(),
            label: self.label.clone(),
            hint: self.hint.clone(),
        };
        diagnostic::render(&d, sources, color)
    }
}

/// Findings in reading order, exact repeats dropped.
pub fn normalize(findings: &mut Vec<Finding>) {
    findings.sort_by(|a, b| {
        (a.span.file, a.span.start, a.code, &a.message).cmp(&(b.span.file, b.span.start, b.code, &b.message))
    });
    findings.dedup_by(|a, b| a.code == b.code && a.span == b.span && a.message == b.message);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_like_aibc_diagnostics() {
        let mut sources = Sources::default();
        let f = sources.add("t.json".into(), "{\n  \"type\": \"breakpoint\"\n}\n".into());
        let span = Span {
            file: f,
            start: crate::source::Pos { line: 2, col: 11 },
            end: crate::source::Pos { line: 2, col: 23 },
        };
        let text = Finding::new(ImportCode::Unsupported, span, "the `breakpoint` provisioner has no AIB counterpart")
            .hint("remove it")
            .render(&sources, false);
        assert_eq!(
            text,
            "warning[AIB701]: the `breakpoint` provisioner has no AIB counterpart\n --> t.json:2:11\n  |\n2 |   \"type\": \"breakpoint\"\n  |           ^^^^^^^^^^^^\n  = help: remove it\n"
        );
    }

    #[test]
    fn every_import_code_has_its_own_catalogue_entry() {
        let ids: Vec<&str> = ImportCode::ALL.iter().skip(1).map(|c| c.id()).collect();
        for id in &ids {
            assert!(id.starts_with("AIB7"), "{id}");
            assert_eq!(ids.iter().filter(|x| *x == id).count(), 1, "{id} has two meanings");
        }
        // Every AIB7xx code of the catalogue is one the import uses.
        let catalogue = Code::ALL.iter().filter(|c| c.id().starts_with("AIB7")).count();
        assert_eq!(catalogue, ids.len());
    }
}
