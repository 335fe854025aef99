//! The image template itself: source, customizers, validation, distribution, and its
//! content-hashed name.

use super::steps::StepCtx;
use super::*;

impl Builder<'_> {
    pub(super) fn image_template(
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
            let when = match d.enabled() {
                Some(Switch::Fixed(false)) => continue,
                Some(Switch::Param(p)) => crate::params::references(p).next().map(|n| Expr::param(&n)),
                _ => None,
            };
            dists.push((when, self.distributor(d, gallery_param.as_deref())));
        }
        props.push(("distribute", switched_array(dists)));
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
        if let Some(t) = inherited_tags(&spec.tags, &build.managed_resource_tags) {
            props.push(("managedResourceTags", t));
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

        // Storage hosts take the cloud's suffix from the deployment environment: a literal
        // `core.windows.net` is wrong in sovereign clouds (Bicep's no-hardcoded-env-urls).
        for r in &mut m.resources {
            r.body.iter_mut().for_each(|p| storage_suffix(&mut p.value));
        }
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
            // uniqueString() takes strings only: int and bool parameters go through string().
            let mut args = vec![Expr::str(&hash)];
            args.extend(deploy_time.into_iter().map(|e| match &e {
                Expr::Param(p) if spec.parameters.get(p).is_some_and(|d| d.kind != ParameterType::String) => {
                    Expr::call("string", vec![e])
                }
                _ => e,
            }));
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

    pub(super) fn distributor(&self, d: &Distribution, gallery_param: Option<&str>) -> Expr {
        let spec = self.spec;
        let run_output = |explicit: &Option<String>| {
            from_spec_string(explicit.as_deref().unwrap_or(&default_run_output_name(&spec.name, d)))
        };
        let tags = |t: &BTreeMap<String, String>| inherited_tags(&spec.tags, t);
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
                    // A gallery created here sits at `location`, and AIB needs the gallery's
                    // region among the targets ("One of the regions must be the region where
                    // the Gallery is deployed"): that entry follows the parameter, so a
                    // deploy-time location cannot leave the gallery out of its own regions.
                    let created_here = g.image_id.is_none()
                        && self.spec.gallery.as_ref().is_some_and(|x| x.image_id.is_none() && x.name.is_some());
                    let gallery_region = |n: &str| {
                        if created_here && self.spec.location.as_deref().is_some_and(|l| same_region(l, n)) {
                            self.location()
                        } else {
                            from_spec_string(n)
                        }
                    };
                    g.regions
                        .iter()
                        .map(|r| match r {
                            TargetRegion::Name(n) => {
                                region_expr(gallery_region(n), default_replicas, g.storage_account_type)
                            }
                            TargetRegion::Long(r) => region_expr(
                                gallery_region(&r.name),
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
    pub(super) fn location_in_template(&self) -> Expr {
        Expr::param("location")
    }
}

/// Items some of which are there only when their parameter is true: `concat([a, b], c ? [x] : [])`.
fn switched_array(items: Vec<(Option<Expr>, Expr)>) -> Expr {
    if items.iter().all(|(when, _)| when.is_none()) {
        return Expr::Array(items.into_iter().map(|(_, e)| e).collect());
    }
    let mut chunks: Vec<Expr> = Vec::new();
    let mut fixed: Vec<Expr> = Vec::new();
    for (when, e) in items {
        match when {
            None => fixed.push(e),
            Some(c) => {
                if !fixed.is_empty() {
                    chunks.push(Expr::Array(std::mem::take(&mut fixed)));
                }
                chunks.push(Expr::Cond(Box::new(c), Box::new(Expr::Array(vec![e])), Box::new(Expr::Array(vec![]))));
            }
        }
    }
    if !fixed.is_empty() {
        chunks.push(Expr::Array(fixed));
    }
    Expr::call("concat", chunks)
}

/// The spec's tags with `own` on top (a key of `own` wins), or nothing when both are empty.
fn inherited_tags(spec: &BTreeMap<String, String>, own: &BTreeMap<String, String>) -> Option<Expr> {
    let mut all = spec.clone();
    all.extend(own.iter().map(|(k, v)| (k.clone(), v.clone())));
    (!all.is_empty()).then(|| tags_expr(&all))
}

const STORAGE_SUFFIX: &str = "core.windows.net";

/// `environment().suffixes.storage`.
fn storage_suffix_expr() -> Expr {
    Expr::Access(
        Box::new(Expr::Access(Box::new(Expr::call("environment", vec![])), "suffixes".into())),
        "storage".into(),
    )
}

/// Splits every literal around `core.windows.net` and puts the environment's storage suffix
/// there (`https://x.blob.core.windows.net/…` → `'https://x.blob.${environment().suffixes.storage}/…'`).
fn storage_suffix(e: &mut Expr) {
    match e {
        Expr::Str(s) if s.to_ascii_lowercase().contains(STORAGE_SUFFIX) => {
            *e = Expr::interp(split_suffix(s));
        }
        Expr::Interp(parts) => {
            let mut out = Vec::new();
            for p in parts.drain(..) {
                match p {
                    Expr::Str(s) if s.to_ascii_lowercase().contains(STORAGE_SUFFIX) => out.extend(split_suffix(&s)),
                    other => out.push(other),
                }
            }
            *parts = out;
        }
        Expr::Array(items) | Expr::Call(_, items) => items.iter_mut().for_each(storage_suffix),
        Expr::Object(props) => props.iter_mut().for_each(|p| storage_suffix(&mut p.value)),
        Expr::Commented(_, inner) => storage_suffix(inner),
        Expr::Cond(_, a, b) => {
            storage_suffix(a);
            storage_suffix(b);
        }
        _ => {}
    }
}

fn split_suffix(s: &str) -> Vec<Expr> {
    let lower = s.to_ascii_lowercase();
    let mut parts = Vec::new();
    let mut at = 0;
    while let Some(i) = lower[at..].find(STORAGE_SUFFIX) {
        if i > 0 {
            parts.push(Expr::str(&s[at..at + i]));
        }
        parts.push(storage_suffix_expr());
        at += i + STORAGE_SUFFIX.len();
    }
    if at < s.len() {
        parts.push(Expr::str(&s[at..]));
    }
    parts
}

/// `West Europe` and `westeurope` are the same region.
pub fn same_region(a: &str, b: &str) -> bool {
    let norm = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_lowercase();
    !crate::params::has_references(a) && norm(a) == norm(b)
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

pub(super) fn source_expr(s: &Source) -> Expr {
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
