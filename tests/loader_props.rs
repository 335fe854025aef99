//! The loader and checker never panic, whatever the input: arbitrary bytes, arbitrary
//! text, mutated valid specs, deep nesting, huge numbers.
//!
//! Besides "no panic", every property checks invariants that hold for any input:
//! - rendering every diagnostic works;
//! - a document without errors has at least one image and every image is typed, and it
//!   plans and emits (Bicep and ARM) without panicking.
//!
//! Where diagnostics point (a line that exists, a column on it) is checked by properties
//! of its own, so that a misplaced diagnostic cannot stop the no-panic properties early.
//!
//! Case counts are kept moderate so the file runs in well under 20 s in a debug build.
//! Failures are not persisted (no `proptest-regressions/` files are written).

use std::path::{Path, PathBuf};

use aibc::compiler::{self, Target};
use aibc::diagnostic::render;
use aibc::document::{self, Document};
use aibc::loader::Format;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, RngSeed};

/// `AIBC_PROPTEST_SCALE=20 cargo test --test loader_props` runs 20 times the cases,
/// for a deeper search than the default quick run.
fn config(cases: u32) -> Config {
    let scale: u32 = std::env::var("AIBC_PROPTEST_SCALE").ok().and_then(|s| s.parse().ok()).unwrap_or(1);
    let defaults = Config::default();
    // Reproducible by default. `PROPTEST_RNG_SEED=<u64>` picks another seed, and any
    // other value (`random`) a fresh one each run.
    let rng_seed =
        if std::env::var_os("PROPTEST_RNG_SEED").is_some() { defaults.rng_seed } else { RngSeed::Fixed(0xA1BC) };
    Config {
        cases: cases.saturating_mul(scale.max(1)),
        rng_seed,
        failure_persistence: None,
        max_shrink_iters: 2048,
        ..defaults
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The example, with its scripts beside it.
const EXAMPLE: &str = include_str!("../examples/ubuntu-2404-apt/image.yaml");
fn example_path() -> PathBuf {
    root().join("examples/ubuntu-2404-apt/image.yaml")
}

/// Seeds that refer to `files/…` are loaded as if they were in `tests/bad/`, where
/// those helper files exist.
fn bad_path(name: &str) -> PathBuf {
    root().join("tests/bad").join(name)
}

/// A Windows spec using most of the format (valid).
const WINDOWS: &str = r#"$schema: https://aibc.dev/schema/aibc.schema.json
name: win-web
description: Windows web server
os: windows
location: ${params.location}
tags:
  owner: web-team
  costCenter: 4711
parameters:
  location:
    type: string
    default: westeurope
    allowed: [westeurope, northeurope]
  imageVersion:
    type: string
    default: 1.0.0
  replicas:
    type: int
    default: 2
source:
  gallery:
    imageId: /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-images/providers/Microsoft.Compute/galleries/gal_base/images/win2022
    version: latest
build:
  vmSize: Standard_D4s_v5
  osDiskSizeGB: 128
  dataDisks:
    - sizeGB: 64
  timeoutMinutes: 120
  subnet:
    id: /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/vnet/subnets/build
    proxyVmSize: Standard_A2_v2
  onCustomizerError: abort
  managedResourceTags:
    purpose: build
  vmIdentities:
    - /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-id/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-kv
identity:
  name: id-win-web
storage:
  account: stwinweb01
  container: artifacts
gallery:
  name: gal_platform
  description: Platform images
  image:
    name: win-web
    publisher: contoso
    offer: windows-server
    sku: 2022-web
    hyperVGeneration: V2
    securityType: TrustedLaunchSupported
    features:
      IsAcceleratedNetworkSupported: "true"
customize:
  - type: PowerShell
    name: iis
    inline:
      - Install-WindowsFeature Web-Server
    runElevated: true
    runAsSystem: true
    validExitCodes: [0, 3010]
  - type: PowerShell
    script: https://raw.githubusercontent.com/contoso/images/main/setup.ps1
    sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
  - type: File
    source: files/motd.txt
    destination: C:\BuildArtifacts\motd.txt
  - type: WindowsRestart
    timeout: 10m
  - type: WindowsUpdate
    searchCriteria: IsInstalled=0
    filters: ["exclude:$_.Title -like '*Preview*'"]
    updateLimit: 40
validate:
  steps:
    - type: PowerShell
      inline: Get-Service W3SVC
  continueDistributeOnFailure: false
optimize:
  vmBoot: true
distribute:
  - gallery:
      regions:
        - westeurope
        - name: northeurope
          replicas: 2
          storageAccountType: Standard_ZRS
      replicas: 1
      excludeFromLatest: false
      replicationMode: Full
      version: ${params.imageVersion}
      artifactTags:
        source: aibc
        replicas: "${params.replicas}"
  - managedImage:
      name: win-web-image
      resourceGroup: rg-images
      location: westeurope
  - vhd:
      runOutputName: win-web-vhd-out
trigger:
  sourceImage: true
"#;

/// A family (valid).
const FAMILY: &str = r#"defaults:
  os: linux
  location: westeurope
  source:
    platform: Canonical:ubuntu-24_04-lts:server:latest
  gallery:
    name: gal_images
    image:
      publisher: contoso
      offer: ubuntu
      sku: base
  distribute:
    - gallery:
        version: date
images:
  - name: web
    gallery:
      image:
        sku: web
    customize:
      - type: Shell
        script: files/setup.sh
  - name: api
    gallery:
      image:
        sku: api
    build:
      vmSize: Standard_D2s_v5
"#;

/// A JSON spec (valid).
const JSON: &str = r#"{
  "name": "web",
  "os": "linux",
  "location": "westeurope",
  "source": {
    "platform": {
      "publisher": "Canonical",
      "offer": "ubuntu-24_04-lts",
      "sku": "server",
      "version": "latest"
    }
  },
  "build": {
    "vmSize": "Standard_D2s_v5",
    "osDiskSizeGB": 64,
    "timeoutMinutes": 90
  },
  "gallery": {
    "name": "gal_images",
    "image": {
      "publisher": "contoso",
      "offer": "ubuntu",
      "sku": "web"
    }
  },
  "customize": [
    {
      "type": "Shell",
      "inline": [
        "sudo apt-get update"
      ]
    },
    {
      "type": "File",
      "source": "files/motd.txt",
      "destination": "/tmp/motd.txt"
    }
  ],
  "distribute": [
    {
      "gallery": {
        "regions": [
          "westeurope",
          {
            "name": "northeurope",
            "replicas": 2
          }
        ],
        "version": "next"
      }
    },
    {
      "vhd": {}
    }
  ]
}
"#;

fn seeds() -> Vec<(PathBuf, &'static str, Format)> {
    vec![
        (example_path(), EXAMPLE, Format::Yaml),
        (bad_path("seed-windows.yaml"), WINDOWS, Format::Yaml),
        (bad_path("seed-family.yaml"), FAMILY, Format::Yaml),
        (bad_path("seed.json"), JSON, Format::Json),
    ]
}

/// Loads and checks `text` and verifies the invariants; returns a description of the
/// first broken one.
fn check_text(path: &Path, text: &str, format: Format) -> Result<(), TestCaseError> {
    invariants(&load(path, text, format))
}

fn load(path: &Path, text: &str, format: Format) -> Document {
    let mut doc = document::load_str(path, text.to_string(), format);
    compiler::check(&mut doc);
    doc
}

fn invariants(doc: &Document) -> Result<(), TestCaseError> {
    for d in &doc.diags {
        prop_assert!(doc.sources.get(d.span.file).is_some(), "{} points into no file", d.code.id());
        let _ = render(d, &doc.sources, false);
        let _ = render(d, &doc.sources, true);
    }
    if !doc.has_errors() {
        prop_assert!(!doc.images.is_empty(), "no errors, but no image either");
        for image in &doc.images {
            prop_assert!(image.spec.is_some(), "no errors, but image {:?} is untyped", image.index);
        }
        for target in [Target::Bicep, Target::Arm] {
            // May refuse (Err), must not panic.
            let _ = compiler::compile(doc, "spec.yaml", target);
        }
    }
    Ok(())
}

/// Every diagnostic starts on a line that exists in its file, at a 1-based column no
/// further than one past the line's end (so the renderer can show the line and a caret).
fn located(doc: &Document) -> Result<(), TestCaseError> {
    for d in &doc.diags {
        let (line, col) = (d.span.start.line, d.span.start.col);
        let text = doc.sources.get(d.span.file).and_then(|f| f.line(line));
        prop_assert!(line >= 1 && col >= 1, "{} at {line}:{col} is not 1-based: {}", d.code.id(), d.message);
        prop_assert!(text.is_some(), "{} at {line}:{col} is past the end of the file: {}", d.code.id(), d.message);
        let text = text.unwrap();
        let width = text.chars().count() as u32;
        prop_assert!(
            col <= width + 1,
            "{} at {line}:{col} is past the end of its line {text:?} ({width} characters): {}",
            d.code.id(),
            d.message
        );
    }
    Ok(())
}

/// Tokens that mean something to YAML (or JSON), to splice into valid specs.
const TOKENS: &[&str] = &[
    ":",
    ": ",
    " - ",
    "- ",
    "-",
    "[",
    "]",
    "{",
    "}",
    ",",
    "?",
    "? ",
    "!",
    "!!str ",
    "!!int ",
    "!foo ",
    "&a ",
    "*a",
    "&a",
    "*",
    "&",
    "|",
    "|-\n",
    ">",
    ">+\n",
    "%",
    "%YAML 1.2\n",
    "#",
    " #",
    "'",
    "\"",
    "\\",
    "\t",
    "\n",
    "\r\n",
    "  ",
    "\n  ",
    "\n  - ",
    "---\n",
    "...\n",
    "<<: ",
    "<<: *a\n",
    "~",
    "null",
    "true",
    "0x",
    "0o7",
    "1e999",
    "-1",
    ".inf",
    ".nan",
    "${params.",
    "${params.x}",
    "$${",
    "}",
    "\u{feff}",
    "\u{0}",
    "é",
    "\u{200b}",
    "🦀",
];

#[derive(Debug, Clone)]
enum Mutation {
    DeleteLine(Index),
    DuplicateLine(Index),
    SwapLines(Index, Index),
    SwapChars(Index),
    DeleteChar(Index),
    Insert(Index, String),
    Indent(Index, usize),
    Dedent(Index),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let token = prop_oneof![
        4 => proptest::sample::select(TOKENS).prop_map(str::to_string),
        1 => any::<char>().prop_map(|c| c.to_string()),
    ];
    prop_oneof![
        any::<Index>().prop_map(Mutation::DeleteLine),
        any::<Index>().prop_map(Mutation::DuplicateLine),
        (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        any::<Index>().prop_map(Mutation::SwapChars),
        any::<Index>().prop_map(Mutation::DeleteChar),
        (any::<Index>(), token).prop_map(|(i, t)| Mutation::Insert(i, t)),
        (any::<Index>(), 1..5usize).prop_map(|(i, n)| Mutation::Indent(i, n)),
        any::<Index>().prop_map(Mutation::Dedent),
    ]
}

fn apply(text: &str, m: &Mutation) -> String {
    let mut lines: Vec<String> = text.split('\n').map(str::to_string).collect();
    let mut chars: Vec<char> = text.chars().collect();
    match m {
        Mutation::DeleteLine(i) => {
            lines.remove(i.index(lines.len()));
        }
        Mutation::DuplicateLine(i) => {
            let k = i.index(lines.len());
            lines.insert(k, lines[k].clone());
        }
        Mutation::SwapLines(a, b) => {
            let (a, b) = (a.index(lines.len()), b.index(lines.len()));
            lines.swap(a, b);
        }
        Mutation::Indent(i, n) => {
            let k = i.index(lines.len());
            lines[k].insert_str(0, &" ".repeat(*n));
        }
        Mutation::Dedent(i) => {
            let k = i.index(lines.len());
            lines[k] = lines[k].trim_start().to_string();
        }
        Mutation::SwapChars(i) => {
            if chars.len() >= 2 {
                let k = i.index(chars.len() - 1);
                chars.swap(k, k + 1);
            }
            return chars.into_iter().collect();
        }
        Mutation::DeleteChar(i) => {
            if !chars.is_empty() {
                chars.remove(i.index(chars.len()));
            }
            return chars.into_iter().collect();
        }
        Mutation::Insert(i, t) => {
            let k = i.index(chars.len() + 1);
            chars.splice(k..k, t.chars());
            return chars.into_iter().collect();
        }
    }
    lines.join("\n")
}

/// Nested values in every style, deeper than the loader's limit on purpose.
fn nested(depth: usize, style: u8) -> String {
    match style % 5 {
        0 => format!("{}x{}", "[".repeat(depth), "]".repeat(depth)),
        1 => format!("{}x{}", "{a: ".repeat(depth), "}".repeat(depth)),
        2 => {
            let mut s = String::new();
            for d in 0..depth {
                s.push_str(&format!("\n{}k{d}:", "  ".repeat(d + 1)));
            }
            s.push_str(" x");
            s
        }
        3 => {
            let mut s = String::new();
            for d in 0..depth {
                s.push_str(&format!("\n{}-", "  ".repeat(d + 1)));
            }
            s.push_str(" x");
            s
        }
        _ => {
            let mut s = String::new();
            for d in 0..depth {
                s.push_str(if d % 2 == 0 { "[{a: " } else { "{b: [" });
            }
            s.push('x');
            for d in (0..depth).rev() {
                s.push_str(if d % 2 == 0 { "}]" } else { "]}" });
            }
            s
        }
    }
}

/// Number-like literals, as YAML and JSON might spell them.
fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::sample::select(
            &[
                "0",
                "-0",
                "+0",
                "4294967295",
                "4294967296",
                "-4294967296",
                "2147483647",
                "2147483648",
                "-2147483649",
                "9223372036854775807",
                "9223372036854775808",
                "-9223372036854775809",
                "18446744073709551616",
                "99999999999999999999999999999999999999999999",
                "1e308",
                "1e309",
                "-1e309",
                "1e-400",
                "4.9e-324",
                "0.5",
                "5.0",
                "1.",
                ".5",
                "0x7fffffffffffffff",
                "0x8000000000000000",
                "0xffffffffffffffffff",
                "0o777",
                "0o77777777777777777777777",
                ".inf",
                "-.inf",
                ".nan",
                "1_000",
                "0b101",
                "1.2.3",
                "1.2.3000000000",
                "01.02.03",
                "2147483648.0.0",
            ][..]
        )
        .prop_map(str::to_string),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|f| format!("{f:e}")),
        (any::<u128>(), 0..60u32).prop_map(|(n, e)| format!("{n}e{e}")),
    ]
}

