//! Packer's legacy JSON templates: `variables`, `builders`, `provisioners`,
//! `post-processors`, with values written in Go template syntax
//! (``{{user `name`}}``, ``{{env `NAME`}}``, `{{timestamp}}`).

use super::super::diag::{Finding, ImportCode};
use super::super::params::{Origin, ParamDef, ParamKind, Params};
use super::super::value::{Piece, Text, V, Val};
use super::super::values::Given;
use super::model::{Attr, Block, Template};
use crate::node::{Kind, Node, Scalar};
use crate::source::{Sources, Span};
use std::path::Path;

/// Reads a JSON template; variables go to `params`.
pub fn read(
    path: &Path,
    text: String,
    given: &[Given],
    sources: &mut Sources,
    params: &mut Params,
    findings: &mut Vec<Finding>,
) -> Result<Template, Vec<Finding>> {
    let (_, root) = super::super::arm::parse_json(path, text, sources)?;
    let mut errors = Vec::new();
    check_templates(&root, sources, &mut errors);
    for e in entries(&root) {
        match e.key.as_str() {
            "variables"
            | "sensitive-variables"
            | "builders"
            | "provisioners"
            | "post-processors"
            | "description"
            | "min_packer_version" => {}
            // Packer ignores keys that start with `_` (comments).
            k if k.starts_with('_') => {}
            k => findings.push(
                Finding::new(ImportCode::Unsupported, e.key_span, format!("`{k}` is not part of a Packer template"))
                    .hint("it is left out"),
            ),
        }
    }

    let declared: Vec<&str> =
        root.get("variables").map(entries).unwrap_or_default().iter().map(|e| e.key.as_str()).collect();
    if let Some(vars) = root.get("variables") {
        for e in entries(vars) {
            let mut def = variable(&e.key, e.key_span, &e.value);
            if let Some(g) = given.iter().rev().find(|g| g.name == e.key) {
                def.default = Some(g.value.clone());
                def.origin = Origin::Variable { env: None };
                def.given = true;
            }
            super::empty_means_later(&mut def);
            params.add(def);
        }
    }
    for g in given {
        if !declared.contains(&g.name.as_str()) {
            errors.push(super::undeclared(g, &declared));
        }
    }

    let builders: Vec<&Node> = items(root.get("builders"));
    let azure = builders.iter().position(|b| b.get("type").and_then(Node::as_str) == Some("azure-arm"));
    for (i, b) in builders.iter().enumerate() {
        if Some(i) != azure {
            let span = b.get("type").map_or(b.span, |t| t.span);
            let kind = b.get("type").and_then(Node::as_str).unwrap_or("?");
            let message = if kind == "azure-arm" {
                "a second azure-arm builder: a spec describes one image, so only the first is imported".to_string()
            } else {
                format!("the `{kind}` builder does not build an Azure image; it is left out")
            };
            findings.push(Finding::new(ImportCode::Unsupported, span, message));
        }
    }
    let Some(azure) = azure else {
        let span = root.get("builders").map_or(root.span, |b| b.span);
        errors.push(
            Finding::new(ImportCode::Invalid, span, "the template has no `azure-arm` builder")
                .hint("aibc imports templates that build Azure images with the azure-arm builder"),
        );
        return Err(errors);
    };
    let b = builders[azure];
    let name = b.get("name").and_then(Node::as_str).unwrap_or("azure-arm").to_string();
    let builder = Block {
        kind: "azure-arm".into(),
        kind_span: b.get("type").map_or(b.span, |t| t.span),
        name: name.clone(),
        attrs: attrs(b, &["type", "name"]),
    };

    let mut provisioners = Vec::new();
    for p in items(root.get("provisioners")) {
        let kind = p.get("type").and_then(Node::as_str).unwrap_or("").to_string();
        let kind_span = p.get("type").map_or(p.span, |t| t.span);
        if !applies(p, &name) {
            continue;
        }
        let mut block =
            Block { kind, kind_span, name: String::new(), attrs: attrs(p, &["type", "only", "except", "override"]) };
        // `override: {<builder>: {…}}` changes settings for one builder.
        if let Some(o) = p.get("override").and_then(|o| o.get(&name)) {
            block.attrs.extend(attrs(o, &[]));
        }
        provisioners.push(block);
    }
    for pp in items(root.get("post-processors")) {
        let kind = match &pp.kind {
            Kind::Scalar(Scalar::Str(s)) => s.clone(),
            _ => pp.get("type").and_then(Node::as_str).unwrap_or("post-processor").to_string(),
        };
        let span = pp.get("type").map_or(pp.span, |t| t.span);
        findings.push(
            Finding::new(ImportCode::Unsupported, span, format!("the `{kind}` post-processor has no AIB counterpart"))
                .hint("AIB's run outputs name what was built; run follow-up steps after the build"),
        );
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Template {
        builder,
        provisioners,
        description: root.get("description").and_then(Node::as_str).map(str::to_string),
        whole: root.span,
    })
}

fn entries(n: &Node) -> &[crate::node::Entry] {
    match &n.kind {
        Kind::Map(e) => e,
        _ => &[],
    }
}

