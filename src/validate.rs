//! The structural check: walks the spanned tree against the generated JSON Schema and
//! reports every unknown key, wrong type, missing key and out-of-range value at once,
//! producing the typed-ready JSON as it goes.
//!
//! This is a small interpreter for the subset of JSON Schema that schemars emits, with
//! one addition a generic validator lacks: for `oneOf`/`anyOf` it picks the branch the
//! user meant (by the `type` tag, by which key is present, or by fewest errors) and
//! reports that branch's errors, instead of "matches none of 5 schemas".

use serde_json::{Map, Value};

use crate::diagnostic::{Code, Diagnostic, suggest};
use crate::loader::Format;
use crate::node::{Kind, Node, Path, Scalar};
use crate::source::Span;

pub struct Validator<'s> {
    defs: &'s Map<String, Value>,
    format: Format,
    pub diags: Vec<Diagnostic>,
}

/// Where the value being checked hangs: its path and the span of the key that holds it
/// (so "missing key" points at `build:` rather than at the first key inside it).
#[derive(Clone)]
struct At<'p> {
    path: &'p Path,
    owner: Span,
}

impl<'s> Validator<'s> {
    pub fn new(root_schema: &'s Value, format: Format) -> Validator<'s> {
        static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
        let defs = root_schema.get("$defs").and_then(Value::as_object).unwrap_or_else(|| EMPTY.get_or_init(Map::new));
        Validator { defs, format, diags: Vec::new() }
    }

    /// Checks `node` against the definition `def` (a `$defs` name). Returns the value to
    /// deserialize: unknown keys and wrongly typed values are left out, so that typed
    /// decoding (and the semantic rules after it) can still run on the rest.
    pub fn check_def(&mut self, def: &str, node: &Node, path: &Path) -> Option<Value> {
        let defs = self.defs;
        let schema = defs.get(def)?;
        self.check(schema, node, &At { path, owner: node.span })
    }

    fn resolve<'v>(&self, schema: &'v Value) -> &'v Value
    where
        's: 'v,
    {
        let mut s = schema;
        // A `$ref` may carry siblings (a description); the target has all the rules.
        while let Some(r) = s.get("$ref").and_then(Value::as_str) {
            match r.strip_prefix("#/$defs/").and_then(|name| self.defs.get(name)) {
                Some(target) => s = target,
                None => break,
            }
        }
        s
    }

