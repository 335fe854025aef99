//! customization.log: where AIB keeps it and what it says when a step fails.
//!
//! AIB writes the build's Packer log to the staging resource group's storage account, in the
//! `packerlogs` container under a folder per run (`{run-id}/customization.log`). aibc reads it
//! with the caller's Entra token (Storage Blob Data Reader on that account), so no public
//! access or SAS is needed.

use serde_json::Value;

use crate::azure::{Result, Session, api};

pub const CONTAINER: &str = "packerlogs";
pub const FILE: &str = "customization.log";
/// Lines of a failing step's output shown with the failure.
pub const TAIL: usize = 20;

/// The newest customization.log of a template's staging group: (blob URL, text).
pub async fn fetch(session: &Session, template: &Value) -> Result<Option<(String, String)>> {
    let Some(staging) = template.pointer("/properties/exactStagingResourceGroup").and_then(Value::as_str) else {
        return Ok(None);
    };
    let accounts =
        match session.arm.list(&format!("{staging}/providers/Microsoft.Storage/storageAccounts"), api::STORAGE).await {
            Ok(a) => a,
            Err(e) if e.is_not_found() => return Ok(None),
            Err(e) => return Err(e),
        };
    let mut newest: Option<(i64, String, String)> = None;
    for account in &accounts {
        let Some(endpoint) = account.pointer("/properties/primaryEndpoints/blob").and_then(Value::as_str) else {
            continue;
        };
        for (name, modified) in session.blobs.list(endpoint, CONTAINER, "").await? {
            if name.ends_with(FILE) && newest.as_ref().is_none_or(|(m, _, _)| modified >= *m) {
                newest = Some((modified, endpoint.to_string(), name));
            }
        }
    }
    let Some((_, endpoint, name)) = newest else { return Ok(None) };
    let Some(bytes) = session.blobs.download(&endpoint, CONTAINER, &name).await? else { return Ok(None) };
    let url = format!("{}/{CONTAINER}/{name}", endpoint.trim_end_matches('/'));
    Ok(Some((url, String::from_utf8_lossy(&bytes).into_owned())))
}

/// The failing step of a Packer log and the end of its output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepFailure {
    pub step: Option<String>,
    /// The error line Packer printed.
    pub error: Option<String>,
    pub tail: Vec<String>,
}

/// Strips the `[run-id] PACKER OUT ` / `PACKER ERR ` prefixes and Packer's `==> azure-arm:`.
fn content(line: &str) -> &str {
    let mut l = line.trim_end();
    if l.starts_with('[')
        && let Some(end) = l.find("] ")
    {
        l = &l[end + 2..];
    }
    for p in ["PACKER OUT ", "PACKER ERR "] {
        if let Some(rest) = l.strip_prefix(p) {
            l = rest;
        }
    }
    let t = l.trim_start();
    for p in ["==> azure-arm: ", "azure-arm: ", "==> azure-arm:", "azure-arm:"] {
        if let Some(rest) = t.strip_prefix(p) {
            return rest;
        }
    }
    t
}

/// A line that starts a customizer: Packer's `Provisioning with …`, AIB's telemetry marker.
fn step_start(text: &str) -> Option<String> {
    if let Some(rest) = text.strip_prefix("Provisioning with ") {
        return Some(rest.trim().to_string());
    }
    if let Some(rest) = text.strip_prefix("(telemetry) Starting provisioner ") {
        return Some(rest.trim().to_string());
    }
    if text.starts_with("Restarting Machine") || text.starts_with("Restarting machine") {
        return Some("windows-restart".into());
    }
    if text.starts_with("Uploading ") && text.contains(" => ") {
        return Some(format!("file: {}", text.trim_start_matches("Uploading ").trim()));
    }
    None
}

fn is_error(raw: &str, text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    raw.contains("PACKER ERR")
        || lower.contains("errored after")
        || lower.contains("non-zero exit status")
        || lower.starts_with("error")
        || lower.contains("provisioning step had errors")
}

/// Reads a customization.log: the last step that started before the first error, and up to
/// `TAIL` lines of that step's output. `None` when the log shows no error.
pub fn summarise(log: &str) -> Option<StepFailure> {
    let mut step: Option<String> = None;
    let mut output: Vec<String> = Vec::new();
    for raw in log.lines() {
        let text = content(raw);
        if text.is_empty() {
            continue;
        }
        if let Some(s) = step_start(text) {
            step = Some(s);
            output.clear();
            continue;
        }
        if is_error(raw, text) {
            let start = output.len().saturating_sub(TAIL);
            return Some(StepFailure { step, error: Some(text.to_string()), tail: output.split_off(start) });
        }
        output.push(text.to_string());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = "\
[a1b2] PACKER OUT ==> azure-arm: Provisioning with powershell script: C:/Windows/Temp/script-1.ps1
[a1b2] PACKER OUT     azure-arm: Installing IIS
[a1b2] PACKER OUT ==> azure-arm: Provisioning with powershell script: C:/Windows/Temp/script-2.ps1
[a1b2] PACKER OUT     azure-arm: Downloading language pack fr-FR
[a1b2] PACKER OUT     azure-arm: Add-WindowsPackage : The source files could not be found.
[a1b2] PACKER ERR ==> azure-arm: Script exited with non-zero exit status: 1. Allowed exit codes are: [0]
[a1b2] PACKER ERR Build 'azure-arm' errored after 12 minutes 3 seconds: Script exited with non-zero exit status: 1.
";

    #[test]
    fn finds_the_failing_step_and_its_output() {
        let f = summarise(LOG).unwrap();
        assert_eq!(f.step.as_deref(), Some("powershell script: C:/Windows/Temp/script-2.ps1"));
        assert_eq!(
            f.tail,
            ["Downloading language pack fr-FR", "Add-WindowsPackage : The source files could not be found."]
        );
        assert!(f.error.unwrap().starts_with("Script exited with non-zero exit status: 1"));
    }

    #[test]
    fn a_clean_log_has_no_failure() {
        assert!(
            summarise("[x] PACKER OUT ==> azure-arm: Provisioning with shell script: /tmp/a.sh\n[x] PACKER OUT ok\n")
                .is_none()
        );
        assert!(summarise("").is_none());
    }

    #[test]
    fn the_tail_is_bounded() {
        let mut log = String::from("PACKER OUT ==> azure-arm: Provisioning with shell script: /tmp/a.sh\n");
        for i in 0..100 {
            log.push_str(&format!("PACKER OUT     azure-arm: line {i}\n"));
        }
        log.push_str("PACKER ERR ==> azure-arm: Script exited with non-zero exit status: 2\n");
        let f = summarise(&log).unwrap();
        assert_eq!(f.tail.len(), TAIL);
        assert_eq!(f.tail.last().unwrap(), "line 99");
    }
}
