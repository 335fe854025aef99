//! `aibc deploy`: a spec becomes live resources, in the order AIB needs (DESIGN.md, "Deploy
//! order"): resource group → phase 1 (identity, roles, storage, gallery) → upload local files →
//! wait for the new role assignments to propagate → phase 2 (the image template, which AIB
//! validates and whose files it fetches when it is created).
//!
//! Both phases are one ARM deployment with a stable name, `aibc-{image}`, whose tags record a
//! hash of what was deployed: deploying an unchanged spec again only reads (no PUT, no upload).

pub mod failure;
pub mod lifecycle;
pub mod wait;

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::azure::{Error, Result, Session, api};
use crate::compiler::Compiled;
use crate::plan::Artifact;
use crate::spec::ImageSpec;

/// Tag on the ARM deployment: hash of template and parameters, for the no-op redeploy.
pub const INPUT_HASH_TAG: &str = "aibc.inputHash";
/// The same without the image version, to recognise a template that only waits for its build.
pub const CONTENT_HASH_TAG: &str = "aibc.contentHash";
/// On a first-phase deployment: the template the image had before.
pub const PREVIOUS_TEMPLATE_TAG: &str = "aibc.previousTemplate";

#[derive(Debug, Clone, Default)]
pub struct Options {
    pub resource_group: String,
    /// Region for a resource group that must be created (default: the spec's `location`).
    pub location: Option<String>,
    /// `--image-version`: overrides the spec's scheme.
    pub image_version: Option<String>,
    /// Deploy-time parameters (`--param NAME=VALUE`, `AIBC_PARAM_*`).
    pub params: BTreeMap<String, String>,
    pub what_if: bool,
    /// Delete older templates of this image before creating the new one.
    pub replace: bool,
    /// Deploy even when the recorded hash says nothing changed.
    pub force: bool,
    /// How long new role assignments get to propagate before the template is created.
    pub role_wait: Duration,
    /// `deploy --no-wait`: submit the image template's deployment and return.
    pub no_wait: bool,
}

/// What a deploy did; `run` starts from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployed {
    pub deployment: String,
    pub template_name: String,
    pub template_id: String,
    pub image_version: Option<String>,
    /// False when the deployment was already in place.
    pub changed: bool,
    pub uploaded: usize,
}

/// One compiled image ready to deploy.
pub struct Image<'a> {
    pub spec: &'a ImageSpec,
    pub compiled: &'a Compiled,
    /// azuredeploy.json.
    pub template: Value,
}

impl<'a> Image<'a> {
    pub fn new(spec: &'a ImageSpec, compiled: &'a Compiled) -> Result<Image<'a>> {
        let file = compiled
            .files
            .iter()
            .find(|f| f.path == "azuredeploy.json")
            .ok_or_else(|| Error::Local("compiled output has no azuredeploy.json".into()))?;
        let template = serde_json::from_str(&file.text).map_err(|e| Error::Local(format!("azuredeploy.json: {e}")))?;
        Ok(Image { spec, compiled, template })
    }

    pub fn deployment_name(&self) -> String {
        deployment_name(&self.spec.name)
    }

    fn declares(&self, param: &str) -> bool {
        self.template.pointer(&format!("/parameters/{param}")).is_some()
    }
}

pub fn deployment_name(image: &str) -> String {
    // ARM deployment names are at most 64 characters.
    let name = format!("aibc-{image}");
    name.chars().take(64).collect()
}

/// The `AIBC_PARAM_*` variable of a parameter: `imageVersion` → `AIBC_PARAM_IMAGE_VERSION`,
/// as main.bicepparam reads it.
pub fn param_env_name(param: &str) -> String {
    format!("AIBC_PARAM_{}", crate::emit::bicep::upper_snake(param))
}

/// Progress lines; the command decides where they go.
pub trait Say {
    fn say(&self, line: &str);
}

impl<F: Fn(&str)> Say for F {
    fn say(&self, line: &str) {
        self(line)
    }
}

