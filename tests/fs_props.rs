//! The readers of paths, folders, special files and library folders, on random trees.
//!
//! Each case builds a random folder tree in a scratch directory: regular files, folders,
//! FIFOs, sockets and links (inside, out of the allowed root, to `/dev/zero`, dangling,
//! back up the tree), then checks, for every node:
//! - `fsguard::resolve` says what the node really is: a file or folder only under the
//!   root, `Outside` only for what lies outside, `Special` only for what is neither;
//! - `fsguard::walk` of the tree finishes (a FIFO opened would block: each walk runs under
//!   a 10 s watchdog), lists only regular files under the root, sorted, or refuses with a
//!   file-access code;
//! - a folder that walks hashes (streamed) to the SHA-256 of the bytes uploaded;
//! - a spec naming the node as a script, a File source and a library folder validates to
//!   nothing or a file-access diagnostic, without panicking or hanging.
//!
//! `AIBC_PROPTEST_SCALE=N` multiplies the cases, as in loader_props.

#![cfg(unix)]

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use aibc::fsguard::{self, Found, Limits, Refusal, Roots};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};

fn config(cases: u32) -> Config {
    let scale: u32 = std::env::var("AIBC_PROPTEST_SCALE").ok().and_then(|s| s.parse().ok()).unwrap_or(1);
    let defaults = Config::default();
    let rng_seed =
        if std::env::var_os("PROPTEST_RNG_SEED").is_some() { defaults.rng_seed } else { RngSeed::Fixed(0xF5) };
    Config { cases: cases.saturating_mul(scale.max(1)), rng_seed, failure_persistence: None, ..defaults }
}

/// One node of a random tree; `parent` indexes an earlier folder node (or the top).
#[derive(Debug, Clone)]
enum Node {
    File(u8),
    Dir,
    Fifo,
    Socket,
    /// A link to an earlier node (relative), resolving inside.
    LinkTo(usize),
    LinkOutside,
    LinkDevZero,
    LinkDangling,
    LinkUp,
}

fn node() -> impl Strategy<Value = Node> {
    prop_oneof![
        4 => any::<u8>().prop_map(Node::File),
        3 => Just(Node::Dir),
        1 => Just(Node::Fifo),
        1 => Just(Node::Socket),
        2 => any::<usize>().prop_map(Node::LinkTo),
        1 => Just(Node::LinkOutside),
        1 => Just(Node::LinkDevZero),
        1 => Just(Node::LinkDangling),
        1 => Just(Node::LinkUp),
    ]
}

struct Tree {
    scratch: PathBuf,
    /// The allowed root (the "spec folder").
    top: PathBuf,
    /// Every node's path, relative to `top`.
    paths: Vec<String>,
}

impl Drop for Tree {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.scratch);
    }
}

fn mkfifo(path: &Path) {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    unsafe { libc::mkfifo(c.as_ptr(), 0o644) };
}

fn build(nodes: &[(Node, usize)]) -> Tree {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let scratch =
        std::env::temp_dir().join(format!("aibc-fsprops-{}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed)));
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(scratch.join("top")).unwrap();
    std::fs::create_dir_all(scratch.join("outside")).unwrap();
    let scratch = std::fs::canonicalize(&scratch).unwrap();
    let (top, outside) = (scratch.join("top"), scratch.join("outside"));
    std::fs::write(outside.join("secret"), "secret").unwrap();
    mkfifo(&outside.join("pipe"));
    let mut paths: Vec<String> = Vec::new();
    let mut dirs: Vec<String> = vec![String::new()];
    for (i, (n, parent)) in nodes.iter().enumerate() {
        let dir = dirs[parent % dirs.len()].clone();
        let rel = if dir.is_empty() { format!("n{i}") } else { format!("{dir}/n{i}") };
        let p = top.join(&rel);
        let depth = rel.matches('/').count();
        match n {
            Node::File(b) => std::fs::write(&p, vec![*b; usize::from(*b)]).unwrap(),
            Node::Dir => {
                std::fs::create_dir(&p).unwrap();
                dirs.push(rel.clone());
            }
            Node::Fifo => mkfifo(&p),
            Node::Socket => drop(std::os::unix::net::UnixListener::bind(&p).unwrap()),
            Node::LinkTo(j) if !paths.is_empty() => {
                let target = &paths[j % paths.len()];
                symlink(format!("{}{target}", "../".repeat(depth)), &p).unwrap();
            }
            Node::LinkTo(_) | Node::LinkOutside => {
                let t = if i % 2 == 0 { "secret" } else { "pipe" };
                symlink(outside.join(t), &p).unwrap();
            }
            Node::LinkDevZero => symlink("/dev/zero", &p).unwrap(),
            Node::LinkDangling => symlink("nowhere", &p).unwrap(),
            Node::LinkUp => symlink("..", &p).unwrap(),
        }
        paths.push(rel);
    }
    Tree { scratch, top, paths }
}

/// Runs `f` on another thread; a reader that blocks (an opened FIFO) fails the case.
fn within<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> Result<T, TestCaseError> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(10)).map_err(|_| TestCaseError::fail(format!("{what} hung or panicked")))
}

