//! `aibc import`: Packer templates (JSON and HCL2) and existing AIB ARM templates into
//! specs.
//!
//! The way through, one module per step:
//! - a front end reads the input into symbolic values (`value`), keeping every deploy-time
//!   reference: `arm` (ARM expressions) or `packer` (Packer variables and templates; it
//!   describes its template as the AIB image template it amounts to);
//! - `map` turns that image template into a spec, `resolve` deciding field by field what
//!   a reference becomes (`params`: a spec parameter, a default, a stand-in);
//! - `yaml` writes the spec; the spec is then checked like any other;
//! - `roundtrip` compiles it and compares the generated image template with the original.
//!
//! Findings (`diag`) are located in the imported files and print like aibc's diagnostics.
//! Values from outside the template (`--parameters`, `-var`, `-var-file`: `values`) are
//! read like the tools the templates were written for read them. A part that cannot be
//! imported is a gap: the spec is still written, with a `# TODO(aibc import)` comment in
//! the part's place, and the command exits with 8 (ADR 20).

pub mod arm;
pub mod diag;
mod map;
pub mod packer;
mod params;
mod resolve;
pub mod roundtrip;
pub mod value;
pub mod values;
pub mod yaml;

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

pub use diag::{Finding, ImportCode};
pub use resolve::{Sub, Subs, ZERO_SUBSCRIPTION};

use crate::compiler::{self, Target};
use crate::document::{self, Document};
use crate::exit;
use crate::loader::Format;
use crate::source::Sources;
use crate::spec::ImageSpec;
use value::Val;

/// What to import from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// A Packer template: a `.json` file, a `.pkr.hcl` file, or a folder of them.
    Packer,
    /// An ARM template, a bare imageTemplates resource object, or an API request body.
    Arm,
}

#[derive(Debug, Clone)]
pub struct Args {
    pub kind: Kind,
    pub path: PathBuf,
    /// Where to write the spec; standard output when absent.
    pub out: Option<PathBuf>,
    /// Compile the imported spec and compare its image template with the original.
    pub check: bool,
    pub options: Options,
}

/// The image's OS, when the template does not say it (`--os`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OsArg {
    Linux,
    Windows,
}

/// Values from outside the template, as a deployment or `packer build` gets them.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// ARM: a parameters file (JSON, or `.bicepparam` of plain values).
    pub parameters: Option<PathBuf>,
    /// Packer: `-var-file` files (HCL2 `.pkrvars.hcl` or JSON), in order.
    pub var_files: Vec<PathBuf>,
    /// Packer: `-var NAME=VALUE`, in order; they override the files.
    pub vars: Vec<String>,
    /// The image's OS, whatever the template suggests.
    pub os: Option<OsArg>,
}

/// Why an import produced no spec.
#[derive(Debug)]
pub enum Failure {
    /// A file could not be read.
    Io(String),
    /// The input is malformed or not importable; the findings say where.
    Invalid { sources: Sources, findings: Vec<Finding> },
}

/// A successful import.
#[derive(Debug)]
pub struct Imported {
    pub spec: ImageSpec,
    /// The spec as written (header comments included).
    pub yaml: String,
    /// Warnings, located in `sources`.
    pub findings: Vec<Finding>,
    pub sources: Sources,
    /// The original image template's `properties`, evaluated.
    pub original: Val,
    /// The original template's location.
    pub location: Option<Val>,
    /// Values the import changed, by path in `original`.
    pub subs: Subs,
}

/// Imports `path`. `spec_path` is where the spec will be written: local files the
/// template uses are referred to relative to it.
pub fn import(kind: Kind, path: &Path, spec_path: &Path) -> Result<Imported, Failure> {
    import_with(kind, path, spec_path, &Options::default())
}

/// Imports `path` with values from outside the template.
pub fn import_with(kind: Kind, path: &Path, spec_path: &Path, options: &Options) -> Result<Imported, Failure> {
    // A values file that cannot be read is a failure to read, like the template's own.
    for p in options.parameters.iter().chain(&options.var_files) {
        read(p)?;
    }
    match kind {
        Kind::Arm => finish(kind, path, Front::Arm(read(path)?), spec_path, options),
        Kind::Packer => {
            let files = packer::read(path).map_err(Failure::Io)?;
            finish(kind, path, Front::Packer(files), spec_path, options)
        }
    }
}

/// Imports one file's text as if read from `path`: an ARM template or API body, a Packer
/// JSON template, or one Packer HCL2 file.
pub fn import_text(kind: Kind, path: &Path, text: String, spec_path: &Path) -> Result<Imported, Failure> {
    let options = Options::default();
    match kind {
        Kind::Arm => finish(kind, path, Front::Arm(text), spec_path, &options),
        Kind::Packer => finish(kind, path, Front::Packer(packer::from_text(path, text)), spec_path, &options),
    }
}

enum Front {
    Arm(String),
    Packer(packer::Files),
}

