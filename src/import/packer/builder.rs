//! The azure-arm builder → the image template's source, distributions, build VM and
//! staging settings (in the API's shape).
//!
//! IDs Packer assembles from names (a managed image's group and name, a gallery's) are
//! written as the resource IDs AIB takes. Where the builder names no subscription, the
//! one Packer signs in to is meant: the deployment's subscription, to aibc.

use super::super::diag::{Finding, ImportCode};
use super::super::params::Params;
use super::super::value::{Piece, Text, V, Val};
use super::model::Block;
use crate::source::Span;
use crate::spec::Os;

/// The image template a builder describes, before its customizers.
pub struct Built {
    pub properties: Vec<(String, Span, Val)>,
    pub location: Option<Val>,
    pub os: Option<(Os, Span)>,
    /// The OS the communicator points to (WinRM: Windows, SSH: Linux).
    pub os_hint: Option<(Os, Span, String)>,
    /// What names the image (a gallery image, a managed image).
    pub name: Option<Val>,
}

/// Settings AIB takes care of itself: signing in, connecting to the build VM, and the
/// build VM's temporary resources.
fn done_by_aib(key: &str) -> bool {
    const KEYS: &[&str] = &[
        "client_id",
        "client_secret",
        "client_cert_path",
        "client_cert_token_timeout",
        "client_jwt",
        "object_id",
        "tenant_id",
        "use_azure_cli_auth",
        "use_interactive_auth",
        "oidc_request_url",
        "oidc_request_token",
        "cloud_environment_name",
        "communicator",
        "pause_before_connecting",
        "temp_compute_name",
        "temp_nic_name",
        "temp_os_disk_name",
        "build_key_vault_name",
        "build_key_vault_sku",
        "build_key_vault_secret_name",
        "async_resourcegroup_delete",
        "polling_duration_timeout",
        "public_ip_sku",
        "allowed_inbound_ip_addresses",
    ];
    KEYS.contains(&key) || key.starts_with("ssh_") || key.starts_with("winrm_")
}

struct Cx<'a> {
    b: &'a Block,
    findings: &'a mut Vec<Finding>,
    handled: Vec<&'static str>,
    /// A subscription only known when building was reported.
    noted_subscription: bool,
    params: &'a Params,
}

fn lit(s: &str, span: Span) -> Val {
    Val::str(Text::lit(s), span)
}

fn obj(span: Span, entries: Vec<(&str, Val)>) -> Val {
    Val::new(V::Obj(entries.into_iter().map(|(k, v)| (k.to_string(), v.span, v)).collect()), span)
}

fn text(v: &Val) -> Text {
    match &v.v {
        V::Str(t) => t.clone(),
        V::Int(i) => Text::lit(i.to_string()),
        _ => Text::default(),
    }
}

/// A resource ID from its parts: `/subscriptions/{sub}/resourceGroups/{rg}` and then
/// `/providers/{namespace}/{type}/{name}…`.
fn resource_id(sub: &Text, rg: &Text, provider: &str, names: &[(&str, Text)]) -> Text {
    let mut id = Text::lit("/subscriptions/");
    id.append(sub.clone());
    id.push(Piece::Lit("/resourceGroups/".into()));
    id.append(rg.clone());
    if !provider.is_empty() {
        id.push(Piece::Lit(format!("/providers/{provider}")));
    }
    for (ty, name) in names {
        id.push(Piece::Lit(format!("/{ty}/")));
        id.append(name.clone());
    }
    id
}

fn deployment_subscription() -> Text {
    Text::piece(Piece::Ctx("subscription().subscriptionId".into()))
}

