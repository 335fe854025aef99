//! The round trip: compile the imported spec to ARM, take the image template out of the
//! generated `azuredeploy.json`, and compare it with the original, part by part.
//!
//! Both sides are evaluated into the same symbolic values (the generated template through
//! its nested deployments, module outputs and parameter defaults), then normalised for
//! AIB's defaults (a region without `replicaCount` has 1, `runElevated: false` is no
//! `runElevated`, …) and for the form aibc gives local files (an uploaded blob). Where the
//! import had to change a value (a parameter replaced by its default, a placeholder by a
//! stand-in), the comparison expects the changed value and lists the change.

use std::collections::HashMap;

use super::arm::eval::eval_node;
use super::arm::expr::Env;
use super::resolve::Subs;
use super::value::{Piece, Text, V, Val};
use crate::node::{Kind, Node};
use crate::source::{Sources, Span};
use serde_json::{Map, Value};

/// One part of the image template, compared.
#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    pub name: &'static str,
    /// How many items (steps, distributions) the part has, for the summary.
    pub count: Option<usize>,
    pub diffs: Vec<Diff>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Diff {
    pub path: String,
    pub original: String,
    pub compiled: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub sections: Vec<Section>,
    /// Values the import changed on purpose: path and why.
    pub changes: Vec<(String, String)>,
}

impl Report {
    pub fn is_same(&self) -> bool {
        self.sections.iter().all(|s| s.diffs.is_empty())
    }

    pub fn section(&self, name: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.name == name)
    }

    pub fn render(&self) -> String {
        let mut out = String::from(
            "round trip: the imported spec compiled to ARM; its image template compared with the original\n",
        );
        for s in &self.sections {
            let count = match (s.count, s.name) {
                (Some(n), "customize") => format!(" ({n} step{})", if n == 1 { "" } else { "s" }),
                (Some(n), "distribute") => format!(" ({n} distribution{})", if n == 1 { "" } else { "s" }),
                _ => String::new(),
            };
            if s.diffs.is_empty() {
                out.push_str(&format!("  {:<22} same{count}\n", s.name));
            } else {
                out.push_str(&format!("  {:<22} DIFFERENT{count}\n", s.name));
                for d in &s.diffs {
                    out.push_str(&format!("    {}: original {}, compiled {}\n", d.path, d.original, d.compiled));
                }
            }
        }
        if !self.changes.is_empty() {
            out.push_str("  changed by the import on purpose (compared as changed):\n");
            for (path, why) in &self.changes {
                out.push_str(&format!("    {path}: {why}\n"));
            }
        }
        out.push_str(if self.is_same() { "result: same\n" } else { "result: DIFFERENT\n" });
        out
    }
}

/// The parts compared, in the order shown; the first four always, the rest when either
/// side has them.
const SECTIONS: &[&str] = &[
    "source",
    "customize",
    "distribute",
    "vmProfile",
    "validate",
    "optimize",
    "buildTimeoutInMinutes",
    "additionalDataDisks",
    "stagingResourceGroup",
    "errorHandling",
    "managedResourceTags",
    "autoRun",
];

/// Compares the original image template's `properties` (with the import's substitutions
/// applied) with the compiled one. `location` is the original template's location, the
/// region AIB replicates to when no region is given.
pub fn compare(original: &Val, location: Option<&Val>, subs: &Subs, compiled: &Val) -> Report {
    compare_with_tags(original, location, subs, compiled, &std::collections::BTreeMap::new())
}

