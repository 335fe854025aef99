//! The `aibc` command line.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use aibc::compiler::{self, Target};
use aibc::diagnostic::{self, Code, JsonDiagnostic, Severity};
use aibc::document::Document;
use aibc::exit;

/// Compile Azure Image Builder image specs to Bicep or ARM JSON.
///
/// aibc reads one short image spec (YAML or JSON), reports every problem in it at once,
/// and writes the infrastructure that builds the image: identity and least-privilege
/// roles, private artifact storage, Compute Gallery and image definition, and the image
/// template.
#[derive(Parser)]
#[command(name = "aibc", version, long_version = aibc::cli_extra::long_version(), about, long_about, max_term_width = 100)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    global: aibc::cli_extra::GlobalArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Check a spec and report every problem with its place and a fix.
    ///
    /// Exits 0 when the spec has no errors (warnings are allowed), 2 when it has.
    Validate {
        /// The spec file (`.yaml`, `.yml` or `.json`).
        spec: PathBuf,
        /// How to print diagnostics.
        #[arg(long, value_enum, default_value_t = Report::Human)]
        format: Report,
        /// Fail on warnings too (exit 2).
        #[arg(long)]
        strict: bool,
        /// A folder of customization library entries that add to or replace the built-in ones.
        #[arg(long, value_name = "DIR")]
        library: Option<PathBuf>,
        /// A folder the spec's local files may come from besides the spec's own folder.
        #[arg(long, value_name = "DIR")]
        root: Option<PathBuf>,
    },
    /// Compile a spec to Bicep (main.bicep, modules/, main.bicepparam) or ARM JSON.
    ///
    /// A family file (one with `images:`) writes one folder per image under --out.
    /// Output is byte-stable: the same spec gives the same files.
    Compile {
        /// The spec file (`.yaml`, `.yml` or `.json`).
        spec: PathBuf,
        /// What to write.
        #[arg(long, value_enum, default_value_t = Target::Bicep)]
        format: Target,
        /// Output folder (created if missing).
        #[arg(long, default_value = "out")]
        out: PathBuf,
        /// A folder of customization library entries that add to or replace the built-in ones.
        #[arg(long, value_name = "DIR")]
        library: Option<PathBuf>,
        /// A folder the spec's local files may come from besides the spec's own folder.
        #[arg(long, value_name = "DIR")]
        root: Option<PathBuf>,
    },
    /// Deploy a spec: resource group, identity and roles, artifact storage with the local
    /// files uploaded, gallery and image definition, then the image template.
    ///
    /// Deploying an unchanged spec again changes nothing and uploads nothing. A changed spec
    /// creates a new image template (templates are immutable); --replace deletes the old one.
    /// Exits 3 when Azure refuses a request, with the failing resource and its message.
    Deploy(aibc::commands::deploy::DeployArgs),
    /// Delete an image's superseded templates and the staging resource groups left for them.
    Clean(aibc::commands::deploy::CleanArgs),
    /// Start the image build and follow it to the last replica.
    ///
    /// A build already running on the template is attached to, not started again. Exits 0
    /// succeeded, 4 failed (with the failing step and its log), 5 partially succeeded,
    /// 6 timed out, 7 canceled; Ctrl-C stops following and leaves the build running.
    Run(aibc::commands::run::RunArgs),
    /// Print the state of the image's build once: phase, run outputs, replication.
    Status(aibc::commands::run::Which),
    /// Cancel the running build and wait until it has stopped.
    Cancel(aibc::commands::run::CancelArgs),
    /// Download customization.log of the latest build (with the caller's Entra token).
    Logs(aibc::commands::run::LogsArgs),
    /// Delete old gallery image versions (never `latest`, never one a template builds from).
    Prune(aibc::commands::prune::PruneArgs),
    /// Write a ready CI pipeline for your specs: Azure DevOps YAML, classic recipe, GitHub.
    Pipeline {
        #[command(subcommand)]
        command: PipelineCommand,
    },
    /// Boot a VM from the new gallery version in a throwaway resource group, run the spec's
    /// `test:` checks through Run Command, and delete the group whatever happens.
    ///
    /// Exits 0 when every check passed, 4 when one failed, 3 when Azure refused a request.
    SmokeTest(aibc::commands::smoke::SmokeArgs),
    /// Browse the customization library: tested, parameterised steps used with `use:`.
    Customizations {
        #[command(subcommand)]
        command: CustomizationsCommand,
        /// A folder of entries that add to or replace the built-in ones.
        #[arg(long, value_name = "DIR", global = true)]
        library: Option<PathBuf>,
    },
    /// Turn a Packer template or an existing AIB ARM template into a spec.
    ///
    /// Everything that has no AIB counterpart is reported as a located warning, never
    /// silently dropped.
    Import {
        /// What the file is.
        #[arg(value_enum)]
        kind: aibc::import::Kind,
        /// The template file (or, for Packer HCL2, a folder of `.pkr.hcl` files).
        path: PathBuf,
        /// Write the spec here instead of to standard output.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Compile the imported spec and compare its image template with the original.
        #[arg(long)]
        check: bool,
        /// ARM: a parameters file (JSON, or a .bicepparam of plain values); its values
        /// become the spec parameters' defaults.
        #[arg(long, value_name = "FILE")]
        parameters: Option<PathBuf>,
        /// Packer: a variables file (.pkrvars.hcl or JSON), as `packer build -var-file`.
        #[arg(long = "var-file", value_name = "FILE")]
        var_files: Vec<PathBuf>,
        /// Packer: a variable's value, as `packer build -var NAME=VALUE`.
        #[arg(long = "var", value_name = "NAME=VALUE")]
        vars: Vec<String>,
        /// The image's OS, whatever the template suggests.
        #[arg(long, value_enum)]
        os: Option<aibc::import::OsArg>,
    },
    /// Print the JSON Schema of the spec format (for editors and other tools).
    Schema,
    /// Explain a diagnostic code, or list them all.
    Explain {
        /// A code such as AIB003; without it, every code is listed.
        code: Option<String>,
    },
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    ///
    /// bash: `aibc completions bash > ~/.local/share/bash-completion/completions/aibc`;
    /// zsh: write `_aibc` into a folder on `$fpath`; PowerShell: `aibc completions powershell | Out-String | Invoke-Expression`.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), as shipped in the release archives as man/aibc.1.
    Man {
        /// Write aibc.1 and one page per command (aibc-validate.1, …) into this folder instead.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum CustomizationsCommand {
    /// List every entry: name, OS, version and what it does.
    List,
    /// Show one entry: its parameters and the steps it expands to.
    Show {
        /// The entry's name, as written after `use:`.
        name: String,
    },
}

