//! The image spec: what a user writes. These types are the single definition of the
//! format: the JSON Schema (and so editor completion, the structural check and the
//! reference docs) is generated from them, and the planner reads them.

mod build;
mod customize;
mod distribute;
mod infra;
mod smoke;
mod source;

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use build::*;
pub use customize::*;
pub use distribute::*;
pub use infra::*;
pub use smoke::*;
pub use source::*;

/// One image: where it starts, what is done to it, and where it goes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ImageSpec {
    /// The JSON Schema this file follows (for editors); ignored by aibc.
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Name of the image. Names the image template (with a content hash appended), and by
    /// default the image definition, identity and run outputs. Letters, digits, `-`, `_`
    /// and `.`; at most 50 characters.
    pub name: String,
    /// What the image is for; copied into the gallery image definition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Operating system of the image. Decides which customizers are allowed and the
    /// image definition's `osType`.
    pub os: Os,
    /// Azure region of the image template and the resources aibc creates. Defaults to the
    /// resource group's region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Tags for every resource aibc creates, and for what the build creates: the image
    /// version, managed image or VHD (`artifactTags`) and the build's resources
    /// (`managedResourceTags`), where the distribution or `build` may override a key.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    /// Values left to deploy time. Refer to one as `${params.NAME}` in any string
    /// outside script content; they become template parameters.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub parameters: BTreeMap<String, Parameter>,
    /// The image the build starts from.
    pub source: Source,
    /// The build VM and how the build runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build: Option<Build>,
    /// The user-assigned identity AIB runs as. Created by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<Identity>,
    /// The private storage account that holds local scripts and files for the build.
    /// Created when a step uses a local file, unless `existing` is given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage: Option<Storage>,
    /// The Compute Gallery and image definition that gallery distributions publish to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gallery: Option<Gallery>,
    /// Customization steps, run in order on the build VM: AIB customizers (`type:`) and
    /// customization library entries (`use:`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub customize: Vec<CustomizeStep>,
    /// A folder of customization library entries (relative to the spec) that add to or
    /// replace the built-in ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub library: Option<String>,
    /// Tests run on the finished image before it is distributed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validate: Option<Validate>,
    /// Optimizations applied to the finished image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optimize: Option<Optimize>,
    /// Where the finished image goes: gallery, managed image, VHD. At least one.
    #[schemars(length(min = 1))]
    pub distribute: Vec<Distribution>,
    /// Rebuild automatically when the source image gets a new version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trigger: Option<Trigger>,
    /// Checks `aibc smoke-test` runs on a VM booted from the new version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test: Option<SmokeTest>,
}

/// A file of several images that share defaults (an image family).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ImageFamily {
    /// The JSON Schema this file follows (for editors); ignored by aibc.
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Keys of an image spec shared by every image. An image's own keys win; mappings
    /// merge key by key, lists are replaced whole.
    #[serde(default)]
    pub defaults: serde_json::Map<String, serde_json::Value>,
    /// The images. Each is an image spec, completed by `defaults`.
    #[schemars(length(min = 1))]
    pub images: Vec<serde_json::Map<String, serde_json::Value>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Os {
    Windows,
    Linux,
}

impl Os {
    pub fn azure_name(self) -> &'static str {
        match self {
            Os::Windows => "Windows",
            Os::Linux => "Linux",
        }
    }
}

/// A deploy-time value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Parameter {
    /// The value's type.
    #[serde(rename = "type", default)]
    pub kind: ParameterType,
    /// Used when the deployment gives no value. Without one, the value is required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<serde_json::Value>,
    /// Shown in the generated template's `@description`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The only values accepted (`@allowed`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed: Vec<serde_json::Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ParameterType {
    #[default]
    String,
    Int,
    Bool,
}

/// Rebuild triggers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Trigger {
    /// Start a build when the source gallery image publishes a new version (AIB's
    /// SourceImage trigger). The source must be a gallery image at version `latest`.
    #[serde(default)]
    pub source_image: bool,
}