/// The same, where `tags` are the spec's top-level tags: the compiled template repeats them
/// in `artifactTags` and `managedResourceTags` (aibc's inheritance), which is no difference
/// where the original had none of them.
pub fn compare_with_tags(
    original: &Val,
    location: Option<&Val>,
    subs: &Subs,
    compiled: &Val,
    tags: &std::collections::BTreeMap<String, String>,
) -> Report {
    let lower: HashMap<String, &super::resolve::Sub> = subs.iter().map(|(k, v)| (k.to_ascii_lowercase(), v)).collect();
    let original = substitute(original, "", &lower).unwrap_or_else(|| Val::new(V::Obj(Vec::new()), original.span));
    let location = location.map(|l| match lower.get("/location").and_then(|s| s.value.clone()) {
        Some(v) => v,
        None => l.clone(),
    });
    let location = location.map(|l| region_json(&l.to_json()));
    let a = normalise_properties(&original.to_json(), location.as_ref(), Side::Original);
    let b = normalise_properties(&compiled.to_json(), location.as_ref(), Side::Compiled);
    let (mut a, mut b) = (a, b);
    drop_inherited_tags(&a, &mut b, tags);
    align_names(&mut a, &b);

    let mut sections = Vec::new();
    for (i, name) in SECTIONS.iter().enumerate() {
        let key = name.to_ascii_lowercase();
        let (x, y) = (a.get(&key), b.get(&key));
        if i >= 4 && x.is_none() && y.is_none() {
            continue;
        }
        let mut diffs = Vec::new();
        diff(name, x.unwrap_or(&Value::Null), y.unwrap_or(&Value::Null), &mut diffs);
        let count = match (name, x) {
            (&"customize" | &"distribute", Some(Value::Array(items))) => Some(items.len()),
            _ => None,
        };
        sections.push(Section { name, count, diffs });
    }
    let changes = subs.iter().filter_map(|(path, s)| s.reason.clone().map(|r| (path.clone(), r))).collect();
    Report { sections, changes }
}

fn drop_inherited_tags(
    a: &Map<String, Value>,
    b: &mut Map<String, Value>,
    tags: &std::collections::BTreeMap<String, String>,
) {
    let tags: Map<String, Value> =
        tags.iter().map(|(k, v)| (k.to_ascii_lowercase(), Value::String(v.clone()))).collect();
    let strip = |orig: Option<&Value>, comp: &mut Map<String, Value>, key: &str| {
        let had = orig.and_then(|o| o.get(key)).and_then(Value::as_object).cloned().unwrap_or_default();
        if let Some(Value::Object(t)) = comp.get_mut(key) {
            t.retain(|k, v| had.contains_key(k) || tags.get(k) != Some(v));
            if t.is_empty() && orig.is_none_or(|o| o.get(key).is_none()) {
                comp.remove(key);
            }
        }
    };
    strip(Some(&Value::Object(a.clone())), b, "managedresourcetags");
    if let Some(Value::Array(items)) = b.get_mut("distribute") {
        let originals = a.get("distribute").and_then(Value::as_array).cloned().unwrap_or_default();
        for (i, item) in items.iter_mut().enumerate() {
            if let Value::Object(m) = item {
                strip(originals.get(i), m, "artifacttags");
            }
        }
    }
}

/// The original with every substituted value in place.
fn substitute(v: &Val, path: &str, subs: &HashMap<String, &super::resolve::Sub>) -> Option<Val> {
    if let Some(s) = subs.get(&path.to_ascii_lowercase()) {
        return s.value.clone();
    }
    let out = match &v.v {
        V::Arr(items) => {
            V::Arr(items.iter().enumerate().filter_map(|(i, x)| substitute(x, &format!("{path}/{i}"), subs)).collect())
        }
        V::Obj(entries) => V::Obj(
            entries
                .iter()
                .filter_map(|(k, s, x)| Some((k.clone(), *s, substitute(x, &format!("{path}/{k}"), subs)?)))
                .collect(),
        ),
        other => other.clone(),
    };
    Some(Val::new(out, v.span))
}

#[derive(Clone, Copy, PartialEq)]
enum Side {
    Original,
    Compiled,
}

