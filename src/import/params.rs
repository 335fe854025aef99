//! Deploy-time values of an imported template (ARM parameters, Packer variables,
//! placeholders such as `<region>`) and the spec parameters they become.
//!
//! Every value the template leaves to deploy time is registered here under the name the
//! template uses; only the ones the spec ends up referring to as `${params.NAME}` are
//! declared in its `parameters:`.

use std::collections::{BTreeMap, BTreeSet};

use super::value::{V, Val};
use crate::source::Span;
use crate::spec::{Parameter, ParameterType};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    String,
    Int,
    Bool,
    /// Lists and mappings: no spec parameter can hold them, so they are always replaced
    /// by their default.
    List,
    Map,
}

/// Where a deploy-time value comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// An ARM template parameter.
    Parameter,
    /// A Packer variable; `env` names the environment variable its default is read from.
    Variable { env: Option<String> },
    /// A placeholder written into the template to be replaced by hand.
    Placeholder,
    /// An expression aibc cannot evaluate (`[utcNow()]`, `timestamp()`).
    Expression,
}

#[derive(Debug, Clone)]
pub struct ParamDef {
    /// The name the template uses (the key of `Piece::Param`).
    pub name: String,
    /// A valid, unique spec parameter name.
    pub spec_name: String,
    pub kind: ParamKind,
    /// The default, when the template gives one (it may itself hold references).
    pub default: Option<Val>,
    pub description: Option<String>,
    pub allowed: Vec<Val>,
    pub origin: Origin,
    pub span: Span,
    /// The default is a value given with `--parameters`, `-var` or `-var-file`.
    pub given: bool,
    /// The template leaves it empty, to be given when building (a Packer variable
    /// whose default is `""`): it has no default.
    pub supplied_later: bool,
}

impl ParamDef {
    pub fn new(name: &str, kind: ParamKind, origin: Origin, span: Span) -> ParamDef {
        ParamDef {
            name: name.to_string(),
            spec_name: String::new(),
            kind,
            default: None,
            description: None,
            allowed: Vec::new(),
            origin,
            span,
            given: false,
            supplied_later: false,
        }
    }

    /// The default as a JSON literal, when it has no references (`null` is none).
    pub fn literal_default(&self) -> Option<serde_json::Value> {
        self.default.as_ref().and_then(literal).filter(|v| !v.is_null())
    }
}

/// A value without references, as JSON.
pub fn literal(v: &Val) -> Option<serde_json::Value> {
    match &v.v {
        V::Str(t) => t.as_lit().map(|s| serde_json::Value::String(s.to_string())),
        V::Arr(items) => items.iter().map(literal).collect::<Option<Vec<_>>>().map(serde_json::Value::Array),
        V::Obj(entries) => entries
            .iter()
            .map(|(k, _, v)| literal(v).map(|j| (k.clone(), j)))
            .collect::<Option<serde_json::Map<_, _>>>()
            .map(serde_json::Value::Object),
        _ => Some(v.to_json()),
    }
}

#[derive(Debug, Clone, Default)]
pub struct Params {
    defs: Vec<ParamDef>,
    used: BTreeSet<usize>,
}

impl Params {
    /// Registers a value; its spec name is derived from `name` and made unique.
    pub fn add(&mut self, mut def: ParamDef) {
        if self.find(&def.name).is_some() {
            return;
        }
        let base = match def.origin {
            // `{image-version}` is named as a whole, not as an expression.
            Origin::Placeholder => spec_name(&def.name),
            Origin::Expression => base_name(&def.name, true),
            _ => base_name(&def.name, false),
        };
        let mut candidate = base.clone();
        let mut n = 2;
        while self.defs.iter().any(|d| d.spec_name.eq_ignore_ascii_case(&candidate)) {
            candidate = format!("{base}{n}");
            n += 1;
        }
        def.spec_name = candidate;
        self.defs.push(def);
    }

    fn find(&self, name: &str) -> Option<usize> {
        self.defs.iter().position(|d| d.name == name)
    }

    pub fn get(&self, name: &str) -> Option<&ParamDef> {
        self.find(name).map(|i| &self.defs[i])
    }

    pub fn mark_used(&mut self, name: &str) {
        if let Some(i) = self.find(name) {
            self.used.insert(i);
        }
    }

    pub fn all(&self) -> &[ParamDef] {
        &self.defs
    }

