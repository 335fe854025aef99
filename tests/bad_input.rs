//! Malformed specs: every file in `tests/bad/` must produce exactly the diagnostics it
//! declares, in one pass.
//!
//! A YAML case declares them in its first lines, one per line:
//!
//! ```yaml
//! # expect: AIB003 12:5
//! # expect: AIB202 20:11
//! # note: free text (ignored)
//! name: …
//! ```
//!
//! `code line:col` is the start of the primary span (1-based, columns in characters).
//! JSON has no comments, so a `.json` case keeps the same lines in `<case>.json.expect`
//! beside it. Helper files the cases refer to live in `tests/bad/files/`.
//!
//! The comparison is of one table (case → sorted diagnostics) holding every case that
//! differs, so one run shows them all, with each one's rendered diagnostics printed
//! above the diff.

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::process::Command;

use aibc::compiler::check_file;
use aibc::diagnostic::{Code, Severity, render};
use aibc::document::Document;
use pretty_assertions::assert_eq;

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn bad_dir() -> PathBuf {
    manifest_dir().join("tests").join("bad")
}

/// The spec files of `tests/bad/` (not its `files/` helpers, not `.expect` sidecars).
fn cases() -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(bad_dir())
        .expect("tests/bad exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.is_file())
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml" | "json")))
        .collect();
    out.sort();
    out
}

fn case_name(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}

/// One expected or reported diagnostic, written as in the case headers: `AIB003 12:5`.
fn entry(code: &str, line: u32, col: u32) -> String {
    format!("{code} {line}:{col}")
}

/// The `# expect:` lines of a case (from the sidecar for JSON), sorted.
fn expectations(path: &Path) -> Vec<String> {
    let header_source = if path.extension().is_some_and(|e| e == "json") {
        let mut sidecar = path.as_os_str().to_owned();
        sidecar.push(".expect");
        PathBuf::from(sidecar)
    } else {
        path.to_path_buf()
    };
    let bytes =
        std::fs::read(&header_source).unwrap_or_else(|e| panic!("cannot read {}: {e}", header_source.display()));
    // Cases may be deliberately invalid UTF-8 after the header; the header is ASCII.
    let text = String::from_utf8_lossy(&bytes);
    let mut out = Vec::new();
    for line in text.lines() {
        let Some(comment) = line.strip_prefix('#') else {
            break;
        };
        let Some(spec) = comment.trim().strip_prefix("expect:") else {
            continue;
        };
        let mut words = spec.split_whitespace();
        let (Some(code), Some(pos), None) = (words.next(), words.next(), words.next()) else {
            panic!("{}: malformed expectation `{line}`", header_source.display());
        };
        let (l, c) = pos
            .split_once(':')
            .and_then(|(l, c)| Some((l.parse::<u32>().ok()?, c.parse::<u32>().ok()?)))
            .unwrap_or_else(|| panic!("{}: malformed position in `{line}`", header_source.display()));
        assert!(
            Code::ALL.iter().any(|k| k.id() == code),
            "{}: `{code}` is not a diagnostic code",
            header_source.display()
        );
        out.push(entry(code, l, c));
    }
    assert!(!out.is_empty(), "{}: a bad case must declare at least one `# expect:` line", header_source.display());
    out.sort();
    out
}

fn severity_of(code: &str) -> Severity {
    Code::ALL.iter().find(|k| k.id() == code).map(|k| k.default_severity()).expect("checked when the header was read")
}

fn reported(doc: &Document) -> Vec<String> {
    let mut out: Vec<String> =
        doc.diags.iter().map(|d| entry(d.code.id(), d.span.start.line, d.span.start.col)).collect();
    out.sort();
    out
}

/// Renders every diagnostic (plain and coloured); a panic is reported, not propagated.
fn rendered(doc: &Document) -> Result<String, String> {
    let mut text = String::new();
    for d in &doc.diags {
        for color in [false, true] {
            match catch_unwind(AssertUnwindSafe(|| render(d, &doc.sources, color))) {
                Ok(r) if !color => text.push_str(&r),
                Ok(_) => {}
                Err(p) => {
                    let msg = p
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_default();
                    return Err(format!(
                        "render panicked on {} (color {color}): {msg}",
                        entry(d.code.id(), d.span.start.line, d.span.start.col)
                    ));
                }
            }
        }
    }
    Ok(text)
}

#[test]
fn there_are_enough_cases() {
    let cases = cases();
    assert!(cases.len() >= 45, "tests/bad/ should hold at least 45 cases, found {}", cases.len());
    let json = cases.iter().filter(|p| p.extension().is_some_and(|e| e == "json")).count();
    assert!(json >= 3, "a few cases should be JSON, found {json}");
}

