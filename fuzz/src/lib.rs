//! What every fuzz input goes through, shared by the libFuzzer target and the soak runner.
//!
//! The spec is placed in a folder with hostile neighbours, so the readers of paths, folders,
//! special files and library folders are exercised too, not only text in memory: a regular
//! script, a folder artifact, a FIFO, a link out of the folder, a link to `/dev/zero`, a
//! link loop, a library folder (one good entry, one holding a FIFO), a sparse file past the
//! size limit. A reader that opened the FIFO would hang the run (the soak's watchdog
//! reports it); one that read `/dev/zero` would exhaust memory.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use aibc::compiler::{self, Target};
use aibc::diagnostic::render;
use aibc::loader::Format;

/// The folder fuzzed specs live in.
pub struct Scene {
    pub dir: PathBuf,
}

/// Names the generator plants in specs, matching what the scene holds.
pub const PATHS: &[&str] = &[
    "setup.sh",
    "art",
    "pipe",
    "out-link",
    "zero",
    "loop",
    "big.bin",
    "lib",
    "badlib",
    "../outside.txt",
    "/etc/passwd",
    "/dev/zero",
    "/proc/self/environ",
    "art/../setup.sh",
    "missing.sh",
];

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).expect("no NUL in temp paths");
    // SAFETY: a valid NUL-terminated path.
    unsafe { libc::mkfifo(c.as_ptr(), 0o644) };
}

impl Scene {
    pub fn new(dir: PathBuf) -> Scene {
        use std::os::unix::fs::symlink;
        let _ = std::fs::remove_dir_all(&dir);
        let spec = dir.join("spec");
        std::fs::create_dir_all(spec.join("art/sub")).unwrap();
        std::fs::write(dir.join("outside.txt"), "outside").unwrap();
        std::fs::write(spec.join("setup.sh"), "echo hello\n").unwrap();
        std::fs::write(spec.join("art/a.txt"), "a").unwrap();
        std::fs::write(spec.join("art/sub/b.txt"), "b").unwrap();
        mkfifo(&spec.join("pipe"));
        symlink(dir.join("outside.txt"), spec.join("out-link")).unwrap();
        symlink("/dev/zero", spec.join("zero")).unwrap();
        symlink("loop", spec.join("loop")).unwrap();
        std::fs::File::create(spec.join("big.bin")).unwrap().set_len(300 << 20).unwrap();
        let entry = "name: hello\nversion: 1.0.0\ndescription: Says hello.\nos: linux\nsteps:\n  - type: Shell\n    inline: [echo hello]\n";
        for lib in ["lib", "badlib"] {
            std::fs::create_dir_all(spec.join(lib).join("hello")).unwrap();
            std::fs::write(spec.join(lib).join("hello/manifest.yaml"), entry).unwrap();
        }
        mkfifo(&spec.join("badlib/hello/pipe"));
        Scene { dir }
    }

    /// One scene per process, in the temporary folder.
    pub fn shared() -> &'static Scene {
        static SCENE: OnceLock<Scene> = OnceLock::new();
        SCENE.get_or_init(|| Scene::new(std::env::temp_dir().join(format!("aibc-fuzz-scene-{}", std::process::id()))))
    }

    fn spec_path(&self, format: Format) -> PathBuf {
        self.dir.join("spec").join(if format == Format::Json { "spec.json" } else { "spec.yaml" })
    }
}

/// How far an input got.
#[derive(Debug, Default, Clone, Copy)]
pub struct Outcome {
    pub valid: bool,
    pub compiled: bool,
}

/// Loads, checks, renders and (when valid) compiles `data` as a spec. Panics on any broken
/// invariant, which the fuzzer reports.
pub fn exercise(scene: &Scene, data: &[u8]) -> Outcome {
    let format =
        if data.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') { Format::Json } else { Format::Yaml };
    let path = scene.spec_path(format);
    let mut doc = match std::str::from_utf8(data) {
        Ok(text) => {
            let mut doc = aibc::document::load_str(&path, text.to_string(), format);
            compiler::check(&mut doc);
            doc
        }
        // Bytes that are not UTF-8 go through the file reader, which locates the bad byte.
        Err(_) => {
            std::fs::write(&path, data).unwrap();
            compiler::check_file(&path).expect("the spec file is readable")
        }
    };
    for d in &doc.diags {
        let file = doc.sources.get(d.span.file).expect("a diagnostic names a loaded file");
        assert!(
            file.line(d.span.start.line).is_some(),
            "{} {}:{} points past the end of {}",
            d.code.id(),
            d.span.start.line,
            d.span.start.col,
            file.path.display()
        );
        assert!(d.hint.as_deref().is_some_and(|h| !h.is_empty()), "{} has no hint: {}", d.code.id(), d.message);
        let shown = render(d, &doc.sources, false);
        assert!(shown.len() < 64 * 1024 + d.message.len() + d.hint.as_deref().map_or(0, str::len), "render is bounded");
    }
    let mut out = Outcome { valid: !doc.has_errors(), compiled: false };
    if out.valid {
        doc.diags.clear();
        let shown = compiler::display_path(&path);
        for target in [Target::Bicep, Target::Arm] {
            // An Err is a located, reported failure (a file that changed); only panics count.
            if let Ok(images) = compiler::compile(&doc, &shown, target) {
                out.compiled = true;
                for image in &images {
                    for f in &image.files {
                        if f.path.ends_with(".json") {
                            serde_json_check(&f.text);
                        }
                    }
                }
            }
        }
    }
    out
}

/// Generated ARM JSON must parse.
fn serde_json_check(text: &str) {
    if let Err(e) = serde_json::from_str::<serde_json::Value>(text) {
        panic!("generated JSON does not parse: {e}");
    }
}