/// Lowercase keys (ARM's are case-insensitive), AIB's defaults removed or made explicit.
fn normalise_properties(props: &Value, location: Option<&Value>, side: Side) -> Map<String, Value> {
    let mut out = Map::new();
    let Value::Object(map) = props else { return out };
    for (k, v) in map {
        let key = k.to_ascii_lowercase();
        let v = match key.as_str() {
            "source" => source(v),
            "customize" => list(v, |s| step(s, side)),
            "distribute" => list(v, |d| distributor(d, location)),
            "vmprofile" => vm_profile(v),
            "validate" => validate(v, side),
            "optimize" => lower_keys(v),
            "errorhandling" => lower_values(&lower_keys(v)),
            "autorun" => match lower_values(&lower_keys(v)) {
                Value::Object(m) if m.get("state") == Some(&Value::String("disabled".into())) => Value::Null,
                other => other,
            },
            "buildtimeoutinminutes" if v == &Value::from(0) => Value::Null,
            "stagingresourcegroup" => id_case(v),
            "additionaldatadisks" | "managedresourcetags" => lower_keys(v),
            "provisioningstate" | "provisioningerror" | "lastrunstatus" | "exactstagingresourcegroup" => Value::Null,
            _ => lower_keys(v),
        };
        if !is_empty(&v) {
            out.insert(key, v);
        }
    }
    out
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        Value::Object(m) => m.is_empty(),
        Value::String(s) => s.is_empty(),
        _ => false,
    }
}

fn list(v: &Value, f: impl Fn(&Value) -> Value) -> Value {
    match v {
        Value::Array(items) => Value::Array(items.iter().map(f).collect()),
        other => other.clone(),
    }
}

fn lower_keys(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.to_ascii_lowercase(), lower_keys(v))).collect()),
        Value::Array(a) => Value::Array(a.iter().map(lower_keys).collect()),
        other => other.clone(),
    }
}

