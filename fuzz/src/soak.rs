//! In-process fuzzing on stable Rust: a fast mutating generator feeds `exercise` (load,
//! check with the file-system readers, render, compile) until an input count or a time
//! bound, then prints inputs, panics, hangs and time.
//!
//!   cargo run --release --manifest-path fuzz/Cargo.toml --bin soak -- \
//!       --inputs 1000000 --seconds 900 [--seed N]
//!
//! Panics are caught and counted; the first few panicking inputs are saved under
//! `fuzz/findings/`. A watchdog thread treats an input running past 10 s as a hang: it
//! saves the input and aborts the run (exit 3), since a stuck reader cannot be unwound.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aibc_fuzz::{PATHS, Scene, exercise};

/// xorshift64*: fast, and reproducible from `--seed`.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { (self.next() % n as u64) as usize }
    }
}

/// Pieces of spec syntax and hostile values the mutator splices in.
const TOKENS: &[&str] = &[
    "\n",
    "\r",
    "\r\n",
    "\t",
    " ",
    ": ",
    "- ",
    "-",
    ":",
    "{",
    "}",
    "[",
    "]",
    ",",
    "\"",
    "'",
    "#",
    "&a ",
    "*a",
    "<<: ",
    "!!str ",
    "!tag ",
    "---\n",
    "...\n",
    "|\n  ",
    ">-\n  ",
    "? ",
    "%YAML 1.2\n",
    "\u{feff}",
    "\u{2028}",
    "\u{85}",
    "\0",
    "\\u0000",
    "\\ud800",
    "${params.x}",
    "$${",
    "${params.",
    "}",
    "null",
    "~",
    "true",
    "false",
    "yes",
    "0x1F",
    "1e309",
    "-0",
    "99999999999999999999",
    "0.1.2",
    "latest",
    "windows",
    "linux",
    "https://x.example/a.sh",
    "http://",
    "name: ",
    "os: ",
    "source:\n  platform: ",
    "customize:\n  - type: Shell\n    script: ",
    "customize:\n  - type: File\n    source: ",
    "    destination: /tmp/a.zip\n",
    "library: ",
    "images:\n  - name: ",
    "defaults:\n  ",
    "distribute:\n  - vhd: {}\n",
    "  - use: hello\n",
    "parameters:\n  x:\n    type: string\n",
    "validate:\n  steps:\n    - type: Shell\n      script: ",
    "tags:\n  t: ",
    "description: ",
    "sha256: ",
];

/// Seeds: every example and bad case of the repository, and specs naming the scene's paths.
fn seeds(repo: &Path) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for dir in ["examples", "tests/bad", "tests/golden"] {
        let mut stack = vec![repo.join(dir)];
        while let Some(d) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&d) else { continue };
            for e in entries.flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else if matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml" | "json"))
                    && let Ok(b) = std::fs::read(&p)
                    && b.len() < 64 * 1024
                {
                    out.push(b);
                }
            }
        }
    }
    let head = "name: web\nos: linux\nsource:\n  platform: Canonical:ubuntu-24_04-lts:server:latest\ndistribute:\n  - vhd: {}\n";
    for p in PATHS {
        out.push(format!("{head}customize:\n  - type: Shell\n    script: {p}\n").into_bytes());
        out.push(
            format!("{head}customize:\n  - type: File\n    source: {p}\n    destination: /tmp/a.zip\n").into_bytes(),
        );
        out.push(format!("{head}library: {p}\ncustomize:\n  - use: hello\n").into_bytes());
    }
    out.push(
        b"defaults:\n  os: linux\n  source:\n    platform: Canonical:ubuntu-24_04-lts:server:latest\n  distribute:\n    - vhd: {}\nimages:\n  - name: a\n  - name: b\n  - name: a\n"
            .to_vec(),
    );
    out
}

fn mutate(rng: &mut Rng, corpus: &[Vec<u8>]) -> Vec<u8> {
    let mut v = corpus[rng.below(corpus.len())].clone();
    // Mostly one change: inputs stay near valid specs, so the checker and compiler get deep
    // inputs too, not only the parser's error paths.
    let changes = if rng.below(4) == 0 { 1 + rng.below(4) } else { 1 };
    for _ in 0..changes {
        let at = rng.below(v.len() + 1);
        match rng.below(9) {
            0 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] ^= 1 << rng.below(8);
            }
            1 | 2 => {
                let t = TOKENS[rng.below(TOKENS.len())].as_bytes();
                v.splice(at..at, t.iter().copied());
            }
            3 => {
                let t = PATHS[rng.below(PATHS.len())].as_bytes();
                v.splice(at..at, t.iter().copied());
            }
            4 => {
                let end = (at + 1 + rng.below(16)).min(v.len());
                v.drain(at.min(end)..end);
            }
            5 => {
                let end = (at + 1 + rng.below(64)).min(v.len());
                let piece = v[at.min(end)..end].to_vec();
                v.splice(at..at, piece);
            }
            6 => {
                // Splice: the head of this input, the tail of another.
                let other = &corpus[rng.below(corpus.len())];
                let from = rng.below(other.len() + 1);
                v.truncate(at);
                v.extend_from_slice(&other[from..]);
            }
            7 => {
                // Swap a line for a line of another input (keeps most structure valid).
                let other = &corpus[rng.below(corpus.len())];
                let lines: Vec<&[u8]> = other.split(|b| *b == b'\n').collect();
                let line = lines[rng.below(lines.len())];
                let start = v[..at].iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
                let end = v[at..].iter().position(|b| *b == b'\n').map_or(v.len(), |i| at + i);
                v.splice(start..end, line.iter().copied());
            }
            _ => {
                // A run of one byte: long lines, deep nesting, big numbers.
                let b = [b'[', b'{', b'-', b' ', b'9', b'a', b'\n'][rng.below(7)];
                let long = rng.below(64) == 0;
                let n = 1 + rng.below(if long { 100_000 } else { 200 });
                v.splice(at..at, std::iter::repeat_n(b, n));
            }
        }
    }
    v
}