#[derive(Subcommand)]
enum PipelineCommand {
    /// Write a pipeline that validates, builds, tests and releases the given specs.
    Init(aibc::commands::pipeline::InitArgs),
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Report {
    Human,
    Json,
    /// SARIF 2.1.0, for GitHub code scanning and the Azure DevOps SARIF viewer.
    Sarif,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse_from(packer_style_flags(std::env::args_os())) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            use clap::error::ErrorKind::*;
            let code = match e.kind() {
                DisplayHelp | DisplayVersion | DisplayHelpOnMissingArgumentOrSubcommand => exit::SUCCESS,
                _ => exit::USAGE,
            };
            return ExitCode::from(code as u8);
        }
    };
    let mut command = cli.command;
    if let Err(code) = cli.global.apply().and_then(|()| resolve_azure(&mut command)) {
        return ExitCode::from(code as u8);
    }
    let code = match command {
        Command::Validate { spec, format, strict, library, root } => {
            validate(&spec, format, strict, &compiler::Options { library, root })
        }
        Command::Compile { spec, format, out, library, root } => {
            compile(&spec, format, &out, &compiler::Options { library, root })
        }
        Command::Deploy(args) => aibc::commands::deploy::run(args),
        Command::Clean(args) => aibc::commands::deploy::clean(args),
        Command::Run(args) => aibc::commands::run::run(args),
        Command::Status(args) => aibc::commands::run::status(args),
        Command::Cancel(args) => aibc::commands::run::cancel(args),
        Command::Logs(args) => aibc::commands::run::logs(args),
        Command::Prune(args) => aibc::commands::prune::run(args),
        Command::Pipeline { command: PipelineCommand::Init(args) } => aibc::commands::pipeline::init(args),
        Command::SmokeTest(args) => aibc::commands::smoke::run(args),
        Command::Customizations { command, library } => customizations(command, library.as_deref()),
        Command::Import { kind, path, out, check, parameters, var_files, vars, os } => {
            let options = aibc::import::Options { parameters, var_files, vars, os };
            aibc::import::run(&aibc::import::Args { kind, path, out, check, options })
        }
        Command::Schema => {
            print!("{}", aibc::schema::schema_text());
            exit::SUCCESS
        }
        Command::Explain { code } => explain(code.as_deref()),
        Command::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut <Cli as clap::CommandFactory>::command(),
                "aibc",
                &mut std::io::stdout(),
            );
            exit::SUCCESS
        }
        Command::Man { dir } => aibc::cli_extra::man(<Cli as clap::CommandFactory>::command(), dir.as_deref()),
    };
    ExitCode::from(code as u8)
}

fn load(spec: &Path, options: &compiler::Options) -> Result<Document, i32> {
    compiler::check_file_with(spec, options).map_err(|e| {
        eprintln!("error: cannot read {}: {e}", spec.display());
        exit::FAILURE
    })
}

