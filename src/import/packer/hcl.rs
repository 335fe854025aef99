//! Packer HCL2 templates: one `.pkr.hcl` file or a folder of them (variables, locals,
//! sources and builds split across files), plus `*.auto.pkrvars.hcl` values.
//!
//! Parsed with `hcl-edit`, which keeps every span, and evaluated here into symbolic
//! values: `var.x` stays a reference to a deploy-time value, locals are evaluated where
//! they are used, and functions only Packer can evaluate at build time (`timestamp()`)
//! are kept as written.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;

use hcl_edit::Span as _;
use hcl_edit::expr::{Expression, ObjectKey, TraversalOperator};
use hcl_edit::structure::{Block as HclBlock, Body, Structure};
use hcl_edit::template::{Element, Template as HclTemplate};

use super::super::diag::{Finding, ImportCode};
use super::super::params::{Origin, ParamDef, ParamKind, Params};
use super::super::value::{Piece, Text, V, Val};
use super::super::values::Given;
use super::functions::{binary, function, text};
use super::model::{Attr, Block, Template};
use crate::source::{Pos, Sources, Span};

/// Brackets nest at most this deep: the parser recurses, and hostile input must not
/// exhaust the stack.
const MAX_NESTING: usize = 64;
/// How deep locals referring to locals are followed (deeper means a cycle).
const MAX_LOCAL_DEPTH: usize = 16;

/// One parsed file.
struct File {
    id: u32,
    body: Body,
    /// Byte offset of each line's start, for turning spans into line:col.
    lines: Vec<usize>,
    text: String,
}

impl File {
    fn span(&self, r: Option<Range<usize>>) -> Span {
        let r = r.unwrap_or(0..0);
        Span { file: self.id, start: self.pos(r.start), end: self.pos(r.end) }
    }

    /// The source text of a parsed element.
    fn slice(&self, r: Option<Range<usize>>) -> String {
        r.and_then(|r| self.text.get(r)).unwrap_or("").trim().to_string()
    }

    fn pos(&self, byte: usize) -> Pos {
        let mut byte = byte.min(self.text.len());
        while !self.text.is_char_boundary(byte) {
            byte -= 1;
        }
        let line = self.lines.partition_point(|&s| s <= byte).max(1);
        let start = self.lines[line - 1];
        let col = self.text.get(start..byte).map_or(byte - start, |s| s.chars().count()) as u32 + 1;
        Pos { line: line as u32, col }
    }
}

