//! Two deploys of the same image at once (two pipeline runs, a retry while the first still
//! runs). ARM keeps one deployment of a name at a time and refuses a PUT while the previous one
//! runs (409 `DeploymentActive`). The later deploy waits for the earlier one instead: while
//! the deployment runs, and while it rests between its two phases (artifact upload, role
//! propagation), then reads again and usually finds nothing left to do.
//!
//! Where things stand is kept here too, so an interrupted or timed-out deploy can say it.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::Say;
use crate::azure::client::provisioning_state;
use crate::azure::{Result, Session, api};

/// How often a running deployment of another deploy is read.
const POLL: Duration = Duration::from_secs(2);
/// How long a first phase another deploy just finished may rest before its second phase is
/// expected, on top of the role wait (the upload of the artifacts).
const BETWEEN_PHASES: Duration = Duration::from_secs(60);

static STAGE: Mutex<Option<String>> = Mutex::new(None);

/// Records where the deploy stands (what was sent to ARM and is going on there).
pub fn set_stage(text: String) {
    *STAGE.lock().unwrap_or_else(|p| p.into_inner()) = Some(text);
}

/// Where the deploy stands, for an interruption or a timeout.
pub fn stage() -> String {
    STAGE.lock().unwrap_or_else(|p| p.into_inner()).clone().unwrap_or_else(|| "nothing was sent to ARM yet".into())
}

fn is_active(deployment: &Value) -> bool {
    let state = provisioning_state(deployment).unwrap_or("Succeeded").to_ascii_lowercase();
    !matches!(state.as_str(), "succeeded" | "failed" | "canceled" | "cancelled")
}

fn first_phase(deployment: &Value) -> bool {
    deployment.pointer("/properties/parameters/deployImageTemplate/value").and_then(Value::as_bool) == Some(false)
}

/// Reads the deployment `path`, waiting while another deploy's deployment of that name runs
/// and while it rests between phases; returns it as it is once nobody else is deploying.
/// `deploy --timeout` bounds the wait.
pub async fn for_other_deploy(
    session: &Session,
    path: &str,
    name: &str,
    role_wait: Duration,
    out: &dyn Say,
) -> Result<Option<Value>> {
    let mut waited = false;
    let mut resting_since: Option<Instant> = None;
    loop {
        let Some(d) = session.arm.get(path, api::RESOURCES).await? else { return Ok(None) };
        if is_active(&d) {
            if !waited {
                let since = d.pointer("/properties/timestamp").and_then(Value::as_str).unwrap_or("?");
                out.say(&format!(
                    "{name}: another deploy of this image is running (deployment {} since {since}); waiting for it to finish",
                    provisioning_state(&d).unwrap_or("Running")
                ));
                set_stage(format!("waiting for another deploy's deployment {name}; nothing of this deploy was sent"));
            }
            waited = true;
            resting_since = None;
        } else if waited && first_phase(&d) && provisioning_state(&d) == Some("Succeeded") {
            // The other deploy uploads its files and waits for its roles before phase 2.
            let since = *resting_since.get_or_insert_with(Instant::now);
            if since.elapsed() > role_wait + BETWEEN_PHASES {
                out.say(&format!("{name}: the other deploy did not go on to its image template; deploying"));
                return Ok(Some(d));
            }
        } else {
            return Ok(Some(d));
        }
        tokio::time::sleep(POLL).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn active_and_first_phase_deployments() {
        assert!(is_active(&json!({"properties": {"provisioningState": "Running"}})));
        assert!(is_active(&json!({"properties": {"provisioningState": "Accepted"}})));
        assert!(!is_active(&json!({"properties": {"provisioningState": "Failed"}})));
        assert!(!is_active(&json!({"properties": {"provisioningState": "Succeeded"}})));
        assert!(first_phase(&json!({"properties": {"parameters": {"deployImageTemplate": {"value": false}}}})));
        assert!(!first_phase(&json!({"properties": {"parameters": {}}})));
    }
}
