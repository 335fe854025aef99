//! Reading the local files a spec names without trusting them.
//!
//! A spec is often written by someone other than whoever runs aibc (a pull request, a
//! shared repository), and `deploy` uploads what it names. So every path is resolved
//! (symlinks and `..` included) *before* it is checked, and must land under an allowed
//! root: the spec's folder, or a folder the user named on the command line (`--root`,
//! `--library`). Only regular files and folders are accepted; a FIFO, device or socket is
//! refused from its metadata, never opened (opening a FIFO blocks until a writer comes).
//! Sizes are bounded before anything is read, and what is read is read in a stream.
//! See docs/adr/0016-confined-file-access.md.

use std::fs::{File, Metadata};
use std::io::Read;
use std::path::{Path, PathBuf};

/// Largest single local file (a script, a File source, one file of a folder artifact).
pub const MAX_FILE_BYTES: u64 = 256 * 1024 * 1024;
/// Largest artifact: a file, or the sum of the files of a folder that travels as a zip.
/// Under 4 GiB, so zip offsets and sizes always fit their 32-bit fields.
pub const MAX_ARTIFACT_BYTES: u64 = 1024 * 1024 * 1024;
/// Most files a folder artifact may hold (past 65,535 the zip carries ZIP64 records).
pub const MAX_FOLDER_FILES: usize = 200_000;
/// Largest file of a customization library folder (read into memory as text).
pub const MAX_LIBRARY_FILE_BYTES: u64 = crate::loader::MAX_BYTES as u64;
/// Largest library folder, all files together.
pub const MAX_LIBRARY_BYTES: u64 = 64 * 1024 * 1024;

/// The folders local paths may resolve into, canonical (symlinks resolved).
#[derive(Debug, Clone, Default)]
pub struct Roots {
    roots: Vec<PathBuf>,
}

impl Roots {
    /// The spec's folder and, when given, the folder named with `--root`.
    pub fn new(base_dir: &Path, extra: Option<&Path>) -> Roots {
        let mut r = Roots::default();
        r.add(base_dir);
        if let Some(e) = extra {
            r.add(e);
        }
        r
    }

    /// Allows `dir` (resolved) too. A folder that cannot be resolved adds nothing.
    pub fn add(&mut self, dir: &Path) {
        let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
        if let Ok(real) = std::fs::canonicalize(dir)
            && !self.roots.contains(&real)
        {
            self.roots.push(real);
        }
    }

    pub fn contains(&self, real: &Path) -> bool {
        self.roots.iter().any(|r| real.starts_with(r))
    }

    /// `/a/spec-folder` or `/a/spec-folder or /b/root`, for messages.
    pub fn describe(&self) -> String {
        self.roots.iter().map(|r| r.display().to_string()).collect::<Vec<_>>().join(" or ")
    }
}

/// What a checked path turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    File { real: PathBuf, len: u64 },
    Dir { real: PathBuf },
}