/// Numeric (and version-like) places of a spec, filled with one literal each.
fn spec_with_numbers(n: &[String; 8]) -> String {
    format!(
        "name: web
os: windows
parameters:
  p:
    type: int
    default: {0}
    allowed: [{1}]
tags:
  t: ${{params.p}}
source:
  platform: a:b:c:{2}
build:
  osDiskSizeGB: {3}
  timeoutMinutes: {4}
  dataDisks:
    - sizeGB: {5}
gallery:
  name: g
  image: {{publisher: a, offer: b, sku: {6}}}
customize:
  - type: PowerShell
    inline: x
    validExitCodes: [{7}]
  - type: WindowsUpdate
    updateLimit: {0}
  - type: WindowsRestart
    timeout: {1}
distribute:
  - gallery:
      replicas: {2}
      version: {3}
      regions:
        - name: westeurope
          replicas: {4}
  - gallery:
      runOutputName: second
      version: {{scheme: latest, major: {5}}}
",
        n[0], n[1], n[2], n[3], n[4], n[5], n[6], n[7]
    )
}

/// Writes bytes to a file of its own and loads it the way `aibc validate` does.
fn check_bytes(bytes: &[u8], ext: &str) -> Result<(), TestCaseError> {
    // One shared folder; the file name is unique per process and thread, and removed.
    let dir = std::env::temp_dir().join("aibc-loader-props");
    std::fs::create_dir_all(&dir).expect("temp dir");
    let thread = format!("{:?}", std::thread::current().id()).replace(|c: char| !c.is_ascii_alphanumeric(), "");
    let path = dir.join(format!("case-{}-{thread}.{ext}", std::process::id()));
    std::fs::write(&path, bytes).expect("write temp file");
    let result = compiler::check_file(&path);
    let _ = std::fs::remove_file(&path);
    let doc = result.expect("the file was just written");
    invariants(&doc)
}

