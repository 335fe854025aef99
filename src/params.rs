//! `${params.NAME}` references: how a spec leaves a value to deploy time.
//!
//! Script content (`inline`) is never scanned: PowerShell and shell use `${…}` of their own.

/// A piece of a string value: literal text or a parameter reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    Lit(String),
    Param(String),
}

const OPEN: &str = "${params.";

/// The string as fixed text (for places that cannot take a parameter, such as Bicep
/// `metadata`): `$${` becomes `${` as everywhere else, and a reference stays as written.
pub fn literal(s: &str) -> String {
    split(s)
        .into_iter()
        .map(|p| match p {
            Part::Lit(l) => l,
            Part::Param(n) => format!("{OPEN}{n}}}"),
        })
        .collect()
}

/// Splits a string into literal text and parameter references. `$${` escapes a literal
/// `${`. A malformed reference (no closing brace, bad name) is kept as literal text and
/// reported by `bad_references`.
pub fn split(s: &str) -> Vec<Part> {
    let mut parts = Vec::new();
    let mut lit = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("${") {
        if i > 0 && rest[..i].ends_with('$') {
            lit.push_str(&rest[..i - 1]);
            lit.push_str("${");
            rest = &rest[i + 2..];
            continue;
        }
        lit.push_str(&rest[..i]);
        let tail = &rest[i..];
        match tail.strip_prefix(OPEN).and_then(|t| t.find('}').map(|j| (&t[..j], &t[j + 1..]))) {
            Some((name, after)) if is_name(name) => {
                if !lit.is_empty() {
                    parts.push(Part::Lit(std::mem::take(&mut lit)));
                }
                parts.push(Part::Param(name.to_string()));
                rest = after;
            }
            _ => {
                lit.push_str("${");
                rest = &tail[2..];
            }
        }
    }
    lit.push_str(rest);
    if !lit.is_empty() || parts.is_empty() {
        parts.push(Part::Lit(lit));
    }
    parts
}

/// Parameter names referenced in `s`.
pub fn references(s: &str) -> impl Iterator<Item = String> {
    split(s).into_iter().filter_map(|p| match p {
        Part::Param(n) => Some(n),
        Part::Lit(_) => None,
    })
}

pub fn has_references(s: &str) -> bool {
    references(s).next().is_some()
}

/// References that start like `${params.` but are not well formed.
pub fn bad_references(s: &str) -> Vec<String> {
    let mut bad = Vec::new();
    let mut rest = s;
    while let Some(i) = rest.find(OPEN) {
        let tail = &rest[i + OPEN.len()..];
        match tail.find('}') {
            Some(j) if is_name(&tail[..j]) => rest = &tail[j + 1..],
            Some(j) => {
                bad.push(format!("{OPEN}{}}}", &tail[..j]));
                rest = &tail[j + 1..];
            }
            None => {
                bad.push(format!("{OPEN}{tail}"));
                break;
            }
        }
    }
    bad
}

/// Parameter names are Bicep identifiers: a letter or `_`, then letters, digits, `_`.
pub fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_references() {
        assert_eq!(split("plain"), vec![Part::Lit("plain".into())]);
        assert_eq!(split("${params.loc}"), vec![Part::Param("loc".into())]);
        assert_eq!(
            split("img-${params.env}-web"),
            vec![Part::Lit("img-".into()), Part::Param("env".into()), Part::Lit("-web".into())]
        );
        assert_eq!(split("$${params.x}"), vec![Part::Lit("${params.x}".into())]);
        assert_eq!(literal("a $${b} ${params.c} $${params.d}"), "a ${b} ${params.c} ${params.d}");
        assert_eq!(split("${HOME}"), vec![Part::Lit("${HOME}".into())]);
    }

    #[test]
    fn finds_malformed_references() {
        assert_eq!(bad_references("${params.a-b}"), vec!["${params.a-b}"]);
        assert_eq!(bad_references("${params.open"), vec!["${params.open"]);
        assert!(bad_references("${params.ok} ${other}").is_empty());
    }
}