fn lower_values(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| {
                    (k.clone(), v.as_str().map(|s| Value::String(s.to_ascii_lowercase())).unwrap_or(v.clone()))
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Resource IDs are case-insensitive.
fn id_case(v: &Value) -> Value {
    match v {
        Value::String(s) if s.to_ascii_lowercase().starts_with("/subscriptions/") => {
            Value::String(s.to_ascii_lowercase())
        }
        Value::Array(a) => Value::Array(a.iter().map(id_case).collect()),
        other => other.clone(),
    }
}

/// Region names as ARM reads them: `West Europe` is `westeurope`.
fn region_json(v: &Value) -> Value {
    match v {
        Value::String(s) if !s.contains(['[', '$']) => {
            Value::String(s.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_lowercase())
        }
        other => other.clone(),
    }
}

/// Drops the keys whose value is AIB's default.
fn drop_defaults(m: &mut Map<String, Value>, defaults: &[(&str, Value)]) {
    for (k, d) in defaults {
        if m.get(*k) == Some(d) {
            m.remove(*k);
        }
    }
    m.retain(|_, v| !is_empty(v));
}

fn source(v: &Value) -> Value {
    let Value::Object(m) = lower_keys(v) else { return v.clone() };
    let mut m = m;
    m.remove("exactversion");
    if let Some(Value::String(t)) = m.get("type") {
        let t = t.to_ascii_lowercase();
        if t == "platformimage" && !m.contains_key("version") {
            // aibc writes `latest` where a platform image gives no version.
            m.insert("version".into(), Value::String("latest".into()));
        }
        m.insert("type".into(), Value::String(t));
    }
    for k in ["imageversionid", "imageid"] {
        if let Some(x) = m.get(k) {
            let x = id_case(x);
            m.insert(k.into(), x);
        }
    }
    Value::Object(m)
}

fn step(v: &Value, side: Side) -> Value {
    let Value::Object(m) = lower_keys(v) else { return v.clone() };
    let mut m = m;
    if let Some(Value::String(t)) = m.get("type") {
        let t = t.to_ascii_lowercase();
        m.insert("type".into(), Value::String(t));
    }
    let mut artifact = false;
    for k in ["scripturi", "sourceuri"] {
        if let Some(Value::String(u)) = m.get(k) {
            let local = match side {
                // A local file of a Packer template: uploaded by aibc.
                Side::Original => !u.contains("://"),
                Side::Compiled => u.starts_with(ARTIFACTS),
            };
            if local {
                // By file name; a folder is uploaded as `<name>.zip`, so that suffix is
                // not compared.
                let name = u.trim_end_matches(['/', '\\']).rsplit(['/', '\\']).next().unwrap_or(u);
                let name = name.strip_suffix(".zip").unwrap_or(name).to_string();
                m.insert(k.into(), Value::String(format!("artifact:{name}")));
                artifact = true;
            }
        }
    }
    if artifact {
        // aibc pins the uploaded file by its hash; the original had no checksum to give.
        m.remove("sha256checksum");
    }
    if let Some(Value::String(s)) = m.get("sha256checksum") {
        let s = s.to_ascii_lowercase();
        m.insert("sha256checksum".into(), Value::String(s));
    }
    drop_defaults(
        &mut m,
        &[("runelevated", Value::Bool(false)), ("runassystem", Value::Bool(false)), ("updatelimit", Value::from(0))],
    );
    Value::Object(m)
}

/// How the compiled side writes the artifact container's URL (see `CompiledEnv`).
const ARTIFACTS: &str = "[artifactsUrl]";

fn validate(v: &Value, side: Side) -> Value {
    let Value::Object(m) = lower_keys(v) else { return v.clone() };
    let mut m = m;
    if let Some(Value::Array(steps)) = m.get("invmvalidations") {
        let steps = Value::Array(steps.iter().map(|s| step(s, side)).collect());
        m.insert("invmvalidations".into(), steps);
    }
    drop_defaults(
        &mut m,
        &[("continuedistributeonfailure", Value::Bool(false)), ("sourcevalidationonly", Value::Bool(false))],
    );
    Value::Object(m)
}

fn distributor(v: &Value, location: Option<&Value>) -> Value {
    let Value::Object(m) = lower_keys(v) else { return v.clone() };
    let mut m = m;
    let kind = m.get("type").and_then(Value::as_str).unwrap_or("").to_ascii_lowercase();
    m.insert("type".into(), Value::String(kind.clone()));
    match kind.as_str() {
        "sharedimage" => {
            let legacy_storage = m.remove("storageaccounttype");
            let regions: Vec<Value> = match (m.remove("targetregions"), m.remove("replicationregions")) {
                (Some(Value::Array(t)), _) => t,
                (_, Some(Value::Array(names))) => names
                    .into_iter()
                    .map(|n| {
                        let mut r = Map::new();
                        r.insert("name".into(), n);
                        if let Some(s) = &legacy_storage {
                            r.insert("storageaccounttype".into(), s.clone());
                        }
                        Value::Object(r)
                    })
                    .collect(),
                // No region: the template's own.
                _ => location
                    .map(|l| {
                        let mut r = Map::new();
                        r.insert("name".into(), l.clone());
                        vec![Value::Object(r)]
                    })
                    .unwrap_or_default(),
            };
            let regions = regions
                .into_iter()
                .map(|r| {
                    let Value::Object(mut r) = r else { return r };
                    if let Some(n) = r.get("name") {
                        let n = region_json(n);
                        r.insert("name".into(), n);
                    }
                    r.entry("replicacount").or_insert(Value::from(1));
                    r.entry("storageaccounttype").or_insert(Value::String("Standard_LRS".into()));
                    Value::Object(r)
                })
                .collect();
            m.insert("targetregions".into(), Value::Array(regions));
            if let Some(x) = m.get("galleryimageid") {
                let x = id_case(x);
                m.insert("galleryimageid".into(), x);
            }
            if let Some(Value::Object(v)) = m.get("versioning") {
                let mut v = v.clone();
                if let Some(Value::String(s)) = v.get("scheme") {
                    let s = s.to_ascii_lowercase();
                    v.insert("scheme".into(), Value::String(s));
                }
                m.insert("versioning".into(), Value::Object(v));
            }
            drop_defaults(&mut m, &[("excludefromlatest", Value::Bool(false))]);
        }
        "managedimage" => {
            if let Some(x) = m.get("imageid") {
                let x = id_case(x);
                m.insert("imageid".into(), x);
            }
            if let Some(l) = m.get("location") {
                let l = region_json(l);
                m.insert("location".into(), l);
            }
        }
        _ => {}
    }
    m.retain(|_, v| !is_empty(v));
    Value::Object(m)
}

fn vm_profile(v: &Value) -> Value {
    let Value::Object(m) = lower_keys(v) else { return v.clone() };
    let mut m = m;
    if let Some(ids) = m.get("userassignedidentities") {
        let ids = id_case(ids);
        m.insert("userassignedidentities".into(), ids);
    }
    if let Some(Value::Object(net)) = m.get("vnetconfig") {
        let mut net = net.clone();
        for k in ["subnetid", "containerinstancesubnetid"] {
            if let Some(x) = net.get(k) {
                let x = id_case(x);
                net.insert(k.into(), x);
            }
        }
        net.retain(|_, v| !is_empty(v));
        m.insert("vnetconfig".into(), Value::Object(net));
    }
    drop_defaults(&mut m, &[("ossizegb", Value::from(0)), ("osdisksizegb", Value::from(0))]);
    Value::Object(m)
}

/// A step or distribution the original leaves unnamed gets a name from aibc; that is no
/// difference.
fn align_names(original: &mut Map<String, Value>, compiled: &Map<String, Value>) {
    for (key, name) in [("customize", "name"), ("distribute", "runoutputname")] {
        let (Some(Value::Array(a)), Some(Value::Array(b))) = (original.get_mut(key), compiled.get(key)) else {
            continue;
        };
        for (x, y) in a.iter_mut().zip(b) {
            if let (Value::Object(x), Value::Object(y)) = (x, y)
                && !x.contains_key(name)
                && let Some(n) = y.get(name)
            {
                x.insert(name.into(), n.clone());
            }
        }
    }
    if let (Some(Value::Object(va)), Some(Value::Object(vb))) = (original.get_mut("validate"), compiled.get("validate"))
        && let (Some(Value::Array(a)), Some(Value::Array(b))) =
            (va.get_mut("invmvalidations"), vb.get("invmvalidations"))
    {
        for (x, y) in a.iter_mut().zip(b) {
            if let (Value::Object(x), Value::Object(y)) = (x, y)
                && !x.contains_key("name")
                && let Some(n) = y.get("name")
            {
                x.insert("name".into(), n.clone());
            }
        }
    }
}

fn show(v: &Value) -> String {
    match v {
        Value::Null => "(none)".into(),
        other => {
            let s = other.to_string();
            if s.chars().count() > 160 { format!("{}…", s.chars().take(160).collect::<String>()) } else { s }
        }
    }
}

fn diff(path: &str, a: &Value, b: &Value, out: &mut Vec<Diff>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                diff(&format!("{path}.{k}"), x.get(k).unwrap_or(&Value::Null), y.get(k).unwrap_or(&Value::Null), out);
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                diff(&format!("{path}[{i}]"), p, q, out);
            }
        }
        _ if a == b => {}
        _ => out.push(Diff { path: path.to_string(), original: show(a), compiled: show(b) }),
    }
}

