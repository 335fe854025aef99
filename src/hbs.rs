//! Handlebars templates with their long stretches of plain text kept out of the parser.
//!
//! handlebars-rust parses plain text one character at a time through its pest grammar, so
//! parsing a template costs far more than rendering it, and our templates (Bicep modules,
//! PowerShell and shell scripts) are mostly plain text: parsing them was most of what a
//! one-spec `aibc compile` spent. Before a template is parsed, the whole lines of text
//! between two tags are replaced by a placeholder expression; once parsed, each placeholder
//! element becomes the plain-text element the original would have had, so rendering is
//! exactly as if nothing had happened. The first and last line of each stretch stay where
//! they are, so standalone block lines (`{{#if x}}` alone on a line) and whitespace control
//! keep their meaning; templates with escaped mustaches or raw blocks, whose reading depends
//! on the text around them, are parsed as they are.

use handlebars::Handlebars;
use handlebars::template::{Parameter, Template, TemplateElement};

/// The placeholder's name; no template has a reason to call something by it.
const PLACEHOLDER: &str = "__aibc_text";

/// Stretches shorter than this stay in the template: the placeholder would cost about as
/// much to parse as the text it replaces.
const SHORTEST: usize = 48;

/// Registers `template` as `name` (a partial too: handlebars keeps both in one table). A
/// template that does not parse is parsed again as written, so the error's line and column
/// are the author's.
pub fn register(h: &mut Handlebars<'_>, name: &str, template: &str) -> Result<(), String> {
    match compile(name, template) {
        Some(t) => {
            h.register_template(name, t);
            Ok(())
        }
        None => h.register_template_string(name, template).map_err(|e| e.to_string()),
    }
}

/// The template, parsed with its long plain text lifted out and put back; `None` when it
/// has none to lift or does not parse.
fn compile(name: &str, template: &str) -> Option<Template> {
    let (lifted, mut texts) = lift(template)?;
    let mut t = Template::compile_with_name(&lifted, name.to_string()).ok()?;
    restore(&mut t, &mut texts);
    // Every placeholder found its element: a block the walk missed would render the helper.
    texts.iter().all(Option::is_none).then_some(t)
}

/// `template` with the inner lines of each long stretch of plain text replaced by a
/// placeholder, and the texts in placeholder order.
fn lift(template: &str) -> Option<(String, Vec<Option<String>>)> {
    let pieces = split(template)?;
    let mut out = String::with_capacity(template.len() / 4);
    let mut texts = Vec::new();
    for piece in pieces {
        match piece {
            Piece::Tag(t) => out.push_str(t),
            Piece::Text { text, trimmed_before, trimmed_after } => {
                match inner_lines(text).filter(|_| !trimmed_before && !trimmed_after) {
                    Some((start, end)) => {
                        out.push_str(&text[..start]);
                        out.push_str(&format!("{{{{{PLACEHOLDER} {}}}}}", texts.len()));
                        texts.push(Some(text[start..end].to_string()));
                        out.push_str(&text[end..]);
                    }
                    None => out.push_str(text),
                }
            }
        }
    }
    (!texts.is_empty()).then_some((out, texts))
}

/// Turns each placeholder element of `t` (and of its blocks) back into its text.
fn restore(t: &mut Template, texts: &mut [Option<String>]) {
    for element in &mut t.elements {
        let text = match element {
            TemplateElement::Expression(h) => match (&h.name, h.params.as_slice()) {
                (Parameter::Name(n), [Parameter::Literal(i)]) if n == PLACEHOLDER => {
                    i.as_u64().and_then(|i| texts.get_mut(i as usize)).and_then(Option::take)
                }
                _ => None,
            },
            _ => None,
        };
        if let Some(text) = text {
            *element = TemplateElement::RawString(text);
            continue;
        }
        match element {
            TemplateElement::Expression(h) | TemplateElement::HtmlExpression(h) | TemplateElement::HelperBlock(h) => {
                for inner in [&mut h.template, &mut h.inverse].into_iter().flatten() {
                    restore(inner, texts);
                }
            }
            TemplateElement::DecoratorBlock(d) | TemplateElement::PartialBlock(d) => {
                if let Some(inner) = &mut d.template {
                    restore(inner, texts);
                }
            }
            _ => {}
        }
    }
}

