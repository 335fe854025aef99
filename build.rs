//! Embeds the built-in customization library (`customizations/`) in the binary, so aibc
//! works from any folder: every file becomes an entry of `LIBRARY_FILES`.

use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=customizations");
    // The variable cargo sets when it runs this script, not the one it set when compiling
    // it: a compiled build script is reused for a checkout at another path.
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let root = Path::new(&manifest_dir).join("customizations");
    let mut files = Vec::new();
    collect(&root, &root, &mut files);
    assert!(!files.is_empty(), "no built-in library under {}", root.display());
    files.sort();
    let mut out = String::from(
        "/// (path relative to customizations/, contents)\npub static LIBRARY_FILES: &[(&str, &str)] = &[\n",
    );
    for (rel, abs) in &files {
        out.push_str(&format!("    ({rel:?}, include_str!({abs:?})),\n"));
    }
    out.push_str("];\n");
    let dest = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("library_files.rs");
    std::fs::write(dest, out).expect("OUT_DIR is writable");
    version_facts(Path::new(&manifest_dir));
}

/// `aibc --version` names the commit and the target: AIBC_COMMIT from the environment (the
/// release workflows set it), else `git rev-parse`, else `unknown` (a source tarball).
fn version_facts(root: &Path) {
    println!("cargo:rerun-if-env-changed=AIBC_COMMIT");
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .current_dir(root)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .filter(|s| !s.is_empty())
    };
    // Rebuild the facts when HEAD moves (a worktree's HEAD and the branch it points to).
    for path in [
        git(&["rev-parse", "--git-path", "HEAD"]),
        git(&["rev-parse", "--symbolic-full-name", "HEAD"]).and_then(|r| git(&["rev-parse", "--git-path", &r])),
    ]
    .into_iter()
    .flatten()
    {
        let p = root.join(path);
        if p.exists() {
            println!("cargo:rerun-if-changed={}", p.display());
        }
    }
    let commit = std::env::var("AIBC_COMMIT")
        .ok()
        .filter(|c| !c.is_empty())
        .or_else(|| git(&["rev-parse", "--short=12", "HEAD"]))
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=AIBC_COMMIT={commit}");
    println!("cargo:rustc-env=AIBC_TARGET={}", std::env::var("TARGET").unwrap_or_default());
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        println!("cargo:rerun-if-changed={}", p.display());
        if p.is_dir() {
            collect(root, &p, out);
        } else {
            let rel = p.strip_prefix(root).expect("under root").to_string_lossy().replace('\\', "/");
            out.push((rel, p.display().to_string()));
        }
    }
}
