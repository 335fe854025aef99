//! Renders entry scripts with handlebars. Values are escaped for the language they land
//! in: a template writes `'{{name}}'` and the value cannot break out of the quotes.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::{OnceLock, RwLock};

use crate::hbs;
use handlebars::{Context, Handlebars, Helper, HelperResult, Output, RenderContext, RenderErrorReason};

/// The language a template is written in decides its escaping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// Inside PowerShell single quotes: every single-quote character is doubled
    /// (PowerShell also treats the typographic quotes ‘ ’ ‚ ‛ as single quotes).
    PowerShell,
    /// Inside POSIX single quotes: `'` becomes `'\''`.
    Shell,
    /// Plain data (a file destination, a restart command): no escaping.
    Text,
}

pub fn ps_quote_content(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}') {
            out.push(c);
        }
        out.push(c);
    }
    out
}

pub fn sh_quote_content(s: &str) -> String {
    s.replace('\'', "'\\''")
}

fn registry(lang: Lang) -> &'static RwLock<Handlebars<'static>> {
    static PS: OnceLock<RwLock<Handlebars<'static>>> = OnceLock::new();
    static SH: OnceLock<RwLock<Handlebars<'static>>> = OnceLock::new();
    static TEXT: OnceLock<RwLock<Handlebars<'static>>> = OnceLock::new();
    let cell = match lang {
        Lang::PowerShell => &PS,
        Lang::Shell => &SH,
        Lang::Text => &TEXT,
    };
    cell.get_or_init(|| RwLock::new(new_registry(lang)))
}

fn new_registry(lang: Lang) -> Handlebars<'static> {
    {
        let mut h = Handlebars::new();
        h.set_strict_mode(true);
        match lang {
            Lang::PowerShell => h.register_escape_fn(ps_quote_content),
            Lang::Shell => h.register_escape_fn(sh_quote_content),
            Lang::Text => h.register_escape_fn(handlebars::no_escape),
        }
        h.register_helper("ps-list", Box::new(ps_list));
        h.register_helper("sh-list", Box::new(sh_list));
        h.register_helper("ps-bool", Box::new(ps_bool));
        // Helper output bypasses the escape function, so `basename` escapes itself.
        let escape: fn(&str) -> String = match lang {
            Lang::PowerShell => ps_quote_content,
            Lang::Shell => sh_quote_content,
            Lang::Text => |s: &str| s.to_string(),
        };
        h.register_helper(
            "basename",
            Box::new(
                move |h: &Helper,
                      _: &Handlebars,
                      _: &Context,
                      _: &mut RenderContext,
                      out: &mut dyn Output|
                      -> HelperResult {
                    let v = h.param(0).ok_or(RenderErrorReason::ParamNotFoundForIndex("basename", 0))?.value();
                    let s = v.as_str().unwrap_or_default();
                    out.write(&escape(s.rsplit(['/', '\\']).next().unwrap_or(s)))?;
                    Ok(())
                },
            ),
        );
        h
    }
}

/// Renders `template` with `values`; errors name the template.
///
/// Each distinct template is parsed once per process and kept (registered under a hash of
/// its text): parsing costs far more than rendering, and a family compiles the same
/// entries many times.
pub fn render(template: &str, values: &serde_json::Value, lang: Lang) -> Result<String, String> {
    let mut hasher = DefaultHasher::new();
    template.hash(&mut hasher);
    let name = format!("t{:016x}", hasher.finish());
    let lock = registry(lang);
    {
        let h = lock.read().unwrap_or_else(|e| e.into_inner());
        if h.has_template(&name) {
            return h.render(&name, values).map_err(|e| e.to_string());
        }
    }
    let mut h = lock.write().unwrap_or_else(|e| e.into_inner());
    if !h.has_template(&name) {
        hbs::register(&mut h, &name, template)?;
    }
    h.render(&name, values).map_err(|e| e.to_string())
}

fn strings(h: &Helper) -> Result<Vec<String>, RenderErrorReason> {
    let v = h.param(0).ok_or(RenderErrorReason::ParamNotFoundForIndex("list", 0))?.value();
    match v {
        serde_json::Value::Array(items) => {
            Ok(items.iter().map(|i| i.as_str().map(str::to_string).unwrap_or_else(|| i.to_string())).collect())
        }
        serde_json::Value::String(s) => Ok(vec![s.clone()]),
        other => Err(RenderErrorReason::Other(format!("expected a list, got {other}"))),
    }
}

/// `@('a', 'b')`: a PowerShell array of single-quoted strings.
fn ps_list(h: &Helper, _: &Handlebars, _: &Context, _: &mut RenderContext, out: &mut dyn Output) -> HelperResult {
    let items: Vec<String> = strings(h)?.iter().map(|s| format!("'{}'", ps_quote_content(s))).collect();
    out.write(&format!("@({})", items.join(", ")))?;
    Ok(())
}

/// `'a' 'b'`: single-quoted shell words.
fn sh_list(h: &Helper, _: &Handlebars, _: &Context, _: &mut RenderContext, out: &mut dyn Output) -> HelperResult {
    let items: Vec<String> = strings(h)?.iter().map(|s| format!("'{}'", sh_quote_content(s))).collect();
    out.write(&items.join(" "))?;
    Ok(())
}

/// `$true` / `$false`.
fn ps_bool(h: &Helper, _: &Handlebars, _: &Context, _: &mut RenderContext, out: &mut dyn Output) -> HelperResult {
    let v = h.param(0).ok_or(RenderErrorReason::ParamNotFoundForIndex("ps-bool", 0))?.value();
    out.write(if v.as_bool().unwrap_or(false) { "$true" } else { "$false" })?;
    Ok(())
}

/// Where a template has `\{{` (one backslash), handlebars reads an escaped, literal `{{`:
/// in a Windows path such as `C:\x\{{name}}` the value silently disappears. Returns the
/// 1-based line of the first such place.
pub fn single_backslash_before_braces(template: &str) -> Option<usize> {
    template
        .lines()
        .position(|line| {
            let b = line.as_bytes();
            (0..b.len().saturating_sub(2))
                .any(|i| b[i] == b'\\' && b[i + 1] == b'{' && b[i + 2] == b'{' && (i == 0 || b[i - 1] != b'\\'))
        })
        .map(|i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_cannot_break_out_of_quotes() {
        let v = json!({"x": "it's ‘quoted’; rm -rf /", "l": ["a'b", "c"]});
        assert_eq!(render("'{{x}}'", &v, Lang::PowerShell).unwrap(), "'it''s ‘‘quoted’’; rm -rf /'");
        assert_eq!(render("'{{x}}'", &v, Lang::Shell).unwrap(), "'it'\\''s ‘quoted’; rm -rf /'");
        assert_eq!(render("{{ps-list l}}", &v, Lang::PowerShell).unwrap(), "@('a''b', 'c')");
        assert_eq!(render("{{sh-list l}}", &v, Lang::Shell).unwrap(), "'a'\\''b' 'c'");
    }

    #[test]
    fn basename_is_escaped_like_any_value() {
        let v = json!({"f": "dir/it's.msi"});
        assert_eq!(render("'{{basename f}}'", &v, Lang::PowerShell).unwrap(), "'it''s.msi'");
        assert_eq!(render("'{{basename f}}'", &v, Lang::Shell).unwrap(), "'it'\\''s.msi'");
    }

    #[test]
    fn unknown_values_are_errors() {
        assert!(render("{{missing}}", &json!({}), Lang::Shell).is_err());
    }
}
