//! Values given to an import from outside the template, as `az deployment` and `packer
//! build` take them: an ARM parameters file (JSON, or a `.bicepparam` file of plain
//! values), Packer `-var-file` files (HCL2 `.pkrvars.hcl`, or JSON) and `-var NAME=VALUE`.
//!
//! Each value keeps where it was written, so that a value that cannot be used is
//! reported in the file that holds it.

use std::path::Path;

use super::diag::{Finding, ImportCode};
use super::value::{Text, V, Val};
use crate::node::{Kind, Node};
use crate::source::{Pos, Sources, Span};

/// One given value: the name, where the name is written, and the value.
#[derive(Debug, Clone)]
pub struct Given {
    pub name: String,
    pub span: Span,
    pub value: Val,
}

/// A JSON tree as a value, strings taken as they are (parameter files are not evaluated).
fn literal(n: &Node) -> Val {
    super::arm::eval::literal_node(n)
}

fn read(path: &Path) -> Result<String, Finding> {
    let bytes = std::fs::read(path).map_err(|e| {
        Finding::new(ImportCode::ValueFile, Span::default(), format!("cannot read {}: {e}", path.display()))
    })?;
    String::from_utf8(bytes).map_err(|_| {
        Finding::new(ImportCode::ValueFile, Span::default(), format!("{} is not UTF-8 text", path.display()))
    })
}

/// An ARM parameters file: `.bicepparam` by its name, JSON otherwise.
pub fn arm_parameters(path: &Path, sources: &mut Sources) -> Result<Vec<Given>, Vec<Finding>> {
    let text = read(path).map_err(|f| vec![f])?;
    if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("bicepparam")) {
        return bicepparam(path, text, sources);
    }
    let (_, root) = super::arm::parse_json(path, text, sources)?;
    // `{"parameters": {"name": {"value": …}}}`; a bare `{"name": {"value": …}}` too.
    let params = root.get("parameters").unwrap_or(&root);
    let Kind::Map(entries) = &params.kind else {
        return Err(vec![Finding::new(ImportCode::ValueFile, params.span, "`parameters` is not a mapping")]);
    };
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for e in entries {
        if params.span == root.span && matches!(e.key.as_str(), "$schema" | "contentVersion") {
            continue;
        }
        match e.value.get("value") {
            Some(v) => out.push(Given { name: e.key.clone(), span: e.key_span, value: literal(v) }),
            None if e.value.get("reference").is_some() => errors.push(
                Finding::new(
                    ImportCode::ValueFile,
                    e.key_span,
                    format!("`{}` is a Key Vault reference, which is read only when deploying", e.key),
                )
                .hint("leave it out: it stays a parameter of the spec, given when deploying"),
            ),
            None => errors.push(
                Finding::new(ImportCode::ValueFile, e.key_span, format!("`{}` has no `value`", e.key))
                    .hint("write it as `\"name\": { \"value\": … }`"),
            ),
        }
    }
    if errors.is_empty() { Ok(out) } else { Err(errors) }
}

/// A `.bicepparam` file of plain values: `using '…'` and `param NAME = VALUE` lines,
/// where a value is a string, number, boolean, null, array or object of those.
pub fn bicepparam(path: &Path, text: String, sources: &mut Sources) -> Result<Vec<Given>, Vec<Finding>> {
    let text = text.strip_prefix('\u{feff}').map(str::to_string).unwrap_or(text).replace("\r\n", "\n");
    let file = sources.add(path.to_path_buf(), text.clone());
    let mut p = Bicep { chars: text.chars().collect(), at: 0, line: 1, col: 1, file };
    let mut out = Vec::new();
    loop {
        p.skip(true);
        let Some(c) = p.peek() else { break };
        let start = p.pos();
        if !c.is_alphabetic() {
            return Err(vec![p.error(start, format!("unexpected `{c}`"), "write `param NAME = VALUE` lines")]);
        }
        let word = p.ident();
        match word.as_str() {
            "using" => {
                p.skip(false);
                p.value(0).map_err(|e| vec![e])?;
            }
            "param" => {
                p.skip(false);
                let at = p.pos();
                let name = p.ident();
                if name.is_empty() {
                    return Err(vec![p.error(at, "expected a parameter name", "write `param NAME = VALUE`")]);
                }
                let span = Span { file, start: at, end: p.pos() };
                p.skip(false);
                if !p.eat('=') {
                    let here = p.pos();
                    return Err(vec![p.error(here, "expected `=`", "write `param NAME = VALUE`")]);
                }
                p.skip(false);
                let value = p.value(0).map_err(|e| vec![e])?;
                out.push(Given { name, span, value });
            }
            other => {
                return Err(vec![p.error(
                    start,
                    format!("`{other}` is not read: aibc reads a .bicepparam file of plain `param` values"),
                    "write each value itself (`param NAME = 'text'`), or use a JSON parameters file",
                )]);
            }
        }
    }
    Ok(out)
}

/// Values nest at most this deep in a `.bicepparam` file.
const MAX_DEPTH: usize = 64;

