//! The manifest of a library entry (`customizations/<name>/manifest.yaml`).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::spec::{Os, Step};

/// A library entry: parameterised customization steps a spec uses by name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Manifest {
    /// The entry's name, as specs write it in `use:`. Same as its folder's name.
    pub name: String,
    /// Version of the entry (Major.Minor.Patch); shown in generated templates.
    pub version: String,
    /// What the entry does, in a sentence or two.
    pub description: String,
    /// The operating system the entry is for.
    pub os: Os,
    /// Whether Windows must restart after the entry (a WindowsRestart step is added).
    #[serde(default)]
    pub restart: bool,
    /// Parameters a spec sets under `with:`.
    #[serde(default)]
    pub parameters: BTreeMap<String, ManifestParam>,
    /// Parameter values for the documentation's example and the expansion tests.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub example: BTreeMap<String, serde_json::Value>,
    /// The AIB customizers the entry expands to. `script:` names a file of the entry,
    /// rendered with the parameters and inlined; other strings may use `{{param}}`.
    /// Templates also see `{{aibc.vmIdentity}}`: the resource ID of the first build VM
    /// identity (empty without one).
    #[schemars(length(min = 1))]
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ManifestParam {
    /// The value's type.
    #[serde(rename = "type")]
    pub kind: ParamKind,
    /// What the parameter means; shown by `aibc customizations show` and in the docs.
    pub description: String,
    /// Used when the spec gives no value. A parameter without a default is required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<serde_json::Value>,
    /// The only values accepted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed: Vec<serde_json::Value>,
    /// The value is a Key Vault secret URI; the build VM reads the secret at build time
    /// through its identity. The secret itself never appears in templates or logs.
    #[serde(default)]
    pub secret: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ParamKind {
    String,
    Int,
    Bool,
    /// A list of strings.
    List,
    /// A local file (relative to the spec), uploaded to the artifact storage and pinned
    /// by SHA-256.
    File,
}

impl ParamKind {
    pub fn name(self) -> &'static str {
        match self {
            ParamKind::String => "string",
            ParamKind::Int => "int",
            ParamKind::Bool => "bool",
            ParamKind::List => "list of strings",
            ParamKind::File => "file",
        }
    }

    pub fn accepts(self, v: &serde_json::Value) -> bool {
        match self {
            ParamKind::String | ParamKind::File => v.is_string(),
            ParamKind::Int => v.is_i64(),
            ParamKind::Bool => v.is_boolean(),
            ParamKind::List => v.as_array().is_some_and(|a| a.iter().all(|i| i.is_string())),
        }
    }
}

/// The manifest schema (for `customizations/*/manifest.yaml` in editors, and the check).
pub fn schema() -> serde_json::Value {
    let generator = schemars::generate::SchemaSettings::draft2020_12().into_generator();
    let mut generator = generator;
    let root = generator.subschema_for::<Manifest>();
    let defs: serde_json::Map<String, serde_json::Value> = generator.take_definitions(true).into_iter().collect();
    serde_json::json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "aibc customization library entry",
        "anyOf": [root.to_value()],
        "$defs": serde_json::Value::Object(defs),
    })
}

pub fn cached_schema() -> &'static serde_json::Value {
    static SCHEMA: std::sync::OnceLock<serde_json::Value> = std::sync::OnceLock::new();
    SCHEMA.get_or_init(schema)
}
