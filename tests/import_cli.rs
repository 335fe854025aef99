//! `aibc import` as users run it: where the spec and the report go, exit codes, and a
//! written spec that `aibc compile` takes as it is, wherever it was written.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn aibc(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_aibc")).args(args).current_dir(cwd).env("NO_COLOR", "1").output().unwrap()
}

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

struct TempDir(PathBuf);
impl TempDir {
    fn new(tag: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!("aibc-import-cli-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn check_writes_the_spec_and_prints_the_comparison() {
    let t = TempDir::new("check");
    let out = t.0.join("specs/avd.yaml");
    let o = aibc(
        &["import", "arm", "tests/import/arm/bare-resource-avd.json", "--check", "--out", out.to_str().unwrap()],
        repo(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let stdout = text(&o.stdout);
    for part in ["source", "customize", "distribute", "vmProfile"] {
        assert!(stdout.lines().any(|l| l.trim_start().starts_with(part) && l.contains("same")), "{part}: {stdout}");
    }
    assert!(stdout.ends_with("result: same\n"), "{stdout}");
    let spec = std::fs::read_to_string(&out).unwrap();
    assert!(spec.starts_with("# Imported from tests/import/arm/bare-resource-avd.json"), "{spec}");
    // The written spec validates on its own.
    let v = aibc(&["validate", out.to_str().unwrap()], repo());
    assert_eq!(v.status.code(), Some(0), "{}", text(&v.stderr));
}

#[test]
fn without_out_the_spec_goes_to_stdout_and_everything_else_to_stderr() {
    let o = aibc(&["import", "packer", "tests/import/packer/ubuntu-2204.pkr.hcl", "--check"], repo());
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let stdout = text(&o.stdout);
    assert!(stdout.starts_with("# Imported from tests/import/packer/ubuntu-2204.pkr.hcl"), "{stdout}");
    assert!(!stdout.contains("round trip"), "{stdout}");
    let stderr = text(&o.stderr);
    assert!(stderr.contains("warning[AIB701]: the `breakpoint` provisioner has no AIB counterpart"), "{stderr}");
    assert!(stderr.contains("--> tests/import/packer/ubuntu-2204.pkr.hcl:75:15"), "{stderr}");
    assert!(stderr.contains("result: same"), "{stderr}");
}

#[test]
fn a_spec_written_elsewhere_finds_the_templates_local_files() {
    let t = TempDir::new("paths");
    let spec = t.0.join("deep/er/image.yaml");
    let o = aibc(&["import", "packer", "tests/import/packer/split-windows", "--out", spec.to_str().unwrap()], repo());
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    // Compiled from another directory: the scripts are found relative to the spec.
    let c = aibc(&["compile", spec.to_str().unwrap(), "--format", "arm", "--out", "arm"], &t.0);
    assert_eq!(c.status.code(), Some(0), "{}", text(&c.stderr));
    let arm = std::fs::read_to_string(t.0.join("arm/azuredeploy.json")).unwrap();
    assert!(arm.contains("iis.ps1") && arm.contains("app-pool.ps1"));
}

#[test]
fn malformed_input_is_refused_with_its_place() {
    let t = TempDir::new("bad");
    std::fs::write(t.0.join("bad.pkr.hcl"), "source \"azure-arm\" \"x\" {\n  vm_size = \n}\n").unwrap();
    let o = aibc(&["import", "packer", "bad.pkr.hcl"], &t.0);
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty());
    let stderr = text(&o.stderr);
    assert!(stderr.contains("error[AIB001]: this is not valid HCL"), "{stderr}");
    assert!(stderr.contains("--> bad.pkr.hcl:2:13"), "{stderr}");
    assert!(stderr.contains("bad.pkr.hcl: not imported (1 error)"), "{stderr}");

    let o = aibc(&["import", "arm", "missing.json"], &t.0);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("cannot read missing.json"));
}
