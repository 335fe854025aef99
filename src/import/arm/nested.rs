//! Image templates inside nested deployments (a Bicep module, a linked `Microsoft.Resources/
//! deployments` resource with its template inline): the inner template is imported, with
//! the values the outer template passes to it.

use super::eval::{TemplateEnv, eval_node};
use super::expr::Env;
use super::{IMAGE_TEMPLATES, type_is};
use crate::import::diag::{Finding, ImportCode};
use crate::import::params::literal;
use crate::import::value::{Piece, Text, Val};
use crate::import::values::Given;
use crate::node::{Entry, Kind, Node};

const DEPLOYMENTS: &str = "Microsoft.Resources/deployments";
/// How deep deployments in deployments are looked into.
const MAX_NESTING: usize = 4;

/// What to import instead of `root` when its image template is in a nested deployment: the
/// inner template (with the outer parameters and variables when the deployment evaluates
/// its expressions in the outer scope), and the values passed to it. `None` when `root`
/// has its image template itself, or has none anywhere.
pub fn inner(root: &Node, given: &[Given], findings: &mut Vec<Finding>) -> Option<(Node, Vec<Given>)> {
    inner_at(root, given, findings, 0)
}

fn resources(n: &Node) -> Vec<&Node> {
    match n.get("resources").map(|r| &r.kind) {
        Some(Kind::Seq(items)) => items.iter().collect(),
        Some(Kind::Map(entries)) => entries.iter().map(|e| &e.value).collect(),
        _ => Vec::new(),
    }
}

fn has_image_template(n: &Node, depth: usize) -> bool {
    resources(n).iter().any(|r| {
        type_is(r, IMAGE_TEMPLATES)
            || (depth < MAX_NESTING
                && type_is(r, DEPLOYMENTS)
                && r.get("properties")
                    .and_then(|p| p.get("template"))
                    .is_some_and(|t| has_image_template(t, depth + 1)))
    })
}

/// `v` with the outer parameters it refers to replaced by their values, where known.
fn known(v: Val, env: &TemplateEnv) -> Val {
    let Some(t) = v.text() else { return v };
    let mut out = Text::default();
    for p in t.pieces() {
        match p {
            Piece::Param(name) => match env.known_parameter(name).as_ref().and_then(Val::lit) {
                Some(l) => out.push(Piece::Lit(l.to_string())),
                None => return v,
            },
            other => out.push(other.clone()),
        }
    }
    Val::str(out, v.span)
}

fn inner_at(root: &Node, given: &[Given], findings: &mut Vec<Finding>, depth: usize) -> Option<(Node, Vec<Given>)> {
    if depth >= MAX_NESTING || resources(root).iter().any(|r| type_is(r, IMAGE_TEMPLATES)) {
        return None;
    }
    let all = resources(root);
    let deployment = *all.iter().find(|r| {
        type_is(r, DEPLOYMENTS)
            && r.get("properties").and_then(|p| p.get("template")).is_some_and(|t| has_image_template(t, depth + 1))
    })?;
    let props = deployment.get("properties")?;
    let template = props.get("template")?;
    let span = deployment.get("type").map_or(deployment.span, |t| t.span);
    findings.push(
        Finding::new(
            ImportCode::Changed,
            span,
            "the image template is in this nested deployment; the spec describes it, not the deployment around it",
        )
        .hint("the other resources of the outer template are reported where they are"),
    );
    for r in all.iter().filter(|r| !std::ptr::eq(**r, deployment)) {
        super::not_imported(r, findings);
    }
    // Bicep modules evaluate in the inner scope; a plain nested template in the outer one.
    let inner_scope = props
        .get("expressionEvaluationOptions")
        .and_then(|o| o.get("scope"))
        .and_then(Node::as_str)
        .is_some_and(|s| s.eq_ignore_ascii_case("inner"));
    let (template, passed) = if inner_scope {
        // The values passed in, evaluated in the outer template: the known ones are given.
        let env = TemplateEnv::new(root.get("parameters"), root.get("variables"), given);
        let mut passed = Vec::new();
        if let Some(Node { kind: Kind::Map(entries), .. }) = props.get("parameters") {
            for e in entries {
                let Some(v) = e.value.get("value") else { continue };
                // The outer template's parameters at their values (given, or defaults).
                let value = known(eval_node(v, &env, 0), &env);
                if literal(&value).is_some() {
                    passed.push(Given { name: e.key.clone(), span: e.key_span, value });
                }
            }
        }
        (template.clone(), passed)
    } else {
        let mut t = template.clone();
        if let Kind::Map(entries) = &mut t.kind {
            entries.retain(|e| e.key != "parameters" && e.key != "variables");
            for key in ["parameters", "variables"] {
                if let Some(n) = root.get(key) {
                    entries.push(Entry { key: key.into(), key_span: n.span, value: n.clone() });
                }
            }
        }
        (t, given.to_vec())
    };
    match inner_at(&template, &passed, findings, depth + 1) {
        Some(deeper) => Some(deeper),
        None => Some((template, passed)),
    }
}