    /// The spec's `parameters:`: every used value that a spec parameter can hold.
    pub fn declarations(&self) -> BTreeMap<String, Parameter> {
        let mut out = BTreeMap::new();
        for &i in &self.used {
            let d = &self.defs[i];
            let kind = match d.kind {
                ParamKind::String => ParameterType::String,
                ParamKind::Int => ParameterType::Int,
                ParamKind::Bool => ParameterType::Bool,
                ParamKind::List | ParamKind::Map => continue,
            };
            let convert = |j: serde_json::Value| match (kind, j) {
                (ParameterType::String, serde_json::Value::String(s)) => Some(serde_json::Value::String(s)),
                (ParameterType::String, j @ (serde_json::Value::Number(_) | serde_json::Value::Bool(_))) => {
                    Some(serde_json::Value::String(j.to_string()))
                }
                (ParameterType::Int, serde_json::Value::Number(n)) if n.is_i64() => Some(serde_json::Value::Number(n)),
                (ParameterType::Int, serde_json::Value::String(s)) => s.trim().parse::<i64>().ok().map(Into::into),
                (ParameterType::Bool, serde_json::Value::Bool(b)) => Some(serde_json::Value::Bool(b)),
                (ParameterType::Bool, serde_json::Value::String(s)) => match s.to_ascii_lowercase().as_str() {
                    "true" => Some(true.into()),
                    "false" => Some(false.into()),
                    _ => None,
                },
                _ => None,
            };
            let default = d.literal_default().and_then(convert);
            let allowed: Vec<serde_json::Value> = d.allowed.iter().filter_map(literal).filter_map(convert).collect();
            // A default outside the allowed values would not validate; keep the list only
            // when it is consistent.
            let allowed = match &default {
                Some(x) if !allowed.contains(x) => Vec::new(),
                _ => allowed,
            };
            out.insert(d.spec_name.clone(), Parameter { kind, default, description: description(d), allowed });
        }
        out
    }
}

fn description(d: &ParamDef) -> Option<String> {
    let own = d.description.clone().filter(|s| !s.trim().is_empty());
    let origin = match &d.origin {
        Origin::Variable { env: Some(env) } => {
            Some(format!("Packer read it from the environment variable {env}; give it when deploying."))
        }
        Origin::Placeholder => Some(format!("Replaces the placeholder `{}` of the imported template.", d.name)),
        Origin::Expression => Some(format!("Was `{}` in the imported template, which aibc cannot evaluate.", d.name)),
        _ => None,
    };
    match (own, origin) {
        (Some(a), Some(b)) => Some(format!("{a} {b}")),
        (a, b) => a.or(b),
    }
}

/// A readable name for a value: the template's own name, or for an expression what it
/// computes (`timestamp()`, `formatdate("…", timestamp())` and `utcNow()` are all a
/// `timestamp`; otherwise the function's name).
pub fn base_name(raw: &str, expression: bool) -> String {
    let lower = raw.to_ascii_lowercase();
    let looks_like_expression = expression || raw.contains(['(', '{', '[', '"', '\'']);
    if !looks_like_expression {
        return spec_name(raw);
    }
    if ["timestamp", "utcnow", "isotime", "formatdate"].iter().any(|t| lower.contains(t)) {
        return "timestamp".into();
    }
    if ["uuid", "newguid"].iter().any(|t| lower.contains(t)) {
        return "uuid".into();
    }
    // ``{{env `NAME`}}`` or `env("NAME")`: named after the environment variable.
    if let Some(rest) = raw.split_once("env").map(|(_, r)| r.trim_start_matches([' ', '(']))
        && let Some(q) = rest.chars().next().filter(|c| matches!(c, '`' | '"'))
        && let Some(name) = rest[1..].split(q).next().filter(|n| !n.is_empty())
    {
        return spec_name(name);
    }
    let ident: String = raw
        .trim_start_matches(|c: char| !c.is_ascii_alphabetic())
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    spec_name(&ident)
}

/// A spec parameter name for a template's name: letters, digits and `_`, starting with a
/// letter, and not one of the names the generated template uses itself.
pub fn spec_name(raw: &str) -> String {
    let inner = raw.trim_start_matches(['<', '{', '[']).trim_end_matches(['>', '}', ']']);
    let mut s = String::new();
    for c in inner.chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            s.push(c);
        } else if !s.ends_with('_') && !s.is_empty() {
            s.push('_');
        }
    }
    let mut s = s.trim_end_matches('_').to_string();
    if s.is_empty() {
        s = "value".into();
    }
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        s = format!("p{s}");
    }
    if crate::check::parameters::is_reserved(&s) { format!("{s}Value") } else { s }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_names_are_valid_and_unique() {
        assert_eq!(spec_name("<subscription-id>"), "subscription_id");
        assert_eq!(spec_name("{region}"), "region");
        assert_eq!(spec_name("tags"), "tagsValue");
        assert_eq!(spec_name("2nd"), "p2nd");
        assert_eq!(spec_name("[utcNow()]"), "utcNow");
        assert_eq!(base_name("formatdate(\"YYYYMMDD\", timestamp())", true), "timestamp");
        assert_eq!(base_name("lower(\"X-${var.env}\")", true), "lower");
        assert_eq!(base_name("<rgName>", false), "rgName");
        assert_eq!(base_name("{{env `BUILD_ID`}}", true), "BUILD_ID");
        let mut p = Params::default();
        p.add(ParamDef::new("image-name", ParamKind::String, Origin::Parameter, Span::default()));
        p.add(ParamDef::new("image_name", ParamKind::String, Origin::Parameter, Span::default()));
        assert_eq!(p.get("image_name").unwrap().spec_name, "image_name2");
    }
}