/// Fills in what az users leave out: the resource group from `az config`'s defaults.group,
/// and with `--template ID` alone the subscription and group the id carries.
fn resolve_azure(command: &mut Command) -> Result<(), i32> {
    match azure_args(command) {
        Some((azure, templates)) => aibc::cli_extra::resolve(azure, &templates, true),
        None => Ok(()),
    }
}

/// The Azure flags of a command that talks to Azure (each needs a resource group), with its
/// `--template` ids.
fn azure_args(command: &mut Command) -> Option<(&mut aibc::commands::AzureArgs, Vec<String>)> {
    Some(match command {
        Command::Run(a) => (&mut a.which.azure, a.which.templates.clone()),
        Command::Status(w) => (&mut w.azure, w.templates.clone()),
        Command::Cancel(a) => (&mut a.which.azure, a.which.templates.clone()),
        Command::Logs(a) => (&mut a.which.azure, a.which.templates.clone()),
        Command::Deploy(a) => (&mut a.azure, Vec::new()),
        Command::Clean(a) => (&mut a.azure, Vec::new()),
        Command::Prune(a) => (&mut a.azure, Vec::new()),
        Command::SmokeTest(a) => (&mut a.azure, Vec::new()),
        _ => return None,
    })
}

fn report(doc: &Document, format: Report) {
    aibc::github::annotate(doc);
    match format {
        Report::Human => {
            let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            let mut err = std::io::stderr().lock();
            for d in &doc.diags {
                let _ = writeln!(err, "{}", diagnostic::render(d, &doc.sources, color));
            }
            let errors = doc.diags.iter().filter(|d| d.is_error()).count();
            let warnings = doc.diags.len() - errors;
            if errors + warnings > 0 {
                let _ = writeln!(err, "{}", summary(errors, warnings));
            }
        }
        Report::Json => {
            let diags: Vec<JsonDiagnostic> = doc.diags.iter().map(|d| JsonDiagnostic::new(d, &doc.sources)).collect();
            let errors = doc.diags.iter().filter(|d| d.severity == Severity::Error).count();
            let out =
                serde_json::json!({ "diagnostics": diags, "errors": errors, "warnings": doc.diags.len() - errors });
            println!("{}", serde_json::to_string_pretty(&out).expect("serializes"));
        }
        Report::Sarif => {
            println!("{}", serde_json::to_string_pretty(&aibc::sarif::log(doc)).expect("serializes"));
        }
    }
}

fn summary(errors: usize, warnings: usize) -> String {
    let plural = |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
    match (errors, warnings) {
        (0, w) => plural(w, "warning"),
        (e, 0) => plural(e, "error"),
        (e, w) => format!("{} and {}", plural(e, "error"), plural(w, "warning")),
    }
}

fn validate(spec: &Path, format: Report, strict: bool, options: &compiler::Options) -> i32 {
    let doc = match load(spec, options) {
        Ok(d) => d,
        Err(code) => return code,
    };
    report(&doc, format);
    if doc.has_errors() || (strict && !doc.diags.is_empty()) {
        exit::INVALID_SPEC
    } else {
        if format == Report::Human {
            let n = doc.images.len();
            eprintln!(
                "{}: {} valid",
                spec.display(),
                if n == 1 { "1 image".to_string() } else { format!("{n} images") }
            );
        }
        exit::SUCCESS
    }
}

fn compile(spec: &Path, target: Target, out: &Path, options: &compiler::Options) -> i32 {
    let doc = match load(spec, options) {
        Ok(d) => d,
        Err(code) => return code,
    };
    report(&doc, Report::Human);
    if doc.has_errors() {
        return exit::INVALID_SPEC;
    }
    let compiled = match compiler::compile(&doc, &compiler::display_path(spec), target) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::FAILURE;
        }
    };
    let dirs: Vec<PathBuf> = compiled
        .iter()
        .map(|c| match &c.folder {
            Some(f) => out.join(f),
            None => out.to_path_buf(),
        })
        .collect();
    // All images or none: a failed write leaves the previous output whole (src/output.rs).
    let outputs: Vec<(PathBuf, &[aibc::emit::File])> =
        dirs.iter().zip(&compiled).map(|(d, c)| (d.clone(), c.files.as_slice())).collect();
    if let Err(e) = aibc::output::write_all(&outputs) {
        eprintln!("error: cannot write {e}");
        return exit::FAILURE;
    }
    for (c, dir) in compiled.iter().zip(&dirs) {
        let names: Vec<&str> = c.files.iter().map(|f| f.path.as_str()).collect();
        eprintln!(
            "{}: wrote {} ({}); image template {}-{}",
            c.name,
            dir.display(),
            names.join(", "),
            c.name,
            c.plan.content_hash
        );
    }
    exit::SUCCESS
}

