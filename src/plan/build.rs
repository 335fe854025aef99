//! Spec → plan: decides which resources exist, how they reference each other, and which
//! roles AIB's identity needs where.

use std::collections::BTreeMap;
use std::path::Path as FsPath;

use super::digest::Digest;
use super::expr::from_spec_string;
use super::{Artifact, Expr, Module, Output, Param, ParamType, Plan, Prop, Resource, RgScope, Role, api};
use crate::check::names::parse_resource_id;
use crate::library::Library;
use crate::spec::*;

const PRINCIPAL: &str = "principalId";

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
    let mut b = Builder { spec, steps, modules: Vec::new(), params: Vec::new(), artifacts: Vec::new() };
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
    let (template, hash) = b.image_template(&identity, artifacts_url, &gallery_image_ids);
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
    let vars = if spec.tags.is_empty() { Vec::new() } else { vec![("tags".to_string(), tags_expr(&spec.tags))] };
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
                for (j, step) in e.steps.into_iter().enumerate() {
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
}

/// How the image template reaches AIB's identity.
struct IdentityRefs {
    resource_id: Expr,
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

/// A role assignment of `role` to AIB's identity on the resource `scope` (a symbol in the
/// same module; `None` for the module's resource group). `custom` names the symbol of a
/// custom role definition in the same module.
fn assignment(symbol: &str, role: Role, scope: Option<&str>, custom: Option<&str>) -> Resource {
    let scope_id = match scope {
        Some(s) => Expr::id_of(s),
        None => Expr::rg_id(),
    };
    let role_id = match (role.builtin_id(), custom) {
        (Some(id), _) => Expr::commented(
            role.display(),
            Expr::call(
                "subscriptionResourceId",
                vec![Expr::str("Microsoft.Authorization/roleDefinitions"), Expr::str(id)],
            ),
        ),
        (None, Some(def)) => Expr::id_of(def),
        (None, None) => unreachable!("custom roles come with their definition"),
    };
    let plain_role_id = match &role_id {
        Expr::Commented(_, e) => (**e).clone(),
        e => e.clone(),
    };
    let mut r = resource(
        symbol,
        "Microsoft.Authorization/roleAssignments",
        api::AUTHORIZATION,
        Expr::call("guid", vec![scope_id, Expr::param(PRINCIPAL), plain_role_id]),
    );
    r.scope = scope.map(str::to_string);
    r.comment = Some(format!("{}: {}", role.display(), role_purpose(role)));
    r.with(
        "properties",
        Expr::obj(vec![
            ("roleDefinitionId", role_id),
            ("principalId", Expr::param(PRINCIPAL)),
            // Skips the directory lookup that fails while a new identity replicates.
            ("principalType", Expr::str("ServicePrincipal")),
        ]),
    )
}

fn role_purpose(role: Role) -> &'static str {
    match role {
        Role::StorageBlobDataReader => "AIB downloads the build's scripts and files from this container only.",
        Role::Contributor => "AIB creates the build VM and its network and disks in this staging group.",
        Role::Reader => "AIB reads the source image.",
        Role::ManagedIdentityOperator => "AIB attaches this identity to the build VM.",
        Role::ImageVersionWriter => "AIB publishes image versions to this image definition.",
        Role::ManagedImageWriter => "AIB creates the managed image in this resource group.",
        Role::SubnetJoiner => "AIB joins the build VM to this virtual network.",
    }
}

/// A custom role definition, assignable only in the module's resource group.
fn role_definition(symbol: &str, role: Role) -> Resource {
    let key = format!("aibc-{}", role.symbol());
    resource(
        symbol,
        "Microsoft.Authorization/roleDefinitions",
        api::AUTHORIZATION,
        Expr::call("guid", vec![Expr::rg_id(), Expr::str(key)]),
    )
    .comment(format!("No built-in role is this narrow: {}", role.description()))
    .with(
        "properties",
        Expr::obj(vec![
            (
                "roleName",
                Expr::interp(vec![
                    Expr::str(format!("{} (", role.display())),
                    Expr::call("uniqueString", vec![Expr::rg_id()]),
                    Expr::str(")"),
                ]),
            ),
            ("description", Expr::str(role.description())),
            ("type", Expr::str("CustomRole")),
            (
                "permissions",
                Expr::Array(vec![Expr::obj(vec![
                    ("actions", Expr::Array(role.actions().iter().map(|a| Expr::str(*a)).collect())),
                    ("notActions", Expr::Array(vec![])),
                ])]),
            ),
            ("assignableScopes", Expr::Array(vec![Expr::rg_id()])),
        ]),
    )
}

