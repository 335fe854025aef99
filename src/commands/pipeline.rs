//! `aibc pipeline init`: writes a ready pipeline for the user's specs into their repository,
//! from the templates in `pipelines/init/` (embedded, so it works from any folder). The
//! pipeline it writes uses the versioned templates in `pipelines/azure-devops/` by reference.

use std::path::{Path, PathBuf};

use handlebars::Handlebars;
use serde::Serialize;

use crate::compiler;
use crate::exit;
use crate::spec::{Distribution, ImageSpec};

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

#[derive(Debug, Clone, clap::Args)]
pub struct InitArgs {
    /// What to write.
    #[arg(long, value_enum, default_value_t = Kind::Yaml)]
    pub kind: Kind,
    /// A spec to build (repeatable; a family file builds each of its images).
    #[arg(long = "spec", value_name = "PATH", required = true)]
    pub specs: Vec<PathBuf>,
    /// The Azure Resource Manager service connection (workload identity federation).
    #[arg(long, value_name = "NAME", default_value = "sc-aib-images")]
    pub service_connection: String,
    /// Resource group the image infrastructure is deployed to.
    #[arg(long, short = 'g', value_name = "NAME", default_value = "rg-image-build")]
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
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SpecEntry {
    /// As given, with forward slashes: pipelines run on Linux agents.
    pub path: String,
    pub name: String,
    pub os: String,
    /// The member of a family file, when the file holds several images.
    pub image: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Context {
    pub kind: Kind,
    pub specs: Vec<SpecEntry>,
    pub service_connection: String,
    pub resource_group: String,
    pub regions: Vec<String>,
    pub aibc_version: String,
}

/// Renders a pipeline. Values are single-quoted in the YAML, so a quote in them is refused
/// rather than escaped into something the user did not write.
pub fn render(context: &Context) -> Result<String, String> {
    let mut values = vec![&context.service_connection, &context.resource_group];
    for s in &context.specs {
        values.extend([&s.path, &s.name]);
    }
    if let Some(bad) = values.iter().find(|v| v.contains('\'') || v.contains('\n')) {
        return Err(format!("`{bad}` holds a quote or a line break, which the pipeline cannot quote"));
    }
    let mut h = Handlebars::new();
    h.set_strict_mode(true);
    h.register_escape_fn(handlebars::no_escape);
    h.register_template_string("pipeline", context.kind.template()).map_err(|e| format!("template: {e}"))?;
    h.render("pipeline", context).map_err(|e| format!("template: {e}"))
}

/// The entries of one spec file: its images, named as the spec names them.
pub fn entries(spec: &Path) -> Result<(Vec<SpecEntry>, Vec<String>), String> {
    let doc = compiler::check_file(spec).map_err(|e| format!("cannot read {}: {e}", spec.display()))?;
    if doc.has_errors() {
        return Err(format!("{} has errors; `aibc validate {}` shows them", spec.display(), spec.display()));
    }
    let path = compiler::display_path(spec);
    let family = doc.images.len() > 1 || doc.images.iter().any(|i| i.index.is_some());
    let mut out = Vec::new();
    let mut regions = Vec::new();
    for image in &doc.images {
        let Some(s) = &image.spec else { continue };
        out.push(SpecEntry {
            path: path.clone(),
            name: s.name.clone(),
            os: s.os.azure_name().to_ascii_lowercase(),
            image: family.then(|| s.name.clone()),
        });
        regions.extend(regions_of(s));
    }
    Ok((out, regions))
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

pub fn init(args: InitArgs) -> i32 {
    let mut specs = Vec::new();
    let mut regions = Vec::new();
    for s in &args.specs {
        match entries(s) {
            Ok((e, r)) => {
                specs.extend(e);
                regions.extend(r);
            }
            Err(e) => {
                eprintln!("error: {e}");
                return exit::INVALID_SPEC;
            }
        }
    }
    if args.kind == Kind::Github {
        // A workflow job builds a whole spec file; one entry per file.
        specs.dedup_by(|a, b| a.path == b.path);
    }
    let mut seen = std::collections::BTreeSet::new();
    regions.retain(|r| seen.insert(r.clone()));
    let context = Context {
        kind: args.kind,
        specs,
        service_connection: args.service_connection.clone(),
        resource_group: args.resource_group.clone(),
        regions: if args.regions.is_empty() { regions } else { args.regions.clone() },
        aibc_version: env!("CARGO_PKG_VERSION").to_string(),
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