/// The image template's `properties` in a generated `azuredeploy.json`, evaluated
/// through the nested deployment that holds it. `spec_params` are the spec's own
/// parameters, which stay references.
pub fn compiled_properties(azuredeploy: &str, spec_params: &[String]) -> Result<Val, String> {
    let mut sources = Sources::default();
    let file = sources.add("azuredeploy.json".into(), azuredeploy.to_string());
    let (root, diags) =
        crate::loader::parse(file, &sources.get(file).expect("added").text, crate::loader::Format::Json);
    let root = root.filter(|_| diags.is_empty()).ok_or("the generated azuredeploy.json does not parse")?;
    let main = Main { root: &root, spec_params };
    for d in main.deployments() {
        let Some(template) = d.get("properties").and_then(|p| p.get("template")) else { continue };
        let Some(Kind::Seq(resources)) = template.get("resources").map(|r| &r.kind) else { continue };
        for r in resources {
            if r.get("type").and_then(Node::as_str).is_some_and(|t| t.eq_ignore_ascii_case(super::arm::IMAGE_TEMPLATES))
            {
                let env = Nested { main: &main, deployment: d };
                let props = r.get("properties").ok_or("the generated image template has no properties")?;
                return Ok(eval_node(props, &env, 0));
            }
        }
    }
    Err("the generated azuredeploy.json has no image template".into())
}

/// The main template of the generated files.
struct Main<'a> {
    root: &'a Node,
    spec_params: &'a [String],
}

impl<'a> Main<'a> {
    fn deployments(&self) -> Vec<&'a Node> {
        match self.root.get("resources").map(|r| &r.kind) {
            Some(Kind::Seq(items)) => items.iter().collect(),
            _ => Vec::new(),
        }
    }
}

