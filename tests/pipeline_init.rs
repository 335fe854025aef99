//! `aibc pipeline init` for every example spec and every kind, against the committed files in
//! `tests/golden/pipelines/<example>/`. `AIBC_BLESS=1 cargo test --test pipeline_init` rewrites
//! them. tests/python/test_pipelines.py checks the same files as Azure DevOps / GitHub YAML.

use std::path::{Path, PathBuf};

use aibc::commands::pipeline::{Context, Kind, SpecEntry, entries, render};
use pretty_assertions::assert_eq;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn examples() -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    for dir in std::fs::read_dir(root().join("examples")).unwrap() {
        let dir = dir.unwrap().path();
        for f in std::fs::read_dir(&dir).into_iter().flatten() {
            let f = f.unwrap().path();
            if matches!(f.extension().and_then(|e| e.to_str()), Some("yaml" | "yml" | "json")) {
                let name = dir.file_name().unwrap().to_string_lossy().into_owned();
                out.push((name, f.strip_prefix(root()).unwrap().to_path_buf()));
            }
        }
    }
    out.sort();
    out
}

fn context(kind: Kind, spec: &Path) -> Context {
    let (mut specs, regions) = entries(&root().join(spec)).unwrap();
    // Paths relative to the repository root, as a user running it there gets them.
    for s in &mut specs {
        s.path = spec.to_string_lossy().replace('\\', "/");
    }
    if kind == Kind::Github {
        specs.dedup_by(|a: &mut SpecEntry, b: &mut SpecEntry| a.path == b.path);
    }
    Context {
        kind,
        specs,
        service_connection: "sc-aib-images".into(),
        resource_group: "rg-image-build".into(),
        regions,
        aibc_version: "0.1.0".into(),
    }
}

fn file_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Yaml => "azure-pipelines.yml",
        Kind::Classic => "classic-pipeline.md",
        Kind::Github => "github-workflow.yml",
    }
}

#[test]
fn init_output_matches_the_golden_files() {
    let bless = std::env::var_os("AIBC_BLESS").is_some();
    let mut failures = Vec::new();
    for (name, spec) in examples() {
        for kind in [Kind::Yaml, Kind::Classic, Kind::Github] {
            let text = render(&context(kind, &spec)).unwrap();
            let golden = root().join("tests/golden/pipelines").join(&name).join(file_name(kind));
            if bless {
                std::fs::create_dir_all(golden.parent().unwrap()).unwrap();
                std::fs::write(&golden, &text).unwrap();
                continue;
            }
            match std::fs::read_to_string(&golden) {
                Ok(expected) if expected == text => {}
                Ok(expected) => {
                    assert_eq!(expected, text, "{} differs (AIBC_BLESS=1 to accept)", golden.display());
                }
                Err(_) => failures.push(format!("{} is missing (AIBC_BLESS=1 writes it)", golden.display())),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_image_of_a_family_becomes_a_job() {
    let ctx = context(Kind::Yaml, Path::new("examples/family/images.yaml"));
    let text = render(&ctx).unwrap();
    assert!(ctx.specs.len() >= 3);
    for s in &ctx.specs {
        assert!(text.contains(&format!("- name: '{}'", s.name)), "{text}");
        assert!(text.contains(&format!("image: '{}'", s.name)));
    }
}

#[test]
fn quotes_in_values_are_refused() {
    let mut ctx = context(Kind::Yaml, Path::new("examples/ubuntu-2404-apt/image.yaml"));
    ctx.service_connection = "it's".into();
    assert!(render(&ctx).unwrap_err().contains("quote"));
}
