//! Every example compiles, without a single diagnostic, to exactly the committed output
//! in `tests/golden/<example>/{bicep,arm}/`. `AIBC_BLESS=1 cargo test --test golden`
//! rewrites the golden files; commit them with the change that altered the output.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use aibc::compiler::{self, Target};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `examples/<dir>/<spec>.yaml|json`, relative to the repository root.
fn example_specs() -> Vec<PathBuf> {
    let mut specs = Vec::new();
    for dir in std::fs::read_dir(root().join("examples")).unwrap() {
        let dir = dir.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        for f in std::fs::read_dir(&dir).unwrap() {
            let f = f.unwrap().path();
            if matches!(f.extension().and_then(|e| e.to_str()), Some("yaml" | "yml" | "json")) {
                specs.push(f.strip_prefix(root()).unwrap().to_path_buf());
            }
        }
    }
    specs.sort();
    specs
}

/// Compiles a spec to a map of relative output path → text.
fn compile(spec: &Path, target: Target) -> BTreeMap<String, String> {
    let doc = compiler::check_file(&root().join(spec)).unwrap();
    let rendered: Vec<String> = doc.diags.iter().map(|d| aibc::diagnostic::render(d, &doc.sources, false)).collect();
    assert!(doc.diags.is_empty(), "{} has diagnostics:\n{}", spec.display(), rendered.join("\n"));
    let compiled = compiler::compile(&doc, &compiler::display_path(spec), target).unwrap();
    let mut out = BTreeMap::new();
    for c in compiled {
        for f in c.files {
            let path = match &c.folder {
                Some(folder) => format!("{folder}/{}", f.path),
                None => f.path,
            };
            out.insert(path, f.text);
        }
    }
    out
}

