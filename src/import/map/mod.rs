//! An AIB image template (as evaluated from an ARM template, an API body or a Packer
//! template) → an image spec.
//!
//! Both importers end here: the Packer importer first describes its template as the image
//! template AIB would run, so there is one mapping to the spec, and one round-trip check.
//! Everything the spec cannot hold is reported, located in the imported file.

mod build;
mod distribute;
mod source;
mod steps;

use std::collections::BTreeMap;

use super::diag::ImportCode;
use super::resolve::{Field, Resolver};
use super::value::{Piece, Text, V, Val};
use crate::source::Span;
use crate::spec::*;

pub(super) const RG_LOCATION: &str = "resourceGroup().location";

/// Rewrites a template's local file path to the spec's point of view.
pub type LocalPath = Box<dyn Fn(&str) -> String>;

/// What a front end hands over: the image template and what surrounds it.
pub struct Input {
    /// The image template's `properties`.
    pub properties: Val,
    pub location: Option<Val>,
    pub tags: Option<Val>,
    /// Resource IDs of the template's user-assigned identity (its `identity` keys).
    pub identities: Vec<Val>,
    /// What names the image: the template's name, or the Packer image's.
    pub name: Option<Val>,
    /// The name when `name` gives none (the file's name).
    pub fallback_name: String,
    /// The OS when the template says (Packer's `os_type`) or `--os` does; inferred otherwise.
    pub os: Option<(Os, Span)>,
    /// What points to an OS without saying it (Packer's communicator), and why.
    pub os_hint: Option<(Os, Span, String)>,
    /// A source-image trigger comes with the template.
    pub trigger: bool,
    pub description: Option<String>,
    /// The input has no run output names (Packer): aibc's defaults are expected.
    pub unnamed_outputs: bool,
    /// The whole template, for findings about it as a whole.
    pub whole: Span,
    /// How a local file path of the template is written in the spec (relative to it).
    pub local_path: Option<LocalPath>,
}