    fn report(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    fn check(&mut self, schema: &Value, node: &Node, at: &At) -> Option<Value> {
        let schema = self.resolve(schema);
        if let Some(branches) = schema.get("oneOf").or_else(|| schema.get("anyOf")).and_then(Value::as_array) {
            return self.check_union(schema, branches, node, at);
        }
        let types = types_of(schema);
        if !types.is_empty() && !types.iter().any(|t| self.accepts(t, node)) {
            if let Some(s) = self.coerce_to_string(&types, node) {
                return self.check_string(schema, s, node, at);
            }
            if node.as_str().is_some_and(crate::params::has_references) {
                self.report(not_a_parameter_place(node, at));
                return None;
            }
            self.report(wrong_type(node, &types, at));
            return None;
        }
        match &node.kind {
            Kind::Scalar(Scalar::Null) => Some(Value::Null),
            Kind::Map(_) => self.check_object(schema, node, at),
            Kind::Seq(items) => self.check_array(schema, items, at),
            Kind::Scalar(Scalar::Str(s)) => self.check_string(schema, s.clone(), node, at),
            Kind::Scalar(_) => {
                let value = node.to_json();
                if let Some(v) = self.check_enum(schema, &value, node, at) {
                    return Some(v);
                }
                self.check_number(schema, &value, node, at)
            }
        }
    }

    /// YAML writes `version: 1.10` or `sku: 2022` unquoted; where the schema wants a
    /// string, the text as written is what the user meant.
    fn coerce_to_string(&self, types: &[&str], node: &Node) -> Option<String> {
        if self.format != Format::Yaml || !types.contains(&"string") {
            return None;
        }
        match (&node.kind, &node.raw) {
            (Kind::Scalar(Scalar::Int(_) | Scalar::Float(_) | Scalar::Bool(_)), Some(raw)) => Some(raw.clone()),
            _ => None,
        }
    }

    fn accepts(&self, ty: &str, node: &Node) -> bool {
        match (ty, &node.kind) {
            ("null", Kind::Scalar(Scalar::Null)) => true,
            ("boolean", Kind::Scalar(Scalar::Bool(_))) => true,
            ("integer", Kind::Scalar(Scalar::Int(_))) => true,
            ("integer", Kind::Scalar(Scalar::Float(f))) => f.fract() == 0.0 && f.is_finite(),
            ("number", Kind::Scalar(Scalar::Int(_) | Scalar::Float(_))) => true,
            ("string", Kind::Scalar(Scalar::Str(_))) => true,
            ("array", Kind::Seq(_)) => true,
            ("object", Kind::Map(_)) => true,
            _ => false,
        }
    }

    fn check_string(&mut self, schema: &Value, s: String, node: &Node, at: &At) -> Option<Value> {
        let value = Value::String(s.clone());
        if let Some(v) = self.check_enum(schema, &value, node, at) {
            return Some(v);
        }
        if schema.get("enum").is_some() || schema.get("const").is_some() {
            return None;
        }
        let len = s.chars().count() as u64;
        if let Some(min) = schema.get("minLength").and_then(Value::as_u64).filter(|m| len < *m) {
            self.report(
                Diagnostic::new(
                    Code::OutOfRange,
                    node.span,
                    format!("`{}` must be at least {min} characters long", at.path.dotted()),
                )
                .with_hint(format!("give `{}` {min} or more characters", at.path.dotted())),
            );
            return None;
        }
        if let Some(max) = schema.get("maxLength").and_then(Value::as_u64).filter(|m| len > *m) {
            self.report(
                Diagnostic::new(
                    Code::OutOfRange,
                    node.span,
                    format!("`{}` must be at most {max} characters long", at.path.dotted()),
                )
                .with_hint(format!("shorten `{}` to {max} characters or fewer", at.path.dotted())),
            );
            return None;
        }
        Some(value)
    }

    /// `Some(value)` when the schema has `enum`/`const` and the value is allowed; `None`
    /// (after reporting) when it is not, or when the schema has no such rule.
    fn check_enum(&mut self, schema: &Value, value: &Value, node: &Node, at: &At) -> Option<Value> {
        let allowed: Vec<Value> = match (schema.get("enum"), schema.get("const")) {
            (Some(Value::Array(vals)), _) => vals.clone(),
            (_, Some(c)) => vec![c.clone()],
            _ => return None,
        };
        if allowed.contains(value) {
            return Some(value.clone());
        }
        if value.as_str().is_some_and(crate::params::has_references) {
            self.report(not_a_parameter_place(node, at));
            return None;
        }
        let names: Vec<String> =
            allowed.iter().map(|v| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())).collect();
        let shown = value.as_str().map(str::to_string).unwrap_or_else(|| value.to_string());
        let mut d = Diagnostic::new(
            Code::NotAllowed,
            node.span,
            format!("`{shown}` is not allowed for `{}`", at.path.dotted()),
        )
        .with_hint(format!("use one of: {}", names.join(", ")));
        if let Some(s) = suggest(&shown, names.iter().map(String::as_str)) {
            d = d.with_label(format!("did you mean `{s}`?"));
        }
        self.report(d);
        None
    }

    fn check_number(&mut self, schema: &Value, value: &Value, node: &Node, at: &At) -> Option<Value> {
        let Some(n) = value.as_f64() else {
            return Some(value.clone());
        };
        let (min, max) = (schema.get("minimum").and_then(Value::as_f64), schema.get("maximum").and_then(Value::as_f64));
        let (fmin, fmax) = match schema.get("format").and_then(Value::as_str) {
            Some("uint32") => (Some(0.0), Some(u32::MAX as f64)),
            Some("int32") => (Some(i32::MIN as f64), Some(i32::MAX as f64)),
            _ => (None, None),
        };
        let lo = min.or(fmin);
        let hi = max.or(fmax);
        if lo.is_some_and(|lo| n < lo) || hi.is_some_and(|hi| n > hi) {
            let range = match (lo, hi) {
                (Some(lo), Some(hi)) => format!("from {lo} to {hi}"),
                (Some(lo), None) => format!("at least {lo}"),
                (None, Some(hi)) => format!("at most {hi}"),
                _ => unreachable!(),
            };
            self.report(
                Diagnostic::new(
                    Code::OutOfRange,
                    node.span,
                    format!(
                        "`{}` is {}, outside the allowed range",
                        at.path.dotted(),
                        node.raw.clone().unwrap_or_else(|| fmt_num(n))
                    ),
                )
                .with_label(format!("must be {range}"))
                .with_hint(format!("set `{}` to a value {range}", at.path.dotted())),
            );
            return None;
        }
        // Integral floats (`5.0`) are integers to serde only if written as such.
        if types_of(schema).contains(&"integer") && !value.is_i64() && !value.is_u64() {
            return Some(Value::from(n as i64));
        }
        Some(value.clone())
    }