impl Cx<'_> {
    /// A setting; an empty string is no setting, as in Packer.
    fn get(&mut self, key: &'static str) -> Option<Val> {
        self.handled.push(key);
        self.b.get(key).filter(|v| !matches!(v.v, V::Null) && v.lit() != Some("")).cloned()
    }

    fn span_of(&self, key: &str) -> Span {
        self.b.attr(key).map_or(self.b.kind_span, |a| a.key_span)
    }

    fn subscription(&mut self) -> Text {
        match self.get("subscription_id") {
            Some(v) => self.subscription_of(&v),
            None => deployment_subscription(),
        }
    }

    /// A subscription as written; one only known when building (a variable, an
    /// environment variable) is the one Packer signs in to: the deployment's, to aibc.
    fn subscription_of(&mut self, v: &Val) -> Text {
        let known = v.text().is_some_and(|t| {
            t.pieces().iter().all(|p| match p {
                Piece::Lit(_) => true,
                Piece::Param(n) => self.params.get(n).and_then(|d| d.literal_default()).is_some(),
                _ => false,
            })
        });
        if known {
            return text(v);
        }
        if !self.noted_subscription {
            self.noted_subscription = true;
            self.findings.push(
                Finding::new(
                    ImportCode::Changed,
                    v.span,
                    "the subscription is only known when building; the spec's resources are in the subscription it is deployed to",
                )
                .hint("deploy the spec to the subscription Packer signed in to"),
            );
        }
        deployment_subscription()
    }

    /// Keys of a nested block outside `known`, reported.
    fn nested_unknown(&mut self, v: &Val, known: &[&str], block: &str) {
        for (k, span, _) in v.entries() {
            if !known.contains(&k.as_str()) {
                self.findings.push(Finding::new(
                    ImportCode::Unsupported,
                    *span,
                    format!("`{k}` of `{block}` has no AIB counterpart; it is left out"),
                ));
            }
        }
    }

    fn source(&mut self) -> Option<Val> {
        let sub = self.subscription();
        if let Some(publisher) = self.get("image_publisher") {
            let span = publisher.span;
            let mut e = vec![("type", lit("PlatformImage", span)), ("publisher", publisher)];
            for (key, api) in [("image_offer", "offer"), ("image_sku", "sku"), ("image_version", "version")] {
                if let Some(v) = self.get(key) {
                    e.push((api, v));
                }
            }
            if let Some(plan) = self.get("plan_info") {
                self.nested_unknown(&plan, &["plan_name", "plan_product", "plan_publisher"], "plan_info");
                let mut p = Vec::new();
                for (key, api) in
                    [("plan_name", "planName"), ("plan_product", "planProduct"), ("plan_publisher", "planPublisher")]
                {
                    if let Some(v) = plan.get(key) {
                        p.push((api, v.clone()));
                    }
                }
                e.push(("planInfo", obj(plan.span, p)));
            }
            return Some(obj(span, e));
        }
        if let Some(name) = self.get("custom_managed_image_name") {
            let rg = self.get("custom_managed_image_resource_group_name").map(|v| text(&v)).unwrap_or_default();
            let id = resource_id(&sub, &rg, "Microsoft.Compute", &[("images", text(&name))]);
            return Some(obj(
                name.span,
                vec![("type", lit("ManagedImage", name.span)), ("imageId", Val::str(id, name.span))],
            ));
        }
        if let Some(g) = self.get("shared_image_gallery") {
            self.nested_unknown(
                &g,
                &["subscription", "resource_group", "gallery_name", "image_name", "image_version", "id"],
                "shared_image_gallery",
            );
            let id = match g.get("id") {
                Some(id) => text(id),
                None => {
                    let part = |k: &str| g.get(k).map(text).unwrap_or_default();
                    let sub = match g.get("subscription") {
                        Some(s) => self.subscription_of(s),
                        None => sub,
                    };
                    let version = g.get("image_version").map(text).unwrap_or_else(|| Text::lit("latest"));
                    resource_id(
                        &sub,
                        &part("resource_group"),
                        "Microsoft.Compute",
                        &[("galleries", part("gallery_name")), ("images", part("image_name")), ("versions", version)],
                    )
                }
            };
            return Some(obj(
                g.span,
                vec![("type", lit("SharedImageVersion", g.span)), ("imageVersionId", Val::str(id, g.span))],
            ));
        }
        None
    }

    fn distributions(&mut self, location: Option<&Val>, tags: Option<&Val>) -> Vec<Val> {
        let sub = self.subscription();
        let mut out = Vec::new();
        let with_tags = |mut e: Vec<(&'static str, Val)>| {
            if let Some(t) = tags {
                e.push(("artifactTags", t.clone()));
            }
            e
        };
        if let Some(name) = self.get("managed_image_name") {
            let rg = self.get("managed_image_resource_group_name").map(|v| text(&v)).unwrap_or_default();
            // Managed images go to the subscription the build signs in to.
            let id = resource_id(&deployment_subscription(), &rg, "Microsoft.Compute", &[("images", text(&name))]);
            // In the build's region; without one (a build resource group), in the group's.
            let here = location
                .cloned()
                .unwrap_or_else(|| Val::str(Text::piece(Piece::Ctx("resourceGroup().location".into())), name.span));
            let e = vec![
                ("type", lit("ManagedImage", name.span)),
                ("imageId", Val::str(id, name.span)),
                ("location", here),
            ];
            out.push(obj(name.span, with_tags(e)));
        }
        if let Some(g) = self.get("shared_image_gallery_destination") {
            self.nested_unknown(
                &g,
                &[
                    "subscription",
                    "resource_group",
                    "gallery_name",
                    "image_name",
                    "image_version",
                    "replication_regions",
                    "storage_account_type",
                    "target_region",
                    "use_shallow_replication",
                ],
                "shared_image_gallery_destination",
            );
            let part = |k: &str| g.get(k).map(text).unwrap_or_default();
            let gsub = match g.get("subscription") {
                Some(s) => self.subscription_of(s),
                None => sub,
            };
            let mut names = vec![("galleries", part("gallery_name")), ("images", part("image_name"))];
            if let Some(v) = g.get("image_version") {
                names.push(("versions", text(v)));
            }
            let id = resource_id(&gsub, &part("resource_group"), "Microsoft.Compute", &names);
            let mut e = vec![("type", lit("SharedImage", g.span)), ("galleryImageId", Val::str(id, g.span))];
            let replicas = self.get("shared_image_gallery_replica_count");
            let storage = g.get("storage_account_type").cloned();
            let mut regions = Vec::new();
            for r in g.get("replication_regions").map(|r| r.items().to_vec()).unwrap_or_default() {
                let mut re = vec![("name", r.clone())];
                if let Some(n) = &replicas {
                    re.push(("replicaCount", n.clone()));
                }
                if let Some(s) = &storage {
                    re.push(("storageAccountType", s.clone()));
                }
                regions.push(obj(r.span, re));
            }
            // `target_region { name, replicas, storage_account_type }` blocks (HCL), or a
            // list of them (JSON).
            let blocks: Vec<Val> = match g.get("target_region").map(|t| &t.v) {
                Some(V::Arr(items)) => items.clone(),
                Some(V::Obj(_)) => {
                    g.entries().iter().filter(|(k, _, _)| k == "target_region").map(|(_, _, v)| v.clone()).collect()
                }
                _ => Vec::new(),
            };
            for t in blocks {
                self.nested_unknown(&t, &["name", "replicas", "storage_account_type"], "target_region");
                let Some(name) = t.get("name") else { continue };
                let mut re = vec![("name", name.clone())];
                if let Some(n) = t.get("replicas").or(replicas.as_ref()) {
                    re.push(("replicaCount", n.clone()));
                }
                if let Some(s) = t.get("storage_account_type").or(storage.as_ref()) {
                    re.push(("storageAccountType", s.clone()));
                }
                regions.push(obj(t.span, re));
            }
            if regions.is_empty() {
                // Packer replicates to the build's own region.
                if let Some(l) = location {
                    let mut re = vec![("name", l.clone())];
                    if let Some(n) = &replicas {
                        re.push(("replicaCount", n.clone()));
                    }
                    if let Some(s) = &storage {
                        re.push(("storageAccountType", s.clone()));
                    }
                    regions.push(obj(l.span, re));
                }
            }
            e.push(("targetRegions", Val::new(V::Arr(regions), g.span)));
            if let Some(x) = self.get("shared_gallery_image_version_exclude_from_latest") {
                e.push(("excludeFromLatest", x));
            }
            if let Some(s) = g.get("use_shallow_replication")
                && s.v == V::Bool(true)
            {
                e.push(("replicationMode", lit("Shallow", s.span)));
            }
            out.push(obj(g.span, with_tags(e)));
        }
        let vhd_keys = ["capture_container_name", "capture_name_prefix", "storage_account", "resource_group_name"];
        if self.b.get("capture_container_name").is_some() {
            let span = self.span_of("capture_container_name");
            for k in vhd_keys {
                self.handled.push(k);
            }
            self.findings.push(
                Finding::new(
                    ImportCode::Changed,
                    span,
                    "AIB leaves a VHD in its staging storage account; `storage_account`, `capture_container_name` and `capture_name_prefix` are left out",
                )
                .hint("the run output gives the VHD's URL; copy it where it belongs after the build"),
            );
            out.push(obj(span, with_tags(vec![("type", lit("VHD", span))])));
        }
        out
    }

    fn vm_profile(&mut self) -> Option<Val> {
        let sub = self.subscription();
        let mut e = Vec::new();
        if let Some(v) = self.get("vm_size") {
            e.push(("vmSize", v));
        }
        if let Some(v) = self.get("os_disk_size_gb") {
            e.push(("osDiskSizeGB", v));
        }
        if let Some(vnet) = self.get("virtual_network_name") {
            let subnet = self.get("virtual_network_subnet_name").map(|v| text(&v)).unwrap_or_default();
            let rg = match self.get("virtual_network_resource_group_name") {
                Some(v) => text(&v),
                None => Text::piece(Piece::Ctx("resourceGroup().name".into())),
            };
            let id =
                resource_id(&sub, &rg, "Microsoft.Network", &[("virtualNetworks", text(&vnet)), ("subnets", subnet)]);
            e.push(("vnetConfig", obj(vnet.span, vec![("subnetId", Val::str(id, vnet.span))])));
        }
        let span = e.first().map(|(_, v): &(&str, Val)| v.span)?;
        Some(obj(span, e))
    }
}

