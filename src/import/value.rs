//! Values read from a template, with what cannot be known when importing kept symbolic.
//!
//! ARM expressions (`[concat('img-', parameters('env'))]`) and Packer templates
//! (`"img-${var.env}"`, ``{{user `env`}}``) are both evaluated into this one model, so
//! that mapping to a spec and comparing image templates work the same for every input.
//! A string is a `Text`: literal pieces and references to parameters, to the deployment's
//! context (`resourceGroup().location`) or to expressions aibc cannot evaluate.

use crate::source::Span;

/// One piece of a string value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Piece {
    Lit(String),
    /// A template parameter (ARM parameter, Packer variable or placeholder), by the name
    /// the template gives it.
    Param(String),
    /// A value of the deployment's context, as ARM writes it: `resourceGroup().location`,
    /// `subscription().subscriptionId`, …
    Ctx(String),
    /// An expression aibc does not evaluate, as written (`utcNow()`, `uniqueString(…)`).
    Opaque(String),
}

/// A string made of pieces; adjacent literals are always merged and empty ones dropped.
#[derive(Debug, Clone, PartialEq, Eq, Default, Hash, PartialOrd, Ord)]
pub struct Text(Vec<Piece>);

impl Text {
    pub fn lit(s: impl Into<String>) -> Text {
        let mut t = Text::default();
        t.push(Piece::Lit(s.into()));
        t
    }

    pub fn piece(p: Piece) -> Text {
        let mut t = Text::default();
        t.push(p);
        t
    }

    pub fn push(&mut self, p: Piece) {
        match (self.0.last_mut(), p) {
            (_, Piece::Lit(s)) if s.is_empty() => {}
            (Some(Piece::Lit(a)), Piece::Lit(b)) => a.push_str(&b),
            (_, p) => self.0.push(p),
        }
    }

    pub fn append(&mut self, other: Text) {
        for p in other.0 {
            self.push(p);
        }
    }

    pub fn concat(parts: impl IntoIterator<Item = Text>) -> Text {
        let mut t = Text::default();
        for p in parts {
            t.append(p);
        }
        t
    }

    pub fn pieces(&self) -> &[Piece] {
        &self.0
    }

    /// The text when it is all literal (`""` for an empty text).
    pub fn as_lit(&self) -> Option<&str> {
        match self.0.as_slice() {
            [] => Some(""),
            [Piece::Lit(s)] => Some(s),
            _ => None,
        }
    }

    /// The parameter name when the text is exactly one parameter reference.
    pub fn as_param(&self) -> Option<&str> {
        match self.0.as_slice() {
            [Piece::Param(p)] => Some(p),
            _ => None,
        }
    }

    pub fn is_lit(&self) -> bool {
        self.as_lit().is_some()
    }

    /// Every piece transformed by `f` (which may turn one piece into several).
    pub fn flat_map(&self, mut f: impl FnMut(&Piece) -> Text) -> Text {
        Text::concat(self.0.iter().map(&mut f))
    }

    /// A single comparable string: literals as they are, references in a form no literal
    /// in a template has (`${params.x}`, `[resourceGroup().location]`).
    pub fn canonical(&self) -> String {
        let mut s = String::new();
        for p in &self.0 {
            match p {
                Piece::Lit(l) => s.push_str(l),
                Piece::Param(n) => {
                    s.push_str("${params.");
                    s.push_str(n);
                    s.push('}');
                }
                Piece::Ctx(e) | Piece::Opaque(e) => {
                    s.push('[');
                    s.push_str(e);
                    s.push(']');
                }
            }
        }
        s
    }

    /// The text for messages: expressions as the template writes them.
    pub fn display(&self) -> String {
        let mut s = String::new();
        for p in &self.0 {
            match p {
                Piece::Lit(l) => s.push_str(l),
                Piece::Param(n) => {
                    s.push('{');
                    s.push_str(n);
                    s.push('}');
                }
                Piece::Ctx(e) | Piece::Opaque(e) => s.push_str(e),
            }
        }
        s
    }

    /// Splits at every `sep` inside literal pieces (for resource IDs and `a:b:c` forms).
    pub fn split(&self, sep: char) -> Vec<Text> {
        let mut out = vec![Text::default()];
        for p in &self.0 {
            match p {
                Piece::Lit(l) => {
                    let mut parts = l.split(sep);
                    if let Some(first) = parts.next() {
                        out.last_mut().expect("never empty").push(Piece::Lit(first.to_string()));
                    }
                    for part in parts {
                        out.push(Text::lit(part));
                    }
                }
                other => out.last_mut().expect("never empty").push(other.clone()),
            }
        }
        out
    }

