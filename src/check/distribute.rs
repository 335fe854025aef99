//! Distributions, the gallery image definition, versions and replication regions.

use std::collections::HashMap;

use super::{Context, Explain, names, source::region};
use crate::diagnostic::Code;
use crate::node::{Anchor, Path};
use crate::params::has_references;
use crate::spec::{Architecture, Distribution, HyperVGeneration, SecurityType, TargetRegion, Version};

pub fn check(cx: &mut Context) {
    let spec = cx.spec;
    // Each name with where it was set: the `runOutputName` value, or the distribution's key
    // when the name is the default.
    let mut outputs: HashMap<String, (Path, Anchor)> = HashMap::new();
    // A `gallery` without `name` or `imageId` is reported on its own (below).
    let has_gallery_def = spec.gallery.is_some();

    for (i, dist) in spec.distribute.iter().enumerate() {
        let at = Path::root().join("distribute").join(i).join(dist.key());
        let (name, explicit) = match dist.run_output_name() {
            Some(n) => (n.to_string(), true),
            None => (crate::plan::default_run_output_name(&spec.name, dist), false),
        };
        let (name_at, anchor) =
            if explicit { (at.join("runOutputName"), Anchor::Value) } else { (at.clone(), Anchor::Key) };
        if explicit && !has_references(&name) && !run_output_name_ok(&name) {
            cx.at(Code::RunOutputName, &name_at, format!("`{name}` cannot name a run output"))
                .hint("use 1-64 letters, digits, `-`, `_` and `.`");
        }
        if let Some((first, first_anchor)) = outputs.get(&name).cloned() {
            let first_line = cx.node.locate(&first, first_anchor).start.line;
            let message = format!("a second distribution is named `{name}`");
            let d = match anchor {
                Anchor::Value => cx.at(Code::DuplicateRunOutputName, &name_at, message),
                Anchor::Key => cx.at_key(Code::DuplicateRunOutputName, &name_at, message),
            };
            let d = d.label(format!("also used on line {first_line}"));
            if explicit {
                d.hint("give each distribution its own `runOutputName`");
            } else {
                d.hint(format!("both get the default name `{name}`; set `runOutputName` on one of them"));
            }
        } else {
            outputs.insert(name, (name_at, anchor));
        }

        if let Some(crate::spec::Switch::Param(p)) = dist.enabled() {
            let names: Vec<String> = crate::params::references(p).collect();
            let whole = names.len() == 1 && p.trim() == format!("${{params.{}}}", names[0]);
            let is_bool = names
                .first()
                .and_then(|n| spec.parameters.get(n))
                .is_some_and(|d| d.kind == crate::spec::ParameterType::Bool);
            if !whole || !is_bool {
                cx.at(Code::Switch, &at.join("enabled"), format!("`{p}` is not a bool parameter"))
                    .hint("write `true`, `false`, or `${params.NAME}` where NAME is declared with `type: bool`");
            }
        }
        match dist {
            Distribution::Gallery(g) => {
                if g.image_id.is_none() && !has_gallery_def {
                    cx.at_key(Code::NoGallery, &at, "a gallery distribution, but the spec has no `gallery`")
                        .hint("add `gallery: {name: …, image: {publisher, offer, sku}}`, or `imageId:` of an existing image definition");
                }
                if let Some(id) = &g.image_id {
                    names::resource_id(cx, &at.join("imageId"), id, "Microsoft.Compute/galleries/images");
                }
                let mut seen: HashMap<String, usize> = HashMap::new();
                for (j, r) in g.regions.iter().enumerate() {
                    let rat = match r {
                        TargetRegion::Name(_) => at.join("regions").join(j),
                        TargetRegion::Long(_) => at.join("regions").join(j).join("name"),
                    };
                    region(cx, &rat, r.name());
                    if let Some(prev) = seen.insert(r.name().to_string(), j) {
                        cx.at(Code::DuplicateRegion, &rat, format!("`{}` is listed twice", r.name()))
                            .hint(format!("remove one (the first is regions[{prev}]); use `replicas` for more copies"));
                    }
                }
                let created_here = g.image_id.is_none()
                    && spec.gallery.as_ref().is_some_and(|x| x.image_id.is_none() && x.name.is_some());
                if created_here
                    && !g.regions.is_empty()
                    && let Some(l) = spec.location.as_deref().filter(|l| !has_references(l))
                    && !g.regions.iter().any(|r| crate::plan::same_region(l, r.name()))
                {
                    // image-builder-json.md, targetRegions: "One of the regions must be the
                    // region where the Gallery is deployed."
                    cx.at_key(
                        Code::GalleryRegion,
                        &at.join("regions"),
                        format!("the gallery is created in `{l}`, which `regions` does not list"),
                    )
                    .hint(format!("add `{l}`: AIB publishes in the gallery's region and replicates from there"));
                }
                if let Some(v) = &g.version {
                    version(cx, &at.join("version"), v, spec);
                }
            }
            Distribution::ManagedImage(m) => {
                if !has_references(&m.name) {
                    let ok = (1..=80).contains(&m.name.len())
                        && m.name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
                        && m.name.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
                        && m.name.chars().last().is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
                    if !ok {
                        cx.at(Code::ManagedImageName, &at.join("name"), format!("`{}` cannot name a managed image", m.name))
                            .hint("use 1-80 letters, digits, `_`, `.`, `-`; start with a letter or digit, end with a letter, digit or `_`");
                    }
                }
                if let Some(rg) = m.resource_group.as_deref().filter(|r| !has_references(r))
                    && !names::resource_group_ok(rg)
                {
                    cx.at(
                        Code::ResourceGroupName,
                        &at.join("resourceGroup"),
                        format!("`{rg}` cannot name a resource group"),
                    )
                    .hint("1-90 letters, digits, `.`, `_`, `-`, `(`, `)`, not ending in `.`");
                }
                if let Some(l) = &m.location {
                    region(cx, &at.join("location"), l);
                }
            }
            Distribution::Vhd(v) => {
                if let Some(uri) = v.uri.as_deref().filter(|u| !has_references(u))
                    && !uri.starts_with("https://")
                {
                    cx.at(Code::Uri, &at.join("uri"), format!("`{uri}` is not an https blob URL")).hint(
                        "give `https://<account>.blob.core.windows.net/<container>/<name>.vhd`, or leave `uri` out",
                    );
                }
                vhd_destination(cx, &at, v);
            }
        }
    }
    image_definition(cx);
}