fn arg(args: &[String], name: &str) -> Option<u64> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok())
}

fn save(dir: &Path, kind: &str, n: u64, input: &[u8]) -> PathBuf {
    let _ = std::fs::create_dir_all(dir);
    let p = dir.join(format!("{kind}-{n}.bin"));
    let _ = std::fs::write(&p, input);
    p
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let max_inputs = arg(&args, "--inputs").unwrap_or(1_000_000);
    let max_time = Duration::from_secs(arg(&args, "--seconds").unwrap_or(900));
    let seed = arg(&args, "--seed").unwrap_or(0x5EED_A1BC);
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let findings = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("findings");
    let scene = Scene::shared();
    let mut corpus = seeds(&repo);
    let base = corpus.len();
    let mut rng = Rng(seed | 1);

    // The watchdog: the start of the running input (ms since `t0`, 0 when idle).
    let t0 = Instant::now();
    let running = Arc::new(AtomicU64::new(0));
    let current: Arc<Mutex<Vec<u8>>> = Arc::new(Mutex::new(Vec::new()));
    {
        let (running, current, findings) = (running.clone(), current.clone(), findings.clone());
        std::thread::spawn(move || {
            loop {
                std::thread::sleep(Duration::from_millis(200));
                let started = running.load(Ordering::Relaxed);
                if started != 0 && t0.elapsed().as_millis() as u64 - started > 10_000 {
                    let input = current.lock().map(|c| c.clone()).unwrap_or_default();
                    let p = save(&findings, "hang", started, &input);
                    eprintln!("HANG: an input ran past 10 s; saved to {}", p.display());
                    std::process::exit(3);
                }
            }
        });
    }
    std::panic::set_hook(Box::new(|_| {}));

    let (mut inputs, mut panics, mut valid, mut compiled) = (0u64, 0u64, 0u64, 0u64);
    let mut slowest = (Duration::ZERO, 0usize);
    let mut first_panic: Option<String> = None;
    while inputs < max_inputs && t0.elapsed() < max_time {
        let input = mutate(&mut rng, &corpus);
        if let Ok(mut c) = current.lock() {
            c.clone_from(&input);
        }
        let start = Instant::now();
        running.store((t0.elapsed().as_millis() as u64).max(1), Ordering::Relaxed);
        let result = catch_unwind(AssertUnwindSafe(|| exercise(scene, &input)));
        running.store(0, Ordering::Relaxed);
        let took = start.elapsed();
        if took > slowest.0 {
            slowest = (took, input.len());
        }
        inputs += 1;
        match result {
            Ok(o) => {
                valid += u64::from(o.valid);
                compiled += u64::from(o.compiled);
                // Valid inputs are good parents: they reach the checker's and compiler's depths.
                if o.valid && input.len() < 16 * 1024 {
                    if corpus.len() < base + 2_000 {
                        corpus.push(input);
                    } else {
                        let i = base + rng.below(2_000);
                        corpus[i] = input;
                    }
                }
            }
            Err(p) => {
                panics += 1;
                let msg = p
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                if panics <= 20 {
                    let path = save(&findings, "panic", inputs, &input);
                    eprintln!("PANIC #{panics}: {msg} (input saved to {})", path.display());
                }
                first_panic.get_or_insert(msg);
            }
        }
        if inputs % 100_000 == 0 {
            eprintln!("{inputs} inputs, {panics} panics, {:.0?}", t0.elapsed());
        }
    }
    let elapsed = t0.elapsed();
    println!(
        "inputs {inputs}, valid {valid}, compiled {compiled}, panics {panics}, hangs 0, time {:.1} s ({:.0} inputs/s), slowest input {:.1?} ({} bytes), seed {seed:#x}",
        elapsed.as_secs_f64(),
        inputs as f64 / elapsed.as_secs_f64(),
        slowest.0,
        slowest.1
    );
    let _ = std::fs::remove_dir_all(&scene.dir);
    if panics > 0 {
        std::process::exit(1);
    }
}
