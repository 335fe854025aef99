//! `aibc import packer`: a Packer template (legacy JSON, one HCL2 file, or a folder of
//! `.pkr.hcl` files with `*.auto.pkrvars.hcl` values) → the AIB image template it
//! amounts to, which `map` then turns into a spec.
//!
//! AIB's customizers were modelled on Packer's provisioners, so the template's own
//! description of the build carries over; what AIB does itself (signing in, connecting,
//! generalizing) and what it has no counterpart for are reported where they are written.

mod builder;
mod functions;
mod hcl;
mod json;
mod model;
mod provisioners;

use std::path::{Component, Path, PathBuf};

use super::Options;
use super::diag::{Finding, ImportCode};
use super::map::Input;
use super::params::{ParamDef, Params};
use super::value::{V, Val};
use super::values::{self, Given};
use crate::source::Sources;

/// What the Packer front end found.
pub struct Found {
    pub input: Input,
    pub params: Params,
    pub findings: Vec<Finding>,
}

/// A Packer template's text, read.
pub enum Files {
    /// A legacy JSON template.
    Json(PathBuf, String),
    /// HCL2: the template files and the `*.auto.pkrvars.hcl` files.
    Hcl {
        files: Vec<(PathBuf, String)>,
        vars: Vec<(PathBuf, String)>,
        /// Variables files Packer reads only when given `-var-file` (reported, not read).
        unread: Vec<(PathBuf, String)>,
    },
}

fn name_of(p: &Path) -> String {
    p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

/// Reads the template at `path`: a JSON file, an HCL2 file, or a folder of them.
pub fn read(path: &Path) -> Result<Files, String> {
    let read = |p: &Path| -> Result<(PathBuf, String), String> {
        let bytes = std::fs::read(p).map_err(|e| format!("cannot read {}: {e}", p.display()))?;
        let text = String::from_utf8(bytes).map_err(|_| format!("{} is not UTF-8 text", p.display()))?;
        Ok((p.to_path_buf(), text))
    };
    if path.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file())
            .collect();
        entries.sort();
        let files: Vec<(PathBuf, String)> =
            entries.iter().filter(|p| name_of(p).ends_with(".pkr.hcl")).map(|p| read(p)).collect::<Result<_, _>>()?;
        let vars: Vec<(PathBuf, String)> = entries
            .iter()
            .filter(|p| name_of(p).ends_with(".auto.pkrvars.hcl"))
            .map(|p| read(p))
            .collect::<Result<_, _>>()?;
        let unread: Vec<(PathBuf, String)> = entries
            .iter()
            .filter(|p| name_of(p).ends_with(".pkrvars.hcl") && !name_of(p).ends_with(".auto.pkrvars.hcl"))
            .map(|p| (p.clone(), String::from_utf8_lossy(&std::fs::read(p).unwrap_or_default()).into_owned()))
            .collect();
        if files.is_empty() {
            return Err(format!("{} holds no .pkr.hcl files", path.display()));
        }
        return Ok(Files::Hcl { files, vars, unread });
    }
    if name_of(path).ends_with(".pkr.json") {
        return Err(format!(
            "{} is HCL2 in JSON syntax, which aibc does not read; convert it with `packer hcl2_upgrade` or write it as .pkr.hcl",
            path.display()
        ));
    }
    let (p, text) = read(path)?;
    Ok(from_text(&p, text))
}

/// One file's text, as JSON or HCL2 by its name.
pub fn from_text(path: &Path, text: String) -> Files {
    if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json")) {
        Files::Json(path.to_path_buf(), text)
    } else {
        Files::Hcl { files: vec![(path.to_path_buf(), text)], vars: Vec::new(), unread: Vec::new() }
    }
}

/// Values given with `-var-file` and `-var`.
#[derive(Default)]
pub struct Values {
    /// HCL2 variables files, read like `*.auto.pkrvars.hcl` ones (after them).
    pub hcl_files: Vec<(PathBuf, String)>,
    /// JSON variables files' values, then `-var` values: the last one given wins.
    pub values: Vec<Given>,
}

/// Reads the `-var-file` files and `-var` values of `options`.
pub fn given(options: &Options, files: &Files, sources: &mut Sources) -> Result<Values, Vec<Finding>> {
    let mut out = Values::default();
    let json_template = matches!(files, Files::Json(..));
    for f in &options.var_files {
        if f.extension().is_some_and(|e| e.eq_ignore_ascii_case("json")) {
            out.values.extend(values::json_var_file(f, sources)?);
        } else if json_template {
            let text = values::text_of(f).map_err(|e| vec![e])?;
            let file = sources.add(f.clone(), text);
            return Err(vec![
                Finding::new(
                    ImportCode::ValueFile,
                    crate::source::Span::point(file, 1, 1),
                    "a JSON Packer template takes JSON variables files",
                )
                .hint("write the values as `{\"name\": \"value\"}` in a .json file"),
            ]);
        } else {
            out.hcl_files.push((f.clone(), values::text_of(f).map_err(|e| vec![e])?));
        }
    }
    out.values.extend(values::command_line(&options.vars, sources)?);
    Ok(out)
}

/// A variable left empty (`default = ""`) is one to give when building: it has no
/// default, so that it becomes a required parameter instead of an empty value.
fn empty_means_later(def: &mut ParamDef) {
    if !def.given && def.default.as_ref().is_some_and(|d| d.lit() == Some("")) {
        def.default = None;
        def.supplied_later = true;
    }
}

