//! Malformed or unimportable input: every case is refused with an error at the place a
//! person would fix, printed as `file:line:col` like aibc's own diagnostics.

use std::path::Path;

use aibc::import::{self, Failure, Kind};

/// Imports `text` as `name`; returns `CODE line:col` of each error and the rendering.
fn errors(kind: Kind, name: &str, text: &str) -> (Vec<String>, String) {
    match import::import_text(kind, Path::new(name), text.to_string(), Path::new("image.yaml")) {
        Ok(i) => panic!("{name} imported:\n{}", i.yaml),
        Err(Failure::Io(e)) => panic!("{name}: {e}"),
        Err(Failure::Invalid { sources, findings }) => {
            let rendered: Vec<String> = findings.iter().map(|f| f.render(&sources, false)).collect();
            let errors = findings
                .iter()
                .filter(|f| f.is_error())
                .map(|f| format!("{} {}:{}", f.code.id(), f.span.start.line, f.span.start.col))
                .collect();
            (errors, rendered.join("\n"))
        }
    }
}

fn assert_errors(kind: Kind, name: &str, text: &str, want: &[&str]) {
    let (got, rendered) = errors(kind, name, text);
    assert_eq!(got, want, "{name}:\n{rendered}");
    // Every error prints its place as `file:line:col`.
    for w in want {
        let pos = w.split_once(' ').unwrap().1;
        assert!(rendered.contains(&format!("--> {name}:{pos}")), "{name}: no `{name}:{pos}` in\n{rendered}");
    }
}

const ARM_HEAD: &str =
    "{\n  \"resources\": [\n    {\n      \"type\": \"Microsoft.VirtualMachineImages/imageTemplates\",\n";

#[test]
fn json_syntax_errors() {
    assert_errors(Kind::Arm, "t.json", "{\n  \"a\": 1\n  \"b\": 2\n}\n", &["AIB001 3:6"]);
    assert_errors(Kind::Arm, "t.json", "", &["AIB001 1:1"]);
    assert_errors(Kind::Packer, "p.json", "{\n  \"builders\": [\n", &["AIB001 2:16"]);
}

#[test]
fn arm_expressions_are_parsed_and_located() {
    let text = format!(
        "{ARM_HEAD}      \"properties\": {{\n        \"source\": {{ \"type\": \"PlatformImage\", \"publisher\": \"[concat('a', ]\" }}\n      }}\n    }}\n  ]\n}}\n"
    );
    // The column of the `]` the parser did not expect, inside the string.
    assert_errors(Kind::Arm, "t.json", &text, &["AIB705 6:73"]);
}

#[test]
fn inputs_that_are_not_image_templates() {
    assert_errors(Kind::Arm, "t.json", "[1, 2]\n", &["AIB705 1:1"]);
    assert_errors(Kind::Arm, "t.json", "{\n  \"resources\": []\n}\n", &["AIB705 1:1"]);
    let no_source = format!("{ARM_HEAD}      \"properties\": {{ \"distribute\": [] }}\n    }}\n  ]\n}}\n");
    assert_errors(Kind::Arm, "t.json", &no_source, &["AIB705 1:1"]);
    let bad_source = format!(
        "{ARM_HEAD}      \"properties\": {{\n        \"source\": {{ \"type\": \"ISO\" }},\n        \"distribute\": [{{ \"type\": \"VHD\", \"runOutputName\": \"x\" }}]\n      }}\n    }}\n  ]\n}}\n"
    );
    assert_errors(Kind::Arm, "t.json", &bad_source, &["AIB710 6:29"]);
}

#[test]
fn packer_json_errors() {
    assert_errors(
        Kind::Packer,
        "p.json",
        "{\n  \"builders\": [\n    { \"type\": \"amazon-ebs\" }\n  ]\n}\n",
        &["AIB705 2:15"],
    );
    assert_errors(
        Kind::Packer,
        "p.json",
        "{\n  \"builders\": [\n    { \"type\": \"azure-arm\", \"managed_image_name\": \"img-{{user `x`\" }\n  ]\n}\n",
        &["AIB705 3:55"],
    );
}

