//! What the spec's JSON Schema adds for editors (yaml-language-server, VS Code) beyond the
//! types: completion of built-in library entries with each entry's `with:` parameters, Azure
//! region names, the version forms, defaults and hover text in Markdown.
//!
//! `validate.rs` checks specs against the same schema but reads only the structural
//! keywords (ADR 3); everything added here sits where it does not read — `allOf`, `if`/`then`,
//! `pattern`, `examples`, `markdownDescription` — so a team's own library entries (`--library`)
//! and the checks' own wording stay what `aibc validate` decides. An editor may underline a
//! replaced entry's new parameters; `aibc validate` is the authority.

use serde_json::{Map, Value, json};

use crate::library::Library;
use crate::library::manifest::ParamKind;

/// A deploy-time value (`${params.NAME}`) stands for any type.
const PARAM_REFERENCE: &str = r"^\$\{params\.[A-Za-z_][A-Za-z0-9_]*\}$";

/// Explicit versions (Major.Minor.Patch, each an int32) and the scheme names.
const VERSION_PATTERN: &str =
    r"^(\d{1,10}\.\d{1,10}\.\d{1,10}|date|next|semver|latest|source|\$\{params\.[A-Za-z_][A-Za-z0-9_]*\})$";

pub fn enrich(root: &mut Value) {
    let Some(defs) = root.get_mut("$defs").and_then(Value::as_object_mut) else { return };
    if let Some(step) = defs.get_mut("LibraryStep") {
        library_step(step, Library::builtin());
    }
    let regions: Vec<Value> = crate::regions::REGIONS.iter().map(|r| json!(r)).collect();
    if let Some(name) = defs.get_mut("Region").and_then(|r| r.pointer_mut("/properties/name")) {
        name["examples"] = json!(regions);
    }
    if let Some(Value::Array(branches)) = defs.get_mut("TargetRegion").and_then(|t| t.get_mut("anyOf")) {
        for b in branches.iter_mut().filter(|b| b.get("type") == Some(&json!("string"))) {
            b["examples"] = json!(regions);
        }
    }
    if let Some(location) = defs.get_mut("ImageSpec").and_then(|s| s.pointer_mut("/properties/location")) {
        location["examples"] = json!(regions);
    }
    if let Some(Value::Array(branches)) = defs.get_mut("Version").and_then(|v| v.get_mut("anyOf")) {
        for b in branches.iter_mut().filter(|b| b.get("type") == Some(&json!("string"))) {
            b["pattern"] = json!(VERSION_PATTERN);
            b["examples"] = json!(["1.0.0", "date", "next", "semver", "latest", "source"]);
        }
    }
    defaults(root);
    markdown(root);
}

/// `default` from the doc comment's "Default `X`." / "Default X." where X is a literal, so
/// editors show and complete it ("Default: the image name." stays prose).
fn defaults(v: &mut Value) {
    match v {
        Value::Object(map) => {
            if !map.contains_key("default")
                && let Some(Value::String(d)) = map.get("description")
                && let Some(value) = literal_default(d)
            {
                map.insert("default".into(), value);
            }
            map.iter_mut().filter(|(k, _)| *k != "default").for_each(|(_, child)| defaults(child));
        }
        Value::Array(items) => items.iter_mut().for_each(defaults),
        _ => {}
    }
}

fn literal_default(description: &str) -> Option<Value> {
    let rest = &description[description.find("Default ")? + "Default ".len()..];
    let text = match rest.strip_prefix('`') {
        Some(quoted) => {
            let end = quoted.find('`')?;
            quoted[end + 1..].starts_with('.').then_some(&quoted[..end])?
        }
        None => {
            let word = rest.split(['.', ' ', ';', ',']).next()?;
            // "Default 1.5" is not a sentence end; a bare word must end the sentence.
            rest[word.len()..].starts_with(['.', ';']).then_some(word)?
        }
    };
    if text.is_empty() || text.contains(['<', '>']) {
        return None;
    }
    Some(serde_json::from_str(text).unwrap_or_else(|_| json!(text)))
}

