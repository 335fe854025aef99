//! The az CLI's conventions and the CI-native output, as users run the binary: every `-o`
//! format and `--query` against goldens in `tests/golden/cli/` (`AIBC_BLESS=1` rewrites
//! them), completions and the man page, `--version`, SARIF, GitHub Actions annotations,
//! deletions refused without a terminal, and the resource group taken from `az config`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The binary with a clean environment: no CI variables, an empty az config folder.
fn aibc(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_aibc"));
    c.args(args).current_dir(repo()).stdin(Stdio::null()).env("NO_COLOR", "1");
    for k in ["GITHUB_ACTIONS", "TF_BUILD", "AIBC_RESOURCE_GROUP", "AZURE_SUBSCRIPTION_ID", "GITHUB_OUTPUT"] {
        c.env_remove(k);
    }
    c.env("AZURE_CONFIG_DIR", repo().join("target/tmp/no-az-config"));
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn golden(name: &str, actual: &str) {
    let path: PathBuf = repo().join("tests/golden/cli").join(name);
    if std::env::var_os("AIBC_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (AIBC_BLESS=1 cargo test --test cli_conventions)", path.display()));
    pretty_assertions::assert_eq!(expected, actual, "{name}");
}

const QUERY: &str = "[?starts_with(code, 'AIB00')]";

#[test]
fn every_output_format_against_its_golden() {
    for format in ["json", "jsonc", "table", "tsv", "yaml", "none"] {
        let o = aibc(&["explain", "-o", format, "--query", QUERY], &[]);
        assert_eq!(o.status.code(), Some(0), "{format}: {}", text(&o.stderr));
        golden(&format!("explain.{format}"), &text(&o.stdout));
    }
    let o = aibc(
        &["customizations", "list", "--output", "table", "--query", "[?os=='Windows'].{name: name, version: version}"],
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    golden("customizations-windows.table", &text(&o.stdout));
}

#[test]
fn query_alone_prints_json_and_scalars_print_bare_in_tsv() {
    let o = aibc(&["explain", "AIB003", "--query", "title"], &[]);
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v.as_str().unwrap().contains("A key the spec format does not have"));
    let o = aibc(&["explain", "AIB003", "--query", "severity", "-o", "tsv"], &[]);
    assert_eq!(text(&o.stdout), "error\n");
}

#[test]
fn a_bad_query_is_a_usage_error_before_any_work() {
    let o = aibc(&["explain", "--query", "[?code=="], &[]);
    assert_eq!(o.status.code(), Some(64));
    assert!(text(&o.stderr).contains("not valid JMESPath"), "{}", text(&o.stderr));
}

