//! The JSON Schema of the spec format, generated from the `spec` types.
//!
//! One schema serves three readers: editors (through `# yaml-language-server: $schema=`),
//! the structural check in `validate.rs`, and the generated reference in `docs/`.

use schemars::generate::SchemaSettings;
use serde_json::{Value, json};

use crate::spec::{ImageFamily, ImageSpec};

/// Where the committed schema lives in the repository.
pub const SCHEMA_PATH: &str = "schema/aibc.schema.json";
pub const SCHEMA_ID: &str = "https://aibc.dev/schema/aibc.schema.json";

/// The schema without the editor additions (`schema_editor`), which the structural check
/// does not read: a third of the size, so a compile parses a third as much.
pub const STRUCTURE_PATH: &str = "schema/aibc.structure.schema.json";

/// The schema every spec load checks against: the committed structural file, embedded.
/// Reading it costs a tenth of generating it, and `tests/generated.rs` fails when it is
/// stale, so it is always what `structure()` would produce.
pub fn cached() -> &'static Value {
    static SCHEMA: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    SCHEMA.get_or_init(|| serde_json::from_str(COMMITTED).expect("the committed schema is JSON"))
}

const COMMITTED: &str = include_str!("../schema/aibc.structure.schema.json");

/// The published schema (`aibc schema`, schema/aibc.schema.json): the structure plus what
/// editors complete and show (library entries and their parameters, regions, versions).
pub fn schema() -> Value {
    let mut root = structure();
    crate::schema_editor::enrich(&mut root);
    root
}

/// The schema as a JSON value: a root that is either one image or a family.
pub fn structure() -> Value {
    let mut generator = SchemaSettings::draft2020_12().into_generator();
    let image = generator.subschema_for::<ImageSpec>();
    let family = generator.subschema_for::<ImageFamily>();
    let defs: serde_json::Map<String, Value> = generator.take_definitions(true).into_iter().collect();
    let mut root = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "aibc image spec",
        "description": "One Azure Image Builder image (or a family of images sharing defaults), compiled by aibc to Bicep or ARM JSON.",
        "anyOf": [image.to_value(), family.to_value()],
        "$defs": Value::Object(defs),
    });
    unwrap_descriptions(&mut root);
    root
}

/// Doc comments are wrapped at 100 columns; editors show descriptions as flowing text,
/// so single line breaks become spaces (blank lines stay paragraph breaks).
fn unwrap_descriptions(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for (k, child) in map.iter_mut() {
                match child {
                    Value::String(s) if k == "description" => {
                        *s = s
                            .split("\n\n")
                            .map(|p| p.split('\n').map(str::trim).collect::<Vec<_>>().join(" "))
                            .collect::<Vec<_>>()
                            .join("\n\n");
                    }
                    other => unwrap_descriptions(other),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(unwrap_descriptions),
        _ => {}
    }
}

/// The schema as committed: pretty JSON with a trailing newline.
pub fn schema_text() -> String {
    pretty(&schema())
}

/// The structural schema as committed.
pub fn structure_text() -> String {
    pretty(&structure())
}

fn pretty(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).expect("a schema serializes");
    s.push('\n');
    s
}
