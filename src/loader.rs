//! Parses a spec file (YAML 1.2 or JSON) into a spanned `Node` tree.
//!
//! We drive saphyr's event parser ourselves instead of deserializing directly, because
//! serde stops at the first error and forgets positions; here every key and value keeps
//! its span, duplicate keys are all reported, and limits (depth, size, alias expansion)
//! keep hostile input from exhausting the stack or memory.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, Span as YSpan};

use crate::diagnostic::{Code, Diagnostic};
use crate::node::{Entry, Kind, Node, Scalar};
use crate::source::{Pos, Span};

/// Nesting deeper than this is rejected; later stages recurse over the tree.
pub const MAX_DEPTH: usize = 64;
/// Nodes (after alias expansion) one document may hold: stops "billion laughs".
pub const MAX_NODES: usize = 200_000;
/// Largest spec file read, in bytes.
pub const MAX_BYTES: usize = 8 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Yaml,
    Json,
}

impl Format {
    pub fn from_path(path: &std::path::Path) -> Format {
        match path.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("json") => Format::Json,
            _ => Format::Yaml,
        }
    }
}

/// Parses `text`; returns the document (if it could be built) and every problem seen.
/// A syntax error ends parsing, but duplicate keys and similar problems are collected.
pub fn parse(file: u32, text: &str, format: Format) -> (Option<Node>, Vec<Diagnostic>) {
    let mut b = Builder { file, format, diags: Vec::new(), anchors: HashMap::new(), nodes: 0 };
    if text.len() > MAX_BYTES {
        let d = Diagnostic::new(
            Code::Syntax,
            Span::point(file, 1, 1),
            format!("the file is {} bytes; specs are limited to {MAX_BYTES} bytes", text.len()),
        )
        .with_hint("a spec is a short file; split a large family into several files");
        return (None, vec![d]);
    }
    let root = b.document(text);
    (root, b.diags)
}

struct Builder {
    file: u32,
    format: Format,
    diags: Vec<Diagnostic>,
    anchors: HashMap<usize, Node>,
    nodes: usize,
}

/// A container being built: a sequence, or a mapping waiting for a key or a value.
enum Frame {
    Seq {
        items: Vec<Node>,
        span: Span,
        anchor: usize,
    },
    Map {
        entries: Vec<Entry>,
        /// Keys seen, for duplicate detection in constant time (a mapping may be large).
        seen: HashMap<String, u32>,
        pending: Option<(String, Span)>,
        span: Span,
        anchor: usize,
        merges: Vec<Node>,
    },
}

impl Builder {
    fn span(&self, s: &YSpan) -> Span {
        Span {
            file: self.file,
            start: Pos { line: s.start.line() as u32, col: s.start.col() as u32 + 1 },
            end: Pos { line: s.end.line() as u32, col: s.end.col() as u32 + 1 },
        }
    }

    fn error(&mut self, span: Span, code: Code, msg: String, hint: &str) {
        self.diags.push(Diagnostic::new(code, span, msg).with_hint(hint));
    }

