//! Handlebars templates with their long stretches of plain text kept out of the parser.
//!
//! handlebars-rust parses plain text one character at a time through its pest grammar, so
//! parsing a template costs far more than rendering it, and our templates (Bicep modules,
//! PowerShell and shell scripts) are mostly plain text: parsing them was most of what a
//! one-spec `aibc compile` spent. Before a template is parsed, the whole lines of text
//! between two tags move into a table and are replaced by `{{__text N}}`, a helper that
//! writes them back verbatim. The first and last line of each stretch stay where they are,
//! so standalone block lines (`{{#if x}}` alone on a line) and whitespace control keep
//! exactly the meaning they have in the original; templates that use escaped mustaches
//! or raw blocks, whose reading depends on the text around them, are parsed as they are.

use std::borrow::Cow;
use std::sync::{Arc, RwLock};

use handlebars::{
    Context, Handlebars, Helper, HelperDef, HelperResult, Output, RenderContext, RenderError, RenderErrorReason,
};

/// The helper's name; no template of ours or of a team's library has a reason to use it.
pub const HELPER: &str = "__text";

/// Stretches shorter than this stay in the template: the helper call would cost about as
/// much to parse as the text it replaces.
const SHORTEST: usize = 48;

/// The lifted text of every template registered with one registry.
#[derive(Clone, Default)]
pub struct Texts(Arc<RwLock<Vec<Box<str>>>>);

impl Texts {
    /// A registry that knows the helper; register templates with [`Texts::register`].
    pub fn install(&self, h: &mut Handlebars<'_>) {
        h.register_helper(HELPER, Box::new(self.clone()));
    }

    /// Registers `template` as `name`, its plain text lifted out first. A template that does
    /// not parse is parsed again as written, so the error's line and column are the author's.
    pub fn register(&self, h: &mut Handlebars<'_>, name: &str, template: &str) -> Result<(), String> {
        let lifted = self.lift(template);
        if h.register_template_string(name, lifted.as_ref()).is_ok() {
            return Ok(());
        }
        h.register_template_string(name, template).map_err(|e| e.to_string())
    }

    /// Registers `template` as a partial, lifted the same way.
    pub fn register_partial(&self, h: &mut Handlebars<'_>, name: &str, template: &str) -> Result<(), String> {
        let lifted = self.lift(template);
        if h.register_partial(name, lifted.as_ref()).is_ok() {
            return Ok(());
        }
        h.register_partial(name, template).map_err(|e| e.to_string())
    }

    /// `template` with the inner lines of each long stretch of plain text replaced by a
    /// helper call; the text itself is kept in the table.
    pub fn lift<'t>(&self, template: &'t str) -> Cow<'t, str> {
        let Some(pieces) = split(template) else { return Cow::Borrowed(template) };
        let mut out = String::with_capacity(template.len() / 4);
        let mut table = self.0.write().unwrap_or_else(|e| e.into_inner());
        let mut lifted_any = false;
        for piece in pieces {
            match piece {
                Piece::Tag(t) => out.push_str(t),
                Piece::Text { text, trimmed_before, trimmed_after } => {
                    match inner_lines(text).filter(|_| !trimmed_before && !trimmed_after) {
                        Some((start, end)) => {
                            out.push_str(&text[..start]);
                            out.push_str(&format!("{{{{{HELPER} {}}}}}", table.len()));
                            table.push(text[start..end].into());
                            out.push_str(&text[end..]);
                            lifted_any = true;
                        }
                        None => out.push_str(text),
                    }
                }
            }
        }
        if lifted_any { Cow::Owned(out) } else { Cow::Borrowed(template) }
    }
}

impl HelperDef for Texts {
    fn call<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        _: &'reg Handlebars<'reg>,
        _: &'rc Context,
        _: &mut RenderContext<'reg, 'rc>,
        out: &mut dyn Output,
    ) -> HelperResult {
        let index =
            h.param(0).and_then(|p| p.value().as_u64()).ok_or(RenderErrorReason::ParamNotFoundForIndex(HELPER, 0))?;
        let table = self.0.read().unwrap_or_else(|e| e.into_inner());
        let text = table
            .get(index as usize)
            .ok_or_else(|| RenderError::from(RenderErrorReason::Other(format!("no text {index}"))))?;
        out.write(text)?;
        Ok(())
    }
}

enum Piece<'t> {
    Tag(&'t str),
    /// Plain text, and whether the tag before strips its leading whitespace (`~}}`) or the
    /// tag after strips its trailing whitespace (`{{~`).
    Text {
        text: &'t str,
        trimmed_before: bool,
        trimmed_after: bool,
    },
}