/// Maps `input`; findings and substitutions accumulate in `r`.
pub fn map(input: &Input, r: &mut Resolver) -> Option<ImageSpec> {
    let props = &input.properties;
    let known = [
        "source",
        "customize",
        "validate",
        "optimize",
        "distribute",
        "vmProfile",
        "buildTimeoutInMinutes",
        "additionalDataDisks",
        "stagingResourceGroup",
        "errorHandling",
        "managedResourceTags",
        "autoRun",
    ];
    // Read-only values of a template read back from Azure: no part of what it builds.
    let read_only = ["provisioningState", "provisioningError", "lastRunStatus", "exactStagingResourceGroup"];
    for (k, span, _) in props.entries() {
        if !known.iter().chain(&read_only).any(|x| x.eq_ignore_ascii_case(k)) {
            let m = format!("`properties.{k}` has no counterpart in the spec");
            r.warn(ImportCode::Unsupported, *span, m.clone())
                .help("it is left out; see the AIB API reference for what it did");
            r.remove(&format!("/{k}"), m);
        }
    }

    r.at = "/os".into();
    let os = input.os.map(|(o, _)| o).unwrap_or_else(|| infer_os(props, input.os_hint.as_ref(), input.whole, r));
    let mut m = Mapper { r, local_path: input.local_path.as_deref() };
    m.r.at = "/source".into();

    let Some(source_val) = props.get("source") else {
        m.r.warn(ImportCode::Invalid, input.whole, "the image template has no `source`")
            .help("an image template starts from a platform image, a gallery image version or a managed image");
        return None;
    };
    if let Some(name) = m.r.unset(source_val) {
        m.r.missing(&name, source_val.span, "source", true);
        return None;
    }
    let Some(source) = m.source(source_val) else {
        if !m.r.findings.iter().any(|f| f.is_error()) {
            m.r.warn(ImportCode::Invalid, source_val.span, "the source could not be imported")
                .help("an image template starts from a platform image, a gallery image version or a managed image");
        }
        return None;
    };
    m.r.at = "/location".into();
    let template_location = input.location.as_ref().and_then(|l| l.text().cloned());
    let location = input.location.as_ref().and_then(|l| {
        // The resource group's location is aibc's default.
        if l.text().is_some_and(|t| m.r.resolves_to(t, "resourceGroup().location")) {
            m.r.record("/location", Val::str(Text::piece(Piece::Ctx(RG_LOCATION.into())), l.span), None);
            None
        } else {
            m.region(l, "/location", "location")
        }
    });

    let mut customize: Vec<CustomizeStep> = Vec::new();
    if let Some(c) = props.get("customize") {
        m.r.at = "/customize".into();
        for (i, s) in m.r.list(c, "/customize", "customize").iter().enumerate() {
            m.r.at = format!("/customize/{}", customize.len());
            let path = format!("/customize/{i}");
            match m.customizer(s, &path) {
                Some(step) => customize.push(CustomizeStep::Builtin(step)),
                None => m.left_out(&path),
            }
        }
    }

    let mut dists = Vec::new();
    let mut gallery_ids = Vec::new();
    if let Some(d) = props.get("distribute") {
        m.r.at = "/distribute".into();
        for (i, item) in m.r.list(d, "/distribute", "distribute").iter().enumerate() {
            m.r.at = format!("/distribute/{}", dists.len());
            if let Some(x) =
                m.distributor(item, &format!("/distribute/{i}"), template_location.as_ref(), input.unnamed_outputs)
            {
                if let (Distribution::Gallery(_), Some(id)) = (&x.0, x.1) {
                    gallery_ids.push((dists.len(), id));
                }
                dists.push(x.0);
            } else {
                m.left_out(&format!("/distribute/{i}"));
            }
        }
    }
    if dists.is_empty() {
        let span = props.entry("distribute").map(|(s, _)| s).unwrap_or(input.whole);
        m.r.warn(ImportCode::Invalid, span, "the image template has no distribution aibc can write")
            .help("an image goes to a gallery, a managed image or a VHD");
        return None;
    }
    // One gallery image for every gallery distribution: the spec's `gallery`, as in
    // hand-written specs; otherwise each distribution names its own.
    let mut gallery = None;
    let distinct: Vec<&String> = gallery_ids.iter().map(|(_, id)| id).fold(Vec::new(), |mut acc, id| {
        if !acc.contains(&id) {
            acc.push(id);
        }
        acc
    });
    if distinct.len() == 1 {
        gallery = Some(Gallery { image_id: Some(distinct[0].clone()), ..Gallery::default() });
    } else {
        for (i, id) in &gallery_ids {
            if let Distribution::Gallery(g) = &mut dists[*i] {
                g.image_id = Some(id.clone());
            }
        }
    }

    m.r.at = "/build".into();
    let build = m.build(props);
    m.r.at = "/validate".into();
    let validate = props.get("validate").and_then(|v| m.validate(v));
    m.r.at = "/optimize".into();
    let optimize = props.get("optimize").and_then(|v| m.optimize(v));
    m.r.at = "/tags".into();
    let tags = input.tags.as_ref().map(|t| m.r.tags(t, "/tags", "tags")).unwrap_or_default();
    m.r.at = "/identity".into();
    let identity = m.identity(&input.identities);
    m.r.at = "/name".into();
    let name = m.name(input);

    let spec = ImageSpec {
        schema: None,
        name,
        description: input.description.clone(),
        os,
        location,
        tags,
        parameters: BTreeMap::new(),
        source,
        build,
        identity,
        storage: None,
        gallery,
        customize,
        library: None,
        validate,
        optimize,
        distribute: dists,
        trigger: input.trigger.then_some(Trigger { source_image: true }),
        test: None,
    };
    Some(ImageSpec { parameters: m.r.params.declarations(), ..spec })
}

