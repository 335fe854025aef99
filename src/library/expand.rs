//! Expanding a `use:` step into ordinary customizers, and checking manifests.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::render::{Lang, render};
use super::{Entry, Library, Manifest};
use crate::diagnostic::{Code, Diagnostic};
use crate::node::{Anchor, Node, Path};
use crate::spec::{FileStep, Inline, Os, PowerShellStep, RestartStep, ShellStep, Step, WindowsUpdateStep};

/// A library step, expanded.
#[derive(Debug, Clone, PartialEq)]
pub struct Expanded {
    /// `language-pack 1.2.0 (built-in)`: shown above the steps in generated Bicep.
    pub label: String,
    pub steps: Vec<Step>,
}

/// Expands `entry` with the spec's `with:` values. `vm_identity` is the resource ID of the
/// build VM identity that reads secrets. The checker has vetted the values already.
pub fn expand(
    library: &Library,
    entry: &Entry,
    with: &BTreeMap<String, Value>,
    step_name: Option<&str>,
    vm_identity: Option<&str>,
) -> Result<Expanded, String> {
    let m = &entry.manifest;
    let mut values = Map::new();
    for (name, p) in &m.parameters {
        if let Some(v) = with.get(name).or(p.default.as_ref()) {
            values.insert(name.clone(), v.clone());
        }
    }
    // Facts about the build every template may use, under a name no parameter can take.
    values.insert("aibc".into(), serde_json::json!({ "vmIdentity": vm_identity.unwrap_or_default() }));
    let values = Value::Object(values);
    let has_secrets = m.parameters.values().any(|p| p.secret);
    let prelude = if has_secrets {
        let (file, lang) = match m.os {
            Os::Windows => ("secret.ps1", Lang::PowerShell),
            Os::Linux => ("secret.sh", Lang::Shell),
        };
        let text = library.shared(file).ok_or_else(|| format!("the library has no _lib/{file}"))?;
        let ctx = serde_json::json!({ "vmIdentity": vm_identity.unwrap_or_default() });
        Some(render(text, &ctx, lang).map_err(|e| format!("_lib/{file}: {e}"))?)
    } else {
        None
    };

    let base = step_name.unwrap_or(&m.name);
    let many = m.steps.len() + usize::from(m.restart) > 1;
    let name_of = |i: usize, own: &Option<String>| -> Option<String> {
        Some(match (own, many) {
            (Some(n), _) => format!("{base}: {n}"),
            (None, true) => format!("{base} ({})", i + 1),
            (None, false) => base.to_string(),
        })
    };
    let text = |s: &str| render(s, &values, Lang::Text).map_err(|e| format!("{}: {e}", m.name));
    let script = |file: &str, lang: Lang| -> Result<Inline, String> {
        let template = entry.files.get(file).ok_or_else(|| format!("{}: no file `{file}`", m.name))?;
        let mut body = render(template, &values, lang).map_err(|e| format!("{}/{file}: {e}", m.name))?;
        if let Some(p) = &prelude {
            body = format!("{p}\n{body}");
        }
        Ok(Inline::Lines(body.trim_end_matches('\n').split('\n').map(str::to_string).collect()))
    };
    let inline = |i: &Inline, lang: Lang| -> Result<Inline, String> {
        i.lines()
            .iter()
            .map(|l| render(l, &values, lang).map_err(|e| format!("{}: {e}", m.name)))
            .collect::<Result<Vec<_>, _>>()
            .map(Inline::Lines)
    };

    let mut steps = Vec::new();
    for (i, step) in m.steps.iter().enumerate() {
        steps.push(match step {
            Step::PowerShell(s) => Step::PowerShell(PowerShellStep {
                name: name_of(i, &s.name),
                inline: Some(match (&s.script, &s.inline) {
                    (Some(f), _) => script(f, Lang::PowerShell)?,
                    (None, Some(l)) => inline(l, Lang::PowerShell)?,
                    (None, None) => return Err(format!("{}: a step with nothing to run", m.name)),
                }),
                script: None,
                sha256: None,
                run_elevated: s.run_elevated,
                run_as_system: s.run_as_system,
                valid_exit_codes: s.valid_exit_codes.clone(),
                artifacts: Vec::new(),
            }),
            Step::Shell(s) => Step::Shell(ShellStep {
                name: name_of(i, &s.name),
                inline: Some(match (&s.script, &s.inline) {
                    (Some(f), _) => script(f, Lang::Shell)?,
                    (None, Some(l)) => inline(l, Lang::Shell)?,
                    (None, None) => return Err(format!("{}: a step with nothing to run", m.name)),
                }),
                script: None,
                sha256: None,
                artifacts: Vec::new(),
            }),
            Step::File(f) => Step::File(FileStep {
                name: name_of(i, &f.name),
                source: text(&f.source)?,
                destination: text(&f.destination)?,
                sha256: f.sha256.as_deref().map(text).transpose()?,
            }),
            Step::WindowsRestart(r) => Step::WindowsRestart(RestartStep {
                name: name_of(i, &r.name),
                command: r.command.as_deref().map(text).transpose()?,
                check_command: r.check_command.as_deref().map(text).transpose()?,
                timeout: r.timeout.as_deref().map(text).transpose()?,
            }),
            Step::WindowsUpdate(u) => Step::WindowsUpdate(WindowsUpdateStep {
                name: name_of(i, &u.name),
                search_criteria: u.search_criteria.as_deref().map(text).transpose()?,
                filters: u.filters.iter().map(|f| text(f)).collect::<Result<_, _>>()?,
                update_limit: u.update_limit,
            }),
        });
    }
    if m.restart {
        steps.push(Step::WindowsRestart(RestartStep {
            name: name_of(m.steps.len(), &Some("restart".into())),
            command: None,
            check_command: None,
            timeout: Some("15m".into()),
        }));
    }
    Ok(Expanded { label: entry.label(), steps })
}

