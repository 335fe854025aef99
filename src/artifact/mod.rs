//! The local files a spec uploads (scripts, File sources, folders as zips): hashed for the
//! template, read again for upload, always through `fsguard` and in a stream.
//!
//! Confinement (the spec's folder or `--root`) is decided by the checker, which reports it
//! at the spec's line; by the time a plan is built the paths were accepted, so here only
//! what cannot be decided ahead is enforced again on what is actually opened: a regular
//! file, within the size limits.

pub mod zip;

use std::io::Write;
use std::path::Path;

use sha2::{Digest as _, Sha256};

use crate::fsguard::{self, Found, Limits, Roots};

/// What the template pins for one artifact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digest {
    pub sha256: String,
    pub size: u64,
    /// A folder, uploaded as a zip.
    pub folder: bool,
}

/// Everything reachable: the plan runs on paths the checker already confined.
fn accepted() -> Roots {
    Roots::new(Path::new("/"), None)
}

/// A `Write` that hashes and counts.
struct Hasher(Sha256, u64);

impl Write for Hasher {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        self.1 += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Writes the artifact at `local` (a file, or a folder as a zip) to `sink`.
fn write_to(local: &Path, sink: &mut dyn Write) -> Result<bool, String> {
    let fail = |e: &dyn std::fmt::Display| format!("cannot read {}: {e}", local.display());
    let roots = accepted();
    match fsguard::resolve(&roots, local).map_err(|r| fail(&r.explain(&local.display().to_string(), &roots).0))? {
        Found::Dir { real } => {
            let files =
                fsguard::walk(&roots, &real, Limits::ARTIFACT).map_err(|(rel, r)| fail(&r.explain(&rel, &roots).0))?;
            zip::write_zip(&files, sink).map_err(|e| fail(&e))?;
            Ok(true)
        }
        Found::File { real, .. } => {
            let mut failed = None;
            fsguard::stream(&real, fsguard::MAX_FILE_BYTES, &mut |b| {
                if failed.is_none()
                    && let Err(e) = sink.write_all(b)
                {
                    failed = Some(e);
                }
            })
            .map_err(|e| fail(&e))?;
            if let Some(e) = failed {
                return Err(fail(&e));
            }
            Ok(false)
        }
    }
}

/// Hashes the artifact at `local` without holding it in memory.
pub fn digest(local: &Path) -> Result<Digest, String> {
    let mut h = Hasher(Sha256::new(), 0);
    let folder = write_to(local, &mut h)?;
    let sha256 = h.0.finalize().iter().map(|b| format!("{b:02x}")).collect();
    Ok(Digest { sha256, size: h.1, folder })
}

/// The artifact's bytes, for upload (bounded by `fsguard::MAX_ARTIFACT_BYTES`).
pub fn bytes(local: &Path) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    write_to(local, &mut out)?;
    Ok(out)
}