/// Why a path was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Nothing there (or a dangling link).
    Missing,
    /// It resolves outside every allowed root.
    Outside { real: PathBuf },
    /// A FIFO, device, socket: never opened.
    Special { real: PathBuf, what: &'static str },
    /// Over a size or count limit.
    TooLarge { what: String, size: u64, limit: u64, unit: &'static str },
    /// A link loop, a permission problem, a name that is not UTF-8.
    Unreadable { reason: String },
}

impl Refusal {
    /// The diagnostic code this refusal is reported with.
    pub fn code(&self) -> crate::diagnostic::Code {
        use crate::diagnostic::Code;
        match self {
            Refusal::Missing => Code::MissingFile,
            Refusal::Outside { .. } => Code::OutsideRoot,
            Refusal::Special { .. } => Code::SpecialFile,
            Refusal::TooLarge { .. } => Code::TooLarge,
            Refusal::Unreadable { .. } => Code::Unreadable,
        }
    }

    /// `message` about the path written as `shown` in the spec, and the fix.
    pub fn explain(&self, shown: &str, roots: &Roots) -> (String, String) {
        match self {
            Refusal::Missing => (
                format!("`{shown}` does not exist"),
                "paths are relative to the spec's folder; a link must point at a file that exists".to_string(),
            ),
            Refusal::Outside { real } => (
                format!("`{shown}` is outside the folders aibc may read (it resolves to {})", real.display()),
                format!(
                    "keep local files under {}, or name a wider folder on the command line with `--root DIR`",
                    roots.describe()
                ),
            ),
            Refusal::Special { what, .. } => (
                format!("`{shown}` is {what}, not a regular file or folder"),
                "give a regular file or a folder; aibc never reads pipes, devices or sockets".to_string(),
            ),
            Refusal::TooLarge { what, size, limit, unit } => (
                format!("`{shown}`: {what} is {size} {unit}; the limit is {limit} {unit}"),
                "download large files on the build VM instead (a script step with curl or Invoke-WebRequest \
                 from a storage account)"
                    .to_string(),
            ),
            Refusal::Unreadable { reason } => (
                format!("`{shown}` cannot be read: {reason}"),
                "aibc reads regular files and folders it may list, with UTF-8 names and no link leading back \
                 up its own folder: fix or remove this one"
                    .to_string(),
            ),
        }
    }
}

fn special_kind(meta: &Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = meta.file_type();
        if t.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    let _ = meta;
    "a special file"
}

fn io_refusal(e: &std::io::Error) -> Refusal {
    if e.kind() == std::io::ErrorKind::NotFound {
        Refusal::Missing
    } else {
        Refusal::Unreadable { reason: e.to_string() }
    }
}

/// Resolves `path` and checks it lands under `roots` as a regular file (within
/// [`MAX_FILE_BYTES`]) or a folder. Reads metadata only.
pub fn resolve(roots: &Roots, path: &Path) -> Result<Found, Refusal> {
    // canonicalize is realpath(3): lstat and readlink along the way, no open of the target.
    match std::fs::canonicalize(path) {
        Ok(real) => classify(roots, real, MAX_FILE_BYTES),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => match where_missing(path) {
            // Whether something exists outside the roots is not the spec's to learn.
            Some(real) if !roots.contains(&real) => Err(Refusal::Outside { real }),
            _ => Err(Refusal::Missing),
        },
        Err(e) => Err(io_refusal(&e)),
    }
}

/// Where a path that does not exist would be: its longest existing ancestor resolved, the
/// rest appended with `..` applied.
fn where_missing(path: &Path) -> Option<PathBuf> {
    let mut existing = path.to_path_buf();
    let mut rest = Vec::new();
    let base = loop {
        if existing.as_os_str().is_empty() {
            break std::fs::canonicalize(".").ok()?;
        }
        if let Ok(real) = std::fs::canonicalize(&existing) {
            break real;
        }
        match existing.components().next_back()? {
            std::path::Component::Normal(name) => rest.push(name.to_os_string()),
            std::path::Component::ParentDir => rest.push("..".into()),
            std::path::Component::CurDir => {}
            _ => return None,
        }
        existing.pop();
    };
    let mut out = base;
    for part in rest.iter().rev() {
        if part == ".." {
            out.pop();
        } else {
            out.push(part);
        }
    }
    Some(out)
}

fn classify(roots: &Roots, real: PathBuf, file_limit: u64) -> Result<Found, Refusal> {
    if !roots.contains(&real) {
        return Err(Refusal::Outside { real });
    }
    let meta = std::fs::metadata(&real).map_err(|e| io_refusal(&e))?;
    if meta.is_dir() {
        Ok(Found::Dir { real })
    } else if meta.is_file() {
        if meta.len() > file_limit {
            return Err(Refusal::TooLarge {
                what: "the file".into(),
                size: meta.len(),
                limit: file_limit,
                unit: "bytes",
            });
        }
        Ok(Found::File { real, len: meta.len() })
    } else {
        let what = special_kind(&meta);
        Err(Refusal::Special { real, what })
    }
}

/// Opens a regular file without blocking on a FIFO swapped in since it was checked, and
/// checks what was opened (not the name) is a regular file.
pub fn open_regular(path: &Path) -> std::io::Result<(File, u64)> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY);
    }
    let file = options.open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(std::io::Error::other(format!(
            "{} is {}, not a regular file",
            path.display(),
            special_kind(&meta)
        )));
    }
    Ok((file, meta.len()))
}

/// Streams the regular file at `path` into `sink`, at most `limit` bytes: a file that
/// grows past it (or a `/proc` file that claims size 0) is an error, not a huge buffer.
pub fn stream(path: &Path, limit: u64, sink: &mut dyn FnMut(&[u8])) -> std::io::Result<u64> {
    let (file, _) = open_regular(path)?;
    let mut reader = file.take(limit + 1);
    let mut buf = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        total += n as u64;
        if total > limit {
            return Err(std::io::Error::other(format!("{} is larger than {limit} bytes", path.display())));
        }
        sink(&buf[..n]);
    }
    Ok(total)
}