#[test]
fn seeds_are_valid() {
    for (path, text, format) in seeds() {
        let mut doc = document::load_str(&path, text.to_string(), format);
        compiler::check(&mut doc);
        assert!(!doc.has_errors(), "{}: {:#?}", path.display(), doc.diags);
    }
}

proptest! {
    #![proptest_config(config(192))]

    #[test]
    fn arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..400), json in any::<bool>()) {
        check_bytes(&bytes, if json { "json" } else { "yaml" })?;
    }

    #[test]
    fn arbitrary_bytes_after_a_valid_prefix(cut in any::<Index>(), tail in proptest::collection::vec(any::<u8>(), 0..64)) {
        let mut bytes = EXAMPLE.as_bytes().to_vec();
        bytes.truncate(cut.index(bytes.len() + 1));
        bytes.extend(tail);
        check_bytes(&bytes, "yaml")?;
    }

    #[test]
    fn arbitrary_unicode(text in any::<String>(), json in any::<bool>()) {
        let format = if json { Format::Json } else { Format::Yaml };
        check_text(&bad_path("arbitrary.yaml"), &text, format)?;
    }

    #[test]
    fn yaml_flavoured_text(text in "([a-zA-Z0-9_.$]{1,8}|[:\\-\\[\\]{},?!&*|>%#'\"~@` \t\n]|\n  |: |- |\\$\\{params\\.[a-z]{1,3}\\}){0,80}") {
        check_text(&bad_path("flavoured.yaml"), &text, Format::Yaml)?;
        check_text(&bad_path("flavoured.json"), &text, Format::Json)?;
    }
}