/// Tags and the text between them; `None` for a template this module leaves alone (escaped
/// mustaches, raw blocks, a tag that never closes: handlebars reads or reports those).
fn split(template: &str) -> Option<Vec<Piece<'_>>> {
    if template.contains("\\{{") || template.contains("{{{{") {
        return None;
    }
    let mut pieces = Vec::new();
    let mut rest = template;
    let mut trimmed_before = false;
    while let Some(open) = rest.find("{{") {
        let len = tag_len(&rest[open..])?;
        let tag = &rest[open..open + len];
        let trimmed_after = tag[2..].trim_start_matches('{').starts_with('~');
        pieces.push(Piece::Text { text: &rest[..open], trimmed_before, trimmed_after });
        pieces.push(Piece::Tag(tag));
        trimmed_before = tag[..len - 2].trim_end_matches('}').ends_with('~');
        rest = &rest[open + len..];
    }
    pieces.push(Piece::Text { text: rest, trimmed_before, trimmed_after: false });
    Some(pieces)
}

/// The length of the tag `s` starts with (`s` starts with `{{`), quoted strings inside
/// it skipped, so `{{x "}}"}}` is one tag.
fn tag_len(s: &str) -> Option<usize> {
    if let Some(body) = s.strip_prefix("{{!--") {
        return body.find("--}}").map(|i| 5 + i + 4);
    }
    if s.starts_with("{{!") {
        return s.find("}}").map(|i| i + 2);
    }
    let close = if s.starts_with("{{{") { "}}}" } else { "}}" };
    let bytes = s.as_bytes();
    let mut i = 2;
    let mut quote = None;
    while i < bytes.len() {
        match (quote, bytes[i]) {
            (Some(q), b) if b == q => quote = None,
            (Some(_), _) => {}
            (None, b'"' | b'\'') => quote = Some(bytes[i]),
            (None, _) if s[i..].starts_with(close) => return Some(i + close.len()),
            _ => {}
        }
        i += 1;
    }
    None
}

/// The byte range of `text`'s whole inner lines: after its first newline, up to (not
/// including) its last. `None` when that is too short to be worth lifting.
fn inner_lines(text: &str) -> Option<(usize, usize)> {
    let start = text.find('\n')? + 1;
    let end = text.rfind('\n')?;
    (end > start && end - start >= SHORTEST).then_some((start, end))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Renders `template` plainly and lifted; both must agree.
    fn both(template: &str, data: &serde_json::Value) -> (String, String) {
        let mut plain = Handlebars::new();
        plain.register_escape_fn(handlebars::no_escape);
        plain.register_template_string("t", template).unwrap();
        let mut lifted = Handlebars::new();
        lifted.register_escape_fn(handlebars::no_escape);
        let texts = Texts::default();
        texts.install(&mut lifted);
        texts.register(&mut lifted, "t", template).unwrap();
        (plain.render("t", data).unwrap(), lifted.render("t", data).unwrap())
    }

    const LONG: &str = "a line of plain text that is long enough to be lifted out of the template\n";

    #[test]
    fn long_text_is_lifted_and_written_back() {
        let texts = Texts::default();
        let t = format!("head {{{{x}}}}\n{LONG}{LONG}tail {{{{y}}}}\n");
        let lifted = texts.lift(&t);
        assert!(lifted.len() < t.len() / 2, "{lifted}");
        assert!(lifted.contains("{{__text 0}}"));
        let (a, b) = both(&t, &json!({"x": 1, "y": 2}));
        assert_eq!(a, b);
    }

    #[test]
    fn standalone_blocks_and_whitespace_control_keep_their_meaning() {
        let data = json!({"on": true, "off": false, "items": ["p", "q"]});
        for t in [
            format!(
                "{{{{#if on}}}}\n{LONG}{LONG}{{{{/if}}}}\n{LONG}{LONG}{{{{#if off}}}}\n{LONG}{{{{else}}}}\n{LONG}{LONG}{{{{/if}}}}\n"
            ),
            format!("  {{{{#each items}}}}\n{LONG}{LONG}  {{{{this}}}}\n{LONG}{LONG}  {{{{/each}}}}\n"),
            format!("x {{{{~#if on~}}}}\n\n{LONG}{LONG}\n  {{{{~/if}}}} y\n{LONG}{LONG}"),
            format!("{{{{!-- a comment with }}}} inside --}}}}\n{LONG}{LONG}{{{{on}}}}"),
            format!("{LONG}{LONG}{{{{{{on}}}}}}\n{LONG}{LONG}{{{{lookup items 0}}}}"),
        ] {
            let (a, b) = both(&t, &data);
            assert_eq!(a, b, "{t}");
        }
    }

    #[test]
    fn escaped_mustaches_and_raw_blocks_are_left_alone() {
        let texts = Texts::default();
        for t in
            [format!("\\{{{{x}}}}\n{LONG}{LONG}"), format!("{{{{{{{{raw}}}}}}}}\n{LONG}{LONG}{{{{{{{{/raw}}}}}}}}")]
        {
            assert!(matches!(texts.lift(&t), Cow::Borrowed(_)));
        }
    }

    #[test]
    fn a_broken_template_is_reported_where_its_author_wrote_it() {
        let mut h = Handlebars::new();
        let texts = Texts::default();
        texts.install(&mut h);
        let t = format!("{LONG}{LONG}{LONG}{{{{#if x}}}}\n");
        let plain = Handlebars::new().register_template_string("t", &t).unwrap_err().to_string();
        assert_eq!(texts.register(&mut h, "t", &t).unwrap_err(), plain);
    }
}
