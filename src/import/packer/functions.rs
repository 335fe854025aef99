//! HCL2 functions and operators, computed when importing where their arguments are known
//! (`merge`, `lower`, `format`, `lookup`, `==`, `*`…). Functions whose result only exists
//! when Packer builds (`timestamp()`, `uuidv4()`) are not computed: the caller keeps them
//! as written, and they become spec parameters where the spec allows.

use super::super::value::{Piece, Text, V, Val};
use crate::source::Span;

/// A value as text, when it is a scalar.
pub(super) fn text(v: &Val) -> Option<Text> {
    match &v.v {
        V::Str(t) => Some(t.clone()),
        V::Int(i) => Some(Text::lit(i.to_string())),
        V::Bool(b) => Some(Text::lit(b.to_string())),
        _ => None,
    }
}

/// A binary operation on values known when importing: comparisons, logic and whole-number
/// arithmetic. `None` when an operand is not known (a variable), so that the expression
/// stays as written.
pub(super) fn binary(op: &str, l: &Val, r: &Val, span: Span) -> Option<Val> {
    let known = |v: &Val| match &v.v {
        V::Str(t) => t.is_lit(),
        V::Arr(_) | V::Obj(_) => super::super::params::literal(v).is_some(),
        _ => true,
    };
    let v = match (op, &l.v, &r.v) {
        ("==" | "!=", _, _) if known(l) && known(r) => {
            let same = l.to_json() == r.to_json();
            V::Bool(if op == "==" { same } else { !same })
        }
        ("&&", V::Bool(a), V::Bool(b)) => V::Bool(*a && *b),
        ("||", V::Bool(a), V::Bool(b)) => V::Bool(*a || *b),
        ("+", V::Int(a), V::Int(b)) => V::Int(a.checked_add(*b)?),
        ("-", V::Int(a), V::Int(b)) => V::Int(a.checked_sub(*b)?),
        ("*", V::Int(a), V::Int(b)) => V::Int(a.checked_mul(*b)?),
        ("/", V::Int(a), V::Int(b)) if *b != 0 && a % b == 0 => V::Int(a.checked_div(*b)?),
        ("%", V::Int(a), V::Int(b)) if *b != 0 => V::Int(a.checked_rem(*b)?),
        ("<", V::Int(a), V::Int(b)) => V::Bool(a < b),
        ("<=", V::Int(a), V::Int(b)) => V::Bool(a <= b),
        (">", V::Int(a), V::Int(b)) => V::Bool(a > b),
        (">=", V::Int(a), V::Int(b)) => V::Bool(a >= b),
        _ => return None,
    };
    Some(Val::new(v, span))
}

