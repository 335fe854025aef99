//! Every `aibc …` command line the shipped pipelines run (everything under `pipelines/`)
//! and every one `aibc pipeline init` writes (each example, each kind) goes through the real
//! clap parser. A usage error — a required flag missing, a flag that does not exist, a bad
//! value — fails with the file and line, before a user's pipeline finds it an hour in.
//!
//! The scripts are read the way bash reads them, as far as the pipelines need: words with
//! quotes, `$VAR`/`${VAR}`/`$(…)`/`${{ … }}` expansions replaced by placeholder values
//! chosen by the variable's name, arrays built with `args=(…)` and `args+=(…)` (every
//! conditional append counted, so each optional flag is parsed too) and spliced by
//! `"${args[@]}"`, `${VAR:+words}`, redirections dropped, `;`, `&&`, `||` and `|` ending a
//! command.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use clap::Parser;

use super::Cli;

#[derive(Debug)]
struct Command {
    origin: String,
    words: Vec<String>,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A placeholder of the right shape for a value named `name`.
fn placeholder(name: &str) -> String {
    let n = name.to_ascii_lowercase();
    let v = if n.contains("timeout") || n.contains("wait") {
        "4h"
    } else if n.contains("older") {
        "90d"
    } else if n.contains("keep") {
        "5"
    } else if n.contains("auth") {
        "pipelines"
    } else if n.contains("format") {
        "bicep"
    } else if n.contains("version") {
        "1.2.3"
    } else if n == "pair" {
        "name=value"
    } else if n.contains("subscription") || n == "sub" {
        "00000000-0000-4000-8000-000000000000"
    } else {
        "placeholder"
    };
    v.to_string()
}

/// One shell word being built: its text, and whether it was a lone array splice.
#[derive(Default)]
struct Word {
    text: String,
    started: bool,
}

struct Lexer<'a> {
    chars: Vec<char>,
    pos: usize,
    arrays: &'a HashMap<String, Vec<String>>,
}

/// A lexed item: a word, a run of words from a splice, or a command separator.
enum Item {
    Word(String),
    Splice(Vec<String>),
    Separator,
}

impl Lexer<'_> {
    fn peek(&self, off: usize) -> Option<char> {
        self.chars.get(self.pos + off).copied()
    }

    /// Text up to the matching `close`, nesting on `open`; the cursor ends after it.
    fn balanced(&mut self, open: char, close: char) -> String {
        let mut depth = 1;
        let start = self.pos;
        while let Some(c) = self.peek(0) {
            self.pos += 1;
            if c == open {
                depth += 1;
            } else if c == close {
                depth -= 1;
                if depth == 0 {
                    return self.chars[start..self.pos - 1].iter().collect();
                }
            }
        }
        self.chars[start..].iter().collect()
    }

    /// After a `$`: the expansion's placeholder, or the words of a splice.
    fn expansion(&mut self) -> Result<String, Vec<String>> {
        match self.peek(0) {
            Some('{') if self.peek(1) == Some('{') => {
                // ${{ parameters.keep }} / ${{ matrix.spec }}: an Azure Pipelines / GitHub
                // expression, replaced before the shell runs.
                self.pos += 2;
                let inner = self.balanced('{', '}');
                self.pos += 1;
                let last = inner.trim().rsplit(['.', ' ']).find(|s| !s.is_empty()).unwrap_or("").to_string();
                Ok(placeholder(&last))
            }
            Some('{') => {
                self.pos += 1;
                let inner = self.balanced('{', '}');
                if let Some(name) = inner.strip_suffix("[@]") {
                    return Err(self.arrays.get(name).cloned().unwrap_or_default());
                }
                if let Some((_, words)) = inner.split_once(":+") {
                    // ${VAR:+--image "$VAR"}: the words when the variable is set.
                    return Err(lex_words(words, self.arrays));
                }
                let name: String = inner.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                Ok(placeholder(&name))
            }
            Some('(') => {
                self.pos += 1;
                let inner = self.balanced('(', ')');
                Ok(placeholder(inner.trim_start_matches('(').split_whitespace().last().unwrap_or("")))
            }
            Some('[') => {
                self.pos += 1;
                let inner = self.balanced('[', ']');
                Ok(placeholder(&inner))
            }
            _ => {
                let name: String =
                    self.chars[self.pos..].iter().take_while(|c| c.is_alphanumeric() || **c == '_').collect();
                self.pos += name.len();
                Ok(if name.is_empty() { "$".into() } else { placeholder(&name) })
            }
        }
    }

    fn next(&mut self) -> Option<Item> {
        while matches!(self.peek(0), Some(' ' | '\t' | '\n')) {
            self.pos += 1;
        }
        let c = self.peek(0)?;
        if matches!(c, ';' | '|' | '&' | ')') {
            while matches!(self.peek(0), Some(';' | '|' | '&' | ')')) {
                self.pos += 1;
            }
            return Some(Item::Separator);
        }
        if c == '#' {
            self.pos = self.chars.len();
            return Some(Item::Separator);
        }
        let mut w = Word::default();
        let mut splice = None;
        let mut quote: Option<char> = None;
        while let Some(c) = self.peek(0) {
            match (quote, c) {
                (None, ' ' | '\t' | '\n' | ';' | '|' | '&' | ')') => break,
                (None, '\'' | '"') => {
                    quote = Some(c);
                    w.started = true;
                    self.pos += 1;
                }
                (Some(q), _) if c == q => {
                    quote = None;
                    self.pos += 1;
                }
                (Some('\''), _) => {
                    w.text.push(c);
                    self.pos += 1;
                }
                (_, '\\') => {
                    if let Some(n) = self.peek(1) {
                        w.text.push(n);
                    }
                    self.pos += 2;
                }
                (_, '$') => {
                    self.pos += 1;
                    match self.expansion() {
                        Ok(s) => w.text.push_str(&s),
                        Err(words) => splice = Some(words),
                    }
                    w.started = true;
                }
                _ => {
                    w.text.push(c);
                    w.started = true;
                    self.pos += 1;
                }
            }
        }
        match splice {
            Some(words) if w.text.is_empty() => Some(Item::Splice(words)),
            _ => Some(Item::Word(w.text)),
        }
    }
}