/// What the schema cannot say about a manifest: files exist, defaults fit, steps fit the OS.
pub(super) fn check_manifest(m: &Manifest, files: &BTreeMap<String, String>, node: &Node) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let mut report = |path: Path, anchor: Anchor, msg: String, hint: &str| {
        out.push(Diagnostic::new(Code::LibraryManifest, node.locate(&path, anchor), msg).with_hint(hint));
    };
    let version_ok = m.version.split('.').count() == 3
        && m.version.split('.').all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
    if !version_ok {
        report(
            Path::root().join("version"),
            Anchor::Value,
            format!("`{}` is not Major.Minor.Patch", m.version),
            "write a version such as `1.0.0`",
        );
    }
    if m.restart && m.os == Os::Linux {
        report(
            Path::root().join("restart"),
            Anchor::Key,
            "`restart` applies to Windows entries only".into(),
            "remove it",
        );
    }
    for (name, p) in &m.parameters {
        let at = Path::root().join("parameters").join(name.as_str());
        if !crate::params::is_name(name) {
            report(
                at.clone(),
                Anchor::Key,
                format!("`{name}` cannot name a parameter"),
                "letters, digits and `_`, starting with a letter",
            );
        }
        if let Some(d) = &p.default {
            if !p.kind.accepts(d) {
                report(
                    at.join("default"),
                    Anchor::Value,
                    format!("the default is not a {}", p.kind.name()),
                    "fix the default or the type",
                );
            } else if !p.allowed.is_empty() && !p.allowed.contains(d) {
                report(
                    at.join("default"),
                    Anchor::Value,
                    "the default is not among `allowed`".into(),
                    "add it to `allowed`",
                );
            }
        }
        if p.secret && p.kind != super::ParamKind::String {
            report(
                at.join("secret"),
                Anchor::Key,
                "only string parameters can be secrets".into(),
                "set `type: string`",
            );
        }
    }
    for (i, step) in m.steps.iter().enumerate() {
        let at = Path::root().join("steps").join(i);
        let fields = serde_json::to_value(step).unwrap_or_default();
        if let Some(obj) = fields.as_object() {
            for (key, v) in obj {
                let bad = match v {
                    Value::String(t) => super::render::single_backslash_before_braces(t).is_some(),
                    Value::Array(items) => items
                        .iter()
                        .filter_map(Value::as_str)
                        .any(|t| super::render::single_backslash_before_braces(t).is_some()),
                    _ => false,
                };
                if bad {
                    report(
                        at.join(key.as_str()),
                        Anchor::Value,
                        "`\\{{` makes the placeholder literal text".into(),
                        "write `\\\\{{…}}` for a backslash followed by a value (a Windows path)",
                    );
                }
            }
        }
        let (script, lang_os) = match step {
            Step::PowerShell(s) => (s.script.as_deref(), Some(Os::Windows)),
            Step::Shell(s) => (s.script.as_deref(), Some(Os::Linux)),
            Step::WindowsRestart(_) | Step::WindowsUpdate(_) => (None, Some(Os::Windows)),
            Step::File(_) => (None, None),
        };
        if lang_os.is_some_and(|os| os != m.os) {
            report(
                at.join("type"),
                Anchor::Value,
                format!("this step does not run on {}", m.os.azure_name()),
                "use a step for the entry's OS",
            );
        }
        if let Some(f) = script {
            match files.get(f) {
                None => {
                    report(
                        at.join("script"),
                        Anchor::Value,
                        format!("the entry has no file `{f}`"),
                        "add the file next to manifest.yaml",
                    );
                }
                Some(text) => {
                    if let Some(line) = super::render::single_backslash_before_braces(text) {
                        report(
                            at.join("script"),
                            Anchor::Value,
                            format!("`{f}` line {line}: `\\{{{{` makes the placeholder literal text"),
                            "write `\\\\{{…}}` for a backslash followed by a value (a Windows path)",
                        );
                    }
                }
            }
        }
    }
    out
}