proptest! {
    #![proptest_config(config(320))]

    #[test]
    fn mutated_valid_specs(seed in 0..4usize, mutations in proptest::collection::vec(mutation(), 1..5)) {
        let (path, text, format) = seeds().swap_remove(seed);
        let mut text = text.to_string();
        for m in &mutations {
            text = apply(&text, m);
        }
        check_text(&path, &text, format)?;
    }
}

proptest! {
    #![proptest_config(config(96))]

    #[test]
    fn deep_nesting(depth in 0..200usize, style in any::<u8>(), place in 0..4u8) {
        let value = nested(depth, style);
        let text = match place {
            0 => value,
            1 => format!("name: web\nos: linux\ntags: {value}\nsource:\n  platform: a:b:c\ndistribute:\n  - vhd: {{}}\n"),
            2 => format!("name: web\nos: linux\nsource:\n  platform: a:b:c\ndistribute:\n  - vhd: {value}\n"),
            _ => format!("name: web\nos: linux\nparameters:\n  p:\n    default: {value}\nsource:\n  platform: a:b:c\ndistribute:\n  - vhd: {{}}\n"),
        };
        check_text(&bad_path("nested.yaml"), &text, Format::Yaml)?;
    }

    #[test]
    fn deep_aliases(width in 1..12usize, levels in 1..12usize) {
        // Each level refers to the previous one `width` times: up to 11^11 nodes expanded.
        let mut s = String::from("a0: &a0 [x]\n");
        for i in 1..levels {
            let refs = vec![format!("*a{}", i - 1); width].join(", ");
            s.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
        }
        check_text(&bad_path("aliases.yaml"), &s, Format::Yaml)?;
    }
}