/// Reads the template files and the variable files; variables go to `params`.
pub fn read(
    files: &[(std::path::PathBuf, String)],
    var_files: &[(std::path::PathBuf, String)],
    given: &[Given],
    sources: &mut Sources,
    params: &mut Params,
    findings: &mut Vec<Finding>,
) -> Result<Template, Vec<Finding>> {
    let mut errors = Vec::new();
    let parse_all = |list: &[(std::path::PathBuf, String)], sources: &mut Sources, errors: &mut Vec<Finding>| {
        list.iter().filter_map(|(p, t)| parse(p, t.clone(), sources, errors)).collect::<Vec<File>>()
    };
    let parsed = parse_all(files, sources, &mut errors);
    let vars_parsed = parse_all(var_files, sources, &mut errors);
    if !errors.is_empty() {
        return Err(errors);
    }
    let whole = parsed.first().map(|f| f.span(Some(0..0))).unwrap_or_default();

    // Declarations, from every file.
    let mut locals: BTreeMap<String, (usize, Expression)> = BTreeMap::new();
    let mut sources_decl: Vec<(usize, &HclBlock)> = Vec::new();
    let mut builds: Vec<(usize, &HclBlock)> = Vec::new();
    let mut var_decls: Vec<(usize, &HclBlock)> = Vec::new();
    for (i, f) in parsed.iter().enumerate() {
        for s in f.body.iter() {
            match s {
                Structure::Attribute(a) => findings.push(
                    Finding::new(
                        ImportCode::Unsupported,
                        f.span(a.key.span()),
                        format!("`{}` outside a block is not part of a Packer template", a.key.as_str()),
                    )
                    .hint("it is left out"),
                ),
                Structure::Block(b) => match b.ident.as_str() {
                    "variable" => var_decls.push((i, b)),
                    "variables" => {
                        for a in b.body.attributes() {
                            let mut def = ParamDef::new(
                                a.key.as_str(),
                                ParamKind::String,
                                Origin::Variable { env: None },
                                f.span(a.key.span()),
                            );
                            let scope = Scope::empty();
                            def.default = Some(scope.eval(&a.value, f, &parsed, 0));
                            def.kind = kind_of_value(def.default.as_ref());
                            params.add(def);
                        }
                    }
                    "locals" => {
                        for a in b.body.attributes() {
                            locals.insert(a.key.as_str().to_string(), (i, a.value.clone()));
                        }
                    }
                    "local" => {
                        if let (Some(l), Some(e)) = (b.labels.first(), b.body.get_attribute("expression")) {
                            locals.insert(l.as_str().to_string(), (i, e.value.clone()));
                        }
                    }
                    "source" => sources_decl.push((i, b)),
                    "build" => builds.push((i, b)),
                    // Plugin requirements: how Packer gets its plugins, nothing about the image.
                    "packer" => {}
                    other => findings.push(
                        Finding::new(
                            ImportCode::Unsupported,
                            f.span(b.ident.span()),
                            format!("a `{other}` block has no AIB counterpart"),
                        )
                        .hint("it is left out; values it provides are not known when compiling"),
                    ),
                },
            }
        }
    }

    // Values from `*.auto.pkrvars.hcl` replace the declared defaults, as in Packer.
    let mut overrides: BTreeMap<String, Val> = BTreeMap::new();
    for f in &vars_parsed {
        for s in f.body.iter() {
            match s {
                Structure::Attribute(a) => {
                    overrides.insert(a.key.as_str().to_string(), Scope::empty().eval(&a.value, f, &vars_parsed, 0));
                }
                Structure::Block(b) => findings.push(Finding::new(
                    ImportCode::Unsupported,
                    f.span(b.ident.span()),
                    "a variables file holds `name = value` lines only; this block is left out",
                )),
            }
        }
    }
    for (i, b) in &var_decls {
        let f = &parsed[*i];
        let Some(label) = b.labels.first() else {
            errors.push(Finding::new(ImportCode::Invalid, f.span(b.ident.span()), "a variable block needs a name"));
            continue;
        };
        let name = label.as_str();
        let mut def = ParamDef::new(name, ParamKind::String, Origin::Variable { env: None }, f.span(label.span()));
        if let Some(d) = b.body.get_attribute("default") {
            match env_call(&d.value) {
                Some(env) => def.origin = Origin::Variable { env: Some(env) },
                None => def.default = Some(Scope::empty().eval(&d.value, f, &parsed, 0)),
            }
        }
        if let Some(v) = overrides.remove(name) {
            def.default = Some(v);
            def.origin = Origin::Variable { env: None };
            def.given = true;
        }
        // `-var` and JSON `-var-file` values come last, as in `packer build`.
        if let Some(g) = given.iter().rev().find(|g| g.name == name) {
            def.default = Some(g.value.clone());
            def.origin = Origin::Variable { env: None };
            def.given = true;
        }
        super::empty_means_later(&mut def);
        def.description = b
            .body
            .get_attribute("description")
            .and_then(|d| Scope::empty().eval(&d.value, f, &parsed, 0).lit().map(str::to_string));
        def.kind = match b.body.get_attribute("type") {
            Some(t) => kind_of_type(&t.value),
            None => kind_of_value(def.default.as_ref()),
        };
        // `-var list=["a","b"]`: Packer reads a value for a list or mapping as HCL.
        if matches!(def.kind, ParamKind::List | ParamKind::Map)
            && let Some(v) = def.default.as_ref().filter(|_| def.given)
            && let Some(s) = v.lit()
            && let Ok(e) = hcl_edit::parser::parse_expr(s)
        {
            let f = File { id: v.span.file, body: Body::default(), lines: vec![0], text: s.to_string() };
            def.default = Some(respan(Scope::empty().eval(&e, &f, &[], 0), v.span));
        }
        params.add(def);
    }
    let declared: Vec<&str> = var_decls.iter().filter_map(|(_, b)| b.labels.first().map(|l| l.as_str())).collect();
    for g in given {
        if !declared.contains(&g.name.as_str()) && params.get(&g.name).is_none() {
            errors.push(super::undeclared(g, &declared));
        }
    }
    for (name, v) in overrides {
        findings.push(Finding::new(
            ImportCode::Unsupported,
            v.span,
            format!("`{name}` is set in a variables file but declared by no `variable` block; it is left out"),
        ));
    }

    let vars: Vec<(String, Option<Val>)> = params
        .all()
        .iter()
        .map(|d| {
            // A list or mapping cannot be a spec parameter: such a variable is its default.
            let fixed = matches!(d.kind, ParamKind::List | ParamKind::Map).then(|| d.default.clone()).flatten();
            (d.name.clone(), fixed)
        })
        .collect();
    // Values known when importing (given, or defaults without references), for
    // functions and conditions that need a value rather than a reference.
    let known: Vec<(String, Val, bool)> = params
        .all()
        .iter()
        .filter_map(|d| {
            let v = d.default.clone()?;
            super::super::params::literal(&v)?;
            Some((d.name.clone(), v, d.given))
        })
        .collect();
    let scope = Scope {
        vars,
        known,
        locals: &locals,
        source_name: String::new(),
        notes: RefCell::new(Vec::new()),
        noted: RefCell::new(Vec::new()),
    };

    // The build and its azure-arm source.
    let Some((source_ref, build)) = pick(&builds, &sources_decl, &parsed, findings) else {
        let span = sources_decl.first().map(|(i, b)| parsed[*i].span(b.ident.span())).unwrap_or(whole);
        errors.push(
            Finding::new(ImportCode::Invalid, span, "no `build` block uses an azure-arm source")
                .hint("aibc imports templates that build Azure images with the azure-arm builder"),
        );
        return Err(errors);
    };
    let (si, source) = sources_decl
        .iter()
        .find(|(_, b)| b.labels.len() == 2 && b.labels[0].as_str() == "azure-arm" && b.labels[1].as_str() == source_ref)
        .copied()
        .expect("picked from the declared sources");
    let scope = Scope { source_name: source_ref.clone(), ..scope };
    let sf = &parsed[si];
    let mut builder = Block {
        kind: "azure-arm".into(),
        kind_span: sf.span(source.labels[0].span()),
        name: source_ref.clone(),
        attrs: scope.body(&source.body, sf, &parsed),
    };
    let mut provisioners = Vec::new();
    let mut description = None;
    if let Some((bi, build)) = build {
        let bf = &parsed[bi];
        for s in build.body.iter() {
            match s {
                Structure::Attribute(a) => match a.key.as_str() {
                    "sources" | "name" => {}
                    "description" => {
                        description = scope.eval(&a.value, bf, &parsed, 0).lit().map(str::to_string);
                    }
                    k => findings.push(Finding::new(
                        ImportCode::Unsupported,
                        bf.span(a.key.span()),
                        format!("`{k}` of the build has no AIB counterpart"),
                    )),
                },
                Structure::Block(b) => match b.ident.as_str() {
                    "source" => {
                        // `source "source.azure-arm.x" { … }` sets values for this build.
                        let target = b.labels.first().map(|l| l.as_str().to_string()).unwrap_or_default();
                        if source_label(&target).as_deref() == Some(source_ref.as_str()) {
                            builder
                                .attrs
                                .extend(scope.body(&b.body, bf, &parsed).into_iter().filter(|a| a.key != "name"));
                        }
                    }
                    "provisioner" => {
                        if !applies(b, &source_ref, &scope, bf, &parsed) {
                            continue;
                        }
                        let kind = b.labels.first().map(|l| l.as_str().to_string()).unwrap_or_default();
                        let kind_span = b.labels.first().map_or(bf.span(b.ident.span()), |l| bf.span(l.span()));
                        let attrs = scope
                            .body(&b.body, bf, &parsed)
                            .into_iter()
                            .filter(|a| a.key != "only" && a.key != "except")
                            .collect();
                        provisioners.push(Block { kind, kind_span, name: String::new(), attrs });
                    }
                    "post-processor" | "post-processors" => {
                        let kind = b
                            .labels
                            .first()
                            .map(|l| l.as_str().to_string())
                            .unwrap_or_else(|| "post-processors".into());
                        findings.push(
                            Finding::new(
                                ImportCode::Unsupported,
                                bf.span(b.labels.first().map_or(b.ident.span(), |l| l.span())),
                                format!("the `{kind}` post-processor has no AIB counterpart"),
                            )
                            .hint("AIB's run outputs name what was built; run follow-up steps after the build"),
                        );
                    }
                    other => findings.push(Finding::new(
                        ImportCode::Unsupported,
                        bf.span(b.ident.span()),
                        format!("the build's `{other}` block has no AIB counterpart; it is left out"),
                    )),
                },
            }
        }
    }
    findings.append(&mut scope.notes.borrow_mut());
    if !errors.is_empty() {
        return Err(errors);
    }
    // Findings about the template as a whole point at the source it builds, in the file
    // that declares it (not at the first file of a folder).
    let whole = sf.span(
        source.ident.span().map(|r| r.start..source.labels.last().and_then(|l| l.span()).map_or(r.end, |l| l.end)),
    );
    Ok(Template { builder, provisioners, description, whole })
}

