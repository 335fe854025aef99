//! `aibc validate --format sarif`: the diagnostics as a SARIF 2.1.0 log, what GitHub code
//! scanning (upload-sarif) and the Azure DevOps SARIF viewer read. One run, one rule per
//! diagnostic code (with its title and the `aibc explain` text), one result per diagnostic
//! with its region. Paths are relative to the working folder (`%SRCROOT%`), as code
//! scanning needs to place them in the repository.

use serde_json::{Value, json};

use crate::diagnostic::{Code, JsonDiagnostic, Severity};
use crate::document::Document;

pub const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

pub fn log(doc: &Document) -> Value {
    let diags: Vec<JsonDiagnostic> = doc.diags.iter().map(|d| JsonDiagnostic::new(d, &doc.sources)).collect();
    // Rules in code order, only those that occur; results point at them by index.
    let mut codes: Vec<&Code> = Code::ALL.iter().filter(|c| diags.iter().any(|d| d.code == c.id())).collect();
    codes.sort_by_key(|c| c.id());
    let rules: Vec<Value> = codes
        .iter()
        .map(|c| {
            json!({
                "id": c.id(),
                "name": c.id(),
                "shortDescription": {"text": c.title()},
                "helpUri": format!("https://github.com/aibc-dev/aibc/blob/main/docs/diagnostics.md#{}", c.id().to_ascii_lowercase()),
                "defaultConfiguration": {"level": level(c.default_severity())},
            })
        })
        .collect();
    let results: Vec<Value> = diags
        .iter()
        .map(|d| {
            let mut message = d.message.to_string();
            if let Some(h) = d.hint {
                message.push_str(&format!(" (help: {h})"));
            }
            json!({
                "ruleId": d.code,
                "ruleIndex": codes.iter().position(|c| c.id() == d.code).unwrap_or(0),
                "level": level(d.severity),
                "message": {"text": message},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {"uri": uri(&d.file), "uriBaseId": "%SRCROOT%"},
                        "region": {
                            "startLine": d.line.max(1),
                            "startColumn": d.column.max(1),
                            "endLine": d.end_line.max(d.line).max(1),
                            "endColumn": d.end_column.max(1),
                        }
                    }
                }],
            })
        })
        .collect();
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "aibc",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/aibc-dev/aibc",
                "rules": rules,
            }},
            "originalUriBaseIds": {"%SRCROOT%": {"description": {"text": "The folder aibc ran in"}}},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    })
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// A relative URI reference: forward slashes, no leading `./`, spaces and `%` escaped.
fn uri(path: &str) -> String {
    let p = path.replace('\\', "/");
    let p = p.strip_prefix("./").unwrap_or(&p);
    p.replace('%', "%25").replace(' ', "%20")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_relative_references() {
        assert_eq!(uri("./img/my spec.yaml"), "img/my%20spec.yaml");
        assert_eq!(uri(r"img\web.yaml"), "img/web.yaml");
    }

    #[test]
    fn a_bad_spec_gives_one_result_per_diagnostic_with_its_rule() {
        let dir = std::env::temp_dir().join(format!("aibc-sarif-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let spec = dir.join("bad.yaml");
        std::fs::write(
            &spec,
            "name: web\nos: linux\nlocation: westeurope\nsource:\n  platform: a:b:c:latest\nbuild:\n  vmSzie: x\n",
        )
        .unwrap();
        let doc = crate::compiler::check_file_with(&spec, &crate::compiler::Options::default()).unwrap();
        let log = log(&doc);
        let run = &log["runs"][0];
        let results = run["results"].as_array().unwrap();
        assert_eq!(results.len(), doc.diags.len());
        assert!(!results.is_empty());
        for r in results {
            let rule = &run["tool"]["driver"]["rules"][r["ruleIndex"].as_u64().unwrap() as usize];
            assert_eq!(rule["id"], r["ruleId"]);
        }
        let unknown = results.iter().find(|r| r["message"]["text"].as_str().unwrap().contains("vmSzie")).unwrap();
        assert_eq!(unknown["locations"][0]["physicalLocation"]["region"]["startLine"], 7);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
