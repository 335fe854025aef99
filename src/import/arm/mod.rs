//! `aibc import arm`: an ARM template, a bare imageTemplates resource (as given to
//! `az resource create --is-full-object`), or an API body (a PUT body, a GET response, or
//! an API example with its `parameters` wrapper) → the image template to map.

pub mod eval;
pub mod expr;
mod nested;

use std::path::Path;

use super::diag::{Finding, ImportCode};
use super::map::Input;
use super::params::{Origin, ParamDef, ParamKind, Params};
use super::value::Val;
use super::values::Given;
use crate::node::{Kind, Node, Scalar};
use crate::source::{Sources, Span};
use eval::{TemplateEnv, eval_node};

pub const IMAGE_TEMPLATES: &str = "Microsoft.VirtualMachineImages/imageTemplates";
const TRIGGERS: &str = "Microsoft.VirtualMachineImages/imageTemplates/triggers";

/// What the ARM front end found.
pub struct Found {
    pub input: Input,
    pub params: Params,
    pub findings: Vec<Finding>,
}

/// Reads `text` (the file at `path`) as an ARM template or API body.
pub fn load(path: &Path, text: String, given: &[Given], sources: &mut Sources) -> Result<Found, Vec<Finding>> {
    let (_, root) = parse_json(path, text, sources)?;
    let whole = root.span;
    let mut findings = Vec::new();
    // An image template in a nested deployment: the inner template, with what is passed in.
    let nested = nested::inner(&root, given, &mut findings);
    let (root, given): (Node, &[Given]) = match &nested {
        Some((inner, passed)) => (inner.clone(), passed),
        None => (root, given),
    };
    let shape = locate(&root, &mut findings).ok_or_else(|| {
        let mut f = findings.clone();
        f.push(
            Finding::new(
                ImportCode::Invalid,
                whole,
                format!("this is not an ARM template with an image template, an {IMAGE_TEMPLATES} resource, or an API body"),
            )
            .hint("give a template with a `Microsoft.VirtualMachineImages/imageTemplates` resource, or the resource itself"),
        );
        f
    })?;
    // Expressions are evaluated in template deployments only; an API body (and a
    // resource sent with `az resource create --is-full-object`) is taken as it is.
    if shape.template {
        eval::check_expressions(&root, sources, &mut findings);
        if findings.iter().any(Finding::is_error) {
            return Err(findings);
        }
    } else {
        eval::expressions_in_body(shape.resource, &mut findings);
    }
    let env = TemplateEnv::new(shape.parameters, shape.variables, given);
    let eval = |n: &Node| if shape.template { eval_node(n, &env, 0) } else { eval::literal_node(n) };

    let mut params = Params::default();
    let declared: &[crate::node::Entry] = match shape.parameters {
        Some(Node { kind: Kind::Map(entries), .. }) => entries,
        _ => &[],
    };
    for e in declared {
        let mut def = parameter(&e.key, e.key_span, &e.value, &eval);
        // A given value becomes the spec parameter's default (lists and mappings are
        // written in where they are used).
        if let Some(g) = given.iter().rev().find(|g| g.name.eq_ignore_ascii_case(&e.key)) {
            def.default = Some(g.value.clone());
            def.given = true;
        }
        params.add(def);
    }
    let mut unknown = Vec::new();
    for g in given {
        if !declared.iter().any(|e| e.key.eq_ignore_ascii_case(&g.name)) {
            let names: Vec<&str> = declared.iter().map(|e| e.key.as_str()).collect();
            let mut f =
                Finding::new(ImportCode::ValueFile, g.span, format!("the template declares no parameter `{}`", g.name));
            f.hint = Some(match crate::diagnostic::suggest(&g.name, names.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None if names.is_empty() => "the template has no parameters; leave the file out".to_string(),
                None => format!("the template's parameters are {}", names.join(", ")),
            });
            unknown.push(f);
        }
    }
    if !unknown.is_empty() {
        unknown.append(&mut findings);
        return Err(unknown);
    }

    let resource = shape.resource;
    let properties = match resource.get("properties") {
        Some(p) => eval(p),
        None => {
            findings.push(Finding::new(ImportCode::Invalid, resource.span, "the image template has no `properties`"));
            return Err(findings);
        }
    };
    let get = |key: &str| resource.entry(key).map(|e| eval(&e.value));
    let identities = match resource.get("identity") {
        Some(identity) => identities(identity, &eval, &mut findings),
        None => Vec::new(),
    };
    let fallback = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let fallback = fallback.trim_end_matches(".json").to_string();
    let input = Input {
        properties,
        location: get("location"),
        tags: get("tags"),
        identities,
        name: get("name"),
        fallback_name: fallback,
        os: None,
        os_hint: None,
        trigger: shape.trigger,
        description: None,
        unnamed_outputs: false,
        whole,
        local_path: None,
    };
    // Parameters whose value was written in, reported at their declaration: list and
    // mapping parameters, and those a function or condition computed with.
    let (defaulted, computed) = (env.defaulted.borrow().clone(), env.computed.borrow().clone());
    let notes: [(&[String], &str, &str); 2] = [
        (
            &defaulted,
            "a spec parameter cannot hold a list or mapping: the default of `{}` is written where it is used",
            "change the values in the spec when they should differ, or import with `--parameters FILE`",
        ),
        (
            &computed,
            "the template computes with `{}` (a function of it, a condition): its value when importing is used, and the spec has the result",
            "import again with `--parameters FILE` for another value, or change the result in the spec",
        ),
    ];
    for (names, message, hint) in notes {
        for name in names {
            if let Some(e) = declared.iter().find(|e| &e.key == name) {
                findings
                    .push(Finding::new(ImportCode::CompileTime, e.key_span, message.replace("{}", name)).hint(hint));
            }
        }
    }
    Ok(Found { input, params, findings })
}

