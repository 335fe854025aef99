//! ARM template expressions (`[concat('img-', parameters('env'))]`): a parser, and an
//! evaluator into symbolic values.
//!
//! Only what image templates use is evaluated (parameters, variables, concat, format,
//! resourceId, the deployment context, module outputs); anything else stays an opaque
//! piece written as in the template, so a value is never made up.

use super::super::value::{Piece, Text, V, Val};
use crate::source::Span;

/// Expressions nest at most this deep (calls in calls); deeper input is refused, not
/// recursed into.
const MAX_DEPTH: usize = 48;

#[derive(Debug, Clone, PartialEq)]
pub enum Ast {
    Str(String),
    Int(i64),
    Bool(bool),
    Null,
    Call(String, Vec<Ast>),
    /// `x.name`
    Prop(Box<Ast>, String),
    /// `x[i]`
    Index(Box<Ast>, Box<Ast>),
}

/// A string as ARM reads it: an expression, or literal text (`[[` escapes a leading `[`).
pub enum Parsed {
    Lit(String),
    Expr(Ast),
}

/// Classifies and parses a template string. `Err` carries a message and the character
/// offset in `s` where parsing failed.
pub fn parse_string(s: &str) -> Result<Parsed, (String, usize)> {
    if let Some(rest) = s.strip_prefix("[[") {
        return Ok(Parsed::Lit(format!("[{rest}")));
    }
    match s.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
        Some(inner) => parse(inner).map(Parsed::Expr).map_err(|(m, at)| (m, at + 1)),
        None => Ok(Parsed::Lit(s.to_string())),
    }
}

/// Parses the inside of `[…]`.
pub fn parse(src: &str) -> Result<Ast, (String, usize)> {
    let mut p = Parser { chars: src.chars().collect(), at: 0 };
    let ast = p.expr(0)?;
    p.ws();
    if p.at < p.chars.len() {
        return Err((format!("unexpected `{}` after the expression", p.chars[p.at]), p.at));
    }
    Ok(ast)
}

struct Parser {
    chars: Vec<char>,
    at: usize,
}

impl Parser {
    fn ws(&mut self) {
        while self.chars.get(self.at).is_some_and(|c| c.is_whitespace()) {
            self.at += 1;
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn eat(&mut self, c: char) -> bool {
        self.ws();
        if self.peek() == Some(c) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: char) -> Result<(), (String, usize)> {
        if self.eat(c) {
            Ok(())
        } else {
            let found = self.peek().map(|f| format!("`{f}`")).unwrap_or_else(|| "the end".into());
            Err((format!("expected `{c}`, found {found}"), self.at))
        }
    }

    fn expr(&mut self, depth: usize) -> Result<Ast, (String, usize)> {
        if depth > MAX_DEPTH {
            return Err((format!("the expression nests deeper than {MAX_DEPTH} levels"), self.at));
        }
        let mut ast = self.primary(depth)?;
        loop {
            if self.eat('.') {
                self.ws();
                let name = self.ident();
                if name.is_empty() {
                    return Err(("expected a property name after `.`".into(), self.at));
                }
                ast = Ast::Prop(Box::new(ast), name);
            } else if self.eat('[') {
                let index = self.expr(depth + 1)?;
                self.expect(']')?;
                ast = Ast::Index(Box::new(ast), Box::new(index));
            } else {
                return Ok(ast);
            }
        }
    }

    fn ident(&mut self) -> String {
        let start = self.at;
        while self.peek().is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
            self.at += 1;
        }
        self.chars[start..self.at].iter().collect()
    }

    fn primary(&mut self, depth: usize) -> Result<Ast, (String, usize)> {
        self.ws();
        match self.peek() {
            Some('\'') => {
                self.at += 1;
                let mut s = String::new();
                loop {
                    match self.peek() {
                        None => return Err(("a string is not closed with `'`".into(), self.at)),
                        Some('\'') if self.chars.get(self.at + 1) == Some(&'\'') => {
                            s.push('\'');
                            self.at += 2;
                        }
                        Some('\'') => {
                            self.at += 1;
                            return Ok(Ast::Str(s));
                        }
                        Some(c) => {
                            s.push(c);
                            self.at += 1;
                        }
                    }
                }
            }
            Some(c) if c.is_ascii_digit() || c == '-' => {
                let start = self.at;
                self.at += 1;
                while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                    self.at += 1;
                }
                let text: String = self.chars[start..self.at].iter().collect();
                text.parse().map(Ast::Int).map_err(|_| (format!("`{text}` is not a number"), start))
            }
            Some(c) if c.is_alphabetic() || c == '_' => {
                let start = self.at;
                let name = self.ident();
                if !self.eat('(') {
                    return match name.as_str() {
                        "true" => Ok(Ast::Bool(true)),
                        "false" => Ok(Ast::Bool(false)),
                        "null" => Ok(Ast::Null),
                        _ => Err((format!("`{name}` is not a function call (no `(`)"), start)),
                    };
                }
                let mut args = Vec::new();
                if !self.eat(')') {
                    loop {
                        args.push(self.expr(depth + 1)?);
                        if self.eat(')') {
                            break;
                        }
                        self.expect(',')?;
                    }
                }
                Ok(Ast::Call(name, args))
            }
            Some(c) => Err((format!("unexpected `{c}`"), self.at)),
            None => Err(("the expression is empty".into(), self.at)),
        }
    }
}