proptest! {
    #![proptest_config(config(160))]

    #[test]
    fn huge_numbers(n in proptest::array::uniform8(number())) {
        let text = spec_with_numbers(&n);
        check_text(&bad_path("numbers.yaml"), &text, Format::Yaml)?;
    }

    #[test]
    fn huge_numbers_in_json(a in number(), b in number(), c in number()) {
        let text = format!(
            "{{\"name\": \"web\", \"os\": \"linux\", \"source\": {{\"platform\": \"a:b:c\"}}, \"build\": {{\"osDiskSizeGB\": {a}, \"timeoutMinutes\": {b}}}, \"gallery\": {{\"name\": \"g\", \"image\": {{\"publisher\": \"a\", \"offer\": \"b\", \"sku\": \"c\"}}}}, \"distribute\": [{{\"gallery\": {{\"replicas\": {c}}}}}]}}"
        );
        check_text(&bad_path("numbers.json"), &text, Format::Json)?;
    }
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn diagnostics_point_into_the_file(text in "([a-zA-Z0-9_.$]{1,8}|[:\\-\\[\\]{},?!&*|>%#'\"~@` \t\n]|\n  |: |- ){0,60}") {
        located(&load(&bad_path("flavoured.yaml"), &text, Format::Yaml))?;
    }

    #[test]
    fn diagnostics_in_mutated_specs_point_into_the_file(seed in 0..4usize, mutations in proptest::collection::vec(mutation(), 1..4)) {
        let (path, text, format) = seeds().swap_remove(seed);
        let mut text = text.to_string();
        for m in &mutations {
            text = apply(&text, m);
        }
        located(&load(&path, &text, format))?;
    }
}