/// The HCL functions whose result is known when importing; `None` for the others
/// (`timestamp()`, `uuidv4()`, and any function of a value only known when building),
/// which then stay as written and become spec parameters where the spec allows.
pub(super) fn function(name: &str, args: &[Val], span: Span) -> Option<Val> {
    let lit = |i: usize| args.get(i).and_then(Val::lit);
    let int = |i: usize| match args.get(i).map(|v| &v.v) {
        Some(V::Int(n)) => Some(*n),
        Some(V::Str(t)) => t.as_lit()?.trim().parse().ok(),
        _ => None,
    };
    let s = |t: Text| Some(Val::str(t, span));
    let list = |items: Vec<Val>| Some(Val::new(V::Arr(items), span));
    match name {
        "lower" => s(Text::lit(lit(0)?.to_lowercase())),
        "upper" => s(Text::lit(lit(0)?.to_uppercase())),
        "title" => s(Text::lit(
            lit(0)?
                .split(' ')
                .map(|w| {
                    let mut c = w.chars();
                    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
                })
                .collect::<Vec<String>>()
                .join(" "),
        )),
        "trimspace" => s(Text::lit(lit(0)?.trim().to_string())),
        "chomp" => s(Text::lit(lit(0)?.trim_end_matches(['\n', '\r']).to_string())),
        "trimprefix" => s(Text::lit(lit(0)?.strip_prefix(lit(1)?).unwrap_or(lit(0)?).to_string())),
        "trimsuffix" => s(Text::lit(lit(0)?.strip_suffix(lit(1)?).unwrap_or(lit(0)?).to_string())),
        "trim" => {
            let cut: Vec<char> = lit(1)?.chars().collect();
            s(Text::lit(lit(0)?.trim_matches(|c| cut.contains(&c)).to_string()))
        }
        // A regular expression is written `/…/`; only plain text is replaced here.
        "replace" if !lit(1)?.starts_with('/') => s(Text::lit(lit(0)?.replace(lit(1)?, lit(2)?))),
        "substr" => {
            let chars: Vec<char> = lit(0)?.chars().collect();
            let from = usize::try_from(int(1)?).ok()?.min(chars.len());
            let len = int(2)?;
            let to = if len < 0 { chars.len() } else { (from + usize::try_from(len).ok()?).min(chars.len()) };
            s(Text::lit(chars[from..to].iter().collect::<String>()))
        }
        "split" => {
            let sep = lit(0)?;
            if sep.is_empty() {
                return None;
            }
            list(lit(1)?.split(sep).map(|p| Val::str(Text::lit(p), span)).collect())
        }
        "strrev" => s(Text::lit(lit(0)?.chars().rev().collect::<String>())),
        "startswith" => Some(Val::new(V::Bool(lit(0)?.starts_with(lit(1)?)), span)),
        "endswith" => Some(Val::new(V::Bool(lit(0)?.ends_with(lit(1)?)), span)),
        "length" => match &args.first()?.v {
            V::Arr(items) => Some(Val::new(V::Int(items.len() as i64), span)),
            V::Obj(entries) => Some(Val::new(V::Int(entries.len() as i64), span)),
            V::Str(t) => Some(Val::new(V::Int(t.as_lit()?.chars().count() as i64), span)),
            _ => None,
        },
        "element" => {
            let items = args.first()?.items();
            let n = usize::try_from(int(1)?).ok()?;
            (!items.is_empty()).then(|| Val { span, ..items[n % items.len()].clone() })
        }
        "contains" => {
            let want = args.get(1)?.to_json();
            Some(Val::new(V::Bool(args.first()?.items().iter().any(|i| i.to_json() == want)), span))
        }
        "lookup" => match args.first()?.get(lit(1)?) {
            Some(v) => Some(Val { span, ..v.clone() }),
            None => args.get(2).map(|d| Val { span, ..d.clone() }),
        },
        "keys" => list(args.first()?.entries().iter().map(|(k, _, _)| Val::str(Text::lit(k.clone()), span)).collect()),
        "values" => list(args.first()?.entries().iter().map(|(_, _, v)| v.clone()).collect()),
        "merge" => {
            // Later mappings win, key by key, as in HCL.
            let mut out: Vec<(String, Span, Val)> = Vec::new();
            for a in args {
                let V::Obj(entries) = &a.v else { return None };
                for (k, ks, v) in entries {
                    match out.iter_mut().find(|(x, _, _)| x == k) {
                        Some(slot) => *slot = (k.clone(), *ks, v.clone()),
                        None => out.push((k.clone(), *ks, v.clone())),
                    }
                }
            }
            Some(Val::new(V::Obj(out), span))
        }
        "coalesce" => {
            // The first argument that is not null or empty; unknown before it: not known.
            for a in args {
                match &a.v {
                    V::Null => continue,
                    V::Str(t) if t.as_lit() == Some("") => continue,
                    V::Str(t) if !t.is_lit() => return None,
                    _ => return Some(Val { span, ..a.clone() }),
                }
            }
            None
        }
        "compact" => list(
            args.first()?.items().iter().filter(|v| !matches!(&v.v, V::Null) && v.lit() != Some("")).cloned().collect(),
        ),
        "distinct" => {
            let mut out: Vec<Val> = Vec::new();
            for v in args.first()?.items() {
                if !out.iter().any(|o| o.to_json() == v.to_json()) {
                    out.push(v.clone());
                }
            }
            list(out)
        }
        "flatten" => list(
            args.first()?
                .items()
                .iter()
                .flat_map(|v| match &v.v {
                    V::Arr(inner) => inner.clone(),
                    _ => vec![v.clone()],
                })
                .collect(),
        ),
        "tolist" | "toset" | "tomap" => Some(Val { span, ..args.first()?.clone() }),
        "tonumber" => Some(Val::new(V::Int(int(0)?), span)),
        "tobool" => match args.first()?.v {
            V::Bool(b) => Some(Val::new(V::Bool(b), span)),
            _ => match lit(0)? {
                "true" => Some(Val::new(V::Bool(true), span)),
                "false" => Some(Val::new(V::Bool(false), span)),
                _ => None,
            },
        },
        "min" | "max" => {
            let nums: Option<Vec<i64>> = (0..args.len()).map(int).collect();
            let nums = nums?;
            let n = if name == "min" { nums.iter().min() } else { nums.iter().max() };
            Some(Val::new(V::Int(*n?), span))
        }
        "abs" => Some(Val::new(V::Int(int(0)?.checked_abs()?), span)),
        "basename" => s(Text::lit(lit(0)?.rsplit(['/', '\\']).next().unwrap_or_default().to_string())),
        "try" => args.iter().find(|a| super::super::params::literal(a).is_some()).map(|a| Val { span, ..a.clone() }),
        "join" => {
            let sep = lit(0)?;
            let items: Option<Vec<Text>> = args.get(1)?.items().iter().map(text).collect();
            s(Text::join(&items?, sep))
        }
        "concat" => {
            let lists: Option<Vec<Vec<Val>>> =
                args.iter().map(|a| matches!(a.v, V::Arr(_)).then(|| a.items().to_vec())).collect();
            Some(Val::new(V::Arr(lists?.into_iter().flatten().collect()), span))
        }
        "format" => {
            let fmt = lit(0)?;
            let values: Option<Vec<Text>> = args[1..].iter().map(text).collect();
            s(printf(fmt, &values?)?)
        }
        "tostring" => s(text(args.first()?)?),
        _ => None,
    }
}

