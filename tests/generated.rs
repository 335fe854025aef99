//! Generated files in the repository (schema, reference docs) must match what the code
//! generates. `AIBC_BLESS=1 cargo test --test generated` rewrites them.

use std::path::Path;

fn check(path: &str, expected: &str) {
    let full = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    if std::env::var_os("AIBC_BLESS").is_some() {
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(&full, expected).unwrap();
        return;
    }
    let actual = std::fs::read_to_string(&full).unwrap_or_default();
    if actual != expected {
        pretty_assertions::assert_eq!(
            actual,
            expected,
            "{path} is stale: run `AIBC_BLESS=1 cargo test --test generated` and commit it"
        );
    }
}

#[test]
fn schema_is_current() {
    check(aibc::schema::SCHEMA_PATH, &aibc::schema::schema_text());
    check(aibc::schema::STRUCTURE_PATH, &aibc::schema::structure_text());
}

#[test]
fn events_schema_is_current() {
    let text = serde_json::to_string_pretty(&aibc::track::report::events_schema()).unwrap() + "\n";
    check(aibc::track::report::EVENTS_SCHEMA_PATH, &text);
}

#[test]
fn spec_reference_is_current() {
    check("docs/spec-reference.md", &aibc::docs::spec_reference());
}

#[test]
fn diagnostics_reference_is_current() {
    check("docs/diagnostics.md", &aibc::docs::diagnostics());
}

#[test]
fn exit_codes_reference_is_current() {
    check("docs/exit-codes.md", &aibc::docs::exit_codes());
}

#[test]
fn customizations_reference_is_current() {
    check("docs/customizations.md", &aibc::docs::customizations());
}