/// Text for free-form fields: anything, or text dense in quotes, escapes, brackets and
/// parameter references.
fn free_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "([a-z ]{0,4}|['\"\\\\\\[\\]{}$\n\r\t`]|\\$\\{params\\.p\\}|\\$\\$\\{|\\[\\[|\\]\\]){0,24}",
    ]
}

/// A valid Windows spec with `t` in every free-text field (descriptions, tags, inline
/// script, restart commands, update filters, EULA, features, artifact tags).
fn spec_with_text(t: &[String; 6]) -> String {
    serde_json::json!({
        "name": "web",
        "os": "windows",
        "description": t[0],
        "parameters": { "p": { "type": "string", "default": t[1], "description": t[2] } },
        "tags": { t[1].clone(): t[2], "p": "${params.p}" },
        "source": { "platform": "a:b:c" },
        "build": { "managedResourceTags": { t[2].clone(): t[1] } },
        "gallery": {
            "name": "g",
            "description": t[3],
            "image": {
                "publisher": "a", "offer": "b", "sku": "c",
                "eula": t[4],
                "features": { "IsAcceleratedNetworkSupported": t[5] }
            }
        },
        "customize": [
            { "type": "PowerShell", "name": "n", "inline": [t[0], t[3]] },
            { "type": "PowerShell", "inline": t[4] },
            { "type": "WindowsRestart", "command": t[1], "checkCommand": t[2] },
            { "type": "WindowsUpdate", "searchCriteria": t[5], "filters": [t[0]] }
        ],
        "distribute": [
            { "gallery": { "artifactTags": { "k": t[3] } } },
            { "vhd": { "artifactTags": { "k": t[0] } } }
        ]
    })
    .to_string()
}

proptest! {
    #![proptest_config(config(128))]

    /// Whatever the free text, an error-free spec compiles, and the ARM output is JSON.
    #[test]
    fn free_text_compiles(t in proptest::array::uniform6(free_text())) {
        let text = spec_with_text(&t);
        let doc = load(&bad_path("text.json"), &text, Format::Json);
        invariants(&doc)?;
        if !doc.has_errors() {
            let arm = compiler::compile(&doc, "spec.json", Target::Arm);
            prop_assert!(arm.is_ok(), "ARM: {:?}", arm.err());
            for file in arm.unwrap().iter().flat_map(|c| c.files.iter()) {
                if file.path.ends_with(".json") {
                    let parsed: Result<serde_json::Value, _> = serde_json::from_str(&file.text);
                    prop_assert!(parsed.is_ok(), "{} is not JSON: {:?}", file.path, parsed.err());
                }
            }
            let bicep = compiler::compile(&doc, "spec.json", Target::Bicep);
            prop_assert!(bicep.is_ok(), "Bicep: {:?}", bicep.err());
        }
    }
}

/// Every value of the key `key` anywhere in a JSON document.
fn values_of<'a>(v: &'a serde_json::Value, key: &str, out: &mut Vec<&'a serde_json::Value>) {
    match v {
        serde_json::Value::Array(items) => items.iter().for_each(|i| values_of(i, key, out)),
        serde_json::Value::Object(m) => {
            for (k, v) in m {
                if k == key {
                    out.push(v);
                }
                values_of(v, key, out);
            }
        }
        _ => {}
    }
}

