//! Turning a symbolic template value into a spec value, field by field.
//!
//! What a field may hold decides what happens to a deploy-time reference in it:
//! - most strings take `${params.NAME}`, so parameters stay parameters;
//! - some must be known when compiling (resource IDs, script URLs): a parameter is
//!   replaced by its default, and anything without a value by a stand-in that validates
//!   (the all-zero subscription, the placeholder's name), always with a warning;
//! - script content takes no references at all: defaults are written in.
//!
//! Every change is recorded as a substitution at the value's path, so the round-trip
//! comparison can hold the compiled template against what the import meant to write.

use std::collections::BTreeMap;

use super::diag::{Finding, ImportCode};
use super::params::{Origin, ParamDef, ParamKind, Params};
use super::value::{Piece, Text, V, Val};
use crate::source::Span;

/// The subscription written where a resource ID's subscription is not known.
pub const ZERO_SUBSCRIPTION: &str = "00000000-0000-0000-0000-000000000000";

/// What a spec field can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// A string that may use `${params.NAME}`.
    Param,
    /// Known when compiling, read with `${…}` escapes (`source.gallery`, a managed
    /// image's resource group).
    Fixed,
    /// Known when compiling and used verbatim (subnet and gallery image IDs).
    Raw,
    /// A script or file URL: known when compiling and used verbatim; a stand-in is a URL
    /// that can never resolve (`https://example.invalid/…`).
    Url,
    /// Script content: verbatim, never scanned for parameters.
    Content,
}

/// The value a comparison should expect instead of the original at a path, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Sub {
    /// `None`: the value is left out of the spec.
    pub value: Option<Val>,
    /// `None` for changes of form only (a parameter renamed, `"128"` read as 128).
    pub reason: Option<String>,
}

pub type Subs = BTreeMap<String, Sub>;

/// The state shared by everything that maps one template.
pub struct Resolver {
    pub params: Params,
    pub findings: Vec<Finding>,
    pub subs: Subs,
    /// Where in the spec the part being mapped goes (`/customize/2`): a gap's
    /// `# TODO(aibc import)` comment is written there.
    pub at: String,
    /// Values without a value met in the field being resolved (reported together).
    holes: Vec<(String, Option<Origin>)>,
}

/// How to give values that had none when importing.
fn how_to_give(holes: &[(String, Option<Origin>)]) -> String {
    let of = |want: fn(&Origin) -> bool| -> Vec<String> {
        holes.iter().filter(|(_, o)| o.as_ref().is_some_and(want)).map(|(n, _)| n.clone()).collect()
    };
    let quoted = |names: &[String]| names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ");
    let placeholders = of(|o| *o == Origin::Placeholder);
    let params = of(|o| *o == Origin::Parameter);
    let vars = of(|o| matches!(o, Origin::Variable { .. }));
    let mut ways = Vec::new();
    match placeholders.len() {
        0 => {}
        1 => ways.push(format!("write the value {} stands for", quoted(&placeholders))),
        _ => ways.push(format!("write the values {} stand for", quoted(&placeholders))),
    }
    if !params.is_empty() {
        ways.push(format!("import again with `--parameters FILE` giving {} a value", quoted(&params)));
    }
    if !vars.is_empty() {
        let v: Vec<String> = vars.iter().map(|n| format!("-var {n}=VALUE")).collect();
        ways.push(format!("import again with `{}` (or `-var-file FILE`)", v.join(" ")));
    }
    let context: Vec<&str> = holes
        .iter()
        .filter(|(_, o)| o.is_none())
        .filter_map(|(n, _)| match n.as_str() {
            "subscription().subscriptionId" => Some("the subscription's ID"),
            "resourceGroup().name" => Some("the resource group's name"),
            _ => None,
        })
        .collect();
    if !context.is_empty() {
        ways.push(format!("write {} the spec is deployed to", context.join(" and ")));
    }
    if ways.is_empty() {
        "replace the stand-in with the real value".to_string()
    } else {
        format!("replace the stand-in: {}", ways.join("; or "))
    }
}

/// How deep defaults that refer to other values are followed.
const MAX_DEFAULT_DEPTH: usize = 8;

impl Resolver {
    pub fn new(params: Params) -> Resolver {
        Resolver { params, findings: Vec::new(), subs: Subs::new(), at: String::new(), holes: Vec::new() }
    }

