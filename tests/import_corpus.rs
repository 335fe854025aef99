//! The import corpus: Packer templates (`tests/import/packer/`: JSON and HCL2 files, and
//! folders of HCL2 files) and AIB templates (`tests/import/arm/`: ARM templates, bare
//! resources, API bodies). Every case must
//!
//! - import, reporting exactly the findings its `.expect` sidecar lists
//!   (`<case>.expect`: one `CODE file:line:col` per line, `#` comments) — the unsupported
//!   parts of a template are asserted there, by place;
//! - give a spec that aibc's checker passes without errors (its warnings, if any, are
//!   listed in the sidecar as `spec CODE line:col`), and that reads back as the very spec
//!   the importer built (the YAML writer loses nothing);
//! - compile, and round-trip: the generated image template has the original's source,
//!   customizers, distributions and VM profile (`aibc import --check`);
//! - mark every part it could not import (AIB709) with a `# TODO(aibc import)` comment;
//! - be the spec committed in `tests/import/expected/` (`AIBC_BLESS=1 cargo test --test
//!   import_corpus` rewrites those and the sidecars).
//!
//! A case imported with values from outside the template has a `<case>.args` sidecar:
//! the options, as on the command line (`--parameters FILE`, `-var NAME=VALUE`,
//! `-var-file FILE`, `--os windows`), files relative to the case's folder. Values files
//! (`*.parameters.json`, `*.bicepparam`, `*.vars.json`, `*.pkrvars.hcl`) are no cases.
//!
//! One table of every case that differs is compared at the end, so a run shows them all.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use aibc::diagnostic::Severity;
use aibc::import::{self, Kind};
use pretty_assertions::assert_eq;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

struct Case {
    kind: Kind,
    /// Relative to the crate root (so that paths in findings and specs are stable).
    path: PathBuf,
    name: String,
}

fn cases() -> Vec<Case> {
    let mut out = Vec::new();
    for (kind, dir) in [(Kind::Arm, "arm"), (Kind::Packer, "packer")] {
        let rel = Path::new("tests/import").join(dir);
        let mut entries: Vec<PathBuf> = std::fs::read_dir(root().join(&rel))
            .expect("corpus folder exists")
            .map(|e| e.expect("readable entry").path())
            .collect();
        entries.sort();
        for p in entries {
            let file = p.file_name().unwrap().to_string_lossy().into_owned();
            let is_case = if p.is_dir() {
                // Helper files of the single-file cases.
                !matches!(file.as_str(), "scripts" | "files")
            } else {
                let values = [".parameters.json", ".vars.json"].iter().any(|v| file.ends_with(v));
                (file.ends_with(".json") && !values) || file.ends_with(".pkr.hcl")
            };
            if is_case {
                let name = file.trim_end_matches(".json").trim_end_matches(".pkr.hcl").to_string();
                out.push(Case { kind, path: rel.join(&file), name });
            }
        }
    }
    out
}

fn kind_dir(kind: Kind) -> &'static str {
    match kind {
        Kind::Arm => "arm",
        Kind::Packer => "packer",
    }
}

fn expect_path(case: &Case) -> PathBuf {
    root().join(format!("{}.expect", case.path.display()))
}

fn spec_path(case: &Case) -> PathBuf {
    Path::new("tests/import/expected").join(kind_dir(case.kind)).join(format!("{}.yaml", case.name))
}

/// The case's options, from its `.args` sidecar.
fn options(case: &Case) -> import::Options {
    let mut o = import::Options::default();
    let Ok(text) = std::fs::read_to_string(root().join(format!("{}.args", case.path.display()))) else { return o };
    let dir = case.path.parent().unwrap();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let (flag, value) = line.split_once(' ').unwrap_or_else(|| panic!("`{line}`: an option and its value"));
        match flag {
            "--parameters" => o.parameters = Some(dir.join(value)),
            "-var-file" => o.var_files.push(dir.join(value)),
            "-var" => o.vars.push(value.to_string()),
            "--os" if value == "windows" => o.os = Some(import::OsArg::Windows),
            "--os" => o.os = Some(import::OsArg::Linux),
            other => panic!("{}: unknown option `{other}`", case.path.display()),
        }
    }
    o
}

/// What a case declares: its findings and spec warnings, sorted.
fn declared(case: &Case) -> Vec<String> {
    let text = std::fs::read_to_string(expect_path(case)).unwrap_or_default();
    let mut lines: Vec<String> =
        text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).map(str::to_string).collect();
    lines.sort();
    lines
}