fn parse(path: &Path, text: String, sources: &mut Sources, errors: &mut Vec<Finding>) -> Option<File> {
    let text = text.strip_prefix('\u{feff}').map(str::to_string).unwrap_or(text);
    let text = if text.contains('\r') { text.replace("\r\n", "\n").replace('\r', "\n") } else { text };
    let id = sources.add(path.to_path_buf(), text.clone());
    let mut lines = vec![0];
    lines.extend(text.match_indices('\n').map(|(i, _)| i + 1));
    if let Some((line, col)) = too_deep(&text) {
        errors.push(Finding::new(
            ImportCode::Syntax,
            Span::point(id, line, col),
            format!("values nest deeper than {MAX_NESTING} levels"),
        ));
        return None;
    }
    match hcl_edit::parser::parse_body(&text) {
        Ok(body) => Some(File { id, body, lines, text }),
        Err(e) => {
            // The parser's own column counts bytes in places; the offset is exact.
            let file = File { id, body: Body::default(), lines, text };
            let at = file.pos(e.location().offset());
            errors.push(
                Finding::new(
                    ImportCode::Syntax,
                    Span { file: id, start: at, end: at },
                    format!("this is not valid HCL: {}", e.message()),
                )
                .hint("check for a missing quote, bracket or `=` just before here"),
            );
            None
        }
    }
}

