//! Spec → plan: decides which resources exist, how they reference each other, and which
//! roles AIB's identity needs where.
mod access;
mod artifacts;
mod gallery;
mod identity;
mod rights;
mod steps;
mod template;

use std::collections::BTreeMap;
use std::path::Path as FsPath;

use super::digest::Digest;
use super::expr::from_spec_string;
use super::{Artifact, Expr, Module, Output, Param, ParamType, Plan, Prop, Resource, RgScope, Role, api};
use crate::check::names::parse_resource_id;
use crate::library::Library;
use crate::spec::*;
use identity::IdentityRefs;
pub use template::{deploy_time_scheme, same_region};

const PRINCIPAL: &str = "principalId";

/// Main's variable holding the image template's name.
pub const TEMPLATE_NAME_VAR: &str = "templateName";

/// The switch for the two phases of a deploy (see `main_params`).
const DEPLOY_TEMPLATE: &str = "deployImageTemplate";

/// A value of the image template module, or `''` in the first phase, when it is not deployed.
fn when_deployed(e: Expr) -> Expr {
    Expr::Cond(Box::new(Expr::param(DEPLOY_TEMPLATE)), Box::new(e), Box::new(Expr::str("")))
}

/// The run output name a distribution gets when the spec gives none.
pub fn default_run_output_name(image: &str, d: &Distribution) -> String {
    let suffix = match d {
        Distribution::Gallery(_) => "gallery",
        Distribution::ManagedImage(_) => "managed",
        Distribution::Vhd(_) => "vhd",
    };
    format!("{image}-{suffix}")
}

/// Builds the plan. `base_dir` resolves local files; `spec_file` is shown in headers.
/// Fails only when a local file cannot be read (the checker has vetted everything else).
pub fn build(spec: &ImageSpec, base_dir: &FsPath, spec_file: &str, library: &Library) -> Result<Plan, String> {
    let steps = expand_steps(spec, library)?;
    let assign_roles = spec.identity.as_ref().and_then(|i| i.assign_roles) != Some(false);
    let mut b = Builder { spec, steps, modules: Vec::new(), params: Vec::new(), artifacts: Vec::new(), assign_roles };
    b.main_params();
    b.collect_artifacts(base_dir)?;

    let identity = b.identity();
    let artifacts_url = b.artifacts_module();
    let has_artifacts = artifacts_url.is_some();
    let gallery_image_ids = b.gallery_modules();
    b.source_access();
    b.staging_access();
    b.network_access();
    b.vm_identity_access();
    b.managed_image_access();
    b.vhd_access();
    b.artifact_readers();
    let mut rights = rights::required(&b.modules);
    if !b.assign_roles {
        rights::strip(&mut b.modules);
        if b.needs_first_party_grant() {
            rights.push(format!("Contributor on the staging resource group for Azure Image Builder's first-party service principal (application {}), not for the identity", access::AIB_FIRST_PARTY_APP));
        }
    }
    let (mut template, hash) = b.image_template(&identity, artifacts_url, &gallery_image_ids);
    // The template's name is a variable of main, output in both phases: `aibc deploy` learns
    // from phase 1 which template phase 2 will create, and deletes the superseded ones first
    // when AIB allows only one at a time (a fixed staging group, a trigger; ADR 13).
    let mut template_name = std::mem::replace(&mut template.args[0].1, Expr::Var(TEMPLATE_NAME_VAR.into()));
    simplify(&mut template_name, spec);
    b.modules.push(template);
    for m in &mut b.modules {
        if m.symbol != "imageTemplate" {
            plumb_user_params(m, spec);
        }
        simplify_module(m, spec);
    }

    let mut outputs = vec![
        Output {
            name: "imageTemplateName".into(),
            ty: ParamType::String,
            description: "Name of the image template. It carries a hash of the template's content, because AIB templates are immutable.".into(),
            value: when_deployed(Expr::output("imageTemplate", "name")),
        },
        Output {
            name: "plannedImageTemplateName".into(),
            ty: ParamType::String,
            description: "Name the image template has, or will have once the template is deployed (also known in the first phase).".into(),
            value: Expr::Var(TEMPLATE_NAME_VAR.into()),
        },
        Output {
            name: "imageTemplateResourceId".into(),
            ty: ParamType::String,
            description: "Resource ID of the image template; start a build with POST {id}/run.".into(),
            value: when_deployed(Expr::output("imageTemplate", "resourceId")),
        },
        Output {
            name: "identityPrincipalId".into(),
            ty: ParamType::String,
            description: "Principal ID of the identity Azure Image Builder runs as.".into(),
            value: Expr::output("identity", PRINCIPAL),
        },
    ];
    if has_artifacts {
        // `aibc deploy` uploads the local files here between the two phases.
        outputs.push(Output {
            name: "artifactsContainerUrl".into(),
            ty: ParamType::String,
            description: "URL of the container the build's local files are uploaded to, without a trailing slash."
                .into(),
            value: Expr::output("artifacts", "containerUrl"),
        });
    }

    // Metadata is fixed text: `$${` unescaped as in every other string, a reference kept as written.
    let description = spec.description.as_deref().map(crate::params::literal).unwrap_or_else(|| {
        format!("Azure Image Builder infrastructure for the {} image `{}`.", spec.os.azure_name(), spec.name)
    });
    let mut vars = if spec.tags.is_empty() { Vec::new() } else { vec![("tags".to_string(), tags_expr(&spec.tags))] };
    vars.push((TEMPLATE_NAME_VAR.to_string(), template_name));
    // `owner: '${owner}'` is just `owner` (Bicep's simplify-interpolation).
    vars.iter_mut().for_each(|(_, e)| simplify(e, spec));
    Ok(Plan {
        name: spec.name.clone(),
        spec_file: spec_file.to_string(),
        description,
        content_hash: hash,
        params: b.params,
        vars,
        modules: b.modules,
        outputs,
        artifacts: b.artifacts,
        rights,
    })
}

