use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A customization step: an AIB customizer (`type:`), or an entry of the customization
/// library (`use:`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum CustomizeStep {
    /// An AIB customizer, chosen by `type`.
    Builtin(Step),
    /// A library entry, expanded into customizers when compiling.
    Library(LibraryStep),
}

/// A step from the customization library (`aibc customizations list`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LibraryStep {
    /// The entry's name, such as `language-pack`.
    #[serde(rename = "use")]
    pub entry: String,
    /// The entry's parameters (`aibc customizations show NAME` lists them).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub with: std::collections::BTreeMap<String, serde_json::Value>,
    /// A name for the expanded steps in AIB's log. Default: the entry's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Run the entry's PowerShell steps as the local SYSTEM account (AIB's `runAsSystem`,
    /// which takes effect only elevated, so `runElevated` is set with it). Windows only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_as_system: Option<bool>,
}

/// An AIB customizer, chosen by `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", deny_unknown_fields)]
pub enum Step {
    /// Runs PowerShell (Windows only).
    PowerShell(PowerShellStep),
    /// Runs a shell script (Linux only).
    Shell(ShellStep),
    /// Copies a file onto the build VM.
    File(FileStep),
    /// Restarts Windows and waits for it to come back (Windows only).
    WindowsRestart(RestartStep),
    /// Installs Windows updates (Windows only).
    WindowsUpdate(WindowsUpdateStep),
}

/// A validation step, chosen by `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", deny_unknown_fields)]
pub enum ValidationStep {
    /// Runs PowerShell (Windows only); a non-zero exit fails validation.
    PowerShell(PowerShellStep),
    /// Runs a shell script (Linux only); a non-zero exit fails validation.
    Shell(ShellStep),
    /// Copies a file onto the build VM.
    File(FileStep),
}

/// Script lines: a list, or one multi-line string (split into lines).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Inline {
    Lines(Vec<String>),
    Text(String),
}

impl Inline {
    pub fn lines(&self) -> Vec<String> {
        match self {
            Inline::Lines(l) => l.clone(),
            Inline::Text(t) => t
                .strip_suffix('\n')
                .unwrap_or(t)
                .split('\n')
                .map(|l| l.strip_suffix('\r').unwrap_or(l).to_string())
                .collect(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PowerShellStep {
    /// A name for the step, shown in AIB's log. Default: made from the script or position.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Commands to run. Give `inline` or `script`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inline: Option<Inline>,
    /// A local `.ps1` (relative to the spec; uploaded to the artifact storage and pinned
    /// by SHA-256) or an https URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub script: Option<String>,
    /// SHA-256 of a remote `script` (local scripts are hashed by aibc).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Run elevated (as an administrator).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_elevated: Option<bool>,
    /// Run as LocalSystem; needs `runElevated: true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_as_system: Option<bool>,
    /// Exit codes that count as success. Default `[0]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub valid_exit_codes: Vec<i32>,
    /// Local files (relative to the spec) uploaded with the build's other files but not
    /// copied onto the VM: an `inline` script gets each one's blob URL and SHA-256 in the
    /// environment variables `AIBC_ARTIFACT_<FILE NAME>` and `…_SHA256` and downloads it
    /// itself with the build VM's identity (`build.vmIdentities`, which aibc gives Storage Blob
    /// Data Reader on the artifact container), faster than a `File` step for large files.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub artifacts: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ShellStep {
    /// A name for the step, shown in AIB's log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Commands to run. Give `inline` or `script`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inline: Option<Inline>,
    /// A local script (relative to the spec; uploaded and pinned by SHA-256) or an https URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub script: Option<String>,
    /// SHA-256 of a remote `script`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Local files (relative to the spec) uploaded with the build's other files but not
    /// copied onto the VM: an `inline` script gets each one's blob URL and SHA-256 in the
    /// environment variables `AIBC_ARTIFACT_<FILE NAME>` and `…_SHA256` and downloads it
    /// itself with the build VM's identity (`build.vmIdentities`, which aibc gives Storage Blob
    /// Data Reader on the artifact container), faster than a `File` step for large files.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub artifacts: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FileStep {
    /// A name for the step, shown in AIB's log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A local file (relative to the spec; uploaded and pinned by SHA-256) or an https URL.
    pub source: String,
    /// Absolute path on the build VM (`C:\…` or `/…`). The folder must exist.
    pub destination: String,
    /// SHA-256 of a remote `source`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RestartStep {
    /// A name for the step, shown in AIB's log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Command that restarts Windows. Default: `shutdown /r /f /t 0 /c "packer restart"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// Command that shows the restart finished (its output is logged).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check_command: Option<String>,
    /// How long to wait for the VM to come back: `90s`, `10m`, `1h`. Default `5m`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WindowsUpdateStep {
    /// A name for the step, shown in AIB's log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Windows Update search criteria. Default `IsInstalled=0`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search_criteria: Option<String>,
    /// PowerShell filter expressions over updates (`$_.BrowseOnly`, …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub filters: Vec<String>,
    /// Most updates installed per pass; 0 means 1000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub update_limit: Option<u32>,
}
