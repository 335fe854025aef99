//! An existing identity whose rights are managed elsewhere (`identity.assignRoles: false`):
//! the plan keeps no role assignment or role definition, and says which rights the identity
//! must hold instead (ADR 5).

use super::*;

/// Symbolic name → resource of a module, for naming what an assignment applies to.
fn describe_scope(m: &Module, scope: Option<&str>) -> String {
    let group = match &m.scope {
        Some(s) if s.subscription.is_empty() => format!("resource group `{}`", s.resource_group),
        Some(s) => format!("resource group `{}` (subscription {})", s.resource_group, s.subscription),
        None => "the deployment's resource group".to_string(),
    };
    let Some(symbol) = scope else { return group };
    // The resource and its parents, outermost first: `gallery/images/def`.
    let mut names = Vec::new();
    let mut kind = String::new();
    let mut at = m.resource(symbol);
    while let Some(r) = at {
        if kind.is_empty() {
            kind = r.rtype.clone();
        }
        names.push(literal_name(m, &r.name));
        at = r.parent.as_deref().and_then(|p| m.resource(p));
    }
    names.reverse();
    format!("{kind} `{}` in {group}", names.join("/"))
}

/// A resource name as the reader knows it: the literal, or the module argument it comes from.
fn literal_name(m: &Module, e: &Expr) -> String {
    match e {
        Expr::Str(s) => s.clone(),
        Expr::Param(p) => match m.args.iter().find(|(n, _)| n == p) {
            Some((_, Expr::Str(s))) => s.clone(),
            _ => format!("<{p}>"),
        },
        _ => "<computed>".to_string(),
    }
}

fn is_assignment(r: &Resource) -> bool {
    r.rtype == "Microsoft.Authorization/roleAssignments"
}

fn is_definition(r: &Resource) -> bool {
    r.rtype == "Microsoft.Authorization/roleDefinitions"
}

/// Every right the plan's role assignments grant, one line each.
pub fn required(modules: &[Module]) -> Vec<String> {
    let mut out = Vec::new();
    for m in modules {
        for r in m.resources.iter().filter(|r| is_assignment(r)) {
            let role = r.comment.as_deref().and_then(|c| c.split(':').next()).unwrap_or("a role").to_string();
            // Custom roles: their exact actions, since the identity's owner must grant them.
            let custom = m.resources.iter().find(|d| {
                is_definition(d)
                    && r.body.iter().any(|p| {
                        let mut hit = false;
                        p.value.visit(&mut |x| hit |= *x == Expr::id_of(&d.symbol));
                        hit
                    })
            });
            let what = match custom.and_then(|d| d.comment.as_deref()) {
                Some(_) => format!("{role} ({})", custom_actions(custom.expect("matched")).join(", ")),
                None => role,
            };
            out.push(format!("{what} on {}", describe_scope(m, r.scope.as_deref())));
        }
    }
    out
}

fn custom_actions(d: &Resource) -> Vec<String> {
    let mut actions = Vec::new();
    for p in &d.body {
        p.value.visit(&mut |x| {
            if let Expr::Str(s) = x
                && s.starts_with("Microsoft.")
                && s.contains('/')
            {
                actions.push(s.clone());
            }
        });
    }
    actions
}

/// Drops role assignments to AIB's identity and role definitions; modules left with nothing
/// to deploy go, and a `principalId` parameter nothing uses any more goes with its argument.
pub fn strip(modules: &mut Vec<Module>) {
    for m in modules.iter_mut() {
        m.resources.retain(|r| !is_definition(r) && !is_assignment(r));
        // `existing` references only serve assignments.
        if m.resources.iter().all(|r| r.existing) && m.outputs.is_empty() {
            m.resources.clear();
        }
        let used = m.resources.iter().any(|r| uses_param(r, PRINCIPAL))
            || m.outputs.iter().any(|o| {
                let mut hit = false;
                o.value.visit(&mut |x| hit |= matches!(x, Expr::Param(n) if n == PRINCIPAL));
                hit
            });
        if !used {
            m.params.retain(|p| p.name != PRINCIPAL);
            m.args.retain(|(n, _)| n != PRINCIPAL);
        }
    }
    modules.retain(|m| !m.resources.is_empty() || !m.outputs.is_empty());
}

fn uses_param(r: &Resource, name: &str) -> bool {
    let mut hit = false;
    r.name.visit(&mut |x| hit |= matches!(x, Expr::Param(n) if n == name));
    for p in &r.body {
        p.value.visit(&mut |x| hit |= matches!(x, Expr::Param(n) if n == name));
    }
    hit
}