#[test]
fn hcl_errors() {
    assert_errors(Kind::Packer, "t.pkr.hcl", "source \"azure-arm\" \"x\" {\n  vm_size = \n}\n", &["AIB001 2:13"]);
    assert_errors(Kind::Packer, "t.pkr.hcl", "source \"azure-arm\" \"x\" {\n  a = \"é\\q\"\n}\n", &["AIB001 2:11"]);
    assert_errors(Kind::Packer, "t.pkr.hcl", &format!("x = {}1", "[".repeat(100)), &["AIB001 1:69"]);
    assert_errors(
        Kind::Packer,
        "t.pkr.hcl",
        "source \"amazon-ebs\" \"a\" {}\nbuild {\n  sources = [\"source.amazon-ebs.a\"]\n}\n",
        &["AIB705 1:1"],
    );
}

#[test]
fn unreadable_files_are_reported_as_such() {
    let dir = std::env::temp_dir().join(format!("aibc-import-errors-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("latin1.json");
    std::fs::write(&bad, b"{\"a\": \"caf\xe9\"}").unwrap();
    match import::import(Kind::Arm, &bad, Path::new("image.yaml")) {
        Err(Failure::Io(e)) => assert!(e.contains("not UTF-8"), "{e}"),
        other => panic!("{other:?}"),
    }
    match import::import(Kind::Packer, &dir, Path::new("image.yaml")) {
        Err(Failure::Io(e)) => assert!(e.contains("no .pkr.hcl files"), "{e}"),
        other => panic!("{other:?}"),
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn required_parts_from_parameters_without_values() {
    // Module-style: the distributions are a parameter with no value and no default.
    let text = "{\n  \"parameters\": {\n    \"dists\": { \"type\": \"array\" }\n  },\n  \"resources\": [\n    {\n      \"type\": \"Microsoft.VirtualMachineImages/imageTemplates\",\n      \"properties\": {\n        \"source\": { \"type\": \"PlatformImage\", \"publisher\": \"Canonical\", \"offer\": \"ubuntu-24_04-lts\", \"sku\": \"server\" },\n        \"distribute\": \"[parameters('dists')]\"\n      }\n    }\n  ]\n}\n";
    let (got, rendered) = errors(Kind::Arm, "m.json", text);
    assert!(got.contains(&"AIB711 10:23".to_string()), "{got:?}\n{rendered}");
    assert!(
        rendered.contains("`distribute` comes from `dists`") && rendered.contains("--parameters FILE"),
        "{rendered}"
    );
    // A Packer source image from a variable left empty: a stand-in cannot be a platform
    // image, so it is a gap, and the source still imports with what is known.
    let hcl = "variable \"sku\" {\n  default = \"\"\n}\nsource \"azure-arm\" \"x\" {\n  image_publisher = \"Canonical\"\n  image_offer = \"ubuntu-24_04-lts\"\n  image_sku = var.sku\n  location = \"eastus\"\n  managed_image_name = \"x\"\n  managed_image_resource_group_name = \"rg\"\n}\n";
    let imported = import::import_text(Kind::Packer, Path::new("e.pkr.hcl"), hcl.to_string(), Path::new("image.yaml"))
        .unwrap_or_else(|_| panic!("not imported"));
    assert!(imported.yaml.contains("${params.sku}"), "{}", imported.yaml);
    assert!(imported.findings.iter().any(|f| f.code.id() == "AIB708"));
}

#[test]
fn unbuildable_sources_say_what_to_do() {
    let hcl = "source \"azure-arm\" \"x\" {\n  os_type = \"Linux\"\n  image_url = \"https://a.blob.core.windows.net/v/x.vhd\"\n  managed_image_name = \"x\"\n  managed_image_resource_group_name = \"rg\"\n}\n";
    let (got, rendered) = errors(Kind::Packer, "v.pkr.hcl", hcl);
    assert_eq!(got, ["AIB710 3:3"], "{rendered}");
    assert!(rendered.contains("managed image") && rendered.contains("gallery image version"), "{rendered}");
}
