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
    // Files beside the template are outside the spec's folder: `--root` names their folder.
    let stderr = text(&o.stderr);
    assert!(stderr.contains("--root tests/import/packer/split-windows"), "{stderr}");
    let root = repo().join("tests/import/packer/split-windows");
    let c = aibc(&["compile", spec.to_str().unwrap(), "--format", "arm", "--out", "arm"], &t.0);
    assert_eq!(c.status.code(), Some(2), "without --root: {}", text(&c.stderr));
    assert!(text(&c.stderr).contains("error[AIB801]"));
    let c = aibc(
        &["compile", spec.to_str().unwrap(), "--format", "arm", "--out", "arm", "--root", root.to_str().unwrap()],
        &t.0,
    );
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

#[test]
fn parts_that_cannot_be_imported_are_todos_and_exit_8() {
    let t = TempDir::new("gaps");
    let out = t.0.join("partial.yaml");
    let o =
        aibc(&["import", "arm", "tests/import/arm/partial-broken-steps.json", "--out", out.to_str().unwrap()], repo());
    assert_eq!(o.status.code(), Some(8), "{}", text(&o.stderr));
    let stderr = text(&o.stderr);
    assert!(stderr.contains("warning[AIB709]: a customizer without `type` is left out"), "{stderr}");
    assert!(stderr.contains("5 parts could not be imported"), "{stderr}");
    let spec = std::fs::read_to_string(&out).unwrap();
    // Each gap is a comment where the part belongs: between the steps it sat between.
    let packages = spec.find("name: packages").unwrap();
    let todo = spec.find("# TODO(aibc import): a customizer without `type` is left out").unwrap();
    let enable = spec.find("name: enable").unwrap();
    assert!(packages < todo && todo < enable, "{spec}");
    assert!(spec.contains("(tests/import/arm/partial-broken-steps.json:15:11)"), "{spec}");
    assert_eq!(spec.matches("# TODO(aibc import):").count(), 5, "{spec}");
    // What could be imported validates as it is.
    let v = aibc(&["validate", out.to_str().unwrap()], repo());
    assert_eq!(v.status.code(), Some(0), "{}", text(&v.stderr));
    // `--check` still compares, and keeps the gaps' exit code when the rest is the same.
    let c = aibc(
        &["import", "arm", "tests/import/arm/partial-broken-steps.json", "--check", "--out", out.to_str().unwrap()],
        repo(),
    );
    assert_eq!(c.status.code(), Some(8), "{}", text(&c.stderr));
    assert!(text(&c.stdout).ends_with("result: same\n"));
}

