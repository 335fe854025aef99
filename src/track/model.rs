//! What AIB reports about a build, read from the image template (`lastRunStatus`), its
//! `runOutputs` and the gallery image versions it publishes (`$expand=ReplicationStatus`).
//! Field names and states are the 2025-10-01 and 2025-03-03 api-versions'.

use serde::Serialize;
use serde_json::Value;

use crate::exit;

/// `lastRunStatus.runState`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum RunState {
    Running,
    Canceling,
    Succeeded,
    PartiallySucceeded,
    Failed,
    Canceled,
    Other(String),
}

impl RunState {
    pub fn parse(s: &str) -> RunState {
        match s.to_ascii_lowercase().as_str() {
            "running" => RunState::Running,
            "canceling" => RunState::Canceling,
            "succeeded" => RunState::Succeeded,
            "partiallysucceeded" => RunState::PartiallySucceeded,
            "failed" => RunState::Failed,
            "canceled" | "cancelled" => RunState::Canceled,
            _ => RunState::Other(s.to_string()),
        }
    }

    pub fn is_terminal(&self) -> bool {
        matches!(self, RunState::Succeeded | RunState::PartiallySucceeded | RunState::Failed | RunState::Canceled)
    }

    pub fn as_str(&self) -> &str {
        match self {
            RunState::Running => "Running",
            RunState::Canceling => "Canceling",
            RunState::Succeeded => "Succeeded",
            RunState::PartiallySucceeded => "PartiallySucceeded",
            RunState::Failed => "Failed",
            RunState::Canceled => "Canceled",
            RunState::Other(s) => s,
        }
    }

    /// The documented exit code of a finished build.
    pub fn exit_code(&self) -> i32 {
        match self {
            RunState::Succeeded => exit::SUCCESS,
            RunState::PartiallySucceeded => exit::PARTIALLY_SUCCEEDED,
            RunState::Canceled => exit::CANCELED,
            _ => exit::BUILD_FAILED,
        }
    }
}

/// The phases of a run, in order (`lastRunStatus.runSubState`).
pub const SUB_STATES: [&str; 6] = ["Queued", "Building", "Customizing", "Optimizing", "Validating", "Distributing"];

/// Rough share of a build done when a phase starts, for progress bars and `task.setprogress`.
pub fn progress_of(sub_state: Option<&str>) -> u8 {
    match sub_state.map(str::to_ascii_lowercase).as_deref() {
        Some("queued") => 2,
        Some("building") => 10,
        Some("customizing") => 25,
        Some("optimizing") => 70,
        Some("validating") => 75,
        Some("distributing") => 85,
        _ => 0,
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunStatus {
    pub state: RunState,
    pub sub_state: Option<String>,
    pub message: String,
    pub start_time: Option<String>,
    pub end_time: Option<String>,
}

impl RunStatus {
    /// From an image template; `None` when it was never run.
    pub fn of_template(template: &Value) -> Option<RunStatus> {
        let s = template.pointer("/properties/lastRunStatus")?;
        let text = |k: &str| s.get(k).and_then(Value::as_str).filter(|v| !v.is_empty()).map(str::to_string);
        Some(RunStatus {
            state: RunState::parse(&text("runState")?),
            sub_state: text("runSubState"),
            message: text("message").unwrap_or_default(),
            start_time: text("startTime"),
            end_time: text("endTime"),
        })
    }

    /// What a reader cares about changing: state, phase, message.
    pub fn same_phase(&self, other: &RunStatus) -> bool {
        self.state == other.state && self.sub_state == other.sub_state
    }
}

/// One entry of `…/runOutputs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RunOutput {
    pub name: String,
    pub artifact_id: Option<String>,
    pub artifact_uri: Option<String>,
    pub provisioning_state: Option<String>,
}

impl RunOutput {
    pub fn parse(v: &Value) -> Option<RunOutput> {
        let text = |p: &str| v.pointer(p).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string);
        Some(RunOutput {
            name: text("/name")?,
            artifact_id: text("/properties/artifactId"),
            artifact_uri: text("/properties/artifactUri"),
            provisioning_state: text("/properties/provisioningState"),
        })
    }

    /// A gallery image version (`…/galleries/g/images/i/versions/v`).
    pub fn gallery_version_id(&self) -> Option<&str> {
        self.artifact_id
            .as_deref()
            .filter(|id| id.to_ascii_lowercase().contains("/providers/microsoft.compute/galleries/"))
    }

    pub fn failed(&self) -> bool {
        self.provisioning_state.as_deref().is_some_and(|s| s.eq_ignore_ascii_case("Failed"))
    }
}