    fn check_array(&mut self, schema: &Value, items: &[Node], at: &At) -> Option<Value> {
        if let Some(min) = schema.get("minItems").and_then(Value::as_u64).filter(|m| (items.len() as u64) < *m) {
            self.report(
                Diagnostic::new(
                    Code::OutOfRange,
                    at.owner,
                    format!("`{}` needs at least {min} item{}", at.path.dotted(), if min == 1 { "" } else { "s" }),
                )
                .with_hint(format!(
                    "add at least {min} item{} under `{}`",
                    if min == 1 { "" } else { "s" },
                    at.path.dotted()
                )),
            );
        }
        let item_schema = schema.get("items").cloned().unwrap_or(Value::Bool(true));
        let mut out = Vec::with_capacity(items.len());
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            let path = at.path.join(i);
            match self.check(&item_schema, item, &At { path: &path, owner: item.span }) {
                Some(v) => out.push(v),
                None => ok = false,
            }
        }
        // A list with a bad item is left out whole, so no index shifts under the rules.
        ok.then_some(Value::Array(out))
    }

    fn check_object(&mut self, schema: &Value, node: &Node, at: &At) -> Option<Value> {
        let Kind::Map(entries) = &node.kind else {
            return None;
        };
        let props = schema.get("properties").and_then(Value::as_object);
        let additional = schema.get("additionalProperties");
        let mut out = Map::new();
        for e in entries {
            let path = at.path.join(e.key.as_str());
            let child = At { path: &path, owner: e.key_span };
            let prop_schema = props.and_then(|p| p.get(&e.key));
            match (prop_schema, additional) {
                (Some(ps), _) => {
                    if let Some(v) = self.check(ps, &e.value, &child) {
                        out.insert(e.key.clone(), v);
                    }
                }
                (None, Some(Value::Bool(false))) => {
                    let known: Vec<&str> = props.map(|p| p.keys().map(String::as_str).collect()).unwrap_or_default();
                    let mut d = unknown_key(&e.key, e.key_span, at.path, &known);
                    if d.label.as_deref() == Some("not a known key")
                        && let Some(home) = self.home_of(&e.key)
                    {
                        d = d
                            .with_label(format!("`{}` belongs in {home}", e.key))
                            .with_hint(format!("move it under {home}"));
                    }
                    self.report(d);
                }
                (None, Some(extra)) if extra.is_object() => {
                    if let Some(v) = self.check(extra, &e.value, &child) {
                        out.insert(e.key.clone(), v);
                    }
                }
                (None, _) => {
                    out.insert(e.key.clone(), e.value.to_json());
                }
            }
        }
        let mut complete = true;
        for req in schema.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
            if !entries.iter().any(|e| e.key == req) {
                complete = false;
                // `image:` for `images:` is reported once, as a misspelling.
                let near_miss = entries
                    .iter()
                    .any(|e| props.is_some_and(|p| !p.contains_key(&e.key)) && suggest(&e.key, [req]).is_some());
                if near_miss {
                    continue;
                }
                let prop = props.and_then(|p| p.get(req));
                let desc = prop
                    .and_then(|s| s.get("description"))
                    .or_else(|| prop.map(|s| self.resolve(s)).and_then(|s| s.get("description")))
                    .and_then(Value::as_str);
                let mut d = Diagnostic::new(
                    Code::MissingKey,
                    at.owner,
                    if at.path.0.is_empty() {
                        format!("the spec is missing the required key `{req}`")
                    } else {
                        format!("`{}` is missing the required key `{req}`", at.path.dotted())
                    },
                )
                .with_label(format!("add `{req}` here"));
                d = d.with_hint(match desc {
                    Some(desc) => format!("`{req}`: {}", first_sentence(desc)),
                    None => format!("add `{req}:` with a value (`aibc schema` describes every key)"),
                });
                self.report(d);
            }
        }
        // Without a required key the mapping cannot be typed; leave it out.
        complete.then_some(Value::Object(out))
    }

    fn check_union(&mut self, schema: &Value, branches: &[Value], node: &Node, at: &At) -> Option<Value> {
        let resolved: Vec<&Value> = branches.iter().map(|b| self.resolve(b)).collect();
        if matches!(node.kind, Kind::Scalar(Scalar::Null)) && resolved.iter().any(|b| types_of(b).contains(&"null")) {
            return Some(Value::Null);
        }
        let fitting: Vec<&Value> = resolved.iter().copied().filter(|b| self.fits_kind(b, node)).collect();
        match fitting.len() {
            0 => {
                let mut types: Vec<&str> = resolved.iter().flat_map(|b| kinds_of(b)).filter(|t| *t != "null").collect();
                types.dedup();
                if let Some(s) = self.coerce_to_string(&types, node) {
                    let b = resolved
                        .iter()
                        .copied()
                        .find(|b| kinds_of(b).contains(&"string"))
                        .cloned()
                        .unwrap_or(Value::Bool(true));
                    return self.check_string(&b, s, node, at);
                }
                self.report(wrong_type(node, &types, at));
                None
            }
            1 => self.check(fitting[0], node, at),
            _ => {
                if let Some(v) = self.check_tagged(&fitting, node, at) {
                    return v;
                }
                if let Some(v) = self.check_keyed(schema, &fitting, node, at) {
                    return v;
                }
                // A branch whose required keys are all present, when no other branch
                // requires anything present, is the one meant (`use:` picks a library step).
                let present = |b: &Value| {
                    b.get("required").and_then(Value::as_array).is_some_and(|r| {
                        !r.is_empty() && r.iter().filter_map(Value::as_str).all(|k| node.entry(k).is_some())
                    })
                };
                if let [only] = fitting.iter().filter(|b| present(b)).collect::<Vec<_>>().as_slice() {
                    return self.check(only, node, at);
                }
                // Fall back to the branch with the fewest problems.
                let mut best: Option<(usize, Vec<Diagnostic>, Option<Value>)> = None;
                for b in &fitting {
                    let mut trial = Validator { defs: self.defs, format: self.format, diags: Vec::new() };
                    let v = trial.check(b, node, at);
                    if best.as_ref().is_none_or(|(n, _, _)| trial.diags.len() < *n) {
                        best = Some((trial.diags.len(), trial.diags, v));
                    }
                }
                let (_, diags, v) = best.expect("two or more branches");
                self.diags.extend(diags);
                v
            }
        }
    }

    /// Internally tagged unions (`type: PowerShell`): choose the branch by its tag.
    fn check_tagged(&mut self, branches: &[&Value], node: &Node, at: &At) -> Option<Option<Value>> {
        let tag_of = |b: &Value| -> Option<(String, Value)> {
            b.get("properties")?.as_object()?.iter().find_map(|(k, v)| v.get("const").map(|c| (k.clone(), c.clone())))
        };
        let tags: Vec<(String, Value)> = branches.iter().map(|b| tag_of(b)).collect::<Option<_>>()?;
        let key = tags[0].0.clone();
        if !tags.iter().all(|(k, _)| *k == key) {
            return None;
        }
        let names: Vec<String> = tags.iter().filter_map(|(_, v)| v.as_str().map(str::to_string)).collect();
        let Some(entry) = node.entry(&key) else {
            self.report(
                Diagnostic::new(Code::MissingKey, at.owner, format!("`{}` is missing `{key}`", at.path.dotted()))
                    .with_label(format!("add `{key}` here"))
                    .with_hint(format!("`{key}` is one of: {}", names.join(", "))),
            );
            return Some(None);
        };
        let given = entry.value.as_str().map(str::to_string).unwrap_or_else(|| entry.value.to_json().to_string());
        match tags.iter().position(|(_, v)| v.as_str() == Some(given.as_str())) {
            Some(i) => Some(self.check(branches[i], node, at)),
            None => {
                let mut d = Diagnostic::new(
                    Code::NotAllowed,
                    entry.value.span,
                    format!(
                        "`{given}` is not a {} `{key}`",
                        at.path
                            .0
                            .iter()
                            .rev()
                            .find_map(|s| match s {
                                crate::node::Seg::Key(k) => Some(k.as_str()),
                                _ => None,
                            })
                            .map(|k| format!("`{k}`"))
                            .unwrap_or_else(|| "known".into())
                    ),
                )
                .with_hint(format!("`{key}` is one of: {}", names.join(", ")));
                if let Some(s) = suggest(&given, names.iter().map(String::as_str)) {
                    d = d.with_label(format!("did you mean `{s}`?"));
                }
                self.report(d);
                Some(None)
            }
        }
    }

    /// Externally tagged unions (`platform: …` or `gallery: …`): choose by the key present.
    fn check_keyed(&mut self, _schema: &Value, branches: &[&Value], node: &Node, at: &At) -> Option<Option<Value>> {
        let key_of = |b: &Value| -> Option<String> {
            let req = b.get("required")?.as_array()?;
            let props = b.get("properties")?.as_object()?;
            (req.len() == 1 && props.len() == 1).then(|| req[0].as_str().map(str::to_string)).flatten()
        };
        let keys: Vec<String> = branches.iter().map(|b| key_of(b)).collect::<Option<_>>()?;
        let Kind::Map(entries) = &node.kind else {
            return None;
        };
        let present: Vec<usize> =
            keys.iter().enumerate().filter(|(_, k)| entries.iter().any(|e| &e.key == *k)).map(|(i, _)| i).collect();
        let list = keys.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ");
        match present.as_slice() {
            [i] => Some(self.check(branches[*i], node, at)),
            [] => {
                // A misspelt tag reads better as an unknown key than as "none of".
                let bad = entries.iter().find(|e| suggest(&e.key, keys.iter().map(String::as_str)).is_some());
                match bad {
                    Some(e) => self.report(unknown_key(
                        &e.key,
                        e.key_span,
                        at.path,
                        &keys.iter().map(String::as_str).collect::<Vec<_>>(),
                    )),
                    None => self.report(
                        Diagnostic::new(Code::OneOf, at.owner, format!("`{}` needs one of {list}", at.path.dotted()))
                            .with_hint(format!("give exactly one of {list}")),
                    ),
                }
                Some(None)
            }
            [_, second, ..] => {
                let e = entries.iter().find(|e| e.key == keys[*second]).expect("present");
                self.report(
                    Diagnostic::new(
                        Code::OneOf,
                        e.key_span,
                        format!("`{}` takes exactly one of {list}", at.path.dotted()),
                    )
                    .with_label("a second one")
                    .with_hint(if matches!(at.path.0.last(), Some(crate::node::Seg::Index(_))) {
                        "split it into separate list entries, one per kind"
                    } else {
                        "keep one of them"
                    }),
                );
                Some(None)
            }
        }
    }

    /// Where a key that is unknown here belongs in the format, if it has one home:
    /// `vmSize` at the top level belongs in `build`.
    fn home_of(&self, key: &str) -> Option<String> {
        // Spec keys a user reaches through these definitions; enough for the keys that are
        // commonly put one level too high or too low.
        const HOMES: &[(&str, &str)] = &[
            ("ImageSpec", "the top level"),
            ("Build", "`build`"),
            ("Identity", "`identity`"),
            ("Storage", "`storage`"),
            ("Gallery", "`gallery`"),
            ("ImageDefinition", "`gallery.image`"),
            ("Validate", "`validate`"),
            ("Optimize", "`optimize`"),
            ("GalleryDistribution", "a `distribute: - gallery:` entry"),
            ("Subnet", "`build.subnet`"),
            ("Trigger", "`trigger`"),
        ];
        let homes: Vec<&str> = HOMES
            .iter()
            .filter(|(def, _)| self.defs.get(*def).and_then(|d| d.get("properties")).and_then(|p| p.get(key)).is_some())
            .map(|(_, home)| *home)
            .collect();
        match homes.as_slice() {
            [one] => Some((*one).to_string()),
            _ => None,
        }
    }

    fn fits_kind(&self, branch: &Value, node: &Node) -> bool {
        kinds_of(branch).iter().any(|t| self.accepts(t, node)) || kinds_of(branch).is_empty()
    }
}

