use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The build VM and the build's behaviour.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Build {
    /// Size of the build VM (`vmProfile.vmSize`). AIB's default is Standard_D1_v2 for
    /// Gen1 images and Standard_D2ds_v4 for Gen2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vm_size: Option<String>,
    /// OS disk size in GB (`vmProfile.osDiskSizeGB`); 0 keeps the source image's size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(rename = "osDiskSizeGB")]
    #[schemars(range(min = 0, max = 4095))]
    pub os_disk_size_gb: Option<u32>,
    /// Extra empty data disks attached to the build VM, in GB (`additionalDataDisks`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub data_disks: Vec<DataDisk>,
    /// Maximum build time in minutes (`buildTimeoutInMinutes`); 0 means AIB's default
    /// of 240.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 960))]
    pub timeout_minutes: Option<u32>,
    /// Build in an existing subnet (no public IP on the build VM): the subnet's
    /// resource ID, or the long form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subnet: Option<SubnetRef>,
    /// Resource ID of an existing, empty resource group AIB builds in. AIB creates a
    /// random `IT_…` group when this is absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staging_resource_group: Option<String>,
    /// What AIB does with the build VM when a customizer fails.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_customizer_error: Option<OnError>,
    /// What AIB does with the build VM when a validation fails.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_validation_error: Option<OnError>,
    /// Tags for the build resources AIB creates (`managedResourceTags`). The spec's `tags`
    /// apply too; a key given here overrides them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub managed_resource_tags: BTreeMap<String, String>,
    /// Start a build as soon as the template is created (`autoRun`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_run: Option<bool>,
    /// Resource IDs of user-assigned identities to attach to the build VM (for example
    /// to read Key Vault during customization). AIB's identity gets Managed Identity
    /// Operator on each of them, and on nothing else.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vm_identities: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DataDisk {
    /// Size in GB.
    #[serde(rename = "sizeGB")]
    #[schemars(range(min = 1, max = 32767))]
    pub size_gb: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum SubnetRef {
    /// The subnet's resource ID.
    Id(String),
    Long(Subnet),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Subnet {
    /// Resource ID of the subnet the build VM joins.
    pub id: String,
    /// Resource ID of a subnet delegated to Azure Container Instances, used for AIB's
    /// isolated build (no proxy VM).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_instance_subnet_id: Option<String>,
    /// Size of the proxy VM that passes traffic to the build VM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_vm_size: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum OnError {
    /// Delete the build VM (AIB's default).
    Cleanup,
    /// Keep the build VM for troubleshooting.
    Abort,
}

impl OnError {
    pub fn azure_name(self) -> &'static str {
        match self {
            OnError::Cleanup => "cleanup",
            OnError::Abort => "abort",
        }
    }
}

/// Tests run on the finished image.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Validate {
    /// Validation steps run in the build VM (PowerShell, Shell or File).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<crate::spec::ValidationStep>,
    /// Validate the source image itself; no build, no customization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_only: Option<bool>,
    /// Distribute even when validation fails (the run is still reported as failed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub continue_distribute_on_failure: Option<bool>,
}

/// Optimizations of the finished image.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Optimize {
    /// Optimize the image for a faster first boot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vm_boot: Option<bool>,
    /// Optimize the image for specific workloads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload: Option<bool>,
}
