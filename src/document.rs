//! A loaded spec file: one image or a family, each image structurally checked and typed.

use std::path::{Path as FsPath, PathBuf};

use crate::diagnostic::{Code, Diagnostic};
use crate::loader::{self, Format};
use crate::node::{Kind, Node, Path, merge};
use crate::schema;
use crate::source::{Sources, Span};
use crate::spec::ImageSpec;
use crate::validate::Validator;

/// One image of a spec file.
#[derive(Debug, Clone)]
pub struct Image {
    /// The image's tree (a family's defaults merged in); spans point at the source.
    pub node: Node,
    /// `None` when structural errors left required parts untyped.
    pub spec: Option<ImageSpec>,
    /// Folder that relative paths in this image resolve against.
    pub base_dir: PathBuf,
    /// Position in a family (`None` for a single-image file).
    pub index: Option<usize>,
    /// The customization library this image compiles with (set by the checker).
    pub library: crate::library::Library,
    /// A folder named on the command line (`--root`) local paths may also resolve into.
    pub root: Option<PathBuf>,
}

#[derive(Debug, Default)]
pub struct Document {
    pub sources: Sources,
    pub images: Vec<Image>,
    pub diags: Vec<Diagnostic>,
}

impl Document {
    pub fn has_errors(&self) -> bool {
        self.diags.iter().any(Diagnostic::is_error)
    }
}

/// Reads and structurally checks a spec file. I/O failure is the only `Err`.
pub fn load_file(path: &FsPath) -> std::io::Result<Document> {
    // A FIFO or device named as the spec is refused unopened-for-blocking, and a huge file
    // is never read: the loader would refuse it anyway (`loader::MAX_BYTES`).
    let (_, len) = crate::fsguard::open_regular(path)?;
    if len > loader::MAX_BYTES as u64 {
        let mut doc = Document::default();
        let f = doc.sources.add(path.to_path_buf(), String::new());
        doc.diags.push(
            Diagnostic::new(
                Code::Syntax,
                Span::point(f, 1, 1),
                format!("the file is {len} bytes; specs are limited to {} bytes", loader::MAX_BYTES),
            )
            .with_hint("a spec is a short file; split a large family into several files"),
        );
        return Ok(doc);
    }
    let bytes = crate::fsguard::read_limited(path, loader::MAX_BYTES as u64)?;
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let mut doc = Document::default();
            let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            // Line breaks counted as the loader counts them (CRLF, LF, lone CR), so the
            // position matches the editor's.
            let text = String::from_utf8_lossy(valid).replace("\r\n", "\n").replace('\r', "\n");
            let line = text.matches('\n').count() as u32 + 1;
            let col = text.rsplit('\n').next().map_or(0, |l| l.chars().count()) as u32 + 1;
            let f = doc.sources.add(path.to_path_buf(), text);
            doc.diags.push(
                Diagnostic::new(Code::Syntax, Span::point(f, line, col), "the file is not UTF-8 text")
                    .with_hint("save the spec as UTF-8"),
            );
            return Ok(doc);
        }
    };
    Ok(load_str(path, text, Format::from_path(path)))
}

/// Parses and checks spec text; `path` is for messages and relative file references.
pub fn load_str(path: &FsPath, text: String, format: Format) -> Document {
    let mut doc = Document::default();
    let base_dir = path.parent().map(FsPath::to_path_buf).unwrap_or_default();
    // A byte-order mark is legal at the start of YAML/JSON files saved by Windows tools.
    let text = text.strip_prefix('\u{feff}').map(str::to_string).unwrap_or(text);
    // YAML counts a lone CR as a line break; normalising keeps every line:col in step with
    // what editors show.
    let text = if text.contains('\r') { text.replace("\r\n", "\n").replace('\r', "\n") } else { text };
    let text = match format {
        Format::Json => loader::rewrite_surrogate_escapes(&text).into_owned(),
        Format::Yaml => text,
    };
    let file = doc.sources.add(path.to_path_buf(), text);
    let (root, diags) = loader::parse(file, &doc.sources.get(file).expect("just added").text, format);
    let syntax_error = diags.iter().any(|d| d.code == Code::Syntax);
    doc.diags.extend(diags);
    // After a syntax error the tree is partial; checking it would only add noise.
    let Some(root) = root.filter(|_| !syntax_error) else { return doc };
    let mut v = Validator::new(schema::cached(), format);

    if !matches!(root.kind, Kind::Map(_)) {
        doc.diags.push(
            Diagnostic::new(
                Code::WrongType,
                root.span,
                format!("a spec is a mapping of keys (name, os, source, …), not {}", root.kind_name()),
            )
            .with_hint("start the file with `name: my-image`"),
        );
        return doc;
    }

    if root.get("images").is_some() || root.get("defaults").is_some() {
        v.check_def("ImageFamily", &root, &Path::root());
        let defaults = root.get("defaults").filter(|d| matches!(d.kind, Kind::Map(_))).cloned();
        if let Some(Kind::Seq(items)) = root.get("images").map(|n| &n.kind) {
            for (i, item) in items.iter().enumerate() {
                if !matches!(item.kind, Kind::Map(_)) {
                    continue; // reported by the family check
                }
                let node = match &defaults {
                    Some(d) => merge(d, item),
                    None => item.clone(),
                };
                let spec = typed(&mut v, &node);
                doc.images.push(Image {
                    node,
                    spec,
                    base_dir: base_dir.clone(),
                    index: Some(i),
                    library: crate::library::Library::builtin().clone(),
                    root: None,
                });
            }
        }
    } else {
        let spec = typed(&mut v, &root);
        let library = crate::library::Library::builtin().clone();
        doc.images.push(Image { node: root, spec, base_dir, index: None, library, root: None });
    }
    doc.diags.extend(v.diags);
    doc
}

fn typed(v: &mut Validator, node: &Node) -> Option<ImageSpec> {
    let value = v.check_def("ImageSpec", node, &Path::root())?;
    // The structural check has already reported anything serde could object to; a
    // remaining failure means a required part was dropped as invalid.
    serde_json::from_value(value).ok()
}