/// `format("%s-%d", …)` for `%s`, `%d`, `%v` and `%%`.
fn printf(fmt: &str, values: &[Text]) -> Option<Text> {
    let mut out = Text::default();
    let mut next = values.iter();
    let mut chars = fmt.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(Piece::Lit(c.to_string()));
            continue;
        }
        match chars.next()? {
            '%' => out.push(Piece::Lit("%".into())),
            's' | 'd' | 'v' => out.append(next.next()?.clone()),
            _ => return None,
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> Val {
        Val::str(Text::lit(x), Span::default())
    }

    fn n(x: i64) -> Val {
        Val::new(V::Int(x), Span::default())
    }

    #[test]
    fn computes_what_is_known_and_nothing_else() {
        let j = |v: Option<Val>| v.map(|v| v.to_json());
        assert_eq!(j(function("format", &[s("%s-%d-%%"), s("a"), n(3)], Span::default())), Some("a-3-%".into()));
        assert_eq!(j(function("format", &[s("%q"), s("a")], Span::default())), None);
        assert_eq!(j(function("substr", &[s("héllo"), n(1), n(-1)], Span::default())), Some("éllo".into()));
        assert_eq!(j(function("substr", &[s("abc"), n(-1), n(1)], Span::default())), None);
        assert_eq!(j(function("replace", &[s("a.b"), s("/\\./"), s("-")], Span::default())), None);
        assert_eq!(j(function("element", &[Val::new(V::Arr(vec![]), Span::default()), n(1)], Span::default())), None);
        assert_eq!(j(function("abs", &[n(i64::MIN)], Span::default())), None);
        assert_eq!(j(function("timestamp", &[], Span::default())), None);
        // A reference stays a reference: not known.
        let r = Val::str(Text::piece(Piece::Param("x".into())), Span::default());
        assert_eq!(j(function("lower", std::slice::from_ref(&r), Span::default())), None);
        assert_eq!(j(binary("==", &r, &s("a"), Span::default())), None);
        assert_eq!(j(binary("/", &n(7), &n(2), Span::default())), None);
        assert_eq!(j(binary("/", &n(1), &n(0), Span::default())), None);
        assert_eq!(j(binary("*", &n(i64::MAX), &n(2), Span::default())), None);
        assert_eq!(j(binary("!=", &s("a"), &s("b"), Span::default())), Some(true.into()));
    }
}