fn principal_param() -> Param {
    Param::new(PRINCIPAL, ParamType::String, "Required. Principal ID of the identity Azure Image Builder runs as.")
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

    fn collect_artifacts(&mut self, base_dir: &FsPath) -> Result<(), String> {
        let mut paths: Vec<String> = Vec::new();
        let mut add = |p: &str| {
            if !p.contains("://") && !paths.iter().any(|x| x == p) {
                paths.push(p.to_string());
            }
        };
        let steps = self
            .steps
            .iter()
            .map(|(_, s)| step_file(s))
            .chain(self.spec.validate.iter().flat_map(|v| v.steps.iter().map(validation_file)));
        for f in steps.flatten() {
            add(f);
        }
        for p in paths {
            let local = base_dir.join(&p);
            // A folder travels as one deterministic zip (AIB's File customizer copies files),
            // hashed as it streams (src/artifact).
            let crate::artifact::Digest { sha256: sha, size, folder } = crate::artifact::digest(&local)?;
            let mut file_name = FsPath::new(p.trim_end_matches(['/', '\\']))
                .file_name()
                .and_then(|f| f.to_str())
                .unwrap_or("artifact")
                .to_string();
            if folder {
                file_name.push_str(".zip");
            }
            // Content-addressed: a changed file gets a new blob, so a template that pins
            // the old checksum never sees the new content, and unchanged files upload once.
            let blob = format!("{}/{}/{}", self.spec.name, &sha[..12], file_name);
            self.artifacts.push(Artifact { spec_path: p, local, blob, sha256: sha, size, folder });
        }
        Ok(())
    }

    fn identity(&mut self) -> IdentityRefs {
        let spec_identity = self.spec.identity.clone().unwrap_or_default();
        let image = self.name().to_string();
        let mut m;
        if let Some(id) = &spec_identity.existing {
            m = module(
                "identity",
                "identity",
                &image,
                "The existing user-assigned identity Azure Image Builder runs as.",
            );
            m.scope = scope_of(id);
            let name = names_of(id).pop().unwrap_or_default();
            m.push(existing(
                "identity",
                "Microsoft.ManagedIdentity/userAssignedIdentities",
                api::MANAGED_IDENTITY,
                &name,
            ));
        } else {
            m = module(
                "identity",
                "identity",
                &image,
                "The user-assigned identity Azure Image Builder runs as. It gets roles only where the build needs them.",
            );
            let name = spec_identity.name.clone().unwrap_or_else(|| format!("id-{image}"));
            m.param(
                Param::new("name", ParamType::String, "Required. Name of the identity.").length(3, 128),
                from_spec_string(&name),
            );
            self.located(&mut m);
            let r = resource(
                "identity",
                "Microsoft.ManagedIdentity/userAssignedIdentities",
                api::MANAGED_IDENTITY,
                Expr::param("name"),
            );
            m.push(self.tracked(r));
        }
        m.output("resourceId", ParamType::String, "Resource ID of the identity.", Expr::id_of("identity"));
        m.output(
            PRINCIPAL,
            ParamType::String,
            "Principal ID of the identity, for role assignments.",
            Expr::prop_of("identity", &["properties", "principalId"]),
        );
        self.modules.push(m);
        IdentityRefs { resource_id: Expr::output("identity", "resourceId") }
    }

    /// The artifact storage module; returns main's expression for the container URL.
    fn artifacts_module(&mut self) -> Option<Expr> {
        if self.artifacts.is_empty() && self.spec.storage.is_none() {
            return None;
        }
        let storage = self.spec.storage.clone().unwrap_or_default();
        let image = self.name().to_string();
        let container = storage.container.clone().unwrap_or_else(|| "artifacts".into());
        let mut m = module(
            "artifacts",
            "artifacts",
            &image,
            if storage.existing.is_some() {
                "The existing storage account for the build's scripts and files. AIB reads one container through its identity."
            } else {
                "Private storage for the build's scripts and files: no anonymous access, no shared keys, TLS 1.2, https only. AIB reads one container through its identity."
            },
        );
        let sa = "storageAccount";
        if let Some(id) = &storage.existing {
            m.scope = scope_of(id);
            let name = names_of(id).pop().unwrap_or_default();
            m.push(existing(sa, "Microsoft.Storage/storageAccounts", api::STORAGE, &name));
            m.push(
                existing("blobService", "Microsoft.Storage/storageAccounts/blobServices", api::STORAGE, "default")
                    .parent(sa),
            );
        } else {
            let account = match &storage.account {
                Some(a) => from_spec_string(a),
                // Storage account names are global; a hash of the group and image keeps
                // them unique and stable across redeploys.
                None => Expr::interp(vec![
                    Expr::str("st"),
                    Expr::call("uniqueString", vec![Expr::rg_id(), Expr::str(&image)]),
                ]),
            };
            m.param(
                Param::new(
                    "accountName",
                    ParamType::String,
                    "Required. Name of the storage account (3-24 lowercase letters and digits).",
                )
                .length(3, 24),
                account,
            );
            self.located(&mut m);
            let r = resource(sa, "Microsoft.Storage/storageAccounts", api::STORAGE, Expr::param("accountName"));
            let r = self
                .tracked(r)
                .with("sku", Expr::obj(vec![("name", Expr::str("Standard_LRS"))]))
                .with("kind", Expr::str("StorageV2"))
                .with(
                    "properties",
                    Expr::obj(vec![
                        ("accessTier", Expr::str("Hot")),
                        ("allowBlobPublicAccess", Expr::Bool(false)),
                        ("allowCrossTenantReplication", Expr::Bool(false)),
                        ("allowSharedKeyAccess", Expr::Bool(false)),
                        ("defaultToOAuthAuthentication", Expr::Bool(true)),
                        ("minimumTlsVersion", Expr::str("TLS1_2")),
                        ("supportsHttpsTrafficOnly", Expr::Bool(true)),
                    ]),
                );
            m.push(r);
            m.push(
                resource(
                    "blobService",
                    "Microsoft.Storage/storageAccounts/blobServices",
                    api::STORAGE,
                    Expr::str("default"),
                )
                .parent(sa),
            );
        }
        m.param(
            Param::new("containerName", ParamType::String, "Required. Name of the blob container for the artifacts.")
                .length(3, 63),
            from_spec_string(&container),
        );
        m.param(principal_param(), Expr::output("identity", PRINCIPAL));
        m.push(
            resource(
                "container",
                "Microsoft.Storage/storageAccounts/blobServices/containers",
                api::STORAGE,
                Expr::param("containerName"),
            )
            .parent("blobService")
            .with("properties", Expr::obj(vec![("publicAccess", Expr::str("None"))])),
        );
        m.push(assignment("containerReader", Role::StorageBlobDataReader, Some("container"), None));
        m.output("accountName", ParamType::String, "Name of the storage account.", Expr::prop_of(sa, &["name"]));
        m.output(
            "containerUrl",
            ParamType::String,
            "URL of the artifact container, without a trailing slash.",
            Expr::interp(vec![
                Expr::prop_of(sa, &["properties", "primaryEndpoints", "blob"]),
                Expr::param("containerName"),
            ]),
        );
        self.modules.push(m);
        Some(Expr::output("artifacts", "containerUrl"))
    }

    /// The gallery (created) and access to existing image definitions. Returns, per
    /// distribution index, main's expression for the gallery image definition ID.
    fn gallery_modules(&mut self) -> BTreeMap<usize, Expr> {
        let mut ids = BTreeMap::new();
        let image = self.name().to_string();
        let gallery = self.spec.gallery.clone();
        let uses_spec_gallery =
            self.spec.distribute.iter().any(|d| matches!(d, Distribution::Gallery(g) if g.image_id.is_none()));
        let mut spec_gallery_id: Option<Expr> = None;
        if let Some(g) = gallery.as_ref().filter(|g| g.image_id.is_none() && g.name.is_some()) {
            let img = g.image.clone().unwrap_or_default();
            let mut m = module(
                "gallery",
                "gallery",
                &image,
                "The Compute Gallery and the image definition this image is published to, and AIB's right to publish versions of it.",
            );
            m.param(
                Param::new("galleryName", ParamType::String, "Required. Name of the Compute Gallery.").length(1, 80),
                from_spec_string(g.name.as_deref().unwrap_or_default()),
            );
            m.param(
                Param::new("imageDefinitionName", ParamType::String, "Required. Name of the gallery image definition.")
                    .length(1, 80),
                from_spec_string(img.name.as_deref().unwrap_or(&image)),
            );
            self.located(&mut m);
            m.param(principal_param(), Expr::output("identity", PRINCIPAL));
            let mut gprops = Vec::new();
            if let Some(d) = &g.description {
                gprops.push(("description", from_spec_string(d)));
            }
            let mut r = self.tracked(resource(
                "gallery",
                "Microsoft.Compute/galleries",
                api::COMPUTE_GALLERY,
                Expr::param("galleryName"),
            ));
            if !gprops.is_empty() {
                r = r.with("properties", Expr::obj(gprops));
            }
            m.push(r);
            m.push(
                self.tracked(
                    resource(
                        "imageDefinition",
                        "Microsoft.Compute/galleries/images",
                        api::COMPUTE_GALLERY,
                        Expr::param("imageDefinitionName"),
                    )
                    .parent("gallery"),
                )
                .with("properties", self.image_definition_properties(&img)),
            );
            m.push(role_definition("imageVersionWriter", Role::ImageVersionWriter));
            m.push(assignment(
                "imageVersionWriterAssignment",
                Role::ImageVersionWriter,
                Some("imageDefinition"),
                Some("imageVersionWriter"),
            ));
            m.output(
                "imageDefinitionResourceId",
                ParamType::String,
                "Resource ID of the gallery image definition.",
                Expr::id_of("imageDefinition"),
            );
            self.modules.push(m);
            spec_gallery_id = Some(Expr::output("gallery", "imageDefinitionResourceId"));
        }
        // Existing image definitions: each gets the writer role, once.
        let mut existing_ids: Vec<String> = Vec::new();
        if let Some(id) = gallery.as_ref().and_then(|g| g.image_id.clone()).filter(|_| uses_spec_gallery) {
            existing_ids.push(id.clone());
            spec_gallery_id = Some(Expr::str(id));
        }
        for (i, d) in self.spec.distribute.iter().enumerate() {
            if let Distribution::Gallery(g) = d {
                match &g.image_id {
                    Some(id) => {
                        if !existing_ids.contains(id) {
                            existing_ids.push(id.clone());
                        }
                        ids.insert(i, Expr::str(id));
                    }
                    None => {
                        if let Some(e) = &spec_gallery_id {
                            ids.insert(i, e.clone());
                        }
                    }
                }
            }
        }
        for (n, id) in existing_ids.iter().enumerate() {
            let symbol = numbered("galleryAccess", n, existing_ids.len());
            let file = "gallery-access";
            let mut m = module(
                &symbol,
                file,
                &image,
                "AIB's right to publish versions of an existing gallery image definition.",
            );
            m.deployment = numbered_deployment(&m.deployment, n, existing_ids.len());
            m.scope = scope_of(id);
            let names = names_of(id);
            m.param(principal_param(), Expr::output("identity", PRINCIPAL));
            m.push(existing(
                "gallery",
                "Microsoft.Compute/galleries",
                api::COMPUTE_GALLERY,
                names.first().map(String::as_str).unwrap_or_default(),
            ));
            m.push(
                existing(
                    "imageDefinition",
                    "Microsoft.Compute/galleries/images",
                    api::COMPUTE_GALLERY,
                    names.get(1).map(String::as_str).unwrap_or_default(),
                )
                .parent("gallery"),
            );
            m.push(role_definition("imageVersionWriter", Role::ImageVersionWriter));
            m.push(assignment(
                "imageVersionWriterAssignment",
                Role::ImageVersionWriter,
                Some("imageDefinition"),
                Some("imageVersionWriter"),
            ));
            self.modules.push(m);
        }
        ids
    }

    fn image_definition_properties(&self, img: &ImageDefinition) -> Expr {
        let spec = self.spec;
        let mut props: Vec<(&str, Expr)> = Vec::new();
        if let Some(d) = &spec.description {
            props.push(("description", from_spec_string(d)));
        }
        props.push(("osType", Expr::str(spec.os.azure_name())));
        props.push(("osState", Expr::str(img.os_state.unwrap_or(OsState::Generalized).azure_name())));
        props
            .push(("hyperVGeneration", Expr::str(img.hyper_v_generation.unwrap_or(HyperVGeneration::V2).azure_name())));
        if let Some(a) = img.architecture {
            props.push(("architecture", Expr::str(a.azure_name())));
        }
        props.push((
            "identifier",
            Expr::obj(vec![
                ("publisher", from_spec_string(img.publisher.as_deref().unwrap_or_default())),
                ("offer", from_spec_string(img.offer.as_deref().unwrap_or_default())),
                ("sku", from_spec_string(img.sku.as_deref().unwrap_or_default())),
            ]),
        ));
        let mut features: Vec<Expr> = Vec::new();
        if let Some(st) = img.security_type {
            features.push(Expr::obj(vec![("name", Expr::str("SecurityType")), ("value", Expr::str(st.azure_name()))]));
        }
        for (k, v) in &img.features {
            features.push(Expr::obj(vec![("name", Expr::str(k)), ("value", from_spec_string(v))]));
        }
        if !features.is_empty() {
            props.push(("features", Expr::Array(features)));
        }
        if let Some(e) = &img.eula {
            props.push(("eula", Expr::str(e)));
        }
        if let Some(e) = &img.end_of_life {
            props.push(("endOfLifeDate", from_spec_string(e)));
        }
        Expr::obj(props)
    }

    fn source_access(&mut self) {
        let image = self.name().to_string();
        let (id, what) = match &self.spec.source {
            Source::Gallery(GallerySource::Id(id)) => (id.clone(), "gallery"),
            Source::Gallery(GallerySource::Long(g)) => (g.image_id.clone(), "gallery"),
            Source::ManagedImage(id) => (id.clone(), "managed"),
            Source::Platform(_) => return,
        };
        let mut m = module(
            "sourceAccess",
            "source-access",
            &image,
            "AIB's right to read the source image, and nothing else there.",
        );
        m.scope = scope_of(&id);
        m.param(principal_param(), Expr::output("identity", PRINCIPAL));
        let names = names_of(&id);
        if what == "gallery" {
            m.push(existing(
                "gallery",
                "Microsoft.Compute/galleries",
                api::COMPUTE_GALLERY,
                names.first().map(String::as_str).unwrap_or_default(),
            ));
            m.push(
                existing(
                    "sourceImage",
                    "Microsoft.Compute/galleries/images",
                    api::COMPUTE_GALLERY,
                    names.get(1).map(String::as_str).unwrap_or_default(),
                )
                .parent("gallery"),
            );
        } else {
            m.push(existing(
                "sourceImage",
                "Microsoft.Compute/images",
                api::COMPUTE_IMAGES,
                names.first().map(String::as_str).unwrap_or_default(),
            ));
        }
        m.push(assignment("sourceReader", Role::Reader, Some("sourceImage"), None));
        self.modules.push(m);
    }

    fn staging_access(&mut self) {
        let Some(rg) = self.spec.build.as_ref().and_then(|b| b.staging_resource_group.clone()) else {
            return;
        };
        let mut m = module(
            "stagingAccess",
            "staging-access",
            self.name(),
            "AIB's rights in the staging resource group it builds in.",
        );
        m.scope = scope_of(&rg);
        m.param(principal_param(), Expr::output("identity", PRINCIPAL));
        m.push(assignment("stagingContributor", Role::Contributor, None, None));
        self.modules.push(m);
    }

    fn network_access(&mut self) {
        let Some(SubnetRefOwned { ids }) = self.spec.build.as_ref().and_then(|b| b.subnet.as_ref()).map(subnet_ids)
        else {
            return;
        };
        // One assignment per virtual network: the subnet's parent.
        let mut vnets: Vec<String> = Vec::new();
        for id in ids {
            if let Some(i) = id.to_ascii_lowercase().rfind("/subnets/") {
                let vnet = id[..i].to_string();
                if !vnets.contains(&vnet) {
                    vnets.push(vnet);
                }
            }
        }
        let image = self.name().to_string();
        for (n, vnet) in vnets.iter().enumerate() {
            let symbol = numbered("networkAccess", n, vnets.len());
            let mut m = module(
                &symbol,
                "network-access",
                &image,
                "AIB's right to join its build VM to the build subnet's virtual network.",
            );
            m.deployment = numbered_deployment(&m.deployment, n, vnets.len());
            m.scope = scope_of(vnet);
            m.param(principal_param(), Expr::output("identity", PRINCIPAL));
            m.push(existing(
                "virtualNetwork",
                "Microsoft.Network/virtualNetworks",
                api::NETWORK,
                names_of(vnet).first().map(String::as_str).unwrap_or_default(),
            ));
            m.push(role_definition("subnetJoiner", Role::SubnetJoiner));
            m.push(assignment(
                "subnetJoinerAssignment",
                Role::SubnetJoiner,
                Some("virtualNetwork"),
                Some("subnetJoiner"),
            ));
            self.modules.push(m);
        }
    }

    fn vm_identity_access(&mut self) {
        let ids = self.spec.build.as_ref().map(|b| b.vm_identities.clone()).unwrap_or_default();
        if ids.is_empty() {
            return;
        }
        let mut groups: Vec<(RgScope, Vec<String>)> = Vec::new();
        for id in &ids {
            let Some(scope) = scope_of(id) else { continue };
            match groups.iter_mut().find(|(s, _)| *s == scope) {
                Some((_, v)) => v.push(id.clone()),
                None => groups.push((scope, vec![id.clone()])),
            }
        }
        let image = self.name().to_string();
        let count = groups.len();
        for (n, (scope, ids)) in groups.into_iter().enumerate() {
            let symbol = numbered("vmIdentityAccess", n, count);
            let mut m = module(
                &symbol,
                "vm-identity-access",
                &image,
                "AIB's right to attach these user-assigned identities to the build VM, and no other.",
            );
            m.deployment = numbered_deployment(&m.deployment, n, count);
            m.scope = Some(scope);
            m.param(principal_param(), Expr::output("identity", PRINCIPAL));
            for (i, id) in ids.iter().enumerate() {
                let sym = numbered("vmIdentity", i, ids.len());
                m.push(existing(
                    &sym,
                    "Microsoft.ManagedIdentity/userAssignedIdentities",
                    api::MANAGED_IDENTITY,
                    names_of(id).first().map(String::as_str).unwrap_or_default(),
                ));
                m.push(assignment(&format!("{sym}Operator"), Role::ManagedIdentityOperator, Some(&sym), None));
            }
            self.modules.push(m);
        }
    }

    fn managed_image_access(&mut self) {
        let mut groups: Vec<Option<String>> = Vec::new();
        for d in &self.spec.distribute {
            if let Distribution::ManagedImage(mi) = d
                && !groups.contains(&mi.resource_group)
            {
                groups.push(mi.resource_group.clone());
            }
        }
        let image = self.name().to_string();
        let count = groups.len();
        for (n, rg) in groups.into_iter().enumerate() {
            let symbol = numbered("managedImageAccess", n, count);
            let mut m = module(
                &symbol,
                "managed-image-access",
                &image,
                "AIB's right to create the managed image in this resource group.",
            );
            m.deployment = numbered_deployment(&m.deployment, n, count);
            m.scope = rg.map(|rg| RgScope { subscription: String::new(), resource_group: rg });
            m.param(principal_param(), Expr::output("identity", PRINCIPAL));
            m.push(role_definition("managedImageWriter", Role::ManagedImageWriter));
            m.push(assignment(
                "managedImageWriterAssignment",
                Role::ManagedImageWriter,
                None,
                Some("managedImageWriter"),
            ));
            self.modules.push(m);
        }
    }

    fn image_template(
        &mut self,
        identity: &IdentityRefs,
        artifacts_url: Option<Expr>,
        gallery_ids: &BTreeMap<usize, Expr>,
    ) -> (Module, String) {
        let spec = self.spec;
        let image = self.name().to_string();
        let mut m = module(
            "imageTemplate",
            "image-template",
            &image,
            "The Azure Image Builder template: source, customization, validation and distribution of the image.",
        );
        m.depends_on = self.modules.iter().filter(|x| x.symbol != "identity").map(|x| x.symbol.clone()).collect();
        m.condition = Some(Expr::param(DEPLOY_TEMPLATE));
        self.located(&mut m);
        m.param(
            Param::new(
                "identityResourceId",
                ParamType::String,
                "Required. Resource ID of the user-assigned identity AIB runs as.",
            ),
            identity.resource_id.clone(),
        );
        if let Some(url) = artifacts_url {
            m.param(
                Param::new(
                    "artifactsUrl",
                    ParamType::String,
                    "Required. URL of the container holding the build's scripts and files.",
                ),
                url,
            );
        }
        let mut gallery_params: Vec<(Expr, String)> = Vec::new();
        for e in gallery_ids.values() {
            if !gallery_params.iter().any(|(x, _)| x == e) {
                let n = if gallery_params.is_empty() {
                    "imageDefinitionResourceId".to_string()
                } else {
                    format!("imageDefinitionResourceId{}", gallery_params.len() + 1)
                };
                m.param(
                    Param::new(
                        &n,
                        ParamType::String,
                        "Required. Resource ID of the gallery image definition to publish to.",
                    ),
                    e.clone(),
                );
                gallery_params.push((e.clone(), n));
            }
        }
        if self.needs_image_version_param() {
            m.param(
                Param::new("imageVersion", ParamType::String, "Required. Gallery image version to publish."),
                Expr::param("imageVersion"),
            );
        }

        let ctx = StepCtx { artifacts: &self.artifacts };
        let mut props: Vec<(&str, Expr)> = vec![("source", source_expr(&spec.source))];
        if !self.steps.is_empty() {
            let items = self.steps.iter().enumerate().map(|(i, (comment, s))| {
                let e = ctx.customizer(i, s);
                match comment {
                    Some(c) => Expr::commented(c.clone(), e),
                    None => e,
                }
            });
            props.push(("customize", Expr::Array(items.collect())));
        }
        if let Some(v) = &spec.validate {
            let mut vp: Vec<(&str, Expr)> = Vec::new();
            if let Some(c) = v.continue_distribute_on_failure {
                vp.push(("continueDistributeOnFailure", Expr::Bool(c)));
            }
            if let Some(s) = v.source_only {
                vp.push(("sourceValidationOnly", Expr::Bool(s)));
            }
            if !v.steps.is_empty() {
                vp.push((
                    "inVMValidations",
                    Expr::Array(v.steps.iter().enumerate().map(|(i, s)| ctx.validator(i, s)).collect()),
                ));
            }
            props.push(("validate", Expr::obj(vp)));
        }
        if let Some(o) = &spec.optimize {
            let state = |b: bool| Expr::obj(vec![("state", Expr::str(if b { "Enabled" } else { "Disabled" }))]);
            let mut op: Vec<(&str, Expr)> = Vec::new();
            if let Some(b) = o.vm_boot {
                op.push(("vmBoot", state(b)));
            }
            if let Some(b) = o.workload {
                op.push(("workload", state(b)));
            }
            props.push(("optimize", Expr::obj(op)));
        }
        let mut dists = Vec::new();
        for (i, d) in spec.distribute.iter().enumerate() {
            let gallery_param =
                gallery_ids.get(&i).and_then(|e| gallery_params.iter().find(|(x, _)| x == e)).map(|(_, n)| n.clone());
            dists.push(self.distributor(d, gallery_param.as_deref()));
        }
        props.push(("distribute", Expr::Array(dists)));
        let build = spec.build.clone().unwrap_or_default();
        if let Some(t) = build.timeout_minutes {
            props.push(("buildTimeoutInMinutes", Expr::Int(t.into())));
        }
        let mut vm: Vec<(&str, Expr)> = Vec::new();
        if let Some(s) = &build.vm_size {
            vm.push(("vmSize", from_spec_string(s)));
        }
        if let Some(d) = build.os_disk_size_gb {
            vm.push(("osDiskSizeGB", Expr::Int(d.into())));
        }
        if !build.vm_identities.is_empty() {
            vm.push(("userAssignedIdentities", Expr::strings(&build.vm_identities)));
        }
        if let Some(s) = &build.subnet {
            let mut vnet: Vec<(&str, Expr)> = Vec::new();
            match s {
                SubnetRef::Id(id) => vnet.push(("subnetId", Expr::str(id))),
                SubnetRef::Long(s) => {
                    vnet.push(("subnetId", Expr::str(&s.id)));
                    if let Some(c) = &s.container_instance_subnet_id {
                        vnet.push(("containerInstanceSubnetId", Expr::str(c)));
                    }
                    if let Some(p) = &s.proxy_vm_size {
                        vnet.push(("proxyVmSize", from_spec_string(p)));
                    }
                }
            }
            vm.push(("vnetConfig", Expr::obj(vnet)));
        }
        if !vm.is_empty() {
            props.push(("vmProfile", Expr::obj(vm)));
        }
        if !build.data_disks.is_empty() {
            props.push((
                "additionalDataDisks",
                Expr::Array(
                    build.data_disks.iter().map(|d| Expr::obj(vec![("sizeGB", Expr::Int(d.size_gb.into()))])).collect(),
                ),
            ));
        }
        if let Some(rg) = &build.staging_resource_group {
            props.push(("stagingResourceGroup", Expr::str(rg)));
        }
        if build.on_customizer_error.is_some() || build.on_validation_error.is_some() {
            let mut eh: Vec<(&str, Expr)> = Vec::new();
            if let Some(e) = build.on_customizer_error {
                eh.push(("onCustomizerError", Expr::str(e.azure_name())));
            }
            if let Some(e) = build.on_validation_error {
                eh.push(("onValidationError", Expr::str(e.azure_name())));
            }
            props.push(("errorHandling", Expr::obj(eh)));
        }
        if !build.managed_resource_tags.is_empty() {
            props.push(("managedResourceTags", tags_expr(&build.managed_resource_tags)));
        }
        if let Some(a) = build.auto_run {
            props.push(("autoRun", Expr::obj(vec![("state", Expr::str(if a { "Enabled" } else { "Disabled" }))])));
        }

        let template = self
            .tracked(resource(
                "imageTemplate",
                "Microsoft.VirtualMachineImages/imageTemplates",
                api::IMAGE_BUILDER,
                Expr::param("name"),
            ))
            .with(
                "identity",
                Expr::obj(vec![
                    ("type", Expr::str("UserAssigned")),
                    (
                        "userAssignedIdentities",
                        Expr::Object(vec![Prop {
                            key: Expr::param("identityResourceId"),
                            value: Expr::Object(vec![]),
                        }]),
                    ),
                ]),
            )
            .with("properties", Expr::obj(props));
        m.push(template);
        if spec.trigger.as_ref().is_some_and(|t| t.source_image) {
            m.push(
                resource(
                    "sourceImageTrigger",
                    "Microsoft.VirtualMachineImages/imageTemplates/triggers",
                    api::IMAGE_BUILDER,
                    Expr::str("source-image"),
                )
                .parent("imageTemplate")
                .comment("Starts a build when the source gallery image publishes a new version.")
                .with("properties", Expr::obj(vec![("kind", Expr::str("SourceImage"))])),
            );
        }
        m.output("name", ParamType::String, "Name of the image template.", Expr::prop_of("imageTemplate", &["name"]));
        m.output("resourceId", ParamType::String, "Resource ID of the image template.", Expr::id_of("imageTemplate"));

        // User parameters inside the template must be module parameters before the name is
        // derived, so that their deploy-time values take part in it.
        plumb_user_params(&mut m, spec);
        // The name carries a hash of everything that decides the template's content: AIB
        // rejects most updates, so different content must mean a different template.
        let mut digest = Digest::new();
        digest.add(&m.resources).add(&m.args).add(&m.params);
        let hash = hex(&digest.finish()[..4]);
        let deploy_time: Vec<Expr> = m
            .args
            .iter()
            .filter(|(n, _)| n != "tags")
            .flat_map(|(_, e)| {
                let mut found = Vec::new();
                e.visit(&mut |x| {
                    if let Expr::Param(p) = x {
                        found.push(Expr::Param(p.clone()));
                    }
                });
                found
            })
            .fold(Vec::new(), |mut acc, e| {
                if !acc.contains(&e) {
                    acc.push(e);
                }
                acc
            });
        let name = if deploy_time.is_empty() {
            Expr::str(format!("{image}-{hash}"))
        } else {
            // Deploy-time values change the content too; fold them into the name.
            let mut args = vec![Expr::str(&hash)];
            args.extend(deploy_time);
            Expr::interp(vec![
                Expr::str(format!("{image}-")),
                Expr::call("take", vec![Expr::call("uniqueString", args), Expr::Int(8)]),
            ])
        };
        m.params
            .insert(0, Param::new("name", ParamType::String, "Required. Name of the image template.").length(1, 64));
        m.args.insert(0, ("name".into(), name));
        (m, hash)
    }

    fn distributor(&self, d: &Distribution, gallery_param: Option<&str>) -> Expr {
        let spec = self.spec;
        let run_output = |explicit: &Option<String>| {
            from_spec_string(explicit.as_deref().unwrap_or(&default_run_output_name(&spec.name, d)))
        };
        let tags = |t: &BTreeMap<String, String>| (!t.is_empty()).then(|| tags_expr(t));
        match d {
            Distribution::Gallery(g) => {
                let base = Expr::param(gallery_param.unwrap_or("imageDefinitionResourceId"));
                let mut versioning = None;
                let image_id = match &g.version {
                    None => base,
                    Some(v) => match (deploy_time_scheme(Some(v)), v) {
                        (Some(_), _) => Expr::interp(vec![base, Expr::str("/versions/"), Expr::param("imageVersion")]),
                        (None, Version::Text(t)) if t == "latest" => {
                            versioning =
                                Some(Expr::obj(vec![("scheme", Expr::str("Latest")), ("major", Expr::Int(-1))]));
                            base
                        }
                        (None, Version::Text(t)) if t == "source" => {
                            versioning = Some(Expr::obj(vec![("scheme", Expr::str("Source"))]));
                            base
                        }
                        (None, Version::Text(t)) => {
                            Expr::interp(vec![base, Expr::str("/versions/"), from_spec_string(t)])
                        }
                        (None, Version::Scheme(s)) => {
                            versioning = Some(match s.scheme {
                                SchemeName::Source => Expr::obj(vec![("scheme", Expr::str("Source"))]),
                                _ => Expr::obj(vec![
                                    ("scheme", Expr::str("Latest")),
                                    ("major", Expr::Int(s.major.unwrap_or(-1).into())),
                                ]),
                            });
                            base
                        }
                    },
                };
                let mut p: Vec<(&str, Expr)> = vec![
                    ("type", Expr::str("SharedImage")),
                    ("galleryImageId", image_id),
                    ("runOutputName", run_output(&g.run_output_name)),
                ];
                if let Some(t) = tags(&g.artifact_tags) {
                    p.push(("artifactTags", t));
                }
                let default_replicas = g.replicas.unwrap_or(1);
                let regions: Vec<Expr> = if g.regions.is_empty() {
                    vec![region_expr(self.location(), default_replicas, g.storage_account_type)]
                } else {
                    g.regions
                        .iter()
                        .map(|r| match r {
                            TargetRegion::Name(n) => {
                                region_expr(from_spec_string(n), default_replicas, g.storage_account_type)
                            }
                            TargetRegion::Long(r) => region_expr(
                                from_spec_string(&r.name),
                                r.replicas.unwrap_or(default_replicas),
                                r.storage_account_type.or(g.storage_account_type),
                            ),
                        })
                        .collect()
                };
                p.push(("targetRegions", Expr::Array(regions)));
                if let Some(e) = g.exclude_from_latest {
                    p.push(("excludeFromLatest", Expr::Bool(e)));
                }
                if let Some(r) = g.replication_mode {
                    p.push((
                        "replicationMode",
                        Expr::str(match r {
                            ReplicationMode::Full => "Full",
                            ReplicationMode::Shallow => "Shallow",
                        }),
                    ));
                }
                if let Some(v) = versioning {
                    p.push(("versioning", v));
                }
                Expr::obj(p)
            }
            Distribution::ManagedImage(mi) => {
                let mut args = Vec::new();
                if let Some(rg) = &mi.resource_group {
                    args.push(from_spec_string(rg));
                }
                args.push(Expr::str("Microsoft.Compute/images"));
                args.push(from_spec_string(&mi.name));
                let mut p: Vec<(&str, Expr)> = vec![
                    ("type", Expr::str("ManagedImage")),
                    ("imageId", Expr::call("resourceId", args)),
                    (
                        "location",
                        mi.location.as_deref().map(from_spec_string).unwrap_or_else(|| self.location_in_template()),
                    ),
                    ("runOutputName", run_output(&mi.run_output_name)),
                ];
                if let Some(t) = tags(&mi.artifact_tags) {
                    p.push(("artifactTags", t));
                }
                Expr::obj(p)
            }
            Distribution::Vhd(v) => {
                let mut p: Vec<(&str, Expr)> =
                    vec![("type", Expr::str("VHD")), ("runOutputName", run_output(&v.run_output_name))];
                if let Some(u) = &v.uri {
                    p.push(("uri", from_spec_string(u)));
                }
                if let Some(t) = tags(&v.artifact_tags) {
                    p.push(("artifactTags", t));
                }
                Expr::obj(p)
            }
        }
    }

    /// Inside the template module, the location is always its `location` param.
    fn location_in_template(&self) -> Expr {
        Expr::param("location")
    }
}