fn finish(kind: Kind, path: &Path, front: Front, spec_path: &Path, options: &Options) -> Result<Imported, Failure> {
    let mut sources = Sources::default();
    let found = match front {
        Front::Arm(text) => {
            let given = match &options.parameters {
                Some(p) => values::arm_parameters(p, &mut sources),
                None => Ok(Vec::new()),
            };
            given.and_then(|given| arm::load(path, text, &given, &mut sources)).map(|f| (f.input, f.params, f.findings))
        }
        Front::Packer(files) => packer::given(options, &files, &mut sources)
            .and_then(|given| packer::load(path, files, given, spec_path, &mut sources))
            .map(|f| (f.input, f.params, f.findings)),
    };
    let (mut input, params, mut findings) = match found {
        Ok(f) => f,
        Err(mut findings) => {
            diag::normalize(&mut findings);
            return Err(Failure::Invalid { sources, findings });
        }
    };
    // An error of the front end (a VHD source) leaves nothing to map: mapping would only
    // add consequences of it (no source).
    if findings.iter().any(Finding::is_error) {
        diag::normalize(&mut findings);
        return Err(Failure::Invalid { sources, findings });
    }
    if let Some(os) = options.os {
        let os = match os {
            OsArg::Linux => crate::spec::Os::Linux,
            OsArg::Windows => crate::spec::Os::Windows,
        };
        input.os = Some((os, input.whole));
    }
    let mut r = resolve::Resolver::new(params);
    let spec = map::map(&input, &mut r);
    findings.append(&mut r.findings);
    diag::normalize(&mut findings);
    let spec = match spec {
        Some(s) if !findings.iter().any(Finding::is_error) => s,
        _ => return Err(Failure::Invalid { sources, findings }),
    };
    // Every gap is marked in the spec; one with no place of its own, at the end.
    for f in findings.iter_mut().filter(|f| f.code == ImportCode::Gap && f.todo.is_none()) {
        f.todo = Some(String::new());
    }
    let yaml = write_spec(&spec, kind, path, &findings, &sources);
    Ok(Imported { spec, yaml, findings, sources, original: input.properties, location: input.location, subs: r.subs })
}

fn read(path: &Path) -> Result<String, Failure> {
    let bytes = std::fs::read(path).map_err(|e| Failure::Io(format!("cannot read {}: {e}", path.display())))?;
    String::from_utf8(bytes).map_err(|_| Failure::Io(format!("{} is not UTF-8 text", path.display())))
}

/// The spec's YAML, with a header that names the source and lists every warning, so
/// that none is lost once the terminal is closed.
fn write_spec(spec: &ImageSpec, kind: Kind, path: &Path, findings: &[Finding], sources: &Sources) -> String {
    let what = match kind {
        Kind::Packer => "packer",
        Kind::Arm => "arm",
    };
    let mut header = vec![format!("Imported from {} by `aibc import {what}`.", compiler::display_path(path))];
    if !findings.is_empty() {
        header.push("What the import could not carry over as it was (review these):".into());
        for f in findings {
            header.push(format!("  {} {}: {}", f.code.id(), f.location(sources), f.message.replace('\n', " ")));
        }
    }
    let value = serde_json::to_value(spec).expect("a spec serializes");
    // Each gap is also a comment where the part belongs, for whoever finishes the spec.
    let notes: Vec<(String, String)> = findings
        .iter()
        .filter_map(|f| {
            let at = f.todo.clone()?;
            let mut line = format!("{} ({})", f.message.replace('\n', " "), f.location(sources));
            if let Some(h) = &f.hint {
                line.push_str(&format!("; {h}"));
            }
            Some((at, line))
        })
        .collect();
    yaml::to_string_with_notes(&value, &header, &notes)
}

impl Imported {
    /// Whether some parts could not be imported (each is a `# TODO(aibc import)`).
    pub fn has_gaps(&self) -> bool {
        self.findings.iter().any(|f| f.code == ImportCode::Gap)
    }
}

/// Loads and checks the imported spec as if read from `spec_path`.
pub fn check_spec(imported: &Imported, spec_path: &Path) -> Document {
    check_spec_in(imported, spec_path, None)
}

/// As `check_spec`, with `root` as a folder its local files may also come from (`--root`).
pub fn check_spec_in(imported: &Imported, spec_path: &Path, root: Option<&Path>) -> Document {
    let mut doc = document::load_str(spec_path, imported.yaml.clone(), Format::Yaml);
    compiler::check_with(&mut doc, &compiler::Options { library: None, root: root.map(Path::to_path_buf) });
    doc
}

/// The folder the template's own local files are in: the user named it on the command line,
/// so a spec written elsewhere may read from it, given as `--root` (ADR 16).
fn template_folder(path: &Path) -> PathBuf {
    if path.is_dir() { path.to_path_buf() } else { path.parent().map(Path::to_path_buf).unwrap_or_default() }
}