/// Library steps expanded: each customizer, with a comment on the first of an expansion.
fn expand_steps(spec: &ImageSpec, library: &Library) -> Result<Vec<(Option<String>, Step)>, String> {
    let vm_identity = spec.build.as_ref().and_then(|b| b.vm_identities.first()).map(String::as_str);
    let mut steps = Vec::new();
    for s in &spec.customize {
        match s {
            CustomizeStep::Builtin(step) => steps.push((None, step.clone())),
            CustomizeStep::Library(l) => {
                let entry = library.get(&l.entry).ok_or_else(|| format!("no library entry `{}`", l.entry))?;
                let e = crate::library::expand(library, entry, &l.with, l.name.as_deref(), vm_identity)?;
                for (j, mut step) in e.steps.into_iter().enumerate() {
                    if let (Some(system), Step::PowerShell(p)) = (l.run_as_system, &mut step) {
                        p.run_as_system = Some(system);
                        if system {
                            p.run_elevated = Some(true);
                        }
                    }
                    steps.push(((j == 0).then(|| format!("library: {}", e.label)), step));
                }
            }
        }
    }
    Ok(steps)
}

struct Builder<'a> {
    spec: &'a ImageSpec,
    /// The customize steps, library entries expanded.
    steps: Vec<(Option<String>, Step)>,
    modules: Vec<Module>,
    params: Vec<Param>,
    artifacts: Vec<Artifact>,
    /// False when the identity's rights are managed elsewhere (`identity.assignRoles`).
    assign_roles: bool,
}

fn module(symbol: &str, file: &str, image: &str, description: &str) -> Module {
    let mut deployment = format!("{image}-{file}");
    if deployment.len() > 64 {
        let keep = 64 - file.len() - 1;
        deployment = format!("{}-{file}", &image[..keep]);
    }
    Module {
        symbol: symbol.into(),
        file: file.into(),
        deployment,
        scope: None,
        description: description.into(),
        params: Vec::new(),
        args: Vec::new(),
        resources: Vec::new(),
        outputs: Vec::new(),
        depends_on: Vec::new(),
        condition: None,
    }
}

fn scope_of(id: &str) -> Option<RgScope> {
    parse_resource_id(id).ok().map(|r| RgScope { subscription: r.subscription, resource_group: r.resource_group })
}

fn names_of(id: &str) -> Vec<String> {
    parse_resource_id(id).map(|r| r.names).unwrap_or_default()
}

fn tags_expr(tags: &BTreeMap<String, String>) -> Expr {
    Expr::Object(tags.iter().map(|(k, v)| Prop::new(k, from_spec_string(v))).collect())
}