    pub fn warn(&mut self, code: ImportCode, span: Span, message: impl Into<String>) -> &mut Finding {
        self.findings.push(Finding::new(code, span, message));
        self.findings.last_mut().expect("just pushed")
    }

    /// A part that could not be imported: reported, and marked in the spec at `self.at`.
    pub fn gap(&mut self, span: Span, message: impl Into<String>) -> &mut Finding {
        let mut f = Finding::new(ImportCode::Gap, span, message);
        f.todo = Some(self.at.clone());
        self.findings.push(f);
        self.findings.last_mut().expect("just pushed")
    }

    pub fn record(&mut self, path: &str, value: Val, reason: Option<String>) {
        self.subs.insert(path.to_string(), Sub { value: Some(value), reason });
    }

    /// Records that the value at `path` is left out of the spec.
    pub fn remove(&mut self, path: &str, reason: String) {
        self.subs.insert(path.to_string(), Sub { value: None, reason: Some(reason) });
    }

    /// A string field. `None` (reported) when the value is not a string at all.
    pub fn string(&mut self, v: &Val, path: &str, what: &str, field: Field) -> Option<String> {
        let text = match &v.v {
            V::Str(t) => t.clone(),
            V::Int(i) => Text::lit(i.to_string()),
            V::Bool(b) => Text::lit(b.to_string()),
            V::Float(f) => Text::lit(f.to_string()),
            _ => {
                self.gap(v.span, format!("`{what}` is {}, not a string; it is left out", v.kind_name()));
                return None;
            }
        };
        let mut reasons = Vec::new();
        let resolved = self.resolve(&text, v.span, what, field, &mut reasons, 0);
        self.flush_holes(v.span, what);
        let resolved = if matches!(field, Field::Fixed | Field::Raw | Field::Url) && !resolved.is_lit() {
            stand_in(&resolved, field)
        } else {
            resolved
        };
        let escape = matches!(field, Field::Param | Field::Fixed);
        let spec = render(&resolved, escape);
        if !matches!(v.v, V::Str(_)) || resolved != text || !reasons.is_empty() {
            let reason = (!reasons.is_empty()).then(|| reasons.join("; "));
            self.record(path, Val::str(resolved, v.span), reason);
        }
        Some(spec)
    }

    /// Resolves the pieces of `text` for `field`; findings are reported at `span`.
    fn resolve(
        &mut self,
        text: &Text,
        span: Span,
        what: &str,
        field: Field,
        reasons: &mut Vec<String>,
        depth: usize,
    ) -> Text {
        let mut out = Text::default();
        for piece in text.pieces() {
            match piece {
                Piece::Lit(s) if field == Field::Content => out.push(Piece::Lit(s.clone())),
                Piece::Lit(s) => {
                    for part in placeholders(s) {
                        match part {
                            Piece::Param(name) => {
                                self.params.add(ParamDef::new(&name, ParamKind::String, Origin::Placeholder, span));
                                out.append(self.param(&name, span, what, field, reasons, depth));
                            }
                            other => out.push(other),
                        }
                    }
                }
                Piece::Param(name) => out.append(self.param(name, span, what, field, reasons, depth)),
                Piece::Ctx(e) | Piece::Opaque(e) => out.append(self.hole(e, span, what, field, reasons)),
            }
        }
        out
    }

