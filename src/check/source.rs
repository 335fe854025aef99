//! The source image, the location and the trigger.

use super::{Context, Explain, names::resource_id};
use crate::diagnostic::Code;
use crate::node::Path;
use crate::params::has_references;
use crate::spec::{GallerySource, PlatformSource, Source};

pub fn check(cx: &mut Context) {
    let spec = cx.spec;
    let src = Path::root().join("source");
    if let Some(loc) = &spec.location {
        region(cx, &Path::root().join("location"), loc);
    }
    match &spec.source {
        Source::Platform(PlatformSource::Short(s)) => {
            if !has_references(s) {
                let parts: Vec<&str> = s.split(':').collect();
                if !(3..=4).contains(&parts.len())
                    || parts.iter().any(|p| p.trim().is_empty() || p.contains(char::is_whitespace))
                {
                    cx.at(
                        Code::PlatformImage,
                        &src.join("platform"),
                        format!("`{s}` is not publisher:offer:sku[:version]"),
                    )
                    .hint("for example `Canonical:ubuntu-24_04-lts:server:latest` (see `az vm image list`)");
                } else if let Some(v) = parts.get(3) {
                    platform_version(cx, &src.join("platform"), v);
                }
            }
        }
        Source::Platform(PlatformSource::Long(p)) => {
            if let Some(v) = &p.version {
                platform_version(cx, &src.join("platform").join("version"), v);
            }
        }
        Source::Gallery(GallerySource::Id(id)) => {
            resource_id(cx, &src.join("gallery"), id, "Microsoft.Compute/galleries/images/versions");
            if let Some(v) = id.rsplit('/').next().filter(|v| *v != "latest" && !has_references(v))
                && id.split('/').count() >= 13
            {
                super::distribute::explicit_version(cx, &src.join("gallery"), v);
            }
        }
        Source::Gallery(GallerySource::Long(g)) => {
            resource_id(cx, &src.join("gallery").join("imageId"), &g.image_id, "Microsoft.Compute/galleries/images");
            if let Some(v) = g.version.as_deref().filter(|v| *v != "latest") {
                super::distribute::explicit_version(cx, &src.join("gallery").join("version"), v);
            }
        }
        Source::ManagedImage(id) => {
            resource_id(cx, &src.join("managedImage"), id, "Microsoft.Compute/images");
        }
    }

    if spec.trigger.as_ref().is_some_and(|t| t.source_image) {
        let latest = match &spec.source {
            Source::Gallery(GallerySource::Id(id)) => id.ends_with("/versions/latest"),
            Source::Gallery(GallerySource::Long(g)) => g.version.as_deref().is_none_or(|v| v == "latest"),
            _ => false,
        };
        let is_gallery = matches!(spec.source, Source::Gallery(_));
        if !latest {
            let d = cx.at(
                Code::Trigger,
                &Path::root().join("trigger").join("sourceImage"),
                "a source-image trigger never fires for this source",
            );
            if is_gallery {
                d.label("the source is pinned to one version")
                    .hint("set the source gallery version to `latest`, so a new version is something to build from");
            } else {
                d.label("needs a gallery source").hint("AIB's SourceImage trigger watches a Compute Gallery image at version `latest`; use `source.gallery` or remove the trigger");
            }
        }
    }
}

fn platform_version(cx: &mut Context, path: &Path, v: &str) {
    if v == "latest" || has_references(v) {
        return;
    }
    let ok = v.split('.').count() >= 3 && v.split('.').all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
    if !ok {
        cx.at(Code::PlatformImage, path, format!("`{v}` is not a platform image version"))
            .hint("use `latest` or an exact version such as `20348.2849.241006` (see `az vm image list --all`)");
    }
}

pub fn region(cx: &mut Context, path: &Path, name: &str) {
    if has_references(name) || crate::regions::is_region(name) {
        return;
    }
    let d = cx.at(Code::Region, path, format!("`{name}` is not an Azure region name"));
    match crate::regions::suggest(name) {
        Some(s) => {
            d.label(format!("did you mean `{s}`?")).hint(format!("region names are lowercase without spaces: `{s}`"));
        }
        None => {
            d.hint("use the region's programmatic name, as `az account list-locations -o table` shows it (for example `westeurope`)");
        }
    }
}
