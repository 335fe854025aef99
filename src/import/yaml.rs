//! A small YAML emitter for specs: block style, keys in the order given, and every string
//! written so that a YAML 1.2 reader (aibc's loader) gets back exactly that string.
//!
//! Strings are written plain when nothing could misread them, single-quoted when they
//! hold YAML syntax or would read as another type (`true`, `1.10`, `null`), as a literal
//! block (`|`) when they span lines, and double-quoted with escapes when they hold
//! characters that neither plain nor single-quoted nor block scalars can carry.

use std::fmt::Write as _;

use serde_json::Value;

/// The document for `value` (a mapping), with `header` lines written as comments first.
pub fn to_string(value: &Value, header: &[String]) -> String {
    to_string_with_notes(value, header, &[])
}

/// Like `to_string`, with comment lines placed in the document: each note is a path in
/// `value` (`/customize/2`, `/source`) and a line. A note goes just before the entry at
/// its path; when there is none (a step that was left out), at the end of the deepest
/// block that exists, so it stays where the missing part belongs.
pub fn to_string_with_notes(value: &Value, header: &[String], notes: &[(String, String)]) -> String {
    let mut placed = Notes::default();
    for (path, line) in notes {
        placed.place(value, path, line);
    }
    let mut out = String::new();
    for line in header {
        comment(&mut out, 0, line);
    }
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (i, (k, v)) in map.iter().enumerate() {
                // A blank line before each section that spans lines, for the reader.
                if i > 0 && is_block(v) {
                    out.push('\n');
                }
                entry(&mut out, &placed, "", 0, k, v);
            }
            placed.end(&mut out, "", 0);
        }
        other => {
            scalar_or_flow(&mut out, 0, other);
            out.push('\n');
            placed.end(&mut out, "", 0);
        }
    }
    out
}

/// A comment line at `level`; characters a comment cannot hold are shown escaped.
fn comment(out: &mut String, level: usize, line: &str) {
    indent(out, level);
    if line.is_empty() {
        out.push_str("#\n");
        return;
    }
    let shown: String = line
        .chars()
        .map(|c| {
            if c != '\t' && c != '\n' && c != '\r' && printable(c) {
                c.to_string()
            } else {
                c.escape_default().to_string()
            }
        })
        .collect();
    let _ = writeln!(out, "# {shown}");
}

/// Comment lines by where they go: before an entry, or at the end of a block.
#[derive(Default)]
struct Notes {
    before: std::collections::BTreeMap<String, Vec<String>>,
    end: std::collections::BTreeMap<String, Vec<String>>,
}

impl Notes {
    fn place(&mut self, root: &Value, path: &str, line: &str) {
        let segs: Vec<&str> = path.split('/').skip(1).filter(|s| !s.is_empty()).collect();
        let mut at = root;
        let mut here = String::new();
        for (i, seg) in segs.iter().enumerate() {
            let next = match at {
                Value::Object(m) => m.get(&unescape(seg)),
                Value::Array(a) => seg.parse::<usize>().ok().and_then(|n| a.get(n)),
                _ => None,
            };
            match next {
                Some(v) => {
                    here.push('/');
                    here.push_str(seg);
                    at = v;
                    if i + 1 == segs.len() {
                        self.before.entry(here).or_default().push(line.to_string());
                        return;
                    }
                }
                None => break,
            }
        }
        // The deepest part that exists: inside it when it is a block, before it otherwise.
        if here.is_empty() || is_block(at) {
            self.end.entry(here).or_default().push(line.to_string());
        } else {
            self.before.entry(here).or_default().push(line.to_string());
        }
    }

    fn before(&self, out: &mut String, path: &str, level: usize) {
        for l in self.before.get(path).into_iter().flatten() {
            comment(out, level, &format!("TODO(aibc import): {l}"));
        }
    }

    fn end(&self, out: &mut String, path: &str, level: usize) {
        for l in self.end.get(path).into_iter().flatten() {
            comment(out, level, &format!("TODO(aibc import): {l}"));
        }
    }
}

fn child(path: &str, seg: &str) -> String {
    format!("{path}/{}", seg.replace('~', "~0").replace('/', "~1"))
}

fn unescape(seg: &str) -> String {
    seg.replace("~1", "/").replace("~0", "~")
}

/// Whether the value is written on lines of its own (a non-empty mapping or list).
fn is_block(v: &Value) -> bool {
    match v {
        Value::Object(m) => !m.is_empty(),
        Value::Array(a) => !a.is_empty(),
        _ => false,
    }
}

