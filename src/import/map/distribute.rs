//! Distributions: gallery image versions (with their regions and versions), managed
//! images and VHDs.

use super::super::diag::ImportCode;
use super::super::resolve::Field;
use super::super::value::{Piece, Text, V, Val};
use super::{GALLERY_IMAGE_ID, MANAGED_IMAGE_ID, Mapper, RG_LOCATION, type_of};
use crate::spec::*;

impl Mapper<'_> {
    /// A distribution, and the gallery image it publishes to (for gallery ones).
    pub(super) fn distributor(
        &mut self,
        v: &Val,
        path: &str,
        location: Option<&Text>,
        unnamed: bool,
    ) -> Option<(Distribution, Option<String>)> {
        let Some((kind, kind_span)) = type_of(v) else {
            self.r.gap(v.span, "a distribution without `type` is left out");
            return None;
        };
        let run_output_name = self.opt_string(v, "runOutputName", path, Field::Param);
        if run_output_name.is_none() && !unnamed {
            self.r.warn(ImportCode::Changed, v.span, "the distribution has no `runOutputName`; aibc names it");
        }
        let artifact_tags = v
            .get("artifactTags")
            .map(|t| self.r.tags(t, &format!("{path}/artifactTags"), "artifactTags"))
            .unwrap_or_default();
        match kind.to_ascii_lowercase().as_str() {
            "sharedimage" => {
                self.unknown_keys(
                    v,
                    path,
                    &[
                        "galleryImageId",
                        "runOutputName",
                        "artifactTags",
                        "targetRegions",
                        "replicationRegions",
                        "storageAccountType",
                        "excludeFromLatest",
                        "replicationMode",
                        "versioning",
                    ],
                    "a SharedImage distribution",
                );
                let Some(id_val) = v.get("galleryImageId") else {
                    self.r.gap(v.span, "a SharedImage distribution needs `galleryImageId`; it is left out");
                    return None;
                };
                let id_val = self.shaped(id_val, GALLERY_IMAGE_ID);
                let (image_id, version) = self.gallery_image_id(&id_val, &format!("{path}/galleryImageId"))?;
                let mut g = GalleryDistribution { run_output_name, artifact_tags, ..GalleryDistribution::default() };
                g.version = version.map(Version::Text);
                if let Some(versioning) = v.get("versioning").filter(|x| !matches!(x.v, V::Null)) {
                    self.versioning(versioning, path, &mut g);
                }
                self.regions(v, path, location, &mut g);
                g.exclude_from_latest = self.opt_bool(v, "excludeFromLatest", path).filter(|b| *b);
                g.replication_mode = match self.opt_string(v, "replicationMode", path, Field::Content).as_deref() {
                    Some(m) if m.eq_ignore_ascii_case("shallow") => Some(ReplicationMode::Shallow),
                    Some(m) if m.eq_ignore_ascii_case("full") => Some(ReplicationMode::Full),
                    Some(m) => {
                        self.r.gap(v.span, format!("`{m}` is not a replication mode; it is left out"));
                        None
                    }
                    None => None,
                };
                Some((Distribution::Gallery(g), Some(image_id)))
            }
            "managedimage" => {
                self.unknown_keys(
                    v,
                    path,
                    &["imageId", "location", "runOutputName", "artifactTags"],
                    "a ManagedImage distribution",
                );
                let Some(id_val) = v.get("imageId") else {
                    self.r.gap(v.span, "a ManagedImage distribution needs `imageId`; it is left out");
                    return None;
                };
                let id_val = self.shaped(id_val, MANAGED_IMAGE_ID);
                let (name, resource_group) = self.managed_image_id(&id_val, &format!("{path}/imageId"))?;
                let location = match v.get("location") {
                    Some(l) if location.is_some() && l.text() == location => {
                        self.as_location(&format!("{path}/location"));
                        None
                    }
                    Some(l) if l.text().is_some_and(|t| self.r.resolves_to(t, RG_LOCATION)) => {
                        self.r.record(
                            &format!("{path}/location"),
                            Val::str(Text::piece(Piece::Ctx(RG_LOCATION.into())), l.span),
                            None,
                        );
                        None
                    }
                    Some(l) => self.region(l, &format!("{path}/location"), "location"),
                    None => None,
                };
                Some((
                    Distribution::ManagedImage(ManagedImageDistribution {
                        name,
                        resource_group,
                        location,
                        run_output_name,
                        artifact_tags,
                        enabled: None,
                    }),
                    None,
                ))
            }
            "vhd" => {
                self.unknown_keys(v, path, &["uri", "runOutputName", "artifactTags"], "a VHD distribution");
                let uri = self.opt_string(v, "uri", path, Field::Param).filter(|s| !s.is_empty());
                Some((
                    Distribution::Vhd(VhdDistribution {
                        uri,
                        run_output_name,
                        artifact_tags,
                        storage_account: None,
                        enabled: None,
                    }),
                    None,
                ))
            }
            _ => {
                let m = format!("`{kind}` is not a distribution AIB has; it is left out");
                self.r
                    .warn(ImportCode::Unsupported, kind_span, m.clone())
                    .help("AIB distributes to SharedImage, ManagedImage and VHD");
                self.r.remove(path, m);
                None
            }
        }
    }

    /// The image definition ID, and the version when the ID names one.
    pub(super) fn gallery_image_id(&mut self, v: &Val, path: &str) -> Option<(String, Option<String>)> {
        let text = v.text()?;
        let segs = text.split('/');
        // …/galleries/{g}/images/{i}/versions/{v}
        let versioned = segs.len() == 13 && segs[11].as_lit().is_some_and(|s| s.eq_ignore_ascii_case("versions"));
        if !versioned {
            return self.r.string(v, path, "galleryImageId", Field::Raw).map(|id| (id, None));
        }
        let base = Val::str(Text::join(&segs[..11], "/"), v.span);
        let version = Val::str(segs[12].clone(), v.span);
        let id = self.r.string(&base, &format!("{path}#id"), "galleryImageId", Field::Raw)?;
        let ver = self.r.string(&version, &format!("{path}#version"), "version", Field::Param)?;
        // The comparison sees the whole ID: record it when either part changed.
        let (a, b) = (self.r.subs.remove(&format!("{path}#id")), self.r.subs.remove(&format!("{path}#version")));
        if a.is_some() || b.is_some() {
            let reasons: Vec<String> =
                [&a, &b].iter().filter_map(|s| s.as_ref().and_then(|s| s.reason.clone())).collect();
            let mut whole = match a {
                Some(s) => s.value.as_ref().and_then(Val::text).cloned().unwrap_or_default(),
                None => Text::join(&segs[..11], "/"),
            };
            whole.push(Piece::Lit("/versions/".into()));
            whole.append(match b {
                Some(s) => s.value.as_ref().and_then(Val::text).cloned().unwrap_or_default(),
                None => segs[12].clone(),
            });
            self.r.record(path, Val::str(whole, v.span), (!reasons.is_empty()).then(|| reasons.join("; ")));
        }
        Some((id, Some(ver)))
    }

    /// `/subscriptions/…/resourceGroups/{rg}/providers/Microsoft.Compute/images/{name}`
    /// → name and resource group; the spec's managed image is always in the deployment's
    /// subscription.
    pub(super) fn managed_image_id(&mut self, v: &Val, path: &str) -> Option<(String, Option<String>)> {
        let text = v.text().cloned().unwrap_or_default();
        let segs = text.split('/');
        let ok = segs.len() == 9
            && segs[1].as_lit().is_some_and(|s| s.eq_ignore_ascii_case("subscriptions"))
            && segs[3].as_lit().is_some_and(|s| s.eq_ignore_ascii_case("resourceGroups"))
            && segs[6].as_lit().is_some_and(|s| s.eq_ignore_ascii_case("Microsoft.Compute"))
            && segs[7].as_lit().is_some_and(|s| s.eq_ignore_ascii_case("images"));
        if !ok {
            self.r
                .gap(v.span, "`imageId` is not the resource ID of a managed image; the distribution is left out")
                .help("/subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.Compute/images/<name>");
            return None;
        }
        let name = self.r.string(&Val::str(segs[8].clone(), v.span), &format!("{path}#name"), "name", Field::Param)?;
        let rg_text = &segs[4];
        let same_rg = rg_text.pieces() == [Piece::Ctx("resourceGroup().name".into())];
        let rg = if same_rg {
            None
        } else {
            self.r.string(&Val::str(rg_text.clone(), v.span), &format!("{path}#rg"), "resourceGroup", Field::Fixed)
        };
        let name_sub = self.r.subs.remove(&format!("{path}#name"));
        let rg_sub = self.r.subs.remove(&format!("{path}#rg"));
        let deployment_sub = segs[2].pieces() == [Piece::Ctx("subscription().subscriptionId".into())];
        let mut reasons: Vec<String> =
            [&name_sub, &rg_sub].iter().filter_map(|s| s.as_ref().and_then(|s| s.reason.clone())).collect();
        if !deployment_sub {
            let m = format!(
                "a spec's managed image is created in the deployment's subscription; `{}` is assumed to be it",
                segs[2].canonical()
            );
            self.r.warn(ImportCode::Changed, v.span, m.clone()).help("deploy the spec to that subscription");
            reasons.push(m);
        }
        if name_sub.is_some() || rg_sub.is_some() || !deployment_sub {
            let mut id = Text::lit("/subscriptions/");
            id.push(Piece::Ctx("subscription().subscriptionId".into()));
            id.push(Piece::Lit("/resourceGroups/".into()));
            match &rg_sub {
                Some(s) => id.append(s.value.as_ref().and_then(Val::text).cloned().unwrap_or_default()),
                None => id.append(rg_text.clone()),
            }
            id.push(Piece::Lit("/providers/Microsoft.Compute/images/".into()));
            match &name_sub {
                Some(s) => id.append(s.value.as_ref().and_then(Val::text).cloned().unwrap_or_default()),
                None => id.append(segs[8].clone()),
            }
            let reason = (!reasons.is_empty()).then(|| reasons.join("; "));
            self.r.record(path, Val::str(id, v.span), reason);
        }
        Some((name, rg))
    }

    pub(super) fn versioning(&mut self, v: &Val, path: &str, g: &mut GalleryDistribution) {
        self.unknown_keys(v, &format!("{path}/versioning"), &["scheme", "major"], "`versioning`");
        let scheme = self.opt_string(v, "scheme", &format!("{path}/versioning"), Field::Content).unwrap_or_default();
        let major = v.get("major").and_then(|m| self.r.int(m, &format!("{path}/versioning/major"), "major"));
        let version = match scheme.to_ascii_lowercase().as_str() {
            "latest" => match major {
                None | Some(-1) => Version::Text("latest".into()),
                Some(m) => Version::Scheme(VersionScheme {
                    scheme: SchemeName::Latest,
                    major: i32::try_from(m).ok(),
                    bump: None,
                }),
            },
            "source" => Version::Text("source".into()),
            _ => {
                self.r.warn(ImportCode::Unsupported, v.span, format!("`{scheme}` is not a versioning scheme AIB has"));
                return;
            }
        };
        if g.version.is_some() {
            self.r.warn(
                ImportCode::Invalid,
                v.span,
                "`versioning` with a version in `galleryImageId`: AIB takes one or the other",
            );
        }
        g.version = Some(version);
    }

    /// `targetRegions`, or the deprecated `replicationRegions` + `storageAccountType`.
    pub(super) fn regions(&mut self, v: &Val, path: &str, location: Option<&Text>, g: &mut GalleryDistribution) {
        let mut regions: Vec<(Val, Option<u32>, Option<StorageAccountType>, String)> = Vec::new();
        if let Some(t) = v.get("targetRegions").filter(|x| !matches!(x.v, V::Null)) {
            let p = format!("{path}/targetRegions");
            for (i, r) in self.r.list(t, &p, "targetRegions").iter().enumerate() {
                let rp = format!("{p}/{i}");
                self.unknown_keys(r, &rp, &["replicaCount", "storageAccountType"], "a target region");
                let Some(name) = r.get("name") else {
                    self.r.gap(r.span, "a target region needs `name`; it is left out");
                    continue;
                };
                let replicas = self.opt_u32(r, "replicaCount", &rp);
                let storage = self.storage_type(r, &rp);
                regions.push((name.clone(), replicas, storage, format!("{rp}/name")));
            }
        } else if let Some(list) = v.get("replicationRegions").filter(|x| !matches!(x.v, V::Null)) {
            let p = format!("{path}/replicationRegions");
            let storage = self.storage_type(v, path);
            for (i, name) in self.r.list(list, &p, "replicationRegions").iter().enumerate() {
                regions.push((name.clone(), None, storage, format!("{p}/{i}")));
            }
        }
        // Only the template's own location: the spec's default.
        if let [(name, None | Some(1), storage, rp)] = regions.as_slice()
            && location.is_some()
            && name.text() == location
        {
            g.storage_account_type = *storage;
            let rp = rp.clone();
            self.as_location(&rp);
            return;
        }
        // One replica count for every region is said once, for the distribution.
        let replicas = regions.first().and_then(|r| r.1).filter(|n| *n != 1 && regions.iter().all(|r| r.1 == Some(*n)));
        if let Some(n) = replicas {
            g.replicas = Some(n);
            for r in &mut regions {
                r.1 = None;
            }
        }
        // One storage type for every region is said once, for the distribution.
        let common =
            regions.first().map(|r| r.2).filter(|s| s.is_some() && regions.iter().all(|r| r.2 == *s)).flatten();
        g.storage_account_type = common;
        for (name, replicas, storage, rp) in regions {
            let Some(n) = self.region(&name, &rp, "region") else { continue };
            let replicas = replicas.filter(|r| *r != 1);
            let storage = if common.is_some() { None } else { storage };
            g.regions.push(if replicas.is_none() && storage.is_none() {
                TargetRegion::Name(n)
            } else {
                TargetRegion::Long(Region { name: n, replicas, storage_account_type: storage })
            });
        }
    }

    pub(super) fn storage_type(&mut self, v: &Val, path: &str) -> Option<StorageAccountType> {
        let s = self.opt_string(v, "storageAccountType", path, Field::Content)?;
        match s.to_ascii_lowercase().as_str() {
            "standard_lrs" => Some(StorageAccountType::StandardLrs),
            "standard_zrs" => Some(StorageAccountType::StandardZrs),
            "premium_lrs" => Some(StorageAccountType::PremiumLrs),
            _ => {
                let span = v.get("storageAccountType").map(|x| x.span).unwrap_or(v.span);
                self.r.warn(
                    ImportCode::Invalid,
                    span,
                    format!("`{s}` is not a storage account type for image replicas"),
                );
                None
            }
        }
    }
}