fn version(cx: &mut Context, at: &Path, v: &Version, spec: &crate::spec::ImageSpec) {
    let triggered = spec.trigger.as_ref().is_some_and(|t| t.source_image);
    let auto_run = spec.build.as_ref().and_then(|b| b.auto_run) == Some(true);
    let deploy_time = crate::plan::deploy_time_scheme(Some(v)).is_some();
    if deploy_time {
        // The template holds the version computed when it was deployed; a trigger's
        // second build would publish that version again.
        if triggered {
            cx.at(Code::FixedVersion, at, "a triggered rebuild reuses the version computed at deploy time, and fails")
                .hint("with `trigger.sourceImage`, use `version: latest` (AIB numbers each build) or `source`");
        }
        return;
    }
    let Version::Text(t) = v else { return };
    if has_references(t) || matches!(t.as_str(), "latest" | "source") {
        return;
    }
    if explicit_version(cx, at, t) && (triggered || auto_run) {
        let why = if triggered { "every triggered build" } else { "every new template's automatic build" };
        cx.at(Code::FixedVersion, at, format!("{why} publishes version `{t}`, so the second one fails")).hint(
            if triggered {
                "use `version: latest` so AIB numbers each build"
            } else {
                "use `version: date` or `next`, or `${params.imageVersion}`"
            },
        );
    }
}

/// Major.Minor.Patch, each a non-negative 32-bit integer. Returns whether it is valid.
pub fn explicit_version(cx: &mut Context, at: &Path, t: &str) -> bool {
    let parts: Vec<&str> = t.split('.').collect();
    let digits = parts.iter().all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
    if parts.len() != 3 || !digits {
        cx.at(Code::ImageVersion, at, format!("`{t}` is not a gallery image version"))
            .hint("write Major.Minor.Patch such as `1.0.0`, or a scheme: date, next, semver, latest, source");
        return false;
    }
    if let Some(p) = parts.iter().find(|p| p.parse::<i32>().is_err()) {
        cx.at(Code::ImageVersion, at, format!("`{p}` in `{t}` does not fit a 32-bit integer"))
            .hint("each part must be at most 2147483647");
        return false;
    }
    true
}

