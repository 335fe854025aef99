//! Local paths a spec names (scripts, File sources, library `file` parameters): they must
//! resolve under the spec's folder or `--root`, be a regular file (or a folder where a zip
//! is allowed) and fit the size limits. Only metadata is read here; see `fsguard`.

use super::{Context, Explain};
use crate::diagnostic::Code;
use crate::fsguard::{self, Found, Limits, Refusal};
use crate::node::Path;

/// What a path may name.
#[derive(Debug, Clone, Copy)]
pub enum Want<'a> {
    /// A single file (a script).
    File,
    /// A file, or a folder uploaded as a zip to this destination (a File step).
    FileOrFolderTo(&'a str),
}

/// Reports at `at` whatever keeps the local path `value` from being read.
pub fn check_local(cx: &mut Context, at: &Path, value: &str, want: Want) {
    let path = cx.base_dir.join(value);
    let roots = cx.roots;
    match fsguard::resolve(roots, &path) {
        Ok(Found::File { .. }) => {}
        Ok(Found::Dir { real }) => match want {
            Want::FileOrFolderTo(dest) if dest.to_ascii_lowercase().ends_with(".zip") => {
                if let Err((rel, refusal)) = fsguard::walk(roots, &real, Limits::ARTIFACT) {
                    let shown = if rel.is_empty() {
                        value.to_string()
                    } else {
                        format!("{}/{rel}", value.trim_end_matches(['/', '\\']))
                    };
                    let (message, hint) = refusal.explain(&shown, roots);
                    cx.at(refusal.code(), at, message).hint(hint);
                }
            }
            Want::FileOrFolderTo(_) => {
                cx.at(Code::MissingFile, at, format!("`{value}` is a folder: it is uploaded as one zip file")).hint(
                    "give a `destination` ending in `.zip` (and unpack it in a later step, or use `install-artifact`)",
                );
            }
            Want::File => {
                cx.at(Code::MissingFile, at, format!("`{value}` is a folder, not a file"))
                    .hint("a script must be a single file");
            }
        },
        Err(Refusal::Missing) => {
            cx.at(Code::MissingFile, at, format!("`{value}` does not exist"))
                .hint(format!("paths are relative to the spec's folder (looked for {})", path.display()));
        }
        Err(refusal) => {
            let (message, hint) = refusal.explain(value, roots);
            cx.at(refusal.code(), at, message).hint(hint);
        }
    }
}
