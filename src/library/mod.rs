//! The customization library: named, parameterised steps a spec uses with `use:`.
//!
//! Built-in entries are embedded from `customizations/`; a team adds or overrides entries
//! with a folder of its own (`--library DIR`, or `library:` in the spec). Manifests go
//! through the same loader and schema check as specs, so their problems are located too.

mod expand;
pub mod manifest;
pub mod render;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

pub use expand::{Expanded, expand};
pub use manifest::{Manifest, ManifestParam, ParamKind};

use crate::diagnostic::Diagnostic;
use crate::fsguard::{self, Refusal, Roots};
use crate::loader::{self, Format};
use crate::node::Path as NodePath;
use crate::source::Sources;
use crate::validate::Validator;

include!(concat!(env!("OUT_DIR"), "/library_files.rs"));

/// Where an entry came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Builtin,
    Folder(PathBuf),
}

#[derive(Debug, Clone)]
pub struct Entry {
    pub manifest: Manifest,
    /// The entry's other files (scripts), by name.
    pub files: BTreeMap<String, String>,
    pub origin: Origin,
}

impl Entry {
    /// `language-pack 1.0.0 (built-in)`. A team folder is named by its last component only,
    /// so generated files do not depend on where the repository is checked out.
    pub fn label(&self) -> String {
        let origin = match &self.origin {
            Origin::Builtin => "built-in".to_string(),
            Origin::Folder(p) => {
                format!("library {}", p.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default())
            }
        };
        format!("{} {} ({origin})", self.manifest.name, self.manifest.version)
    }
}

/// An entry, or a built-in one not read yet: a compile reads only the manifests its spec
/// uses (reading all 25 cost more than the rest of a one-spec compile).
#[derive(Debug)]
enum Slot {
    Ready(Entry),
    Builtin(OnceLock<Option<Entry>>),
}

#[derive(Debug, Clone, Default)]
pub struct Library {
    /// Built-in entries are keyed by their folder, which is their name (a test holds that).
    entries: BTreeMap<String, Arc<Slot>>,
    /// Shared files (`_lib/`): preludes the expansion adds, such as the secret reader.
    shared: BTreeMap<String, String>,
}

impl Library {
    /// The embedded library. Entries are read when first asked for.
    pub fn builtin() -> &'static Library {
        static LIB: OnceLock<Library> = OnceLock::new();
        LIB.get_or_init(|| {
            let mut lib = Library::default();
            for (path, text) in LIBRARY_FILES {
                let Some((entry, file)) = path.split_once('/') else { continue };
                if entry == "_lib" {
                    lib.shared.insert(file.to_string(), text.to_string());
                } else if file == "manifest.yaml" {
                    lib.entries.insert(entry.to_string(), Arc::new(Slot::Builtin(OnceLock::new())));
                }
            }
            lib
        })
    }

    /// Reads the built-in entry in folder `name`. Built-in entries are checked by the test
    /// suite (`builtin_problems`), not on every run: checking parses every script template.
    fn load_builtin(name: &str) -> Option<Entry> {
        let prefix = format!("{name}/");
        let files =
            LIBRARY_FILES.iter().filter(|(p, _)| p.starts_with(&prefix)).map(|(p, t)| (p.to_string(), t.to_string()));
        let (mut lib, _diags) =
            load_files(files, Origin::Builtin, Path::new("customizations"), &mut Sources::default(), false);
        let slot = Arc::into_inner(lib.entries.remove(name)?)?;
        match slot {
            Slot::Ready(e) => Some(e),
            Slot::Builtin(_) => None,
        }
    }

    /// Problems in the built-in library (for tests).
    pub fn builtin_problems() -> (Sources, Vec<Diagnostic>) {
        let mut sources = Sources::default();
        let (_, diags) = load_files(
            LIBRARY_FILES.iter().map(|(p, t)| (p.to_string(), t.to_string())),
            Origin::Builtin,
            Path::new("customizations"),
            &mut sources,
            true,
        );
        (sources, diags)
    }

    /// This library with the entries of `dir` added, replacing same-named ones. Links in
    /// the folder may lead anywhere under `dir` itself; see [`Library::with_folder_in`].
    pub fn with_folder(&self, dir: &Path, sources: &mut Sources) -> Result<(Library, Vec<Diagnostic>), FolderRefusal> {
        let mut roots = Roots::default();
        roots.add(dir);
        let real =
            std::fs::canonicalize(dir).map_err(|e| (String::new(), Refusal::Unreadable { reason: e.to_string() }))?;
        self.with_folder_in(dir, &real, &roots, sources)
    }

    /// This library with the entries of `dir` (resolved: `real`) added. Every file is listed
    /// through `fsguard` first: links must stay under `roots`, special files are refused
    /// unopened, and sizes are bounded (`fsguard::Limits::LIBRARY`).
    pub fn with_folder_in(
        &self,
        dir: &Path,
        real: &Path,
        roots: &Roots,
        sources: &mut Sources,
    ) -> Result<(Library, Vec<Diagnostic>), FolderRefusal> {
        let files = collect(real, roots)?;
        let (extra, diags) = load_files(files.into_iter(), Origin::Folder(dir.to_path_buf()), dir, sources, true);
        let mut lib = self.clone();
        lib.entries.extend(extra.entries);
        lib.shared.extend(extra.shared);
        Ok((lib, diags))
    }

    pub fn get(&self, name: &str) -> Option<&Entry> {
        match self.entries.get(name)?.as_ref() {
            Slot::Ready(e) => Some(e),
            Slot::Builtin(cell) => cell.get_or_init(|| Self::load_builtin(name)).as_ref(),
        }
    }

    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.entries.keys().filter_map(|name| self.get(name))
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.keys().map(String::as_str)
    }

    pub fn shared(&self, name: &str) -> Option<&str> {
        self.shared.get(name).map(String::as_str)
    }
}