struct Bicep {
    chars: Vec<char>,
    at: usize,
    line: u32,
    col: u32,
    file: u32,
}

impl Bicep {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn pos(&self) -> Pos {
        Pos { line: self.line, col: self.col }
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.at += 1;
        if c == '\n' {
            self.line += 1;
            self.col = 1;
        } else {
            self.col += 1;
        }
        Some(c)
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.bump();
            true
        } else {
            false
        }
    }

    /// Skips blanks and comments; line breaks too when `newlines`.
    fn skip(&mut self, newlines: bool) {
        loop {
            match self.peek() {
                Some(' ' | '\t') => {
                    self.bump();
                }
                Some('\n') if newlines => {
                    self.bump();
                }
                Some('/') if self.chars.get(self.at + 1) == Some(&'/') => {
                    while self.peek().is_some_and(|c| c != '\n') {
                        self.bump();
                    }
                }
                Some('/') if self.chars.get(self.at + 1) == Some(&'*') => {
                    self.bump();
                    self.bump();
                    while self.peek().is_some()
                        && !(self.peek() == Some('*') && self.chars.get(self.at + 1) == Some(&'/'))
                    {
                        self.bump();
                    }
                    self.bump();
                    self.bump();
                }
                _ => return,
            }
        }
    }

    fn ident(&mut self) -> String {
        let mut s = String::new();
        while let Some(c) = self.peek().filter(|c| c.is_alphanumeric() || *c == '_') {
            s.push(c);
            self.bump();
        }
        s
    }

    fn error(&self, at: Pos, message: impl Into<String>, hint: &str) -> Finding {
        Finding::new(ImportCode::ValueFile, Span { file: self.file, start: at, end: at }, message).hint(hint)
    }

    fn value(&mut self, depth: usize) -> Result<Val, Finding> {
        let start = self.pos();
        if depth > MAX_DEPTH {
            return Err(self.error(start, format!("values nest deeper than {MAX_DEPTH} levels"), "flatten the value"));
        }
        let span = |p: &Bicep| Span { file: p.file, start, end: p.pos() };
        let v = match self.peek() {
            Some('\'') => {
                self.bump();
                let mut s = String::new();
                loop {
                    match self.bump() {
                        None | Some('\n') => {
                            return Err(self.error(start, "a string is not closed with `'`", "close it with `'`"));
                        }
                        Some('\'') => break,
                        Some('$') if self.peek() == Some('{') => {
                            return Err(self.error(
                                start,
                                "a string with `${…}` is computed when deploying; aibc reads plain values only",
                                "write the value itself",
                            ));
                        }
                        Some('\\') => match self.bump() {
                            Some('n') => s.push('\n'),
                            Some('r') => s.push('\r'),
                            Some('t') => s.push('\t'),
                            Some(c @ ('\\' | '\'' | '$')) => s.push(c),
                            _ => {
                                return Err(self.error(
                                    start,
                                    "an unknown escape in a string",
                                    "write `\\\\` for `\\`",
                                ));
                            }
                        },
                        Some(c) => s.push(c),
                    }
                }
                V::Str(Text::lit(s))
            }
            Some(c) if c.is_ascii_digit() || c == '-' => {
                let mut s = String::new();
                if self.eat('-') {
                    s.push('-');
                }
                while let Some(d) = self.peek().filter(char::is_ascii_digit) {
                    s.push(d);
                    self.bump();
                }
                V::Int(
                    s.parse()
                        .map_err(|_| self.error(start, format!("`{s}` is not a number"), "write a whole number"))?,
                )
            }
            Some('[') => {
                self.bump();
                let mut items = Vec::new();
                loop {
                    self.skip(true);
                    if self.eat(']') {
                        break;
                    }
                    if self.peek().is_none() {
                        return Err(self.error(start, "an array is not closed with `]`", "close it with `]`"));
                    }
                    items.push(self.value(depth + 1)?);
                    self.skip(false);
                    self.eat(',');
                }
                V::Arr(items)
            }
            Some('{') => {
                self.bump();
                let mut entries = Vec::new();
                loop {
                    self.skip(true);
                    if self.eat('}') {
                        break;
                    }
                    let key_at = self.pos();
                    let key = match self.peek() {
                        Some('\'') => match self.value(depth + 1)?.v {
                            V::Str(t) => t.as_lit().unwrap_or_default().to_string(),
                            _ => String::new(),
                        },
                        Some(c) if c.is_alphabetic() || c == '_' => self.ident(),
                        _ => return Err(self.error(key_at, "expected a property name", "write `name: value`")),
                    };
                    let key_span = Span { file: self.file, start: key_at, end: self.pos() };
                    self.skip(false);
                    if !self.eat(':') {
                        let here = self.pos();
                        return Err(self.error(here, "expected `:`", "write `name: value`"));
                    }
                    self.skip(false);
                    entries.push((key, key_span, self.value(depth + 1)?));
                    self.skip(false);
                    self.eat(',');
                }
                V::Obj(entries)
            }
            Some(c) if c.is_alphabetic() => {
                let word = self.ident();
                match word.as_str() {
                    "true" => V::Bool(true),
                    "false" => V::Bool(false),
                    "null" => V::Null,
                    _ => {
                        return Err(self.error(
                            start,
                            format!(
                                "`{word}` is an expression, evaluated when deploying; aibc reads plain values only"
                            ),
                            "write the value itself",
                        ));
                    }
                }
            }
            Some(c) => return Err(self.error(start, format!("unexpected `{c}`"), "write a plain value")),
            None => return Err(self.error(start, "the value is missing", "write a value after `=`")),
        };
        Ok(Val::new(v, span(self)))
    }
}

