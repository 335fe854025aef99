//! Values and expressions, printed by both emitters.

/// A value in a template: literals, containers and the few expression forms aibc needs.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Null,
    Bool(bool),
    Int(i64),
    Str(String),
    Array(Vec<Expr>),
    Object(Vec<Prop>),
    /// A parameter of the file the expression is in.
    Param(String),
    /// A variable of main (`var tags = {…}`).
    Var(String),
    /// A property of a resource in the same file: `["id"]`, `["name"]`, or
    /// `["properties", "principalId"]` (a runtime value: ARM's `reference()`).
    Ref(String, Vec<String>),
    /// An output of a module (in main).
    ModuleOutput(String, String),
    /// A function call: `guid(…)`, `uniqueString(…)`, `resourceGroup()`, …
    Call(String, Vec<Expr>),
    /// A property of a function's result: `resourceGroup().location`.
    Access(Box<Expr>, String),
    /// String interpolation: literal `Str` pieces and expressions.
    Interp(Vec<Expr>),
    /// A value with a line comment above it (in Bicep; ARM drops it).
    Commented(String, Box<Expr>),
    /// `condition ? then : else`.
    Cond(Box<Expr>, Box<Expr>, Box<Expr>),
}

/// An object property. The key may be an expression (`'${identityId}': {}`).
#[derive(Debug, Clone, PartialEq)]
pub struct Prop {
    pub key: Expr,
    pub value: Expr,
}

impl Prop {
    pub fn new(key: &str, value: Expr) -> Prop {
        Prop { key: Expr::Str(key.to_string()), value }
    }
}

impl Expr {
    pub fn str(s: impl Into<String>) -> Expr {
        Expr::Str(s.into())
    }
    pub fn param(s: &str) -> Expr {
        Expr::Param(s.to_string())
    }
    pub fn call(f: &str, args: Vec<Expr>) -> Expr {
        Expr::Call(f.to_string(), args)
    }
    pub fn id_of(symbol: &str) -> Expr {
        Expr::Ref(symbol.to_string(), vec!["id".into()])
    }
    pub fn prop_of(symbol: &str, path: &[&str]) -> Expr {
        Expr::Ref(symbol.to_string(), path.iter().map(|s| s.to_string()).collect())
    }
    pub fn output(module: &str, name: &str) -> Expr {
        Expr::ModuleOutput(module.to_string(), name.to_string())
    }
    pub fn rg_location() -> Expr {
        Expr::Access(Box::new(Expr::call("resourceGroup", vec![])), "location".into())
    }
    pub fn rg_id() -> Expr {
        Expr::Access(Box::new(Expr::call("resourceGroup", vec![])), "id".into())
    }
    pub fn obj(props: Vec<(&str, Expr)>) -> Expr {
        Expr::Object(props.into_iter().map(|(k, v)| Prop::new(k, v)).collect())
    }
    pub fn strings(items: &[String]) -> Expr {
        Expr::Array(items.iter().map(|s| Expr::Str(s.clone())).collect())
    }
    /// Builds an interpolation, merging adjacent literal pieces and collapsing a single
    /// piece to itself.
    pub fn interp(parts: Vec<Expr>) -> Expr {
        let mut out: Vec<Expr> = Vec::new();
        let flat = parts.into_iter().flat_map(|p| match p {
            Expr::Interp(inner) => inner,
            other => vec![other],
        });
        for p in flat {
            match (out.last_mut(), p) {
                (Some(Expr::Str(a)), Expr::Str(b)) => a.push_str(&b),
                (_, Expr::Str(b)) if b.is_empty() => {}
                (_, p) => out.push(p),
            }
        }
        match out.len() {
            0 => Expr::Str(String::new()),
            1 if matches!(out[0], Expr::Str(_)) => out.pop().expect("one"),
            _ => Expr::Interp(out),
        }
    }
    pub fn commented(comment: impl Into<String>, e: Expr) -> Expr {
        Expr::Commented(comment.into(), Box::new(e))
    }

    /// Calls `f` on this expression and every expression inside it.
    pub fn visit(&self, f: &mut impl FnMut(&Expr)) {
        f(self);
        match self {
            Expr::Array(items) => items.iter().for_each(|e| e.visit(f)),
            Expr::Object(props) => props.iter().for_each(|p| {
                p.key.visit(f);
                p.value.visit(f);
            }),
            Expr::Call(_, args) | Expr::Interp(args) => args.iter().for_each(|e| e.visit(f)),
            Expr::Access(e, _) | Expr::Commented(_, e) => e.visit(f),
            Expr::Cond(c, a, b) => {
                c.visit(f);
                a.visit(f);
                b.visit(f);
            }
            _ => {}
        }
    }

    /// Whether the value depends on anything but literals.
    pub fn is_literal(&self) -> bool {
        let mut lit = true;
        self.visit(&mut |e| {
            if matches!(
                e,
                Expr::Param(_)
                    | Expr::Var(_)
                    | Expr::Ref(..)
                    | Expr::ModuleOutput(..)
                    | Expr::Call(..)
                    | Expr::Access(..)
            ) {
                lit = false;
            }
        });
        lit
    }
}

/// Turns a spec string with `${params.X}` references into an expression.
pub fn from_spec_string(s: &str) -> Expr {
    use crate::params::{Part, split};
    Expr::interp(
        split(s)
            .into_iter()
            .map(|p| match p {
                Part::Lit(l) => Expr::Str(l),
                Part::Param(n) => Expr::Param(n),
            })
            .collect(),
    )
}