impl Ast {
    /// ARM syntax, as it would be written in a template (without the brackets).
    pub fn render(&self) -> String {
        match self {
            Ast::Str(s) => format!("'{}'", s.replace('\'', "''")),
            Ast::Int(i) => i.to_string(),
            Ast::Bool(b) => b.to_string(),
            Ast::Null => "null()".into(),
            Ast::Call(f, args) => {
                format!("{f}({})", args.iter().map(Ast::render).collect::<Vec<_>>().join(", "))
            }
            Ast::Prop(x, name) => format!("{}.{name}", x.render()),
            Ast::Index(x, i) => format!("{}[{}]", x.render(), i.render()),
        }
    }
}

/// What an expression's names refer to.
pub trait Env {
    /// The value of `parameters(name)`; `None` when the template declares no such
    /// parameter.
    fn parameter(&self, name: &str) -> Option<Val>;
    /// The value of `variables(name)`.
    fn variable(&self, name: &str, depth: usize) -> Option<Val>;
    /// `reference(<deployment id>).outputs.<name>.value`, for nested deployments.
    fn deployment_output(&self, _deployment: &str, _output: &str, _depth: usize) -> Option<Val> {
        None
    }
    /// A parameter's value when importing (given, or its default) for a function that
    /// needs a value, not a reference (`toLower`, `equals`, `if`); noted as used.
    fn known_parameter(&self, _name: &str) -> Option<Val> {
        None
    }
}

/// `v` with every parameter reference replaced by its value when importing; `None` when
/// a part has none (an expression, the deployment's context).
fn known(v: &Val, env: &dyn Env) -> Option<Val> {
    match &v.v {
        V::Str(t) if !t.is_lit() => {
            if let Some(p) = t.as_param() {
                return env.known_parameter(p).map(|k| Val { span: v.span, ..k });
            }
            let mut out = Text::default();
            for piece in t.pieces() {
                match piece {
                    Piece::Lit(l) => out.push(Piece::Lit(l.clone())),
                    Piece::Param(p) => out.append(text_of(&env.known_parameter(p)?).filter(Text::is_lit)?),
                    _ => return None,
                }
            }
            Some(Val::str(out, v.span))
        }
        _ => Some(v.clone()),
    }
}

