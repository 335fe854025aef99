//! Properties of `aibc import` that hold for any input:
//!
//! - the YAML writer: whatever it writes, aibc's loader reads back exactly the value
//!   written (strings stay strings, whatever they hold);
//! - importing never panics, whatever the text (arbitrary, or a corpus template mutated);
//!   a template it cannot import gets at least one error, each located on a line and
//!   column that exist in its file; one it can import gives a spec that loads without
//!   syntax errors, and checking, compiling and comparing that spec do not panic either.
//! - generated Packer HCL2 and ARM JSON templates (variables, locals and parameters with
//!   functions, conditions and operators; values given with `-var`, `-var-file` and
//!   `--parameters`; ARM ones also as nested deployments) never panic either, and a spec
//!   with gaps always marks every one.
//!
//! Case counts are kept moderate so the file runs in a few seconds in a debug build.

use std::path::{Path, PathBuf};

use aibc::document;
use aibc::import::{self, Failure, Kind};
use aibc::loader::Format;
use aibc::source::Sources;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};
use serde_json::{Map, Value};

/// `AIBC_PROPTEST_SCALE=20` runs 20 times the cases, for a deeper search.
fn config(cases: u32) -> Config {
    let scale: u32 = std::env::var("AIBC_PROPTEST_SCALE").ok().and_then(|s| s.parse().ok()).unwrap_or(1);
    let cases = cases.saturating_mul(scale.max(1));
    let defaults = Config::default();
    let rng_seed =
        if std::env::var_os("PROPTEST_RNG_SEED").is_some() { defaults.rng_seed } else { RngSeed::Fixed(0x1A1B) };
    Config { cases, rng_seed, failure_persistence: None, max_shrink_iters: 1024, ..defaults }
}

/// Characters that trip YAML writers: indicators, quotes, line breaks, tabs, controls,
/// characters some readers treat as line breaks, a byte-order mark, and plain text.
fn tricky_char() -> impl Strategy<Value = char> {
    prop_oneof![
        6 => proptest::char::range('a', 'z'),
        2 => Just(' '),
        4 => prop::sample::select(vec![
            ':', '#', '-', '?', '\'', '"', '\\', '{', '}', '[', ']', ',', '&', '*', '!', '|', '>', '%', '@', '`',
            '$', '.', '0', '1', '~', '=', '/',
        ]),
        2 => prop::sample::select(vec!['\n', '\t', '\r']),
        1 => prop::sample::select(vec!['\0', '\u{7}', '\u{1b}', '\u{7f}', '\u{85}', '\u{a0}', '\u{2028}', '\u{2029}', '\u{feff}', 'é', '日', '🦀', '\u{fffe}']),
    ]
}

fn tricky_string() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => proptest::collection::vec(tricky_char(), 0..24).prop_map(|c| c.into_iter().collect()),
        1 => prop::sample::select(vec![
            "", "true", "False", "null", "~", "1.10", "0x1F", "-1", ".5", "1e3", "yes", "no", "- x", "a: b", "#c",
            "${params.x}", "C:\\Windows\\Temp", "line\n", "\n\nlead", "trail\n\n", "  indented\nnext", " ", "---",
            "...", "|", ">", "'", "\"", "a #b", "x:", "@at", "%p", "&a", "*a", "!t", "tab\tin",
        ])
        .prop_map(str::to_string),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        4 => tricky_string().prop_map(Value::String),
        1 => any::<i64>().prop_map(Value::from),
        1 => any::<bool>().prop_map(Value::Bool),
        1 => Just(Value::Null),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            proptest::collection::vec((tricky_string(), inner), 0..5)
                .prop_map(|entries| Value::Object(entries.into_iter().collect::<Map<String, Value>>())),
        ]
    })
}

/// A document root: a mapping that is not a family file (no `images` or `defaults`).
fn root() -> impl Strategy<Value = Value> {
    proptest::collection::vec((tricky_string(), value()), 1..6).prop_map(|entries| {
        Value::Object(entries.into_iter().filter(|(k, _)| k != "images" && k != "defaults").collect())
    })
}