/// The first place where brackets nest deeper than the parser may go: outside strings,
/// and inside their `${…}` and `%{…}` sequences, which hold expressions again.
fn too_deep(text: &str) -> Option<(u32, u32)> {
    // Open brackets; `i` marks an interpolation, after which the string goes on.
    let mut stack: Vec<char> = Vec::new();
    let mut in_string = false;
    let (mut line, mut col) = (1u32, 0u32);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        col += 1;
        if c == '\n' {
            line += 1;
            col = 0;
            continue;
        }
        if in_string {
            match c {
                '\\' => {
                    chars.next();
                    col += 1;
                }
                '"' => in_string = false,
                '$' | '%' if chars.peek() == Some(&'{') => {
                    chars.next();
                    col += 1;
                    stack.push('i');
                    in_string = false;
                }
                _ => {}
            }
        } else {
            match c {
                '"' => in_string = true,
                '#' => {
                    while chars.peek().is_some_and(|&n| n != '\n') {
                        chars.next();
                    }
                }
                '/' if chars.peek() == Some(&'/') => {
                    while chars.peek().is_some_and(|&n| n != '\n') {
                        chars.next();
                    }
                }
                '{' | '[' | '(' => stack.push(c),
                // Closing an interpolation goes back into its string.
                '}' | ']' | ')' => in_string = stack.pop() == Some('i'),
                _ => {}
            }
        }
        if stack.len() > MAX_NESTING {
            return Some((line, col));
        }
    }
    None
}

/// `source.azure-arm.name` or `azure-arm.name` → `name`.
fn source_label(s: &str) -> Option<String> {
    let s = s.strip_prefix("source.").unwrap_or(s);
    s.strip_prefix("azure-arm.").map(str::to_string)
}