/// A list's items (a post-processor list may nest one level: a sequence).
fn items(n: Option<&Node>) -> Vec<&Node> {
    match n.map(|n| &n.kind) {
        Some(Kind::Seq(items)) => items
            .iter()
            .flat_map(|i| match &i.kind {
                Kind::Seq(inner) => inner.iter().collect::<Vec<_>>(),
                _ => vec![i],
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Whether a provisioner runs for the builder `name` (`only` / `except`).
fn applies(p: &Node, name: &str) -> bool {
    let names = |key: &str| -> Option<Vec<String>> {
        Some(items(p.get(key)).iter().filter_map(|n| n.as_str().map(str::to_string)).collect())
    };
    if let Some(only) = names("only").filter(|o| !o.is_empty()) {
        return only.iter().any(|o| o == name);
    }
    !names("except").unwrap_or_default().iter().any(|e| e == name)
}

fn attrs(n: &Node, skip: &[&str]) -> Vec<Attr> {
    entries(n)
        .iter()
        .filter(|e| !skip.contains(&e.key.as_str()))
        .map(|e| Attr { key: e.key.clone(), key_span: e.key_span, value: value(&e.value) })
        .collect()
}

/// A JSON value with its Go templates evaluated.
fn value(n: &Node) -> Val {
    let v = match &n.kind {
        Kind::Scalar(Scalar::Str(s)) => V::Str(template(s)),
        Kind::Scalar(Scalar::Int(i)) => V::Int(*i),
        Kind::Scalar(Scalar::Float(f)) => V::Float(*f),
        Kind::Scalar(Scalar::Bool(b)) => V::Bool(*b),
        Kind::Scalar(Scalar::Null) => V::Null,
        Kind::Seq(items) => V::Arr(items.iter().map(value).collect()),
        Kind::Map(entries) => V::Obj(entries.iter().map(|e| (e.key.clone(), e.key_span, value(&e.value))).collect()),
    };
    Val::new(v, n.span)
}

/// A variable's declaration: its default, or the environment variable it reads.
fn variable(name: &str, span: Span, n: &Node) -> ParamDef {
    let kind = match &n.kind {
        Kind::Scalar(Scalar::Int(_)) => ParamKind::Int,
        Kind::Scalar(Scalar::Bool(_)) => ParamKind::Bool,
        _ => ParamKind::String,
    };
    let env = n.as_str().and_then(only_env);
    let mut def = ParamDef::new(name, kind, Origin::Variable { env: env.clone() }, span);
    if env.is_none() && !matches!(n.kind, Kind::Scalar(Scalar::Null)) {
        def.default = Some(value(n));
    }
    def
}

/// ``{{env `NAME`}}`` as the whole value: the name.
fn only_env(s: &str) -> Option<String> {
    let inner = s.trim().strip_prefix("{{")?.strip_suffix("}}")?.trim();
    let arg = inner.strip_prefix("env")?.trim();
    let name = arg
        .strip_prefix('`')
        .and_then(|a| a.strip_suffix('`'))
        .or_else(|| arg.strip_prefix('"').and_then(|a| a.strip_suffix('"')))?;
    (!name.contains(['`', '"', '{', '}'])).then(|| name.to_string())
}

/// Evaluates `{{…}}` actions: user variables become references, `template_dir` the
/// template's folder; anything else stays as written (it is only known to Packer at
/// build time). An unclosed `{{` is reported by `check_templates`.
pub fn template(s: &str) -> Text {
    let mut out = Text::default();
    let mut rest = s;
    while let Some(i) = rest.find("{{") {
        out.push(Piece::Lit(rest[..i].to_string()));
        let after = &rest[i + 2..];
        let Some(j) = after.find("}}") else {
            out.push(Piece::Lit(rest[i..].to_string()));
            return out;
        };
        let action = after[..j].trim().trim_start_matches('-').trim_end_matches('-').trim();
        out.push(action_value(action));
        rest = &after[j + 2..];
    }
    out.push(Piece::Lit(rest.to_string()));
    out
}

/// Reports every `{{` that is not closed, where it is.
fn check_templates(n: &Node, sources: &Sources, errors: &mut Vec<Finding>) {
    match &n.kind {
        Kind::Scalar(Scalar::Str(s)) => {
            let mut at = 0;
            while let Some(i) = s[at..].find("{{").map(|i| at + i) {
                match s[i + 2..].find("}}") {
                    Some(j) => at = i + 2 + j + 2,
                    None => {
                        let offset = s[..i].chars().count();
                        errors.push(
                            Finding::new(
                                ImportCode::Invalid,
                                super::super::arm::eval::position_in_string(n.span, offset, sources),
                                "a `{{` is not closed with `}}`",
                            )
                            .hint("close the template action, or write `{{\"{{\"}}` for a literal `{{`"),
                        );
                        break;
                    }
                }
            }
        }
        Kind::Seq(items) => items.iter().for_each(|i| check_templates(i, sources, errors)),
        Kind::Map(entries) => entries.iter().for_each(|e| check_templates(&e.value, sources, errors)),
        Kind::Scalar(_) => {}
    }
}

fn action_value(action: &str) -> Piece {
    let (func, arg) = match action.split_once(char::is_whitespace) {
        Some((f, a)) => (f, a.trim()),
        None => (action, ""),
    };
    let unquoted = arg
        .strip_prefix('`')
        .and_then(|a| a.strip_suffix('`'))
        .or_else(|| arg.strip_prefix('"').and_then(|a| a.strip_suffix('"')));
    match (func, unquoted) {
        ("user", Some(name)) => Piece::Param(name.to_string()),
        ("template_dir", None) if arg.is_empty() => Piece::Lit(".".into()),
        ("build_type", None) if arg.is_empty() => Piece::Lit("azure-arm".into()),
        _ => Piece::Opaque(format!("{{{{{action}}}}}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evaluates_go_templates() {
        let t = template("img-{{user `env`}}-{{ timestamp }}");
        assert_eq!(t.canonical(), "img-${params.env}-[{{timestamp}}]");
        assert_eq!(template("{{template_dir}}/x.sh").canonical(), "./x.sh");
        assert_eq!(only_env("{{env `ARM_CLIENT_ID`}}").as_deref(), Some("ARM_CLIENT_ID"));
        assert_eq!(only_env("x{{env `A`}}"), None);
    }
}