proptest! {
    #![proptest_config(config(1000))]

    #[test]
    fn written_yaml_reads_back_exactly(v in root(), header in proptest::collection::vec(tricky_string(), 0..3)) {
        // Comment lines cannot hold line breaks; the importer writes none.
        let header: Vec<String> = header.into_iter().map(|h| h.replace(['\n', '\r'], " ")).collect();
        let text = import::yaml::to_string(&v, &header);
        let doc = document::load_str(Path::new("written.yaml"), text.clone(), Format::Yaml);
        let syntax: Vec<_> = doc.diags.iter().filter(|d| d.code == aibc::diagnostic::Code::Syntax).collect();
        prop_assert!(syntax.is_empty(), "{text}\n{syntax:?}");
        let back = doc.images.first().map(|i| i.node.to_json());
        let want = if v.as_object().is_some_and(Map::is_empty) { None } else { Some(v.clone()) };
        if want.is_some() {
            prop_assert_eq!(back, want, "{}", text);
        }
    }
}

fn corpus(dir: &str, ext: &str) -> Vec<(PathBuf, String)> {
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/import").join(dir);
    let mut out: Vec<(PathBuf, String)> = std::fs::read_dir(&base)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file() && p.to_string_lossy().ends_with(ext))
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            (p, text)
        })
        .collect();
    out.sort();
    out
}

/// Every finding points at a line of its file, and at most one column past its end.
fn located(sources: &Sources, findings: &[import::Finding]) -> Result<(), String> {
    if findings.iter().all(|f| !f.is_error()) {
        return Err("a template that was not imported has no error".into());
    }
    for f in findings {
        let file = sources.get(f.span.file).ok_or("a finding points at no file")?;
        let line = file.line(f.span.start.line).ok_or_else(|| format!("no line {}: {f:?}", f.span.start.line))?;
        let width = line.chars().count() as u32 + 1;
        if f.span.start.col == 0 || f.span.start.col > width + 1 {
            return Err(format!("column {} is off line {} ({width} wide): {f:?}", f.span.start.col, f.span.start.line));
        }
        let _ = f.render(sources, false);
    }
    Ok(())
}

fn check_import(kind: Kind, path: &Path, text: String) -> Result<(), String> {
    let spec_path = Path::new("tests/import/expected/props.yaml");
    match import::import_text(kind, path, text, spec_path) {
        Ok(imported) => {
            let doc = import::check_spec(&imported, spec_path);
            if doc.diags.iter().any(|d| d.code == aibc::diagnostic::Code::Syntax) {
                return Err(format!("the written spec does not load:\n{}", imported.yaml));
            }
            if !doc.has_errors() {
                let _ = import::round_trip(&imported, &doc);
            }
            Ok(())
        }
        Err(Failure::Invalid { sources, findings }) => located(&sources, &findings),
        Err(Failure::Io(e)) => Err(format!("text input gave an I/O failure: {e}")),
    }
}

/// One edit of a valid template: a deleted range, an inserted token, or a cut.
#[derive(Debug, Clone)]
enum Edit {
    Delete(usize, usize),
    Insert(usize, &'static str),
    Truncate(usize),
}

fn edits() -> impl Strategy<Value = Vec<Edit>> {
    let token = prop::sample::select(vec![
        "{",
        "}",
        "[",
        "]",
        "\"",
        ",",
        ":",
        "=",
        "${",
        "}}",
        "{{",
        "[concat(",
        "')]",
        "\n",
        "\\",
        "<region>",
        "null",
        "0",
        "-1",
        "${var.nope}",
        "local.",
        "<<EOT\n",
        "#",
        "//",
        "/*",
        "'",
        "`",
        "\u{0}",
        "é",
    ]);
    proptest::collection::vec(
        prop_oneof![
            (any::<usize>(), 1usize..40).prop_map(|(a, n)| Edit::Delete(a, n)),
            (any::<usize>(), token).prop_map(|(a, t)| Edit::Insert(a, t)),
            any::<usize>().prop_map(Edit::Truncate),
        ],
        1..4,
    )
}

fn apply(text: &str, edits: &[Edit]) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for e in edits {
        let n = chars.len().max(1);
        match e {
            Edit::Delete(at, len) => {
                let at = at % n;
                let end = (at + len).min(chars.len());
                if at < end {
                    chars.drain(at..end);
                }
            }
            Edit::Insert(at, t) => {
                let at = at % (chars.len() + 1);
                chars.splice(at..at, t.chars());
            }
            Edit::Truncate(at) => chars.truncate(at % n),
        }
    }
    chars.into_iter().collect()
}

