use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The identity AIB runs as: created (default) or existing.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Identity {
    /// Name of the identity to create. Default `id-<image name>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Resource ID of an existing user-assigned identity to use instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub existing: Option<String>,
    /// `false`: the existing identity's rights are managed elsewhere. aibc then writes no role
    /// assignment and no role definition (a deploying identity without User Access
    /// Administrator can deploy), and `aibc validate` lists the rights the identity must hold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assign_roles: Option<bool>,
}

/// The private artifact storage account and container.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Storage {
    /// Name of the account to create (3-24 lowercase letters and digits). Default: `st`
    /// and a hash of the resource group and image name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// Resource ID of an existing storage account to use instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub existing: Option<String>,
    /// Blob container for the artifacts. Default `artifacts`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
}

/// The Compute Gallery and the image definition gallery distributions publish to:
/// created from `name` and `image`, or an existing definition by `imageId`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Gallery {
    /// Name of the gallery to create (or update) in the deployment's resource group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Description of the gallery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The image definition to create in the gallery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<ImageDefinition>,
    /// Resource ID of an existing image definition to publish to instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ImageDefinition {
    /// Name of the image definition. Default: the image name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Identifier: publisher.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publisher: Option<String>,
    /// Identifier: offer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offer: Option<String>,
    /// Identifier: SKU.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    /// Generalized (default; sysprep/waagent deprovision) or Specialized.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_state: Option<OsState>,
    /// Hyper-V generation. Default V2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hyper_v_generation: Option<HyperVGeneration>,
    /// CPU architecture. Default x64.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub architecture: Option<Architecture>,
    /// Security type VMs from this image get (a `SecurityType` image feature).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_type: Option<SecurityType>,
    /// Other image features, as name: value (for example `IsAcceleratedNetworkSupported: "true"`).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub features: std::collections::BTreeMap<String, String>,
    /// End-user licence agreement text or link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eula: Option<String>,
    /// Date after which the definition should not be used (ISO 8601).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_of_life: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum OsState {
    Generalized,
    Specialized,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum HyperVGeneration {
    V1,
    V2,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum Architecture {
    #[serde(rename = "x64")]
    X64,
    Arm64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum SecurityType {
    Standard,
    TrustedLaunch,
    TrustedLaunchSupported,
    ConfidentialVM,
    ConfidentialVmSupported,
    TrustedLaunchAndConfidentialVmSupported,
}

macro_rules! names {
    ($($t:ty { $($v:ident => $s:literal),* })*) => {$(
        impl $t {
            pub fn azure_name(self) -> &'static str { match self { $(Self::$v => $s),* } }
        }
    )*};
}
names! {
    OsState { Generalized => "Generalized", Specialized => "Specialized" }
    HyperVGeneration { V1 => "V1", V2 => "V2" }
    Architecture { X64 => "x64", Arm64 => "Arm64" }
    SecurityType {
        Standard => "Standard",
        TrustedLaunch => "TrustedLaunch",
        TrustedLaunchSupported => "TrustedLaunchSupported",
        ConfidentialVM => "ConfidentialVM",
        ConfidentialVmSupported => "ConfidentialVmSupported",
        TrustedLaunchAndConfidentialVmSupported => "TrustedLaunchAndConfidentialVmSupported"
    }
}