/// The JSON types a schema names in `type`.
fn types_of(schema: &Value) -> Vec<&str> {
    match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// The JSON types a branch accepts, looking through `enum`, `const` and `properties`.
fn kinds_of(schema: &Value) -> Vec<&'static str> {
    let t = types_of(schema);
    let mut out: Vec<&'static str> = t
        .iter()
        .filter_map(|t| {
            ["null", "boolean", "integer", "number", "string", "array", "object"].into_iter().find(|k| k == t)
        })
        .collect();
    if out.is_empty() {
        if schema.get("properties").is_some() {
            out.push("object");
        } else if let Some(Value::Array(v)) = schema.get("enum") {
            if v.iter().all(Value::is_string) {
                out.push("string");
            }
        } else if schema.get("const").is_some_and(Value::is_string) {
            out.push("string");
        }
    }
    out
}

fn not_a_parameter_place(node: &Node, at: &At) -> Diagnostic {
    Diagnostic::new(
        Code::ParameterNotAllowed,
        node.span,
        format!("`{}` must be known when compiling, so it cannot use a parameter", at.path.dotted()),
    )
    .with_hint(
        "write the value itself here; parameters work in strings such as locations, versions, sizes, names and tags",
    )
}

fn wrong_type(node: &Node, types: &[&str], at: &At) -> Diagnostic {
    let want: Vec<&str> = types
        .iter()
        .filter(|t| **t != "null")
        .map(|t| match *t {
            "boolean" => "true or false",
            "integer" => "a whole number",
            "number" => "a number",
            "string" => "a string",
            "array" => "a list",
            "object" => "a mapping",
            other => other,
        })
        .collect();
    let want = if want.is_empty() { "null".to_string() } else { want.join(" or ") };
    Diagnostic::new(
        Code::WrongType,
        node.span,
        format!("`{}` must be {want}, not {}", at.path.dotted(), node.kind_name()),
    )
    .with_label(format!("expected {want}"))
    .with_hint(type_hint(types, node))
}