    fn param(
        &mut self,
        name: &str,
        span: Span,
        what: &str,
        field: Field,
        reasons: &mut Vec<String>,
        depth: usize,
    ) -> Text {
        let Some(def) = self.params.get(name).cloned() else {
            // A reference to something the template does not declare.
            self.warn(ImportCode::Invalid, span, format!("`{name}` is used but never declared"))
                .help("declare it in the template, or write its value here");
            return self.hole(name, span, what, field, reasons);
        };
        let default_text = def.default.as_ref().and_then(|d| d.text().cloned());
        // A default that is itself an expression (`[resourceGroup().location]`): a spec
        // parameter's default cannot be, so the expression takes the parameter's place.
        if let Some(d) = default_text.as_ref().filter(|d| !d.is_lit())
            && depth < MAX_DEFAULT_DEPTH
        {
            // aibc's own `location` defaults to the resource group's: nothing changes.
            let rg_location = def.name.eq_ignore_ascii_case("location")
                && d.pieces() == [Piece::Ctx("resourceGroup().location".into())];
            if !rg_location {
                let m = format!(
                    "parameter `{name}` defaults to `{}`, which a spec parameter cannot; that value is used instead",
                    d.display()
                );
                self.warn(ImportCode::Changed, span, m.clone());
                reasons.push(m);
            }
            return self.resolve(d, span, what, field, reasons, depth + 1);
        }
        let holdable = matches!(def.kind, ParamKind::String | ParamKind::Int | ParamKind::Bool);
        if field == Field::Param && holdable {
            self.params.mark_used(name);
            let later = match &def.origin {
                Origin::Placeholder => {
                    let m = format!("the placeholder `{name}` becomes the required parameter `{}`", def.spec_name);
                    self.warn(ImportCode::Placeholder, span, m.clone()).help("give its value when deploying");
                    reasons.push(m);
                    None
                }
                Origin::Variable { env: Some(env) } => {
                    Some(format!("`{name}` is read from the environment variable `{env}` when building"))
                }
                _ if def.supplied_later => {
                    Some(format!("`{name}` is left empty in the template, to be given when building"))
                }
                _ => None,
            };
            if let Some(why) = later {
                let m = format!("{why}; it becomes the required parameter `{}`", def.spec_name);
                self.warn(ImportCode::DeployTime, span, m)
                    .help(format!("give its value when deploying, or import again with `-var {name}=VALUE`"));
            }
            return Text::piece(Piece::Param(def.spec_name.clone()));
        }
        match def.literal_default() {
            Some(value) => {
                let shown = match &value {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                let its = if def.given { "given value" } else { "default" };
                let m = if field == Field::Content {
                    format!("script content is fixed when compiling: `{name}` is replaced by its {its} `{shown}`")
                } else if !holdable {
                    format!("a spec parameter cannot hold a list or mapping: `{name}` is replaced by its {its}")
                } else {
                    format!("`{what}` must be known when compiling: `{name}` is replaced by its {its} `{shown}`")
                };
                self.warn(ImportCode::CompileTime, span, m.clone())
                    .help("change the value in the spec when it should differ");
                reasons.push(m);
                Text::lit(shown)
            }
            None => self.hole(name, span, what, field, reasons),
        }
    }

    /// A value aibc cannot know: a parameter without default where the spec needs a
    /// value, a placeholder there, or an expression. Becomes a required spec parameter
    /// where one is allowed, a stand-in otherwise.
    fn hole(&mut self, name: &str, span: Span, what: &str, field: Field, reasons: &mut Vec<String>) -> Text {
        if field == Field::Param && self.params.get(name).is_none() {
            self.params.add(ParamDef::new(name, ParamKind::String, Origin::Expression, span));
        }
        let def = self.params.get(name).cloned();
        let holdable =
            def.as_ref().is_some_and(|d| matches!(d.kind, ParamKind::String | ParamKind::Int | ParamKind::Bool));
        if let (Field::Param, true, Some(d)) = (field, holdable, &def) {
            self.params.mark_used(name);
            if d.origin == Origin::Expression {
                let m = format!(
                    "`{name}` cannot be evaluated when compiling; it becomes the required parameter `{}`",
                    d.spec_name
                );
                self.warn(ImportCode::DeployTime, span, m.clone()).help("give its value when deploying");
                reasons.push(m);
            }
            return Text::piece(Piece::Param(d.spec_name.clone()));
        }
        let short = def.as_ref().map(|d| d.spec_name.clone()).unwrap_or_else(|| super::params::base_name(name, false));
        let m = if field == Field::Content {
            format!("script content is fixed when compiling, but `{name}` has no value; it is written as `<{short}>`")
        } else {
            format!("`{what}` must be known when compiling, but `{name}` has no value here; the spec has a stand-in")
        };
        reasons.push(m.clone());
        if field == Field::Content {
            let how = how_to_give(&[(name.to_string(), def.map(|d| d.origin))]);
            self.gap(span, m).help(how);
        } else if !self.holes.iter().any(|(n, _)| n == name) {
            // Reported once for the whole value, by `flush_holes`.
            self.holes.push((name.to_string(), def.map(|d| d.origin)));
        }
        if field == Field::Content {
            Text::lit(format!("<{short}>"))
        } else {
            // Marked for `stand_in`, which knows the value's shape.
            Text::piece(Piece::Opaque(short))
        }
    }

    /// Reports the values without a value that one field needed, as one gap.
    fn flush_holes(&mut self, span: Span, what: &str) {
        if self.holes.is_empty() {
            return;
        }
        let holes = std::mem::take(&mut self.holes);
        let names: Vec<String> = holes.iter().map(|(n, _)| format!("`{n}`")).collect();
        let (list, verb) = match names.as_slice() {
            [one] => (one.clone(), "has"),
            [init @ .., last] => (format!("{} and {last}", init.join(", ")), "have"),
            [] => unreachable!("not empty"),
        };
        let m =
            format!("`{what}` must be known when compiling, but {list} {verb} no value here; the spec has a stand-in");
        let mut how = how_to_give(&holes);
        // A Packer variable left empty may mean "not set": then the setting goes.
        if holes.iter().any(|(n, _)| self.params.get(n).is_some_and(|d| d.supplied_later)) {
            how.push_str("; or, if the template leaves it empty to do without it, delete the setting");
        }
        self.gap(span, m).help(how);
    }

    /// Whether `t` is, through parameter defaults, exactly the context value `ctx`.
    pub fn resolves_to(&self, t: &Text, ctx: &str) -> bool {
        self.resolves_to_at(t, ctx, 0)
    }

    fn resolves_to_at(&self, t: &Text, ctx: &str, depth: usize) -> bool {
        match t.pieces() {
            [Piece::Ctx(c)] => c == ctx,
            [Piece::Param(p)] if depth < MAX_DEFAULT_DEPTH => self
                .params
                .get(p)
                .and_then(|d| d.default.as_ref()?.text().cloned())
                .is_some_and(|d| self.resolves_to_at(&d, ctx, depth + 1)),
            _ => false,
        }
    }

    /// Whether anything in `t` has no value when compiling: a placeholder, an
    /// expression, or a parameter without a default.
    pub fn has_holes(&self, t: &Text) -> bool {
        self.has_holes_at(t, 0)
    }

    fn has_holes_at(&self, t: &Text, depth: usize) -> bool {
        t.pieces().iter().any(|p| match p {
            Piece::Lit(s) => placeholders(s).iter().any(|x| matches!(x, Piece::Param(_))),
            Piece::Param(n) => match self.params.get(n).and_then(|d| d.default.as_ref()?.text().cloned()) {
                Some(d) => depth >= MAX_DEFAULT_DEPTH || self.has_holes_at(&d, depth + 1),
                None => self.params.get(n).and_then(|d| d.literal_default()).is_none(),
            },
            Piece::Ctx(_) | Piece::Opaque(_) => true,
        })
    }

    /// An integer field; a parameter is replaced by its default.
    pub fn int(&mut self, v: &Val, path: &str, what: &str) -> Option<i64> {
        if let Some(name) = self.unset(v) {
            self.missing(&name, v.span, what, false);
            self.remove(path, format!("`{name}` has no value"));
            return None;
        }
        match &v.v {
            V::Int(i) => Some(*i),
            V::Float(f) if f.fract() == 0.0 => Some(*f as i64),
            V::Str(t) => {
                let mut reasons = Vec::new();
                let r = self.resolve(t, v.span, what, Field::Raw, &mut reasons, 0);
                self.flush_holes(v.span, what);
                match r.as_lit().and_then(|s| s.trim().parse::<i64>().ok()) {
                    Some(i) => {
                        let reason = (!reasons.is_empty()).then(|| reasons.join("; "));
                        self.record(path, Val::new(V::Int(i), v.span), reason);
                        Some(i)
                    }
                    None => {
                        self.gap(v.span, format!("`{what}` must be a whole number; it is left out"))
                            .help("write the number itself");
                        None
                    }
                }
            }
            _ => {
                self.gap(v.span, format!("`{what}` is {}, not a number; it is left out", v.kind_name()));
                None
            }
        }
    }

    /// A boolean field; a parameter is replaced by its default.
    pub fn bool(&mut self, v: &Val, path: &str, what: &str) -> Option<bool> {
        if let Some(name) = self.unset(v) {
            self.missing(&name, v.span, what, false);
            self.remove(path, format!("`{name}` has no value"));
            return None;
        }
        match &v.v {
            V::Bool(b) => Some(*b),
            V::Str(t) => {
                let mut reasons = Vec::new();
                let r = self.resolve(t, v.span, what, Field::Raw, &mut reasons, 0);
                self.flush_holes(v.span, what);
                let b = match r.as_lit().map(str::to_ascii_lowercase).as_deref() {
                    Some("true") => Some(true),
                    Some("false") => Some(false),
                    _ => None,
                };
                match b {
                    Some(b) => {
                        let reason = (!reasons.is_empty()).then(|| reasons.join("; "));
                        self.record(path, Val::new(V::Bool(b), v.span), reason);
                        Some(b)
                    }
                    None => {
                        self.gap(v.span, format!("`{what}` must be true or false; it is left out"));
                        None
                    }
                }
            }
            _ => {
                self.gap(v.span, format!("`{what}` is {}, not true or false; it is left out", v.kind_name()));
                None
            }
        }
    }

    /// A list; a list parameter is replaced by its default.
    pub fn list(&mut self, v: &Val, path: &str, what: &str) -> Vec<Val> {
        self.container(v, path, what, true).map(|c| c.items().to_vec()).unwrap_or_default()
    }

    /// A mapping; a mapping parameter is replaced by its default.
    pub fn mapping(&mut self, v: &Val, path: &str, what: &str) -> Vec<(String, Span, Val)> {
        self.container(v, path, what, false).map(|c| c.entries().to_vec()).unwrap_or_default()
    }

    /// The name of the template parameter or variable `v` is exactly, when it has no
    /// value (no default, nothing given).
    pub fn unset(&self, v: &Val) -> Option<String> {
        let name = v.text()?.as_param()?;
        let d = self.params.get(name)?;
        d.default.as_ref().is_none_or(|x| matches!(x.v, V::Null)).then(|| name.to_string())
    }

    /// Reports that a part of the image comes from `name`, which has no value: an error
    /// when the spec cannot do without the part, a gap otherwise.
    pub fn missing(&mut self, name: &str, span: Span, what: &str, required: bool) {
        let how = match self.params.get(name).map(|d| &d.origin) {
            Some(Origin::Variable { .. }) => format!("import again with `-var {name}=VALUE` or `-var-file FILE`"),
            _ => format!("import again with `--parameters FILE` giving `{name}` a value"),
        };
        let m = format!("`{what}` comes from `{name}`, which has no value when importing");
        if required {
            self.warn(ImportCode::MissingValue, span, m).help(how);
        } else {
            self.gap(span, format!("{m}; it is left out")).help(how);
        }
    }

    fn container(&mut self, v: &Val, path: &str, what: &str, list: bool) -> Option<Val> {
        match (&v.v, list) {
            (V::Arr(_), true) | (V::Obj(_), false) => return Some(v.clone()),
            (V::Null, _) => return None,
            _ => {}
        }
        if let Some(name) = self.unset(v) {
            self.missing(&name, v.span, what, what == "distribute");
            self.remove(path, format!("`{name}` has no value"));
            return None;
        }
        let default = v.text().and_then(Text::as_param).and_then(|p| self.params.get(p)).and_then(|d| {
            let value = d.default.clone()?;
            Some((d.name.clone(), value))
        });
        match default {
            Some((name, value)) if matches!((&value.v, list), (V::Arr(_), true) | (V::Obj(_), false)) => {
                let given = self.params.get(&name).is_some_and(|d| d.given);
                let m = format!(
                    "a spec parameter cannot hold a list or mapping: `{name}` is replaced by its {}",
                    if given { "given value" } else { "default" }
                );
                self.warn(ImportCode::CompileTime, v.span, m.clone())
                    .help("change the values in the spec when they should differ");
                let value = Val { span: v.span, ..value };
                self.record(path, value.clone(), Some(m));
                Some(value)
            }
            _ => {
                let shape = if list { "a list" } else { "a mapping" };
                self.gap(v.span, format!("`{what}` is {}, not {shape}; it is left out", v.kind_name()))
                    .help(format!("write {shape} here"));
                None
            }
        }
    }

    /// A mapping of strings to strings (tags), values taking parameters.
    pub fn tags(&mut self, v: &Val, path: &str, what: &str) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        for (k, _, val) in self.mapping(v, path, what) {
            let p = format!("{path}/{k}");
            if let Some(s) = self.string(&val, &p, &format!("{what}.{k}"), Field::Param) {
                out.insert(k, s);
            }
        }
        out
    }
}

