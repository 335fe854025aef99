//! `aibc deploy` and `aibc clean` on the command line.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Value, json};

use super::{AzureArgs, Loaded, block_on_with, connect, fail, say, set_pipeline_variable};
use crate::azure::{Error, Result, Session, api};
use crate::deploy::{self, Image, Options, param_env_name};
use crate::exit;
use crate::params::has_references;
use crate::spec::ImageSpec;
use crate::spec::{Distribution, GalleryDistribution};
use crate::version::{self, Scheme};

#[derive(Debug, Clone, clap::Args)]
pub struct DeployArgs {
    /// The spec file (`.yaml`, `.yml` or `.json`).
    pub spec: PathBuf,
    #[command(flatten)]
    pub azure: AzureArgs,
    /// A deploy-time parameter (repeatable); also read from AIBC_PARAM_<NAME>.
    #[arg(long = "param", short = 'p', value_name = "NAME=VALUE")]
    pub params: Vec<String>,
    /// The gallery image version to publish, instead of the spec's scheme.
    #[arg(long, value_name = "M.m.p")]
    pub image_version: Option<String>,
    /// Region for a resource group that must be created (default: the spec's location).
    #[arg(long, value_name = "REGION")]
    pub location: Option<String>,
    /// Print the change set ARM's what-if reports, and change nothing.
    #[arg(long)]
    pub what_if: bool,
    /// Delete the image's older templates before creating the new one (refused while one builds).
    #[arg(long)]
    pub replace: bool,
    /// Deploy even when the recorded hash says nothing changed.
    #[arg(long)]
    pub force: bool,
    /// How long new role assignments get to propagate before the image template is created.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = super::parse_duration)]
    pub role_wait: Duration,
    /// Stop waiting after this long (exit 9): for ARM, for another deploy of the same image,
    /// for role propagation. What was sent goes on in Azure; `aibc deploy` again picks it up.
    #[arg(long, value_name = "DURATION", default_value = "60m", value_parser = super::parse_duration)]
    pub timeout: Duration,
    /// Return once ARM has accepted the image template's deployment, without waiting for it
    /// (`aibc status` or the deployment in the portal shows how it ends).
    #[arg(long)]
    pub no_wait: bool,
}

#[derive(Debug, Clone, clap::Args)]
pub struct CleanArgs {
    /// The spec file.
    pub spec: PathBuf,
    #[command(flatten)]
    pub azure: AzureArgs,
    /// Say what would be deleted, delete nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Delete without asking (needed without a terminal).
    #[arg(long, short = 'y')]
    pub yes: bool,
}

pub fn run(args: DeployArgs) -> i32 {
    let images = match super::load(&args.spec, &args.azure, &args.azure.images) {
        Ok(i) => i,
        Err(code) => return code,
    };
    let params = match params_of(&args.params, &images) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::USAGE;
        }
    };
    if let Some(v) = &args.image_version
        && v.parse::<version::GalleryVersion>().is_err()
    {
        eprintln!(
            "error: --image-version {v}: a gallery version is Major.Minor.Patch, each part an int32 (e.g. 1.0.0)"
        );
        return exit::USAGE;
    }
    let timeout = args.timeout;
    let bounded = async move {
        match tokio::time::timeout(timeout, deploy_all(args, images, params)).await {
            Ok(code) => code,
            Err(_) => {
                eprintln!(
                    "error: deploy timed out after {} (--timeout): {}. {RESUME}, or allow longer with --timeout",
                    crate::azure::limits::human(timeout),
                    deploy::wait::stage()
                );
                exit::WAIT_TIMED_OUT
            }
        }
    };
    block_on_with(bounded, &|| format!("{}. {RESUME}", deploy::wait::stage()))
}

/// How to go on after an interrupted or timed-out deploy.
const RESUME: &str = "`aibc deploy` again picks up from there: what is done is not sent again";

/// `--param` values, then `AIBC_PARAM_*` for the parameters the images declare.
fn params_of(given: &[String], images: &[Loaded]) -> std::result::Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    for p in given {
        let (k, v) = p.split_once('=').ok_or_else(|| format!("--param {p}: write NAME=VALUE"))?;
        out.insert(k.trim().to_string(), v.to_string());
    }
    for image in images {
        for p in &image.compiled.plan.params {
            if matches!(p.name.as_str(), "location" | "deployImageTemplate" | "imageVersion")
                || out.contains_key(&p.name)
            {
                continue;
            }
            if let Ok(v) = std::env::var(param_env_name(&p.name)) {
                out.insert(p.name.clone(), v);
            }
        }
    }
    Ok(out)
}