pub(super) struct Mapper<'a> {
    r: &'a mut Resolver,
    local_path: Option<&'a dyn Fn(&str) -> String>,
}

/// The `type` of a customizer or distributor, and where it is.
pub(super) fn type_of(v: &Val) -> Option<(String, Span)> {
    v.entry("type").and_then(|(_, t)| t.lit().map(|s| (s.to_string(), t.span)))
}

/// Resource ID shapes, `*` where a name goes: a value with no value at all (a whole
/// placeholder such as `<galleryImageId>`) is given this shape, so that its stand-in is a
/// resource ID of the right type and the spec validates.
pub(super) const SUBNET_ID: &str =
    "subscriptions/*/resourceGroups/*/providers/Microsoft.Network/virtualNetworks/*/subnets/*";
pub(super) const GROUP_ID: &str = "subscriptions/*/resourceGroups/*";
pub(super) const GALLERY_IMAGE_ID: &str =
    "subscriptions/*/resourceGroups/*/providers/Microsoft.Compute/galleries/*/images/*";
/// A source image version; the newest version stands in for the one not known.
pub(super) const GALLERY_VERSION_ID: &str =
    "subscriptions/*/resourceGroups/*/providers/Microsoft.Compute/galleries/*/images/*/versions/latest";
pub(super) const MANAGED_IMAGE_ID: &str = "subscriptions/*/resourceGroups/*/providers/Microsoft.Compute/images/*";

