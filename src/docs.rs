//! Reference pages generated from the single sources of truth: the schema (spec keys),
//! the diagnostic catalogue and the exit-code table. A test keeps the committed copies in
//! `docs/` current.

use std::collections::VecDeque;
use std::fmt::Write as _;

use serde_json::Value;

use crate::diagnostic::{Code, Severity};

const GENERATED: &str =
    "<!-- Generated from the aibc source; do not edit. Regenerate with `AIBC_BLESS=1 cargo test --test generated`. -->";

/// `docs/spec-reference.md`: every key of the spec format, section per type.
pub fn spec_reference() -> String {
    let schema = crate::schema::schema();
    let defs = schema["$defs"].as_object().cloned().unwrap_or_default();
    let mut out = String::new();
    let _ = writeln!(out, "{GENERATED}\n\n# Spec reference\n");
    let _ = writeln!(
        out,
        "An aibc spec is one YAML or JSON file describing one image ([ImageSpec](#imagespec)), or a family of images that share defaults ([ImageFamily](#imagefamily)). \
         Add `# yaml-language-server: $schema=<path>/schema/aibc.schema.json` at the top of a YAML spec for completion and checking in VS Code.\n"
    );
    let _ = writeln!(
        out,
        "Strings outside script content may refer to deploy-time parameters as `${{params.NAME}}` (see `parameters`).\n"
    );
    let mut queue: VecDeque<String> = VecDeque::from(["ImageSpec".to_string(), "ImageFamily".to_string()]);
    let mut done: Vec<String> = Vec::new();
    while let Some(name) = queue.pop_front() {
        if done.contains(&name) {
            continue;
        }
        done.push(name.clone());
        let Some(def) = defs.get(&name) else { continue };
        let _ = writeln!(out, "## {name}\n");
        if let Some(d) = def.get("description").and_then(Value::as_str) {
            let _ = writeln!(out, "{d}\n");
        }
        section(&mut out, def, &mut queue);
    }
    out
}

fn section(out: &mut String, def: &Value, queue: &mut VecDeque<String>) {
    if let Some(props) = def.get("properties").and_then(Value::as_object) {
        let required: Vec<&str> = def
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let _ = writeln!(out, "| key | type | required | description |\n|---|---|---|---|");
        for (key, p) in props {
            if key == "$schema" {
                continue;
            }
            let req = if required.contains(&key.as_str()) { "yes" } else { "" };
            let desc =
                p.get("description").and_then(Value::as_str).unwrap_or("").replace('|', "\\|").replace('\n', " ");
            let _ = writeln!(out, "| `{key}` | {} | {req} | {desc} |", type_of(p, queue));
        }
        let _ = writeln!(out);
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(branches) = def.get(key).and_then(Value::as_array) {
            let tagged = branches
                .iter()
                .all(|b| b.get("properties").and_then(|p| p.get("type")).and_then(|t| t.get("const")).is_some());
            if tagged {
                let _ = writeln!(out, "Chosen by `type`:\n");
                for b in branches {
                    let t = b["properties"]["type"]["const"].as_str().unwrap_or_default();
                    let _ = writeln!(out, "### type: {t}\n");
                    if let Some(d) = b.get("description").and_then(Value::as_str) {
                        let _ = writeln!(out, "{d}\n");
                    }
                    section(out, b, queue);
                }
            } else {
                let _ = writeln!(out, "One of:\n");
                for b in branches {
                    let d = b.get("description").and_then(Value::as_str).map(|d| format!(": {d}")).unwrap_or_default();
                    let _ = writeln!(out, "- {}{d}", type_of(b, queue));
                }
                let _ = writeln!(out);
            }
        }
    }
    if let Some(vals) = def.get("enum").and_then(Value::as_array) {
        let vals: Vec<String> = vals
            .iter()
            .map(|v| format!("`{}`", v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())))
            .collect();
        let _ = writeln!(out, "Values: {}\n", vals.join(", "));
    }
}

fn type_of(p: &Value, queue: &mut VecDeque<String>) -> String {
    if let Some(r) = p.get("$ref").and_then(Value::as_str) {
        let name = r.trim_start_matches("#/$defs/").to_string();
        let link = format!("[{name}](#{})", name.to_lowercase());
        queue.push_back(name);
        return link;
    }
    if let Some(branches) = p.get("anyOf").or_else(|| p.get("oneOf")).and_then(Value::as_array) {
        let parts: Vec<String> = branches
            .iter()
            .filter(|b| b.get("type").and_then(Value::as_str) != Some("null"))
            .map(|b| type_of(b, queue))
            .collect();
        return parts.join(" or ");
    }
    if let Some(vals) = p.get("enum").and_then(Value::as_array) {
        return vals.iter().map(|v| format!("`{}`", v.as_str().unwrap_or_default())).collect::<Vec<_>>().join(", ");
    }
    if let Some(c) = p.get("const").and_then(Value::as_str) {
        return format!("`{c}`");
    }
    let ty = match p.get("type") {
        Some(Value::String(t)) => t.clone(),
        Some(Value::Array(ts)) => {
            ts.iter().filter_map(Value::as_str).find(|t| *t != "null").unwrap_or("null").to_string()
        }
        _ => "any".into(),
    };
    match ty.as_str() {
        "array" => format!("list of {}", p.get("items").map(|i| type_of(i, queue)).unwrap_or_else(|| "any".into())),
        "object" => match p.get("additionalProperties") {
            Some(a) if a.is_object() => format!("map of {}", type_of(a, queue)),
            _ => "mapping".into(),
        },
        "integer" => {
            let (min, max) = (p.get("minimum").and_then(Value::as_i64), p.get("maximum").and_then(Value::as_i64));
            match (min, max) {
                (Some(a), Some(b)) => format!("integer ({a}–{b})"),
                (Some(a), None) if a != 0 => format!("integer (≥ {a})"),
                _ => "integer".into(),
            }
        }
        "boolean" => "boolean".into(),
        other => other.to_string(),
    }
}

