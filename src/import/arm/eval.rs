//! Evaluating a spanned ARM tree: every string that is an expression becomes the value it
//! builds, with parameters kept as references.

use std::cell::{Cell, RefCell};

use super::super::diag::{Finding, ImportCode};
use super::super::value::{Piece, Text, V, Val};
use super::super::values::Given;
use super::expr::{self, Ast, Env, Parsed};
use crate::node::{Kind, Node, Scalar};
use crate::source::{Pos, Sources, Span};

/// Depth beyond which variables referring to variables are not followed (a cycle).
const MAX_VARIABLE_DEPTH: usize = 24;

/// Names as a template defines them: parameters stay references, variables are
/// evaluated where they are used.
pub struct TemplateEnv<'a> {
    parameters: Vec<(&'a str, &'a Node)>,
    variables: Vec<(&'a str, &'a Node)>,
    /// Values from a parameters file.
    given: &'a [Given],
    /// How deep parameter defaults are being followed (a default may refer to itself).
    depth: Cell<usize>,
    /// List and mapping parameters whose default was written in.
    pub defaulted: RefCell<Vec<String>>,
    /// Parameters whose value a function computed with when importing.
    pub computed: RefCell<Vec<String>>,
}

impl<'a> TemplateEnv<'a> {
    pub fn new(parameters: Option<&'a Node>, variables: Option<&'a Node>, given: &'a [Given]) -> TemplateEnv<'a> {
        let keys = |n: Option<&'a Node>| match n.map(|n| &n.kind) {
            Some(Kind::Map(entries)) => entries.iter().map(|e| (e.key.as_str(), &e.value)).collect(),
            _ => Vec::new(),
        };
        TemplateEnv {
            parameters: keys(parameters),
            variables: keys(variables),
            given,
            depth: Cell::new(0),
            defaulted: RefCell::new(Vec::new()),
            computed: RefCell::new(Vec::new()),
        }
    }
}

/// Whether a parameter declaration is of a type no spec parameter can hold.
pub fn is_container(decl: &Node) -> bool {
    decl.get("type")
        .and_then(Node::as_str)
        .is_some_and(|t| ["array", "object", "secureobject"].contains(&t.to_ascii_lowercase().as_str()))
}

impl Env for TemplateEnv<'_> {
    fn parameter(&self, name: &str) -> Option<Val> {
        // ARM names are case-insensitive; the reference uses the declared spelling.
        let (declared, decl) = self.parameters.iter().find(|(p, _)| p.eq_ignore_ascii_case(name))?;
        // A list or mapping is no spec parameter: its value (given, or the default) is
        // written in, so that the template's content can be read from it.
        if is_container(decl) && self.depth.get() < MAX_VARIABLE_DEPTH {
            if let Some(g) = self.given.iter().find(|g| g.name.eq_ignore_ascii_case(declared)) {
                return Some(g.value.clone());
            }
            if let Some(d) = decl.get("defaultValue") {
                let mut defaulted = self.defaulted.borrow_mut();
                if !defaulted.iter().any(|n| n == declared) {
                    defaulted.push(declared.to_string());
                }
                drop(defaulted);
                self.depth.set(self.depth.get() + 1);
                let v = eval_node(d, self, self.depth.get());
                self.depth.set(self.depth.get() - 1);
                return Some(v);
            }
        }
        Some(Val::str(Text::piece(Piece::Param(declared.to_string())), Span::default()))
    }

    fn known_parameter(&self, name: &str) -> Option<Val> {
        let (declared, decl) = self.parameters.iter().find(|(p, _)| p.eq_ignore_ascii_case(name))?;
        let value = match self.given.iter().rev().find(|g| g.name.eq_ignore_ascii_case(declared)) {
            Some(g) => g.value.clone(),
            None if self.depth.get() < MAX_VARIABLE_DEPTH => {
                self.depth.set(self.depth.get() + 1);
                let v = decl.get("defaultValue").map(|d| eval_node(d, self, self.depth.get()));
                self.depth.set(self.depth.get() - 1);
                v?
            }
            None => return None,
        };
        super::super::params::literal(&value)?;
        let mut computed = self.computed.borrow_mut();
        if !computed.iter().any(|n| n == declared) {
            computed.push(declared.to_string());
        }
        Some(value)
    }

    fn variable(&self, name: &str, depth: usize) -> Option<Val> {
        if depth > MAX_VARIABLE_DEPTH {
            return None;
        }
        let (_, node) = self.variables.iter().find(|(k, _)| k.eq_ignore_ascii_case(name))?;
        Some(eval_node(node, self, depth + 1))
    }
}