/// `version` computes the image version from the spec's scheme; it is only called when no
/// version was given and none can be reused. Another deploy of the same image that is
/// running is waited for (wait.rs), also when it started between our read and our PUT.
pub async fn deploy<'v>(
    session: &Session,
    image: &Image<'_>,
    options: &Options,
    version: &'v dyn Fn() -> VersionFuture<'v>,
    out: &dyn Say,
) -> Result<Deployed> {
    let mut attempt = 0;
    loop {
        match deploy_once(session, image, options, version, out).await {
            Err(e) if e.code() == Some("DeploymentActive") && attempt < 3 => {
                attempt += 1;
                out.say(&format!(
                    "{}: another deploy of this image started meanwhile (DeploymentActive)",
                    image.deployment_name()
                ));
            }
            other => return other,
        }
    }
}

async fn deploy_once<'v>(
    session: &Session,
    image: &Image<'_>,
    options: &Options,
    version: &'v dyn Fn() -> VersionFuture<'v>,
    out: &dyn Say,
) -> Result<Deployed> {
    let rg = &options.resource_group;
    let name = image.deployment_name();
    let deployment_path = format!("{}/providers/Microsoft.Resources/deployments/{name}", session.rg_path(rg));

    ensure_resource_group(session, image, options, out).await?;
    let previous = wait::for_other_deploy(session, &deployment_path, &name, options.role_wait, out).await?;

    let base_params = parameters(image, options)?;
    let content_hash = input_hash(&image.template, &base_params);

    // The image version: given, explicit in the spec, reused from a template that was deployed
    // but never built, or computed from the spec's scheme now.
    let image_version = if !image.declares("imageVersion") {
        None
    } else if let Some(v) = &options.image_version {
        Some(v.clone())
    } else if let Some(v) = reusable_version(session, previous.as_ref(), &content_hash).await? {
        out.say(&format!("image version {v}: the template deployed with it has not been built yet"));
        Some(v)
    } else {
        let v = version().await?;
        if let Some(v) = &v {
            out.say(&format!("image version {v}: from the spec's version scheme"));
        }
        v
    };

    let mut phase2 = base_params.clone();
    phase2.insert("deployImageTemplate".into(), json!({"value": true}));
    if let Some(v) = &image_version {
        phase2.insert("imageVersion".into(), json!({ "value": v }));
    }
    let full_hash = input_hash(&image.template, &phase2);

    if options.what_if {
        what_if(session, &deployment_path, image, &phase2, out).await?;
        return Ok(Deployed {
            deployment: name,
            template_name: String::new(),
            template_id: String::new(),
            image_version,
            changed: false,
            uploaded: 0,
        });
    }

    let unchanged = !options.force
        && previous.as_ref().is_some_and(|d| {
            crate::azure::client::provisioning_state(d) == Some("Succeeded")
                && d.pointer(&format!("/tags/{}", INPUT_HASH_TAG.replace('/', "~1"))).and_then(Value::as_str)
                    == Some(full_hash.as_str())
        });

    if unchanged {
        let current = previous.expect("checked above");
        // The files are still checked: someone may have emptied the container.
        let uploaded = upload_artifacts(session, image, &outputs_of(&current), out).await?;
        let (template_name, template_id) = template_of(&current)?;
        out.say(&format!("{name}: unchanged; image template {template_name}"));
        return Ok(Deployed { deployment: name, template_name, template_id, image_version, changed: false, uploaded });
    }

    // --replace is refused before anything is written while a build runs on an old template,
    // so a refused deploy leaves that build as it was (and `status`/`cancel` still find it).
    if options.replace {
        for t in templates_of(session, rg, &image.spec.name).await? {
            if is_running(&t) {
                let n = t.get("name").and_then(Value::as_str).unwrap_or_default();
                return Err(Error::Local(format!(
                    "a build is running on {n}: wait for it (`aibc status`) or cancel it (`aibc cancel`) before --replace"
                )));
            }
        }
    }
    let previous_template = previous.as_ref().and_then(|d| template_of(d).ok()).map(|(_, id)| id);

    // Phase 1: everything but the template.
    let mut phase1 = phase2.clone();
    phase1.insert("deployImageTemplate".into(), json!({"value": false}));
    let phase1_hash = input_hash(&image.template, &phase1);
    out.say(&format!("{name}: deploying identity, roles, storage and gallery"));
    wait::set_stage(format!("deployment {name} (identity, roles, storage, gallery) was sent to ARM and goes on there"));
    let first = put_deployment(
        session,
        &deployment_path,
        image,
        &phase1,
        &phase1_hash,
        &content_hash,
        previous_template.as_deref(),
    )
    .await?;
    wait::set_stage(format!("deployment {name} (identity, roles, storage, gallery) is done; uploading local files"));
    let uploaded = upload_artifacts(session, image, &outputs_of(&first), out).await?;

    let new_roles = created_role_assignments(session, &deployment_path).await.unwrap_or(0);
    if new_roles > 0 && !options.role_wait.is_zero() {
        out.say(&format!(
            "{new_roles} new role assignment(s): waiting {} s for them to propagate before AIB uses them",
            options.role_wait.as_secs()
        ));
        tokio::time::sleep(options.role_wait).await;
    }

    if options.replace {
        replace_older(session, image, options, out).await?;
    } else if let Some(reason) = lifecycle::one_at_a_time(image.spec) {
        // The superseded templates go before the new one is created (ADR 13).
        let planned = outputs_of(&first).get("plannedImageTemplateName").and_then(Value::as_str).map(str::to_string);
        let planned =
            planned.ok_or_else(|| Error::Protocol("the deployment has no plannedImageTemplateName output".into()))?;
        lifecycle::supersede(session, rg, &image.spec.name, &planned, reason, out).await?;
    }

    // Phase 2: the image template. AIB checks its identity's access when the template is
    // created; a role assignment younger than ARM's caches gives "not authorized", so that
    // one failure is retried.
    out.say(&format!("{name}: deploying the image template"));
    wait::set_stage(format!("deployment {name} with the image template was sent to ARM and goes on there"));
    if options.no_wait {
        // The template's name comes from ARM (`uniqueString` over the content hash, location
        // and version) when the deployment runs; `aibc status` finds it through the deployment.
        let body = deployment_body(image, &phase2, &full_hash, &content_hash, None);
        if let Err(e) =
            session.arm.send(azure_core::http::Method::Put, &deployment_path, Some(api::RESOURCES), Some(&body)).await
        {
            return Err(failure::explain(session, &deployment_path, e).await);
        }
        out.say(&format!("{name}: accepted, not waiting; `aibc status` shows the build once the template exists"));
        let (template_name, template_id) = (String::new(), String::new());
        return Ok(Deployed { deployment: name, template_name, template_id, image_version, changed: true, uploaded });
    }
    let mut attempt = 0;
    let second = loop {
        match put_deployment(session, &deployment_path, image, &phase2, &full_hash, &content_hash, None).await {
            Ok(d) => break d,
            Err(e) if attempt < 4 && failure::is_authorization_race(session, &deployment_path, &e).await => {
                attempt += 1;
                let wait = options.role_wait.max(Duration::from_secs(5)) * attempt;
                out.say(&format!("AIB was not yet authorized (role propagation); retrying in {} s", wait.as_secs()));
                tokio::time::sleep(wait).await;
            }
            Err(e) => return Err(e),
        }
    };
    let (template_name, template_id) = template_of(&second)?;
    out.say(&format!("{name}: image template {template_name} is ready"));
    Ok(Deployed { deployment: name, template_name, template_id, image_version, changed: true, uploaded })
}

