//! The spanned document tree. YAML and JSON are both parsed into `Node`s that remember
//! where each key and value stood, so every later stage can report file:line:col even
//! though typed decoding (serde) forgets positions.

use crate::source::Span;

#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Scalar(Scalar),
    Seq(Vec<Node>),
    Map(Vec<Entry>),
}

/// A mapping entry: the key keeps its own span so "unknown key" points at the key.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub key: String,
    pub key_span: Span,
    pub value: Node,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub kind: Kind,
    pub span: Span,
    /// The scalar exactly as written (for YAML plain scalars such as `1.10`, which a
    /// string field must receive verbatim rather than as the float 1.1).
    pub raw: Option<String>,
}

/// One step of a path into a document: a key or an index.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Seg {
    Key(String),
    Index(usize),
}

impl From<&str> for Seg {
    fn from(s: &str) -> Self {
        Seg::Key(s.to_string())
    }
}
impl From<String> for Seg {
    fn from(s: String) -> Self {
        Seg::Key(s)
    }
}
impl From<usize> for Seg {
    fn from(i: usize) -> Self {
        Seg::Index(i)
    }
}

/// A path into a document, written like a JSON pointer (`/distribute/0/gallery`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Path(pub Vec<Seg>);

impl Path {
    pub fn root() -> Path {
        Path(Vec::new())
    }
    pub fn join(&self, seg: impl Into<Seg>) -> Path {
        let mut p = self.0.clone();
        p.push(seg.into());
        Path(p)
    }
    /// A dotted form for messages: `distribute[0].gallery.regions`.
    pub fn dotted(&self) -> String {
        let mut s = String::new();
        for seg in &self.0 {
            match seg {
                Seg::Key(k) => {
                    if !s.is_empty() {
                        s.push('.');
                    }
                    s.push_str(k);
                }
                Seg::Index(i) => s.push_str(&format!("[{i}]")),
            }
        }
        if s.is_empty() { "(top level)".into() } else { s }
    }
}

impl std::fmt::Display for Path {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for seg in &self.0 {
            match seg {
                Seg::Key(k) => write!(f, "/{}", k.replace('~', "~0").replace('/', "~1"))?,
                Seg::Index(i) => write!(f, "/{i}")?,
            }
        }
        Ok(())
    }
}

/// Where a path lands in a tree: the value's span, or the key's span when asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    Value,
    Key,
}

impl Node {
    pub fn new(kind: Kind, span: Span) -> Node {
        Node { kind, span, raw: None }
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|e| &e.value)
    }

    pub fn entry(&self, key: &str) -> Option<&Entry> {
        match &self.kind {
            Kind::Map(entries) => entries.iter().find(|e| e.key == key),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            Kind::Scalar(Scalar::Str(s)) => Some(s),
            _ => None,
        }
    }

    pub fn kind_name(&self) -> &'static str {
        match &self.kind {
            Kind::Scalar(Scalar::Null) => "null",
            Kind::Scalar(Scalar::Bool(_)) => "a boolean",
            Kind::Scalar(Scalar::Int(_)) => "an integer",
            Kind::Scalar(Scalar::Float(_)) => "a number",
            Kind::Scalar(Scalar::Str(_)) => "a string",
            Kind::Seq(_) => "a list",
            Kind::Map(_) => "a mapping",
        }
    }

    /// The span of the value (or key) at `path`; when the path runs past what exists,
    /// the deepest node that does exist (its key, if the last step was a missing key).
    pub fn locate(&self, path: &Path, anchor: Anchor) -> Span {
        let mut node = self;
        let mut key_span = None;
        for seg in &path.0 {
            let next = match (seg, &node.kind) {
                (Seg::Key(k), Kind::Map(entries)) => {
                    entries.iter().find(|e| &e.key == k).map(|e| (&e.value, Some(e.key_span)))
                }
                (Seg::Index(i), Kind::Seq(items)) => items.get(*i).map(|n| (n, None)),
                _ => None,
            };
            match next {
                Some((n, ks)) => {
                    node = n;
                    key_span = ks;
                }
                None => return key_span.unwrap_or(node.span),
            }
        }
        match (anchor, key_span) {
            (Anchor::Key, Some(ks)) => ks,
            _ => node.span,
        }
    }

    /// The node at `path`, if it exists.
    pub fn locate_node(&self, path: &Path) -> Option<&Node> {
        let mut node = self;
        for seg in &path.0 {
            node = match (seg, &node.kind) {
                (Seg::Key(k), Kind::Map(entries)) => &entries.iter().find(|e| &e.key == k)?.value,
                (Seg::Index(i), Kind::Seq(items)) => items.get(*i)?,
                _ => return None,
            };
        }
        Some(node)
    }

    /// Converts to plain JSON, with scalars as the parser typed them.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match &self.kind {
            Kind::Scalar(Scalar::Null) => Value::Null,
            Kind::Scalar(Scalar::Bool(b)) => Value::Bool(*b),
            Kind::Scalar(Scalar::Int(i)) => Value::from(*i),
            Kind::Scalar(Scalar::Float(f)) => {
                serde_json::Number::from_f64(*f).map(Value::Number).unwrap_or(Value::Null)
            }
            Kind::Scalar(Scalar::Str(s)) => Value::String(s.clone()),
            Kind::Seq(items) => Value::Array(items.iter().map(Node::to_json).collect()),
            Kind::Map(entries) => Value::Object(entries.iter().map(|e| (e.key.clone(), e.value.to_json())).collect()),
        }
    }
}

/// Overlays `top` on `base`: mappings merge key by key (recursively), anything else in
/// `top` replaces `base`. Spans travel with the values, so a value inherited from a
/// family's `defaults` is still reported where the defaults wrote it.
pub fn merge(base: &Node, top: &Node) -> Node {
    match (&base.kind, &top.kind) {
        (Kind::Map(b), Kind::Map(t)) => {
            let mut out: Vec<Entry> = Vec::with_capacity(b.len() + t.len());
            for be in b {
                match t.iter().find(|te| te.key == be.key) {
                    Some(te) => out.push(Entry {
                        key: te.key.clone(),
                        key_span: te.key_span,
                        value: merge(&be.value, &te.value),
                    }),
                    None => out.push(be.clone()),
                }
            }
            for te in t {
                if !b.iter().any(|be| be.key == te.key) {
                    out.push(te.clone());
                }
            }
            Node { kind: Kind::Map(out), span: top.span, raw: None }
        }
        _ => top.clone(),
    }
}