fn tree() -> impl Strategy<Value = Vec<(Node, usize)>> {
    prop::collection::vec((node(), any::<usize>()), 1..14)
}

proptest! {
    #![proptest_config(config(48))]

    #[test]
    fn resolve_and_walk_stay_under_the_root_and_never_block(nodes in tree()) {
        let t = build(&nodes);
        let roots = Roots::new(&t.top, None);
        for rel in t.paths.iter().map(String::as_str).chain([""]) {
            let path = t.top.join(rel);
            let (r2, p2) = (roots.clone(), path.clone());
            let found = within("resolve", move || fsguard::resolve(&r2, &p2))?;
            match &found {
                Ok(Found::File { real, len }) => {
                    prop_assert!(real.starts_with(&t.top), "{rel} -> {}", real.display());
                    let meta = std::fs::metadata(real).unwrap();
                    prop_assert!(meta.is_file() && meta.len() == *len);
                }
                Ok(Found::Dir { real }) => {
                    prop_assert!(real.starts_with(&t.top));
                    let (r3, d3) = (roots.clone(), real.clone());
                    let listed = within("walk", move || fsguard::walk(&r3, &d3, Limits::ARTIFACT))?;
                    match listed {
                        Ok(files) => {
                            let mut sorted: Vec<&str> = files.iter().map(|f| f.rel.as_str()).collect();
                            sorted.sort();
                            sorted.dedup();
                            prop_assert_eq!(sorted.len(), files.len());
                            for (f, s) in files.iter().zip(&sorted) {
                                prop_assert_eq!(f.rel.as_str(), *s);
                                prop_assert!(f.real.starts_with(&t.top) && std::fs::metadata(&f.real).unwrap().is_file());
                            }
                            // The streamed hash is of the very bytes uploaded.
                            let p4 = path.clone();
                            let (digest, bytes) = within("zip", move || {
                                (aibc::artifact::digest(&p4), aibc::artifact::bytes(&p4))
                            })?;
                            let (digest, bytes) = (digest.unwrap(), bytes.unwrap());
                            use sha2::Digest as _;
                            let sha: String = sha2::Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
                            prop_assert_eq!(digest.sha256, sha);
                            prop_assert_eq!(digest.size, bytes.len() as u64);
                        }
                        Err((_, r)) => prop_assert!(matches!(
                            r,
                            Refusal::Outside { .. } | Refusal::Special { .. } | Refusal::Unreadable { .. } | Refusal::Missing
                        ), "{r:?}"),
                    }
                }
                Err(Refusal::Outside { real }) => {
                    prop_assert!(!real.starts_with(&t.top), "refused a path inside: {}", real.display());
                    prop_assert!(real.starts_with(&t.scratch) || real.starts_with("/dev"), "{}", real.display());
                }
                Err(Refusal::Special { real, .. }) => {
                    let meta = std::fs::metadata(real).unwrap();
                    prop_assert!(!meta.is_file() && !meta.is_dir());
                }
                Err(Refusal::Missing) | Err(Refusal::Unreadable { .. }) => {}
                Err(Refusal::TooLarge { .. }) => prop_assert!(false, "no node is that large"),
            }
        }
    }

    #[test]
    fn specs_naming_any_node_validate_without_hanging(nodes in tree()) {
        let t = build(&nodes);
        let allowed = ["AIB304", "AIB607", "AIB801", "AIB802", "AIB803", "AIB805"];
        for rel in &t.paths {
            let head = "name: web\nos: linux\nsource:\n  platform: Canonical:ubuntu-24_04-lts:server:latest\ndistribute:\n  - vhd: {}\n";
            let specs = [
                format!("{head}customize:\n  - type: Shell\n    script: {rel}\n"),
                format!("{head}customize:\n  - type: File\n    source: {rel}\n    destination: /tmp/a.zip\n"),
                format!("{head}library: {rel}\n"),
            ];
            for (k, spec) in specs.into_iter().enumerate() {
                let path = t.top.join(format!("spec{k}.yaml"));
                std::fs::write(&path, spec).unwrap();
                let doc = within("validate", move || aibc::compiler::check_file(&path).map(|d| {
                    d.diags.iter().map(|x| x.code.id()).collect::<Vec<_>>()
                }))?;
                let codes = doc.unwrap();
                for c in &codes {
                    prop_assert!(allowed.contains(c), "{rel} (spec {k}): unexpected {c} in {codes:?}");
                }
            }
        }
    }
}