/// Evaluates an expression; `span` is where its string stands (every part of the result
/// is reported there).
pub fn eval(ast: &Ast, env: &dyn Env, span: Span, depth: usize) -> Val {
    let opaque = || Val::str(Text::piece(Piece::Opaque(ast.render())), span);
    if depth > MAX_DEPTH {
        return opaque();
    }
    let v = match ast {
        Ast::Str(s) => V::Str(Text::lit(s.clone())),
        Ast::Int(i) => V::Int(*i),
        Ast::Bool(b) => V::Bool(*b),
        Ast::Null => V::Null,
        Ast::Call(f, args) => return call(f, args, ast, env, span, depth),
        Ast::Prop(inner, name) => {
            if let Some(v) = context(ast) {
                return Val::str(v, span);
            }
            if let Some(v) = output_reference(ast, env, depth) {
                return Val { span, ..v };
            }
            let x = eval(inner, env, span, depth + 1);
            match x.get(name) {
                Some(v) => return v.clone(),
                None => return opaque(),
            }
        }
        Ast::Index(inner, index) => {
            let x = eval(inner, env, span, depth + 1);
            let i = eval(index, env, span, depth + 1);
            let found = match (&x.v, &i.v) {
                (V::Arr(items), V::Int(n)) => usize::try_from(*n).ok().and_then(|n| items.get(n)),
                (V::Obj(_), V::Str(t)) => t.as_lit().and_then(|k| x.get(k)),
                _ => None,
            };
            match found {
                Some(v) => return v.clone(),
                None => return opaque(),
            }
        }
    };
    Val::new(v, span)
}

/// `resourceGroup().location` and the like: values of the deployment's context.
fn context(ast: &Ast) -> Option<Text> {
    let Ast::Prop(inner, name) = ast else { return None };
    let Ast::Call(f, args) = inner.as_ref() else { return None };
    if !args.is_empty() {
        return None;
    }
    match (f.to_ascii_lowercase().as_str(), name.as_str()) {
        ("resourcegroup", "id") => {
            let mut t = Text::lit("/subscriptions/");
            t.push(Piece::Ctx("subscription().subscriptionId".into()));
            t.push(Piece::Lit("/resourceGroups/".into()));
            t.push(Piece::Ctx("resourceGroup().name".into()));
            Some(t)
        }
        ("resourcegroup", "location" | "name") => Some(Text::piece(Piece::Ctx(format!("resourceGroup().{name}")))),
        ("subscription", "subscriptionId" | "tenantId" | "id") => {
            Some(Text::piece(Piece::Ctx(format!("subscription().{name}"))))
        }
        _ => None,
    }
}

/// `reference(<deployment>, …).outputs.<name>.value`.
fn output_reference(ast: &Ast, env: &dyn Env, depth: usize) -> Option<Val> {
    let Ast::Prop(outer, value) = ast else { return None };
    let Ast::Prop(outputs, name) = outer.as_ref() else { return None };
    let Ast::Prop(reference, word) = outputs.as_ref() else { return None };
    let Ast::Call(f, args) = reference.as_ref() else { return None };
    if value != "value" || word != "outputs" || !f.eq_ignore_ascii_case("reference") {
        return None;
    }
    let id = eval(args.first()?, env, Span::default(), depth + 1);
    let id = id.text()?.canonical();
    let deployment = id.rsplit_once("/deployments/").map(|(_, n)| n.to_string()).unwrap_or(id);
    env.deployment_output(&deployment, name, depth + 1)
}

fn text_of(v: &Val) -> Option<Text> {
    match &v.v {
        V::Str(t) => Some(t.clone()),
        V::Int(i) => Some(Text::lit(i.to_string())),
        V::Bool(b) => Some(Text::lit(b.to_string())),
        _ => None,
    }
}