/// Compiles the checked spec to ARM and compares its image template with the original.
pub fn round_trip(imported: &Imported, doc: &Document) -> Result<roundtrip::Report, String> {
    let compiled = compiler::compile(doc, "image.yaml", Target::Arm)?;
    let first = compiled.first().ok_or("the spec compiled to nothing")?;
    let file = first.files.iter().find(|f| f.path == "azuredeploy.json").ok_or("no azuredeploy.json was generated")?;
    let params: Vec<String> = imported.spec.parameters.keys().cloned().collect();
    let props = roundtrip::compiled_properties(&file.text, &params)?;
    Ok(roundtrip::compare_with_tags(
        &imported.original,
        imported.location.as_ref(),
        &imported.subs,
        &props,
        &imported.spec.tags,
    ))
}

/// Runs `aibc import`; returns the process exit code.
pub fn run(args: &Args) -> i32 {
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let spec_path = args.out.clone().unwrap_or_else(|| PathBuf::from("image.yaml"));
    // Each tool's own way of giving values, and only that one.
    let misplaced = match args.kind {
        Kind::Packer if args.options.parameters.is_some() => {
            Some("`--parameters` gives an ARM template's parameters; a Packer template takes `-var` and `-var-file`")
        }
        Kind::Arm if !args.options.vars.is_empty() || !args.options.var_files.is_empty() => {
            Some("`-var` and `-var-file` give a Packer template's variables; an ARM template takes `--parameters FILE`")
        }
        _ => None,
    };
    if let Some(m) = misplaced {
        eprintln!("error: {m}");
        return exit::USAGE;
    }
    let imported = match import_with(args.kind, &args.path, &spec_path, &args.options) {
        Ok(i) => i,
        Err(Failure::Io(m)) => {
            eprintln!("error: {m}");
            return exit::FAILURE;
        }
        Err(Failure::Invalid { sources, findings }) => {
            for f in &findings {
                eprintln!("{}", f.render(&sources, color));
            }
            let errors = findings.iter().filter(|f| f.is_error()).count();
            eprintln!("{}: not imported ({errors} error{})", args.path.display(), if errors == 1 { "" } else { "s" });
            return exit::INVALID_SPEC;
        }
    };
    for f in &imported.findings {
        eprintln!("{}", f.render(&imported.sources, color));
    }
    match &args.out {
        Some(out) => {
            if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty())
                && let Err(e) = std::fs::create_dir_all(dir)
            {
                eprintln!("error: cannot create {}: {e}", dir.display());
                return exit::FAILURE;
            }
            if let Err(e) = std::fs::write(out, &imported.yaml) {
                eprintln!("error: cannot write {}: {e}", out.display());
                return exit::FAILURE;
            }
        }
        None => {
            let mut stdout = std::io::stdout().lock();
            let _ = stdout.write_all(imported.yaml.as_bytes());
        }
    }
    let n = imported.findings.len();
    let root = template_folder(&args.path);
    let doc = check_spec_in(&imported, &spec_path, Some(&root));
    if check_spec(&imported, &spec_path).diags.iter().any(|d| d.code == crate::diagnostic::Code::OutsideRoot) {
        let shown = if root.as_os_str().is_empty() { Path::new(".") } else { root.as_path() };
        eprintln!(
            "note: the spec names files beside the template, outside its own folder: validate, compile and \
             deploy it with `--root {}`",
            shown.display()
        );
    }
    for d in &doc.diags {
        eprintln!("{}", crate::diagnostic::render(d, &doc.sources, color));
    }
    eprintln!(
        "{}: imported{}{}",
        args.path.display(),
        args.out.as_ref().map(|o| format!(" to {}", o.display())).unwrap_or_default(),
        if n == 0 { String::new() } else { format!(" with {n} warning{}", if n == 1 { "" } else { "s" }) }
    );
    if doc.has_errors() {
        let shown = if args.out.is_some() { "" } else { " (shown as image.yaml; write it with --out to fix it)" };
        eprintln!("error: the imported spec does not validate{shown}; fix the errors above");
        return exit::INVALID_SPEC;
    }
    let done = if imported.has_gaps() {
        let gaps = imported.findings.iter().filter(|f| f.code == ImportCode::Gap).count();
        eprintln!(
            "{}: {gaps} part{} could not be imported; finish the `# TODO(aibc import)` comments in the spec by hand",
            args.path.display(),
            if gaps == 1 { "" } else { "s" }
        );
        exit::IMPORTED_WITH_GAPS
    } else {
        exit::SUCCESS
    };
    if !args.check {
        return done;
    }
    match round_trip(&imported, &doc) {
        Ok(report) => {
            // The report goes where the spec does not.
            let text = report.render();
            if args.out.is_some() {
                print!("{text}");
            } else {
                eprint!("{text}");
            }
            if report.is_same() { done } else { exit::FAILURE }
        }
        Err(e) => {
            eprintln!("error: the round trip failed: {e}");
            exit::FAILURE
        }
    }
}