/// The words of `text` (no separators), splices expanded.
fn lex_words(text: &str, arrays: &HashMap<String, Vec<String>>) -> Vec<String> {
    let mut lexer = Lexer { chars: text.chars().collect(), pos: 0, arrays };
    let mut out = Vec::new();
    while let Some(item) = lexer.next() {
        match item {
            Item::Word(w) => out.push(w),
            Item::Splice(ws) => out.extend(ws),
            Item::Separator => {}
        }
    }
    out
}

/// Joins a command's continuation lines: a trailing `\`, or an open `(`.
fn logical_lines(lines: &[(usize, String)]) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let (n, mut text) = (lines[i].0, lines[i].1.clone());
        i += 1;
        loop {
            let open = text.matches('(').count() > text.matches(')').count() && text.contains("=(");
            if text.ends_with('\\') {
                text.pop();
            } else if !open {
                break;
            }
            match lines.get(i) {
                Some((_, next)) => {
                    text.push(' ');
                    text.push_str(next.trim());
                    i += 1;
                }
                None => break,
            }
        }
        out.push((n, text));
    }
    out
}

/// Runs the little shell over `lines` (numbered from their file), collecting `aibc` commands.
fn commands_in(origin: &str, lines: &[(usize, String)], out: &mut Vec<Command>) {
    let mut arrays: HashMap<String, Vec<String>> = HashMap::new();
    for (n, line) in logical_lines(lines) {
        let mut text = line.trim().to_string();
        // YAML keys in front of a one-line script.
        for key in ["- run:", "run:", "script:", "inlineScript:"] {
            if let Some(rest) = text.strip_prefix(key) {
                text = rest.trim().to_string();
            }
        }
        if text.starts_with('#') {
            continue;
        }
        // Array assignments anywhere on the line (also after `then`).
        let mut rest = text.as_str();
        while let Some(at) = rest.find("=(") {
            let before = &rest[..at];
            let name_start =
                before.rfind(|c: char| !(c.is_alphanumeric() || c == '_' || c == '+')).map_or(0, |i| i + 1);
            let name = &before[name_start..];
            let after = &rest[at + 2..];
            let mut lexer = Lexer { chars: after.chars().collect(), pos: 0, arrays: &arrays };
            let inner = lexer.balanced('(', ')');
            let consumed = lexer.pos;
            let words = lex_words(&inner, &arrays);
            if let Some(base) = name.strip_suffix('+') {
                arrays.entry(base.to_string()).or_default().extend(words);
            } else if !name.is_empty() {
                arrays.insert(name.to_string(), words);
            }
            rest = &after[consumed.min(after.len())..];
        }
        // Commands: split on separators, look at each one's first word.
        let mut lexer = Lexer { chars: text.chars().collect(), pos: 0, arrays: &arrays };
        let mut current: Vec<String> = Vec::new();
        let mut flush = |current: &mut Vec<String>| {
            let mut words: Vec<String> = std::mem::take(current);
            while matches!(words.first().map(String::as_str), Some("then" | "do" | "if" | "!" | "else" | "exec")) {
                words.remove(0);
            }
            let is_aibc = words.first().is_some_and(|w| w == "aibc" || w.ends_with("/aibc"));
            if is_aibc {
                // Redirections are the shell's, not aibc's.
                let mut kept = vec!["aibc".to_string()];
                let mut skip = false;
                for w in words.into_iter().skip(1) {
                    if skip {
                        skip = false;
                        continue;
                    }
                    if w.starts_with('>') || w.starts_with('<') || w.starts_with("2>") || w.starts_with("1>") {
                        skip = matches!(w.as_str(), ">" | ">>" | "<" | "2>" | "1>");
                        continue;
                    }
                    kept.push(w);
                }
                out.push(Command { origin: format!("{origin}:{n}"), words: kept });
            }
        };
        while let Some(item) = lexer.next() {
            match item {
                Item::Word(w) => current.push(w),
                Item::Splice(ws) => current.extend(ws),
                Item::Separator => flush(&mut current),
            }
        }
        flush(&mut current);
    }
}

