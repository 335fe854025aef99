//! Resource-name rules, as ARM enforces them for each resource type.

use super::{Context, Explain};
use crate::diagnostic::Code;
use crate::node::Path;
use crate::params::has_references;

/// The image name gets `-` and an 8-character content hash appended; templates allow 64.
pub const MAX_IMAGE_NAME: usize = 50;

pub fn check(cx: &mut Context) {
    let spec = cx.spec;
    let name = &spec.name;
    if !has_references(name) {
        let ok_chars = name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        let ok_ends = name.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
            && name.chars().last().is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
        if name.is_empty() || name.len() > MAX_IMAGE_NAME || !ok_chars || !ok_ends {
            cx.at(Code::TemplateName, &Path::root().join("name"), format!("`{name}` cannot name an image template"))
                .label(format!("1-{MAX_IMAGE_NAME} letters, digits, `-`, `_`, `.`"))
                .hint("start with a letter or digit, end with a letter, digit or `_`; aibc appends `-` and an 8-character content hash");
        }
    }

    if let Some(identity) = &spec.identity {
        if let Some(n) = identity.name.as_deref().filter(|n| !has_references(n)) {
            let ok = (3..=128).contains(&n.len())
                && n.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
                && n.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'));
            if !ok {
                cx.at(
                    Code::IdentityName,
                    &Path::root().join("identity").join("name"),
                    format!("`{n}` cannot name a user-assigned identity"),
                )
                .hint("use 3-128 letters, digits, `-` and `_`, starting with a letter or digit");
            }
        }
        if let Some(id) = &identity.existing {
            resource_id(
                cx,
                &Path::root().join("identity").join("existing"),
                id,
                "Microsoft.ManagedIdentity/userAssignedIdentities",
            );
        }
    }

    if let Some(storage) = &spec.storage {
        if let Some(a) = storage.account.as_deref().filter(|a| !has_references(a))
            && (!(3..=24).contains(&a.len()) || !a.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()))
        {
            let fixed: String =
                a.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_lowercase()).take(24).collect();
            let d = cx
                .at(
                    Code::StorageAccountName,
                    &Path::root().join("storage").join("account"),
                    format!("`{a}` cannot name a storage account"),
                )
                .label("3-24 lowercase letters and digits");
            if (3..=24).contains(&fixed.len()) {
                d.hint(format!("try `{fixed}`; storage account names are globally unique"));
            } else {
                d.hint("use 3-24 lowercase letters and digits; names are globally unique");
            }
        }
        if let Some(c) = storage.container.as_deref().filter(|c| !has_references(c)) {
            let ok = (3..=63).contains(&c.len())
                && c.chars().all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-')
                && c.chars().next().is_some_and(|ch| ch.is_ascii_alphanumeric())
                && !c.ends_with('-')
                && !c.contains("--");
            if !ok {
                cx.at(
                    Code::ContainerName,
                    &Path::root().join("storage").join("container"),
                    format!("`{c}` cannot name a blob container"),
                )
                .hint(
                    "use 3-63 lowercase letters, digits and single hyphens, starting and ending with a letter or digit",
                );
            }
        }
        if let Some(id) = &storage.existing {
            resource_id(cx, &Path::root().join("storage").join("existing"), id, "Microsoft.Storage/storageAccounts");
        }
    }

    if let Some(g) = &spec.gallery {
        let at = Path::root().join("gallery");
        if let Some(n) = g.name.as_deref().filter(|n| !has_references(n))
            && !gallery_name_ok(n)
        {
            let fixed: String = n.chars().map(|c| if c == '-' { '_' } else { c }).collect();
            let d = cx
                .at(Code::GalleryName, &at.join("name"), format!("`{n}` cannot name a Compute Gallery"))
                .label("letters, digits, `.` and `_` only");
            if gallery_name_ok(&fixed) {
                d.hint(format!("hyphens are not allowed in gallery names: try `{fixed}`"));
            } else {
                d.hint(
                    "use up to 80 letters, digits, periods and underscores; periods and underscores only in the middle",
                );
            }
        }
        if let Some(img) = &g.image
            && let Some(n) = img.name.as_deref().filter(|n| !has_references(n))
        {
            image_definition_name(cx, &at.join("image").join("name"), n);
        }
        if g.image.is_none() && g.image_id.is_none() && g.name.is_some() {
            // Default image definition name is the image name.
            image_definition_name(cx, &Path::root().join("name"), &spec.name.clone());
        }
        if let Some(id) = &g.image_id {
            resource_id(cx, &at.join("imageId"), id, "Microsoft.Compute/galleries/images");
        }
    }

    if let Some(b) = &spec.build {
        let at = Path::root().join("build");
        if let Some(rg) = &b.staging_resource_group {
            resource_id(cx, &at.join("stagingResourceGroup"), rg, "resourceGroups");
        }
        for (i, id) in b.vm_identities.iter().enumerate() {
            resource_id(cx, &at.join("vmIdentities").join(i), id, "Microsoft.ManagedIdentity/userAssignedIdentities");
        }
        match &b.subnet {
            Some(crate::spec::SubnetRef::Id(id)) => {
                resource_id(cx, &at.join("subnet"), id, "Microsoft.Network/virtualNetworks/subnets")
            }
            Some(crate::spec::SubnetRef::Long(s)) => {
                resource_id(cx, &at.join("subnet").join("id"), &s.id, "Microsoft.Network/virtualNetworks/subnets");
                if let Some(ci) = &s.container_instance_subnet_id {
                    let ci_at = at.join("subnet").join("containerInstanceSubnetId");
                    resource_id(cx, &ci_at, ci, "Microsoft.Network/virtualNetworks/subnets");
                    let vnet = |id: &str| id.to_ascii_lowercase().rsplit_once("/subnets/").map(|(v, _)| v.to_string());
                    if vnet(ci).is_some() && vnet(ci) != vnet(&s.id) {
                        cx.at(Code::Subnet, &ci_at, "the container-instance subnet is in another virtual network than the build subnet")
                            .hint("use a subnet of the build subnet's virtual network, delegated to Microsoft.ContainerInstance/containerGroups");
                    }
                    if s.proxy_vm_size.is_some() {
                        cx.at_key(
                            Code::Subnet,
                            &at.join("subnet").join("proxyVmSize"),
                            "`proxyVmSize` does not apply with `containerInstanceSubnetId`",
                        )
                        .hint("AIB's isolated build uses no proxy VM; remove `proxyVmSize`");
                    }
                }
            }
            None => {}
        }
        if let Some(size) = b.vm_size.as_deref().filter(|s| !has_references(s)) {
            vm_size(cx, &at.join("vmSize"), size);
        }
        if let Some(crate::spec::SubnetRef::Long(s)) = &b.subnet
            && let Some(size) = s.proxy_vm_size.as_deref().filter(|s| !has_references(s))
        {
            vm_size(cx, &at.join("subnet").join("proxyVmSize"), size);
        }
    }
}