impl Module {
    fn param(&mut self, p: Param, arg: Expr) {
        self.args.push((p.name.clone(), arg));
        self.params.push(p);
    }
    fn output(&mut self, name: &str, ty: ParamType, description: &str, value: Expr) {
        self.outputs.push(Output { name: name.into(), ty, description: description.into(), value });
    }
    fn push(&mut self, r: Resource) {
        self.resources.push(r);
    }
}

fn resource(symbol: &str, rtype: &str, api: &'static str, name: Expr) -> Resource {
    Resource {
        symbol: symbol.into(),
        rtype: rtype.into(),
        api,
        existing: false,
        name,
        parent: None,
        scope: None,
        comment: None,
        body: Vec::new(),
    }
}

fn existing(symbol: &str, rtype: &str, api: &'static str, name: &str) -> Resource {
    Resource { existing: true, ..resource(symbol, rtype, api, Expr::str(name)) }
}

impl Resource {
    fn parent(mut self, p: &str) -> Resource {
        self.parent = Some(p.into());
        self
    }
    fn with(mut self, key: &str, value: Expr) -> Resource {
        self.body.push(Prop::new(key, value));
        self
    }
    fn comment(mut self, c: impl Into<String>) -> Resource {
        self.comment = Some(c.into());
        self
    }
}

impl Builder<'_> {
    fn name(&self) -> &str {
        &self.spec.name
    }

    fn has_param(&self, name: &str) -> bool {
        self.params.iter().any(|p| p.name == name)
    }

    fn main_params(&mut self) {
        for (name, p) in &self.spec.parameters {
            let ty = match p.kind {
                ParameterType::String => ParamType::String,
                ParameterType::Int => ParamType::Int,
                ParameterType::Bool => ParamType::Bool,
            };
            let desc = p.description.clone().unwrap_or_else(|| format!("Value of `${{params.{name}}}` in the spec."));
            let req = if p.default.is_some() { "Optional." } else { "Required." };
            let mut param = Param::new(name, ty, format!("{req} {desc}"));
            param.default = p.default.as_ref().map(json_expr);
            param.value = param.default.clone();
            param.allowed = p.allowed.iter().map(json_expr).collect();
            self.params.push(param);
        }
        if self.location_param_needed() {
            let mut p = Param::new(
                "location",
                ParamType::String,
                "Optional. Azure region of the image template and of the resources created with it.",
            );
            p.default = Some(match &self.spec.location {
                Some(l) => Expr::str(l),
                None => Expr::rg_location(),
            });
            p.value = self.spec.location.as_ref().map(Expr::str);
            self.params.insert(0, p);
        }
        // AIB downloads scripts and checks its identity's roles when the template is
        // created. A deploy therefore runs twice: first everything but the template (then
        // upload, and let role assignments propagate), then the whole.
        let mut p = Param::new(
            DEPLOY_TEMPLATE,
            ParamType::Bool,
            "Optional. False deploys everything but the image template: the first phase, after which artifacts are uploaded and role assignments propagate.",
        );
        p.default = Some(Expr::Bool(true));
        self.params.push(p);
        if self.needs_image_version_param() && !self.has_param("imageVersion") {
            let mut p = Param::new(
                "imageVersion",
                ParamType::String,
                "Required. Gallery image version to publish (Major.Minor.Patch). `aibc deploy` computes it from the spec's version scheme.",
            );
            p.value = None;
            self.params.push(p);
        }
    }

    fn location_param_needed(&self) -> bool {
        match &self.spec.location {
            Some(l) => !crate::params::has_references(l) && !self.has_param("location"),
            None => !self.has_param("location"),
        }
    }

    fn location(&self) -> Expr {
        match &self.spec.location {
            Some(l) if crate::params::has_references(l) => from_spec_string(l),
            _ => Expr::param("location"),
        }
    }

    fn needs_image_version_param(&self) -> bool {
        self.spec
            .distribute
            .iter()
            .any(|d| matches!(d, Distribution::Gallery(g) if deploy_time_scheme(g.version.as_ref()).is_some()))
    }

    fn tags(&self) -> Option<Expr> {
        (!self.spec.tags.is_empty()).then(|| tags_expr(&self.spec.tags))
    }

    /// Adds `location` and `tags` params to a module that creates tracked resources.
    fn located(&self, m: &mut Module) {
        m.param(Param::new("location", ParamType::String, "Required. Azure region of the resources."), self.location());
        if let Some(t) = self.tags() {
            let _ = t;
            m.param(
                Param::new("tags", ParamType::Object, "Required. Tags for the resources."),
                Expr::Var("tags".into()),
            );
        }
    }

    fn tracked(&self, r: Resource) -> Resource {
        let r = r.with("location", Expr::param("location"));
        if self.tags().is_some() { r.with("tags", Expr::param("tags")) } else { r }
    }
}