fn region_expr(name: Expr, replicas: u32, storage: Option<StorageAccountType>) -> Expr {
    let name = match name {
        // Inside the template module the location is the module's own parameter.
        Expr::Param(p) if p == "location" => Expr::param("location"),
        e => e,
    };
    let mut p: Vec<(&str, Expr)> = vec![("name", name), ("replicaCount", Expr::Int(replicas.into()))];
    if let Some(s) = storage {
        p.push(("storageAccountType", Expr::str(s.azure_name())));
    }
    Expr::obj(p)
}

/// `date`, `next` and `semver` versions are computed at deploy time.
pub fn deploy_time_scheme(v: Option<&Version>) -> Option<SchemeName> {
    match v? {
        Version::Text(t) => match t.as_str() {
            "date" => Some(SchemeName::Date),
            "next" => Some(SchemeName::Next),
            "semver" => Some(SchemeName::Semver),
            _ => None,
        },
        Version::Scheme(s) => {
            matches!(s.scheme, SchemeName::Date | SchemeName::Next | SchemeName::Semver).then_some(s.scheme)
        }
    }
}

fn source_expr(s: &Source) -> Expr {
    match s {
        Source::Platform(p) => {
            let (publisher, offer, sku, version, plan) = match p {
                PlatformSource::Short(s) => {
                    let parts: Vec<&str> = s.split(':').collect();
                    let get = |i: usize| parts.get(i).map(|s| s.to_string()).unwrap_or_default();
                    (
                        get(0),
                        get(1),
                        get(2),
                        parts.get(3).map(|s| s.to_string()).unwrap_or_else(|| "latest".into()),
                        None,
                    )
                }
                PlatformSource::Long(l) => (
                    l.publisher.clone(),
                    l.offer.clone(),
                    l.sku.clone(),
                    l.version.clone().unwrap_or_else(|| "latest".into()),
                    l.plan.clone(),
                ),
            };
            let mut p: Vec<(&str, Expr)> = vec![
                ("type", Expr::str("PlatformImage")),
                ("publisher", from_spec_string(&publisher)),
                ("offer", from_spec_string(&offer)),
                ("sku", from_spec_string(&sku)),
                ("version", from_spec_string(&version)),
            ];
            if let Some(plan) = plan {
                p.push((
                    "planInfo",
                    Expr::obj(vec![
                        ("planName", Expr::str(plan.name)),
                        ("planProduct", Expr::str(plan.product)),
                        ("planPublisher", Expr::str(plan.publisher)),
                    ]),
                ));
            }
            Expr::obj(p)
        }
        Source::Gallery(GallerySource::Id(id)) => {
            Expr::obj(vec![("type", Expr::str("SharedImageVersion")), ("imageVersionId", from_spec_string(id))])
        }
        Source::Gallery(GallerySource::Long(g)) => Expr::obj(vec![
            ("type", Expr::str("SharedImageVersion")),
            (
                "imageVersionId",
                from_spec_string(&format!("{}/versions/{}", g.image_id, g.version.as_deref().unwrap_or("latest"))),
            ),
        ]),
        Source::ManagedImage(id) => {
            Expr::obj(vec![("type", Expr::str("ManagedImage")), ("imageId", from_spec_string(id))])
        }
    }
}