/// Reads a whole regular file of at most `limit` bytes.
pub fn read_limited(path: &Path, limit: u64) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    stream(path, limit, &mut |b| out.extend_from_slice(b))?;
    Ok(out)
}

/// One file of a folder: its path inside the folder (`/`-separated), where it really is,
/// and its size when listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub rel: String,
    pub real: PathBuf,
    pub len: u64,
}

/// Limits for [`walk`].
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub file: u64,
    pub total: u64,
    pub files: usize,
}

impl Limits {
    pub const ARTIFACT: Limits = Limits { file: MAX_FILE_BYTES, total: MAX_ARTIFACT_BYTES, files: MAX_FOLDER_FILES };
    pub const LIBRARY: Limits = Limits { file: MAX_LIBRARY_FILE_BYTES, total: MAX_LIBRARY_BYTES, files: 10_000 };
}

/// Lists the regular files under the folder `dir` (already resolved), sorted by their
/// `/`-separated path. Links are followed only when they resolve under `roots`; anything
/// special, a link loop or a name that is not UTF-8 is refused with the path inside the
/// folder it was found at. Nothing is opened but folders.
pub fn walk(roots: &Roots, dir: &Path, limits: Limits) -> Result<Vec<Listed>, (String, Refusal)> {
    let mut out = Vec::new();
    let mut total = 0u64;
    let mut dirs = 0usize;
    // Each folder with the resolved folders above it: a link to one of those is a loop. A
    // folder reached twice by different links (no loop) is listed twice, like `zip -r`.
    let mut stack: Vec<(String, PathBuf, Vec<PathBuf>)> = vec![(String::new(), dir.to_path_buf(), Vec::new())];
    while let Some((prefix, real_dir, above)) = stack.pop() {
        dirs += 1;
        if dirs > limits.files {
            return Err((
                prefix,
                Refusal::TooLarge {
                    what: "the folder".into(),
                    size: dirs as u64,
                    limit: limits.files as u64,
                    unit: "folders (so far)",
                },
            ));
        }
        let entries = std::fs::read_dir(&real_dir).map_err(|e| (prefix.clone(), io_refusal(&e)))?;
        for entry in entries {
            let entry = entry.map_err(|e| (prefix.clone(), io_refusal(&e)))?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else {
                let lossy = name.to_string_lossy().into_owned();
                return Err((
                    format!("{prefix}{lossy}"),
                    Refusal::Unreadable { reason: "its name is not UTF-8".into() },
                ));
            };
            let rel = format!("{prefix}{name}");
            let kind = entry.file_type().map_err(|e| (rel.clone(), io_refusal(&e)))?;
            let found = if kind.is_symlink() {
                let real = std::fs::canonicalize(entry.path()).map_err(|e| (rel.clone(), io_refusal(&e)))?;
                classify(roots, real, limits.file)
            } else {
                classify(roots, entry.path(), limits.file)
            };
            match found.map_err(|r| (rel.clone(), r))? {
                Found::Dir { real } => {
                    // A link back up the tree would list forever.
                    if real == real_dir || above.contains(&real) {
                        return Err((
                            rel,
                            Refusal::Unreadable { reason: "a link leads back into its own folder".into() },
                        ));
                    }
                    let mut chain = above.clone();
                    chain.push(real_dir.clone());
                    stack.push((format!("{rel}/"), real, chain));
                }
                Found::File { real, len } => {
                    total += len;
                    if total > limits.total {
                        return Err((
                            rel,
                            Refusal::TooLarge {
                                what: "the folder".into(),
                                size: total,
                                limit: limits.total,
                                unit: "bytes (so far)",
                            },
                        ));
                    }
                    out.push(Listed { rel, real, len });
                    if out.len() > limits.files {
                        return Err((
                            String::new(),
                            Refusal::TooLarge {
                                what: "the folder".into(),
                                size: out.len() as u64,
                                limit: limits.files as u64,
                                unit: "files (so far)",
                            },
                        ));
                    }
                }
            }
        }
    }
    out.sort_by(|a, b| a.rel.cmp(&b.rel));
    Ok(out)
}