fn indent(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

/// `key: value` at `level`, nested values below it; `parent` is the path of the mapping.
fn entry(out: &mut String, notes: &Notes, parent: &str, level: usize, key: &str, value: &Value) {
    let path = child(parent, key);
    notes.before(out, &path, level);
    indent(out, level);
    out.push_str(&key_text(key));
    out.push(':');
    after_key(out, notes, &path, level, value);
}

/// What follows `key:` or `- `: an inline scalar, or a newline and a nested block.
fn after_key(out: &mut String, notes: &Notes, path: &str, level: usize, value: &Value) {
    match value {
        Value::Object(m) if !m.is_empty() => {
            out.push('\n');
            for (k, v) in m {
                entry(out, notes, path, level + 2, k, v);
            }
            notes.end(out, path, level + 2);
        }
        Value::Array(a) if !a.is_empty() => {
            out.push('\n');
            for (i, item) in a.iter().enumerate() {
                list_item(out, notes, &child(path, &i.to_string()), level + 2, item);
            }
            notes.end(out, path, level + 2);
        }
        other => {
            out.push(' ');
            scalar_or_flow(out, level + 2, other);
            out.push('\n');
        }
    }
}

/// `- item` at `level`; a mapping item starts on the dash's line.
fn list_item(out: &mut String, notes: &Notes, path: &str, level: usize, item: &Value) {
    notes.before(out, path, level);
    // Notes before the first key go above the dash that key shares a line with.
    if let Some((k, _)) = item.as_object().and_then(|m| m.iter().next()) {
        notes.before(out, &child(path, k), level);
    }
    indent(out, level);
    out.push('-');
    match item {
        Value::Object(m) if !m.is_empty() => {
            for (i, (k, v)) in m.iter().enumerate() {
                if i == 0 {
                    let p = child(path, k);
                    out.push(' ');
                    out.push_str(&key_text(k));
                    out.push(':');
                    after_key(out, notes, &p, level + 2, v);
                } else {
                    entry(out, notes, path, level + 2, k, v);
                }
            }
            notes.end(out, path, level + 2);
        }
        Value::Array(a) if !a.is_empty() => {
            out.push('\n');
            for (i, x) in a.iter().enumerate() {
                list_item(out, notes, &child(path, &i.to_string()), level + 2, x);
            }
            notes.end(out, path, level + 2);
        }
        other => {
            out.push(' ');
            scalar_or_flow(out, level + 2, other);
            out.push('\n');
        }
    }
}

/// A scalar, or an empty container (`{}`, `[]`). `level` is the indentation a block
/// scalar's lines get.
fn scalar_or_flow(out: &mut String, level: usize, v: &Value) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&number(n)),
        Value::String(s) => string(out, level, s),
        Value::Array(_) => out.push_str("[]"),
        Value::Object(_) => out.push_str("{}"),
    }
}

fn number(n: &serde_json::Number) -> String {
    if n.is_i64() || n.is_u64() {
        return n.to_string();
    }
    let f = n.as_f64().unwrap_or_default();
    if f.is_nan() {
        ".nan".into()
    } else if f.is_infinite() {
        if f > 0.0 { ".inf".into() } else { "-.inf".into() }
    } else {
        // `{:?}` always writes a `.` or an exponent, so it reads back as a float.
        let s = format!("{f:?}");
        if s.contains(['.', 'e', 'E']) { s } else { format!("{s}.0") }
    }
}

fn key_text(key: &str) -> String {
    if !key.contains('\n') && is_plain(key) { key.to_string() } else { inline_quoted(key) }
}

fn string(out: &mut String, level: usize, s: &str) {
    if s.contains('\n') && block_ok(s) {
        block(out, level, s);
    } else if is_plain(s) {
        out.push_str(s);
    } else {
        out.push_str(&inline_quoted(s));
    }
}

/// Single quotes where they can carry the text, double quotes (with escapes) otherwise.
fn inline_quoted(s: &str) -> String {
    if s.chars().all(|c| c != '\n' && printable(c)) { format!("'{}'", s.replace('\'', "''")) } else { double_quoted(s) }
}

/// Characters YAML lets stand unescaped in a quoted or block scalar. Conservative: line
/// separators and other characters some readers treat specially are escaped.
fn printable(c: char) -> bool {
    match c {
        '\t' => true,
        '\u{20}'..='\u{7e}' => true,
        '\u{a0}'..='\u{d7ff}' => !matches!(c, '\u{2028}' | '\u{2029}'),
        '\u{e000}'..='\u{fffd}' => c != '\u{feff}',
        '\u{10000}'..='\u{10ffff}' => true,
        _ => false,
    }
}

fn double_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\0' => out.push_str("\\0"),
            c if printable(c) => out.push(c),
            c if (c as u32) <= 0xff => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if (c as u32) <= 0xffff => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => {
                let _ = write!(out, "\\U{:08x}", c as u32);
            }
        }
    }
    out.push('"');
    out
}

/// Whether a plain scalar reads back as this very string.
fn is_plain(s: &str) -> bool {
    let Some(first) = s.chars().next() else { return false };
    let last = s.chars().last().unwrap_or(first);
    if first.is_whitespace() || last.is_whitespace() || last == ':' {
        return false;
    }
    // Indicators that start other YAML syntax (or may, as `-`, `?`, `:` do).
    if "-?:,[]{}#&*!|>'\"%@`".contains(first) {
        return false;
    }
    if s.contains(": ") || s.contains(" #") || s.contains('\t') {
        return false;
    }
    if !s.chars().all(|c| c.is_ascii_graphic() || c == ' ' || (c.is_alphanumeric() && printable(c))) {
        return false;
    }
    !resolves_to_non_string(s)
}