struct StepCtx<'a> {
    artifacts: &'a [Artifact],
}

impl StepCtx<'_> {
    /// A script or file reference: a remote URL as given, or the uploaded blob.
    fn uri(&self, value: &str, sha: Option<&str>) -> (Expr, Option<String>) {
        if value.contains("://") {
            return (Expr::str(value), sha.map(str::to_string));
        }
        let a = self.artifacts.iter().find(|a| a.spec_path == value).expect("every local file is an artifact");
        (Expr::interp(vec![Expr::param("artifactsUrl"), Expr::str(format!("/{}", a.blob))]), Some(a.sha256.clone()))
    }

    fn script(
        &self,
        p: &mut Vec<(&'static str, Expr)>,
        inline: &Option<Inline>,
        script: &Option<String>,
        sha: &Option<String>,
    ) {
        if let Some(i) = inline {
            p.push(("inline", Expr::strings(&i.lines())));
        }
        if let Some(s) = script {
            let (uri, sha) = self.uri(s, sha.as_deref());
            p.push(("scriptUri", uri));
            if let Some(sha) = sha {
                p.push(("sha256Checksum", Expr::str(sha)));
            }
        }
    }

    fn powershell(&self, i: usize, s: &PowerShellStep) -> Expr {
        let mut p: Vec<(&str, Expr)> = vec![
            ("type", Expr::str("PowerShell")),
            ("name", Expr::str(step_name(i, "PowerShell", s.name.as_deref(), s.script.as_deref()))),
        ];
        self.script(&mut p, &s.inline, &s.script, &s.sha256);
        if let Some(b) = s.run_elevated {
            p.push(("runElevated", Expr::Bool(b)));
        }
        if let Some(b) = s.run_as_system {
            p.push(("runAsSystem", Expr::Bool(b)));
        }
        if !s.valid_exit_codes.is_empty() {
            p.push((
                "validExitCodes",
                Expr::Array(s.valid_exit_codes.iter().map(|c| Expr::Int((*c).into())).collect()),
            ));
        }
        Expr::obj(p)
    }

    fn shell(&self, i: usize, s: &ShellStep) -> Expr {
        let mut p: Vec<(&str, Expr)> = vec![
            ("type", Expr::str("Shell")),
            ("name", Expr::str(step_name(i, "Shell", s.name.as_deref(), s.script.as_deref()))),
        ];
        self.script(&mut p, &s.inline, &s.script, &s.sha256);
        Expr::obj(p)
    }

    fn file(&self, i: usize, f: &FileStep) -> Expr {
        let (uri, sha) = self.uri(&f.source, f.sha256.as_deref());
        let mut p: Vec<(&str, Expr)> = vec![
            ("type", Expr::str("File")),
            ("name", Expr::str(step_name(i, "File", f.name.as_deref(), Some(&f.source)))),
            ("sourceUri", uri),
        ];
        if let Some(sha) = sha {
            p.push(("sha256Checksum", Expr::str(sha)));
        }
        p.push(("destination", from_spec_string(&f.destination)));
        Expr::obj(p)
    }

    fn customizer(&self, i: usize, s: &Step) -> Expr {
        match s {
            Step::PowerShell(s) => self.powershell(i, s),
            Step::Shell(s) => self.shell(i, s),
            Step::File(f) => self.file(i, f),
            Step::WindowsRestart(r) => {
                let mut p: Vec<(&str, Expr)> = vec![
                    ("type", Expr::str("WindowsRestart")),
                    ("name", Expr::str(step_name(i, "WindowsRestart", r.name.as_deref(), None))),
                ];
                if let Some(c) = &r.command {
                    p.push(("restartCommand", Expr::str(c)));
                }
                if let Some(c) = &r.check_command {
                    p.push(("restartCheckCommand", Expr::str(c)));
                }
                if let Some(t) = &r.timeout {
                    p.push(("restartTimeout", from_spec_string(t)));
                }
                Expr::obj(p)
            }
            Step::WindowsUpdate(u) => {
                let mut p: Vec<(&str, Expr)> = vec![
                    ("type", Expr::str("WindowsUpdate")),
                    ("name", Expr::str(step_name(i, "WindowsUpdate", u.name.as_deref(), None))),
                ];
                if let Some(c) = &u.search_criteria {
                    p.push(("searchCriteria", Expr::str(c)));
                }
                if !u.filters.is_empty() {
                    p.push(("filters", Expr::strings(&u.filters)));
                }
                if let Some(l) = u.update_limit {
                    p.push(("updateLimit", Expr::Int(l.into())));
                }
                Expr::obj(p)
            }
        }
    }

    fn validator(&self, i: usize, s: &ValidationStep) -> Expr {
        match s {
            ValidationStep::PowerShell(s) => self.powershell(i, s),
            ValidationStep::Shell(s) => self.shell(i, s),
            ValidationStep::File(f) => self.file(i, f),
        }
    }
}

