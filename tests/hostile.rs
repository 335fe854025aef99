//! Hostile input: files, folders, links, special files, sizes, encodings, names, comments
//! and families, each run through the `aibc` binary the way a user runs it, with the exact
//! diagnostics (code, line, column) and exit code it must give.
//!
//! Nothing outside the allowed root may be read. Two witnesses:
//! - every target outside the spec's folder has a FIFO beside it, and many cases point at
//!   a FIFO outside: opening one blocks, so a case that opened it would time out;
//! - when `strace` is installed, every case that names something outside runs under it and
//!   the trace must hold no `open`/`openat` of anything under the outside folder.
//!
//! Every case also reports the child's peak resident memory (wait4 rusage); the largest is
//! printed, and bounded.

#![cfg(unix)]

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// One finished run of the binary.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    timed_out: bool,
    max_rss_kib: i64,
}

/// Runs `aibc args` in `cwd` with a deadline, reaping with wait4 to learn its peak memory.
#[allow(clippy::zombie_processes)] // reaped by wait4 below, which std's Child does not see
fn run_aibc(cwd: &Path, args: &[String], wrap: Option<&[String]>) -> Run {
    let out_path = cwd.join(format!(".stdout-{}", std::process::id()));
    let err_path = cwd.join(format!(".stderr-{}", std::process::id()));
    let out = std::fs::File::create(&out_path).unwrap();
    let err = std::fs::File::create(&err_path).unwrap();
    let bin = env!("CARGO_BIN_EXE_aibc");
    let mut cmd = match wrap {
        Some(w) => {
            let mut c = Command::new(&w[0]);
            c.args(&w[1..]).arg(bin);
            c
        }
        None => Command::new(bin),
    };
    let child = cmd
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::from(out))
        .stderr(Stdio::from(err))
        .spawn()
        .expect("aibc starts");
    let pid = child.id() as libc::pid_t;
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let mut timed_out = false;
    loop {
        // SAFETY: plain syscall on our own child; `status` and `usage` are valid out-params.
        let r = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        if r == pid {
            break;
        }
        if Instant::now() > deadline {
            timed_out = true;
            unsafe {
                libc::kill(pid, libc::SIGKILL);
                libc::wait4(pid, &mut status, 0, &mut usage);
            }
            break;
        }
        std::thread::sleep(Duration::from_millis(3));
    }
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    let stdout = String::from_utf8_lossy(&std::fs::read(&out_path).unwrap()).into_owned();
    let stderr = String::from_utf8_lossy(&std::fs::read(&err_path).unwrap()).into_owned();
    let _ = std::fs::remove_file(&out_path);
    let _ = std::fs::remove_file(&err_path);
    Run { code, stdout, stderr, timed_out, max_rss_kib: usage.ru_maxrss }
}

/// The shared scene: `outside/` holds what no case may read.
struct World {
    root: PathBuf,
    outside: PathBuf,
}

impl World {
    fn new() -> World {
        let root = std::env::temp_dir().join(format!("aibc-hostile-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let outside = root.join("outside");
        std::fs::create_dir_all(outside.join("ssh")).unwrap();
        std::fs::write(outside.join("secret.txt"), "secret").unwrap();
        std::fs::write(outside.join("ssh/id_rsa"), "PRIVATE KEY").unwrap();
        mkfifo(&outside.join("pipe"));
        mkfifo(&outside.join("ssh/pipe"));
        // Resolve /tmp links once so paths written into specs are the real ones.
        let root = std::fs::canonicalize(&root).unwrap();
        let outside = root.join("outside");
        World { root, outside }
    }
}

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0, "mkfifo {}", path.display());
}

fn sparse(path: &Path, len: u64) {
    std::fs::File::create(path).unwrap().set_len(len).unwrap();
}

fn write(path: &Path, text: &str) {
    if let Some(p) = path.parent() {
        std::fs::create_dir_all(p).unwrap();
    }
    std::fs::write(path, text).unwrap();
}

fn socket(path: &Path) {
    // The socket file stays after the listener is dropped.
    drop(std::os::unix::net::UnixListener::bind(path).unwrap());
}

type Setup = Box<dyn Fn(&Path, &World)>;