/// A spec string: literals (with `${` escaped where the spec reads references) and
/// `${params.NAME}` references.
pub fn render(t: &Text, escape: bool) -> String {
    let mut s = String::new();
    for p in t.pieces() {
        match p {
            Piece::Lit(l) if escape => s.push_str(&l.replace("${", "$${")),
            Piece::Lit(l) => s.push_str(l),
            Piece::Param(n) => {
                s.push_str("${params.");
                s.push_str(n);
                s.push('}');
            }
            Piece::Ctx(e) | Piece::Opaque(e) => s.push_str(e),
        }
    }
    s
}

/// Placeholders left in literal text for a human to replace: `<region>`,
/// `<subscriptionID>`, `{subscription-id}`. Returned as `Param` pieces.
pub fn placeholders(s: &str) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut lit = String::new();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let close = match c {
            '<' => Some('>'),
            // `${…}` is shell or aibc syntax, not a placeholder.
            '{' if i == 0 || chars[i - 1] != '$' => Some('}'),
            _ => None,
        };
        if let Some(close) = close {
            let body_ok = |ch: &char| ch.is_ascii_alphanumeric() || matches!(ch, '_' | '-' | '.' | ' ');
            let end = chars[i + 1..].iter().position(|ch| !body_ok(ch)).map(|n| i + 1 + n);
            if let Some(e) = end.filter(|&e| chars[e] == close && e > i + 1 && chars[i + 1].is_ascii_alphabetic()) {
                if !lit.is_empty() {
                    out.push(Piece::Lit(std::mem::take(&mut lit)));
                }
                out.push(Piece::Param(chars[i..=e].iter().collect()));
                i = e + 1;
                continue;
            }
        }
        lit.push(c);
        i += 1;
    }
    if !lit.is_empty() {
        out.push(Piece::Lit(lit));
    }
    out
}