/// The build to import and the azure-arm source it uses; other builds and sources are
/// reported.
fn pick<'a>(
    builds: &[(usize, &'a HclBlock)],
    sources: &[(usize, &'a HclBlock)],
    files: &[File],
    findings: &mut Vec<Finding>,
) -> Option<(String, Option<(usize, &'a HclBlock)>)> {
    let declared = |name: &str| {
        sources
            .iter()
            .any(|(_, b)| b.labels.len() == 2 && b.labels[0].as_str() == "azure-arm" && b.labels[1].as_str() == name)
    };
    let mut chosen: Option<(String, Option<(usize, &HclBlock)>)> = None;
    for &(i, b) in builds {
        let f = &files[i];
        let mut names: Vec<(String, Span)> = Vec::new();
        if let Some(a) = b.body.get_attribute("sources")
            && let Expression::Array(items) = &a.value
        {
            for item in items.iter() {
                if let Some(s) = item.as_str() {
                    names.push((s.to_string(), f.span(item.span())));
                }
            }
        }
        for sb in b.body.get_blocks("source") {
            if let Some(l) = sb.labels.first() {
                names.push((l.as_str().to_string(), f.span(l.span())));
            }
        }
        for (name, span) in names {
            match source_label(&name).filter(|n| declared(n)) {
                Some(n) if chosen.is_none() => chosen = Some((n, Some((i, b)))),
                Some(n) if chosen.as_ref().is_some_and(|(c, _)| *c == n) => {}
                Some(_) => findings.push(Finding::new(
                    ImportCode::Unsupported,
                    span,
                    format!("`{name}` is a second azure-arm source: a spec describes one image, so it is left out"),
                )),
                None => findings.push(Finding::new(
                    ImportCode::Unsupported,
                    span,
                    format!("`{name}` does not build an Azure image; it is left out"),
                )),
            }
        }
    }
    if chosen.is_none() {
        // A source without a build: its settings, with no provisioners.
        let (_, b) = sources.iter().find(|(_, b)| b.labels.len() == 2 && b.labels[0].as_str() == "azure-arm")?;
        return Some((b.labels[1].as_str().to_string(), None));
    }
    chosen
}

/// Whether a provisioner runs for the source (`only` / `except`).
fn applies(b: &HclBlock, source: &str, scope: &Scope, f: &File, files: &[File]) -> bool {
    let names = |key: &str| -> Vec<String> {
        b.body
            .get_attribute(key)
            .map(|a| {
                scope.eval(&a.value, f, files, 0).items().iter().filter_map(|v| v.lit().map(str::to_string)).collect()
            })
            .unwrap_or_default()
    };
    let matches = |n: &String| source_label(n).as_deref() == Some(source) || n == source;
    let only = names("only");
    if !only.is_empty() {
        return only.iter().any(matches);
    }
    !names("except").iter().any(matches)
}

/// `v` with every part at `span` (a value read from a command-line argument).
fn respan(v: Val, span: Span) -> Val {
    let inner = match v.v {
        V::Arr(items) => V::Arr(items.into_iter().map(|i| respan(i, span)).collect()),
        V::Obj(entries) => V::Obj(entries.into_iter().map(|(k, _, x)| (k, span, respan(x, span))).collect()),
        other => other,
    };
    Val::new(inner, span)
}

/// `env("NAME")` as a whole expression: the name.
fn env_call(e: &Expression) -> Option<String> {
    let Expression::FuncCall(call) = e else { return None };
    if call.name.name.as_str() != "env" || call.args.len() != 1 {
        return None;
    }
    call.args.get(0)?.as_str().map(str::to_string)
}

fn kind_of_type(e: &Expression) -> ParamKind {
    let name = match e {
        Expression::Variable(v) => v.as_str().to_string(),
        Expression::FuncCall(c) => c.name.name.as_str().to_string(),
        _ => String::new(),
    };
    match name.as_str() {
        "number" => ParamKind::Int,
        "bool" => ParamKind::Bool,
        "list" | "set" | "tuple" => ParamKind::List,
        "map" | "object" => ParamKind::Map,
        _ => ParamKind::String,
    }
}

fn kind_of_value(v: Option<&Val>) -> ParamKind {
    match v.map(|v| &v.v) {
        Some(V::Int(_) | V::Float(_)) => ParamKind::Int,
        Some(V::Bool(_)) => ParamKind::Bool,
        Some(V::Arr(_)) => ParamKind::List,
        Some(V::Obj(_)) => ParamKind::Map,
        _ => ParamKind::String,
    }
}

/// What names refer to while evaluating.
struct Scope<'a> {
    /// Declared variables; with the value that replaces a list or mapping variable.
    vars: Vec<(String, Option<Val>)>,
    /// Variables' values when importing, and whether they were given (not defaults).
    known: Vec<(String, Val, bool)>,
    /// Variables already reported as computed with.
    noted: RefCell<Vec<String>>,
    locals: &'a BTreeMap<String, (usize, Expression)>,
    /// The source being built (`source.name`).
    source_name: String,
    /// What evaluating had to change, reported with the template's findings.
    notes: RefCell<Vec<Finding>>,
}

static NO_LOCALS: BTreeMap<String, (usize, Expression)> = BTreeMap::new();

impl Scope<'_> {
    /// Where only literals and functions are allowed (variable defaults, variable files).
    fn empty() -> Scope<'static> {
        Scope {
            vars: Vec::new(),
            known: Vec::new(),
            locals: &NO_LOCALS,
            source_name: String::new(),
            notes: RefCell::new(Vec::new()),
            noted: RefCell::new(Vec::new()),
        }
    }

    /// `v` with its variable references replaced by their values when importing, each
    /// reported once; `None` when a part has no value (an expression, an unset variable).
    fn known(&self, v: &Val) -> Option<Val> {
        let value_of = |name: &str| -> Option<(Val, bool)> {
            self.known.iter().find(|(n, _, _)| n == name).map(|(_, v, g)| (v.clone(), *g))
        };
        let note = |name: &str, value: &Val, given: bool| {
            if self.noted.borrow().iter().any(|n| n == name) {
                return;
            }
            self.noted.borrow_mut().push(name.to_string());
            let shown = super::super::params::literal(value).map(|j| j.to_string()).unwrap_or_default();
            let its = if given { "given value" } else { "default" };
            self.notes.borrow_mut().push(
                Finding::new(
                    ImportCode::CompileTime,
                    v.span,
                    format!("the template computes with `var.{name}` (a function, a condition): its {its} {shown} is used, and the spec has the result"),
                )
                .hint(format!("import again with `-var {name}=VALUE` for another value, or change the result in the spec")),
            );
        };
        match &v.v {
            V::Str(t) if !t.is_lit() => {
                if let Some(p) = t.as_param() {
                    let (value, given) = value_of(p)?;
                    note(p, &value, given);
                    return Some(Val { span: v.span, ..value });
                }
                let mut out = Text::default();
                for piece in t.pieces() {
                    match piece {
                        Piece::Lit(l) => out.push(Piece::Lit(l.clone())),
                        Piece::Param(p) => {
                            let (value, given) = value_of(p)?;
                            out.append(text(&value)?);
                            note(p, &value, given);
                        }
                        _ => return None,
                    }
                }
                Some(Val::str(out, v.span))
            }
            V::Arr(items) => {
                let items: Option<Vec<Val>> = items.iter().map(|i| self.known(i)).collect();
                Some(Val::new(V::Arr(items?), v.span))
            }
            V::Obj(entries) => {
                let entries: Option<Vec<(String, Span, Val)>> =
                    entries.iter().map(|(k, s, x)| Some((k.clone(), *s, self.known(x)?))).collect();
                Some(Val::new(V::Obj(entries?), v.span))
            }
            _ => Some(v.clone()),
        }
    }

    /// A block's body as settings: attributes, and nested blocks as mappings.
    fn body(&self, body: &Body, f: &File, files: &[File]) -> Vec<Attr> {
        let mut out = Vec::new();
        for s in body.iter() {
            match s {
                Structure::Attribute(a) => out.push(Attr {
                    key: a.key.as_str().to_string(),
                    key_span: f.span(a.key.span()),
                    value: self.eval(&a.value, f, files, 0),
                }),
                Structure::Block(b) => {
                    let entries =
                        self.body(&b.body, f, files).into_iter().map(|a| (a.key, a.key_span, a.value)).collect();
                    out.push(Attr {
                        key: b.ident.as_str().to_string(),
                        key_span: f.span(b.ident.span()),
                        value: Val::new(V::Obj(entries), f.span(b.span())),
                    });
                }
            }
        }
        out
    }

    fn eval(&self, e: &Expression, f: &File, files: &[File], depth: usize) -> Val {
        let span = f.span(e.span());
        let opaque = || Val::str(Text::piece(Piece::Opaque(f.slice(e.span()))), span);
        if depth > MAX_NESTING {
            return opaque();
        }
        let v = match e {
            Expression::Null(_) => V::Null,
            Expression::Bool(b) => V::Bool(*b.value()),
            Expression::Number(n) => match n.value().as_i64() {
                Some(i) => V::Int(i),
                None => V::Float(n.value().as_f64().unwrap_or_default()),
            },
            Expression::String(s) => V::Str(Text::lit(s.value().clone())),
            Expression::Array(items) => V::Arr(items.iter().map(|i| self.eval(i, f, files, depth + 1)).collect()),
            Expression::Object(o) => V::Obj(
                o.iter()
                    .map(|(k, v)| {
                        let key = match k {
                            ObjectKey::Ident(i) => i.as_str().to_string(),
                            ObjectKey::Expression(x) => {
                                self.eval(x, f, files, depth + 1).text().map(Text::canonical).unwrap_or_default()
                            }
                        };
                        (key, f.span(k.span()), self.eval(v.expr(), f, files, depth + 1))
                    })
                    .collect(),
            ),
            Expression::StringTemplate(t) => V::Str(self.template(t, f, files, depth)),
            Expression::HeredocTemplate(h) => V::Str(self.template(&h.template, f, files, depth)),
            Expression::Parenthesis(p) => return self.eval(p.inner(), f, files, depth + 1),
            Expression::Traversal(t) => {
                return self.traversal(&t.expr, &t.operators, f, files, depth, span).unwrap_or_else(opaque);
            }
            Expression::FuncCall(c) => {
                let args: Vec<Val> = c.args.iter().map(|a| self.eval(a, f, files, depth + 1)).collect();
                let name = c.name.name.as_str();
                // With references, a function is computed from their values when importing.
                return function(name, &args, span)
                    .or_else(|| {
                        let known: Option<Vec<Val>> = args.iter().map(|a| self.known(a)).collect();
                        function(name, &known?, span)
                    })
                    .unwrap_or_else(opaque);
            }
            Expression::Conditional(c) => match self.eval(&c.cond_expr, f, files, depth + 1).v {
                V::Bool(true) => return self.eval(&c.true_expr, f, files, depth + 1),
                V::Bool(false) => return self.eval(&c.false_expr, f, files, depth + 1),
                cond => match self.known(&Val::new(cond, span)).map(|v| v.v) {
                    Some(V::Bool(true)) => return self.eval(&c.true_expr, f, files, depth + 1),
                    Some(V::Bool(false)) => return self.eval(&c.false_expr, f, files, depth + 1),
                    _ => return opaque(),
                },
            },
            Expression::UnaryOp(u) => match (u.operator.value().as_str(), self.eval(&u.expr, f, files, depth + 1).v) {
                ("-", V::Int(i)) => V::Int(-i),
                ("!", V::Bool(b)) => V::Bool(!b),
                _ => return opaque(),
            },
            Expression::BinaryOp(b) => {
                let l = self.eval(&b.lhs_expr, f, files, depth + 1);
                let r = self.eval(&b.rhs_expr, f, files, depth + 1);
                let op = b.operator.value().as_str();
                return binary(op, &l, &r, span)
                    .or_else(|| binary(op, &self.known(&l)?, &self.known(&r)?, span))
                    .unwrap_or_else(opaque);
            }
            _ => return opaque(),
        };
        Val::new(v, span)
    }

    fn template(&self, t: &HclTemplate, f: &File, files: &[File], depth: usize) -> Text {
        let mut out = Text::default();
        for el in t.iter() {
            match el {
                Element::Literal(l) => out.push(Piece::Lit(l.value().clone())),
                Element::Interpolation(i) => {
                    let v = self.eval(&i.expr, f, files, depth + 1);
                    out.append(match v.v {
                        V::Str(t) => t,
                        V::Int(n) => Text::lit(n.to_string()),
                        V::Bool(b) => Text::lit(b.to_string()),
                        V::Float(x) => Text::lit(x.to_string()),
                        _ => Text::piece(Piece::Opaque(f.slice(i.expr.span()))),
                    });
                }
                Element::Directive(d) => out.push(Piece::Opaque(f.slice(d.span()))),
            }
        }
        out
    }

    /// `var.x`, `local.x`, `path.root`, `source.name`, with attribute and index access.
    fn traversal(
        &self,
        base: &Expression,
        ops: &[hcl_edit::Decorated<TraversalOperator>],
        f: &File,
        files: &[File],
        depth: usize,
        span: Span,
    ) -> Option<Val> {
        let Expression::Variable(root) = base else { return None };
        let attr = |i: usize| match ops.get(i).map(|o| o.value()) {
            Some(TraversalOperator::GetAttr(a)) => Some(a.as_str().to_string()),
            _ => None,
        };
        let (mut val, rest) = match root.as_str() {
            "var" => {
                let name = attr(0)?;
                let (_, fixed) = self.vars.iter().find(|(n, _)| *n == name)?;
                match fixed {
                    Some(v) => {
                        let given = self.known.iter().any(|(n, _, g)| *n == name && *g);
                        let its = if given { "given value" } else { "default" };
                        self.notes.borrow_mut().push(
                            Finding::new(
                                ImportCode::CompileTime,
                                span,
                                format!("a spec parameter cannot hold a list or mapping: `var.{name}` is replaced by its {its}"),
                            )
                            .hint("change the values in the spec when they should differ"),
                        );
                        (Val { span, ..v.clone() }, 1)
                    }
                    None => (Val::str(Text::piece(Piece::Param(name)), span), 1),
                }
            }
            "local" => {
                let name = attr(0)?;
                let (i, e) = self.locals.get(&name)?;
                if depth > MAX_LOCAL_DEPTH {
                    return None;
                }
                let v = self.eval(e, &files[*i], files, depth + MAX_NESTING / MAX_LOCAL_DEPTH);
                (Val { span, ..v }, 1)
            }
            "path" => match attr(0)?.as_str() {
                "root" | "cwd" => (Val::str(Text::lit("."), span), 1),
                _ => return None,
            },
            "source" => match attr(0)?.as_str() {
                "name" if !self.source_name.is_empty() => (Val::str(Text::lit(self.source_name.clone()), span), 1),
                "type" => (Val::str(Text::lit("azure-arm"), span), 1),
                _ => return None,
            },
            _ => return None,
        };
        for op in &ops[rest..] {
            val = match op.value() {
                TraversalOperator::GetAttr(a) => val.get(a.as_str())?.clone(),
                TraversalOperator::Index(i) => {
                    let index = self.eval(i, f, files, depth + 1);
                    match (&val.v, &index.v) {
                        (V::Arr(items), V::Int(n)) => items.get(usize::try_from(*n).ok()?)?.clone(),
                        (V::Obj(_), V::Str(k)) => val.get(k.as_lit()?)?.clone(),
                        _ => return None,
                    }
                }
                TraversalOperator::LegacyIndex(n) => val.items().get(usize::try_from(*n.value()).ok()?)?.clone(),
                _ => return None,
            };
        }
        Some(Val { span, ..val })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> (Result<Template, Vec<Finding>>, Params, Vec<Finding>) {
        let mut sources = Sources::default();
        let mut params = Params::default();
        let mut findings = Vec::new();
        let r = read(&[("t.pkr.hcl".into(), text.to_string())], &[], &[], &mut sources, &mut params, &mut findings);
        (r, params, findings)
    }

    #[test]
    fn evaluates_variables_locals_and_templates() {
        let (t, params, _) = one(r#"
variable "prefix" { default = "web" }
variable "client_id" {
  type    = string
  default = env("ARM_CLIENT_ID")
}
locals { name = "${var.prefix}-${lower("IMG")}" }
source "azure-arm" "win" {
  managed_image_name = local.name
  vm_size            = "Standard_D2s_v5"
  os_disk_size_gb    = 128
}
build {
  sources = ["source.azure-arm.win"]
  provisioner "powershell" {
    inline = ["Write-Host ${var.prefix}", "echo $${HOME}"]
  }
}
"#);
        let t = t.unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(t.builder.get("managed_image_name").unwrap().to_json(), "${params.prefix}-img");
        assert_eq!(t.builder.get("os_disk_size_gb").unwrap().v, V::Int(128));
        let inline = t.provisioners[0].get("inline").unwrap().to_json();
        assert_eq!(inline, serde_json::json!(["Write-Host ${params.prefix}", "echo ${HOME}"]));
        assert_eq!(params.get("client_id").unwrap().origin, Origin::Variable { env: Some("ARM_CLIENT_ID".into()) });
    }

    #[test]
    fn functions_and_conditions_use_values_known_when_importing() {
        let (t, _, findings) = one(r#"
variable "env" { default = "Staging" }
variable "gpu" { default = false }
variable "supplied" { default = "" }
locals {
  tags    = merge({ a = "1", b = "2" }, { b = "3" })
  name    = format("%s-%s", lower(var.env), upper(substr("web", 0, 2)))
  size    = var.gpu ? "Standard_NC4as_T4_v3" : lookup({ s = "D2" }, "s", "D4")
  regions = compact(split(",", "eastus,,westus"))
  stamp   = formatdate("YYYY", timestamp())
}
source "azure-arm" "x" {
  azure_tags         = local.tags
  managed_image_name = local.name
  vm_size            = local.size
  os_disk_size_gb    = 32 * 4
  location           = element(local.regions, 1)
  image_version      = local.stamp
  image_sku          = var.supplied
}
"#);
        let t = t.unwrap_or_else(|e| panic!("{e:?}"));
        let get = |k: &str| t.builder.get(k).unwrap().to_json();
        assert_eq!(get("azure_tags"), serde_json::json!({"a": "1", "b": "3"}));
        assert_eq!(get("managed_image_name"), "staging-WE");
        assert_eq!(get("vm_size"), "D2");
        assert_eq!(get("os_disk_size_gb"), 128);
        assert_eq!(get("location"), "westus");
        // Only known when building: kept as written.
        assert_eq!(get("image_version"), "[formatdate(\"YYYY\", timestamp())]");
        assert_eq!(get("image_sku"), "${params.supplied}");
        // Computing with a variable's default is reported, once per variable.
        let computed: Vec<&str> =
            findings.iter().filter(|f| f.code == ImportCode::CompileTime).map(|f| f.message.as_str()).collect();
        assert_eq!(computed.len(), 2, "{computed:?}");
    }

    #[test]
    fn syntax_errors_are_located() {
        let (r, _, _) = one("source \"azure-arm\" \"x\" {\n  vm_size = \n}\n");
        let e = r.err().unwrap();
        assert_eq!(e[0].code, ImportCode::Syntax);
        assert_eq!(e[0].span.start.line, 2);
        assert!(too_deep(&"[".repeat(100)).is_some());
        assert!(too_deep("x = \"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"").is_none());
    }
}