/// Parses JSON text into a spanned tree, reporting syntax errors where they are.
pub fn parse_json(path: &Path, text: String, sources: &mut Sources) -> Result<(u32, Node), Vec<Finding>> {
    let text = text.strip_prefix('\u{feff}').map(str::to_string).unwrap_or(text);
    let text = if text.contains('\r') { text.replace("\r\n", "\n").replace('\r', "\n") } else { text };
    let text = crate::loader::rewrite_surrogate_escapes(&text).into_owned();
    let empty = text.trim().is_empty();
    let file = sources.add(path.to_path_buf(), text);
    if empty {
        return Err(vec![Finding::new(ImportCode::Syntax, Span::point(file, 1, 1), "the file is empty")]);
    }
    let src = &sources.get(file).expect("just added").text;
    let (root, diags) = crate::loader::parse(file, src, crate::loader::Format::Json);
    let findings: Vec<Finding> = diags
        .into_iter()
        .map(|d| {
            let code = if d.code == crate::diagnostic::Code::Syntax { ImportCode::Syntax } else { ImportCode::Invalid };
            let mut f = Finding::new(code, d.span, d.message);
            f.hint = d.hint;
            f.label = d.label;
            f
        })
        .collect();
    match root {
        Some(root) if findings.is_empty() => {
            if !matches!(root.kind, Kind::Map(_)) {
                return Err(vec![Finding::new(
                    ImportCode::Invalid,
                    root.span,
                    format!("a template is a JSON object, not {}", root.kind_name()),
                )]);
            }
            Ok((file, root))
        }
        _ => Err(findings),
    }
}

/// Where the parts of the input are.
struct Shape<'a> {
    /// A template (expressions are evaluated), not an API body.
    template: bool,
    resource: &'a Node,
    parameters: Option<&'a Node>,
    variables: Option<&'a Node>,
    trigger: bool,
}

pub(super) fn type_is(n: &Node, t: &str) -> bool {
    n.get("type").and_then(Node::as_str).is_some_and(|x| x.eq_ignore_ascii_case(t))
}

fn locate<'a>(root: &'a Node, findings: &mut Vec<Finding>) -> Option<Shape<'a>> {
    // `resources` is a list, or (language version 2.0, as Bicep writes it) a mapping
    // of symbolic names to resources.
    let resources: Option<Vec<&Node>> = match root.get("resources").map(|r| &r.kind) {
        Some(Kind::Seq(items)) => Some(items.iter().collect()),
        Some(Kind::Map(entries)) => Some(entries.iter().map(|e| &e.value).collect()),
        _ => None,
    };
    if let Some(resources) = resources {
        let mut templates = Vec::new();
        let mut trigger = false;
        let mut others = Vec::new();
        for r in resources {
            if r.get("existing").is_some_and(|e| e.kind == Kind::Scalar(Scalar::Bool(true))) {
                // A reference to a resource deployed elsewhere, not one of this template's.
                continue;
            }
            if type_is(r, IMAGE_TEMPLATES) {
                templates.push(r);
                // Child resources written inside the template.
                if let Some(Kind::Seq(children)) = r.get("resources").map(|c| &c.kind) {
                    for c in children {
                        if type_is(c, "triggers") || type_is(c, TRIGGERS) {
                            trigger |= source_image_trigger(c, findings);
                        } else {
                            others.push(c);
                        }
                    }
                }
            } else if type_is(r, TRIGGERS) {
                trigger |= source_image_trigger(r, findings);
            } else {
                others.push(r);
            }
        }
        let resource = *templates.first()?;
        for extra in templates.iter().skip(1) {
            let span = extra.get("type").map_or(extra.span, |t| t.span);
            findings.push(
                Finding::new(ImportCode::Unsupported, span, "a second image template: a spec describes one image")
                    .hint("split the template, one image template per file, and import each"),
            );
        }
        for r in others {
            not_imported(r, findings);
        }
        return Some(Shape {
            template: true,
            resource,
            parameters: root.get("parameters"),
            variables: root.get("variables"),
            trigger,
        });
    }
    if type_is(root, IMAGE_TEMPLATES) || looks_like_body(root) {
        return Some(Shape { template: false, resource: root, parameters: None, variables: None, trigger: false });
    }
    // An API example: `{"parameters": {…, "parameters": <body>}}`.
    let body = root.get("parameters").and_then(|p| p.get("parameters")).filter(|b| looks_like_body(b));
    if let Some(body) = body {
        return Some(Shape { template: false, resource: body, parameters: None, variables: None, trigger: false });
    }
    None
}