proptest! {
    #![proptest_config(config(250))]

    #[test]
    fn arm_import_never_panics(i in any::<prop::sample::Index>(), e in edits()) {
        let files = corpus("arm", ".json");
        let (path, text) = &files[i.index(files.len())];
        let r = check_import(Kind::Arm, path, apply(text, &e));
        prop_assert!(r.is_ok(), "{}", r.unwrap_err());
    }

    #[test]
    fn packer_json_import_never_panics(i in any::<prop::sample::Index>(), e in edits()) {
        let files = corpus("packer", ".json");
        let (path, text) = &files[i.index(files.len())];
        let r = check_import(Kind::Packer, path, apply(text, &e));
        prop_assert!(r.is_ok(), "{}", r.unwrap_err());
    }

    #[test]
    fn packer_hcl_import_never_panics(i in any::<prop::sample::Index>(), e in edits()) {
        let files = corpus("packer", ".pkr.hcl");
        let (path, text) = &files[i.index(files.len())];
        let r = check_import(Kind::Packer, path, apply(text, &e));
        prop_assert!(r.is_ok(), "{}", r.unwrap_err());
    }

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,200}", kind in 0..3u8) {
        let (k, path) = match kind {
            0 => (Kind::Arm, "t.json"),
            1 => (Kind::Packer, "t.json"),
            _ => (Kind::Packer, "t.pkr.hcl"),
        };
        let r = check_import(k, Path::new(path), text);
        prop_assert!(r.is_ok(), "{}", r.unwrap_err());
    }
}

#[test]
fn deep_nesting_is_refused_not_overflowed() {
    for (kind, path, text) in [
        (Kind::Arm, "deep.json", "[".repeat(50_000)),
        (Kind::Packer, "deep.pkr.hcl", format!("x = {}", "[".repeat(50_000))),
        (Kind::Packer, "deep.pkr.hcl", format!("x = {}", "(".repeat(50_000))),
        (Kind::Packer, "deep.pkr.hcl", format!("locals {{ x = \"${{{}}}\" }}", "(".repeat(5_000))),
        (Kind::Arm, "expr.json", format!("{{\"a\": \"[{}'x'{}]\"}}", "concat(".repeat(5_000), ")".repeat(5_000))),
    ] {
        let r = check_import(kind, Path::new(path), text);
        assert!(r.is_ok(), "{path}: {}", r.unwrap_err());
    }
}

// Generated templates: not mutations of the corpus, but templates built from the parts
// the importer evaluates (HCL variables, locals with functions, conditions and
// operators; ARM parameters, variables and expressions), with values given from outside
// (`-var`, `-var-file`, `--parameters`), so that every evaluation path meets odd input.

/// `s` as an HCL string literal.
fn hcl_string(s: &str) -> String {
    let body: String = s
        .chars()
        .filter(|c| !c.is_control())
        .collect::<String>()
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace("${", "$${")
        .replace("%{", "%%{");
    format!("\"{body}\"")
}

