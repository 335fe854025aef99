//! Image templates across builds (ADR 13): which superseded templates must go before a new
//! one is created, how a fixed staging group is handed from one template to the next, and the
//! check that no build starts on a template whose distribution target already exists.

use serde_json::{Value, json};

use super::{Say, is_running, templates_of};
use crate::azure::{Error, Result, Session, api};
use crate::spec::ImageSpec;

/// Tags AIB adds to a pre-existing staging group (image-builder-json.md, "Properties:
/// stagingResourceGroup": "The staging resource group has the following tags added to it:
/// `usedBy`, `imageTemplateName`, `imageTemplateResourceGroupName`").
const STAGING_TAGS: [&str; 3] = ["usedBy", "imageTemplateName", "imageTemplateResourceGroupName"];

/// Why the image may have only one template at a time, if it may not have more.
///
/// * A fixed staging group: "The staging resource group specified cannot be associated with
///   another image template" (image-builder-json.md).
/// * A `SourceImage` trigger: a superseded template keeps its trigger, so it would go on
///   building and publishing the old content on every new source version.
pub fn one_at_a_time(spec: &ImageSpec) -> Option<&'static str> {
    if spec.build.as_ref().is_some_and(|b| b.staging_resource_group.is_some()) {
        Some("its fixed staging resource group can belong to one image template only")
    } else if spec.trigger.as_ref().is_some_and(|t| t.source_image) {
        Some("a superseded template would keep its SourceImage trigger and go on building")
    } else {
        None
    }
}

/// Deletes the image's templates other than `keep` (the one phase 2 creates), because
/// `reason` allows only one. Nothing is deleted while any of them builds.
pub async fn supersede(
    session: &Session,
    rg: &str,
    image: &str,
    keep: &str,
    reason: &str,
    out: &dyn Say,
) -> Result<usize> {
    let older: Vec<Value> = templates_of(session, rg, image)
        .await?
        .into_iter()
        .filter(|t| !t.get("name").and_then(Value::as_str).is_some_and(|n| n.eq_ignore_ascii_case(keep)))
        .collect();
    if let Some(t) = older.iter().find(|t| is_running(t)) {
        let n = t.get("name").and_then(Value::as_str).unwrap_or_default();
        return Err(Error::Local(format!(
            "{image}: the image template {n} must be deleted before {keep} is created ({reason}), and a build is running on it: wait for it (`aibc status`) or cancel it (`aibc cancel`), then deploy again"
        )));
    }
    for t in &older {
        let name = t.get("name").and_then(Value::as_str).unwrap_or_default();
        out.say(&format!("deleting the superseded image template {name}: {reason}"));
        delete_template(session, t).await?;
    }
    Ok(older.len())
}

/// Deletes a template and hands its fixed staging group back.
pub async fn delete_template(session: &Session, template: &Value) -> Result<()> {
    let id = template.get("id").and_then(Value::as_str).unwrap_or_default();
    session.arm.delete(id, api::IMAGE_TEMPLATES).await?;
    release_staging_group(session, template).await
}

/// AIB refuses a staging group whose association tags exist before a template is submitted
/// ("If these tags exist before the image template submission … the operation will fail").
/// The docs do not say that deleting the template removes them, so once it is gone aibc
/// removes the tags that still name it (and only those: "Pre-existing tags aren't deleted").
async fn release_staging_group(session: &Session, template: &Value) -> Result<()> {
    let Some(staging) =
        template.pointer("/properties/stagingResourceGroup").and_then(Value::as_str).filter(|s| !s.is_empty())
    else {
        return Ok(());
    };
    let name = template.get("name").and_then(Value::as_str).unwrap_or_default();
    let id = template.get("id").and_then(Value::as_str).unwrap_or_default();
    let template_rg = resource_group_of(id).unwrap_or_default();
    let Some(group) = session.arm.get(staging, api::RESOURCES).await? else { return Ok(()) };
    let mut tags = group.get("tags").and_then(Value::as_object).cloned().unwrap_or_default();
    let tag = |k: &str| tags.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
    if !tag("imageTemplateName").eq_ignore_ascii_case(name)
        || !tag("imageTemplateResourceGroupName").eq_ignore_ascii_case(&template_rg)
    {
        return Ok(());
    }
    for k in STAGING_TAGS {
        tags.remove(k);
    }
    let mut body = json!({"location": group.get("location").cloned().unwrap_or(Value::Null), "tags": tags});
    if let Some(m) = group.get("managedBy").filter(|m| !m.is_null()) {
        body["managedBy"] = m.clone();
    }
    session.arm.put(staging, api::RESOURCES, &body).await?;
    Ok(())
}

fn resource_group_of(id: &str) -> Option<String> {
    let mut parts = id.split('/');
    while let Some(p) = parts.next() {
        if p.eq_ignore_ascii_case("resourceGroups") {
            return parts.next().map(str::to_string);
        }
    }
    None
}

/// A gallery version the template would publish that already exists: AIB would build for an
/// hour and then fail to publish it. Only versions named in `galleryImageId` can collide: AIB's
/// own `versioning` picks a free one, a VHD gets a new blob, and a managed image is replaced
/// (AIB's documented managed-image rights include `Microsoft.Compute/images/delete` for that).
pub async fn existing_target(session: &Session, template: &Value) -> Result<Option<String>> {
    let targets = template.pointer("/properties/distribute").and_then(Value::as_array).cloned().unwrap_or_default();
    for t in targets {
        if t.get("type").and_then(Value::as_str) != Some("SharedImage") {
            continue;
        }
        let id = t.get("galleryImageId").and_then(Value::as_str).unwrap_or_default();
        let Some((_, version)) = split_version(id) else { continue };
        match session.arm.get(id, api::COMPUTE_GALLERY).await {
            Ok(Some(_)) => return Ok(Some(format!("the gallery image version {version} ({id})"))),
            Ok(None) => {}
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e),
        }
    }
    Ok(None)
}

/// `…/images/{def}/versions/{v}` → (definition id, version).
fn split_version(id: &str) -> Option<(&str, &str)> {
    let lower = id.to_ascii_lowercase();
    let at = lower.rfind("/versions/")?;
    let version = &id[at + "/versions/".len()..];
    (!version.is_empty() && !version.contains('/')).then(|| (&id[..at], version))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_split_from_gallery_ids() {
        let def = "/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/galleries/x/images/y";
        assert_eq!(split_version(&format!("{def}/versions/1.2.3")), Some((def, "1.2.3")));
        assert_eq!(split_version(def), None);
        assert_eq!(split_version(&format!("{def}/Versions/")), None);
    }

    #[test]
    fn resource_group_of_an_id() {
        let id = "/subscriptions/s/resourceGroups/rg-1/providers/Microsoft.VirtualMachineImages/imageTemplates/t";
        assert_eq!(resource_group_of(id).as_deref(), Some("rg-1"));
        assert_eq!(resource_group_of("/subscriptions/s"), None);
    }
}