/// What happened to a case, in the sidecar's terms, plus any failure of the other checks.
fn run(case: &Case, bless: bool) -> (Vec<String>, Vec<String>) {
    let spec_path = spec_path(case);
    let imported = match import::import_with(case.kind, &case.path, &spec_path, &options(case)) {
        Ok(i) => i,
        Err(import::Failure::Io(e)) => return (Vec::new(), vec![format!("not imported: {e}")]),
        Err(import::Failure::Invalid { sources, findings }) => {
            let rendered: Vec<String> = findings.iter().map(|f| f.render(&sources, false)).collect();
            return (Vec::new(), vec![format!("not imported:\n{}", rendered.join("\n"))]);
        }
    };
    let mut lines: Vec<String> = imported
        .findings
        .iter()
        .map(|f| {
            let loc = f.location(&imported.sources);
            let file = Path::new(loc.split(':').next().unwrap_or(""))
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default();
            let pos: Vec<&str> = loc.rsplitn(3, ':').collect();
            format!("{} {file}:{}:{}", f.code.id(), pos[1], pos[0])
        })
        .collect();

    let mut problems = Vec::new();
    // Every gap (AIB709, exit 8) is a TODO comment in the spec, at its place.
    let gaps = imported.findings.iter().filter(|f| f.code == import::ImportCode::Gap).count();
    let todos = imported.yaml.matches("# TODO(aibc import): ").count();
    if todos != gaps {
        problems.push(format!("{gaps} gaps but {todos} TODO comments"));
    }
    // The scripts stay beside the template, outside the expected spec's folder: the template's
    // folder is the `--root` the import names (ADR 16).
    let template_dir = if case.path.is_dir() { case.path.clone() } else { case.path.parent().unwrap().to_path_buf() };
    let doc = import::check_spec_in(&imported, &spec_path, Some(&template_dir));
    for d in &doc.diags {
        match d.severity {
            Severity::Warning => lines.push(format!("spec {} {}:{}", d.code.id(), d.span.start.line, d.span.start.col)),
            Severity::Error => problems
                .push(format!("the imported spec has an error:\n{}", aibc::diagnostic::render(d, &doc.sources, false))),
        }
    }
    lines.sort();
    if problems.is_empty() {
        // The YAML writer: the spec reads back as the spec that was written.
        let read_back = doc.images.first().and_then(|i| i.spec.clone());
        if read_back.as_ref() != Some(&imported.spec) {
            problems.push(format!(
                "the written spec reads back differently:\n{:#?}\nwas written as\n{:#?}",
                read_back, imported.spec
            ));
        }
        match import::round_trip(&imported, &doc) {
            Ok(report) if report.is_same() => {}
            Ok(report) => problems.push(report.render()),
            Err(e) => problems.push(format!("the round trip failed: {e}")),
        }
    }

    let golden = root().join(&spec_path);
    if bless {
        std::fs::create_dir_all(golden.parent().unwrap()).unwrap();
        std::fs::write(&golden, &imported.yaml).unwrap();
        let header = format!(
            "# What importing {} reports: `CODE file:line:col` (findings), `spec CODE line:col` (spec warnings).\n",
            case.path.display()
        );
        std::fs::write(expect_path(case), format!("{header}{}\n", lines.join("\n"))).unwrap();
    } else {
        match std::fs::read_to_string(&golden) {
            Ok(g) if g == imported.yaml => {}
            Ok(_) => problems.push(format!("the spec differs from {} (AIBC_BLESS=1 to update)", spec_path.display())),
            Err(_) => problems.push(format!("{} is missing (AIBC_BLESS=1 writes it)", spec_path.display())),
        }
    }
    (lines, problems)
}

#[test]
fn corpus_is_large_enough() {
    let cases = cases();
    let packer = cases.iter().filter(|c| c.kind == Kind::Packer).count();
    let arm = cases.iter().filter(|c| c.kind == Kind::Arm).count();
    assert!(packer >= 30 && arm >= 35, "{packer} Packer and {arm} AIB templates");
    // Cases imported with `--parameters`, `-var`, `-var-file` or `--os`.
    let with_args = cases.iter().filter(|c| root().join(format!("{}.args", c.path.display())).exists()).count();
    assert!(with_args >= 12, "{with_args} cases with options");
    let json = cases.iter().filter(|c| c.kind == Kind::Packer && c.path.extension().is_some_and(|e| e == "json"));
    let folders = cases.iter().filter(|c| root().join(&c.path).is_dir()).count();
    assert!(json.count() >= 4 && folders >= 3);
}

#[test]
fn every_template_imports_validates_and_round_trips() {
    let bless = std::env::var_os("AIBC_BLESS").is_some();
    let mut expected: BTreeMap<String, String> = BTreeMap::new();
    let mut actual: BTreeMap<String, String> = BTreeMap::new();
    for case in cases() {
        let key = case.path.display().to_string();
        let (lines, problems) = run(&case, bless);
        let want = declared(&case);
        if lines != want || !problems.is_empty() {
            for p in &problems {
                eprintln!("--- {key}\n{p}");
            }
            expected.insert(key.clone(), want.join("\n"));
            let mut got = lines.join("\n");
            if !problems.is_empty() {
                got.push_str(&format!("\n({} problem(s), printed above)", problems.len()));
            }
            actual.insert(key, got);
        }
    }
    assert_eq!(actual, expected);
}
