//! The Compute Gallery and image definitions AIB publishes to.

use super::access::{assignment, principal_param, role_definition};
use super::*;

impl Builder<'_> {
    /// The gallery (created) and access to existing image definitions. Returns, per
    /// distribution index, main's expression for the gallery image definition ID.
    pub(super) fn gallery_modules(&mut self) -> BTreeMap<usize, Expr> {
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
            publish_grants(&mut m);
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
            existing_gallery_image(&mut m, &names, "imageDefinition");
            publish_grants(&mut m);
            self.modules.push(m);
        }
        ids
    }

    pub(super) fn image_definition_properties(&self, img: &ImageDefinition) -> Expr {
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
}

/// AIB's rights to publish: read the gallery (on the gallery, the only scope where
/// `galleries/read` applies) and write versions of the definition (ADR 5).
fn publish_grants(m: &mut Module) {
    m.push(role_definition("galleryReader", Role::GalleryReader));
    m.push(assignment("galleryReaderAssignment", Role::GalleryReader, Some("gallery"), Some("galleryReader")));
    m.push(role_definition("imageVersionWriter", Role::ImageVersionWriter));
    m.push(assignment(
        "imageVersionWriterAssignment",
        Role::ImageVersionWriter,
        Some("imageDefinition"),
        Some("imageVersionWriter"),
    ));
}

/// An existing gallery (`gallery`) and one of its image definitions (`image`), from the
/// names of the definition's ID.
pub(super) fn existing_gallery_image(m: &mut Module, names: &[String], image: &str) {
    m.push(existing(
        "gallery",
        "Microsoft.Compute/galleries",
        api::COMPUTE_GALLERY,
        names.first().map(String::as_str).unwrap_or_default(),
    ));
    m.push(
        existing(
            image,
            "Microsoft.Compute/galleries/images",
            api::COMPUTE_GALLERY,
            names.get(1).map(String::as_str).unwrap_or_default(),
        )
        .parent("gallery"),
    );
}
