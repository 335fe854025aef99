//! `aibc pipeline init`: writes a ready pipeline for the user's specs into their repository,
//! from the templates in `pipelines/init/` (embedded, so it works from any folder). The
//! pipeline it writes uses the versioned templates in `pipelines/azure-devops/` by reference.

use std::path::{Path, PathBuf};

use handlebars::Handlebars;
use serde::Serialize;

use crate::compiler::{self, Target};
use crate::exit;
use crate::spec::{Distribution, ImageSpec, ParameterType, SchemeName, Version};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// An Azure DevOps YAML pipeline (azure-pipelines.yml).
    Yaml,
    /// A step-by-step recipe for the classic editor, with the task group to import.
    Classic,
    /// A GitHub Actions workflow.
    Github,
}

impl Kind {
    fn template(self) -> &'static str {
        match self {
            Kind::Yaml => include_str!("../../pipelines/init/yaml.hbs"),
            Kind::Classic => include_str!("../../pipelines/init/classic.md.hbs"),
            Kind::Github => include_str!("../../pipelines/init/github.hbs"),
        }
    }

    pub fn default_path(self) -> &'static str {
        match self {
            Kind::Yaml => "azure-pipelines.yml",
            Kind::Classic => "docs/classic-pipeline.md",
            Kind::Github => ".github/workflows/image.yml",
        }
    }
}

const DEFAULT_CONNECTION: &str = "sc-aib-images";
const DEFAULT_RESOURCE_GROUP: &str = "rg-image-build";

#[derive(Debug, Clone, clap::Args)]
pub struct InitArgs {
    /// What to write.
    #[arg(long, value_enum, default_value_t = Kind::Yaml)]
    pub kind: Kind,
    /// A spec to build (repeatable; a family file builds each of its images).
    #[arg(long = "spec", value_name = "PATH", required = true)]
    pub specs: Vec<PathBuf>,
    /// The Azure Resource Manager service connection (workload identity federation).
    #[arg(long, value_name = "NAME", default_value = DEFAULT_CONNECTION)]
    pub service_connection: String,
    /// Resource group the image infrastructure is deployed to.
    #[arg(long, short = 'g', value_name = "NAME", default_value = DEFAULT_RESOURCE_GROUP)]
    pub resource_group: String,
    /// Replication regions to note in the pipeline (default: the specs' own).
    #[arg(long, value_name = "REGION", value_delimiter = ',')]
    pub regions: Vec<String>,
    /// Where to write (default: azure-pipelines.yml, .github/workflows/image.yml or
    /// docs/classic-pipeline.md); `-` for standard output.
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,
    /// Overwrite an existing file.
    #[arg(long)]
    pub force: bool,
    /// A team's customization library folder the specs are built with (watched by the trigger).
    #[arg(long, value_name = "DIR")]
    pub library: Option<PathBuf>,
}