/// The version computation is the caller's (it knows the gallery and the clock).
pub type VersionFuture<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = Result<Option<String>>> + 'a>>;

async fn ensure_resource_group(session: &Session, image: &Image<'_>, options: &Options, out: &dyn Say) -> Result<()> {
    let path = session.rg_path(&options.resource_group);
    if session.arm.get(&path, api::RESOURCES).await?.is_some() {
        return Ok(());
    }
    let location = options
        .location
        .clone()
        .or_else(|| image.spec.location.clone().filter(|l| !crate::params::has_references(l)))
        .ok_or_else(|| {
            Error::Local(format!(
                "the resource group {} does not exist and the spec's location is a parameter; give --location",
                options.resource_group
            ))
        })?;
    let mut tags: Map<String, Value> = image.spec.tags.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
    tags.insert("managedBy".into(), json!("aibc"));
    session.arm.put(&path, api::RESOURCES, &json!({"location": location, "tags": tags})).await?;
    out.say(&format!("created resource group {} in {location}", options.resource_group));
    Ok(())
}

/// The deployment parameters other than the two phases' switches: deploy-time values the
/// spec left open. Every required one must be given.
fn parameters(image: &Image<'_>, options: &Options) -> Result<Map<String, Value>> {
    let mut out = Map::new();
    let mut missing = Vec::new();
    let declared = image.template.get("parameters").and_then(Value::as_object).cloned().unwrap_or_default();
    for (name, decl) in &declared {
        if name == "deployImageTemplate" || name == "imageVersion" {
            continue;
        }
        let given = options.params.get(name).cloned();
        let value = match given {
            Some(v) => v,
            None if decl.get("defaultValue").is_some() => continue,
            None => {
                missing.push(format!("`{name}` (--param {name}=… or {})", param_env_name(name)));
                continue;
            }
        };
        let typed = match decl.get("type").and_then(Value::as_str).unwrap_or("string").to_ascii_lowercase().as_str() {
            "int" => json!(
                value
                    .parse::<i64>()
                    .map_err(|_| Error::Local(format!("--param {name}: `{value}` is not an integer")))?
            ),
            "bool" => json!(
                value
                    .parse::<bool>()
                    .map_err(|_| Error::Local(format!("--param {name}: `{value}` is not true or false")))?
            ),
            "array" | "object" => {
                serde_json::from_str(&value).map_err(|e| Error::Local(format!("--param {name}: not JSON: {e}")))?
            }
            _ => json!(value),
        };
        out.insert(name.clone(), json!({ "value": typed }));
    }
    for given in options.params.keys() {
        if !declared.contains_key(given) {
            return Err(Error::Local(format!("--param {given}: the spec declares no such parameter")));
        }
    }
    if !missing.is_empty() {
        return Err(Error::Local(format!("give the deploy-time parameters {}", missing.join(", "))));
    }
    Ok(out)
}

