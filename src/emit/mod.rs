//! Emitters: print a plan as Bicep or as ARM JSON. They read the plan only.

pub mod arm;
pub mod bicep;

/// One generated file: a path relative to the output folder, and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    pub path: String,
    pub text: String,
}

pub const GENERATOR: &str = concat!("aibc ", env!("CARGO_PKG_VERSION"));

/// Text made safe for a `//` line comment: a comment ends at the first line break, so a
/// newline in a spec path or a description would start a new Bicep line the reader (and
/// Bicep) takes as code. Every character that breaks a line or is invisible control is
/// written as a visible escape instead (`\n`, `\r`, `\u{2028}`); a backslash stays as it
/// is unless it could be mistaken for one of those escapes.
pub fn comment(text: &str) -> std::borrow::Cow<'_, str> {
    fn unsafe_char(c: char) -> bool {
        c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{85}')
    }
    if !text.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push(' '),
            c if unsafe_char(c) => out.push_str(&format!("\\u{{{:04x}}}", c as u32)),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::comment;

    #[test]
    fn comments_cannot_break_their_line() {
        assert_eq!(comment("specs/a.yaml"), "specs/a.yaml");
        let evil = "x\nresource r 'Microsoft.Foo/bar@2020-01-01' = {}\r\u{2028}\u{85}\u{1b}[2J\tend";
        let safe = comment(evil);
        assert!(!safe.contains(['\n', '\r', '\u{2028}', '\u{85}', '\u{1b}', '\t']), "{safe}");
        assert_eq!(safe, "x\\nresource r 'Microsoft.Foo/bar@2020-01-01' = {}\\r\\u{2028}\\u{0085}\\u{001b}[2J end");
    }
}