fn vm_size(cx: &mut Context, path: &Path, size: &str) {
    let ok = size.strip_prefix("Standard_").or_else(|| size.strip_prefix("Basic_")).is_some_and(|rest| {
        !rest.is_empty() && rest.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    });
    if !ok {
        cx.at(Code::VmSize, path, format!("`{size}` does not look like an Azure VM size"))
            .hint("VM sizes are written like `Standard_D4s_v5` (see `az vm list-sizes`)");
    }
}

pub fn gallery_name_ok(n: &str) -> bool {
    !n.is_empty()
        && n.len() <= 80
        && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_')
        && n.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && n.chars().last().is_some_and(|c| c.is_ascii_alphanumeric())
}

pub fn image_definition_name(cx: &mut Context, path: &Path, n: &str) {
    let ok = !n.is_empty()
        && n.len() <= 80
        && n.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
        && n.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && n.chars().last().is_some_and(|c| c.is_ascii_alphanumeric());
    if !ok {
        cx.at(Code::ImageDefinitionName, path, format!("`{n}` cannot name a gallery image definition"))
            .hint("use up to 80 letters, digits, hyphens, periods and underscores, starting and ending with a letter or digit");
    }
}

/// Checks the shape of a resource ID: `/subscriptions/{id}/resourceGroups/{rg}` then
/// `/providers/{namespace}/{type}/{name}` with one name per type segment.
pub fn resource_id(cx: &mut Context, path: &Path, id: &str, expected: &str) {
    if has_references(id) {
        return;
    }
    match parse_resource_id(id) {
        Ok(parsed) if parsed.type_name.eq_ignore_ascii_case(expected) => {
            // The gallery's name inside an ID obeys the same rule as `gallery.name`.
            if expected.to_ascii_lowercase().starts_with("microsoft.compute/galleries")
                && let Some(g) = parsed.names.first().filter(|g| !gallery_name_ok(g))
            {
                let fixed: String = g.chars().map(|c| if c == '-' { '_' } else { c }).collect();
                cx.at(Code::GalleryName, path, format!("`{g}` in this ID cannot name a Compute Gallery"))
                    .label("letters, digits, `.` and `_` only")
                    .hint(format!("check the gallery's name (hyphens are not allowed: `{fixed}`?)"));
            }
            if !resource_group_ok(&parsed.resource_group) {
                cx.at(
                    Code::ResourceGroupName,
                    path,
                    format!("`{}` cannot name a resource group", parsed.resource_group),
                )
                .hint("resource group names are 1-90 letters, digits, `.`, `_`, `-`, `(`, `)`, not ending in `.`");
            }
        }
        Ok(parsed) => {
            cx.at(
                Code::ResourceId,
                path,
                format!("this ID names a `{}`, but a `{expected}` belongs here", parsed.type_name),
            )
            .hint(format!("give the resource ID of a `{expected}`"));
        }
        Err(why) => {
            cx.at(Code::ResourceId, path, format!("`{id}` is not a resource ID: {why}"))
                .hint(format!("a `{expected}` ID looks like {}", example_id(expected)));
        }
    }
}