    pub fn join(parts: &[Text], sep: &str) -> Text {
        let mut t = Text::default();
        for (i, p) in parts.iter().enumerate() {
            if i > 0 {
                t.push(Piece::Lit(sep.to_string()));
            }
            t.append(p.clone());
        }
        t
    }
}

/// A value with where it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Val {
    pub v: V,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum V {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Text),
    Arr(Vec<Val>),
    /// Entries in written order, each with the span of its key.
    Obj(Vec<(String, Span, Val)>),
}

impl Val {
    pub fn new(v: V, span: Span) -> Val {
        Val { v, span }
    }

    pub fn str(t: Text, span: Span) -> Val {
        Val { v: V::Str(t), span }
    }

    pub fn get(&self, key: &str) -> Option<&Val> {
        self.entry(key).map(|(_, v)| v)
    }

    /// A key looked up case-insensitively (ARM property names are), with its span.
    pub fn entry(&self, key: &str) -> Option<(Span, &Val)> {
        match &self.v {
            V::Obj(entries) => entries.iter().find(|(k, _, _)| k.eq_ignore_ascii_case(key)).map(|(_, s, v)| (*s, v)),
            _ => None,
        }
    }

    pub fn entries(&self) -> &[(String, Span, Val)] {
        match &self.v {
            V::Obj(entries) => entries,
            _ => &[],
        }
    }

    pub fn items(&self) -> &[Val] {
        match &self.v {
            V::Arr(items) => items,
            _ => &[],
        }
    }

    pub fn text(&self) -> Option<&Text> {
        match &self.v {
            V::Str(t) => Some(t),
            _ => None,
        }
    }

    pub fn lit(&self) -> Option<&str> {
        self.text().and_then(Text::as_lit)
    }

    pub fn kind_name(&self) -> &'static str {
        match &self.v {
            V::Null => "null",
            V::Bool(_) => "a boolean",
            V::Int(_) | V::Float(_) => "a number",
            V::Str(_) => "a string",
            V::Arr(_) => "a list",
            V::Obj(_) => "a mapping",
        }
    }

    /// Plain JSON, references written canonically.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match &self.v {
            V::Null => Value::Null,
            V::Bool(b) => Value::Bool(*b),
            V::Int(i) => Value::from(*i),
            V::Float(f) => serde_json::Number::from_f64(*f).map(Value::Number).unwrap_or(Value::Null),
            V::Str(t) => Value::String(t.canonical()),
            V::Arr(items) => Value::Array(items.iter().map(Val::to_json).collect()),
            V::Obj(entries) => Value::Object(entries.iter().map(|(k, _, v)| (k.clone(), v.to_json())).collect()),
        }
    }

    /// A value from plain JSON, every part at `span`.
    pub fn from_json(j: &serde_json::Value, span: Span) -> Val {
        use serde_json::Value;
        let v = match j {
            Value::Null => V::Null,
            Value::Bool(b) => V::Bool(*b),
            Value::Number(n) => match n.as_i64() {
                Some(i) => V::Int(i),
                None => V::Float(n.as_f64().unwrap_or_default()),
            },
            Value::String(s) => V::Str(Text::lit(s.clone())),
            Value::Array(a) => V::Arr(a.iter().map(|x| Val::from_json(x, span)).collect()),
            Value::Object(o) => V::Obj(o.iter().map(|(k, x)| (k.clone(), span, Val::from_json(x, span))).collect()),
        };
        Val { v, span }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_merge_literals() {
        let mut t = Text::lit("a");
        t.push(Piece::Lit(String::new()));
        t.push(Piece::Lit("b".into()));
        t.push(Piece::Param("p".into()));
        t.push(Piece::Lit("c".into()));
        assert_eq!(t.pieces().len(), 3);
        assert_eq!(t.canonical(), "ab${params.p}c");
        assert_eq!(Text::default().as_lit(), Some(""));
    }

    #[test]
    fn texts_split_on_literal_separators_only() {
        let mut t = Text::lit("/subscriptions/");
        t.push(Piece::Ctx("subscription().subscriptionId".into()));
        t.push(Piece::Lit("/resourceGroups/rg".into()));
        let parts = t.split('/');
        assert_eq!(parts.len(), 5);
        assert_eq!(parts[2].canonical(), "[subscription().subscriptionId]");
        assert_eq!(Text::join(&parts, "/"), t);
    }
}
