//! `test:` — what `aibc smoke-test` checks on a VM booted from the new image version.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SmokeTest {
    /// Size of the test VM. Default: a small size that fits the image (Standard_B2s for
    /// Linux, Standard_B2ms for Windows; Standard_D2s_v5 for TrustedLaunch images).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vm_size: Option<String>,
    /// Region of the test VM. Default: the first region the version is replicated to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// The checks, run in order through Run Command; each reports pass or fail.
    #[schemars(length(min = 1))]
    pub checks: Vec<Check>,
}

/// One check on the test VM.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Check {
    Http(HttpCheck),
    Service(ServiceCheck),
    File(FileCheck),
    Command(CommandCheck),
}

/// An HTTP GET on the VM itself answers with the expected status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HttpCheck {
    /// URL as seen from the VM, e.g. `http://localhost/`.
    pub http: String,
    /// Expected status code. Default 200.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 100, max = 599))]
    pub status: Option<u16>,
}

/// A service (Windows service name, or systemd unit) is running.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServiceCheck {
    pub service: String,
}

/// A file or folder exists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FileCheck {
    pub file: String,
}

/// A command exits 0 (PowerShell on Windows, sh on Linux).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CommandCheck {
    pub command: String,
    /// A name for the report. Default: the command.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl Check {
    /// How the check is named in the report.
    pub fn label(&self) -> String {
        match self {
            Check::Http(h) => format!("http {} -> {}", h.http, h.status.unwrap_or(200)),
            Check::Service(s) => format!("service {}", s.service),
            Check::File(f) => format!("file {}", f.file),
            Check::Command(c) => c.name.clone().unwrap_or_else(|| format!("command {}", c.command)),
        }
    }
}