fn input_hash(template: &Value, params: &Map<String, Value>) -> String {
    let mut h = Sha256::new();
    h.update(serde_json::to_vec(template).expect("serializes"));
    h.update(serde_json::to_vec(params).expect("serializes"));
    h.finalize().iter().take(16).map(|b| format!("{b:02x}")).collect()
}

async fn reusable_version(session: &Session, previous: Option<&Value>, content_hash: &str) -> Result<Option<String>> {
    let Some(d) = previous else { return Ok(None) };
    if d.pointer(&format!("/tags/{CONTENT_HASH_TAG}")).and_then(Value::as_str) != Some(content_hash) {
        return Ok(None);
    }
    let Some(version) = d.pointer("/properties/parameters/imageVersion/value").and_then(Value::as_str) else {
        return Ok(None);
    };
    let Ok((_, template_id)) = template_of(d) else { return Ok(None) };
    match session.arm.get(&template_id, api::IMAGE_TEMPLATES).await? {
        Some(t) if t.pointer("/properties/lastRunStatus").is_none() => Ok(Some(version.to_string())),
        _ => Ok(None),
    }
}

async fn put_deployment(
    session: &Session,
    path: &str,
    image: &Image<'_>,
    params: &Map<String, Value>,
    hash: &str,
    content_hash: &str,
    previous_template: Option<&str>,
) -> Result<Value> {
    let body = deployment_body(image, params, hash, content_hash, previous_template);
    match session.arm.put(path, api::RESOURCES, &body).await {
        Ok(d) => Ok(d),
        Err(e) => Err(failure::explain(session, path, e).await),
    }
}