async fn deploy_all(args: DeployArgs, images: Vec<Loaded>, params: BTreeMap<String, String>) -> i32 {
    let session = match connect(&args.azure).await {
        Ok(s) => s,
        Err(code) => return code,
    };
    let mut results = Vec::new();
    for loaded in &images {
        let image = match Image::new(&loaded.spec, &loaded.compiled) {
            Ok(i) => i,
            Err(e) => return fail(&e),
        };
        // A family's images share --param; each takes the ones it declares.
        let own: BTreeMap<String, String> = params
            .iter()
            .filter(|(k, _)| loaded.compiled.plan.params.iter().any(|p| &p.name == *k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let options = Options {
            resource_group: args.azure.resource_group.clone(),
            location: args.location.clone(),
            image_version: args.image_version.clone(),
            params: own,
            what_if: args.what_if,
            replace: args.replace,
            force: args.force,
            role_wait: args.role_wait,
            no_wait: args.no_wait,
        };
        let spec = &loaded.spec;
        let session_ref = &session;
        let rg = args.azure.resource_group.as_str();
        let version_of = move || -> deploy::VersionFuture<'_> { Box::pin(next_version(session_ref, spec, rg)) };
        let result = deploy::deploy(&session, &image, &options, &version_of, &say).await;
        match result {
            Ok(d) => {
                if let Some(v) = &d.image_version {
                    set_pipeline_variable("IMAGE_VERSION", v);
                }
                if !d.template_name.is_empty() {
                    set_pipeline_variable("IMAGE_TEMPLATE_NAME", &d.template_name);
                }
                results.push(json!({
                    "image": spec.name,
                    "deployment": d.deployment,
                    "imageTemplateName": d.template_name,
                    "imageTemplateId": d.template_id,
                    "imageVersion": d.image_version,
                    "changed": d.changed,
                    "uploaded": d.uploaded,
                }));
            }
            Err(e) => return fail(&e),
        }
    }
    let (reads, writes) = session.arm.counts();
    say(&format!("done: {reads} ARM read(s), {writes} write(s)"));
    if crate::format::wants_document() {
        let out = if results.len() == 1 { results.remove(0) } else { Value::Array(results) };
        return super::print_result(exit::SUCCESS, &out);
    }
    exit::SUCCESS
}

/// The image definition a gallery distribution publishes to: its own `imageId`, the spec's
/// gallery `imageId`, or the definition the spec creates in `rg`. `None` when the id
/// depends on a deploy-time parameter.
pub fn definition_id(session: &Session, spec: &ImageSpec, g: &GalleryDistribution, rg: &str) -> Option<String> {
    let id = match (&g.image_id, spec.gallery.as_ref()) {
        (Some(id), _) => id.clone(),
        (None, Some(gallery)) if gallery.image_id.is_some() => gallery.image_id.clone()?,
        (None, Some(gallery)) => {
            let name = gallery.name.as_deref()?;
            let image = gallery.image.as_ref().and_then(|i| i.name.as_deref()).unwrap_or(&spec.name);
            format!("{}/providers/Microsoft.Compute/galleries/{name}/images/{image}", session.rg_path(rg))
        }
        (None, None) => return None,
    };
    (!has_references(&id)).then_some(id)
}

/// The image definition a spec's deploy-time version scheme publishes to, and the scheme.
pub fn versioned_definition(session: &Session, spec: &ImageSpec, rg: &str) -> Option<(String, Scheme)> {
    spec.distribute.iter().find_map(|d| {
        let Distribution::Gallery(g) = d else { return None };
        let scheme = Scheme::of(g.version.as_ref()?)?;
        Some((definition_id(session, spec, g, rg)?, scheme))
    })
}

/// The version the spec's scheme gives now: reads the image definition's versions (none
/// when it does not exist yet).
async fn next_version(session: &Session, spec: &ImageSpec, rg: &str) -> Result<Option<String>> {
    let Some((definition, scheme)) = versioned_definition(session, spec, rg) else {
        return Err(Error::Local(format!(
            "{}: the gallery version is computed at deploy time but the image definition's id depends on a parameter; give --image-version",
            spec.name
        )));
    };
    let existing = match session.arm.list(&format!("{definition}/versions"), api::COMPUTE_GALLERY).await {
        Ok(v) => v,
        Err(e) if e.is_not_found() => Vec::new(),
        Err(e) => return Err(e),
    };
    let names = existing.iter().filter_map(|v| v.get("name").and_then(Value::as_str));
    let chosen = version::choose(scheme, &version::parse_names(names), version::Utc::now()).ok_or_else(|| {
        Error::Local(format!("{}: no {} version is left within int32 parts", spec.name, scheme.label()))
    })?;
    Ok(Some(chosen.to_string()))
}

pub fn clean(args: CleanArgs) -> i32 {
    let what = format!(
        "This deletes the superseded image templates of {} in {} and their staging resource groups.",
        args.spec.display(),
        args.azure.resource_group
    );
    if let Err(code) = super::confirm(&what, args.yes, args.dry_run) {
        return code;
    }
    let (rg, dry_run) = (args.azure.resource_group.clone(), args.dry_run);
    let plan = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    let rows = plan.clone();
    let code = super::for_each_image(
        &args.spec,
        &args.azure,
        "deletions already sent go on in Azure; `aibc clean` again finishes the rest",
        move |session, loaded| {
            let (rg, rows) = (rg.clone(), rows.clone());
            Box::pin(async move {
                let done = deploy::clean(session, &rg, &loaded.spec.name, dry_run, &say).await?;
                rows.borrow_mut().extend(done);
                Ok(())
            })
        },
    );
    super::print_plan(code, plan.take())
}
