//! `parameters:` declarations and `${params.NAME}` references.

use std::collections::BTreeSet;

use super::{Context, Explain};
use crate::diagnostic::{Code, suggest};
use crate::node::{Kind, Node, Path, Scalar, Seg};
use crate::params::{bad_references, is_name, references};
use crate::spec::ParameterType;

/// Keys whose string values are never scanned: commands are the script's own business
/// (PowerShell and shell use `${…}` themselves), so they stay literal.
const CONTENT_KEYS: &[&str] =
    &["inline", "parameters", "command", "checkCommand", "searchCriteria", "filters", "validExitCodes"];
/// Keys that must be known when compiling (they decide what is generated, where, or what
/// is hashed).
const COMPILE_TIME_KEYS: &[&str] = &[
    "os",
    "script",
    "source",
    "type",
    "existing",
    "imageId",
    "subnet",
    "id",
    "containerInstanceSubnetId",
    "resourceGroup",
    "stagingResourceGroup",
    "vmIdentities",
    "sha256",
];

pub fn check(cx: &mut Context) {
    let declared: Vec<String> = cx.spec.parameters.keys().cloned().collect();
    for (name, p) in &cx.spec.parameters {
        let at = Path::root().join("parameters").join(name.as_str());
        if !is_name(name) {
            cx.at_key(Code::ParameterValue, &at, format!("`{name}` cannot name a parameter"))
                .hint("use letters, digits and `_`, starting with a letter");
        } else if let Some(why) = replaces_generated(cx.spec, name) {
            cx.at_key(Code::ReservedParameter, &at, format!("`{name}` is a parameter aibc generates: {why}")).hint(
                match name.as_str() {
                    "location" => {
                        "rename it, or write `location: ${params.location}` so the spec's location is this parameter"
                            .to_string()
                    }
                    _ => format!("rename it, for example to `{name}Value`"),
                },
            );
        } else if is_reserved(name) {
            cx.at_key(Code::ParameterValue, &at, format!("`{name}` is a name the generated template already uses"))
                .hint(format!("rename it, for example to `{name}Value`"));
        }
        let fits = |v: &serde_json::Value| match p.kind {
            ParameterType::String => v.is_string(),
            ParameterType::Int => v.is_i64(),
            ParameterType::Bool => v.is_boolean(),
        };
        if let Some(d) = &p.default {
            if !fits(d) {
                cx.at(
                    Code::ParameterValue,
                    &at.join("default"),
                    format!("the default does not fit the parameter's type `{}`", type_name(p.kind)),
                )
                .hint("change the default or the `type`");
            } else if !p.allowed.is_empty() && !p.allowed.contains(d) {
                cx.at(Code::ParameterValue, &at.join("default"), "the default is not one of the `allowed` values")
                    .hint("add it to `allowed`, or change it");
            }
        }
        for (i, a) in p.allowed.iter().enumerate() {
            if !fits(a) {
                cx.at(
                    Code::ParameterValue,
                    &at.join("allowed").join(i),
                    format!("this allowed value does not fit the type `{}`", type_name(p.kind)),
                )
                .hint("every allowed value must have the parameter's type");
            }
        }
    }

    let mut used = BTreeSet::new();
    let node = cx.node;
    walk(cx, node, &Path::root(), &declared, &mut used);
    for name in &declared {
        // An invalid name is reported once, as invalid.
        if !used.contains(name) && is_name(name) {
            cx.at_key(
                Code::UnusedParameter,
                &Path::root().join("parameters").join(name.as_str()),
                format!("parameter `{name}` is never used"),
            )
            .hint(format!("refer to it as `${{params.{name}}}`, or remove it"));
        }
    }
}