fn image_definition(cx: &mut Context) {
    let Some(g) = &cx.spec.gallery else { return };
    let at = Path::root().join("gallery");
    if g.image_id.is_some() && (g.name.is_some() || g.image.is_some()) {
        let key = if g.name.is_some() { "name" } else { "image" };
        cx.at_key(Code::OneOf, &at.join(key), "`gallery` names an existing `imageId` and also one to create")
            .hint("keep `imageId` to publish to an existing definition, or `name` and `image` to create one");
        return;
    }
    if g.image_id.is_some() {
        return;
    }
    if g.name.is_none() {
        cx.at_key(
            Code::MissingKey,
            &at,
            "`gallery` needs `name` (to create one) or `imageId` (an existing image definition)",
        )
        .hint("add `name: my_gallery`");
        return;
    }
    let img = g.image.clone().unwrap_or_default();
    let missing: Vec<&str> = [("publisher", &img.publisher), ("offer", &img.offer), ("sku", &img.sku)]
        .iter()
        .filter(|(_, v)| v.is_none())
        .map(|(k, _)| *k)
        .collect();
    if !missing.is_empty() {
        let path = if g.image.is_some() { at.join("image") } else { at.clone() };
        cx.at_key(Code::ImageIdentifier, &path, format!("the image definition to create needs {}", missing.join(", ")))
            .hint("add `image: {publisher: contoso, offer: windows-server, sku: 2022-web}`: the identifier is unique in the gallery");
    }
    let generation = img.hyper_v_generation.unwrap_or(HyperVGeneration::V2);
    if let Some(st) = img.security_type {
        let needs_v2 = !matches!(st, SecurityType::Standard);
        if needs_v2 && generation == HyperVGeneration::V1 {
            cx.at(
                Code::SecurityType,
                &at.join("image").join("securityType"),
                format!("`{}` needs a Generation 2 image, and this one is V1", st.azure_name()),
            )
            .hint("set `hyperVGeneration: V2`, or `securityType: Standard`");
        }
        let confidential = matches!(
            st,
            SecurityType::ConfidentialVM
                | SecurityType::ConfidentialVmSupported
                | SecurityType::TrustedLaunchAndConfidentialVmSupported
        );
        if confidential && img.architecture == Some(Architecture::Arm64) {
            cx.at(
                Code::SecurityType,
                &at.join("image").join("securityType"),
                format!("`{}` is not available for Arm64 images", st.azure_name()),
            )
            .hint("use `TrustedLaunchSupported` or `Standard` for Arm64");
        }
    }
    if img.architecture == Some(Architecture::Arm64) && generation == HyperVGeneration::V1 {
        cx.at(Code::SecurityType, &at.join("image").join("architecture"), "Arm64 images are Generation 2 only")
            .hint("set `hyperVGeneration: V2`");
    }
    if img.features.keys().any(|k| k.eq_ignore_ascii_case("SecurityType")) {
        cx.at_key(
            Code::SecurityType,
            &at.join("image").join("features").join("SecurityType"),
            "set the security type with `securityType`, not as a feature",
        )
        .hint("move it to `image.securityType`");
    }
}

pub fn run_output_name_ok(n: &str) -> bool {
    (1..=64).contains(&n.len()) && n.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// AIB writes the VHD with its identity; aibc can grant that only knowing the account.
fn vhd_destination(cx: &mut Context, at: &Path, v: &crate::spec::VhdDistribution) {
    // An http or malformed uri is reported already (AIB205).
    let Some(uri) = v.uri.as_deref().filter(|u| has_references(u) || u.starts_with("https://")) else { return };
    match &v.storage_account {
        None => {
            cx.at(Code::VhdDestination, &at.join("uri"), "aibc cannot tell which storage account this is, so AIB gets no right to write there")
                .hint("add `storageAccount: <resource ID of the account>` and aibc grants Storage Blob Data Contributor on the container");
        }
        Some(id) => {
            names::resource_id(cx, &at.join("storageAccount"), id, "Microsoft.Storage/storageAccounts");
            let account = crate::check::names::parse_resource_id(id).ok().and_then(|r| r.names.last().cloned());
            if let (Some(account), Some((host_account, _))) = (account, vhd_container(uri))
                && !has_references(uri)
                && !account.eq_ignore_ascii_case(&host_account)
            {
                cx.at(
                    Code::VhdDestination,
                    &at.join("storageAccount"),
                    format!("`uri` points into the account `{host_account}`, not `{account}`"),
                )
                .hint("give the resource ID of the account the uri names");
            }
        }
    }
}

/// `https://<account>.blob.<suffix>/<container>/…` → (account, container).
pub fn vhd_container(uri: &str) -> Option<(String, String)> {
    let rest = uri.strip_prefix("https://")?;
    let (host, path) = rest.split_once('/')?;
    let account = host.split('.').next()?.to_string();
    let container = path.split('/').next().filter(|c| !c.is_empty())?.to_string();
    Some((account, container))
}