/// An HCL expression over the names a generated template declares.
fn hcl_expr() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        tricky_string().prop_map(|s| hcl_string(&s)),
        any::<i32>().prop_map(|n| n.to_string()),
        any::<bool>().prop_map(|b| b.to_string()),
        Just("null".to_string()),
        prop::sample::select(vec!["a", "b", "empty", "list", "map", "env_var", "nope"])
            .prop_map(|v| format!("var.{v}")),
        prop::sample::select(vec!["x", "y", "loop", "missing"]).prop_map(|l| format!("local.{l}")),
        Just("source.name".to_string()),
        Just("path.root".to_string()),
    ];
    leaf.prop_recursive(4, 40, 4, |inner| {
        let func = prop::sample::select(vec![
            "lower",
            "upper",
            "title",
            "format",
            "replace",
            "substr",
            "split",
            "join",
            "merge",
            "coalesce",
            "lookup",
            "element",
            "length",
            "concat",
            "trim",
            "trimprefix",
            "trimsuffix",
            "min",
            "max",
            "abs",
            "contains",
            "keys",
            "values",
            "flatten",
            "distinct",
            "compact",
            "tolist",
            "tonumber",
            "tobool",
            "try",
            "timestamp",
            "formatdate",
            "basename",
            "strrev",
            "startswith",
            "chomp",
            "env",
            "nofunction",
        ]);
        prop_oneof![
            (func, proptest::collection::vec(inner.clone(), 0..4))
                .prop_map(|(f, args)| format!("{f}({})", args.join(", "))),
            (inner.clone(), inner.clone(), inner.clone()).prop_map(|(c, a, b)| format!("({c} ? {a} : {b})")),
            (
                inner.clone(),
                prop::sample::select(vec!["==", "!=", "&&", "||", "+", "-", "*", "/", "%", "<", ">="]),
                inner.clone()
            )
                .prop_map(|(a, op, b)| format!("({a} {op} {b})")),
            proptest::collection::vec(inner.clone(), 0..4).prop_map(|items| format!("[{}]", items.join(", "))),
            proptest::collection::vec(("[a-z]{1,6}", inner.clone()), 0..3).prop_map(|entries| {
                format!("{{ {} }}", entries.iter().map(|(k, v)| format!("{k} = {v}")).collect::<Vec<_>>().join(", "))
            }),
            inner.clone().prop_map(|e| format!("\"pre-${{{e}}}-post\"")),
            (inner.clone(), 0..3usize).prop_map(|(e, i)| format!("{e}[{i}]")),
        ]
    })
}

/// The azure-arm settings the importer reads, and a few it reports.
const HCL_KEYS: &[&str] = &[
    "image_publisher",
    "image_offer",
    "image_sku",
    "image_version",
    "image_url",
    "location",
    "vm_size",
    "os_type",
    "os_disk_size_gb",
    "communicator",
    "subscription_id",
    "managed_image_name",
    "managed_image_resource_group_name",
    "custom_managed_image_name",
    "custom_managed_image_resource_group_name",
    "virtual_network_name",
    "virtual_network_subnet_name",
    "virtual_network_resource_group_name",
    "build_resource_group_name",
    "azure_tags",
    "disk_additional_size",
    "shared_image_gallery_replica_count",
    "capture_container_name",
    "spot",
];