fn walk(cx: &mut Context, node: &Node, path: &Path, declared: &[String], used: &mut BTreeSet<String>) {
    match &node.kind {
        Kind::Map(entries) => {
            for e in entries {
                if path.0.is_empty() && e.key == "parameters"
                    || CONTENT_KEYS.contains(&e.key.as_str()) && !path.0.is_empty()
                {
                    continue;
                }
                walk(cx, &e.value, &path.join(e.key.as_str()), declared, used);
            }
        }
        Kind::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                walk(cx, item, &path.join(i), declared, used);
            }
        }
        Kind::Scalar(Scalar::Str(s)) => {
            for bad in bad_references(s) {
                cx.at(Code::UnknownParameter, path, format!("`{bad}` is not a parameter reference"))
                    .hint("write `${params.NAME}` with a letter-digit-underscore name; `$${` writes a literal `${`");
            }
            let refs: Vec<String> = references(s).collect();
            if refs.is_empty() {
                return;
            }
            let top_name = path.0 == [Seg::Key("name".into())];
            let key = path
                .0
                .iter()
                .rev()
                .find_map(|s| match s {
                    Seg::Key(k) => Some(k.as_str()),
                    _ => None,
                })
                .unwrap_or("");
            // Keys of tag maps are free-form names; only the fixed keys above are special.
            let in_tags = path.0.iter().any(|s| matches!(s, Seg::Key(k) if k == "tags" || k == "artifactTags" || k == "managedResourceTags" || k == "features"));
            // Library parameters are rendered into scripts when compiling.
            let in_with = path.0.iter().any(|s| matches!(s, Seg::Key(k) if k == "with"));
            if (top_name || in_with || COMPILE_TIME_KEYS.contains(&key)) && !in_tags {
                cx.at(
                    Code::ParameterNotAllowed,
                    path,
                    format!("`{}` must be known when compiling, so it cannot use a parameter", path.dotted()),
                )
                .hint("write the value itself here; parameters suit locations, versions, sizes, names and tags");
                // Counted as used: the one problem is the place, not an unused declaration.
                used.extend(refs.into_iter().filter(|r| declared.contains(r)));
                return;
            }
            for r in refs {
                if declared.contains(&r) {
                    used.insert(r);
                } else {
                    let d = cx.at(
                        Code::UnknownParameter,
                        path,
                        format!("`${{params.{r}}}` refers to a parameter that is not declared"),
                    );
                    match suggest(&r, declared.iter().map(String::as_str)) {
                        Some(s) => {
                            d.label(format!("did you mean `{s}`?"))
                                .hint(format!("rename the reference to `${{params.{s}}}`"));
                        }
                        None => {
                            d.hint(format!("declare it: `parameters: {{ {r}: {{ type: string }} }}`"));
                        }
                    }
                }
            }
        }
        Kind::Scalar(_) => {}
    }
}

/// Parameters of the generated main template a spec parameter would silently replace.
/// `location` is the spec's to take over only when the spec's location is that parameter;
/// `imageVersion` only when aibc does not compute the version itself.
fn replaces_generated(spec: &crate::spec::ImageSpec, name: &str) -> Option<&'static str> {
    match name {
        "deployImageTemplate" => Some("it switches the two phases of a deploy"),
        "location" if spec.location.as_deref() != Some("${params.location}") => {
            Some("the region of the template and everything created with it")
        }
        "imageVersion"
            if spec.distribute.iter().any(|d| {
                matches!(d, crate::spec::Distribution::Gallery(g) if crate::plan::deploy_time_scheme(g.version.as_ref()).is_some())
            }) =>
        {
            Some("`aibc deploy` passes the version it computes from the spec's scheme in it")
        }
        _ => None,
    }
}

/// Bicep keywords and the symbols aibc generates in main.bicep (`location` and
/// `imageVersion` are not here: declaring them is how a spec takes them over). The importer
/// names its parameters around the same list.
pub fn is_reserved(name: &str) -> bool {
    const KEYWORDS: &[&str] = &[
        "metadata",
        "targetScope",
        "param",
        "var",
        "resource",
        "module",
        "output",
        "existing",
        "import",
        "type",
        "func",
        "if",
        "for",
        "in",
        "true",
        "false",
        "null",
        "tags",
        "identity",
        "artifacts",
        "gallery",
        "imageTemplate",
        "templateName",
        "imageBuilderPrincipalId",
        "deployImageTemplate",
        "sourceAccess",
        "stagingAccess",
        "az",
        "sys",
    ];
    const PREFIXES: &[&str] = &["galleryAccess", "networkAccess", "vmIdentityAccess", "managedImageAccess"];
    KEYWORDS.contains(&name)
        || PREFIXES.iter().any(|p| name.strip_prefix(p).is_some_and(|rest| rest.chars().all(|c| c.is_ascii_digit())))
}

fn type_name(t: ParameterType) -> &'static str {
    match t {
        ParameterType::String => "string",
        ParameterType::Int => "int",
        ParameterType::Bool => "bool",
    }
}