/// How to write a value of the wanted JSON Schema `types` in YAML, for the value found.
fn type_hint(types: &[&str], node: &Node) -> String {
    let quoted = matches!(node.kind, Kind::Scalar(_));
    let types: Vec<&str> = types.iter().copied().filter(|t| *t != "null").collect();
    match types.as_slice() {
        ["boolean"] if quoted => "write `true` or `false` without quotes".to_string(),
        ["boolean"] => "write `true` or `false`".to_string(),
        ["integer"] | ["number"] if quoted => "write the number without quotes".to_string(),
        ["integer"] | ["number"] => "write a number, such as `120`".to_string(),
        ["string"] if quoted => "put the value in quotes to make it a string".to_string(),
        ["string"] => "give one value on the same line as the key (quote it if it has `:` or `#`)".to_string(),
        ["array"] => "write a list: one `- item` line per entry, indented under the key".to_string(),
        ["object"] => "write a mapping: `key: value` lines indented under this one".to_string(),
        _ => "see `aibc schema` for the shape this key takes".to_string(),
    }
}

fn unknown_key(key: &str, span: Span, path: &Path, known: &[&str]) -> Diagnostic {
    let place = if path.0.is_empty() { "at the top level".to_string() } else { format!("in `{}`", path.dotted()) };
    let mut d = Diagnostic::new(Code::UnknownKey, span, format!("unknown key `{key}` {place}"));
    match suggest(key, known.iter().copied()) {
        Some(s) => {
            d = d.with_label(format!("did you mean `{s}`?")).with_hint(format!("rename it to `{s}`"));
        }
        None => {
            let mut keys: Vec<&str> = known.to_vec();
            keys.sort();
            d = d.with_label("not a known key").with_hint(format!("keys allowed here: {}", keys.join(", ")));
        }
    }
    d
}

fn first_sentence(s: &str) -> String {
    let s = s.replace('\n', " ");
    match s.find(". ") {
        Some(i) => s[..=i].to_string(),
        None => s,
    }
}

fn fmt_num(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 { format!("{}", n as i64) } else { format!("{n}") }
}
