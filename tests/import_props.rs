//! Properties of `aibc import` that hold for any input:
//!
//! - the YAML writer: whatever it writes, aibc's loader reads back exactly the value
//!   written (strings stay strings, whatever they hold);
//! - importing never panics, whatever the text (arbitrary, or a corpus template mutated);
//!   a template it cannot import gets at least one error, each located on a line and
//!   column that exist in its file; one it can import gives a spec that loads without
//!   syntax errors, and checking, compiling and comparing that spec do not panic either.
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