/// The string ARM deploys for a JSON string value, when that value is a literal or a
/// string-literal expression (`['…']`); `None` for any other expression.
fn arm_string(s: &str) -> Option<String> {
    if !(s.starts_with('[') && s.ends_with(']')) {
        return Some(s.to_string()); // not an expression: taken as written
    }
    if let Some(rest) = s.strip_prefix("[[") {
        return Some(format!("[{rest}")); // the escape: one `[` dropped
    }
    let inner = s[1..s.len() - 1].trim();
    let body = inner.strip_prefix('\'')?.strip_suffix('\'')?;
    (!body.replace("''", "").contains('\'')).then(|| body.replace("''", "'"))
}

/// Free text without parameter references (so the value stays a literal).
fn literal_text() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), "([a-z ]{0,3}|[\\[\\]'\"{}$]|\\[\\[|\\]\\]){0,12}",]
        .prop_filter("no parameter reference", |s| !s.contains("${"))
}

proptest! {
    #![proptest_config(config(128))]

    /// ARM reads a string as an expression only when it starts with `[` and ends with
    /// `]`, and `[[…]` is the escape for a literal of that shape. Whatever a tag value
    /// says, ARM must deploy exactly that text.
    #[test]
    fn arm_deploys_literal_text_as_written(text in literal_text()) {
        let spec = serde_json::json!({
            "name": "web",
            "os": "linux",
            "tags": { "aibcProbe": text },
            "source": { "platform": "a:b:c" },
            "distribute": [{ "vhd": {} }]
        })
        .to_string();
        let doc = load(&bad_path("text.json"), &spec, Format::Json);
        prop_assert!(!doc.has_errors(), "{:?}", doc.diags);
        let compiled = compiler::compile(&doc, "spec.json", Target::Arm);
        prop_assert!(compiled.is_ok(), "ARM: {:?}", compiled.err());
        let mut seen = 0;
        for file in compiled.unwrap().iter().flat_map(|c| c.files.iter()) {
            let json: serde_json::Value = serde_json::from_str(&file.text).expect("ARM output is JSON");
            let mut found = Vec::new();
            values_of(&json, "aibcProbe", &mut found);
            for v in found {
                seen += 1;
                let emitted = v.as_str().expect("a tag value is a string");
                let deployed = arm_string(emitted);
                prop_assert_eq!(
                    deployed.as_deref(),
                    Some(text.as_str()),
                    "{}: emitted as {:?}",
                    &file.path,
                    emitted
                );
            }
        }
        prop_assert!(seen > 0, "the tag is not in the ARM output");
    }
}

/// Big inputs are refused or handled in reasonable time, not by exhausting time or
/// memory. (The bound is generous: it catches runaway behaviour, not slowness. Note that
/// one mapping with n keys costs O(n²) today: 20 000 keys take about 2 s in a debug build,
/// the ~100 000 that fit under `MAX_NODES` about 50 s.)
#[test]
fn big_inputs() {
    let started = std::time::Instant::now();
    let too_big = "#".repeat(aibc::loader::MAX_BYTES + 1);
    let doc = load(&bad_path("big.yaml"), &too_big, Format::Yaml);
    let codes: Vec<&str> = doc.diags.iter().map(|d| d.code.id()).collect();
    assert_eq!(codes, ["AIB001"], "a file over MAX_BYTES is refused");

    let long_name =
        format!("name: {}\nos: linux\nsource:\n  platform: a:b:c\ndistribute:\n  - vhd: {{}}\n", "n".repeat(1 << 20));
    let doc = load(&bad_path("long.yaml"), &long_name, Format::Yaml);
    let codes: Vec<&str> = doc.diags.iter().map(|d| d.code.id()).collect();
    assert_eq!(codes, ["AIB101"], "a 1 MiB name is too long");
    for d in &doc.diags {
        let _ = render(d, &doc.sources, false);
    }

    let many = format!("tags:\n{}", (0..20_000).map(|i| format!("  k{i}: v\n")).collect::<String>());
    let doc = load(&bad_path("many.yaml"), &many, Format::Yaml);
    assert!(doc.has_errors(), "no name, os, source or distribute");

    let wide = format!("[{}]", vec!["[]"; 150_000].join(","));
    let doc = load(&bad_path("wide.json"), &wide, Format::Json);
    assert!(doc.has_errors(), "more than MAX_NODES values, and not a mapping");

    let elapsed = started.elapsed();
    assert!(elapsed < std::time::Duration::from_secs(30), "big inputs took {elapsed:?}");
}