/// `-var NAME=VALUE` arguments: a values file of their own (`-var`), one per line, so
/// that a problem with one is shown where it is.
pub fn command_line(vars: &[String], sources: &mut Sources) -> Result<Vec<Given>, Vec<Finding>> {
    if vars.is_empty() {
        return Ok(Vec::new());
    }
    let file = sources.add("-var".into(), vars.iter().map(|v| v.replace('\n', " ")).collect::<Vec<_>>().join("\n"));
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (i, v) in vars.iter().enumerate() {
        let line = i as u32 + 1;
        match v.split_once('=') {
            Some((name, value)) if !name.trim().is_empty() => {
                let name_end = Pos { line, col: name.chars().count() as u32 + 1 };
                let span = Span { file, start: Pos { line, col: 1 }, end: name_end };
                let value_span = Span { file, start: name_end, end: Pos { line, col: v.chars().count() as u32 + 1 } };
                out.push(Given {
                    name: name.trim().to_string(),
                    span,
                    value: Val::str(Text::lit(value.to_string()), value_span),
                });
            }
            _ => errors.push(
                Finding::new(
                    ImportCode::ValueFile,
                    Span::point(file, line, 1),
                    format!("`-var {v}` is not NAME=VALUE"),
                )
                .hint("write `-var NAME=VALUE`"),
            ),
        }
    }
    if errors.is_empty() { Ok(out) } else { Err(errors) }
}

/// A Packer `-var-file` in JSON: `{"name": value, …}`.
pub fn json_var_file(path: &Path, sources: &mut Sources) -> Result<Vec<Given>, Vec<Finding>> {
    let text = read(path).map_err(|f| vec![f])?;
    let (_, root) = super::arm::parse_json(path, text, sources)?;
    let Kind::Map(entries) = &root.kind else { unreachable!("parse_json returns mappings only") };
    Ok(entries.iter().map(|e| Given { name: e.key.clone(), span: e.key_span, value: literal(&e.value) }).collect())
}

/// A Packer `-var-file`'s text, for the HCL reader.
pub fn text_of(path: &Path) -> Result<String, Finding> {
    read(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bp(text: &str) -> Result<Vec<(String, serde_json::Value)>, String> {
        let mut sources = Sources::default();
        bicepparam(Path::new("p.bicepparam"), text.to_string(), &mut sources)
            .map(|g| g.into_iter().map(|g| (g.name, g.value.to_json())).collect())
            .map_err(|f| format!("{} {}:{}", f[0].code.id(), f[0].span.start.line, f[0].span.start.col))
    }

    #[test]
    fn reads_plain_bicepparam_values() {
        let got = bp("using './main.bicep'\n// a comment\nparam name = 'img-\\'a\\''\nparam n = 3\nparam on = true\nparam list = [\n  'a'\n  'b'\n]\nparam obj = {\n  type: 'PlatformImage'\n  'x-y': -1 /* c */\n}\n").unwrap();
        assert_eq!(got[0], ("name".into(), serde_json::json!("img-'a'")));
        assert_eq!(got[1].1, serde_json::json!(3));
        assert_eq!(got[2].1, serde_json::json!(true));
        assert_eq!(got[3].1, serde_json::json!(["a", "b"]));
        assert_eq!(got[4].1, serde_json::json!({"type": "PlatformImage", "x-y": -1}));
    }

    #[test]
    fn refuses_expressions_where_they_are() {
        assert_eq!(bp("param a = 'x-${b}'\n").unwrap_err(), "AIB712 1:11");
        assert_eq!(bp("using 'm.bicep'\nparam a = resourceGroup().location\n").unwrap_err(), "AIB712 2:11");
        assert_eq!(bp("var x = 1\n").unwrap_err(), "AIB712 1:1");
        assert_eq!(bp("param a = [\n 'x'\n").unwrap_err(), "AIB712 1:11");
    }

    #[test]
    fn command_line_values() {
        let mut sources = Sources::default();
        let g = command_line(&["a=b=c".into(), "n=".into()], &mut sources).unwrap();
        assert_eq!((g[0].name.as_str(), g[0].value.lit()), ("a", Some("b=c")));
        assert_eq!(g[1].value.lit(), Some(""));
        let e = command_line(&["x".into()], &mut sources).unwrap_err();
        assert_eq!(e[0].code, ImportCode::ValueFile);
    }
}