    fn document(&mut self, text: &str) -> Option<Node> {
        let mut parser = Parser::new_from_str(text);
        let mut stack: Vec<Frame> = Vec::new();
        let mut root: Option<Node> = None;
        let mut documents = 0;
        while let Some(ev) = parser.next_event() {
            let (event, yspan) = match ev {
                Ok(e) => e,
                Err(e) => {
                    let m = e.marker();
                    let (line, col) = error_position(text, m.line(), m.col(), e.info());
                    let what = if self.format == Format::Json { "JSON" } else { "YAML" };
                    let d = Diagnostic::new(
                        Code::Syntax,
                        Span::point(self.file, line, col),
                        format!("this is not valid {what}: {}", e.info()),
                    )
                    .with_hint(syntax_hint(e.info(), self.format));
                    self.diags.push(d);
                    return None;
                }
            };
            let span = self.span(&yspan);
            let done: Option<Node> = match event {
                Event::StreamStart | Event::StreamEnd | Event::Nothing | Event::DocumentEnd => None,
                Event::DocumentStart(_) => {
                    documents += 1;
                    if documents > 1 {
                        self.error(
                            span,
                            Code::Syntax,
                            "a spec file holds one YAML document; found a second one (`---`)".into(),
                            "remove the `---` line and what follows, or put several images in one family (`images:`)",
                        );
                        return None;
                    }
                    None
                }
                Event::Alias(id) => match self.anchors.get(&id) {
                    Some(n) => {
                        let n = n.clone();
                        self.nodes += count(&n);
                        if self.nodes > MAX_NODES {
                            self.error(
                                span,
                                Code::Syntax,
                                format!("aliases expand to more than {MAX_NODES} values"),
                                "write the values out, or share them with a family's `defaults:` instead of nested aliases",
                            );
                            return None;
                        }
                        Some(Node { span, ..n })
                    }
                    None => {
                        self.error(
                            span,
                            Code::Syntax,
                            "this alias names no anchor defined before it".into(),
                            "define the anchor (`&name`) on a value above this `*name`, or check its spelling",
                        );
                        return None;
                    }
                },
                Event::Scalar(value, style, anchor, tag) => {
                    let node = match tag {
                        // `!!str` is the one tag with a meaning here (force a string).
                        Some(t) if !(t.suffix == "str" && (t.handle == "tag:yaml.org,2002:" || t.handle == "!!")) => {
                            self.error(
                                span,
                                Code::Syntax,
                                format!(
                                    "YAML tags such as `{}{}` are not supported here; remove the tag",
                                    t.handle, t.suffix
                                ),
                                "specs are plain YAML: write the value itself (quote it to force a string)",
                            );
                            Node::new(Kind::Scalar(Scalar::Str(value.to_string())), span)
                        }
                        Some(_) => Node::new(Kind::Scalar(Scalar::Str(value.to_string())), span),
                        None => self.scalar(&value, style, span),
                    };
                    if anchor > 0 {
                        self.anchors.insert(anchor, node.clone());
                    }
                    Some(node)
                }
                Event::SequenceStart(anchor, _) => {
                    if stack.len() >= MAX_DEPTH {
                        self.error(
                            span,
                            Code::Syntax,
                            format!("values nest deeper than {MAX_DEPTH} levels"),
                            "no part of a spec nests this deep; look for a runaway indentation or bracket",
                        );
                        return None;
                    }
                    stack.push(Frame::Seq { items: Vec::new(), span, anchor });
                    None
                }
                Event::MappingStart(anchor, _) => {
                    if stack.len() >= MAX_DEPTH {
                        self.error(
                            span,
                            Code::Syntax,
                            format!("values nest deeper than {MAX_DEPTH} levels"),
                            "no part of a spec nests this deep; look for a runaway indentation or bracket",
                        );
                        return None;
                    }
                    stack.push(Frame::Map {
                        entries: Vec::new(),
                        seen: HashMap::new(),
                        pending: None,
                        span,
                        anchor,
                        merges: Vec::new(),
                    });
                    None
                }
                Event::SequenceEnd => match stack.pop() {
                    Some(Frame::Seq { items, span: s, anchor }) => {
                        let node = Node::new(Kind::Seq(items), Span { end: span.end, ..s });
                        if anchor > 0 {
                            self.anchors.insert(anchor, node.clone());
                        }
                        Some(node)
                    }
                    _ => None,
                },
                Event::MappingEnd => match stack.pop() {
                    Some(Frame::Map { mut entries, span: s, anchor, merges, .. }) => {
                        // `<<: *base` merge keys: the mapping's own keys win.
                        for m in merges {
                            if let Kind::Map(extra) = m.kind {
                                for e in extra {
                                    if !entries.iter().any(|x| x.key == e.key) {
                                        entries.push(e);
                                    }
                                }
                            }
                        }
                        let node = Node::new(Kind::Map(entries), Span { end: span.end, ..s });
                        if anchor > 0 {
                            self.anchors.insert(anchor, node.clone());
                        }
                        Some(node)
                    }
                    _ => None,
                },
            };
            let Some(node) = done else { continue };
            self.nodes += 1;
            if self.nodes > MAX_NODES {
                self.error(
                    node.span,
                    Code::Syntax,
                    format!("the document holds more than {MAX_NODES} values"),
                    "a spec is a short file; split a large family into several files",
                );
                return None;
            }
            match stack.last_mut() {
                None => root = Some(node),
                Some(Frame::Seq { items, .. }) => items.push(node),
                Some(Frame::Map { entries, seen, pending, merges, .. }) => match pending.take() {
                    None => {
                        let key = match &node.kind {
                            Kind::Scalar(Scalar::Str(s)) => s.clone(),
                            Kind::Scalar(Scalar::Null) => String::new(),
                            Kind::Scalar(_) => node.raw.clone().unwrap_or_default(),
                            _ => {
                                let span = node.span;
                                self.error(
                                    span,
                                    Code::Syntax,
                                    "mapping keys must be plain strings, not lists or mappings".into(),
                                    "write the key as a plain word followed by `:`",
                                );
                                String::new()
                            }
                        };
                        *pending = Some((key, node.span));
                    }
                    Some((key, key_span)) => {
                        if key == "<<" && self.format == Format::Yaml {
                            match node.kind {
                                Kind::Map(_) => merges.push(node),
                                Kind::Seq(items) => merges.extend(items),
                                _ => {
                                    self.diags.push(
                                        Diagnostic::new(
                                            Code::Syntax,
                                            node.span,
                                            "a `<<` merge key takes a mapping (or a list of mappings)",
                                        )
                                        .with_hint("write `<<: *anchor` where the anchor names a mapping"),
                                    );
                                }
                            }
                        } else if let Some(&first_line) = seen.get(&key) {
                            self.diags.push(
                                Diagnostic::new(
                                    Code::DuplicateKey,
                                    key_span,
                                    format!("`{key}` is set twice in the same mapping"),
                                )
                                .with_hint(format!("the first `{key}` is on line {first_line}; keep one of them")),
                            );
                        } else {
                            seen.insert(key.clone(), key_span.start.line);
                            entries.push(Entry { key, key_span, value: node });
                        }
                    }
                },
            }
        }
        if root.is_none() {
            self.error(
                Span::point(self.file, 1, 1),
                Code::Syntax,
                "the file is empty; a spec needs at least `name`, `os`, `source` and `distribute`".into(),
                "start from an example: `examples/ubuntu-2404-apt/image.yaml`",
            );
        }
        root
    }