/// A value given for a variable the template does not declare (`packer build` refuses it).
fn undeclared(g: &Given, declared: &[&str]) -> Finding {
    let hint = match crate::diagnostic::suggest(&g.name, declared.iter().copied()) {
        Some(s) => format!("did you mean `{s}`?"),
        None if declared.is_empty() => "the template declares no variables".to_string(),
        None => format!("the template's variables are {}", declared.join(", ")),
    };
    Finding::new(ImportCode::ValueFile, g.span, format!("the template declares no variable `{}`", g.name)).hint(hint)
}

/// Reads the template (found at `path`, as `files`) into the image template it amounts
/// to. `spec_path` is where the spec goes: local files are written relative to it.
pub fn load(
    path: &Path,
    files: Files,
    given: Values,
    spec_path: &Path,
    sources: &mut Sources,
) -> Result<Found, Vec<Finding>> {
    let mut params = Params::default();
    let mut findings = Vec::new();
    let template = match files {
        Files::Json(p, text) => json::read(&p, text, &given.values, sources, &mut params, &mut findings),
        Files::Hcl { files, mut vars, unread } => {
            let named = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
            let given_paths: Vec<PathBuf> = given.hcl_files.iter().map(|(p, _)| named(p)).collect();
            vars.extend(given.hcl_files);
            for (p, text) in unread.into_iter().filter(|(p, _)| !given_paths.contains(&named(p))) {
                let file = sources.add(p, text);
                findings.push(
                    Finding::new(
                        ImportCode::Unsupported,
                        crate::source::Span::point(file, 1, 1),
                        "Packer reads this variables file only when given `-var-file`; its values are not used",
                    )
                    .hint("to use them, rename it to end in `.auto.pkrvars.hcl`, or change the defaults in the spec"),
                );
            }
            hcl::read(&files, &vars, &given.values, sources, &mut params, &mut findings)
        }
    };
    let template = match template {
        Ok(t) => t,
        Err(mut errors) => {
            errors.append(&mut findings);
            return Err(errors);
        }
    };

    let template_dir =
        if path.is_dir() { path.to_path_buf() } else { path.parent().map(Path::to_path_buf).unwrap_or_default() };
    let mut customize: Vec<Val> = Vec::new();
    for p in &template.provisioners {
        let before = findings.len();
        let steps = provisioners::customizers(p, &template_dir, &mut findings);
        // A provisioner that could not be imported is marked where its steps would be.
        for f in findings[before..].iter_mut().filter(|f| f.code == ImportCode::Gap && f.todo.is_none()) {
            f.todo = Some(format!("/customize/{}", customize.len()));
        }
        customize.extend(steps);
    }
    let built = builder::build(&template.builder, customize, &params, &mut findings);
    let fallback =
        if path.is_dir() { name_of(path) } else { name_of(path).split('.').next().unwrap_or_default().to_string() };
    let spec_dir = spec_path.parent().map(Path::to_path_buf).unwrap_or_default();
    let prefix = relative(&spec_dir, &template_dir);
    let input = Input {
        properties: Val::new(V::Obj(built.properties), template.whole),
        location: built.location,
        tags: None,
        identities: Vec::new(),
        name: built
            .name
            .or_else(|| Some(Val::str(super::value::Text::lit(template.builder.name.clone()), template.whole))),
        fallback_name: fallback,
        os: built.os,
        os_hint: built.os_hint,
        trigger: false,
        description: template.description,
        unnamed_outputs: true,
        whole: template.whole,
        local_path: Some(Box::new(move |p: &str| local_path(&prefix, p))),
    };
    Ok(Found { input, params, findings })
}

/// A path of the template (relative to its folder) as the spec writes it (relative to
/// the spec's folder), with `/` separators.
fn local_path(prefix: &Path, p: &str) -> String {
    let p = p.replace('\\', "/");
    if Path::new(&p).is_absolute() {
        return p;
    }
    let joined = normalise(&prefix.join(p.trim_start_matches("./")));
    let s = joined.to_string_lossy().replace('\\', "/");
    if s.is_empty() { ".".into() } else { s }
}

/// `from` → `to` as a relative path, both taken from the current directory.
fn relative(from: &Path, to: &Path) -> PathBuf {
    let cwd = std::env::current_dir().unwrap_or_default();
    let abs = |p: &Path| normalise(&if p.is_absolute() { p.to_path_buf() } else { cwd.join(p) });
    let (from, to) = (abs(from), abs(to));
    let a: Vec<Component> = from.components().collect();
    let b: Vec<Component> = to.components().collect();
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut out = PathBuf::new();
    for _ in common..a.len() {
        out.push("..");
    }
    for c in &b[common..] {
        out.push(c.as_os_str());
    }
    out
}

/// Removes `.` and resolves `..` without touching the file system.
fn normalise(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if matches!(out.components().next_back(), Some(Component::Normal(_))) {
                    out.pop();
                } else if !p.is_absolute() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_paths_are_relative_to_the_spec() {
        assert_eq!(relative(Path::new("/a/b"), Path::new("/a/c/d")), PathBuf::from("../c/d"));
        assert_eq!(relative(Path::new("/a"), Path::new("/a")), PathBuf::new());
        assert_eq!(local_path(Path::new("../packer"), "./scripts/x.sh"), "../packer/scripts/x.sh");
        assert_eq!(local_path(Path::new(""), "scripts\\x.ps1"), "scripts/x.ps1");
    }
}
