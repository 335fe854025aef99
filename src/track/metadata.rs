//! image-version.json: what a later pipeline stage (test, release, a VM deployment) needs to
//! know about the image that was built, and where it came from.

use serde::Serialize;
use serde_json::Value;

use super::model::{RunOutput, RunStatus};

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    pub image: String,
    pub image_version: Option<String>,
    pub gallery_image_version_id: Option<String>,
    pub image_template_id: String,
    pub run_state: String,
    pub start_time: Option<String>,
    pub end_time: Option<String>,
    pub run_outputs: Vec<RunOutput>,
    /// The exact platform image version AIB resolved `latest` to, when the source is one.
    pub source_image: Option<Value>,
    /// The compiled template's content hash (the image template's name suffix).
    pub spec_hash: String,
    pub git_commit: Option<String>,
    pub pipeline_build_id: Option<String>,
    pub pipeline_run_url: Option<String>,
}

/// Where the build ran: Azure DevOps or GitHub Actions variables, else the local git checkout.
pub struct Provenance {
    pub git_commit: Option<String>,
    pub build_id: Option<String>,
    pub run_url: Option<String>,
}

impl Provenance {
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Provenance {
        let var = |n: &str| env(n).filter(|v| !v.is_empty());
        let git_commit = var("BUILD_SOURCEVERSION").or_else(|| var("GITHUB_SHA")).or_else(local_commit);
        let build_id = var("BUILD_BUILDID").or_else(|| var("GITHUB_RUN_ID"));
        let run_url = match (var("SYSTEM_COLLECTIONURI"), var("SYSTEM_TEAMPROJECT"), var("BUILD_BUILDID")) {
            (Some(c), Some(p), Some(b)) => Some(format!("{}/{p}/_build/results?buildId={b}", c.trim_end_matches('/'))),
            _ => match (var("GITHUB_SERVER_URL"), var("GITHUB_REPOSITORY"), var("GITHUB_RUN_ID")) {
                (Some(s), Some(r), Some(id)) => Some(format!("{s}/{r}/actions/runs/{id}")),
                _ => None,
            },
        };
        Provenance { git_commit, build_id, run_url }
    }
}

fn local_commit() -> Option<String> {
    let out = std::process::Command::new("git").args(["rev-parse", "HEAD"]).output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && text.len() >= 40).then_some(text)
}

pub struct Facts<'a> {
    pub image: &'a str,
    pub spec_hash: &'a str,
    pub image_version: Option<&'a str>,
    pub template: &'a Value,
    pub status: Option<&'a RunStatus>,
    pub outputs: &'a [RunOutput],
}

pub fn build(f: &Facts<'_>, provenance: Provenance) -> Metadata {
    let gallery = f.outputs.iter().find_map(RunOutput::gallery_version_id).map(str::to_string);
    let version = f
        .image_version
        .map(str::to_string)
        .or_else(|| gallery.as_deref().and_then(|id| id.rsplit('/').next()).map(str::to_string));
    let source = f
        .template
        .pointer("/properties/source")
        .filter(|s| s.get("type").and_then(Value::as_str).is_some_and(|t| t.eq_ignore_ascii_case("PlatformImage")));
    let source_image = source.map(|s| {
        let keep = ["publisher", "offer", "sku", "version", "exactVersion"];
        Value::Object(
            s.as_object()
                .into_iter()
                .flatten()
                .filter(|(k, _)| keep.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        )
    });
    Metadata {
        image: f.image.to_string(),
        image_version: version,
        gallery_image_version_id: gallery,
        image_template_id: f.template.get("id").and_then(Value::as_str).unwrap_or_default().to_string(),
        run_state: f.status.map(|s| s.state.as_str().to_string()).unwrap_or_default(),
        start_time: f.status.and_then(|s| s.start_time.clone()),
        end_time: f.status.and_then(|s| s.end_time.clone()),
        run_outputs: f.outputs.to_vec(),
        source_image,
        spec_hash: f.spec_hash.to_string(),
        git_commit: provenance.git_commit,
        pipeline_build_id: provenance.build_id,
        pipeline_run_url: provenance.run_url,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn metadata_from_a_finished_build() {
        let template = json!({"id": "/subscriptions/s/resourceGroups/g/providers/Microsoft.VirtualMachineImages/imageTemplates/web-1",
            "properties": {"source": {"type": "PlatformImage", "publisher": "MicrosoftWindowsServer", "offer": "WindowsServer",
                "sku": "2022-datacenter-azure-edition", "version": "latest", "exactVersion": "20348.2762.241009"}}});
        let outputs = [RunOutput {
            name: "web-gallery".into(),
            artifact_id: Some("/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/galleries/gal/images/web/versions/2026.1203.905".into()),
            artifact_uri: None,
            provisioning_state: Some("Succeeded".into()),
        }];
        let env = |n: &str| match n {
            "BUILD_SOURCEVERSION" => Some("0123456789abcdef0123456789abcdef01234567".to_string()),
            "BUILD_BUILDID" => Some("42".to_string()),
            "SYSTEM_COLLECTIONURI" => Some("https://dev.azure.com/contoso/".to_string()),
            "SYSTEM_TEAMPROJECT" => Some("images".to_string()),
            _ => None,
        };
        let m = build(
            &Facts {
                image: "web",
                spec_hash: "1a2b3c4d",
                image_version: None,
                template: &template,
                status: None,
                outputs: &outputs,
            },
            Provenance::from_env(&env),
        );
        assert_eq!(m.image_version.as_deref(), Some("2026.1203.905"));
        assert!(m.gallery_image_version_id.unwrap().ends_with("/versions/2026.1203.905"));
        assert_eq!(m.source_image.unwrap()["exactVersion"], "20348.2762.241009");
        assert_eq!(
            m.pipeline_run_url.as_deref(),
            Some("https://dev.azure.com/contoso/images/_build/results?buildId=42")
        );
    }
}