/// One hostile case: a spec folder built by `setup`, the spec's bytes, the command line, and
/// what must come out.
struct Case {
    name: String,
    spec: Vec<u8>,
    spec_name: &'static str,
    setup: Setup,
    /// Extra arguments after `validate --format json SPEC` (`{case}` is the case folder).
    args: Vec<String>,
    expect: Vec<(&'static str, u32, u32)>,
    exit: i32,
    /// Names something outside the allowed root: traced when strace is there.
    outside: bool,
}

fn case(name: impl Into<String>, spec: impl Into<Vec<u8>>, expect: &[(&'static str, u32, u32)], exit: i32) -> Case {
    Case {
        name: name.into(),
        spec: spec.into(),
        spec_name: "spec.yaml",
        setup: Box::new(|_, _| {}),
        args: Vec::new(),
        expect: expect.to_vec(),
        exit,
        outside: false,
    }
}

impl Case {
    fn setup(mut self, f: impl Fn(&Path, &World) + 'static) -> Case {
        self.setup = Box::new(f);
        self
    }
    fn args(mut self, a: &[&str]) -> Case {
        self.args = a.iter().map(|s| s.to_string()).collect();
        self
    }
    fn outside(mut self) -> Case {
        self.outside = true;
        self
    }
    fn named(mut self, n: &'static str) -> Case {
        self.spec_name = n;
        self
    }
}

/// Where a path is named, with the spec text around it and the value's position.
#[derive(Clone, Copy)]
enum Place {
    ShellScript,
    PowerShellScript,
    FileSource,
    ValidateScript,
    LibraryFile,
}

impl Place {
    const ALL: [Place; 5] =
        [Place::ShellScript, Place::PowerShellScript, Place::FileSource, Place::ValidateScript, Place::LibraryFile];

    fn label(self) -> &'static str {
        match self {
            Place::ShellScript => "shell-script",
            Place::PowerShellScript => "powershell-script",
            Place::FileSource => "file-source",
            Place::ValidateScript => "validate-script",
            Place::LibraryFile => "library-file",
        }
    }

    /// The spec naming `path`, and the line and column of the value.
    fn spec(self, path: &str) -> (String, u32, u32) {
        let linux = "name: web\nos: linux\nsource:\n  platform: Canonical:ubuntu-24_04-lts:server:latest\n";
        let windows = "name: web\nos: windows\nsource:\n  platform: MicrosoftWindowsServer:WindowsServer:2022-datacenter-azure-edition:latest\n";
        let dist = "distribute:\n  - managedImage:\n      name: web-image\n";
        match self {
            Place::ShellScript => (format!("{linux}customize:\n  - type: Shell\n    script: {path}\n{dist}"), 7, 13),
            Place::PowerShellScript => {
                (format!("{windows}customize:\n  - type: PowerShell\n    script: {path}\n{dist}"), 7, 13)
            }
            Place::FileSource => (
                format!("{linux}customize:\n  - type: File\n    source: {path}\n    destination: /tmp/a.zip\n{dist}"),
                7,
                13,
            ),
            Place::ValidateScript => {
                (format!("{linux}validate:\n  steps:\n    - type: Shell\n      script: {path}\n{dist}"), 8, 15)
            }
            Place::LibraryFile => (
                format!("{windows}customize:\n  - use: install-artifact\n    with:\n      file: {path}\n{dist}"),
                8,
                13,
            ),
        }
    }
}

/// The same targets named from every place a spec names a local file.
fn path_cases(out: &mut Vec<Case>) {
    type Make = fn(&Path, &World);
    // (name, value written in the spec, setup, code, exit, outside)
    let targets: Vec<(&str, String, Make, Option<&'static str>, bool)> = vec![
        ("relative-escape", "../outside/secret.txt".into(), |_, _| {}, Some("AIB801"), true),
        ("relative-escape-to-fifo", "../outside/pipe".into(), |_, _| {}, Some("AIB801"), true),
        ("deep-relative-escape", "../../../../../../../../etc/passwd".into(), |_, _| {}, Some("AIB801"), true),
        (
            "through-subfolder",
            "sub/../../outside/secret.txt".into(),
            |d, _| std::fs::create_dir_all(d.join("sub")).unwrap(),
            Some("AIB801"),
            true,
        ),
        ("absolute-etc-shadow", "/etc/shadow".into(), |_, _| {}, Some("AIB801"), true),
        ("proc-self-environ", "/proc/self/environ".into(), |_, _| {}, Some("AIB801"), true),
        (
            "link-out",
            "link".into(),
            |d, w| symlink(w.outside.join("secret.txt"), d.join("link")).unwrap(),
            Some("AIB801"),
            true,
        ),
        (
            "link-out-to-fifo",
            "link".into(),
            |d, w| symlink(w.outside.join("pipe"), d.join("link")).unwrap(),
            Some("AIB801"),
            true,
        ),
        (
            "link-chain-out",
            "a".into(),
            |d, w| {
                symlink("b", d.join("a")).unwrap();
                symlink(w.outside.join("secret.txt"), d.join("b")).unwrap();
            },
            Some("AIB801"),
            true,
        ),
        (
            "relative-link-out",
            "rel".into(),
            |d, _| symlink("../outside/secret.txt", d.join("rel")).unwrap(),
            Some("AIB801"),
            true,
        ),
        ("link-to-dev-zero", "zero".into(), |d, _| symlink("/dev/zero", d.join("zero")).unwrap(), Some("AIB801"), true),
        ("fifo", "pipe".into(), |d, _| mkfifo(&d.join("pipe")), Some("AIB802"), false),
        (
            "link-to-fifo-inside",
            "link".into(),
            |d, _| {
                mkfifo(&d.join("pipe"));
                symlink("pipe", d.join("link")).unwrap();
            },
            Some("AIB802"),
            false,
        ),
        ("socket", "sock".into(), |d, _| socket(&d.join("sock")), Some("AIB802"), false),
        ("sparse-over-limit", "big.bin".into(), |d, _| sparse(&d.join("big.bin"), 300 << 20), Some("AIB803"), false),
        ("missing-outside", "../outside/no-such-file".into(), |_, _| {}, Some("AIB801"), true),
        ("missing-far-outside", "/no/such/dir/file".into(), |_, _| {}, Some("AIB801"), true),
        ("dangling-link", "gone".into(), |d, _| symlink("nowhere", d.join("gone")).unwrap(), Some("AIB304"), false),
        (
            "link-loop",
            "loop".into(),
            |d, _| {
                symlink("loop2", d.join("loop")).unwrap();
                symlink("loop", d.join("loop2")).unwrap();
            },
            Some("AIB805"),
            false,
        ),
        (
            "inside-normalised",
            "sub/../ok.ps1".into(),
            |d, _| {
                std::fs::create_dir_all(d.join("sub")).unwrap();
                write(&d.join("ok.ps1"), "echo ok\n");
            },
            None,
            false,
        ),
        (
            "inside-link",
            "link".into(),
            |d, _| {
                write(&d.join("real/ok.ps1"), "echo ok\n");
                symlink("real/ok.ps1", d.join("link")).unwrap();
            },
            None,
            false,
        ),
        ("at-size-limit", "edge.bin".into(), |d, _| sparse(&d.join("edge.bin"), 256 << 20), None, false),
    ];
    for place in Place::ALL {
        for (name, value, setup, code, outside) in &targets {
            let (spec, line, col) = place.spec(value);
            let expect: Vec<(&'static str, u32, u32)> = code.iter().map(|c| (*c, line, col)).collect();
            let exit = if code.is_some() { 2 } else { 0 };
            let setup = *setup;
            let mut c = case(format!("{}/{name}", place.label()), spec, &expect, exit).setup(setup);
            if *outside {
                c = c.outside();
            }
            out.push(c);
        }
    }
}

fn folder_spec() -> (String, u32, u32) {
    Place::FileSource.spec("art")
}

fn folder(name: &str, setup: impl Fn(&Path, &World) + 'static, code: Option<&'static str>, outside: bool) -> Case {
    let (spec, line, col) = folder_spec();
    let expect: Vec<(&'static str, u32, u32)> = code.iter().map(|c| (*c, line, col)).collect();
    let mut c = case(format!("folder/{name}"), spec, &expect, if code.is_some() { 2 } else { 0 }).setup(move |d, w| {
        std::fs::create_dir_all(d.join("art")).unwrap();
        write(&d.join("art/readme.txt"), "hello\n");
        setup(&d.join("art"), w)
    });
    if outside {
        c = c.outside();
    }
    c
}

/// Folder artifacts (zipped) and what may hide in them.
fn folder_cases(out: &mut Vec<Case>) {
    out.push(folder("plain", |_, _| {}, None, false));
    out.push(folder("nested", |a, _| write(&a.join("x/y/z.txt"), "z"), None, false));
    out.push(folder("fifo", |a, _| mkfifo(&a.join("pipe")), Some("AIB802"), false));
    out.push(folder(
        "fifo-deep",
        |a, _| {
            std::fs::create_dir_all(a.join("x/y")).unwrap();
            mkfifo(&a.join("x/y/pipe"));
        },
        Some("AIB802"),
        false,
    ));
    out.push(folder("socket", |a, _| socket(&a.join("sock")), Some("AIB802"), false));
    out.push(folder(
        "link-to-ssh-dir",
        |a, w| symlink(w.outside.join("ssh"), a.join("ssh")).unwrap(),
        Some("AIB801"),
        true,
    ));
    out.push(folder(
        "link-to-outside-file",
        |a, w| symlink(w.outside.join("secret.txt"), a.join("s")).unwrap(),
        Some("AIB801"),
        true,
    ));
    out.push(folder(
        "link-to-outside-fifo",
        |a, w| symlink(w.outside.join("pipe"), a.join("p")).unwrap(),
        Some("AIB801"),
        true,
    ));
    out.push(folder("link-to-dev-zero", |a, _| symlink("/dev/zero", a.join("zero")).unwrap(), Some("AIB801"), true));
    out.push(folder("link-to-proc", |a, _| symlink("/proc/self", a.join("proc")).unwrap(), Some("AIB801"), true));
    out.push(folder(
        "link-inside",
        |a, _| {
            write(&a.join("real.txt"), "r");
            symlink("real.txt", a.join("alias.txt")).unwrap();
        },
        None,
        false,
    ));
    out.push(folder(
        "link-to-sibling-in-spec-folder",
        |a, _| {
            write(&a.parent().unwrap().join("shared.txt"), "s");
            symlink("../shared.txt", a.join("shared.txt")).unwrap();
        },
        None,
        false,
    ));
    out.push(folder("link-loop-to-parent", |a, _| symlink(".", a.join("self")).unwrap(), Some("AIB805"), false));
    out.push(folder(
        "link-loop-up",
        |a, _| {
            std::fs::create_dir_all(a.join("x")).unwrap();
            symlink("..", a.join("x/up")).unwrap();
        },
        Some("AIB805"),
        false,
    ));
    out.push(folder("dangling-link", |a, _| symlink("nowhere", a.join("gone")).unwrap(), Some("AIB304"), false));
    out.push(folder("file-over-limit", |a, _| sparse(&a.join("big.bin"), 257 << 20), Some("AIB803"), false));
    out.push(folder(
        "sum-over-limit",
        |a, _| {
            for i in 0..5 {
                sparse(&a.join(format!("part{i}.bin")), 250 << 20);
            }
        },
        Some("AIB803"),
        false,
    ));
    out.push(folder(
        "name-not-utf8",
        |a, _| std::fs::write(a.join(OsStr::from_bytes(b"bad\xff.txt")), "x").unwrap(),
        Some("AIB805"),
        false,
    ));
    out.push(folder("empty", |a, _| std::fs::remove_file(a.join("readme.txt")).unwrap(), None, false));
    // A folder without a .zip destination, and a folder that is itself a link out.
    let (spec, ..) = Place::FileSource.spec("art");
    let spec = spec.replace("/tmp/a.zip", "/tmp/a");
    out.push(case("folder/destination-not-zip", spec, &[("AIB304", 7, 13)], 2).setup(|d, _| {
        write(&d.join("art/readme.txt"), "x");
    }));
    let (spec, ..) = folder_spec();
    out.push(case("folder/itself-a-link-out", spec, &[("AIB801", 7, 13)], 2).outside().setup(|d, w| {
        symlink(w.outside.join("ssh"), d.join("art")).unwrap();
    }));
}

const LIB_SPEC: &str = "name: web\nos: linux\nlibrary: lib\nsource:\n  platform: Canonical:ubuntu-24_04-lts:server:latest\ndistribute:\n  - managedImage:\n      name: web-image\n";

fn entry(lib: &Path) {
    write(
        &lib.join("hello/manifest.yaml"),
        "name: hello\nversion: 1.0.0\ndescription: Says hello.\nos: linux\nsteps:\n  - type: Shell\n    inline: [echo hello]\n",
    );
}

fn library(name: &str, setup: impl Fn(&Path, &World) + 'static, code: Option<&'static str>, outside: bool) -> Case {
    let expect: Vec<(&'static str, u32, u32)> = code.iter().map(|c| (*c, 3, 10)).collect();
    let mut c =
        case(format!("library/{name}"), LIB_SPEC, &expect, if code.is_some() { 2 } else { 0 }).setup(move |d, w| {
            entry(&d.join("lib"));
            setup(&d.join("lib"), w)
        });
    if outside {
        c = c.outside();
    }
    c
}

/// `library:` folders (read recursively, so everything in them is a target).
fn library_cases(out: &mut Vec<Case>) {
    out.push(library("plain", |_, _| {}, None, false));
    out.push(library("fifo-manifest", |l, _| mkfifo(&l.join("piped/manifest.yaml")), Some("AIB802"), false).setup(
        |d, _| {
            entry(&d.join("lib"));
            std::fs::create_dir_all(d.join("lib/piped")).unwrap();
            mkfifo(&d.join("lib/piped/manifest.yaml"));
        },
    ));
    out.push(library("fifo-script", |l, _| mkfifo(&l.join("hello/run.sh")), Some("AIB802"), false));
    out.push(library("socket", |l, _| socket(&l.join("hello/sock")), Some("AIB802"), false));
    out.push(library("link-out", |l, w| symlink(w.outside.join("ssh"), l.join("keys")).unwrap(), Some("AIB801"), true));
    out.push(library(
        "link-to-outside-fifo",
        |l, w| symlink(w.outside.join("pipe"), l.join("p")).unwrap(),
        Some("AIB801"),
        true,
    ));
    out.push(library(
        "link-to-dev-zero",
        |l, _| symlink("/dev/zero", l.join("hello/zero")).unwrap(),
        Some("AIB801"),
        true,
    ));
    out.push(library("file-over-limit", |l, _| sparse(&l.join("hello/big.sh"), 9 << 20), Some("AIB803"), false));
    out.push(library(
        "sum-over-limit",
        |l, _| {
            for i in 0..9 {
                sparse(&l.join(format!("hello/part{i}.bin")), 8 << 20);
            }
        },
        Some("AIB803"),
        false,
    ));
    out.push(library("link-loop", |l, _| symlink("..", l.join("hello/up")).unwrap(), Some("AIB805"), false));
    out.push(library(
        "name-not-utf8",
        |l, _| std::fs::write(l.join(OsStr::from_bytes(b"x\xfe")), "x").unwrap(),
        Some("AIB805"),
        false,
    ));
    out.push(library("link-inside", |l, _| symlink("hello", l.join("alias")).unwrap(), None, false));
    let escaping = LIB_SPEC.replace("library: lib", "library: ../outside");
    out.push(case("library/folder-outside", escaping, &[("AIB801", 3, 10)], 2).outside());
    let link = LIB_SPEC.replace("library: lib", "library: ext");
    out.push(case("library/folder-link-outside", link, &[("AIB801", 3, 10)], 2).outside().setup(|d, w| {
        symlink(&w.outside, d.join("ext")).unwrap();
    }));
    let fifo = LIB_SPEC.replace("library: lib", "library: pipe");
    out.push(case("library/folder-is-fifo", fifo, &[("AIB802", 3, 10)], 2).setup(|d, _| mkfifo(&d.join("pipe"))));
    let missing = LIB_SPEC.replace("library: lib", "library: nothing");
    out.push(case("library/folder-missing", missing, &[("AIB607", 3, 10)], 2));
    // `--library` on the command line is trusted for its own folder, not for links out of it.
    let plain = Place::ShellScript.spec("ok.sh").0;
    out.push(
        case("library/command-line-folder", plain.clone(), &[], 0).args(&["--library", "{case}/../cmdlib"]).setup(
            |d, _| {
                write(&d.join("ok.sh"), "echo ok\n");
                entry(&d.join("../cmdlib"));
            },
        ),
    );
    out.push(
        case("library/command-line-folder-missing", plain.clone(), &[("AIB607", 1, 1)], 2)
            .args(&["--library", "/no/such/library"])
            .setup(|d, _| write(&d.join("ok.sh"), "echo ok\n")),
    );
    out.push(
        case("library/command-line-folder-with-fifo", plain, &[("AIB802", 1, 1)], 2)
            .args(&["--library", "{case}/../cmdlib2"])
            .setup(|d, _| {
                write(&d.join("ok.sh"), "echo ok\n");
                entry(&d.join("../cmdlib2"));
                mkfifo(&d.join("../cmdlib2/hello/pipe"));
            }),
    );
}

/// `--root DIR`: the one way to widen what a spec may read.
fn root_cases(out: &mut Vec<Case>) {
    let spec = Place::ShellScript.spec("../shared/setup.sh").0;
    out.push(case("root/without-root", spec.clone(), &[("AIB801", 7, 13)], 2).setup(|d, _| {
        write(&d.join("../shared/setup.sh"), "echo\n");
    }));
    out.push(case("root/with-root", spec.clone(), &[], 0).args(&["--root", "{case}/../shared"]).setup(|d, _| {
        write(&d.join("../shared/setup.sh"), "echo\n");
    }));
    out.push(
        case(
            "root/root-does-not-cover-outside",
            Place::ShellScript.spec("../outside/secret.txt").0,
            &[("AIB801", 7, 13)],
            2,
        )
        .args(&["--root", "{case}/../shared"])
        .outside()
        .setup(|d, _| std::fs::create_dir_all(d.join("../shared")).unwrap()),
    );
    out.push(
        case("root/root-slash-still-refuses-devices", Place::ShellScript.spec("/dev/null").0, &[("AIB802", 7, 13)], 2)
            .args(&["--root", "/"]),
    );
    out.push(
        case("root/root-slash-still-refuses-fifo-link", Place::ShellScript.spec("z").0, &[("AIB802", 7, 13)], 2)
            .args(&["--root", "/"])
            .setup(|d, w| symlink(w.outside.join("pipe"), d.join("z")).unwrap()),
    );
    out.push(
        case("root/link-into-root", Place::ShellScript.spec("s").0, &[], 0)
            .args(&["--root", "{case}/../shared"])
            .setup(|d, _| {
                write(&d.join("../shared/setup.sh"), "echo\n");
                symlink("../shared/setup.sh", d.join("s")).unwrap();
            }),
    );
}

/// The spec file itself.
fn spec_file_cases(out: &mut Vec<Case>) {
    let ok = Place::ShellScript.spec("https://example.com/x.sh").0;
    out.push(
        case("spec/over-8-mib", Vec::new(), &[("AIB001", 1, 1)], 2).setup(|d, _| sparse(&d.join("spec.yaml"), 9 << 20)),
    );
    out.push(case("spec/is-fifo", Vec::new(), &[], 1).setup(|d, _| {
        std::fs::remove_file(d.join("spec.yaml")).unwrap();
        mkfifo(&d.join("spec.yaml"));
    }));
    out.push(case("spec/is-link-to-dev-zero", Vec::new(), &[], 1).setup(|d, _| {
        std::fs::remove_file(d.join("spec.yaml")).unwrap();
        symlink("/dev/zero", d.join("spec.yaml")).unwrap();
    }));
    out.push(case("spec/is-folder", Vec::new(), &[], 1).setup(|d, _| {
        std::fs::remove_file(d.join("spec.yaml")).unwrap();
        std::fs::create_dir(d.join("spec.yaml")).unwrap();
    }));
    out.push(case("spec/missing", Vec::new(), &[], 1).setup(|d, _| std::fs::remove_file(d.join("spec.yaml")).unwrap()));
    out.push(case("spec/valid", ok, &[], 0));
}

/// Encodings and line breaks.
fn encoding_cases(out: &mut Vec<Case>) {
    let ok = Place::ShellScript.spec("https://example.com/x.sh").0;
    let with_bad_byte = |text: &str, at_line: usize| {
        let mut lines: Vec<Vec<u8>> = text.split('\n').map(|l| l.as_bytes().to_vec()).collect();
        lines[at_line - 1].splice(0..0, b"# \xff".iter().copied());
        lines.join(&b'\n')
    };
    out.push(case("encoding/latin1-byte-line-3", with_bad_byte(&ok, 3), &[("AIB001", 3, 3)], 2));
    let lone_cr: Vec<u8> = with_bad_byte(&ok, 3).iter().map(|&b| if b == b'\n' { b'\r' } else { b }).collect();
    out.push(case("encoding/lone-cr-then-bad-byte", lone_cr, &[("AIB001", 3, 3)], 2));
    let crlf: Vec<u8> =
        with_bad_byte(&ok, 4).iter().flat_map(|&b| if b == b'\n' { vec![b'\r', b'\n'] } else { vec![b] }).collect();
    out.push(case("encoding/crlf-then-bad-byte", crlf, &[("AIB001", 4, 3)], 2));
    let mut utf16 = vec![0xff, 0xfe];
    for u in ok.encode_utf16() {
        utf16.extend_from_slice(&u.to_le_bytes());
    }
    out.push(case("encoding/utf16-le", utf16, &[("AIB001", 1, 1)], 2));
    let mut bom = b"\xef\xbb\xbf".to_vec();
    bom.extend_from_slice(ok.as_bytes());
    out.push(case("encoding/utf8-bom", bom, &[], 0));
    out.push(case(
        "encoding/overlong-slash",
        [b"name: a\xc0\xaf\n".as_slice(), ok.as_bytes()].concat(),
        &[("AIB001", 1, 8)],
        2,
    ));
    out.push(case("encoding/lone-cr-everywhere", ok.replace('\n', "\r"), &[], 0));
    out.push(case("encoding/mixed-breaks", ok.replacen('\n', "\r\n", 2).replacen('\n', "\r", 2), &[], 0));
    // A minified JSON spec on one very long line with an unknown key at its end.
    let long = format!(
        "{{\"name\":\"web\",\"os\":\"linux\",\"source\":{{\"platform\":\"Canonical:ubuntu-24_04-lts:server:latest\"}},\"description\":\"{}\",\"distribute\":[{{\"vhd\":{{}}}}],\"zzz\":1}}",
        "d".repeat(7_000_000)
    );
    let col = long.find("\"zzz\"").unwrap() as u32 + 1;
    let leaked: &'static str = Box::leak(String::from("AIB003").into_boxed_str());
    out.push(case("encoding/seven-mb-line", long, &[(leaked, 1, col)], 2).named("spec.json"));
}

/// Names of files and folders, and what reaches generated comments.
fn name_cases(out: &mut Vec<Case>) {
    let ok = Place::ShellScript.spec("https://example.com/x.sh").0;
    for (label, file) in [
        ("spaces", "my spec.yaml"),
        ("unicode", "spéc-ü.yaml"),
        ("shell-characters", "$(id);rm -rf.yaml"),
        ("newline", "spec\nresource evil 'x' = {}\n.yaml"),
    ] {
        let leaked: &'static str = Box::leak(file.to_string().into_boxed_str());
        out.push(case(format!("names/{label}"), ok.clone(), &[], 0).named(leaked));
    }
    let script_named = |n: &str| Place::ShellScript.spec(&format!("\"{n}\"")).0;
    out.push(
        case("names/script-with-newline", script_named("a\\nb.sh"), &[], 0)
            .setup(|d, _| write(&d.join("a\nb.sh"), "echo\n")),
    );
    out.push(
        case("names/script-with-quote", Place::ShellScript.spec("it's.sh").0, &[], 0)
            .setup(|d, _| write(&d.join("it's.sh"), "echo\n")),
    );
    out.push(
        case("names/script-named-dotdot-only", Place::ShellScript.spec("..").0, &[("AIB801", 7, 13)], 2).outside(),
    );
    out.push(case("names/script-named-dot", Place::ShellScript.spec(".").0, &[("AIB304", 7, 13)], 2));
}

/// Families: duplicate names.
fn family_cases(out: &mut Vec<Case>) {
    let fam = |names: &[&str]| {
        let mut s = String::from(
            "defaults:\n  os: linux\n  source:\n    platform: Canonical:ubuntu-24_04-lts:server:latest\n  distribute:\n    - vhd: {}\nimages:\n",
        );
        for n in names {
            s.push_str(&format!("  - name: {n}\n"));
        }
        s
    };
    out.push(case("family/unique", fam(&["web", "api"]), &[], 0));
    out.push(case("family/duplicate", fam(&["web", "web"]), &[("AIB804", 9, 11)], 2));
    out.push(case("family/duplicate-case", fam(&["web", "Web"]), &[("AIB804", 9, 11)], 2));
    out.push(case(
        "family/three-same",
        fam(&["web", "api", "web", "web"]),
        &[("AIB804", 10, 11), ("AIB804", 11, 11)],
        2,
    ));
    let from_defaults = "defaults:\n  name: same\n  os: linux\n  source:\n    platform: Canonical:ubuntu-24_04-lts:server:latest\n  distribute:\n    - vhd: {}\nimages:\n  - description: a\n  - description: b\n";
    out.push(case("family/name-from-defaults", from_defaults, &[("AIB804", 2, 9)], 2));
}

fn all_cases() -> Vec<Case> {
    let mut out = Vec::new();
    path_cases(&mut out);
    folder_cases(&mut out);
    library_cases(&mut out);
    root_cases(&mut out);
    spec_file_cases(&mut out);
    encoding_cases(&mut out);
    name_cases(&mut out);
    family_cases(&mut out);
    out
}

fn strace() -> Option<PathBuf> {
    let found =
        std::env::var_os("PATH")?.to_str()?.split(':').map(|d| Path::new(d).join("strace")).find(|p| p.is_file());
    // strace may be installed yet not allowed to trace (containers without ptrace).
    let works = found
        .as_ref()
        .is_some_and(|s| Command::new(s).args(["-o", "/dev/null", "true"]).status().is_ok_and(|st| st.success()));
    if works { found } else { None }
}

#[test]
fn hostile_inputs_give_their_exact_diagnostics_and_read_nothing_outside() {
    let world = World::new();
    let cases = all_cases();
    assert!(cases.len() >= 100, "the suite should hold at least 100 cases, has {}", cases.len());
    let tracer = strace();
    if tracer.is_none() {
        eprintln!("strace is not usable here: confinement is witnessed by the FIFO sentinels only");
    }
    let mut problems = Vec::new();
    let mut worst = (0i64, String::new());
    let mut traced = 0;
    for (i, c) in cases.iter().enumerate() {
        let dir = world.root.join(format!("c{i:03}"));
        std::fs::create_dir_all(&dir).unwrap();
        let spec = dir.join(c.spec_name);
        std::fs::write(&spec, &c.spec).unwrap();
        (c.setup)(&dir, &world);
        let case_dir = dir.display().to_string();
        let mut args: Vec<String> = vec!["validate".into(), "--format".into(), "json".into(), c.spec_name.into()];
        args.extend(c.args.iter().map(|a| a.replace("{case}", &case_dir)));
        let trace_log = dir.join("strace.log");
        let wrap: Option<Vec<String>> = match (&tracer, c.outside) {
            (Some(s), true) => {
                traced += 1;
                Some(vec![
                    s.display().to_string(),
                    "-f".into(),
                    "-qq".into(),
                    "-e".into(),
                    "trace=open,openat,openat2,creat,truncate".into(),
                    "-o".into(),
                    trace_log.display().to_string(),
                ])
            }
            _ => None,
        };
        let r = run_aibc(&dir, &args, wrap.as_deref());
        if r.max_rss_kib > worst.0 {
            worst = (r.max_rss_kib, c.name.clone());
        }
        if r.timed_out {
            problems.push(format!("{}: timed out (a FIFO was opened?)", c.name));
            continue;
        }
        if r.code != Some(c.exit) {
            problems.push(format!("{}: exit {:?}, want {}\n{}{}", c.name, r.code, c.exit, r.stdout, r.stderr));
            continue;
        }
        if c.exit == 2 || (c.exit == 0 && !r.stdout.is_empty()) {
            let json: serde_json::Value = match serde_json::from_str(&r.stdout) {
                Ok(j) => j,
                Err(e) => {
                    problems.push(format!("{}: no JSON ({e}): {}", c.name, r.stdout));
                    continue;
                }
            };
            let diags = json["diagnostics"].as_array().cloned().unwrap_or_default();
            let mut got: Vec<String> = diags
                .iter()
                .map(|d| format!("{} {}:{}", d["code"].as_str().unwrap(), d["line"], d["column"]))
                .collect();
            got.sort();
            let mut want: Vec<String> = c.expect.iter().map(|(code, l, col)| format!("{code} {l}:{col}")).collect();
            want.sort();
            if got != want {
                problems.push(format!(
                    "{}: got {got:?}, want {want:?}\n{}",
                    c.name,
                    r.stdout.chars().take(2000).collect::<String>()
                ));
            }
            for d in &diags {
                if d["hint"].as_str().is_none_or(str::is_empty) {
                    problems.push(format!("{}: {} has no hint", c.name, d["code"]));
                }
            }
        }
        if c.exit == 1 && !r.stderr.contains("cannot read") {
            problems.push(format!("{}: no `cannot read` message: {}", c.name, r.stderr));
        }
        if wrap.is_some() {
            let log = std::fs::read_to_string(&trace_log).unwrap_or_default();
            // The trace saw the spec being opened, so an open outside would have shown too.
            if !log.lines().any(|l| l.contains("open") && l.contains(c.spec_name)) {
                problems.push(format!("{}: the trace does not show the spec being opened:\n{log}", c.name));
            }
            let outside = world.outside.display().to_string();
            for line in
                log.lines().filter(|l| l.contains(&outside) || l.contains("/etc/") || l.contains("/proc/self/environ"))
            {
                // The dynamic loader opens /etc/ld.so.cache; nothing else under /etc is ours to open.
                if line.contains("ld.so") || line.contains("/etc/localtime") {
                    continue;
                }
                problems.push(format!("{}: opened outside the root: {line}", c.name));
            }
        }
    }
    eprintln!("{} hostile cases, {traced} traced with strace; peak memory {} KiB ({})", cases.len(), worst.0, worst.1);
    let _ = std::fs::remove_dir_all(&world.root);
    assert!(problems.is_empty(), "{} problem(s):\n{}", problems.len(), problems.join("\n"));
    // The worst case (a 7 MB spec line) stays well inside what a CI agent has.
    assert!(worst.0 < 512 * 1024, "peak memory {} KiB in {}", worst.0, worst.1);
}
