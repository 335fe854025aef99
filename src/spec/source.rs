use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The image a build starts from: exactly one of `platform`, `gallery`, `managedImage`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub enum Source {
    /// A Marketplace (platform) image: `publisher:offer:sku[:version]`, or the long form.
    Platform(PlatformSource),
    /// A Compute Gallery image version: its resource ID (ending in `/versions/latest` to
    /// take the newest at build time), or the long form.
    Gallery(GallerySource),
    /// A managed image, by resource ID.
    ManagedImage(String),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum PlatformSource {
    /// `publisher:offer:sku[:version]`; the version defaults to `latest`.
    Short(String),
    Long(PlatformImage),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlatformImage {
    pub publisher: String,
    pub offer: String,
    pub sku: String,
    /// An exact version, or `latest` (resolved when the build starts). Default `latest`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Purchase plan, for Marketplace images that have one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<PurchasePlan>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PurchasePlan {
    pub name: String,
    pub product: String,
    pub publisher: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum GallerySource {
    /// The image version's resource ID.
    Id(String),
    Long(GalleryImageRef),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GalleryImageRef {
    /// Resource ID of the image definition.
    pub image_id: String,
    /// `latest` (resolved when the build starts) or Major.Minor.Patch. Default `latest`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}