/// Where in a library folder (`entry/file`) a file was refused, and why.
pub type FolderRefusal = (String, Refusal);

/// The text files of a library folder. A file that is not UTF-8 is not a manifest or a
/// script and is left out, as before.
fn collect(real: &Path, roots: &Roots) -> Result<Vec<(String, String)>, FolderRefusal> {
    let listed = fsguard::walk(roots, real, fsguard::Limits::LIBRARY)?;
    let mut out = Vec::new();
    for f in listed {
        let bytes = fsguard::read_limited(&f.real, fsguard::MAX_LIBRARY_FILE_BYTES)
            .map_err(|e| (f.rel.clone(), Refusal::Unreadable { reason: e.to_string() }))?;
        if let Ok(text) = String::from_utf8(bytes) {
            out.push((f.rel, text));
        }
    }
    Ok(out)
}

/// Groups `name/file` paths into entries and checks each manifest.
fn load_files(
    files: impl Iterator<Item = (String, String)>,
    origin: Origin,
    root: &Path,
    sources: &mut Sources,
    check_scripts: bool,
) -> (Library, Vec<Diagnostic>) {
    let mut grouped: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for (rel, text) in files {
        if let Some((entry, file)) = rel.split_once('/') {
            grouped.entry(entry.to_string()).or_default().insert(file.to_string(), text);
        }
    }
    let mut lib = Library::default();
    let mut diags = Vec::new();
    for (name, mut files) in grouped {
        if name == "_lib" {
            lib.shared = files;
            continue;
        }
        let Some(text) = files.remove("manifest.yaml") else { continue };
        let path = root.join(&name).join("manifest.yaml");
        let file = sources.add(path, text.replace("\r\n", "\n"));
        let text = &sources.get(file).expect("just added").text;
        let (node, mut d) = loader::parse(file, text, Format::Yaml);
        let Some(node) = node.filter(|_| d.is_empty()) else {
            diags.append(&mut d);
            continue;
        };
        let mut v = Validator::new(manifest::cached_schema(), Format::Yaml);
        let value = v.check_def("Manifest", &node, &NodePath::root());
        let errors = v.diags.iter().any(Diagnostic::is_error);
        diags.extend(v.diags);
        let Some(manifest) = value.filter(|_| !errors).and_then(|v| serde_json::from_value::<Manifest>(v).ok()) else {
            continue;
        };
        let problems = if check_scripts { expand::check_manifest(&manifest, &files, &node) } else { Vec::new() };
        if !problems.is_empty() {
            diags.extend(problems);
            continue;
        }
        let entry = Entry { manifest, files, origin: origin.clone() };
        lib.entries.insert(entry.manifest.name.clone(), Arc::new(Slot::Ready(entry)));
    }
    (lib, diags)
}