#[test]
fn completions_for_every_shell_and_a_man_page() {
    for (shell, marker) in [
        ("bash", "complete -F _aibc"),
        ("zsh", "#compdef aibc"),
        ("fish", "complete -c aibc"),
        ("powershell", "Register-ArgumentCompleter"),
        ("elvish", "edit:completion:arg-completer[aibc]"),
    ] {
        let o = aibc(&["completions", shell], &[]);
        assert_eq!(o.status.code(), Some(0), "{shell}");
        let script = text(&o.stdout);
        assert!(script.contains(marker), "{shell}: no `{marker}`");
        for sub in ["validate", "compile", "prune", "completions"] {
            assert!(script.contains(sub), "{shell}: `{sub}` not completed");
        }
    }
    let o = aibc(&["man"], &[]);
    assert_eq!(o.status.code(), Some(0));
    let page = text(&o.stdout);
    assert!(
        page.starts_with(".ie \\n(.g .ds Aq \\(aq") || page.contains(".TH aibc 1"),
        "{}",
        &page[..200.min(page.len())]
    );
    assert!(page.contains(".TH aibc 1"));
    assert!(
        page.contains("smoke\\-test") && page.contains("\\-\\-only\\-show\\-errors"),
        "man page lacks commands or flags"
    );
    // One page per command, with that command's flags.
    let dir = repo().join("target/tmp").join(format!("man-{}", std::process::id()));
    let o = aibc(&["man", "--dir", dir.to_str().unwrap()], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let prune = std::fs::read_to_string(dir.join("aibc-prune.1")).unwrap();
    assert!(
        prune.contains(".TH aibc-prune 1") && prune.contains("\\-\\-yes") && prune.contains("\\-\\-keep"),
        "{prune}"
    );
    assert!(dir.join("aibc-pipeline-init.1").is_file() && dir.join("aibc.1").is_file());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn version_names_commit_target_and_api_versions() {
    let o = aibc(&["--version"], &[]);
    assert_eq!(o.status.code(), Some(0));
    let v = text(&o.stdout);
    let lines: Vec<&str> = v.lines().collect();
    assert!(lines[0].starts_with(&format!("aibc {}", env!("CARGO_PKG_VERSION"))), "{v}");
    let commit = lines.iter().find_map(|l| l.strip_prefix("commit: ")).expect("a commit line");
    assert!(commit == "unknown" || (commit.len() == 12 && commit.chars().all(|c| c.is_ascii_hexdigit())), "{commit}");
    assert!(lines.iter().any(|l| l.starts_with("target: ") && l.contains("-")), "{v}");
    assert!(v.contains(&format!("Microsoft.VirtualMachineImages {}", aibc::azure::api::IMAGE_TEMPLATES)), "{v}");
}

fn bad_spec(tag: &str) -> PathBuf {
    let dir = repo().join("target/tmp").join(format!("cli-conv-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("bad.yaml");
    std::fs::write(
        &p,
        "name: web\nos: linux\nlocation: westeurope\nsource:\n  platform: Canonical:ubuntu-24_04-lts:server:latest\nbuild:\n  vmSzie: Standard_D4s_v5\ndistribute:\n  - vhd: {}\n",
    )
    .unwrap();
    p
}

#[test]
fn github_actions_gets_located_annotations() {
    let spec = bad_spec("gha");
    let o = aibc(&["validate", spec.to_str().unwrap()], &[("GITHUB_ACTIONS", "true")]);
    assert_eq!(o.status.code(), Some(2));
    let out = text(&o.stdout);
    let line = out.lines().find(|l| l.contains("title=AIB003")).unwrap_or_else(|| panic!("no annotation: {out}"));
    assert!(line.starts_with("::error file="), "{line}");
    assert!(line.contains(",line=7,col=3,"), "{line}");
    assert!(line.contains("vmSzie"), "{line}");
    // Not under GitHub Actions: nothing on standard output.
    let o = aibc(&["validate", spec.to_str().unwrap()], &[]);
    assert_eq!(text(&o.stdout), "");
}

#[test]
fn sarif_names_rules_and_places() {
    let spec = bad_spec("sarif");
    let o = aibc(&["validate", spec.to_str().unwrap(), "--format", "sarif"], &[]);
    assert_eq!(o.status.code(), Some(2));
    let log: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(log["version"], "2.1.0");
    let run = &log["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "aibc");
    let r = run["results"].as_array().unwrap().iter().find(|r| r["ruleId"] == "AIB003").expect("AIB003 result");
    assert_eq!(r["level"], "error");
    assert_eq!(r["locations"][0]["physicalLocation"]["region"]["startLine"], 7);
}

#[test]
fn deletions_are_refused_without_a_terminal_and_yes() {
    for cmd in ["prune", "clean"] {
        let mut args = vec![cmd, "examples/ubuntu-2404-apt/image.yaml", "-g", "rg-x"];
        if cmd == "prune" {
            args.extend(["--keep", "2"]);
        }
        let o = aibc(&args, &[]);
        assert_eq!(o.status.code(), Some(10), "{cmd}: {}", text(&o.stderr));
        let err = text(&o.stderr);
        assert!(err.contains("not confirmed") && err.contains("--yes"), "{cmd}: {err}");
        assert!(!err.contains("signed in"), "{cmd}: it reached Azure before asking");
    }
}

#[test]
fn the_resource_group_comes_from_az_config_or_is_asked_for() {
    let o = aibc(&["prune", "examples/ubuntu-2404-apt/image.yaml", "--keep", "2"], &[]);
    assert_eq!(o.status.code(), Some(64));
    assert!(text(&o.stderr).contains("az config set defaults.group"), "{}", text(&o.stderr));
    let dir = repo().join("target/tmp").join(format!("az-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("config"), "[defaults]\ngroup = rg-from-az-config\n").unwrap();
    let o = aibc(
        &["prune", "examples/ubuntu-2404-apt/image.yaml", "--keep", "2"],
        &[("AZURE_CONFIG_DIR", dir.to_str().unwrap())],
    );
    assert_eq!(o.status.code(), Some(10));
    assert!(text(&o.stderr).contains("rg-from-az-config"), "{}", text(&o.stderr));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_output_flag_does_not_clash_with_folder_flags() {
    let o = aibc(&["compile", "examples/ubuntu-2404-apt/image.yaml", "-o", "out"], &[]);
    assert_eq!(o.status.code(), Some(64), "`-o` is the output format, not the folder");
    assert!(text(&o.stderr).contains("invalid value 'out'"), "{}", text(&o.stderr));
}
