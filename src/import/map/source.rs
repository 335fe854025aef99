//! The source image: platform (Marketplace), gallery image version, or managed image.

use super::super::diag::ImportCode;
use super::super::resolve::Field;
use super::super::value::{V, Val};
use super::{GALLERY_VERSION_ID, MANAGED_IMAGE_ID, Mapper, type_of};
use crate::spec::*;

impl Mapper<'_> {
    pub(super) fn source(&mut self, v: &Val) -> Option<Source> {
        let Some((kind, kind_span)) = type_of(v) else {
            self.r
                .warn(ImportCode::Invalid, v.span, "the source has no `type`")
                .help("use `PlatformImage`, `SharedImageVersion` or `ManagedImage`");
            return None;
        };
        match kind.to_ascii_lowercase().as_str() {
            "platformimage" => {
                self.unknown_keys(
                    v,
                    "/source",
                    &["publisher", "offer", "sku", "version", "planInfo", "exactVersion"],
                    "the source",
                );
                let mut part = |key: &str| {
                    let val = v.get(key);
                    match val {
                        Some(x) => self.r.string(x, &format!("/source/{key}"), key, Field::Param),
                        None => {
                            self.r.warn(ImportCode::Invalid, v.span, format!("the platform image has no `{key}`"));
                            None
                        }
                    }
                };
                let publisher = part("publisher")?;
                let offer = part("offer")?;
                let sku = part("sku")?;
                let version = self.opt_string(v, "version", "/source", Field::Param).filter(|s| !s.is_empty());
                let plan = match v.get("planInfo").filter(|p| !matches!(p.v, V::Null)) {
                    Some(p) => {
                        self.unknown_keys(
                            p,
                            "/source/planInfo",
                            &["planName", "planProduct", "planPublisher"],
                            "the purchase plan",
                        );
                        let name = self.opt_string(p, "planName", "/source/planInfo", Field::Raw);
                        let product = self.opt_string(p, "planProduct", "/source/planInfo", Field::Raw);
                        let publisher = self.opt_string(p, "planPublisher", "/source/planInfo", Field::Raw);
                        match (name, product, publisher) {
                            (Some(name), Some(product), Some(publisher)) => {
                                Some(PurchasePlan { name, product, publisher })
                            }
                            _ => {
                                self.r.warn(
                                    ImportCode::Invalid,
                                    p.span,
                                    "a purchase plan needs planName, planProduct and planPublisher",
                                );
                                None
                            }
                        }
                    }
                    None => None,
                };
                let short_ok = plan.is_none()
                    && [&publisher, &offer, &sku]
                        .iter()
                        .chain(version.iter().collect::<Vec<_>>().iter())
                        .all(|p| !p.is_empty() && !p.contains(':') && !p.contains(char::is_whitespace));
                let version = version.filter(|v| v != "latest" || !short_ok);
                Some(Source::Platform(if short_ok {
                    let mut s = format!("{publisher}:{offer}:{sku}");
                    if let Some(v) = version {
                        s.push(':');
                        s.push_str(&v);
                    }
                    PlatformSource::Short(s)
                } else {
                    PlatformSource::Long(PlatformImage { publisher, offer, sku, version, plan })
                }))
            }
            "sharedimageversion" => {
                self.unknown_keys(v, "/source", &["imageVersionId", "exactVersion"], "the source");
                let id = self.opt_id(v, "imageVersionId", "/source", Field::Fixed, GALLERY_VERSION_ID);
                match id {
                    Some(id) => Some(Source::Gallery(GallerySource::Id(id))),
                    None => {
                        self.r.warn(ImportCode::Invalid, v.span, "a gallery source needs `imageVersionId`");
                        None
                    }
                }
            }
            "managedimage" => {
                self.unknown_keys(v, "/source", &["imageId"], "the source");
                let id = self.opt_id(v, "imageId", "/source", Field::Fixed, MANAGED_IMAGE_ID);
                match id {
                    Some(id) => Some(Source::ManagedImage(id)),
                    None => {
                        self.r.warn(ImportCode::Invalid, v.span, "a managed image source needs `imageId`");
                        None
                    }
                }
            }
            "iso" | "vhd" | "platformimageuri" => {
                self.r
                    .warn(ImportCode::Source, kind_span, format!("AIB cannot build from a `{kind}` source (a file URL)"))
                    .help("create a managed image or a gallery image version from it first, and use it as a `ManagedImage` or `SharedImageVersion` source");
                None
            }
            _ => {
                self.r
                    .warn(ImportCode::Invalid, kind_span, format!("`{kind}` is not a source type AIB supports"))
                    .help("use `PlatformImage`, `SharedImageVersion` or `ManagedImage`");
                None
            }
        }
    }
}