#[test]
fn a_quickstart_is_finished_by_hand_instead_of_started_over() {
    let t = TempDir::new("finish");
    let out = t.0.join("win.yaml");
    let o =
        aibc(&["import", "arm", "tests/import/arm/qs-win-placeholders.json", "--out", out.to_str().unwrap()], repo());
    assert_eq!(o.status.code(), Some(8), "{}", text(&o.stderr));
    let spec = std::fs::read_to_string(&out).unwrap();
    // The placeholders that a parameter can hold are parameters, named after them.
    for p in ["imageName", "region", "runOutputName"] {
        assert!(spec.contains(&format!("${{params.{p}}}")), "{p}: {spec}");
    }
    // What the user does: write the values the TODOs ask for, and drop the comments.
    let finished: String = spec
        .replace("https://example.invalid/scriptUrl", "https://contoso.example/scripts/build.ps1")
        .replace("https://example.invalid/fileUrl", "https://contoso.example/files/index.html")
        .replace("resourceGroup: rgName", "resourceGroup: rg-images")
        .lines()
        .filter(|l| !l.trim_start().starts_with("# TODO(aibc import)"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(!finished.contains("example.invalid"));
    std::fs::write(&out, &finished).unwrap();
    let v = aibc(&["validate", out.to_str().unwrap()], repo());
    assert_eq!(v.status.code(), Some(0), "{}", text(&v.stderr));
    let c = aibc(&["compile", out.to_str().unwrap(), "--format", "arm", "--out", "arm"], &t.0);
    assert_eq!(c.status.code(), Some(0), "{}", text(&c.stderr));
    let arm = std::fs::read_to_string(t.0.join("arm/azuredeploy.json")).unwrap();
    assert!(arm.contains("https://contoso.example/scripts/build.ps1") && arm.contains("rg-images"), "{arm}");
}

#[test]
fn packer_variables_are_given_as_packer_build_takes_them() {
    let t = TempDir::new("vars");
    let out = t.0.join("image.yaml");
    let o = |args: &[&str]| {
        let mut all =
            vec!["import", "packer", "tests/import/packer/empty-defaults-vnet.pkr.hcl", "--out", out.to_str().unwrap()];
        all.extend_from_slice(args);
        let o = aibc(&all, repo());
        (o.status.code(), text(&o.stderr), std::fs::read_to_string(&out).unwrap_or_default())
    };
    // Without values, the empty variables are gaps and a required parameter, never "".
    let (code, stderr, spec) = o(&[]);
    assert_eq!(code, Some(8), "{stderr}");
    assert!(!spec.contains("virtualNetworks//") && !spec.contains("subnets/\n"), "{spec}");
    assert!(spec.contains("import again with `-var virtual_network_resource_group_name=VALUE"), "{spec}");
    assert!(stderr.contains("warning[AIB708]: `image_version` is left empty in the template"), "{stderr}");
    // `-var` as Packer writes it (one dash), and `--var`.
    let (code, stderr, spec) = o(&[
        "-var",
        "virtual_network_name=vnet-build",
        "--var",
        "virtual_network_subnet_name=snet-packer",
        "-var=virtual_network_resource_group_name=rg-network",
        "-var",
        "image_version=9.4.1",
    ]);
    assert_eq!(code, Some(8), "{stderr}");
    assert!(
        spec.contains(
            "/resourceGroups/rg-network/providers/Microsoft.Network/virtualNetworks/vnet-build/subnets/snet-packer"
        ),
        "{spec}"
    );
    assert!(spec.contains("default: '9.4.1'"), "{spec}");
    // `-var-file`, HCL2.
    let o = aibc(
        &[
            "import",
            "packer",
            "tests/import/packer/vars-file-ubuntu.pkr.hcl",
            "-var-file",
            "tests/import/packer/vars-file-ubuntu.pkrvars.hcl",
            "--out",
            out.to_str().unwrap(),
        ],
        repo(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let spec = std::fs::read_to_string(&out).unwrap();
    assert!(spec.contains("default: westeurope") && spec.contains("resourceGroup: rg-ubuntu-images"), "{spec}");
    // `-var-file`, JSON, for a JSON template.
    let o = aibc(
        &[
            "import",
            "packer",
            "tests/import/packer/json-var-file.json",
            "-var-file=tests/import/packer/json-var-file.vars.json",
            "--out",
            out.to_str().unwrap(),
        ],
        repo(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let spec = std::fs::read_to_string(&out).unwrap();
    assert!(spec.contains("location: koreacentral") || spec.contains("default: koreacentral"), "{spec}");
}

#[test]
fn arm_parameters_files_give_module_templates_their_content() {
    let t = TempDir::new("params");
    let out = t.0.join("image.yaml");
    for (template, values, expect) in [
        (
            "module-source-param.json",
            "module-source-param.parameters.json",
            "platform: Canonical:0001-com-ubuntu-server-jammy",
        ),
        ("module-bicepparam.json", "module-bicepparam.bicepparam", "Install-WindowsFeature -Name Web-Server"),
    ] {
        let o = aibc(
            &[
                "import",
                "arm",
                &format!("tests/import/arm/{template}"),
                "--parameters",
                &format!("tests/import/arm/{values}"),
                "--check",
                "--out",
                out.to_str().unwrap(),
            ],
            repo(),
        );
        assert_eq!(o.status.code(), Some(0), "{template}: {}", text(&o.stderr));
        assert!(std::fs::read_to_string(&out).unwrap().contains(expect), "{template}");
    }
    // Without one, a required part that comes from a parameter is a located error
    // naming what to pass.
    let o = aibc(&["import", "arm", "tests/import/arm/module-source-param.json"], repo());
    assert_eq!(o.status.code(), Some(2));
    let stderr = text(&o.stderr);
    assert!(
        stderr.contains("error[AIB711]: `source` comes from `imageSource`, which has no value when importing"),
        "{stderr}"
    );
    assert!(stderr.contains("--> tests/import/arm/module-source-param.json:25:19"), "{stderr}");
    assert!(stderr.contains("--parameters FILE"), "{stderr}");
    assert!(o.stdout.is_empty());
}

#[test]
fn values_that_cannot_be_used_are_refused_where_they_are() {
    let t = TempDir::new("badvalues");
    std::fs::write(t.0.join("p.json"), "{\n  \"parameters\": {\n    \"imageSourse\": { \"value\": {} }\n  }\n}\n")
        .unwrap();
    std::fs::write(t.0.join("p.bicepparam"), "using 'main.bicep'\nparam imageTemplateName = 'x-${y}'\n").unwrap();
    let template = repo().join("tests/import/arm/module-source-param.json");
    let o = aibc(&["import", "arm", template.to_str().unwrap(), "--parameters", "p.json"], &t.0);
    assert_eq!(o.status.code(), Some(2));
    let stderr = text(&o.stderr);
    assert!(stderr.contains("error[AIB712]: the template declares no parameter `imageSourse`"), "{stderr}");
    assert!(stderr.contains("--> p.json:3:5") && stderr.contains("did you mean `imageSource`?"), "{stderr}");
    let o = aibc(&["import", "arm", template.to_str().unwrap(), "--parameters", "p.bicepparam"], &t.0);
    assert_eq!(o.status.code(), Some(2));
    let stderr = text(&o.stderr);
    assert!(stderr.contains("error[AIB712]") && stderr.contains("--> p.bicepparam:2:27"), "{stderr}");
    let o = aibc(&["import", "arm", template.to_str().unwrap(), "--parameters", "missing.json"], &t.0);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("cannot read missing.json"), "{}", text(&o.stderr));
    // Each tool's way of giving values, and only that one.
    let o = aibc(&["import", "arm", template.to_str().unwrap(), "-var", "a=b"], &t.0);
    assert_eq!(o.status.code(), Some(64));
    assert!(text(&o.stderr).contains("an ARM template takes `--parameters FILE`"));
    let o = aibc(&["import", "packer", "tests/import/packer/empty-defaults-vnet.pkr.hcl", "-var", "vnet=x"], repo());
    assert_eq!(o.status.code(), Some(2));
    let stderr = text(&o.stderr);
    assert!(
        stderr.contains("error[AIB712]: the template declares no variable `vnet`") && stderr.contains("--> -var:1:1"),
        "{stderr}"
    );
}

#[test]
fn a_vhd_source_is_a_located_error_that_says_what_to_do() {
    let t = TempDir::new("vhd");
    let dir = t.0.join("split");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("locals.pkr.hcl"), "locals {\n  name = \"from-vhd\"\n}\n").unwrap();
    std::fs::write(
        dir.join("sources.pkr.hcl"),
        "source \"azure-arm\" \"vhd\" {\n  os_type   = \"Linux\"\n  image_url = \"https://acct.blob.core.windows.net/vhds/base.vhd\"\n  location  = \"eastus\"\n  managed_image_name = local.name\n  managed_image_resource_group_name = \"rg\"\n}\n\nbuild {\n  sources = [\"source.azure-arm.vhd\"]\n}\n",
    )
    .unwrap();
    let o = aibc(&["import", "packer", "split"], &t.0);
    assert_eq!(o.status.code(), Some(2));
    let stderr = text(&o.stderr);
    assert!(
        stderr.contains("error[AIB710]: AIB builds from platform, gallery or managed images, not from a VHD URL"),
        "{stderr}"
    );
    // In the file that holds it, not the folder's first file.
    assert!(stderr.contains("--> split/sources.pkr.hcl:3:3"), "{stderr}");
    assert!(stderr.contains("az image create"), "{stderr}");
}

#[test]
fn os_is_inferred_from_winrm_and_windows_images_and_set_by_os() {
    let t = TempDir::new("os");
    let out = t.0.join("image.yaml");
    let os_of = |args: &[&str]| {
        let mut all = vec!["import"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--out", out.to_str().unwrap()]);
        let o = aibc(&all, repo());
        assert!(matches!(o.status.code(), Some(0 | 8)), "{args:?}: {}", text(&o.stderr));
        let spec = std::fs::read_to_string(&out).unwrap();
        (spec.lines().find(|l| l.starts_with("os: ")).unwrap_or_default().to_string(), text(&o.stderr))
    };
    assert_eq!(os_of(&["packer", "tests/import/packer/winrm-no-ostype.pkr.hcl"]).0, "os: windows");
    assert_eq!(os_of(&["packer", "tests/import/packer/windows-image-no-ostype.pkr.hcl"]).0, "os: windows");
    assert_eq!(os_of(&["arm", "tests/import/arm/windows-gallery-inferred.json"]).0, "os: windows");
    let (os, stderr) = os_of(&["packer", "tests/import/packer/os-override-ambiguous.pkr.hcl"]);
    assert_eq!(os, "os: linux");
    assert!(stderr.contains("warning[AIB707]") && stderr.contains("--os windows"), "{stderr}");
    // The guess points at the source it is about.
    assert!(stderr.contains("--> tests/import/packer/os-override-ambiguous.pkr.hcl:1:1"), "{stderr}");
    let (os, stderr) = os_of(&["packer", "tests/import/packer/os-override-ambiguous.pkr.hcl", "--os", "windows"]);
    assert_eq!(os, "os: windows");
    assert!(!stderr.contains("AIB707"), "{stderr}");
}

#[test]
fn every_import_code_is_explained_and_documented() {
    let docs = std::fs::read_to_string(repo().join("docs/diagnostics.md")).unwrap();
    let list = text(&aibc(&["explain"], repo()).stdout);
    for code in aibc::import::ImportCode::ALL.iter().skip(1) {
        let id = code.id();
        let o = aibc(&["explain", id], repo());
        assert_eq!(o.status.code(), Some(0), "{id}");
        assert_eq!(text(&o.stdout), format!("{id}: {}\n{}\n", code.title(), code.what_to_do()));
        assert!(list.lines().any(|l| l.starts_with(id)), "{id} is not listed");
        assert!(docs.contains(&format!("| {id} |")), "{id} is not in docs/diagnostics.md");
    }
    // One meaning each: no two import codes share a title.
    let mut titles: Vec<&str> = aibc::import::ImportCode::ALL.iter().map(|c| c.title()).collect();
    titles.sort();
    titles.dedup();
    assert_eq!(titles.len(), aibc::import::ImportCode::ALL.len());
}