impl Mapper<'_> {
    /// `v` in the resource ID shape `shape` when it is one value without a value (a
    /// placeholder, an expression, a parameter without default); `v` itself otherwise.
    pub(super) fn shaped(&self, v: &Val, shape: &str) -> Val {
        let Some(t) = v.text() else { return v.clone() };
        let [piece] = t.pieces() else { return v.clone() };
        let hole = match piece {
            Piece::Lit(l) => matches!(super::resolve::placeholders(l).as_slice(), [Piece::Param(_)]),
            Piece::Param(_) => self.r.has_holes(t),
            Piece::Ctx(_) | Piece::Opaque(_) => true,
        };
        if !hole {
            return v.clone();
        }
        let mut out = Text::default();
        for seg in shape.split('/') {
            out.push(Piece::Lit("/".into()));
            if seg == "*" {
                out.push(piece.clone());
            } else {
                out.push(Piece::Lit(seg.into()));
            }
        }
        Val::str(out, v.span)
    }

    /// A resource ID setting, shaped as `shape` when it has no value (see `shaped`).
    pub(super) fn opt_id(&mut self, obj: &Val, key: &str, path: &str, field: Field, shape: &str) -> Option<String> {
        let v = obj.get(key).filter(|v| !matches!(v.v, V::Null))?;
        let v = self.shaped(v, shape);
        self.r.string(&v, &format!("{path}/{key}"), key, field)
    }

    /// A part that was not imported: the comparison expects it gone (the reason is
    /// already reported).
    fn left_out(&mut self, path: &str) {
        if !self.r.subs.contains_key(path) {
            self.r.remove(path, "it could not be imported".into());
        }
    }

    /// Reports keys of `obj` (at `path`) outside `known` (and `type`, `name`); the
    /// comparison expects them gone.
    pub(super) fn unknown_keys(&mut self, obj: &Val, path: &str, known: &[&str], what: &str) {
        for (k, span, _) in obj.entries() {
            if !k.eq_ignore_ascii_case("type")
                && !k.eq_ignore_ascii_case("name")
                && !known.iter().any(|x| x.eq_ignore_ascii_case(k))
            {
                let m = format!("`{k}` of {what} has no counterpart in the spec");
                self.r.warn(ImportCode::Unsupported, *span, m.clone()).help("it is left out");
                self.r.remove(&format!("{path}/{k}"), m);
            }
        }
    }

    pub(super) fn opt_string(&mut self, obj: &Val, key: &str, path: &str, field: Field) -> Option<String> {
        let v = obj.get(key)?;
        if matches!(v.v, V::Null) {
            return None;
        }
        self.r.string(v, &format!("{path}/{key}"), key, field)
    }

    pub(super) fn opt_bool(&mut self, obj: &Val, key: &str, path: &str) -> Option<bool> {
        let v = obj.get(key).filter(|v| !matches!(v.v, V::Null))?;
        self.r.bool(v, &format!("{path}/{key}"), key)
    }

    pub(super) fn opt_u32(&mut self, obj: &Val, key: &str, path: &str) -> Option<u32> {
        let v = obj.get(key).filter(|v| !matches!(v.v, V::Null))?;
        let i = self.r.int(v, &format!("{path}/{key}"), key)?;
        match u32::try_from(i) {
            Ok(n) => Some(n),
            Err(_) => {
                self.r.gap(v.span, format!("`{key}` cannot be {i}; it is left out"));
                None
            }
        }
    }

    /// A value left out because it is the template's location: the comparison expects
    /// what the location became.
    pub(super) fn as_location(&mut self, path: &str) {
        if let Some(v) = self.r.subs.get("/location").and_then(|s| s.value.clone()) {
            self.r.record(path, v, None);
        }
    }

    /// A region: ARM also takes display names (`West Europe`); the spec takes
    /// programmatic ones (`westeurope`).
    pub(super) fn region(&mut self, v: &Val, path: &str, what: &str) -> Option<String> {
        let s = self.r.string(v, path, what, Field::Param)?;
        if crate::regions::is_region(&s) || s.contains("${") {
            return Some(s);
        }
        let squashed: String = s.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_lowercase();
        Some(if crate::regions::is_region(&squashed) { squashed } else { s })
    }

    pub(super) fn identity(&mut self, ids: &[Val]) -> Option<Identity> {
        let first = ids.first()?;
        if ids.len() > 1 {
            self.r.warn(ImportCode::Unsupported, ids[1].span, "AIB runs as one identity; only the first is kept");
        }
        if first.text().is_some_and(|t| self.r.has_holes(t)) {
            // A stand-in identity would be granted roles it may not have; aibc's own is
            // created with exactly the roles the build needs.
            self.r
                .warn(
                    ImportCode::Changed,
                    first.span,
                    "the identity's resource ID is not known when compiling; aibc creates an identity for the build instead",
                )
                .help("to keep using this identity, write its resource ID as `identity.existing`");
            return None;
        }
        let id = self.r.string(first, "/identity", "identity", Field::Raw)?;
        Some(Identity { existing: Some(id), ..Identity::default() })
    }

    pub(super) fn name(&mut self, input: &Input) -> String {
        let from_template = input.name.as_ref().and_then(|n| {
            let t = n.text()?;
            if let Some(l) = t.as_lit() {
                return Some(l.to_string());
            }
            // The name is left to deploy time: take its default, if it has one, or else
            // what is written before the first deploy-time part (`web-{{timestamp}}`).
            let default = t.as_param().and_then(|p| self.r.params.get(p)?.literal_default());
            let (s, why) = match default.as_ref().and_then(|d| d.as_str()) {
                Some(d) => (d.to_string(), format!("after the default `{d}`")),
                None => match t.pieces().first() {
                    Some(Piece::Lit(prefix)) if prefix.trim_end_matches(['-', '_', '.']).len() >= 3 => {
                        let p = prefix.trim_end_matches(['-', '_', '.']).to_string();
                        (p.clone(), format!("`{p}`, after how the name starts"))
                    }
                    _ => {
                        let file = image_name(&input.fallback_name);
                        (
                            file.clone(),
                            format!("`{file}`, after the file: the template's name is not known when compiling"),
                        )
                    }
                },
            };
            self.r.warn(
                ImportCode::CompileTime,
                n.span,
                format!("aibc names templates itself (name and content hash); the spec is named {why}"),
            );
            Some(s)
        });
        image_name(from_template.as_deref().unwrap_or(&input.fallback_name))
    }
}