enum Piece<'t> {
    Tag(&'t str),
    /// Plain text, and whether the tag before may strip its leading whitespace (`~}}`) or
    /// the tag after its trailing whitespace (`{{~`). A comment counts as one that may:
    /// whitespace control reaches through comments to the text beyond.
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
        let comment = tag.starts_with("{{!");
        let trimmed_after = comment || tag[2..].trim_start_matches('{').starts_with('~');
        pieces.push(Piece::Text { text: &rest[..open], trimmed_before, trimmed_after });
        pieces.push(Piece::Tag(tag));
        trimmed_before = comment || tag[..len - 2].trim_end_matches('}').ends_with('~');
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
            // Bytes, not `s[i..]`: `i` may be inside a multi-byte character.
            (None, _) if bytes[i..].starts_with(close.as_bytes()) => return Some(i + close.len()),
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
        register(&mut lifted, "t", template).unwrap();
        (plain.render("t", data).unwrap(), lifted.render("t", data).unwrap())
    }

    const LONG: &str = "a line of plain text that is long enough to be lifted out of the template\n";

    #[test]
    fn long_text_is_lifted_and_put_back() {
        let t = format!("head {{{{x}}}}\n{LONG}{LONG}tail {{{{y}}}}\n");
        let (lifted, texts) = lift(&t).unwrap();
        assert!(lifted.len() < t.len() / 2, "{lifted}");
        assert_eq!(texts.len(), 1);
        let parsed = compile("t", &t).unwrap();
        assert!(parsed.elements.iter().any(|e| matches!(e, TemplateElement::RawString(s) if s.len() > 100)));
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
            format!(
                "{{{{#unless off}}}}\n{LONG}{LONG}{{{{#each items}}}}\n{LONG}{LONG}{{{{/each}}}}\n{{{{/unless}}}}\n"
            ),
        ] {
            let (a, b) = both(&t, &data);
            assert_eq!(a, b, "{t}");
        }
    }

    #[test]
    fn any_text_is_split_without_panicking() {
        let data = json!({"x": "v", "é": "w"});
        for t in ["{{x \"é}}\"}} ✓", "{{x 'é'}}\n✓✓✓\n", "{{", "}} {{x", "{{!-- é", "é{{{x}}}é", "{{x}}\n\n\n"]
        {
            let long = format!("{t}\n{LONG}{LONG}{t}");
            let mut plain = Handlebars::new();
            let mut lifted = Handlebars::new();
            let parsed = plain.register_template_string("t", &long).is_ok();
            assert_eq!(register(&mut lifted, "t", &long).is_ok(), parsed, "{long}");
            if parsed {
                assert_eq!(plain.render("t", &data).ok(), lifted.render("t", &data).ok(), "{long}");
            }
        }
    }

    #[test]
    fn escaped_mustaches_and_raw_blocks_are_left_alone() {
        for t in
            [format!("\\{{{{x}}}}\n{LONG}{LONG}"), format!("{{{{{{{{raw}}}}}}}}\n{LONG}{LONG}{{{{{{{{/raw}}}}}}}}")]
        {
            assert!(lift(&t).is_none());
        }
    }

    #[test]
    fn a_broken_template_is_reported_where_its_author_wrote_it() {
        let t = format!("{LONG}{LONG}{LONG}{{{{#if x}}}}\n");
        let plain = Handlebars::new().register_template_string("t", &t).unwrap_err().to_string();
        assert_eq!(register(&mut Handlebars::new(), "t", &t).unwrap_err(), plain);
    }

    proptest::proptest! {
        /// Templates assembled from tags, blank and indented lines and long text render the
        /// same lifted as plain.
        #[test]
        fn lifting_never_changes_what_a_template_renders(parts in proptest::collection::vec(0usize..12, 0..40)) {
            const PIECES: [&str; 12] = [
                "{{#if on}}\n", "{{/if}}\n", "{{#each items}}\n", "{{/each}}\n", "  {{this}}\n",
                "{{~x~}}", "\n", "   \n", "{{else}}\n", "{{!-- note --}}\n", "é ✓ {{x}} ",
                "a long line of plain text that is well over the lifting threshold by itself\n",
            ];
            // Blocks are closed in order, so every template parses.
            let mut t = String::new();
            let mut open: Vec<(&str, bool)> = Vec::new();
            for p in parts {
                match p {
                    0 => { t.push_str(PIECES[0]); open.push(("{{/if}}\n", false)); }
                    2 => { t.push_str(PIECES[2]); open.push(("{{/each}}\n", false)); }
                    1 | 3 => if let Some((close, _)) = open.pop() { t.push_str(close) },
                    // At most one `else` per block.
                    8 => if let Some((_, used @ false)) = open.last_mut() { *used = true; t.push_str(PIECES[8]) },
                    i => t.push_str(PIECES[i]),
                }
            }
            while let Some((close, _)) = open.pop() {
                t.push_str(close);
            }
            let data = json!({"on": true, "x": "v", "items": ["p", "q"]});
            let (a, b) = both(&t, &data);
            proptest::prop_assert_eq!(a, b, "{}", t);
        }
    }
}