/// Maps the builder; `customize` are its provisioners' customizers, in order.
pub fn build(b: &Block, customize: Vec<Val>, params: &Params, findings: &mut Vec<Finding>) -> Built {
    let mut cx = Cx { b, findings, handled: Vec::new(), noted_subscription: false, params };
    let location = cx.get("location");
    cx.handled.push("os_type");
    let os = cx.b.get("os_type").and_then(|v| {
        let o = match v.lit()?.to_ascii_lowercase().as_str() {
            "windows" => Os::Windows,
            "linux" => Os::Linux,
            _ => return None,
        };
        Some((o, v.span))
    });
    let mut tags = cx.get("azure_tags");
    // `azure_tag { name = …, value = … }` blocks (HCL).
    cx.handled.push("azure_tag");
    let blocks: Vec<(String, Span, Val)> = b
        .all("azure_tag")
        .iter()
        .filter_map(|a| Some((a.value.get("name")?.lit()?.to_string(), a.key_span, a.value.get("value")?.clone())))
        .collect();
    if !blocks.is_empty() {
        let span = blocks[0].1;
        let mut entries = tags.as_ref().map(|t| t.entries().to_vec()).unwrap_or_default();
        entries.extend(blocks);
        tags = Some(Val::new(V::Obj(entries), span));
    }

    let mut props: Vec<(String, Span, Val)> = Vec::new();
    let mut push = |k: &str, v: Val| props.push((k.to_string(), v.span, v));
    match cx.source() {
        Some(s) => push("source", s),
        None => {
            let span = cx.span_of("image_url");
            let f = if cx.b.get("image_url").is_some() {
                Finding::new(
                    ImportCode::Source,
                    span,
                    "AIB builds from platform, gallery or managed images, not from a VHD URL (`image_url`)",
                )
                .hint("create a managed image (`az image create --source <VHD URL>`) or a gallery image version from the VHD first, then build from it with `custom_managed_image_name` or `shared_image_gallery`")
            } else {
                Finding::new(
                    ImportCode::Invalid,
                    span,
                    "the builder names no source image (image_publisher, custom_managed_image_name or shared_image_gallery)",
                )
            };
            cx.handled.push("image_url");
            cx.findings.push(f);
        }
    }
    if !customize.is_empty() {
        push("customize", Val::new(V::Arr(customize), b.kind_span));
    }
    let dists = cx.distributions(location.as_ref(), tags.as_ref());
    if dists.is_empty() {
        cx.findings.push(Finding::new(ImportCode::Invalid, b.kind_span, "the builder names no image to create").hint(
            "give managed_image_name and managed_image_resource_group_name, or shared_image_gallery_destination",
        ));
    }
    push("distribute", Val::new(V::Arr(dists), b.kind_span));
    if let Some(vm) = cx.vm_profile() {
        push("vmProfile", vm);
    }
    if let Some(disks) = cx.get("disk_additional_size") {
        let items = disks.items().iter().map(|d| obj(d.span, vec![("sizeGB", d.clone())])).collect();
        push("additionalDataDisks", Val::new(V::Arr(items), disks.span));
    }
    let sub = cx.subscription();
    for key in ["temp_resource_group_name", "build_resource_group_name"] {
        if let Some(rg) = cx.get(key) {
            if key == "build_resource_group_name" {
                cx.findings.push(
                    Finding::new(
                        ImportCode::Changed,
                        rg.span,
                        "AIB builds in a staging group that is empty or that it creates; Packer's build group may hold other resources",
                    )
                    .hint("give AIB a group of its own"),
                );
            }
            let id = resource_id(&sub, &text(&rg), "", &[]);
            push("stagingResourceGroup", Val::str(id, rg.span));
        }
    }
    if let Some(t) = &tags {
        push("managedResourceTags", t.clone());
    }
    let name = b
        .get("shared_image_gallery_destination")
        .and_then(|g| g.get("image_name").cloned())
        .or_else(|| b.get("managed_image_name").cloned());

    // What is left: reported, grouped where AIB does the work itself.
    let handled = cx.handled.clone();
    let mut aib: Vec<(&str, Span)> = Vec::new();
    for a in &b.attrs {
        if handled.contains(&a.key.as_str()) || a.key == "subscription_id" {
            continue;
        }
        if done_by_aib(&a.key) {
            aib.push((&a.key, a.key_span));
            continue;
        }
        let hint = match a.key.as_str() {
            "spot" => "AIB builds on regular VMs",
            "user_data" | "user_data_file" | "custom_data" | "custom_data_file" | "custom_script" => {
                "do the same work in a customize step"
            }
            "secure_boot_enabled" | "vtpm_enabled" | "security_type" => {
                "the security type of VMs from the image is set on the gallery image definition (`gallery.image.securityType`)"
            }
            _ => "it is left out",
        };
        cx.findings.push(
            Finding::new(ImportCode::Unsupported, a.key_span, format!("`{}` has no AIB counterpart", a.key)).hint(hint),
        );
    }
    if let Some((first, span)) = aib.first() {
        let keys: Vec<String> = aib.iter().map(|(k, _)| format!("`{k}`")).collect();
        let what =
            if aib.len() == 1 { format!("`{first}` is left out") } else { format!("{} are left out", keys.join(", ")) };
        cx.findings.push(
            Finding::new(
                ImportCode::DoneByAib,
                *span,
                format!("AIB signs in, connects to the build VM and names its temporary resources itself: {what}"),
            )
            .hint("nothing to do: AIB runs as the identity aibc creates"),
        );
    }
    // Read, not handled: AIB connects itself, so the setting is still reported as such.
    let os_hint = b.get("communicator").and_then(|c| {
        let os = match c.lit()?.to_ascii_lowercase().as_str() {
            "winrm" => Os::Windows,
            "ssh" => Os::Linux,
            _ => return None,
        };
        Some((os, c.span, format!("communicator = {}", c.lit().unwrap_or_default())))
    });
    Built { properties: props, location, os, os_hint, name }
}