    /// Resolves a scalar by the YAML 1.2 core schema (JSON's literals are a subset).
    fn scalar(&self, value: &str, style: ScalarStyle, span: Span) -> Node {
        if style != ScalarStyle::Plain {
            return Node::new(Kind::Scalar(Scalar::Str(value.to_string())), span);
        }
        let kind = match value {
            "" | "~" | "null" | "Null" | "NULL" => Scalar::Null,
            "true" | "True" | "TRUE" => Scalar::Bool(true),
            "false" | "False" | "FALSE" => Scalar::Bool(false),
            ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => Scalar::Float(f64::INFINITY),
            "-.inf" | "-.Inf" | "-.INF" => Scalar::Float(f64::NEG_INFINITY),
            ".nan" | ".NaN" | ".NAN" => Scalar::Float(f64::NAN),
            v => parse_number(v).unwrap_or_else(|| Scalar::Str(v.to_string())),
        };
        let raw = (self.format == Format::Yaml).then(|| value.to_string());
        Node { kind: Kind::Scalar(kind), span, raw }
    }
}

/// Where to show a parser error: on a real character. The parser reports end-of-input
/// errors on the line after the last, and tab errors just after the tab.
fn error_position(text: &str, line: usize, col: usize, info: &str) -> (u32, u32) {
    let lines: Vec<&str> = text.split('\n').collect();
    let last = lines.iter().rposition(|l| !l.trim().is_empty()).unwrap_or(0);
    if line == 0 || line > last + 1 {
        let l = lines.get(last).copied().unwrap_or("");
        return (last as u32 + 1, l.chars().count() as u32 + 1);
    }
    let here = lines[line - 1];
    if info.contains("tab")
        && let Some(i) = here.chars().position(|c| c == '\t')
    {
        return (line as u32, i as u32 + 1);
    }
    (line as u32, col as u32 + 1)
}