fn hcl_template() -> impl Strategy<Value = String> {
    let variables = proptest::collection::vec(
        (
            prop::sample::select(vec!["a", "b", "empty", "list", "map", "env_var"]),
            prop_oneof![hcl_expr(), Just("\"\"".to_string()), Just("env(\"X\")".to_string())],
            prop::sample::select(vec!["", "string", "number", "bool", "list(string)", "map(string)"]),
        ),
        0..5,
    );
    let locals = proptest::collection::vec((prop::sample::select(vec!["x", "y", "loop"]), hcl_expr()), 0..4);
    let source = proptest::collection::vec((prop::sample::select(HCL_KEYS.to_vec()), hcl_expr()), 0..10);
    let gallery = proptest::option::of(proptest::collection::vec(
        (
            prop::sample::select(vec![
                "subscription",
                "resource_group",
                "gallery_name",
                "image_name",
                "image_version",
                "replication_regions",
                "target_region",
            ]),
            hcl_expr(),
        ),
        0..6,
    ));
    let provisioners = proptest::collection::vec(
        (
            prop::sample::select(vec![
                "shell",
                "powershell",
                "file",
                "windows-restart",
                "windows-update",
                "ansible",
                "breakpoint",
            ]),
            proptest::collection::vec(
                (
                    prop::sample::select(vec![
                        "inline",
                        "script",
                        "scripts",
                        "source",
                        "sources",
                        "destination",
                        "environment_vars",
                        "only",
                        "valid_exit_codes",
                    ]),
                    hcl_expr(),
                ),
                0..4,
            ),
        ),
        0..4,
    );
    (variables, locals, source, gallery, provisioners).prop_map(|(variables, locals, source, gallery, provisioners)| {
        // Keys once each (HCL refuses repeats), over settings that make an importable
        // template, so that most cases get past the source and reach the evaluation.
        let unique = |pairs: Vec<(&'static str, String)>| {
            let mut out: Vec<(&'static str, String)> = Vec::new();
            for (k, v) in pairs {
                match out.iter_mut().find(|(x, _)| *x == k) {
                    Some(slot) => slot.1 = v,
                    None => out.push((k, v)),
                }
            }
            out
        };
        let base: Vec<(&'static str, String)> = [
            ("image_publisher", "\"Canonical\""),
            ("image_offer", "\"ubuntu-24_04-lts\""),
            ("image_sku", "\"server\""),
            ("location", "\"eastus\""),
            ("managed_image_name", "\"img\""),
            ("managed_image_resource_group_name", "\"rg\""),
        ]
        .into_iter()
        .map(|(k, v)| (k, v.to_string()))
        .collect();
        let source = unique(base.into_iter().chain(source).collect());
        let locals = unique(locals);
        let variables = {
            let mut seen = Vec::new();
            variables
                .into_iter()
                .filter(|(n, _, _)| {
                    if seen.contains(n) {
                        false
                    } else {
                        seen.push(*n);
                        true
                    }
                })
                .collect::<Vec<_>>()
        };
        let gallery = gallery.map(unique);
        let provisioners: Vec<(&str, Vec<(&'static str, String)>)> =
            provisioners.into_iter().map(|(k, a)| (k, unique(a))).collect();
        let mut t = String::new();
        for (name, default, ty) in variables {
            let ty = if ty.is_empty() { String::new() } else { format!("  type = {ty}\n") };
            t.push_str(&format!("variable \"{name}\" {{\n{ty}  default = {default}\n}}\n"));
        }
        if !locals.is_empty() {
            t.push_str("locals {\n");
            for (name, e) in locals {
                t.push_str(&format!("  {name} = {e}\n"));
            }
            t.push_str("}\n");
        }
        t.push_str("source \"azure-arm\" \"gen\" {\n");
        for (k, e) in source {
            t.push_str(&format!("  {k} = {e}\n"));
        }
        if let Some(g) = gallery {
            t.push_str("  shared_image_gallery_destination {\n");
            for (k, e) in g {
                t.push_str(&format!("    {k} = {e}\n"));
            }
            t.push_str("  }\n");
        }
        t.push_str("}\nbuild {\n  sources = [\"source.azure-arm.gen\"]\n");
        for (kind, attrs) in provisioners {
            t.push_str(&format!("  provisioner \"{kind}\" {{\n"));
            for (k, e) in attrs {
                t.push_str(&format!("    {k} = {e}\n"));
            }
            t.push_str("  }\n");
        }
        t.push_str("}\n");
        t
    })
}

/// An ARM expression over the names a generated template declares.
fn arm_expr() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        tricky_string().prop_map(|s| format!("'{}'", s.replace(['\n', '\r'], " ").replace('\'', "''"))),
        any::<i32>().prop_map(|n| n.to_string()),
        Just("true".to_string()),
        Just("null()".to_string()),
        prop::sample::select(vec!["p", "q", "obj", "arr", "nope"]).prop_map(|p| format!("parameters('{p}')")),
        prop::sample::select(vec!["v", "w", "cycle", "missing"]).prop_map(|v| format!("variables('{v}')")),
        Just("resourceGroup().location".to_string()),
        Just("resourceGroup().id".to_string()),
        Just("subscription().subscriptionId".to_string()),
    ];
    leaf.prop_recursive(4, 40, 4, |inner| {
        let func = prop::sample::select(vec![
            "concat",
            "format",
            "resourceId",
            "toLower",
            "toUpper",
            "uniqueString",
            "equals",
            "if",
            "not",
            "and",
            "or",
            "empty",
            "length",
            "substring",
            "replace",
            "split",
            "first",
            "last",
            "union",
            "coalesce",
            "string",
            "int",
            "bool",
            "createArray",
            "trim",
            "startsWith",
            "utcNow",
            "nofunction",
        ]);
        prop_oneof![
            (func, proptest::collection::vec(inner.clone(), 0..4))
                .prop_map(|(f, args)| format!("{f}({})", args.join(", "))),
            (inner.clone(), "[a-z]{1,5}").prop_map(|(e, p)| format!("{e}.{p}")),
            (inner.clone(), 0..3usize).prop_map(|(e, i)| format!("{e}[{i}]")),
        ]
    })
}

fn arm_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        3 => arm_expr().prop_map(|e| Value::String(format!("[{e}]"))),
        1 => tricky_string().prop_map(Value::String),
        1 => prop::sample::select(vec!["<region>", "/subscriptions/<subscriptionID>/resourceGroups/<rg>/providers/Microsoft.Compute/images/<img>", "{placeholder}", "<scriptUrl>"]).prop_map(|s| Value::String(s.into())),
        1 => any::<i32>().prop_map(Value::from),
    ]
}

