//! The pipeline end to end: load → structural check → semantic check → plan → emit.

use std::path::Path;

use crate::diagnostic::{self, Diagnostic};
use crate::document::{self, Document};
use crate::emit::{self, File};
use crate::plan::{self, Plan};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Target {
    Bicep,
    Arm,
}

/// One compiled image.
#[derive(Debug)]
pub struct Compiled {
    pub name: String,
    /// Set in a family: the image's files go to a folder of this name.
    pub folder: Option<String>,
    pub plan: Plan,
    pub files: Vec<File>,
}

/// Loads and checks a spec; the document's diagnostics then hold every problem.
pub fn check_file(path: &Path) -> std::io::Result<Document> {
    let mut doc = document::load_file(path)?;
    check(&mut doc);
    Ok(doc)
}

/// Runs the semantic rules on each typed image and normalises the diagnostics.
pub fn check(doc: &mut Document) {
    let semantic: Vec<Diagnostic> = doc.images.iter().flat_map(crate::check::check).collect();
    doc.diags.extend(semantic);
    diagnostic::normalize(&mut doc.diags);
}

/// Plans and emits every image of a checked, error-free document.
pub fn compile(doc: &Document, spec_file: &str, target: Target) -> Result<Vec<Compiled>, String> {
    let mut out = Vec::new();
    for image in &doc.images {
        let spec = image.spec.as_ref().ok_or("the spec has errors")?;
        let plan = plan::build(spec, &image.base_dir, spec_file)?;
        let files = match target {
            Target::Bicep => emit::bicep::emit(&plan),
            Target::Arm => emit::arm::emit(&plan),
        };
        out.push(Compiled { name: spec.name.clone(), folder: image.index.map(|_| spec.name.clone()), plan, files });
    }
    Ok(out)
}

/// The spec path as shown in generated headers: forward slashes, no leading `./`, so
/// output is the same bytes on every OS.
pub fn display_path(path: &Path) -> String {
    let s = path.to_string_lossy().replace('\\', "/");
    s.strip_prefix("./").map(str::to_string).unwrap_or(s)
}