fn lookup<'n>(n: Option<&'n Node>, key: &str) -> Option<&'n Node> {
    match &n?.kind {
        Kind::Map(entries) => entries.iter().find(|e| e.key.eq_ignore_ascii_case(key)).map(|e| &e.value),
        _ => None,
    }
}

impl Env for Main<'_> {
    fn parameter(&self, name: &str) -> Option<Val> {
        // The spec's parameters are the original's: they stay references. aibc's own
        // (location, …) are their defaults, as a deployment without values has them.
        if self.spec_params.iter().any(|p| p == name) {
            return Some(Val::str(Text::piece(Piece::Param(name.to_string())), Span::default()));
        }
        match lookup(lookup(lookup(Some(self.root), "parameters"), name), "defaultValue") {
            Some(d) => Some(eval_node(d, self, 1)),
            None => Some(Val::str(Text::piece(Piece::Param(name.to_string())), Span::default())),
        }
    }

    fn variable(&self, name: &str, depth: usize) -> Option<Val> {
        if depth > 24 {
            return None;
        }
        lookup(lookup(Some(self.root), "variables"), name).map(|v| eval_node(v, self, depth + 1))
    }

    fn deployment_output(&self, deployment: &str, output: &str, depth: usize) -> Option<Val> {
        if depth > 24 {
            return None;
        }
        let d = self
            .deployments()
            .into_iter()
            .find(|d| d.get("name").and_then(Node::as_str).is_some_and(|n| n.eq_ignore_ascii_case(deployment)))?;
        let value = lookup(lookup(lookup(lookup(Some(d), "properties"), "template"), "outputs"), output)
            .and_then(|o| lookup(Some(o), "value"))?;
        Some(eval_node(value, &Nested { main: self, deployment: d }, depth + 1))
    }
}

/// A nested deployment's template (`expressionEvaluationOptions.scope: inner`).
struct Nested<'a, 'm> {
    main: &'m Main<'a>,
    deployment: &'a Node,
}

impl Env for Nested<'_, '_> {
    fn parameter(&self, name: &str) -> Option<Val> {
        if name == "artifactsUrl" {
            // The artifact container: compared by file name, not by URL.
            return Some(Val::str(Text::piece(Piece::Ctx("artifactsUrl".into())), Span::default()));
        }
        let props = lookup(Some(self.deployment), "properties");
        if let Some(v) = lookup(lookup(lookup(props, "parameters"), name), "value") {
            return Some(eval_node(v, self.main, 1));
        }
        match lookup(lookup(lookup(lookup(props, "template"), "parameters"), name), "defaultValue") {
            Some(d) => Some(eval_node(d, self, 1)),
            None => Some(Val::str(Text::piece(Piece::Param(name.to_string())), Span::default())),
        }
    }

    fn variable(&self, name: &str, depth: usize) -> Option<Val> {
        if depth > 24 {
            return None;
        }
        let template = lookup(lookup(Some(self.deployment), "properties"), "template");
        lookup(lookup(template, "variables"), name).map(|v| eval_node(v, self, depth + 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn legacy_regions_compare_equal_to_target_regions() {
        let a = distributor(
            &json!({"type": "SharedImage", "galleryImageId": "/subscriptions/X/g", "replicationRegions": ["West US"], "storageAccountType": "Standard_LRS", "runOutputName": "r"}),
            None,
        );
        let b = distributor(
            &json!({"type": "SharedImage", "galleryImageId": "/subscriptions/x/g", "targetRegions": [{"name": "westus", "replicaCount": 1}], "runOutputName": "r"}),
            None,
        );
        assert_eq!(a, b);
    }

    #[test]
    fn local_files_compare_by_name() {
        let a = step(&json!({"type": "Shell", "scriptUri": "scripts/setup.sh"}), Side::Original);
        let b = step(
            &json!({"type": "Shell", "scriptUri": "[artifactsUrl]/img/0123/setup.sh", "sha256Checksum": "AB"}),
            Side::Compiled,
        );
        assert_eq!(a, b);
        let t = Text::piece(Piece::Ctx("artifactsUrl".into()));
        assert!(t.canonical().starts_with(ARTIFACTS));
    }
}
