use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Where the finished image goes: exactly one of `gallery`, `managedImage`, `vhd`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub enum Distribution {
    /// Publish a version of the gallery image definition.
    Gallery(GalleryDistribution),
    /// Create a managed image.
    ManagedImage(ManagedImageDistribution),
    /// Leave a VHD in a storage account.
    Vhd(VhdDistribution),
}

impl Distribution {
    pub fn run_output_name(&self) -> Option<&str> {
        match self {
            Distribution::Gallery(g) => g.run_output_name.as_deref(),
            Distribution::ManagedImage(m) => m.run_output_name.as_deref(),
            Distribution::Vhd(v) => v.run_output_name.as_deref(),
        }
    }
    /// `enabled:` of the distribution.
    pub fn enabled(&self) -> Option<&Switch> {
        match self {
            Distribution::Gallery(g) => g.enabled.as_ref(),
            Distribution::ManagedImage(m) => m.enabled.as_ref(),
            Distribution::Vhd(v) => v.enabled.as_ref(),
        }
    }
    /// The key that names this distribution in the spec (`gallery`, …).
    pub fn key(&self) -> &'static str {
        match self {
            Distribution::Gallery(_) => "gallery",
            Distribution::ManagedImage(_) => "managedImage",
            Distribution::Vhd(_) => "vhd",
        }
    }
}

/// A yes/no decided when compiling (`true`, `false`) or at deploy time (`${params.NAME}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Switch {
    Fixed(bool),
    Param(String),
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GalleryDistribution {
    /// Regions to replicate to: names, or `{name, replicas, storageAccountType}`.
    /// Default: the image's location.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub regions: Vec<TargetRegion>,
    /// Replicas per region, where a region does not say. Default 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 100))]
    pub replicas: Option<u32>,
    /// Storage for the replicas, where a region does not say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_account_type: Option<StorageAccountType>,
    /// Keep this version from being `latest`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude_from_latest: Option<bool>,
    /// `Shallow` replication is faster but only for test images.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replication_mode: Option<ReplicationMode>,
    /// The version to publish: `1.2.3`; `date` (YYYY.MMDD.HHmm at deploy time); `next`
    /// (next free patch); `semver` (bump the newest); `latest` or `source` (AIB's own
    /// schemes). Default: AIB picks the next version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<Version>,
    /// Resource ID of an existing image definition to publish to, instead of the spec's
    /// `gallery`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_id: Option<String>,
    /// Whether this distribution runs: `true` (the default), `false`, or `${params.NAME}` of
    /// a bool parameter, so a pipeline switches it per deploy (`--param NAME=false`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<Switch>,
    /// Name of this distribution's run output. Default `<image name>-gallery`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_output_name: Option<String>,
    /// Tags for the image version. The spec's `tags` apply too; a key given here overrides them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub artifact_tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum TargetRegion {
    Name(String),
    Long(Region),
}

impl TargetRegion {
    pub fn name(&self) -> &str {
        match self {
            TargetRegion::Name(n) => n,
            TargetRegion::Long(r) => &r.name,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Region {
    /// Region name, e.g. `westeurope`.
    pub name: String,
    /// Replicas in this region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 100))]
    pub replicas: Option<u32>,
    /// Storage for the replicas in this region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_account_type: Option<StorageAccountType>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum StorageAccountType {
    #[serde(rename = "Standard_LRS")]
    StandardLrs,
    #[serde(rename = "Standard_ZRS")]
    StandardZrs,
    #[serde(rename = "Premium_LRS")]
    PremiumLrs,
}

impl StorageAccountType {
    pub fn azure_name(self) -> &'static str {
        match self {
            StorageAccountType::StandardLrs => "Standard_LRS",
            StorageAccountType::StandardZrs => "Standard_ZRS",
            StorageAccountType::PremiumLrs => "Premium_LRS",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum ReplicationMode {
    Full,
    Shallow,
}

/// An explicit version or a scheme name; or the long form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Version {
    /// `1.2.3`, or one of `date`, `next`, `semver`, `latest`, `source`.
    Text(String),
    Scheme(VersionScheme),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VersionScheme {
    pub scheme: SchemeName,
    /// With `latest`: the major version to take the newest of (-1: any).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = -1))]
    pub major: Option<i32>,
    /// With `semver`: which part to bump. Default `patch`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bump: Option<Bump>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SchemeName {
    Date,
    Next,
    Semver,
    Latest,
    Source,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Bump {
    Major,
    Minor,
    Patch,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ManagedImageDistribution {
    /// Name of the managed image.
    pub name: String,
    /// Resource group of the managed image. Default: the deployment's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_group: Option<String>,
    /// Region of the managed image. Default: the image's location.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Whether this distribution runs: `true` (the default), `false`, or `${params.NAME}` of
    /// a bool parameter, so a pipeline switches it per deploy (`--param NAME=false`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<Switch>,
    /// Name of this distribution's run output. Default `<image name>-managed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_output_name: Option<String>,
    /// Tags for the managed image. The spec's `tags` apply too; a key given here overrides them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub artifact_tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VhdDistribution {
    /// Blob URI for the VHD. Default: a blob in AIB's staging storage account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    /// Resource ID of the storage account `uri` points into. aibc then grants AIB's identity
    /// Storage Blob Data Contributor on the uri's container, and nothing else there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_account: Option<String>,
    /// Whether this distribution runs: `true` (the default), `false`, or `${params.NAME}` of
    /// a bool parameter, so a pipeline switches it per deploy (`--param NAME=false`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<Switch>,
    /// Name of this distribution's run output. Default `<image name>-vhd`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_output_name: Option<String>,
    /// Tags for the VHD. The spec's `tags` apply too; a key given here overrides them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub artifact_tags: BTreeMap<String, String>,
}