fn numbered(stem: &str, n: usize, count: usize) -> String {
    if count <= 1 { stem.to_string() } else { format!("{stem}{}", n + 1) }
}

fn numbered_deployment(d: &str, n: usize, count: usize) -> String {
    if count <= 1 { d.to_string() } else { format!("{d}-{}", n + 1) }
}

/// Modules that use user parameters (`${params.X}` inside a module body) get them as
/// module parameters, passed through from main.
/// `'${name}'` is just `name` when the parameter is a string (Bicep's linter flags the
/// needless interpolation); int and bool parameters keep it, as it converts them.
fn simplify(e: &mut Expr, spec: &ImageSpec) {
    if let Expr::Interp(parts) = e
        && let [Expr::Param(p)] = parts.as_slice()
    {
        let is_string = spec.parameters.get(p).is_none_or(|d| d.kind == ParameterType::String);
        if is_string {
            *e = Expr::Param(p.clone());
            return;
        }
    }
    match e {
        Expr::Array(items) | Expr::Call(_, items) | Expr::Interp(items) => {
            items.iter_mut().for_each(|i| simplify(i, spec))
        }
        Expr::Object(props) => props.iter_mut().for_each(|p| {
            simplify(&mut p.key, spec);
            simplify(&mut p.value, spec);
        }),
        Expr::Access(inner, _) | Expr::Commented(_, inner) => simplify(inner, spec),
        Expr::Cond(c, a, b) => {
            simplify(c, spec);
            simplify(a, spec);
            simplify(b, spec);
        }
        _ => {}
    }
}

fn simplify_module(m: &mut Module, spec: &ImageSpec) {
    for r in &mut m.resources {
        simplify(&mut r.name, spec);
        r.body.iter_mut().for_each(|p| simplify(&mut p.value, spec));
    }
    m.args.iter_mut().for_each(|(_, e)| simplify(e, spec));
}

fn plumb_user_params(m: &mut Module, spec: &ImageSpec) {
    let declared: Vec<String> = m.params.iter().map(|p| p.name.clone()).collect();
    let mut needed: Vec<String> = Vec::new();
    let mut scan = |e: &Expr| {
        e.visit(&mut |x| {
            if let Expr::Param(p) = x {
                // Only spec parameters travel from main; other names are the module's own.
                if spec.parameters.contains_key(p) && !declared.contains(p) && !needed.contains(p) {
                    needed.push(p.clone());
                }
            }
        })
    };
    for r in &m.resources {
        scan(&r.name);
        r.body.iter().for_each(|p| scan(&p.value));
    }
    for o in &m.outputs {
        scan(&o.value);
    }
    for name in needed {
        let ty = match spec.parameters.get(&name).map(|p| p.kind) {
            Some(ParameterType::Int) => ParamType::Int,
            Some(ParameterType::Bool) => ParamType::Bool,
            _ => ParamType::String,
        };
        m.param(Param::new(&name, ty, format!("Required. Value of the spec parameter `{name}`.")), Expr::param(&name));
    }
}

fn json_expr(v: &serde_json::Value) -> Expr {
    match v {
        serde_json::Value::Null => Expr::Null,
        serde_json::Value::Bool(b) => Expr::Bool(*b),
        serde_json::Value::Number(n) => Expr::Int(n.as_i64().unwrap_or_default()),
        serde_json::Value::String(s) => Expr::str(s),
        serde_json::Value::Array(a) => Expr::Array(a.iter().map(json_expr).collect()),
        serde_json::Value::Object(o) => Expr::Object(o.iter().map(|(k, v)| Prop::new(k, json_expr(v))).collect()),
    }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
