//! The round-trip comparison is not vacuous: a spec that was changed after importing
//! compiles to an image template the comparison tells apart from the original, at the
//! place of the change; and the changes the import made on purpose are listed, not hidden.

use std::path::Path;

use aibc::compiler;
use aibc::document;
use aibc::import::{self, Imported, Kind};
use aibc::loader::Format;

fn imported(kind: Kind, case: &str, name: &str) -> Imported {
    let spec = Path::new("tests/import/expected").join(match kind {
        Kind::Arm => "arm",
        Kind::Packer => "packer",
    });
    import::import(kind, Path::new(case), &spec.join(format!("{name}.yaml"))).unwrap_or_else(|e| panic!("{e:?}"))
}

/// The comparison of the original with the spec after `edit`: the paths that differ.
fn differences(i: &Imported, kind: Kind, edit: impl Fn(&str) -> String) -> Vec<String> {
    let dir = match kind {
        Kind::Arm => "arm",
        Kind::Packer => "packer",
    };
    let text = edit(&i.yaml);
    assert_ne!(text, i.yaml, "the edit changed nothing");
    let mut doc =
        document::load_str(&Path::new("tests/import/expected").join(dir).join("edited.yaml"), text, Format::Yaml);
    // Local scripts stay beside the templates, outside the spec's folder: their folder is a
    // root named on the command line (`--root`, ADR 16).
    let root = Path::new("tests/import").join(dir);
    compiler::check_with(&mut doc, &compiler::Options { library: None, root: Some(root) });
    assert!(!doc.has_errors(), "{:?}", doc.diags);
    let report = import::round_trip(i, &doc).unwrap();
    assert!(!report.is_same(), "{}", report.render());
    report.sections.iter().flat_map(|s| s.diffs.iter().map(|d| d.path.clone())).collect()
}

#[test]
fn a_changed_script_line_is_found() {
    let i = imported(Kind::Arm, "tests/import/arm/windows-sig-params.json", "windows-sig-params");
    let d = differences(&i, Kind::Arm, |y| y.replace("Set-Service W3SVC -StartupType Automatic", "Set-Service W3SVC"));
    assert_eq!(d, vec!["customize[0].inline[1]"]);
}

#[test]
fn reordered_steps_are_found() {
    let i = imported(Kind::Arm, "tests/import/arm/managed-source-restart.json", "managed-source-restart");
    // The first step moved after the second.
    let d = differences(&i, Kind::Arm, |y| {
        let first = "  - type: PowerShell\n    name: sqlPrereqs\n    script: https://artifacts.contoso.example/sql/prereqs.ps1\n    runElevated: true\n";
        assert!(y.contains(first), "{y}");
        y.replace(first, "").replacen(
            "  - type: PowerShell\n    name: sqlInstall",
            &format!("{first}  - type: PowerShell\n    name: sqlInstall"),
            1,
        )
    });
    assert!(
        d.iter().any(|p| p.starts_with("customize[0]")) && d.iter().any(|p| p.starts_with("customize[1]")),
        "{d:?}"
    );
    assert!(!d.iter().any(|p| p.starts_with("customize[2]")), "{d:?}");
}

#[test]
fn distribution_and_vm_changes_are_found() {
    let i = imported(Kind::Arm, "tests/import/arm/bare-resource-avd.json", "bare-resource-avd");
    let d = differences(&i, Kind::Arm, |y| {
        y.replace("replicas: 2", "replicas: 3").replace("vmSize: Standard_D8s_v5", "vmSize: Standard_D4s_v5")
    });
    assert_eq!(d, vec!["distribute[0].targetregions[0].replicacount", "vmProfile.vmsize"]);
}

#[test]
fn source_changes_are_found() {
    let i = imported(Kind::Packer, "tests/import/packer/ubuntu-2204.pkr.hcl", "ubuntu-2204");
    let d = differences(&i, Kind::Packer, |y| y.replace("22_04-lts-gen2", "22_04-lts"));
    assert_eq!(d, vec!["source.sku"]);
}

#[test]
fn a_local_file_is_compared_by_name() {
    let i = imported(Kind::Packer, "tests/import/packer/windows-custom-image.json", "windows-custom-image");
    let d = differences(&i, Kind::Packer, |y| y.replacen("scripts/setup.ps1", "scripts/install-agent.ps1", 1));
    assert_eq!(d, vec!["customize[0].scripturi"]);
}

#[test]
fn what_the_import_changed_is_listed() {
    let i = imported(Kind::Arm, "tests/import/arm/quickstart-linux-placeholders.json", "quickstart-linux-placeholders");
    let doc = import::check_spec(&i, Path::new("tests/import/expected/arm/quickstart-linux-placeholders.yaml"));
    let report = import::round_trip(&i, &doc).unwrap();
    assert!(report.is_same(), "{}", report.render());
    let changed: Vec<&str> = report.changes.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(changed, vec!["/distribute/0/imageId", "/distribute/0/location", "/distribute/0/runOutputName"]);
    let text = report.render();
    assert!(text.contains("the placeholder `<region>` becomes the required parameter `region`"), "{text}");
    assert!(text.contains("result: same"));

    // A part left out is listed too, and not compared.
    let i = imported(Kind::Arm, "tests/import/arm/unsupported-parts.json", "unsupported-parts");
    let doc = import::check_spec(&i, Path::new("tests/import/expected/arm/unsupported-parts.yaml"));
    let report = import::round_trip(&i, &doc).unwrap();
    assert!(report.is_same(), "{}", report.render());
    assert!(
        report.changes.iter().any(|(p, why)| p == "/customize/1" && why.contains("`Chef`")),
        "{:?}",
        report.changes
    );
    assert_eq!(report.section("customize").and_then(|s| s.count), Some(2));
}

#[test]
fn api_bodies_are_taken_as_they_are() {
    // An API body is not a template: `[…]` is text there, and stays text.
    let body = r#"{
  "location": "westus2",
  "properties": {
    "source": { "type": "PlatformImage", "publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server" },
    "customize": [ { "type": "Shell", "name": "brackets", "inline": ["[ -f /etc/os-release ] && echo ok"] } ],
    "vmProfile": { "vmSize": "[parameters('size')]" },
    "distribute": [ { "type": "VHD", "runOutputName": "vhd" } ]
  }
}
"#;
    let spec = Path::new("tests/import/expected/arm/body.yaml");
    let i = import::import_text(Kind::Arm, Path::new("body.json"), body.to_string(), spec).unwrap();
    let found: Vec<String> =
        i.findings.iter().map(|f| format!("{} {}:{}", f.code.id(), f.span.start.line, f.span.start.col)).collect();
    assert_eq!(found, vec!["AIB706 6:30"]);
    assert_eq!(i.spec.build.as_ref().and_then(|b| b.vm_size.as_deref()), Some("[parameters('size')]"));
    let doc = import::check_spec(&i, spec);
    let report = import::round_trip(&i, &doc).unwrap();
    assert!(report.is_same(), "{}", report.render());
}