fn numbered(text: &str) -> Vec<(usize, String)> {
    text.lines().enumerate().map(|(i, l)| (i + 1, l.to_string())).collect()
}

/// Markdown: `aibc …` code spans with a flag (a span without one names a command in
/// prose), and lines of fenced blocks; elided ones, with `…`, are prose too.
fn markdown_commands(origin: &str, text: &str, out: &mut Vec<Command>) {
    let mut lines = Vec::new();
    let mut fenced = false;
    for (n, line) in numbered(text) {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            if line.trim_start().starts_with("aibc ") && !line.contains('…') {
                lines.push((n, line.trim().to_string()));
            }
            continue;
        }
        for (i, span) in line.split('`').enumerate() {
            if i % 2 == 1 && span.starts_with("aibc ") && span.contains("--") && !span.contains('…') {
                lines.push((n, span.to_string()));
            }
        }
    }
    // Each span is its own command; no continuation between them.
    for (n, l) in lines {
        commands_in(origin, &[(n, l)], out);
    }
}

/// The task group's scripts live in JSON strings; lines count from the script's key.
fn task_group_commands(origin: &str, text: &str, out: &mut Vec<Command>) {
    let doc: serde_json::Value = serde_json::from_str(text).expect("task-group.json parses");
    let mut search_from = 0;
    for task in doc["tasks"].as_array().into_iter().flatten() {
        for key in ["script", "inlineScript"] {
            let Some(script) = task["inputs"][key].as_str() else { continue };
            let needle = format!("\"{key}\":");
            let at = text[search_from..].find(&needle).map_or(search_from, |i| search_from + i);
            search_from = at + needle.len();
            let base = text[..at].matches('\n').count() + 1;
            // The script is one JSON string: every line of it points at its key's line.
            let lines: Vec<(usize, String)> = script.lines().map(|l| (base, l.to_string())).collect();
            commands_in(origin, &lines, out);
        }
    }
}