/// The value of a tree: strings evaluated as ARM reads them.
pub fn eval_node(node: &Node, env: &dyn Env, depth: usize) -> Val {
    let v = match &node.kind {
        Kind::Scalar(Scalar::Null) => V::Null,
        Kind::Scalar(Scalar::Bool(b)) => V::Bool(*b),
        Kind::Scalar(Scalar::Int(i)) => V::Int(*i),
        Kind::Scalar(Scalar::Float(f)) => V::Float(*f),
        Kind::Scalar(Scalar::Str(s)) => match expr::parse_string(s) {
            Ok(Parsed::Lit(l)) => V::Str(Text::lit(l)),
            Ok(Parsed::Expr(ast)) => return expr::eval(&ast, env, node.span, depth),
            // Reported by `check_expressions`; kept as written.
            Err(_) => V::Str(Text::piece(Piece::Opaque(s.clone()))),
        },
        Kind::Seq(items) => V::Arr(items.iter().map(|i| eval_node(i, env, depth)).collect()),
        Kind::Map(entries) => {
            V::Obj(entries.iter().map(|e| (e.key.clone(), e.key_span, eval_node(&e.value, env, depth))).collect())
        }
    };
    Val::new(v, node.span)
}

/// The value of a tree taken as it is: every string literal (an API body).
pub fn literal_node(node: &Node) -> Val {
    let v = match &node.kind {
        Kind::Scalar(Scalar::Str(s)) => V::Str(Text::lit(s.clone())),
        Kind::Seq(items) => V::Arr(items.iter().map(literal_node).collect()),
        Kind::Map(entries) => {
            V::Obj(entries.iter().map(|e| (e.key.clone(), e.key_span, literal_node(&e.value))).collect())
        }
        _ => return eval_node(node, &NoNames, 0),
    };
    Val::new(v, node.span)
}

/// Names in a tree that has none (its scalars need no lookup).
struct NoNames;

impl Env for NoNames {
    fn parameter(&self, _: &str) -> Option<Val> {
        None
    }
    fn variable(&self, _: &str, _: usize) -> Option<Val> {
        None
    }
}

/// Reports strings of an API body that look like template expressions: the API takes
/// them as they are, which is rarely what was meant.
pub fn expressions_in_body(node: &Node, findings: &mut Vec<Finding>) {
    match &node.kind {
        Kind::Scalar(Scalar::Str(s)) => {
            if matches!(expr::parse_string(s), Ok(Parsed::Expr(Ast::Call(..) | Ast::Prop(..) | Ast::Index(..)))) {
                findings.push(
                    Finding::new(
                        ImportCode::Changed,
                        node.span,
                        "this looks like a template expression, but an API body is not evaluated: it is kept as text",
                    )
                    .hint("to have it evaluated, import the ARM template that holds the resource"),
                );
            }
        }
        Kind::Seq(items) => items.iter().for_each(|i| expressions_in_body(i, findings)),
        Kind::Map(entries) => entries.iter().for_each(|e| expressions_in_body(&e.value, findings)),
        Kind::Scalar(_) => {}
    }
}

/// Reports every malformed expression in the tree, at the character where it fails.
pub fn check_expressions(node: &Node, sources: &Sources, findings: &mut Vec<Finding>) {
    match &node.kind {
        Kind::Scalar(Scalar::Str(s)) => check_one(s, node.span, sources, findings),
        Kind::Seq(items) => items.iter().for_each(|i| check_expressions(i, sources, findings)),
        Kind::Map(entries) => {
            for e in entries {
                check_one(&e.key, e.key_span, sources, findings);
                check_expressions(&e.value, sources, findings);
            }
        }
        Kind::Scalar(_) => {}
    }
}

fn check_one(s: &str, span: Span, sources: &Sources, findings: &mut Vec<Finding>) {
    if let Err((message, offset)) = expr::parse_string(s) {
        let at = position_in_string(span, offset, sources);
        findings.push(
            Finding::new(ImportCode::Invalid, at, format!("this is not a valid ARM expression: {message}"))
                .hint("an expression is `[function(arguments)]`; start a literal `[` with `[[`"),
        );
    }
}

/// Where character `offset` of a JSON string's value is: after the opening quote, when
/// the string is on one line and has no escapes before that point.
pub(crate) fn position_in_string(span: Span, offset: usize, sources: &Sources) -> Span {
    let line = sources.get(span.file).and_then(|f| f.line(span.start.line));
    let quoted = line.and_then(|l| l.chars().nth(span.start.col as usize - 1)) == Some('"');
    let escapes = line.map(|l| l.chars().skip(span.start.col as usize).take(offset).any(|c| c == '\\')).unwrap_or(true);
    if !quoted || escapes || span.end.line != span.start.line {
        return span;
    }
    let col = span.start.col + 1 + offset as u32;
    Span {
        file: span.file,
        start: Pos { line: span.start.line, col },
        end: Pos { line: span.start.line, col: col + 1 },
    }
}
