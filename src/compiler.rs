//! The pipeline end to end: load → structural check → semantic check → plan → emit.

use std::path::{Path, PathBuf};

use crate::diagnostic::{self, Code, Diagnostic};
use crate::document::{self, Document};
use crate::emit::{self, File};
use crate::fsguard::{self, Found, Refusal, Roots};
use crate::library::Library;
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

/// Settings from the command line that reach into checking and compiling.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// A team's customization library folder (`--library`), on top of the spec's own.
    pub library: Option<PathBuf>,
    /// A folder local paths may resolve into besides the spec's own (`--root`).
    pub root: Option<PathBuf>,
}

/// Loads and checks a spec; the document's diagnostics then hold every problem.
pub fn check_file(path: &Path) -> std::io::Result<Document> {
    check_file_with(path, &Options::default())
}

pub fn check_file_with(path: &Path, options: &Options) -> std::io::Result<Document> {
    let mut doc = document::load_file(path)?;
    check_with(&mut doc, options);
    Ok(doc)
}

/// Runs the semantic rules on each typed image and normalises the diagnostics.
pub fn check(doc: &mut Document) {
    check_with(doc, &Options::default())
}

pub fn check_with(doc: &mut Document, options: &Options) {
    for i in 0..doc.images.len() {
        let image = &doc.images[i];
        // Built-in entries, then the spec's library folder, then the command line's: a
        // later one replaces same-named entries of an earlier one.
        let roots = Roots::new(&image.base_dir, options.root.as_deref());
        let mut folders: Vec<(String, PathBuf, Option<crate::node::Path>)> = Vec::new();
        if let Some(dir) = image.spec.as_ref().and_then(|s| s.library.as_ref()) {
            folders.push((dir.clone(), image.base_dir.join(dir), Some(crate::node::Path::root().join("library"))));
        }
        if let Some(dir) = &options.library {
            folders.push((dir.display().to_string(), dir.clone(), None));
        }
        let mut library = Library::builtin().clone();
        for (shown, dir, at) in folders {
            let span = match &at {
                Some(p) => doc.images[i].node.locate(p, crate::node::Anchor::Value),
                None => doc.images[i].node.span,
            };
            // A folder named on the command line is trusted like `--root`; one the spec
            // names must stay under the spec's folder (or `--root`).
            let mut allowed = roots.clone();
            if at.is_none() {
                allowed.add(&dir);
            }
            // A missing `--library` folder is missing, wherever it would have been.
            let found = if at.is_none() && std::fs::symlink_metadata(&dir).is_err() {
                Err(Refusal::Missing)
            } else {
                fsguard::resolve(&allowed, &dir)
            };
            let refused = match found {
                Ok(Found::Dir { real }) => match library.with_folder_in(&dir, &real, &allowed, &mut doc.sources) {
                    Ok((lib, diags)) => {
                        library = lib;
                        doc.diags.extend(diags);
                        continue;
                    }
                    Err((rel, r)) => (format!("{}/{rel}", shown.trim_end_matches(['/', '\\'])), r),
                },
                Ok(Found::File { .. }) | Err(Refusal::Missing) => {
                    doc.diags.push(
                        Diagnostic::new(
                            Code::LibraryManifest,
                            span,
                            format!("the library folder {} does not exist", dir.display()),
                        )
                        .with_hint("give a folder of entries, each a folder with a manifest.yaml"),
                    );
                    continue;
                }
                Err(r) => (shown, r),
            };
            let (shown, r) = refused;
            let (message, hint) = r.explain(&shown, &allowed);
            doc.diags.push(Diagnostic::new(r.code(), span, message).with_hint(hint));
        }
        doc.images[i].library = library;
        doc.images[i].root = options.root.clone();
    }
    let semantic: Vec<Diagnostic> = doc.images.iter().flat_map(crate::check::check).collect();
    doc.diags.extend(semantic);
    duplicate_images(doc);
    diagnostic::normalize(&mut doc.diags);
}

/// Two images of a family with one name would write one output folder and one image
/// template. Compared case-insensitively: Azure resource names are, and so are the file
/// systems of Windows and macOS.
fn duplicate_images(doc: &mut Document) {
    let mut seen: Vec<(String, usize)> = Vec::new();
    for image in &doc.images {
        let (Some(spec), Some(index)) = (&image.spec, image.index) else { continue };
        let key = spec.name.to_lowercase();
        match seen.iter().find(|(k, _)| *k == key) {
            Some((_, first)) => {
                let span = image.node.locate(&crate::node::Path::root().join("name"), crate::node::Anchor::Value);
                doc.diags.push(
                    Diagnostic::new(
                        Code::DuplicateImage,
                        span,
                        format!("image {} of the family is named `{}` like image {}", index + 1, spec.name, first + 1),
                    )
                    .with_label("both would write the same output folder and image template")
                    .with_hint("give each image of `images:` its own `name`"),
                );
            }
            None => seen.push((key, index)),
        }
    }
}

/// Plans and emits every image of a checked, error-free document.
pub fn compile(doc: &Document, spec_file: &str, target: Target) -> Result<Vec<Compiled>, String> {
    let mut out = Vec::new();
    for image in &doc.images {
        let spec = image.spec.as_ref().ok_or("the spec has errors")?;
        let plan = plan::build(spec, &image.base_dir, spec_file, &image.library)?;
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