fn file_commands(path: &Path, out: &mut Vec<Command>) {
    let text = std::fs::read_to_string(path).unwrap();
    let origin = path.strip_prefix(root()).unwrap_or(path).display().to_string();
    match path.extension().and_then(|e| e.to_str()) {
        Some("yml" | "yaml") => commands_in(&origin, &numbered(&text), out),
        Some("json") => task_group_commands(&origin, &text, out),
        Some("md") => markdown_commands(&origin, &text, out),
        _ => {}
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn example_specs() -> Vec<PathBuf> {
    let mut out = Vec::new();
    walk(&root().join("examples"), &mut out);
    out.retain(|p| {
        p.parent().and_then(Path::parent) == Some(&root().join("examples"))
            && matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml" | "json"))
    });
    out
}

fn all_commands() -> Vec<Command> {
    use aibc::commands::pipeline::{InitArgs, Kind, context, render};
    let mut out = Vec::new();
    let mut files = Vec::new();
    walk(&root().join("pipelines"), &mut files);
    for f in files.iter().filter(|f| !f.to_string_lossy().ends_with(".hbs")) {
        file_commands(f, &mut out);
    }
    for spec in example_specs() {
        for kind in [Kind::Yaml, Kind::Classic, Kind::Github] {
            let args = InitArgs::new(kind, vec![spec.clone()]);
            let text = render(&context(&args, "0.1.0").unwrap()).unwrap();
            let name = spec.strip_prefix(root()).unwrap().display();
            let origin = format!("pipeline init --kind {kind:?} --spec {name}").to_lowercase();
            match kind {
                Kind::Classic => markdown_commands(&origin, &text, &mut out),
                _ => commands_in(&origin, &numbered(&text), &mut out),
            }
        }
    }
    out
}

fn parse_errors(commands: &[Command]) -> Vec<String> {
    use clap::error::ErrorKind;
    commands
        .iter()
        .filter_map(|c| match Cli::try_parse_from(&c.words) {
            // A resource group is no longer required by clap (az's `defaults.group` or a
            // `--template` id may give it), but a pipeline agent has neither: it must be on
            // the line, as the binary's own check after parsing demands.
            Ok(mut cli) => match super::azure_args(&mut cli.command) {
                Some((azure, templates))
                    if azure.resource_group.is_empty()
                        && templates.iter().all(|t| aibc::azcli::scope_of(t).is_none()) =>
                {
                    Some(format!(
                        "{}: `{}`: error: the following required arguments were not provided: --resource-group <NAME>",
                        c.origin,
                        c.words.join(" ")
                    ))
                }
                _ => None,
            },
            Err(e) if matches!(e.kind(), ErrorKind::DisplayVersion | ErrorKind::DisplayHelp) => None,
            Err(e) => Some(format!(
                "{}: `{}`: {}",
                c.origin,
                c.words.join(" "),
                e.render()
                    .to_string()
                    .split("Usage:")
                    .next()
                    .unwrap_or("")
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
            )),
        })
        .collect()
}

#[test]
fn every_aibc_command_in_the_pipelines_parses() {
    let commands = all_commands();
    // Every kind of source was read: the YAML templates, the GitHub workflow, the task
    // group, the classic READMEs and the init output of every example.
    for needle in
        ["jobs/release.yml", "github/image.yml", "task-group.json", "classic/README.md", "kind github", "kind classic"]
    {
        assert!(commands.iter().any(|c| c.origin.contains(needle)), "no aibc command found in {needle}");
    }
    for sub in ["deploy", "run", "cancel", "logs", "prune", "smoke-test", "validate", "compile"] {
        assert!(commands.iter().any(|c| c.words.get(1).is_some_and(|w| w == sub)), "no `aibc {sub}` found");
    }
    let errors = parse_errors(&commands);
    assert!(errors.is_empty(), "{} of {} commands do not parse:\n{}", errors.len(), commands.len(), errors.join("\n"));
}

#[test]
fn the_reader_sees_arrays_and_a_missing_required_flag() {
    let script = r#"
      args=(prune "$SPEC" --resource-group "$RESOURCE_GROUP" --keep "$KEEP"
            --subscription "$AIBC_SUBSCRIPTION" --auth "$AIBC_AUTH")
      if [ -n "$OLDER_THAN" ]; then args+=(--older-than "$OLDER_THAN"); fi
      aibc "${args[@]}" --dry-run
      aibc logs "$SPEC" --out x ${FAMILY_IMAGE:+--image "$FAMILY_IMAGE"} >log.txt 2>&1 || true
    "#;
    let mut out = Vec::new();
    commands_in("t", &numbered(script), &mut out);
    assert_eq!(out.len(), 2, "{out:?}");
    assert_eq!(
        out[0].words,
        [
            "aibc",
            "prune",
            "placeholder",
            "--resource-group",
            "placeholder",
            "--keep",
            "5",
            "--subscription",
            "00000000-0000-4000-8000-000000000000",
            "--auth",
            "pipelines",
            "--older-than",
            "90d",
            "--dry-run"
        ]
    );
    assert_eq!(out[0].origin, "t:5");
    assert!(parse_errors(&out[..1]).is_empty());
    // logs without --resource-group: a usage error, reported with its place.
    let errors = parse_errors(&out[1..]);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].starts_with("t:6: `aibc logs placeholder --out x --image placeholder`"), "{}", errors[0]);
    assert!(errors[0].contains("--resource-group"), "{}", errors[0]);
}