fn example_id(t: &str) -> String {
    if t == "resourceGroups" {
        return "/subscriptions/<subscription-id>/resourceGroups/<name>".into();
    }
    let (ns, rest) = t.split_once('/').unwrap_or((t, ""));
    let segs: String = rest.split('/').map(|s| format!("/{s}/<name>")).collect();
    format!("/subscriptions/<subscription-id>/resourceGroups/<group>/providers/{ns}{segs}")
}

#[derive(Debug, PartialEq)]
pub struct ResourceId {
    pub subscription: String,
    pub resource_group: String,
    /// `Microsoft.Compute/galleries/images`, or `resourceGroups` for a group's own ID.
    pub type_name: String,
    /// Names, one per type segment (`[gallery, image]`).
    pub names: Vec<String>,
}

pub fn parse_resource_id(id: &str) -> Result<ResourceId, &'static str> {
    let segs: Vec<&str> = id.split('/').collect();
    if segs.first() != Some(&"") || segs.len() < 5 {
        return Err("it must start with /subscriptions/<id>/resourceGroups/<name>");
    }
    if !segs[1].eq_ignore_ascii_case("subscriptions") || !segs[3].eq_ignore_ascii_case("resourceGroups") {
        return Err("it must start with /subscriptions/<id>/resourceGroups/<name>");
    }
    if segs.iter().skip(1).any(|s| s.is_empty()) {
        return Err("it has an empty segment (`//` or a trailing `/`)");
    }
    let sub = segs[2];
    if !is_guid(sub) {
        return Err("the subscription is not a GUID");
    }
    let rg = segs[4].to_string();
    if segs.len() == 5 {
        return Ok(ResourceId {
            subscription: sub.into(),
            resource_group: rg,
            type_name: "resourceGroups".into(),
            names: vec![],
        });
    }
    if !segs[5].eq_ignore_ascii_case("providers") || segs.len() < 9 {
        return Err("after the resource group comes /providers/<namespace>/<type>/<name>");
    }
    let rest = &segs[7..];
    if !rest.len().is_multiple_of(2) {
        return Err("a type segment has no name after it");
    }
    let mut type_name = segs[6].to_string();
    let mut names = Vec::new();
    for pair in rest.chunks(2) {
        type_name.push('/');
        type_name.push_str(pair[0]);
        names.push(pair[1].to_string());
    }
    Ok(ResourceId { subscription: sub.into(), resource_group: rg, type_name, names })
}

pub fn is_guid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && [8, 4, 4, 4, 12].iter().zip(&parts).all(|(n, p)| p.len() == *n && p.chars().all(|c| c.is_ascii_hexdigit()))
}

pub fn resource_group_ok(rg: &str) -> bool {
    (1..=90).contains(&rg.len())
        && rg.chars().all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '(' | ')'))
        && !rg.ends_with('.')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_resource_ids() {
        let id = parse_resource_id("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images/i").unwrap();
        assert_eq!(id.type_name, "Microsoft.Compute/galleries/images");
        assert_eq!(id.names, vec!["g", "i"]);
        assert!(parse_resource_id("/subscriptions/x/resourceGroups/rg").is_err());
        assert!(parse_resource_id("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Compute/galleries").is_err());
    }
}