/// Whether a plain scalar `s` would be read as null, a boolean or a number (YAML 1.2 core
/// schema, as aibc's loader resolves it). Errs towards "yes": quoting costs nothing.
fn resolves_to_non_string(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    if matches!(lower.as_str(), "~" | "null" | "true" | "false" | ".inf" | "+.inf" | "-.inf" | ".nan") {
        return true;
    }
    // Anything that starts like a number: digits, a sign or a dot followed by one.
    let body = s.strip_prefix(['-', '+']).unwrap_or(s);
    let body = body.strip_prefix('.').unwrap_or(body);
    body.starts_with(|c: char| c.is_ascii_digit())
}

/// Whether a multi-line string can be a literal block scalar.
fn block_ok(s: &str) -> bool {
    // Every character must be printable, and a line must not end in spaces or tabs
    // (kept by YAML, but invisible and easily lost by editors); such text is quoted.
    s.chars().all(|c| c == '\n' || printable(c))
        && s.split('\n').all(|l| !l.ends_with([' ', '\t']))
        && s.split('\n').any(|l| !l.is_empty())
        // Trailing empty lines would need `|+`, which runs into whatever follows it.
        && !s.ends_with("\n\n")
}

/// `|` or `|-` (the text ends with one line break, or none), with an indentation
/// indicator when the first line that has content starts with a space (YAML would
/// otherwise take that space for indentation).
fn block(out: &mut String, level: usize, s: &str) {
    let trailing = usize::from(s.ends_with('\n'));
    let chomp = if trailing == 0 { "-" } else { "" };
    let first = s.split('\n').find(|l| !l.is_empty()).unwrap_or("");
    let indicator = if first.starts_with([' ', '\t']) { "2" } else { "" };
    out.push('|');
    out.push_str(indicator);
    out.push_str(chomp);
    let body = if trailing > 0 { &s[..s.len() - 1] } else { s };
    for line in body.split('\n') {
        out.push('\n');
        if !line.is_empty() {
            indent(out, level);
            out.push_str(line);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_go_where_their_part_is_or_was() {
        let v = serde_json::json!({
            "name": "x",
            "build": { "vmSize": "D2" },
            "customize": [ { "type": "Shell", "inline": "a" }, { "type": "Shell", "inline": "b" } ]
        });
        let notes = vec![
            ("/customize/1".to_string(), "before the second step".to_string()),
            ("/customize/2".to_string(), "after the last step".to_string()),
            ("/build/subnet".to_string(), "in build".to_string()),
            ("/distribute/0".to_string(), "at the end".to_string()),
            ("/name".to_string(), "before name".to_string()),
        ];
        let text = to_string_with_notes(&v, &[], &notes);
        assert_eq!(
            text,
            "# TODO(aibc import): before name\nname: x\n\nbuild:\n  vmSize: D2\n  # TODO(aibc import): in build\n\ncustomize:\n  - type: Shell\n    inline: a\n  # TODO(aibc import): before the second step\n  - type: Shell\n    inline: b\n  # TODO(aibc import): after the last step\n# TODO(aibc import): at the end\n"
        );
        // Comments change nothing that is read back.
        let doc = crate::document::load_str(std::path::Path::new("n.yaml"), text, crate::loader::Format::Yaml);
        assert_eq!(doc.images[0].node.to_json(), v);
    }
    use serde_json::json;

    #[test]
    fn writes_block_style() {
        let v = json!({
            "name": "img",
            "tags": {"a": "1", "b c": "true"},
            "customize": [{"type": "Shell", "inline": "echo 1\necho 2\n"}, {"type": "File", "source": "x"}],
            "empty": [],
        });
        let text = to_string(&v, &["Imported".to_string()]);
        assert_eq!(
            text,
            "# Imported\nname: img\n\ntags:\n  a: '1'\n  b c: 'true'\n\ncustomize:\n  - type: Shell\n    inline: |\n      echo 1\n      echo 2\n  - type: File\n    source: x\nempty: []\n"
        );
    }

    #[test]
    fn plain_only_when_unambiguous() {
        for s in ["abc", "Standard_D2s_v5", "${params.x}", "a:b", "C:\\Windows", "https://x/y?z=1"] {
            assert!(is_plain(s), "{s}");
        }
        for s in ["", "1.10", "-1", ".5", "true", "NULL", "~", "- x", "a: b", "a #b", "x:", " a", "'q", "*a", "@x"] {
            assert!(!is_plain(s), "{s}");
        }
    }

    #[test]
    fn block_scalars_choose_chomping_and_indentation() {
        let mut out = String::new();
        block(&mut out, 2, "  indented\nnext");
        assert_eq!(out, "|2-\n    indented\n  next");
        assert!(!block_ok("a\n\n"));
    }
}