/// A step's name in AIB's log: as given, else the script's file name, else type and position.
fn step_name(i: usize, kind: &str, name: Option<&str>, file: Option<&str>) -> String {
    if let Some(n) = name {
        return n.to_string();
    }
    if let Some(f) = file
        && let Some(base) = f.rsplit(['/', '\\']).next().filter(|b| !b.is_empty())
    {
        return base.split('?').next().unwrap_or(base).to_string();
    }
    format!("{kind}-{}", i + 1)
}

fn step_file(s: &Step) -> Option<&str> {
    match s {
        Step::PowerShell(p) => p.script.as_deref(),
        Step::Shell(p) => p.script.as_deref(),
        Step::File(f) => Some(&f.source),
        _ => None,
    }
}

fn validation_file(s: &ValidationStep) -> Option<&str> {
    match s {
        ValidationStep::PowerShell(p) => p.script.as_deref(),
        ValidationStep::Shell(p) => p.script.as_deref(),
        ValidationStep::File(f) => Some(&f.source),
    }
}

struct SubnetRefOwned {
    ids: Vec<String>,
}

fn subnet_ids(s: &SubnetRef) -> SubnetRefOwned {
    match s {
        SubnetRef::Id(id) => SubnetRefOwned { ids: vec![id.clone()] },
        SubnetRef::Long(s) => SubnetRefOwned {
            ids: std::iter::once(s.id.clone()).chain(s.container_instance_subnet_id.clone()).collect(),
        },
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