impl InitArgs {
    /// The command line's defaults for `specs`: what `aibc pipeline init --kind K --spec …` gets.
    pub fn new(kind: Kind, specs: Vec<PathBuf>) -> InitArgs {
        InitArgs {
            kind,
            specs,
            service_connection: DEFAULT_CONNECTION.into(),
            resource_group: DEFAULT_RESOURCE_GROUP.into(),
            regions: Vec::new(),
            out: None,
            force: false,
            library: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SpecEntry {
    /// Relative to the repository root, with forward slashes: the pipeline runs from a
    /// checkout of the repository on a Linux agent, wherever `init` was run.
    pub path: String,
    pub name: String,
    pub os: String,
    /// The member of a family file, when the file holds several images.
    pub image: Option<String>,
    /// `image`, or empty: a GitHub matrix entry always has the field.
    pub member: String,
    /// How the spec picks its gallery version (`date`, `next`, `1.2.3`, …), for the header.
    pub version: Option<String>,
    /// The deploy-time parameters this image declares (names into `Context::params`).
    pub params: Vec<String>,
    /// Whether the image has a `test:` section: `aibc smoke-test` refuses one without.
    pub tests: bool,
}

/// A deploy-time `${params.X}` of the specs, carried as a pipeline parameter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ParamEntry {
    pub name: String,
    /// `AIBC_PARAM_<NAME>`, which `aibc deploy` reads.
    pub env: String,
    /// Azure Pipelines parameter type: string, number or boolean.
    pub ado_type: &'static str,
    /// The spec's default as a YAML scalar (quoted when a string); none = required.
    pub default: Option<String>,
    /// The spec's default as plain text, for the GitHub expression and the classic recipe.
    pub default_text: Option<String>,
    /// The allowed values as YAML scalars.
    pub allowed: Vec<String>,
    /// A quoted YAML string for display: the spec's description or the name.
    pub display: String,
    /// The GitHub expression for the value: the manual run's input, else the repository
    /// variable, else the spec's default.
    pub github: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Context {
    pub kind: Kind,
    pub specs: Vec<SpecEntry>,
    pub service_connection: String,
    pub resource_group: String,
    pub regions: Vec<String>,
    pub aibc_version: String,
    /// Everything the specs read, relative to the repository root: the spec files, their
    /// scripts and artifact folders, and the library folders. The trigger watches these.
    pub watch: Vec<String>,
    pub params: Vec<ParamEntry>,
    /// The images that have a `test:` section: only they are smoke-tested.
    pub smoke_specs: Vec<SpecEntry>,
    /// `true` when any image has tests: the default of the run's smoke-test switch.
    pub smoke: bool,
    /// What the GitHub release job waits for: `smoke-test`, or `build` when nothing is tested.
    pub release_needs: &'static str,
}

/// Renders a pipeline. Values are single-quoted in the YAML, so a quote in them is refused
/// rather than escaped into something the user did not write.
pub fn render(context: &Context) -> Result<String, String> {
    let mut values = vec![&context.service_connection, &context.resource_group];
    for s in &context.specs {
        values.extend([&s.path, &s.name]);
    }
    values.extend(&context.watch);
    if let Some(bad) = values.iter().find(|v| v.contains('\'') || v.contains('\n')) {
        return Err(format!("`{bad}` holds a quote or a line break, which the pipeline cannot quote"));
    }
    let mut h = Handlebars::new();
    h.set_strict_mode(true);
    h.register_escape_fn(handlebars::no_escape);
    h.register_template_string("pipeline", context.kind.template()).map_err(|e| format!("template: {e}"))?;
    h.render("pipeline", context).map_err(|e| format!("template: {e}"))
}

/// What one spec file contributes: its images, the files it reads, its regions and its
/// deploy-time parameters. Paths come out relative to `root` (the repository).
pub struct SpecFile {
    pub entries: Vec<SpecEntry>,
    pub watch: Vec<String>,
    pub regions: Vec<String>,
    pub params: Vec<ParamEntry>,
}

pub fn entries(spec: &Path, root: &Path, library: Option<&Path>) -> Result<SpecFile, String> {
    let options = compiler::Options { library: library.map(Path::to_path_buf), root: None };
    let doc = compiler::check_file_with(spec, &options).map_err(|e| format!("cannot read {}: {e}", spec.display()))?;
    if doc.has_errors() {
        return Err(format!("{} has errors; `aibc validate {}` shows them", spec.display(), spec.display()));
    }
    let path = relative(spec, root)?;
    let compiled = compiler::compile(&doc, &path, Target::Bicep)?;
    let family = doc.images.len() > 1 || doc.images.iter().any(|i| i.index.is_some());
    let mut out = SpecFile { entries: Vec::new(), watch: vec![path.clone()], regions: Vec::new(), params: Vec::new() };
    if let Some(dir) = library {
        out.watch.push(relative(dir, root)?);
    }
    for (image, c) in doc.images.iter().zip(&compiled) {
        let Some(s) = &image.spec else { continue };
        if let Some(dir) = &s.library {
            out.watch.push(relative(&image.base_dir.join(dir), root)?);
        }
        for a in &c.plan.artifacts {
            out.watch.push(relative(&a.local, root)?);
        }
        for (name, p) in &s.parameters {
            if !out.params.iter().any(|e: &ParamEntry| &e.name == name) {
                out.params.push(param_entry(name, p));
            }
        }
        out.entries.push(SpecEntry {
            path: path.clone(),
            name: s.name.clone(),
            os: s.os.azure_name().to_ascii_lowercase(),
            image: family.then(|| s.name.clone()),
            member: if family { s.name.clone() } else { String::new() },
            version: version_of(s),
            params: s.parameters.keys().cloned().collect(),
            tests: s.test.is_some(),
        });
        out.regions.extend(regions_of(s));
    }
    Ok(out)
}

/// The repository a spec belongs to: the nearest folder above it with a `.git` (a folder,
/// or a file in a worktree); without one, the current directory.
pub fn repo_root(spec: &Path) -> PathBuf {
    let abs = std::path::absolute(spec).unwrap_or_else(|_| spec.to_path_buf());
    abs.ancestors()
        .skip(1)
        .find(|d| d.join(".git").exists())
        .map(Path::to_path_buf)
        .or_else(|| std::env::current_dir().ok())
        .unwrap_or_default()
}

/// `path` relative to `root`, with forward slashes; a path outside the repository cannot be
/// checked out by the pipeline and is refused.
fn relative(path: &Path, root: &Path) -> Result<String, String> {
    let abs = std::path::absolute(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let abs = normalize(&abs);
    let rel = abs.strip_prefix(normalize(root)).map_err(|_| {
        format!(
            "{} is outside the repository {}; the pipeline can only read files of its own checkout",
            path.display(),
            root.display()
        )
    })?;
    Ok(compiler::display_path(rel))
}

/// `a/./b/../c` → `a/c` without touching the file system (the file may be a symlink the
/// pipeline's checkout also has).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// The gallery version rule of the spec's first gallery distribution, as written.
fn version_of(spec: &ImageSpec) -> Option<String> {
    spec.distribute.iter().find_map(|d| match d {
        Distribution::Gallery(g) => Some(match &g.version {
            None => "AIB's next version".to_string(),
            Some(Version::Text(t)) => t.clone(),
            Some(Version::Scheme(s)) => match s.scheme {
                SchemeName::Date => "date",
                SchemeName::Next => "next",
                SchemeName::Semver => "semver",
                SchemeName::Latest => "latest",
                SchemeName::Source => "source",
            }
            .to_string(),
        }),
        _ => None,
    })
}

/// A YAML single-quoted scalar on one line.
fn quoted(s: &str) -> String {
    format!("'{}'", s.replace('\n', " ").replace('\'', "''"))
}

fn scalar(v: &serde_json::Value) -> (String, String) {
    match v {
        serde_json::Value::String(s) => (quoted(s), s.clone()),
        other => (other.to_string(), other.to_string()),
    }
}

fn param_entry(name: &str, p: &crate::spec::Parameter) -> ParamEntry {
    let ado_type = match p.kind {
        ParameterType::String => "string",
        ParameterType::Int => "number",
        ParameterType::Bool => "boolean",
    };
    let default = p.default.as_ref().map(scalar);
    let env = crate::deploy::param_env_name(name);
    let fallback = default.as_ref().map(|d| format!(" || '{}'", d.1.replace('\'', "''"))).unwrap_or_default();
    ParamEntry {
        github: format!("${{{{ inputs.param_{name} || vars.{env}{fallback} }}}}"),
        name: name.to_string(),
        env,
        ado_type,
        default: default.as_ref().map(|d| d.0.clone()),
        default_text: default.map(|d| d.1),
        allowed: p.allowed.iter().map(|v| scalar(v).0).collect(),
        display: quoted(&format!(
            "Spec parameter {name}{}",
            p.description.as_deref().map(|d| format!(": {d}")).unwrap_or_default()
        )),
    }
}

fn regions_of(spec: &ImageSpec) -> Vec<String> {
    let mut out: Vec<String> = spec
        .distribute
        .iter()
        .flat_map(|d| match d {
            Distribution::Gallery(g) => g.regions.iter().map(|r| r.name().to_string()).collect(),
            _ => Vec::new(),
        })
        .collect();
    if out.is_empty()
        && let Some(l) = &spec.location
    {
        out.push(l.clone());
    }
    out.retain(|r| !crate::params::has_references(r));
    out
}

/// The rendering context for `args`: every spec's entries, paths relative to the
/// repository the first spec is in.
pub fn context(args: &InitArgs, aibc_version: &str) -> Result<Context, String> {
    let root = args.specs.first().map(|s| repo_root(s)).unwrap_or_default();
    let mut specs = Vec::new();
    let mut regions = Vec::new();
    let mut watch = Vec::new();
    let mut params: Vec<ParamEntry> = Vec::new();
    for s in &args.specs {
        let file = entries(s, &root, args.library.as_deref())?;
        specs.extend(file.entries);
        regions.extend(file.regions);
        watch.extend(file.watch);
        for p in file.params {
            if !params.iter().any(|q| q.name == p.name) {
                params.push(p);
            }
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    regions.retain(|r| seen.insert(r.clone()));
    // A folder covers the files in it: keep only the outermost of nested paths.
    watch.sort();
    watch.dedup();
    let all = watch.clone();
    watch.retain(|w| !all.iter().any(|o| o != w && w.starts_with(&format!("{o}/"))));
    let smoke_specs: Vec<SpecEntry> = specs.iter().filter(|s| s.tests).cloned().collect();
    let smoke = !smoke_specs.is_empty();
    Ok(Context {
        kind: args.kind,
        smoke_specs,
        smoke,
        release_needs: if smoke { "smoke-test" } else { "build" },
        specs,
        service_connection: args.service_connection.clone(),
        resource_group: args.resource_group.clone(),
        regions: if args.regions.is_empty() { regions } else { args.regions.clone() },
        aibc_version: aibc_version.to_string(),
        watch,
        params,
    })
}

pub fn init(args: InitArgs) -> i32 {
    let context = match context(&args, env!("CARGO_PKG_VERSION")) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::INVALID_SPEC;
        }
    };
    let text = match render(&context) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::USAGE;
        }
    };
    let out = args.out.clone().unwrap_or_else(|| PathBuf::from(args.kind.default_path()));
    if out.as_os_str() == "-" {
        print!("{text}");
        return exit::SUCCESS;
    }
    if out.exists() && !args.force {
        eprintln!("error: {} exists; give --force to overwrite it, or --out another path", out.display());
        return exit::USAGE;
    }
    let written = out.parent().filter(|p| !p.as_os_str().is_empty()).map_or(Ok(()), std::fs::create_dir_all);
    if let Err(e) = written.and_then(|()| std::fs::write(&out, text)) {
        eprintln!("error: cannot write {}: {e}", out.display());
        return exit::FAILURE;
    }
    eprintln!(
        "wrote {} ({} image(s)); docs/pipelines.md says what to set up before the first run",
        out.display(),
        context.specs.len()
    );
    exit::SUCCESS
}