fn deployment_body(
    image: &Image<'_>,
    params: &Map<String, Value>,
    hash: &str,
    content_hash: &str,
    previous_template: Option<&str>,
) -> Value {
    let mut tags = json!({INPUT_HASH_TAG: hash, CONTENT_HASH_TAG: content_hash, "aibc.image": image.spec.name});
    // Phase 1 has no template outputs; the tag keeps the current template findable until
    // phase 2 replaces it (a failed or interrupted deploy must not hide a running build).
    if let Some(id) = previous_template {
        tags[PREVIOUS_TEMPLATE_TAG] = json!(id);
    }
    json!({
        "properties": {"mode": "Incremental", "template": image.template, "parameters": params},
        "tags": tags,
    })
}

fn outputs_of(deployment: &Value) -> Map<String, Value> {
    deployment
        .pointer("/properties/outputs")
        .and_then(Value::as_object)
        .map(|o| o.iter().map(|(k, v)| (k.clone(), v.get("value").cloned().unwrap_or(Value::Null))).collect())
        .unwrap_or_default()
}

fn template_of(deployment: &Value) -> Result<(String, String)> {
    let outputs = outputs_of(deployment);
    let get = |k: &str| outputs.get(k).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string);
    match (get("imageTemplateName"), get("imageTemplateResourceId")) {
        (Some(n), Some(id)) => Ok((n, id)),
        _ => Err(Error::Protocol("the deployment has no image template outputs".into())),
    }
}