fn arm_template() -> impl Strategy<Value = (Value, Value)> {
    let params = proptest::collection::vec(
        (
            prop::sample::select(vec!["p", "q", "obj", "arr"]),
            prop::sample::select(vec!["string", "int", "bool", "object", "array"]),
            proptest::option::of(arm_value()),
        ),
        0..4,
    );
    let vars = proptest::collection::vec((prop::sample::select(vec!["v", "w", "cycle"]), arm_value()), 0..4);
    let props = (
        proptest::collection::vec(
            (
                prop::sample::select(vec!["publisher", "offer", "sku", "version", "imageId", "imageVersionId"]),
                arm_value(),
            ),
            0..5,
        ),
        prop::sample::select(vec![
            "PlatformImage",
            "PlatformImage",
            "ManagedImage",
            "SharedImageVersion",
            "ISO",
            "[parameters('obj')]",
        ]),
        proptest::collection::vec(
            proptest::collection::vec(
                (
                    prop::sample::select(vec![
                        "type",
                        "name",
                        "inline",
                        "scriptUri",
                        "sourceUri",
                        "destination",
                        "runElevated",
                    ]),
                    arm_value(),
                ),
                0..4,
            ),
            0..3,
        ),
        proptest::collection::vec(
            proptest::collection::vec(
                (
                    prop::sample::select(vec![
                        "type",
                        "imageId",
                        "galleryImageId",
                        "runOutputName",
                        "location",
                        "replicationRegions",
                    ]),
                    arm_value(),
                ),
                0..4,
            ),
            0..3,
        ),
        proptest::collection::vec(
            (
                prop::sample::select(vec!["vmSize", "osDiskSizeGB", "buildTimeoutInMinutes", "stagingResourceGroup"]),
                arm_value(),
            ),
            0..3,
        ),
    );
    let given = proptest::collection::vec((prop::sample::select(vec!["p", "q", "obj", "arr"]), value()), 0..3);
    (params, vars, props, given).prop_map(|(params, vars, (source, kind, customize, distribute, other), given)| {
        let mut p = Map::new();
        for (name, ty, default) in params {
            let mut d = Map::new();
            d.insert("type".into(), Value::String(ty.into()));
            if let Some(v) = default {
                d.insert("defaultValue".into(), v);
            }
            p.insert(name.into(), Value::Object(d));
        }
        let v: Map<String, Value> = vars.into_iter().map(|(k, x)| (k.to_string(), x)).collect();
        // A source and a distribution that import, which the generated parts change.
        let mut src: Map<String, Value> = serde_json::json!({
            "publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server",
            "imageId": "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Compute/images/base",
            "imageVersionId": "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images/i/versions/1.0.0"
        })
        .as_object()
        .unwrap()
        .clone();
        src.extend(source.into_iter().map(|(k, x)| (k.to_string(), x)));
        src.insert("type".into(), Value::String(kind.into()));
        let steps = |list: Vec<Vec<(&str, Value)>>| {
            Value::Array(
                list.into_iter()
                    .map(|s| Value::Object(s.into_iter().map(|(k, x)| (k.to_string(), x)).collect()))
                    .collect(),
            )
        };
        let mut properties: Map<String, Value> = other.into_iter().map(|(k, x)| (k.to_string(), x)).collect();
        properties.insert("source".into(), Value::Object(src));
        properties.insert("customize".into(), steps(customize));
        let mut dists = vec![serde_json::json!({
            "type": "ManagedImage", "runOutputName": "base", "location": "eastus",
            "imageId": "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Compute/images/out"
        })];
        if let Value::Array(more) = steps(distribute) {
            dists.extend(more);
        }
        properties.insert("distribute".into(), Value::Array(dists));
        let template = serde_json::json!({
            "parameters": p,
            "variables": v,
            "resources": [{
                "type": "Microsoft.VirtualMachineImages/imageTemplates",
                "name": "[parameters('p')]",
                "location": "[parameters('q')]",
                "properties": properties,
            }]
        });
        // Only parameters the template declares (an undeclared one is refused).
        let given: Map<String, Value> = given
            .into_iter()
            .filter(|(k, _)| p.contains_key(*k))
            .map(|(k, x)| (k.to_string(), serde_json::json!({ "value": x })))
            .collect();
        (template, serde_json::json!({ "parameters": given }))
    })
}