fn looks_like_body(n: &Node) -> bool {
    n.get("properties").is_some_and(|p| p.get("source").is_some() || p.get("distribute").is_some())
}

fn source_image_trigger(r: &Node, findings: &mut Vec<Finding>) -> bool {
    let kind = r.get("properties").and_then(|p| p.get("kind")).and_then(Node::as_str);
    if kind.is_some_and(|k| k.eq_ignore_ascii_case("SourceImage")) {
        return true;
    }
    findings.push(Finding::new(
        ImportCode::Unsupported,
        r.span,
        "a trigger of a kind other than SourceImage has no counterpart in the spec",
    ));
    false
}

/// A resource beside the image template: aibc makes its own, or the spec has no place
/// for it. Reported either way.
pub(super) fn not_imported(r: &Node, findings: &mut Vec<Finding>) {
    let t = r.get("type").and_then(Node::as_str).unwrap_or("").to_ascii_lowercase();
    let span = r.get("type").map_or(r.span, |n| n.span);
    let (code, message, hint) = match t.as_str() {
        "microsoft.managedidentity/userassignedidentities" => (
            ImportCode::DoneByAib,
            "aibc creates the identity AIB runs as",
            "to use an existing one instead, give its resource ID as `identity.existing`",
        ),
        "microsoft.authorization/roleassignments" | "microsoft.authorization/roledefinitions" => (
            ImportCode::DoneByAib,
            "aibc grants AIB's identity the roles the build needs, each at the narrowest scope",
            "nothing to do: the generated template has them",
        ),
        "microsoft.storage/storageaccounts" | "microsoft.storage/storageaccounts/blobservices/containers" => (
            ImportCode::DoneByAib,
            "aibc creates private artifact storage when a step uses a local file",
            "to use an existing account instead, give it as `storage.existing`",
        ),
        "microsoft.compute/galleries" | "microsoft.compute/galleries/images" => (
            ImportCode::Unsupported,
            "this gallery resource is not imported; the spec publishes to it by ID",
            "to have aibc create it, describe it under `gallery:` (name, image publisher/offer/sku)",
        ),
        _ => (ImportCode::Unsupported, "a resource that is not part of an image spec", "deploy it separately"),
    };
    findings.push(Finding::new(code, span, message).hint(hint));
}

/// A template parameter as a possible spec parameter.
fn parameter(name: &str, span: Span, decl: &Node, eval: &dyn Fn(&Node) -> Val) -> ParamDef {
    let kind = match decl.get("type").and_then(Node::as_str).map(str::to_ascii_lowercase).as_deref() {
        Some("int") => ParamKind::Int,
        Some("bool") => ParamKind::Bool,
        Some("array") => ParamKind::List,
        Some("object" | "secureobject") => ParamKind::Map,
        _ => ParamKind::String,
    };
    let mut def = ParamDef::new(name, kind, Origin::Parameter, span);
    def.default = decl.get("defaultValue").map(eval);
    def.description =
        decl.get("metadata").and_then(|m| m.get("description")).and_then(Node::as_str).map(str::to_string);
    if let Some(Kind::Seq(items)) = decl.get("allowedValues").map(|a| &a.kind) {
        def.allowed = items.iter().map(eval).collect();
    }
    def
}

/// The resource IDs of the user-assigned identities (the keys of
/// `identity.userAssignedIdentities`), evaluated.
fn identities(identity: &Node, eval: &dyn Fn(&Node) -> Val, findings: &mut Vec<Finding>) -> Vec<Val> {
    let kind = identity.get("type").and_then(Node::as_str).unwrap_or("");
    if !kind.eq_ignore_ascii_case("UserAssigned") {
        if !kind.eq_ignore_ascii_case("None") {
            findings.push(Finding::new(
                ImportCode::Changed,
                identity.span,
                format!("AIB runs as a user-assigned identity; `{kind}` is replaced by one aibc creates"),
            ));
        }
        return Vec::new();
    }
    match identity.get("userAssignedIdentities").map(|u| &u.kind) {
        Some(Kind::Map(entries)) => entries
            .iter()
            .map(|e| {
                let key = Node::new(Kind::Scalar(Scalar::Str(e.key.clone())), e.key_span);
                eval(&key)
            })
            .collect(),
        _ => Vec::new(),
    }
}