fn customizations(command: CustomizationsCommand, folder: Option<&Path>) -> i32 {
    let mut library = aibc::library::Library::builtin().clone();
    if let Some(dir) = folder {
        if !dir.is_dir() {
            eprintln!("error: the library folder {} does not exist", dir.display());
            return exit::FAILURE;
        }
        let mut sources = aibc::source::Sources::default();
        let (lib, diags) = match library.with_folder(dir, &mut sources) {
            Ok(loaded) => loaded,
            Err((rel, refusal)) => {
                let shown = format!("{}/{rel}", dir.display());
                let (message, hint) = refusal.explain(&shown, &aibc::fsguard::Roots::new(dir, None));
                eprintln!("error[{}]: {message}\n  = help: {hint}", refusal.code().id());
                return exit::INVALID_SPEC;
            }
        };
        for d in &diags {
            eprintln!("{}", diagnostic::render(d, &sources, false));
        }
        if diags.iter().any(|d| d.is_error()) {
            return exit::INVALID_SPEC;
        }
        library = lib;
    }
    match command {
        CustomizationsCommand::List if aibc::format::wants_document() => {
            let rows: Vec<serde_json::Value> = library
                .entries()
                .map(|e| {
                    let m = &e.manifest;
                    serde_json::json!({"name": m.name, "os": m.os.azure_name(), "version": m.version, "description": m.description})
                })
                .collect();
            print_document(&serde_json::Value::Array(rows))
        }
        CustomizationsCommand::List => {
            let width = library.names().map(str::len).max().unwrap_or(0);
            for e in library.entries() {
                let m = &e.manifest;
                println!("{:<width$}  {:<7}  {:<6}  {}", m.name, m.os.azure_name(), m.version, m.description);
            }
            exit::SUCCESS
        }
        CustomizationsCommand::Show { name } => match library.get(&name) {
            Some(e) => {
                print!("{}", aibc::docs::entry(e));
                exit::SUCCESS
            }
            None => {
                let hint = diagnostic::suggest(&name, library.names())
                    .map(|s| format!(" (did you mean `{s}`?)"))
                    .unwrap_or_default();
                eprintln!("error: no library entry `{name}`{hint}; `aibc customizations list` shows them all");
                exit::USAGE
            }
        },
    }
}

/// Prints a result document with `-o`/`--query`; a failing query is a usage error.
fn print_document(value: &serde_json::Value) -> i32 {
    aibc::commands::print_result(exit::SUCCESS, value)
}

fn explain(code: Option<&str>) -> i32 {
    let severity = |c: &Code| match c.default_severity() {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    if aibc::format::wants_document() {
        let row = |c: &Code| serde_json::json!({"code": c.id(), "severity": severity(c), "title": c.title()});
        return match code {
            None => print_document(&serde_json::Value::Array(Code::ALL.iter().map(row).collect())),
            Some(id) => match Code::ALL.iter().find(|c| c.id().eq_ignore_ascii_case(id)) {
                Some(c) => print_document(&row(c)),
                None => {
                    eprintln!("error: no diagnostic code `{id}`; `aibc explain` lists them all");
                    exit::USAGE
                }
            },
        };
    }
    match code {
        None => {
            for c in Code::ALL {
                let sev = match c.default_severity() {
                    Severity::Error => "error",
                    Severity::Warning => "warning",
                };
                println!("{}  {sev:<7}  {}", c.id(), c.title());
            }
            exit::SUCCESS
        }
        Some(id) => match Code::ALL.iter().find(|c| c.id().eq_ignore_ascii_case(id)) {
            Some(c) => {
                println!("{}: {}", c.id(), c.title());
                // Import codes say what to do as well.
                if let Some(i) = aibc::import::ImportCode::ALL.iter().skip(1).find(|i| i.code() == *c) {
                    println!("{}", i.what_to_do());
                }
                exit::SUCCESS
            }
            None => {
                eprintln!("error: no diagnostic code `{id}`; `aibc explain` lists them all");
                exit::USAGE
            }
        },
    }
}

/// `aibc import packer` takes `-var` and `-var-file` as `packer build` writes them (one
/// dash), besides `--var` and `--var-file`.
fn packer_style_flags(args: impl Iterator<Item = std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    let args: Vec<std::ffi::OsString> = args.collect();
    if args.get(1).is_none_or(|a| a != "import") {
        return args;
    }
    args.into_iter()
        .map(|a| match a.to_str() {
            Some(s) if s == "-var" || s == "-var-file" || s.starts_with("-var=") || s.starts_with("-var-file=") => {
                format!("-{s}").into()
            }
            _ => a,
        })
        .collect()
}

// Every `aibc …` line in pipelines/ and in `pipeline init` output, through this parser.
#[cfg(test)]
#[path = "pipeline_commands_test.rs"]
mod pipeline_commands_test;