fn call(f: &str, args: &[Ast], ast: &Ast, env: &dyn Env, span: Span, depth: usize) -> Val {
    let opaque = || Val::str(Text::piece(Piece::Opaque(ast.render())), span);
    let arg = |i: usize| args.get(i).map(|a| eval(a, env, span, depth + 1));
    // An argument's value when importing, parameters taken at their values.
    let value = |i: usize| arg(i).and_then(|v| known(&v, env));
    let lit = |i: usize| value(i).and_then(|v| text_of(&v)).and_then(|t| t.as_lit().map(str::to_string));
    let boolean = |i: usize| match value(i).map(|v| v.v) {
        Some(V::Bool(b)) => Some(b),
        _ => None,
    };
    let number = |i: usize| match value(i).map(|v| v.v) {
        Some(V::Int(n)) => Some(n),
        Some(V::Str(t)) => t.as_lit().and_then(|s| s.trim().parse().ok()),
        _ => None,
    };
    let string = |s: String| Val::str(Text::lit(s), span);
    let boolean_val = |b: bool| Val::new(V::Bool(b), span);
    let computed = match f.to_ascii_lowercase().as_str() {
        "equals" => value(0).zip(value(1)).and_then(|(a, b)| {
            let known = |v: &Val| super::super::params::literal(v);
            Some(boolean_val(known(&a)? == known(&b)?))
        }),
        "not" => boolean(0).map(|b| boolean_val(!b)),
        "and" => (0..args.len()).map(boolean).collect::<Option<Vec<bool>>>().map(|b| boolean_val(b.iter().all(|x| *x))),
        "or" => (0..args.len()).map(boolean).collect::<Option<Vec<bool>>>().map(|b| boolean_val(b.iter().any(|x| *x))),
        "empty" => value(0).and_then(|v| match &v.v {
            V::Null => Some(boolean_val(true)),
            V::Arr(items) => Some(boolean_val(items.is_empty())),
            V::Obj(entries) => Some(boolean_val(entries.is_empty())),
            V::Str(t) => t.as_lit().map(|s| boolean_val(s.is_empty())),
            _ => None,
        }),
        "length" => value(0).and_then(|v| match &v.v {
            V::Arr(items) => Some(Val::new(V::Int(items.len() as i64), span)),
            V::Obj(entries) => Some(Val::new(V::Int(entries.len() as i64), span)),
            V::Str(t) => t.as_lit().map(|s| Val::new(V::Int(s.chars().count() as i64), span)),
            _ => None,
        }),
        "tolower" => lit(0).map(|s| string(s.to_lowercase())),
        "toupper" => lit(0).map(|s| string(s.to_uppercase())),
        "trim" => lit(0).map(|s| string(s.trim().to_string())),
        "replace" => lit(0).zip(lit(1)).zip(lit(2)).map(|((s, a), b)| string(s.replace(&a, &b))),
        "startswith" => lit(0).zip(lit(1)).map(|(s, p)| boolean_val(s.to_lowercase().starts_with(&p.to_lowercase()))),
        "endswith" => lit(0).zip(lit(1)).map(|(s, p)| boolean_val(s.to_lowercase().ends_with(&p.to_lowercase()))),
        "substring" => lit(0).and_then(|s| {
            let chars: Vec<char> = s.chars().collect();
            let from = usize::try_from(number(1)?).ok()?;
            let len = match args.len() {
                2 => chars.len().checked_sub(from)?,
                _ => usize::try_from(number(2)?).ok()?,
            };
            Some(string(chars.get(from..from.checked_add(len)?)?.iter().collect()))
        }),
        "split" => lit(0).zip(lit(1)).filter(|(_, sep)| !sep.is_empty()).map(|(s, sep)| {
            Val::new(V::Arr(s.split(sep.as_str()).map(|p| Val::str(Text::lit(p), span)).collect()), span)
        }),
        "first" | "last" => value(0).and_then(|v| {
            let items = v.items();
            let pick = if f.eq_ignore_ascii_case("first") { items.first() } else { items.last() };
            pick.map(|p| Val { span, ..p.clone() })
        }),
        "union" => {
            let vals: Option<Vec<Val>> = (0..args.len()).map(value).collect();
            vals.filter(|v| !v.is_empty() && v.iter().all(|x| matches!(x.v, V::Obj(_)))).map(|vals| {
                let mut out: Vec<(String, Span, Val)> = Vec::new();
                for v in vals {
                    for (k, ks, x) in v.entries() {
                        match out.iter_mut().find(|(o, _, _)| o.eq_ignore_ascii_case(k)) {
                            Some(slot) => *slot = (k.clone(), *ks, x.clone()),
                            None => out.push((k.clone(), *ks, x.clone())),
                        }
                    }
                }
                Val::new(V::Obj(out), span)
            })
        }
        "coalesce" => (0..args.len()).find_map(|i| arg(i).filter(|v| !matches!(v.v, V::Null))),
        "if" => match boolean(0) {
            Some(true) => arg(1),
            Some(false) => arg(2),
            None => None,
        },
        _ => None,
    };
    if let Some(v) = computed {
        return v;
    }
    let lit_arg = |i: usize| match args.get(i) {
        Some(Ast::Str(s)) => Some(s.clone()),
        _ => None,
    };
    match f.to_ascii_lowercase().as_str() {
        "parameters" => match lit_arg(0).and_then(|n| env.parameter(&n)) {
            Some(v) => Val { span, ..v },
            None => opaque(),
        },
        "variables" => match lit_arg(0).and_then(|n| env.variable(&n, depth + 1)) {
            Some(v) => Val { span, ..v },
            None => opaque(),
        },
        // The public cloud's suffixes: aibc writes `environment().suffixes.storage` where a
        // template names a storage host, and the original said `core.windows.net`.
        "environment" if args.is_empty() => {
            let storage = Val::str(Text::lit("core.windows.net".to_string()), span);
            let suffixes = Val::new(V::Obj(vec![("storage".into(), span, storage)]), span);
            Val::new(V::Obj(vec![("suffixes".into(), span, suffixes)]), span)
        }
        "concat" => {
            let vals: Vec<Val> = args.iter().map(|a| eval(a, env, span, depth + 1)).collect();
            if !vals.is_empty() && vals.iter().all(|v| matches!(v.v, V::Arr(_))) {
                let items = vals.into_iter().flat_map(|v| match v.v {
                    V::Arr(items) => items,
                    _ => Vec::new(),
                });
                return Val::new(V::Arr(items.collect()), span);
            }
            match vals.iter().map(text_of).collect::<Option<Vec<Text>>>() {
                Some(parts) => Val::str(Text::concat(parts), span),
                None => opaque(),
            }
        }
        "format" => {
            let Some(fmt) = lit_arg(0) else { return opaque() };
            let values: Option<Vec<Text>> = (1..args.len()).map(|i| arg(i).as_ref().and_then(text_of)).collect();
            match values.and_then(|v| format(&fmt, &v)) {
                Some(t) => Val::str(t, span),
                None => opaque(),
            }
        }
        "resourceid" => {
            let vals: Option<Vec<Text>> = (0..args.len()).map(|i| arg(i).as_ref().and_then(text_of)).collect();
            match vals.and_then(|v| resource_id(&v)) {
                Some(t) => Val::str(t, span),
                None => opaque(),
            }
        }
        "string" => match arg(0) {
            Some(v) => match text_of(&v) {
                Some(t) => Val::str(t, span),
                None => opaque(),
            },
            None => opaque(),
        },
        "int" => match arg(0).map(|v| v.v) {
            Some(V::Int(i)) => Val::new(V::Int(i), span),
            Some(V::Str(t)) => match t.as_lit().and_then(|s| s.trim().parse().ok()) {
                Some(i) => Val::new(V::Int(i), span),
                None => opaque(),
            },
            _ => opaque(),
        },
        "bool" => match arg(0).map(|v| v.v) {
            Some(V::Bool(b)) => Val::new(V::Bool(b), span),
            Some(V::Str(t)) if t.as_lit().is_some_and(|s| s.eq_ignore_ascii_case("true")) => {
                Val::new(V::Bool(true), span)
            }
            Some(V::Str(t)) if t.as_lit().is_some_and(|s| s.eq_ignore_ascii_case("false")) => {
                Val::new(V::Bool(false), span)
            }
            _ => opaque(),
        },
        "true" if args.is_empty() => Val::new(V::Bool(true), span),
        "false" if args.is_empty() => Val::new(V::Bool(false), span),
        "null" if args.is_empty() => Val::new(V::Null, span),
        "createarray" => Val::new(V::Arr(args.iter().map(|a| eval(a, env, span, depth + 1)).collect()), span),
        _ => opaque(),
    }
}