/// A fix for the commonest parser complaints.
fn syntax_hint(info: &str, format: Format) -> String {
    let info = info.to_ascii_lowercase();
    if info.contains("tab") {
        "indent with spaces; YAML does not allow tabs for indentation".into()
    } else if info.contains("quoted scalar")
        || info.contains("unexpected end of stream")
        || info.contains("while scanning a quoted")
    {
        "a quote, bracket or brace opened before here is not closed".into()
    } else if info.contains("indentation") || info.contains("mapping values are not allowed") {
        "check the indentation: keys of one mapping line up, and a value on the next line is indented further".into()
    } else if format == Format::Json {
        "check for a missing comma, quote or closing bracket just before here".into()
    } else {
        "check indentation, quoting and `key: value` spacing just before here".into()
    }
}

/// JSON may escape characters outside the Basic Multilingual Plane as UTF-16 surrogate
/// pairs (`\ud83e\udd80`, as Python's json.dumps writes them); YAML cannot. Rewrites such
/// pairs to YAML's 8-digit escape before parsing.
pub fn rewrite_surrogate_escapes(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains("\\u") && !text.contains("\\U") {
        return std::borrow::Cow::Borrowed(text);
    }
    let hex4 = |s: &str| -> Option<u32> {
        s.get(..4).filter(|h| h.chars().all(|c| c.is_ascii_hexdigit())).and_then(|h| u32::from_str_radix(h, 16).ok())
    };
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('\\') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(hi) = after.strip_prefix('u').and_then(hex4).filter(|h| (0xD800..0xDC00).contains(h)) {
            let tail = &after[5..];
            if let Some(lo) = tail.strip_prefix("\\u").and_then(hex4).filter(|l| (0xDC00..0xE000).contains(l)) {
                let c = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                out.push_str(&format!("\\U{c:08X}"));
                rest = &tail[6..];
                continue;
            }
        }
        // Any other escape (including `\\`) is copied whole, so its second character
        // is never taken for the start of another escape.
        let len = after.chars().next().map_or(0, char::len_utf8);
        out.push('\\');
        out.push_str(&after[..len]);
        rest = &after[len..];
    }
    out.push_str(rest);
    std::borrow::Cow::Owned(out)
}

fn parse_number(v: &str) -> Option<Scalar> {
    let digits = |s: &str, radix: u32| !s.is_empty() && s.chars().all(|c| c.is_digit(radix));
    if let Some(h) = v.strip_prefix("0x") {
        return digits(h, 16).then(|| i64::from_str_radix(h, 16).ok().map(Scalar::Int)).flatten();
    }
    if let Some(o) = v.strip_prefix("0o") {
        return digits(o, 8).then(|| i64::from_str_radix(o, 8).ok().map(Scalar::Int)).flatten();
    }
    let unsigned = v.strip_prefix(['-', '+']).unwrap_or(v);
    if digits(unsigned, 10) {
        // Out-of-range integers stay numbers so range checks can name them.
        return Some(
            v.parse::<i64>().map(Scalar::Int).unwrap_or_else(|_| Scalar::Float(v.parse().unwrap_or(f64::MAX))),
        );
    }
    // YAML 1.2 core float: [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?
    let (mantissa, exp) = match unsigned.find(['e', 'E']) {
        Some(i) => (&unsigned[..i], Some(&unsigned[i + 1..])),
        None => (unsigned, None),
    };
    let mantissa_ok = match mantissa.split_once('.') {
        Some((a, b)) => {
            (digits(a, 10) || a.is_empty()) && (digits(b, 10) || b.is_empty()) && !(a.is_empty() && b.is_empty())
        }
        None => false,
    } || (exp.is_some() && digits(mantissa, 10));
    let exp_ok = exp.is_none_or(|e| digits(e.strip_prefix(['-', '+']).unwrap_or(e), 10));
    if mantissa_ok && exp_ok {
        return v.parse::<f64>().ok().map(Scalar::Float);
    }
    None
}