/// Fills the holes of a value that must be known when compiling with stand-ins that
/// validate: the all-zero subscription in a resource ID's subscription segment, the
/// hole's name anywhere else.
fn stand_in(t: &Text, field: Field) -> Text {
    let url =
        field == Field::Url && !t.pieces().first().is_some_and(|p| matches!(p, Piece::Lit(l) if l.contains("://")));
    if url {
        let mut out = Text::lit("https://example.invalid/");
        out.append(stand_in(t, Field::Raw));
        return out;
    }
    let is_id = t
        .pieces()
        .first()
        .is_some_and(|p| matches!(p, Piece::Lit(l) if l.to_ascii_lowercase().starts_with("/subscriptions/")));
    let segments = t.split('/');
    let filled: Vec<Text> = segments
        .iter()
        .enumerate()
        .map(|(i, seg)| {
            if seg.is_lit() {
                seg.clone()
            } else if is_id && i == 2 {
                Text::lit(ZERO_SUBSCRIPTION)
            } else {
                seg.flat_map(|p| match p {
                    Piece::Lit(l) => Text::lit(l.clone()),
                    Piece::Param(n) | Piece::Ctx(n) | Piece::Opaque(n) => Text::lit(n.clone()),
                })
            }
        })
        .collect();
    Text::join(&filled, "/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_placeholders() {
        let p = placeholders("/subscriptions/<subscriptionID>/resourceGroups/{rg-name}/x ${HOME} a<b");
        assert_eq!(
            p,
            vec![
                Piece::Lit("/subscriptions/".into()),
                Piece::Param("<subscriptionID>".into()),
                Piece::Lit("/resourceGroups/".into()),
                Piece::Param("{rg-name}".into()),
                Piece::Lit("/x ${HOME} a<b".into()),
            ]
        );
    }

    #[test]
    fn stand_ins_validate_as_ids() {
        let mut t = Text::lit("/subscriptions/");
        t.push(Piece::Opaque("subscription".into()));
        t.push(Piece::Lit("/resourceGroups/".into()));
        t.push(Piece::Opaque("rgName".into()));
        assert_eq!(
            stand_in(&t, Field::Raw).as_lit(),
            Some("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rgName")
        );
    }

    #[test]
    fn parameters_stay_parameters_where_allowed() {
        let mut params = Params::default();
        let mut d = ParamDef::new("size", ParamKind::String, Origin::Parameter, Span::default());
        d.default = Some(Val::str(Text::lit("Standard_D2s_v5"), Span::default()));
        params.add(d);
        let mut r = Resolver::new(params);
        let v = Val::str(Text::piece(Piece::Param("size".into())), Span::default());
        assert_eq!(r.string(&v, "/a", "vmSize", Field::Param).as_deref(), Some("${params.size}"));
        assert!(r.findings.is_empty());
        assert_eq!(r.string(&v, "/b", "scriptUri", Field::Raw).as_deref(), Some("Standard_D2s_v5"));
        assert_eq!(r.findings.len(), 1);
        assert!(r.subs.contains_key("/b") && !r.subs.contains_key("/a"));
        assert_eq!(r.params.declarations().len(), 1);
    }
}