/// `docs/diagnostics.md`: the code catalogue.
pub fn diagnostics() -> String {
    let mut out = format!("{GENERATED}\n\n# Diagnostic codes\n\n");
    out.push_str("`aibc validate` (and `compile`) report every problem with one of these codes, its place (file:line:col) and a fix. Codes never change meaning. `aibc explain CODE` prints a code's line.\n\n");
    out.push_str("| code | severity | meaning |\n|---|---|---|\n");
    for c in Code::ALL {
        let sev = match c.default_severity() {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let _ = writeln!(out, "| {} | {sev} | {} |", c.id(), c.title().replace('|', "\\|"));
    }
    out.push_str("\nWarnings do not fail `validate`; errors exit with code 2.\n");
    out
}

/// `docs/exit-codes.md`.
pub fn exit_codes() -> String {
    let mut out = format!(
        "{GENERATED}\n\n# Exit codes\n\nPipelines branch on these; they never change meaning.\n\n| code | meaning |\n|---|---|\n"
    );
    for (code, meaning) in crate::exit::ALL {
        let _ = writeln!(out, "| {code} | {meaning} |");
    }
    out
}

/// One library entry, as `aibc customizations show` prints it and the docs list it.
pub fn entry(e: &crate::library::Entry) -> String {
    let m = &e.manifest;
    let mut out = format!("## {}\n\n{}\n\n", m.name, m.description);
    let _ = writeln!(out, "- OS: {}\n- Version: {}", m.os.azure_name(), m.version);
    let kinds: Vec<String> = m
        .steps
        .iter()
        .map(|s| match s {
            crate::spec::Step::PowerShell(_) => "PowerShell",
            crate::spec::Step::Shell(_) => "Shell",
            crate::spec::Step::File(_) => "File",
            crate::spec::Step::WindowsRestart(_) => "WindowsRestart",
            crate::spec::Step::WindowsUpdate(_) => "WindowsUpdate",
        })
        .map(str::to_string)
        .chain(m.restart.then(|| "WindowsRestart".to_string()))
        .collect();
    let _ = writeln!(out, "- Expands to: {}", kinds.join(", "));
    if m.restart {
        let _ = writeln!(out, "- Restarts Windows afterwards");
    }
    out.push('\n');
    if m.parameters.is_empty() {
        out.push_str("No parameters.\n\n");
    } else {
        out.push_str("| parameter | type | default | description |\n|---|---|---|---|\n");
        for (name, p) in &m.parameters {
            let default = match &p.default {
                Some(v) => format!("`{v}`"),
                None => "required".into(),
            };
            let mut desc = p.description.replace('|', "\\|");
            if !p.allowed.is_empty() {
                let allowed: Vec<String> = p
                    .allowed
                    .iter()
                    .map(|a| format!("`{}`", a.as_str().map(str::to_string).unwrap_or_else(|| a.to_string())))
                    .collect();
                desc.push_str(&format!(" One of {}.", allowed.join(", ")));
            }
            if p.secret {
                desc.push_str(" Secret: a Key Vault secret URI, read by the build VM's identity at build time.");
            }
            let _ = writeln!(out, "| `{name}` | {} | {default} | {desc} |", p.kind.name());
        }
        out.push('\n');
    }
    let _ = writeln!(out, "```yaml\n- use: {}{}\n```\n", m.name, example_with(m));
    out
}

fn example_with(m: &crate::library::Manifest) -> String {
    if !m.example.is_empty() {
        let items: Vec<String> = m.example.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        return format!("\n  with: {{ {} }}", items.join(", "));
    }
    let required: Vec<String> = m
        .parameters
        .iter()
        .filter(|(_, p)| p.default.is_none())
        .map(|(k, p)| {
            let v = match p.kind {
                crate::library::ParamKind::List => "[…]".to_string(),
                crate::library::ParamKind::Bool => "true".to_string(),
                crate::library::ParamKind::Int => "0".to_string(),
                _ => "…".to_string(),
            };
            format!("{k}: {v}")
        })
        .collect();
    if required.is_empty() { String::new() } else { format!("\n  with: {{ {} }}", required.join(", ")) }
}

/// `docs/customizations.md`: every built-in entry.
pub fn customizations() -> String {
    let mut out = format!("{GENERATED}\n\n# Customization library\n\n");
    out.push_str("Entries are used in a spec's `customize:` list as `- use: NAME` with parameters under `with:`. They expand, when compiling, into ordinary AIB customizers; the generated Bicep shows the expanded steps under a `// library:` comment naming the entry and its version. Every script is idempotent: running it twice changes nothing the second time. A team adds or replaces entries with a folder of its own (`--library DIR` or `library:` in the spec), laid out like `customizations/` in this repository.\n\n");
    let lib = crate::library::Library::builtin();
    out.push_str("| entry | OS | description |\n|---|---|---|\n");
    for e in lib.entries() {
        let _ = writeln!(
            out,
            "| [{0}](#{0}) | {1} | {2} |",
            e.manifest.name,
            e.manifest.os.azure_name(),
            e.manifest.description.replace('|', "\\|")
        );
    }
    out.push('\n');
    for e in lib.entries() {
        out.push_str(&entry(e));
    }
    out
}