/// .NET-style `format`: `{0}` placeholders, `{{` and `}}` escapes. `None` for formats
/// it cannot apply exactly (format specifiers, missing arguments).
fn format(fmt: &str, values: &[Text]) -> Option<Text> {
    let mut out = Text::default();
    let mut lit = String::new();
    let mut chars = fmt.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                lit.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                lit.push('}');
            }
            '{' => {
                let mut n = String::new();
                for d in chars.by_ref() {
                    if d == '}' {
                        break;
                    }
                    n.push(d);
                }
                let i: usize = n.trim().parse().ok()?;
                out.push(Piece::Lit(std::mem::take(&mut lit)));
                out.append(values.get(i)?.clone());
            }
            '}' => return None,
            c => lit.push(c),
        }
    }
    out.push(Piece::Lit(lit));
    Some(out)
}

/// `resourceId([subscriptionId], [resourceGroupName], type, name…)` as the ID it builds;
/// left-out subscription and group are the deployment's.
fn resource_id(args: &[Text]) -> Option<Text> {
    // The type is the first argument with a `/` (`Microsoft.Compute/galleries/images`).
    let t = args.iter().position(|a| a.as_lit().is_some_and(|s| s.contains('/')))?;
    if t > 2 {
        return None;
    }
    let type_name = args[t].as_lit()?;
    let mut segs = type_name.split('/');
    let namespace = segs.next()?;
    let types: Vec<&str> = segs.collect();
    let names = &args[t + 1..];
    if types.len() != names.len() || names.is_empty() {
        return None;
    }
    let sub = if t == 2 { args[0].clone() } else { Text::piece(Piece::Ctx("subscription().subscriptionId".into())) };
    let rg = if t >= 1 { args[t - 1].clone() } else { Text::piece(Piece::Ctx("resourceGroup().name".into())) };
    let mut id = Text::lit("/subscriptions/");
    id.append(sub);
    id.push(Piece::Lit("/resourceGroups/".into()));
    id.append(rg);
    id.push(Piece::Lit(format!("/providers/{namespace}")));
    for (ty, name) in types.iter().zip(names) {
        id.push(Piece::Lit(format!("/{ty}/")));
        id.append(name.clone());
    }
    Some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct NoEnv;
    impl Env for NoEnv {
        fn parameter(&self, name: &str) -> Option<Val> {
            Some(Val::str(Text::piece(Piece::Param(name.into())), Span::default()))
        }
        fn variable(&self, name: &str, _: usize) -> Option<Val> {
            (name == "base").then(|| Val::str(Text::lit("img"), Span::default()))
        }
    }

    /// Parameters with values when importing: `env` = "Prod", `on` = true.
    struct Known;
    impl Env for Known {
        fn parameter(&self, name: &str) -> Option<Val> {
            Some(Val::str(Text::piece(Piece::Param(name.into())), Span::default()))
        }
        fn variable(&self, _: &str, _: usize) -> Option<Val> {
            None
        }
        fn known_parameter(&self, name: &str) -> Option<Val> {
            match name {
                "env" => Some(Val::str(Text::lit("Prod"), Span::default())),
                "on" => Some(Val::new(V::Bool(true), Span::default())),
                _ => None,
            }
        }
    }

    fn known(s: &str) -> serde_json::Value {
        match parse_string(s).unwrap() {
            Parsed::Expr(a) => eval(&a, &Known, Span::default(), 0).to_json(),
            Parsed::Lit(l) => l.into(),
        }
    }

    #[test]
    fn computes_with_values_known_when_importing() {
        assert_eq!(known("[toLower(parameters('env'))]"), "prod");
        assert_eq!(known("[if(equals(parameters('env'), 'Prod'), 'big', 'small')]"), "big");
        assert_eq!(known("[if(not(parameters('on')), 'a', 'b')]"), "b");
        assert_eq!(known("[substring(concat('img-', parameters('env')), 4, 2)]"), "Pr");
        assert_eq!(known("[replace('a-b-c', '-', '.')]"), "a.b.c");
        assert_eq!(known("[length(split('a,b,c', ','))]"), 3);
        assert_eq!(known("[union(createArray(), createArray())]"), "[union(createArray(), createArray())]");
        assert_eq!(known("[empty('')]"), true);
        // What is not known stays as written (and becomes a parameter or a stand-in).
        assert_eq!(known("[toLower(parameters('other'))]"), "[toLower(parameters('other'))]");
        assert_eq!(known("[substring('abc', 2, 5)]"), "[substring('abc', 2, 5)]");
        assert_eq!(known("[concat('img-', parameters('env'))]"), "img-${params.env}");
    }

    fn ev(s: &str) -> String {
        match parse_string(s).unwrap() {
            Parsed::Lit(l) => l,
            Parsed::Expr(a) => eval(&a, &NoEnv, Span::default(), 0).to_json().as_str().unwrap_or("?").to_string(),
        }
    }

    #[test]
    fn evaluates_string_building() {
        assert_eq!(ev("[concat(variables('base'), '-', parameters('env'))]"), "img-${params.env}");
        assert_eq!(ev("[format('{0}/v{1}-{{x}}', parameters('a'), 2)]"), "${params.a}/v2-{x}");
        assert_eq!(ev("[[not an expression]"), "[not an expression]");
        assert_eq!(ev("plain"), "plain");
        assert_eq!(ev("[toLower('ABC')]"), "abc");
        assert_eq!(ev("[resourceGroup().location]"), "[resourceGroup().location]");
        assert_eq!(ev("[utcNow('yyyy')]"), "[utcNow('yyyy')]");
        assert_eq!(ev("['it''s']"), "it's");
    }

    #[test]
    fn builds_resource_ids() {
        assert_eq!(
            ev("[resourceId('rg1', 'Microsoft.Compute/images', 'img')]"),
            "/subscriptions/[subscription().subscriptionId]/resourceGroups/rg1/providers/Microsoft.Compute/images/img"
        );
        assert_eq!(
            ev("[resourceId('Microsoft.Compute/galleries/images', parameters('g'), 'def')]"),
            "/subscriptions/[subscription().subscriptionId]/resourceGroups/[resourceGroup().name]/providers/Microsoft.Compute/galleries/${params.g}/images/def"
        );
    }

    #[test]
    fn rejects_malformed_expressions_with_a_position() {
        for (s, at) in [("[concat('a']", 11), ("[concat('a',)]", 12), ("[foo]", 1), ("[1 2]", 3)] {
            match parse_string(s) {
                Err((_, pos)) => assert_eq!(pos, at, "{s}"),
                Ok(_) => panic!("{s} parsed"),
            }
        }
        let deep = format!("[{}'x'{}]", "concat(".repeat(200), ")".repeat(200));
        assert!(parse_string(&deep).is_err());
    }
}