/// A valid image name from any text: letters, digits, `-`, `_`, `.`; at most 50.
pub fn image_name(raw: &str) -> String {
    let mut s: String =
        raw.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') { c } else { '-' }).collect();
    s.truncate(crate::check::names::MAX_IMAGE_NAME);
    let s = s.trim_start_matches(|c: char| !c.is_ascii_alphanumeric());
    let s = s.trim_end_matches(|c: char| !(c.is_ascii_alphanumeric() || c == '_'));
    if s.is_empty() { "imported-image".to_string() } else { s.to_string() }
}

/// The OS from what the template says and does: what it connects with (WinRM means
/// Windows), its source image, then its customizers and file destinations. Reported
/// when it has to be guessed.
fn infer_os(props: &Val, hint: Option<&(Os, Span, String)>, whole: Span, r: &mut Resolver) -> Os {
    if let Some((os, _, _)) = hint {
        return *os;
    }
    // A value, or the default of the parameter it is.
    let lit = |v: Option<&Val>, r: &Resolver| -> String {
        let Some(t) = v.and_then(Val::text) else { return String::new() };
        match (t.as_lit(), t.as_param()) {
            (Some(l), _) => l.to_ascii_lowercase(),
            (None, Some(p)) => r
                .params
                .get(p)
                .and_then(|d| d.literal_default())
                .and_then(|j| j.as_str().map(str::to_ascii_lowercase))
                .unwrap_or_default(),
            _ => t.canonical().to_ascii_lowercase(),
        }
    };
    let source = props.get("source");
    let image = ["publisher", "offer", "sku", "imageVersionId", "imageId"]
        .iter()
        .map(|k| lit(source.and_then(|s| s.get(k)), r))
        .collect::<Vec<_>>()
        .join(" ");
    const WINDOWS_PUBLISHERS: &[&str] = &["microsoftvisualstudio", "microsoftsqlserver", "microsoftwindowsdesktop"];
    let publisher = lit(source.and_then(|s| s.get("publisher")), r);
    if image.contains("windows") || WINDOWS_PUBLISHERS.contains(&publisher.as_str()) {
        return Os::Windows;
    }
    let mut windows = 0;
    let mut linux = 0;
    let steps = props.get("customize").map(|c| c.items().to_vec()).unwrap_or_default().into_iter().chain(
        props.get("validate").and_then(|v| v.get("inVMValidations")).map(|c| c.items().to_vec()).unwrap_or_default(),
    );
    for s in steps {
        match type_of(&s).map(|(t, _)| t.to_ascii_lowercase()).as_deref() {
            Some("powershell" | "windowsrestart" | "windowsupdate") => windows += 1,
            Some("shell") => linux += 1,
            Some("file") => match s.get("destination").and_then(Val::lit) {
                Some(d) if d.starts_with('/') => linux += 1,
                Some(d) if d.get(1..3) == Some(":\\") || d.get(1..3) == Some(":/") => windows += 1,
                _ => {}
            },
            _ => {}
        }
    }
    // A platform image that is not Windows is Linux.
    if windows == 0 && linux == 0 && !publisher.is_empty() && source.and_then(|s| s.get("offer")).is_some() {
        linux += 1;
    }
    match (windows, linux) {
        (w, l) if w > 0 && l == 0 => Os::Windows,
        (0, l) if l > 0 => Os::Linux,
        _ => {
            let os = if windows > linux { Os::Windows } else { Os::Linux };
            r.warn(
                ImportCode::Os,
                whole,
                format!(
                    "the template does not say which OS the image is; `os: {}` is a guess",
                    os.azure_name().to_lowercase()
                ),
            )
            .help("check `os` in the spec, or import again with `--os windows` or `--os linux`");
            os
        }
    }
}