/// One region of a gallery image version's `replicationStatus.summary`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RegionReplication {
    pub region: String,
    /// Unknown, Replicating, Completed or Failed.
    pub state: String,
    pub progress: u8,
    pub details: Option<String>,
}

impl RegionReplication {
    pub fn done(&self) -> bool {
        self.state.eq_ignore_ascii_case("Completed")
    }

    pub fn failed(&self) -> bool {
        self.state.eq_ignore_ascii_case("Failed")
    }
}

/// Replication of a gallery image version, region by region. Regions the publishing profile
/// targets but the summary does not list yet are reported as `Unknown`.
pub fn replication_of(version: &Value) -> Vec<RegionReplication> {
    let mut out: Vec<RegionReplication> = version
        .pointer("/properties/replicationStatus/summary")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|r| {
            Some(RegionReplication {
                // `region` per the 2025-03-03 spec; `regionName` is tolerated.
                region: r.get("region").or_else(|| r.get("regionName")).and_then(Value::as_str)?.to_string(),
                state: r.get("state").and_then(Value::as_str).unwrap_or("Unknown").to_string(),
                progress: r.get("progress").and_then(Value::as_u64).unwrap_or(0).min(100) as u8,
                details: r.get("details").and_then(Value::as_str).filter(|d| !d.is_empty()).map(str::to_string),
            })
        })
        .collect();
    let targets = version.pointer("/properties/publishingProfile/targetRegions").and_then(Value::as_array);
    for t in targets.into_iter().flatten() {
        let Some(name) = t.get("name").and_then(Value::as_str) else { continue };
        if !out.iter().any(|r| same_region(&r.region, name)) {
            out.push(RegionReplication {
                region: name.to_string(),
                state: "Unknown".into(),
                progress: 0,
                details: None,
            });
        }
    }
    out
}

/// `West Europe` and `westeurope` are the same region.
pub fn same_region(a: &str, b: &str) -> bool {
    let norm = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_lowercase();
    norm(a) == norm(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn run_status_from_a_template() {
        let t = json!({"properties": {"lastRunStatus": {"runState": "Running", "runSubState": "Customizing",
            "message": "", "startTime": "2026-12-03T10:00:00Z", "endTime": "0001-01-01T00:00:00Z"}}});
        let s = RunStatus::of_template(&t).unwrap();
        assert_eq!(s.state, RunState::Running);
        assert_eq!(s.sub_state.as_deref(), Some("Customizing"));
        assert!(RunStatus::of_template(&json!({"properties": {}})).is_none());
    }

    #[test]
    fn exit_codes_follow_the_documented_table() {
        assert_eq!(RunState::parse("Succeeded").exit_code(), 0);
        assert_eq!(RunState::parse("PartiallySucceeded").exit_code(), 5);
        assert_eq!(RunState::parse("Failed").exit_code(), 4);
        assert_eq!(RunState::parse("Canceled").exit_code(), 7);
        assert!(!RunState::parse("Canceling").is_terminal());
    }

    #[test]
    fn replication_lists_target_regions_not_yet_reported() {
        let v = json!({"properties": {
            "publishingProfile": {"targetRegions": [{"name": "West Europe"}, {"name": "North Europe"}]},
            "replicationStatus": {"summary": [{"region": "West Europe", "state": "Completed", "progress": 100}]}}});
        let r = replication_of(&v);
        assert_eq!(r.len(), 2);
        assert!(r[0].done());
        assert_eq!((r[1].region.as_str(), r[1].state.as_str()), ("North Europe", "Unknown"));
    }

    #[test]
    fn run_outputs() {
        let o = RunOutput::parse(&json!({"name": "web-gallery", "properties": {
            "artifactId": "/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/galleries/gal/images/web/versions/1.0.0",
            "provisioningState": "Succeeded"}}))
        .unwrap();
        assert!(o.gallery_version_id().is_some() && !o.failed());
    }
}