#[test]
fn every_bad_spec_reports_exactly_its_expected_diagnostics() {
    let mut expected: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut actual: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut problems: Vec<String> = Vec::new();

    for path in cases() {
        let name = case_name(&path);
        let want = expectations(&path);
        let doc = match catch_unwind(AssertUnwindSafe(|| check_file(&path))) {
            Ok(Ok(doc)) => doc,
            Ok(Err(e)) => {
                problems.push(format!("{name}: cannot read: {e}"));
                continue;
            }
            Err(_) => {
                problems.push(format!("{name}: check_file panicked"));
                continue;
            }
        };
        let got = reported(&doc);
        let text = match rendered(&doc) {
            Ok(t) => t,
            Err(e) => {
                problems.push(format!("{name}: {e}"));
                String::new()
            }
        };

        // Every diagnostic points at a line that exists in its file.
        for d in &doc.diags {
            let ok = d.span.start.line >= 1
                && d.span.start.col >= 1
                && doc.sources.get(d.span.file).and_then(|f| f.line(d.span.start.line)).is_some();
            if !ok {
                problems.push(format!(
                    "{name}: {} points outside its file",
                    entry(d.code.id(), d.span.start.line, d.span.start.col)
                ));
            }
        }

        // Every diagnostic says how to fix it.
        for d in doc.diags.iter().filter(|d| d.hint.as_deref().is_none_or(str::is_empty)) {
            problems.push(format!("{name}: {} has no hint", entry(d.code.id(), d.span.start.line, d.span.start.col)));
        }

        // A case that expects an error must fail validation.
        if want.iter().any(|w| severity_of(w.split(' ').next().unwrap()) == Severity::Error) && !doc.has_errors() {
            problems.push(format!("{name}: expected at least one error, aibc reported none"));
        }

        // Only differing cases go into the tables, so the diff stays short.
        if got != want {
            eprintln!("──── {name}: aibc reported\n{text}");
            expected.insert(name.clone(), want);
            actual.insert(name, got);
        }
    }

    if !problems.is_empty() {
        eprintln!("──── other problems\n{}", problems.join("\n"));
    }
    assert_eq!(expected, actual, "left: the cases' `# expect:` lines; right: what aibc reported");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Runs `aibc validate` with the repository root as working directory.
fn aibc(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_aibc"))
        .args(args)
        .current_dir(manifest_dir())
        .env("NO_COLOR", "1")
        .output()
        .expect("aibc runs")
}

#[test]
fn the_binary_reports_bad_specs_rustc_style_and_as_json() {
    for case in ["unknown-key-build.yaml", "range-timeout.yaml", "multi-windows-steps.yaml"] {
        let rel = format!("tests/bad/{case}");
        let want = expectations(&bad_dir().join(case));

        let out = aibc(&["validate", &rel]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{case}: exit code\n{stderr}");
        for w in &want {
            let (_, pos) = w.split_once(' ').unwrap();
            assert!(stderr.contains(&format!("{rel}:{pos}")), "{case}: stderr lacks `{rel}:{pos}`\n{stderr}");
            let (code, _) = w.split_once(' ').unwrap();
            assert!(stderr.contains(&format!("[{code}]")), "{case}: stderr lacks `[{code}]`\n{stderr}");
        }
        let caret = stderr
            .lines()
            .any(|l| l.trim_start().strip_prefix('|').is_some_and(|rest| rest.trim_start().starts_with('^')));
        assert!(caret, "{case}: no caret line\n{stderr}");
        assert!(stderr.lines().any(|l| l.trim_start().starts_with("= help: ")), "{case}: no `help:` line\n{stderr}");

        let out = aibc(&["validate", "--format", "json", &rel]);
        assert_eq!(out.status.code(), Some(2), "{case}: exit code (json)");
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!("{case}: --format json printed no JSON ({e}):\n{}", String::from_utf8_lossy(&out.stdout))
        });
        let diags = json["diagnostics"].as_array().expect("a diagnostics list");
        let mut got: Vec<String> = diags
            .iter()
            .map(|d| {
                entry(
                    d["code"].as_str().expect("code"),
                    d["line"].as_u64().expect("line") as u32,
                    d["column"].as_u64().expect("column") as u32,
                )
            })
            .collect();
        got.sort();
        assert_eq!(want, got, "{case}: JSON diagnostics");
        assert!(json["errors"].as_u64().unwrap_or(0) >= 1, "{case}: errors count");
        for d in diags {
            assert_eq!(d["file"].as_str(), Some(rel.as_str()), "{case}: file");
        }
    }

    let out = aibc(&["validate", "examples/ubuntu-2404-apt/image.yaml"]);
    assert_eq!(out.status.code(), Some(0), "the example is valid:\n{}", String::from_utf8_lossy(&out.stderr));
    let out = aibc(&["validate", "--format", "json", "examples/ubuntu-2404-apt/image.yaml"]);
    assert_eq!(out.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(json["errors"], 0);
}
