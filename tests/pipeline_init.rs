//! `aibc pipeline init` for every example spec and every kind, against the committed files in
//! `tests/golden/pipelines/<example>/`. `AIBC_BLESS=1 cargo test --test pipeline_init` rewrites
//! them. tests/python/test_pipelines.py checks the same files as Azure DevOps / GitHub YAML.

use std::path::{Path, PathBuf};

use aibc::commands::pipeline::{Context, InitArgs, Kind, render};
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

fn args(kind: Kind, spec: &Path) -> InitArgs {
    InitArgs::new(kind, vec![root().join(spec)])
}

fn context(kind: Kind, spec: &Path) -> Context {
    aibc::commands::pipeline::context(&args(kind, spec), "0.1.0").unwrap()
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

#[test]
fn spec_paths_are_relative_to_the_repository_wherever_init_runs() {
    // An absolute path, as a user in another folder might give it.
    let ctx = context(Kind::Yaml, Path::new("examples/ubuntu-2404-apt/image.yaml"));
    assert_eq!(ctx.specs[0].path, "examples/ubuntu-2404-apt/image.yaml");
    let text = render(&ctx).unwrap();
    assert!(!text.contains(&*root().to_string_lossy()), "{text}");
}

#[test]
fn the_trigger_watches_everything_the_spec_reads() {
    let ctx = context(Kind::Yaml, Path::new("examples/multi-distribution/image.yaml"));
    assert!(ctx.watch.contains(&"examples/multi-distribution/image.yaml".to_string()), "{:?}", ctx.watch);
    assert!(ctx.watch.iter().any(|w| w.starts_with("examples/multi-distribution/scripts/")), "{:?}", ctx.watch);
    for kind in [Kind::Yaml, Kind::Github] {
        let text = render(&context(kind, Path::new("examples/multi-distribution/image.yaml"))).unwrap();
        for w in &ctx.watch {
            assert!(text.contains(&format!("- '{w}'")), "{w} not in the {kind:?} trigger");
        }
    }
}

#[test]
fn a_team_library_is_watched_too() {
    // A library folder inside the repository (an empty one is a valid library).
    let dir = root().join("target").join(format!("init-library-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut a = args(Kind::Yaml, Path::new("examples/ubuntu-2404-apt/image.yaml"));
    a.library = Some(dir.clone());
    let ctx = aibc::commands::pipeline::context(&a, "0.1.0");
    std::fs::remove_dir_all(&dir).unwrap();
    let watched = format!("target/init-library-{}", std::process::id());
    assert!(ctx.unwrap().watch.contains(&watched));
}

#[test]
fn deploy_time_parameters_become_pipeline_parameters() {
    let yaml = render(&context(Kind::Yaml, Path::new("examples/multi-distribution/image.yaml"))).unwrap();
    assert!(yaml.contains("- name: param_environment"), "{yaml}");
    assert!(yaml.contains("default: 'dev'"), "{yaml}");
    assert!(yaml.contains("environment: ${{ parameters.param_environment }}"), "{yaml}");
    let gh = render(&context(Kind::Github, Path::new("examples/multi-distribution/image.yaml"))).unwrap();
    assert!(
        gh.contains("AIBC_PARAM_ENVIRONMENT: ${{ inputs.param_environment || vars.AIBC_PARAM_ENVIRONMENT || 'dev' }}"),
        "{gh}"
    );
}

#[test]
fn the_specs_version_scheme_is_kept_and_the_override_is_visible() {
    for kind in [Kind::Yaml, Kind::Github] {
        let text = render(&context(kind, Path::new("examples/ubuntu-2404-apt/image.yaml"))).unwrap();
        assert!(!text.contains("date -u"), "{kind:?} computes its own version:\n{text}");
        assert!(text.contains("version date"), "{text}");
    }
    let gh = render(&context(Kind::Github, Path::new("examples/ubuntu-2404-apt/image.yaml"))).unwrap();
    assert!(gh.contains("::warning title=Image version overridden::"), "{gh}");
}

#[test]
fn a_spec_outside_the_repository_is_refused() {
    let dir = std::env::temp_dir().join(format!("aibc-init-outside-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(root().join("examples/avd-win11-multisession/image.yaml"), dir.join("image.yaml")).unwrap();
    let mut a = args(Kind::Yaml, Path::new("x"));
    a.specs = vec![root().join("examples/ubuntu-2404-apt/image.yaml"), dir.join("image.yaml")];
    let err = aibc::commands::pipeline::context(&a, "0.1.0").unwrap_err();
    assert!(err.contains("outside the repository"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}