/// `use:` completes the built-in entries; `with:` is typed per entry (its parameters, their
/// types, defaults, allowed values and which are required).
fn library_step(step: &mut Value, library: &Library) {
    let names: Vec<Value> = library.names().map(|n| json!(n)).collect();
    let mut rules = vec![json!({
        "properties": {"use": {"anyOf": [{"enum": names}, {"type": "string"}]}}
    })];
    for entry in library.entries() {
        let m = &entry.manifest;
        let mut props = Map::new();
        let mut required = Vec::new();
        for (name, p) in &m.parameters {
            let mut s = match p.kind {
                ParamKind::String | ParamKind::File => json!({"type": "string"}),
                ParamKind::Int => {
                    json!({"anyOf": [{"type": "integer"}, {"type": "string", "pattern": PARAM_REFERENCE}]})
                }
                ParamKind::Bool => {
                    json!({"anyOf": [{"type": "boolean"}, {"type": "string", "pattern": PARAM_REFERENCE}]})
                }
                ParamKind::List => json!({"type": "array", "items": {"type": "string"}}),
            };
            s["description"] = json!(p.description);
            if let Some(d) = &p.default {
                s["default"] = d.clone();
            } else {
                required.push(json!(name));
            }
            if !p.allowed.is_empty() {
                s["enum"] = json!(p.allowed);
            }
            if let Some(example) = m.example.get(name) {
                s["examples"] = json!([example]);
            }
            props.insert(name.clone(), s);
        }
        let mut with = json!({
            "type": "object",
            "additionalProperties": false,
            "properties": props,
            "description": format!("Parameters of `{}` {} ({}).", m.name, m.version, m.os.azure_name()),
        });
        if !required.is_empty() {
            with["required"] = json!(required);
        }
        let mut then = json!({"properties": {"with": with}});
        if !required.is_empty() {
            then["required"] = json!(["with"]);
        }
        rules.push(json!({
            "if": {"properties": {"use": {"const": m.name}}, "required": ["use"]},
            "then": then,
        }));
    }
    step["allOf"] = Value::Array(rules);
    if let Some(u) = step.pointer_mut("/properties/use") {
        u["examples"] = json!(library.names().take(5).collect::<Vec<_>>());
    }
}

/// Hover text: editors render `markdownDescription` (code spans, links) where present and
/// show `description` as plain text otherwise; descriptions that use Markdown get both.
fn markdown(v: &mut Value) {
    match v {
        Value::Object(map) => {
            if let Some(Value::String(d)) = map.get("description")
                && d.contains(['`', '['])
            {
                let d = d.clone();
                map.insert("markdownDescription".into(), json!(d));
            }
            for (k, child) in map.iter_mut() {
                if k != "markdownDescription" && k != "description" {
                    markdown(child);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(markdown),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn library_steps_complete_entries_and_type_their_parameters() {
        let schema = crate::schema::schema();
        let step = &schema["$defs"]["LibraryStep"];
        let rules = step["allOf"].as_array().unwrap();
        let names = &rules[0]["properties"]["use"]["anyOf"][0]["enum"];
        assert!(names.as_array().unwrap().iter().any(|n| n == "time-zone"), "{names}");
        let tz = rules.iter().find(|r| r["if"]["properties"]["use"]["const"] == "time-zone").expect("time-zone rule");
        let with = &tz["then"]["properties"]["with"];
        assert_eq!(with["additionalProperties"], false);
        assert!(with["properties"]["timeZone"]["description"].is_string());
    }

    #[test]
    fn literal_defaults_come_from_the_doc_comments() {
        assert_eq!(literal_default("Replicas. Default 1."), Some(json!(1)));
        assert_eq!(literal_default("Scheme. Default `latest`."), Some(json!("latest")));
        assert_eq!(literal_default("Codes. Default `[0]`."), Some(json!([0])));
        assert_eq!(literal_default("Architecture. Default x64."), Some(json!("x64")));
        assert_eq!(literal_default("Name. Default `<image name>-vhd`."), None);
        assert_eq!(literal_default("Default: the image name."), None);
        assert_eq!(literal_default("No default here."), None);
    }

    #[test]
    fn regions_and_versions_complete_and_descriptions_hover_as_markdown() {
        let schema = crate::schema::schema();
        let d = &schema["$defs"];
        assert!(d["Region"]["properties"]["name"]["examples"].as_array().unwrap().contains(&json!("westeurope")));
        let version = d["Version"]["anyOf"].as_array().unwrap().iter().find(|b| b["type"] == "string").unwrap();
        let re = version["pattern"].as_str().unwrap();
        assert!(re.contains("date|next|semver|latest|source"));
        let text = crate::schema::schema_text();
        assert!(text.contains("\"markdownDescription\""));
    }
}