fn count(n: &Node) -> usize {
    match &n.kind {
        Kind::Scalar(_) => 1,
        Kind::Seq(items) => 1 + items.iter().map(count).sum::<usize>(),
        Kind::Map(entries) => 1 + entries.iter().map(|e| 1 + count(&e.value)).sum::<usize>(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> (Option<Node>, Vec<Diagnostic>) {
        parse(0, text, Format::Yaml)
    }

    #[test]
    fn scalars_follow_the_core_schema() {
        let (n, d) = load("a: 1\nb: 1.10\nc: no\nd: true\ne: ~\nf: '7'\ng: 0x1F\n");
        assert!(d.is_empty(), "{d:?}");
        let n = n.unwrap();
        assert_eq!(n.get("a").unwrap().kind, Kind::Scalar(Scalar::Int(1)));
        assert_eq!(n.get("b").unwrap().raw.as_deref(), Some("1.10"));
        // YAML 1.2: `no` is a string (the "Norway problem" of YAML 1.1 does not apply).
        assert_eq!(n.get("c").unwrap().as_str(), Some("no"));
        assert_eq!(n.get("d").unwrap().kind, Kind::Scalar(Scalar::Bool(true)));
        assert_eq!(n.get("e").unwrap().kind, Kind::Scalar(Scalar::Null));
        assert_eq!(n.get("f").unwrap().as_str(), Some("7"));
        assert_eq!(n.get("g").unwrap().kind, Kind::Scalar(Scalar::Int(31)));
    }

    #[test]
    fn spans_are_one_based() {
        let (n, _) = load("name: x\nbuild:\n  vmSize: big\n");
        let e = n.unwrap().get("build").unwrap().entry("vmSize").unwrap().clone();
        assert_eq!((e.key_span.start.line, e.key_span.start.col), (3, 3));
        assert_eq!((e.value.span.start.line, e.value.span.start.col), (3, 11));
    }

    #[test]
    fn duplicate_keys_are_all_reported() {
        let (_, d) = load("a: 1\na: 2\nb: 1\nb: 2\n");
        assert_eq!(d.len(), 2);
        assert!(d.iter().all(|d| d.code == Code::DuplicateKey));
    }

    #[test]
    fn merge_keys_and_aliases() {
        let (n, d) = load("base: &b {x: 1, y: 2}\nother:\n  <<: *b\n  y: 3\n");
        assert!(d.is_empty(), "{d:?}");
        let o = n.unwrap().get("other").unwrap().to_json();
        assert_eq!(o, serde_json::json!({"y": 3, "x": 1}));
    }

    #[test]
    fn alias_bombs_are_refused() {
        let mut s = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            s.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n",
                p = i - 1
            ));
        }
        let (n, d) = load(&s);
        assert!(n.is_none());
        assert_eq!(d[0].code, Code::Syntax);
    }

    #[test]
    fn deep_nesting_is_refused() {
        let s = "[".repeat(10_000);
        let (n, d) = load(&s);
        assert!(n.is_none());
        assert_eq!(d[0].code, Code::Syntax);
    }

    #[test]
    fn json_surrogate_pairs_are_accepted() {
        let (n, d) =
            parse(0, &rewrite_surrogate_escapes(r#"{"a": "crab \ud83e\udd80", "b": "\\ud83e"}"#), Format::Json);
        assert!(d.is_empty(), "{d:?}");
        let n = n.unwrap();
        assert_eq!(n.get("a").unwrap().as_str(), Some("crab \u{1f980}"));
        assert_eq!(n.get("b").unwrap().as_str(), Some("\\ud83e"));
    }

    #[test]
    fn errors_point_at_real_characters() {
        let (_, d) = load("a: [1, 2");
        assert_eq!((d[0].span.start.line, d[0].span.start.col), (1, 9));
        let (_, d) = load("a:\n\tb: 1\n");
        assert_eq!((d[0].span.start.line, d[0].span.start.col), (2, 1));
    }

    #[test]
    fn json_is_read_by_the_same_parser() {
        let (n, d) = parse(0, "{\n\t\"name\": \"x\",\n\t\"n\": 1.10\n}", Format::Json);
        assert!(d.is_empty(), "{d:?}");
        let n = n.unwrap();
        assert_eq!(n.get("name").unwrap().as_str(), Some("x"));
        assert_eq!(n.get("n").unwrap().raw, None);
    }
}