fn read_tree(dir: &Path) -> BTreeMap<String, String> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for e in entries {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                let rel = p.strip_prefix(base).unwrap().to_string_lossy().replace('\\', "/");
                out.insert(rel, std::fs::read_to_string(&p).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn golden_dir(spec: &Path, target: Target) -> PathBuf {
    let example = spec.parent().unwrap().file_name().unwrap();
    let kind = match target {
        Target::Bicep => "bicep",
        Target::Arm => "arm",
    };
    root().join("tests/golden").join(example).join(kind)
}

#[test]
fn examples_match_golden_output() {
    let specs = example_specs();
    assert!(specs.len() >= 6, "expected at least six examples, found {specs:?}");
    let bless = std::env::var_os("AIBC_BLESS").is_some();
    for spec in &specs {
        for target in [Target::Bicep, Target::Arm] {
            let actual = compile(spec, target);
            let dir = golden_dir(spec, target);
            if bless {
                let _ = std::fs::remove_dir_all(&dir);
                for (path, text) in &actual {
                    let p = dir.join(path);
                    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
                    std::fs::write(p, text).unwrap();
                }
                continue;
            }
            let expected = read_tree(&dir);
            pretty_assertions::assert_eq!(
                expected.keys().collect::<Vec<_>>(),
                actual.keys().collect::<Vec<_>>(),
                "{}: the set of generated files changed (AIBC_BLESS=1 to accept)",
                spec.display()
            );
            for (path, text) in &actual {
                pretty_assertions::assert_eq!(
                    &expected[path],
                    text,
                    "{} → {path} (AIBC_BLESS=1 to accept)",
                    spec.display()
                );
            }
        }
    }
}

#[test]
fn output_is_byte_stable() {
    for spec in example_specs() {
        for target in [Target::Bicep, Target::Arm] {
            assert_eq!(compile(&spec, target), compile(&spec, target), "{}", spec.display());
        }
    }
}

#[test]
fn arm_output_is_valid_json_with_unique_resource_names() {
    for spec in example_specs() {
        for (path, text) in compile(&spec, Target::Arm) {
            let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
            if path.ends_with("azuredeploy.json") {
                let names: Vec<&str> =
                    v["resources"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
                let mut unique = names.clone();
                unique.sort();
                unique.dedup();
                assert_eq!(unique.len(), names.len(), "{}: duplicate deployment names {names:?}", spec.display());
            }
        }
    }
}

#[test]
fn a_changed_script_changes_the_template_name() {
    let dir = std::env::temp_dir().join(format!("aibc-golden-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let spec = dir.join("image.yaml");
    std::fs::write(
        &spec,
        "name: t\nos: linux\nsource: {platform: 'Canonical:ubuntu-24_04-lts:server:latest'}\ncustomize:\n  - {type: Shell, script: s.sh}\ndistribute:\n  - vhd: {}\n",
    )
    .unwrap();
    let name = |content: &str| {
        std::fs::write(dir.join("s.sh"), content).unwrap();
        let doc = compiler::check_file(&spec).unwrap();
        assert!(doc.diags.is_empty(), "{:?}", doc.diags);
        compiler::compile(&doc, "image.yaml", Target::Bicep).unwrap().remove(0).plan.content_hash
    };
    let a = name("echo one\n");
    let b = name("echo two\n");
    let a2 = name("echo one\n");
    assert_ne!(a, b, "different script content must give a different template");
    assert_eq!(a, a2, "the same content must give the same template");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The plan is internally consistent: in every file, parameter names are unique, module
/// arguments match the module's parameters one to one, and every parameter, variable and
/// resource an expression refers to is declared.
#[test]
fn plans_are_consistent() {
    use aibc::plan::Expr;
    fn refs(e: &Expr, params: &mut Vec<String>, vars: &mut Vec<String>, syms: &mut Vec<String>) {
        e.visit(&mut |x| match x {
            Expr::Param(p) => params.push(p.clone()),
            Expr::Var(v) => vars.push(v.clone()),
            Expr::Ref(s, _) => syms.push(s.clone()),
            _ => {}
        });
    }
    for spec in example_specs() {
        let doc = compiler::check_file(&root().join(&spec)).unwrap();
        for c in compiler::compile(&doc, "x", Target::Bicep).unwrap() {
            let plan = &c.plan;
            let main_params: Vec<&str> = plan.params.iter().map(|p| p.name.as_str()).collect();
            let mut sorted = main_params.clone();
            sorted.sort();
            sorted.dedup();
            assert_eq!(sorted.len(), main_params.len(), "{}: duplicate main params {main_params:?}", spec.display());
            for m in &plan.modules {
                let names: Vec<&str> = m.params.iter().map(|p| p.name.as_str()).collect();
                let args: Vec<&str> = m.args.iter().map(|(n, _)| n.as_str()).collect();
                assert_eq!(names, args, "{} module {}: args must match params", spec.display(), m.symbol);
                let mut unique = names.clone();
                unique.sort();
                unique.dedup();
                assert_eq!(
                    unique.len(),
                    names.len(),
                    "{} module {}: duplicate params {names:?}",
                    spec.display(),
                    m.symbol
                );
                let (mut p, mut v, mut s) = (Vec::new(), Vec::new(), Vec::new());
                for (_, a) in &m.args {
                    refs(a, &mut p, &mut v, &mut s);
                }
                assert!(
                    p.iter().all(|x| main_params.contains(&x.as_str())),
                    "{} module {}: main params {p:?}",
                    spec.display(),
                    m.symbol
                );
                assert!(v.iter().all(|x| plan.vars.iter().any(|(n, _)| n == x)), "{}: vars {v:?}", spec.display());
                let (mut p, mut v, mut s) = (Vec::new(), Vec::new(), Vec::new());
                for r in &m.resources {
                    refs(&r.name, &mut p, &mut v, &mut s);
                    r.body.iter().for_each(|b| refs(&b.value, &mut p, &mut v, &mut s));
                    s.extend(r.parent.clone());
                    s.extend(r.scope.clone());
                }
                m.outputs.iter().for_each(|o| refs(&o.value, &mut p, &mut v, &mut s));
                assert!(
                    p.iter().all(|x| names.contains(&x.as_str())),
                    "{} module {}: undeclared params in {p:?}",
                    spec.display(),
                    m.symbol
                );
                assert!(v.is_empty(), "{} module {}: variables inside a module", spec.display(), m.symbol);
                assert!(
                    s.iter().all(|x| m.resource(x).is_some()),
                    "{} module {}: unknown symbols {s:?}",
                    spec.display(),
                    m.symbol
                );
            }
        }
    }
}
