//! What an import reports: located findings that print exactly like aibc's diagnostics.
//!
//! The import codes (AIB7xx) are not in aibc's catalogue (`crate::diagnostic::Code`),
//! which belongs to the spec checker; until they are added there, they live here and are
//! rendered by aibc's own renderer with only the code swapped in.

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
    /// A placeholder such as `<region>` that was meant to be replaced by hand.
    Placeholder,
    /// A deploy-time value where the spec needs one known when compiling.
    CompileTime,
    /// The input is not a template that can be imported.
    Invalid,
    /// Imported, but with a change the spec makes necessary.
    Changed,
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
    ];

    pub fn id(self) -> &'static str {
        match self {
            ImportCode::Syntax => Code::Syntax.id(),
            ImportCode::Unsupported => "AIB701",
            ImportCode::DoneByAib => "AIB702",
            ImportCode::Placeholder => "AIB703",
            ImportCode::CompileTime => "AIB704",
            ImportCode::Invalid => "AIB705",
            ImportCode::Changed => "AIB706",
        }
    }

    pub fn severity(self) -> Severity {
        match self {
            ImportCode::Syntax | ImportCode::Invalid => Severity::Error,
            _ => Severity::Warning,
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            ImportCode::Syntax => Code::Syntax.title(),
            ImportCode::Unsupported => "A part of the imported template has no AIB counterpart and is not in the spec.",
            ImportCode::DoneByAib => {
                "An imported step or setting that AIB does itself (generalizing, connecting, signing in)."
            }
            ImportCode::Placeholder => "A placeholder such as `<region>` in the imported template.",
            ImportCode::CompileTime => "A deploy-time value where the spec needs a value known when compiling.",
            ImportCode::Invalid => "The input is not a template aibc can import.",
            ImportCode::Changed => "Imported with a change in form or meaning that the spec makes necessary.",
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
}

impl Finding {
    pub fn new(code: ImportCode, span: Span, message: impl Into<String>) -> Finding {
        Finding { code, span, message: message.into(), label: None, hint: None }
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
        // aibc's renderer, given a stand-in code; only the code in the header differs.
        let stand_in = Code::Syntax;
        let d = Diagnostic {
            code: stand_in,
            severity: self.code.severity(),
            span: self.span,
            message: self.message.clone(),
            label: self.label.clone(),
            hint: self.hint.clone(),
        };
        diagnostic::render(&d, sources, color).replacen(
            &format!("[{}]", stand_in.id()),
            &format!("[{}]", self.code.id()),
            1,
        )
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
    fn codes_are_unique_and_not_in_the_spec_catalogue() {
        let ids: Vec<&str> = ImportCode::ALL.iter().skip(1).map(|c| c.id()).collect();
        for id in &ids {
            assert!(Code::ALL.iter().all(|c| c.id() != *id), "{id} is taken");
            assert_eq!(ids.iter().filter(|x| *x == id).count(), 1);
        }
    }
}
