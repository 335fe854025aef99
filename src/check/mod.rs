//! Semantic rules: what the structure alone cannot say (names Azure accepts, regions,
//! versions, OS-specific customizers, files that must exist, …).
//!
//! Rules read the typed spec and report at a path; the context turns the path into a
//! span through the image's tree, so every diagnostic is located like the structural ones.

mod customize;
pub mod distribute;
mod library;
pub mod names;
pub mod parameters;
mod paths;
mod source;

use std::path::Path as FsPath;

use crate::diagnostic::{Code, Diagnostic};
use crate::document::Image;
use crate::node::{Anchor, Node, Path};
use crate::spec::ImageSpec;

pub struct Context<'a> {
    pub spec: &'a ImageSpec,
    pub library: &'a crate::library::Library,
    pub node: &'a Node,
    pub base_dir: &'a FsPath,
    /// Where local paths may resolve to (the spec's folder, `--root`).
    pub roots: &'a crate::fsguard::Roots,
    pub diags: Vec<Diagnostic>,
}

impl<'a> Context<'a> {
    /// Reports at the value at `path`.
    pub fn at(&mut self, code: Code, path: &Path, message: impl Into<String>) -> &mut Diagnostic {
        let span = self.node.locate(path, Anchor::Value);
        self.diags.push(Diagnostic::new(code, span, message));
        self.diags.last_mut().expect("just pushed")
    }

    /// Reports at the key of `path` (for "this key should not be here").
    pub fn at_key(&mut self, code: Code, path: &Path, message: impl Into<String>) -> &mut Diagnostic {
        let span = self.node.locate(path, Anchor::Key);
        self.diags.push(Diagnostic::new(code, span, message));
        self.diags.last_mut().expect("just pushed")
    }
}

/// Fluent hints on a reported diagnostic.
pub trait Explain {
    fn hint(&mut self, hint: impl Into<String>) -> &mut Self;
    fn label(&mut self, label: impl Into<String>) -> &mut Self;
}

impl Explain for Diagnostic {
    fn hint(&mut self, hint: impl Into<String>) -> &mut Self {
        self.hint = Some(hint.into());
        self
    }
    fn label(&mut self, label: impl Into<String>) -> &mut Self {
        self.label = Some(label.into());
        self
    }
}

/// Runs every rule on a typed image.
pub fn check(image: &Image) -> Vec<Diagnostic> {
    let Some(spec) = &image.spec else {
        return Vec::new();
    };
    let roots = crate::fsguard::Roots::new(&image.base_dir, image.root.as_deref());
    let mut cx = Context {
        spec,
        library: &image.library,
        node: &image.node,
        base_dir: &image.base_dir,
        roots: &roots,
        diags: Vec::new(),
    };
    parameters::check(&mut cx);
    names::check(&mut cx);
    source::check(&mut cx);
    customize::check(&mut cx);
    library::check(&mut cx);
    distribute::check(&mut cx);
    identity_rights(&mut cx);
    cx.diags
}

/// `identity.assignRoles: false`: only for an existing identity, and the rights it must then
/// hold are listed (from the plan, which knows every grant aibc would otherwise make).
fn identity_rights(cx: &mut Context) {
    let Some(identity) = &cx.spec.identity else { return };
    if identity.assign_roles != Some(false) {
        return;
    }
    let at = p(&["identity", "assignRoles"]);
    if identity.existing.is_none() {
        cx.at(Code::AssignRoles, &at, "a new identity has no rights unless aibc grants them")
            .hint("give `existing:` (an identity whose rights are managed elsewhere), or remove `assignRoles`");
        return;
    }
    // Errors elsewhere (a missing file) leave the plan to be told by the checks that found them.
    let Ok(plan) = crate::plan::build(cx.spec, cx.base_dir, "", cx.library) else { return };
    if plan.rights.is_empty() {
        return;
    }
    let list: Vec<String> = plan.rights.iter().map(|r| format!("- {r}")).collect();
    cx.at(
        Code::ExternalRights,
        &at,
        format!("aibc grants nothing; the identity must already hold:\n{}", list.join("\n")),
    )
    .hint("grant these where the identity's rights are managed, before `aibc deploy`");
}

pub fn p(segs: &[&str]) -> Path {
    Path(
        segs.iter()
            .map(|s| match s.parse::<usize>() {
                Ok(i) => crate::node::Seg::Index(i),
                Err(_) => crate::node::Seg::Key((*s).to_string()),
            })
            .collect(),
    )
}