/// Imports with values given from files, as the command line does.
fn check_import_with(kind: Kind, path: &Path, text: &str, options: &import::Options) -> Result<(), String> {
    let spec_path = Path::new("tests/import/expected/props.yaml");
    std::fs::write(path, text).map_err(|e| e.to_string())?;
    match import::import_with(kind, path, spec_path, options) {
        Ok(imported) => {
            let doc = import::check_spec(&imported, spec_path);
            if doc.diags.iter().any(|d| d.code == aibc::diagnostic::Code::Syntax) {
                return Err(format!("the written spec does not load:\n{}", imported.yaml));
            }
            // Every gap has its TODO comment in the spec.
            let gaps = imported.findings.iter().filter(|f| f.code == import::ImportCode::Gap).count();
            if imported.yaml.matches("# TODO(aibc import): ").count() < gaps {
                return Err(format!("{gaps} gaps, fewer TODO comments:\n{}", imported.yaml));
            }
            if !doc.has_errors() {
                let _ = import::round_trip(&imported, &doc);
            }
            Ok(())
        }
        Err(Failure::Invalid { sources, findings }) => located(&sources, &findings),
        Err(Failure::Io(e)) => Err(format!("an I/O failure: {e}")),
    }
}

fn scratch(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("aibc-import-props-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

proptest! {
    #![proptest_config(config(200))]

    #[test]
    fn generated_packer_hcl_never_panics(
        template in hcl_template(),
        vars in proptest::collection::vec((prop::sample::select(vec!["a", "b", "empty", "list", "map", "env_var"]), tricky_string()), 0..3),
        var_file in proptest::collection::vec((prop::sample::select(vec!["a", "b", "empty", "list", "map", "env_var"]), hcl_expr()), 0..3),
    ) {
        let dir = scratch("hcl");
        let var_path = dir.join("given.pkrvars.hcl");
        let var_text: String = var_file.iter().map(|(k, e)| format!("{k} = {e}\n")).collect();
        std::fs::write(&var_path, var_text).unwrap();
        let options = import::Options {
            // Only variables the template declares: an undeclared one is refused (tested
            // with the CLI), which would leave the rest untried.
            vars: vars.iter().filter(|(k, _)| template.contains(&format!("variable \"{k}\""))).map(|(k, v)| format!("{k}={v}")).collect(),
            var_files: vec![var_path],
            ..import::Options::default()
        };
        let r = check_import_with(Kind::Packer, &dir.join("gen.pkr.hcl"), &template, &options);
        prop_assert!(r.is_ok(), "{}\n{template}", r.unwrap_err());
        // And without values, as most templates are imported.
        let r = check_import(Kind::Packer, Path::new("gen.pkr.hcl"), template.clone());
        prop_assert!(r.is_ok(), "{}\n{template}", r.unwrap_err());
    }

    #[test]
    fn generated_arm_json_never_panics(
        (template, given) in arm_template(),
        bicep in any::<bool>(),
        nesting in 0..3u8,
        passed in proptest::collection::vec((prop::sample::select(vec!["p", "q", "obj", "arr", "zz"]), arm_value()), 0..3),
    ) {
        let dir = scratch("arm");
        // The same template as a nested deployment: evaluated in its own scope with values
        // passed in (a Bicep module), or in the outer one.
        let template = match nesting {
            0 => template,
            n => {
                let passed: Map<String, Value> =
                    passed.into_iter().map(|(k, v)| (k.to_string(), serde_json::json!({ "value": v }))).collect();
                let scope = if n == 1 { "inner" } else { "outer" };
                serde_json::json!({
                    "parameters": { "p": { "type": "string", "defaultValue": "outer" } },
                    "resources": [{
                        "type": "Microsoft.Resources/deployments",
                        "name": "nested",
                        "properties": {
                            "expressionEvaluationOptions": { "scope": scope },
                            "parameters": passed,
                            "template": template
                        }
                    }]
                })
            }
        };
        let text = serde_json::to_string_pretty(&template).unwrap();
        // The values as a JSON parameters file, or as a .bicepparam of the same values.
        let values = if bicep {
            let p = dir.join("given.bicepparam");
            let lines: String = given["parameters"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| format!("param {k} = {}\n", v["value"].to_string().replace('"', "'")))
                .collect();
            std::fs::write(&p, format!("using 'main.bicep'\n{lines}")).unwrap();
            p
        } else {
            let p = dir.join("given.parameters.json");
            std::fs::write(&p, serde_json::to_string(&given).unwrap()).unwrap();
            p
        };
        let options = import::Options { parameters: Some(values), ..import::Options::default() };
        let r = check_import_with(Kind::Arm, &dir.join("gen.json"), &text, &options);
        prop_assert!(r.is_ok(), "{}\n{text}", r.unwrap_err());
        let r = check_import(Kind::Arm, Path::new("gen.json"), text.clone());
        prop_assert!(r.is_ok(), "{}\n{text}", r.unwrap_err());
    }

    #[test]
    fn values_files_never_panic(text in "\\PC{0,160}", kind in 0..3u8) {
        let dir = scratch("values");
        let (name, template) = match kind {
            0 => ("v.bicepparam", "tests/import/arm/module-source-param.json"),
            1 => ("v.parameters.json", "tests/import/arm/module-source-param.json"),
            _ => ("v.pkrvars.hcl", "tests/import/packer/vars-file-ubuntu.pkr.hcl"),
        };
        let values = dir.join(name);
        std::fs::write(&values, &text).unwrap();
        let template = Path::new(env!("CARGO_MANIFEST_DIR")).join(template);
        let options = if kind == 2 {
            import::Options { var_files: vec![values], vars: vec![text.replace('\n', " ")], ..import::Options::default() }
        } else {
            import::Options { parameters: Some(values), ..import::Options::default() }
        };
        let k = if kind == 2 { Kind::Packer } else { Kind::Arm };
        let r = match import::import_with(k, &template, Path::new("tests/import/expected/props.yaml"), &options) {
            Ok(_) => Ok(()),
            Err(Failure::Invalid { sources, findings }) => located(&sources, &findings),
            Err(Failure::Io(e)) => Err(e),
        };
        prop_assert!(r.is_ok(), "{}\n{text:?}", r.unwrap_err());
    }
}