/// Reads the current deployment of an image: its template, version and outputs.
pub async fn current(session: &Session, rg: &str, image: &str) -> Result<Option<Current>> {
    let path = format!("{}/providers/Microsoft.Resources/deployments/{}", session.rg_path(rg), deployment_name(image));
    let Some(d) = session.arm.get(&path, api::RESOURCES).await? else { return Ok(None) };
    let ((template_name, template_id), image_version) = match template_of(&d) {
        Ok(t) => {
            (t, d.pointer("/properties/parameters/imageVersion/value").and_then(Value::as_str).map(str::to_string))
        }
        // The parameters are the unfinished deploy's, not the previous template's.
        Err(_) => match d.pointer(&format!("/tags/{PREVIOUS_TEMPLATE_TAG}")).and_then(Value::as_str) {
            Some(id) => ((id.rsplit('/').next().unwrap_or(id).to_string(), id.to_string()), None),
            None => return Ok(None),
        },
    };
    Ok(Some(Current { template_name, template_id, image_version }))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Current {
    pub template_name: String,
    pub template_id: String,
    pub image_version: Option<String>,
}

async fn upload_artifacts(
    session: &Session,
    image: &Image<'_>,
    outputs: &Map<String, Value>,
    out: &dyn Say,
) -> Result<usize> {
    let artifacts = &image.compiled.plan.artifacts;
    if artifacts.is_empty() {
        return Ok(0);
    }
    let url = outputs
        .get("artifactsContainerUrl")
        .and_then(Value::as_str)
        .ok_or_else(|| Error::Protocol("the deployment has no artifactsContainerUrl output".into()))?;
    let (endpoint, container) = url
        .trim_end_matches('/')
        .rsplit_once('/')
        .ok_or_else(|| Error::Protocol(format!("artifactsContainerUrl `{url}` has no container")))?;
    let mut uploaded = 0;
    for a in artifacts {
        let bytes = artifact_bytes(a)?;
        let sha = hex_sha256(&bytes);
        if sha != a.sha256 {
            return Err(Error::Local(format!("{} changed while deploying; run the command again", a.spec_path)));
        }
        let result = session.blobs.upload(endpoint, container, &a.blob, &a.sha256, bytes).await?;
        if result == crate::azure::blob::Upload::Uploaded {
            uploaded += 1;
            out.say(&format!("uploaded {} as {} ({} bytes)", a.spec_path, a.blob, a.size));
        }
    }
    if uploaded == 0 {
        out.say(&format!("{} file(s) already uploaded", artifacts.len()));
    }
    Ok(uploaded)
}

fn artifact_bytes(a: &Artifact) -> Result<Vec<u8>> {
    // Streamed through fsguard: a regular file (or a folder's files) within the size limits.
    crate::artifact::bytes(&a.local).map_err(Error::Local)
}

fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// How many role assignments the last deployment created (not just confirmed). ARM calls
/// every PUT of a deployment "Create"; the status code tells: 201 Created for a new resource,
/// 200 OK for one that was there.
async fn created_role_assignments(session: &Session, deployment_path: &str) -> Result<usize> {
    let ops = failure::all_operations(session, deployment_path).await?;
    Ok(ops
        .iter()
        .filter(|op| {
            op.pointer("/properties/targetResource/resourceType")
                .and_then(Value::as_str)
                .is_some_and(|t| t.eq_ignore_ascii_case("Microsoft.Authorization/roleAssignments"))
                && op.pointer("/properties/statusCode").and_then(Value::as_str) == Some("Created")
        })
        .count())
}

/// `--what-if`: ARM's change set for the full deployment, printed one resource a line.
async fn what_if(
    session: &Session,
    path: &str,
    image: &Image<'_>,
    params: &Map<String, Value>,
    out: &dyn Say,
) -> Result<()> {
    let body = json!({"properties": {"mode": "Incremental", "template": image.template, "parameters": params}});
    let result =
        session.arm.post(&format!("{path}/whatIf"), api::RESOURCES, Some(&body)).await.map_err(|e| match e {
            Error::Azure(a) => Error::Azure(a),
            other => other,
        })?;
    let changes = result
        .pointer("/properties/changes")
        .or_else(|| result.get("changes"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for c in &changes {
        let kind = c.get("changeType").and_then(Value::as_str).unwrap_or("Unknown");
        let id = c.get("resourceId").and_then(Value::as_str).unwrap_or("?");
        *counts.entry(kind.to_string()).or_default() += 1;
        let mark = match kind {
            "Create" => "+",
            "Delete" => "-",
            "Modify" => "~",
            "Deploy" => "!",
            "NoChange" | "Ignore" => "=",
            _ => "?",
        };
        out.say(&format!("  {mark} {kind:<8} {id}"));
        for d in c.get("delta").and_then(Value::as_array).into_iter().flatten() {
            let p = d.get("path").and_then(Value::as_str).unwrap_or("");
            let t = d.get("propertyChangeType").and_then(Value::as_str).unwrap_or("");
            out.say(&format!("      {t}: {p}"));
        }
    }
    let summary: Vec<String> = counts.iter().map(|(k, n)| format!("{n} {k}")).collect();
    out.say(&format!("what-if: {}", if summary.is_empty() { "no changes".into() } else { summary.join(", ") }));
    Ok(())
}

/// Templates of this image (its name, a dash, and the 8-character content hash).
pub async fn templates_of(session: &Session, rg: &str, image: &str) -> Result<Vec<Value>> {
    let path = format!("{}/providers/Microsoft.VirtualMachineImages/imageTemplates", session.rg_path(rg));
    let all = session.arm.list(&path, api::IMAGE_TEMPLATES).await?;
    let prefix = format!("{image}-");
    Ok(all
        .into_iter()
        .filter(|t| {
            t.get("name").and_then(Value::as_str).is_some_and(|n| {
                n.strip_prefix(&prefix).is_some_and(|h| h.len() == 8 && h.bytes().all(|b| b.is_ascii_alphanumeric()))
            })
        })
        .collect())
}

fn is_running(template: &Value) -> bool {
    template
        .pointer("/properties/lastRunStatus/runState")
        .and_then(Value::as_str)
        .is_some_and(|s| s.eq_ignore_ascii_case("Running") || s.eq_ignore_ascii_case("Canceling"))
}

async fn replace_older(session: &Session, image: &Image<'_>, options: &Options, out: &dyn Say) -> Result<()> {
    let current = current(session, &options.resource_group, &image.spec.name).await?;
    for t in templates_of(session, &options.resource_group, &image.spec.name).await? {
        let name = t.get("name").and_then(Value::as_str).unwrap_or_default().to_string();
        if current.as_ref().is_some_and(|c| c.template_name == name) && !options.replace {
            continue;
        }
        if is_running(&t) {
            return Err(Error::Local(format!(
                "a build is running on {name}: wait for it (`aibc status`) or cancel it (`aibc cancel`) before --replace"
            )));
        }
        out.say(&format!("deleting the older image template {name}"));
        lifecycle::delete_template(session, &t).await?;
    }
    Ok(())
}

/// `aibc clean`: deletes the image's superseded templates (never the current one, never one
/// that is building) and the staging resource groups AIB left behind for them.
/// Deletes (or with `dry_run` lists) an image's superseded templates and their leftover
/// staging groups. Returns the plan, one row per template or group (what `-o` prints).
pub async fn clean(session: &Session, rg: &str, image: &str, dry_run: bool, out: &dyn Say) -> Result<Vec<Value>> {
    let current = current(session, rg, image).await?;
    let mut removed = 0;
    let mut plan = Vec::new();
    let row =
        |kind: &str, name: &str, action: &str| json!({"image": image, "kind": kind, "name": name, "action": action});
    for t in templates_of(session, rg, image).await? {
        let name = t.get("name").and_then(Value::as_str).unwrap_or_default().to_string();
        if current.as_ref().is_some_and(|c| c.template_name.eq_ignore_ascii_case(&name)) {
            continue;
        }
        if is_running(&t) {
            out.say(&format!("keeping {name}: a build is running on it"));
            plan.push(row("imageTemplate", &name, "keep"));
            continue;
        }
        let staging = t.pointer("/properties/exactStagingResourceGroup").and_then(Value::as_str).map(str::to_string);
        let custom_staging =
            t.pointer("/properties/stagingResourceGroup").and_then(Value::as_str).is_some_and(|s| !s.is_empty());
        if dry_run {
            out.say(&format!("would delete the image template {name}"));
            plan.push(row("imageTemplate", &name, "wouldDelete"));
        } else {
            out.say(&format!("deleting the image template {name}"));
            lifecycle::delete_template(session, &t).await?;
            plan.push(row("imageTemplate", &name, "delete"));
            // AIB deletes a staging group it created with the template; one that is left
            // over (a failed deletion) goes too. A group the spec named is the user's.
            if let Some(group) = staging.filter(|_| !custom_staging)
                && let Some(rg_name) = group.rsplit('/').next()
            {
                let path = session.rg_path(rg_name);
                if session.arm.get(&path, api::RESOURCES).await?.is_some() {
                    out.say(&format!("deleting the staging resource group {rg_name}"));
                    session.arm.delete(&path, api::RESOURCES).await?;
                    plan.push(row("stagingResourceGroup", rg_name, "delete"));
                }
            }
        }
        removed += 1;
    }
    if removed == 0 {
        out.say(&format!("{image}: no superseded image templates"));
    }
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameter_env_names_match_bicepparam() {
        assert_eq!(param_env_name("imageVersion"), "AIBC_PARAM_IMAGE_VERSION");
        assert_eq!(param_env_name("environment"), "AIBC_PARAM_ENVIRONMENT");
    }

    #[test]
    fn deployment_names_fit_arm() {
        assert_eq!(deployment_name("web"), "aibc-web");
        assert_eq!(deployment_name(&"x".repeat(80)).len(), 64);
    }

    #[test]
    fn input_hash_changes_with_any_parameter() {
        let t = json!({"a": 1});
        let mut p = Map::new();
        let h1 = input_hash(&t, &p);
        p.insert("imageVersion".into(), json!({"value": "1.0.0"}));
        assert_ne!(h1, input_hash(&t, &p));
        assert_eq!(input_hash(&t, &p), input_hash(&t, &p.clone()));
    }
}
