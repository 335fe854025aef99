//! The az CLI's output conventions: `--output/-o json|jsonc|table|tsv|yaml|none`, a JMESPath
//! `--query` applied before formatting, `--only-show-errors` and `--debug`. Commands build
//! one JSON document of their result and hand it to `print`; the flags are read once from
//! the command line (`init`) because every command shares them, as in az.

use std::fmt::Write as _;
use std::sync::OnceLock;

use serde_json::Value;

/// `-o`: what az users already script against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Indented JSON.
    Json,
    /// JSON, coloured on a terminal.
    Jsonc,
    /// Columns with a header, for people.
    Table,
    /// Tab-separated values without a header, for shell scripts.
    Tsv,
    /// YAML.
    Yaml,
    /// Nothing on standard output (the exit code and errors only).
    None,
}

/// The flags every command shares.
#[derive(Debug, Default)]
pub struct Settings {
    /// `None`: the command's own human output.
    pub output: Option<Format>,
    pub query: Option<String>,
    pub only_show_errors: bool,
    pub debug: bool,
}

static SETTINGS: OnceLock<Settings> = OnceLock::new();

/// Records the command line's flags; the first call wins (tests may call it again).
pub fn init(settings: Settings) {
    let _ = SETTINGS.set(settings);
}

pub fn settings() -> &'static Settings {
    SETTINGS.get_or_init(Settings::default)
}

/// Whether the user asked for a document rather than the human text.
pub fn wants_document() -> bool {
    let s = settings();
    s.output.is_some() || s.query.is_some()
}

/// Checks a `--query` expression before any work is done, so a typo costs nothing.
pub fn check_query(expr: &str) -> Result<(), String> {
    jmespath::compile(expr).map(|_| ()).map_err(|e| format!("--query `{expr}` is not valid JMESPath: {e}"))
}

/// Applies `query` (JMESPath) to `value`.
pub fn apply_query(value: &Value, query: &str) -> Result<Value, String> {
    let expr = jmespath::compile(query).map_err(|e| format!("--query `{query}` is not valid JMESPath: {e}"))?;
    let data = jmespath::Variable::try_from(value).map_err(|e| format!("--query: {e}"))?;
    let result = expr.search(&data).map_err(|e| format!("--query `{query}`: {e}"))?;
    serde_json::to_value(&*result).map_err(|e| format!("--query: {e}"))
}

/// Prints a command's result document with the shared flags (JSON when only `--query` is
/// given, as az does). Returns an error text for a query that fails.
pub fn print(value: &Value) -> Result<(), String> {
    let s = settings();
    let value = match &s.query {
        Some(q) => apply_query(value, q)?,
        None => value.clone(),
    };
    let format = s.output.unwrap_or(Format::Json);
    let color = format == Format::Jsonc
        && std::io::IsTerminal::is_terminal(&std::io::stdout())
        && std::env::var_os("NO_COLOR").is_none();
    print!("{}", render(&value, format, color));
    Ok(())
}

/// The text of `value` in `format`, ending in a newline (empty for `none`).
pub fn render(value: &Value, format: Format, color: bool) -> String {
    match format {
        Format::None => String::new(),
        Format::Json => format!("{}\n", serde_json::to_string_pretty(value).expect("values serialize")),
        Format::Jsonc if color => {
            let mut out = String::new();
            colored(value, 0, &mut out);
            out.push('\n');
            out
        }
        Format::Jsonc => render(value, Format::Json, false),
        Format::Table => table(value),
        Format::Tsv => tsv(value),
        Format::Yaml => yaml(value),
    }
}

/// Rows of a result: a list is its items, anything else one row.
fn rows(value: &Value) -> Vec<&Value> {
    match value {
        Value::Array(items) => items.iter().collect(),
        Value::Null => Vec::new(),
        v => vec![v],
    }
}

/// A scalar as a cell; nested objects and lists are left out of tables, as az does.
fn cell(value: &Value) -> Option<String> {
    match value {
        Value::Null => Some(String::new()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(s.clone()),
        Value::Array(_) | Value::Object(_) => None,
    }
}

/// az's table: the scalar fields of each row as columns (header from the key, first letter
/// upper-case), in the order they first appear; a list of scalars is one `Result` column.
fn table(value: &Value) -> String {
    let rows = rows(value);
    let mut columns: Vec<String> = Vec::new();
    for r in &rows {
        match r {
            Value::Object(map) => {
                for (k, v) in map {
                    if cell(v).is_some() && !columns.contains(k) {
                        columns.push(k.clone());
                    }
                }
            }
            _ if !columns.iter().any(|c| c.is_empty()) => columns.push(String::new()),
            _ => {}
        }
    }
    if columns.is_empty() {
        return String::new();
    }
    let header: Vec<String> = columns.iter().map(|c| if c.is_empty() { "Result".into() } else { heading(c) }).collect();
    let body: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            columns
                .iter()
                .map(|c| match r {
                    Value::Object(map) => map.get(c).and_then(cell).unwrap_or_default(),
                    v if c.is_empty() => cell(v).unwrap_or_default(),
                    _ => String::new(),
                })
                .collect()
        })
        .collect();
    let widths: Vec<usize> = (0..columns.len())
        .map(|i| body.iter().map(|r| r[i].chars().count()).chain([header[i].chars().count()]).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    let line = |cells: &[String], out: &mut String| {
        let text: Vec<String> = cells.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
        let _ = writeln!(out, "{}", text.join("  ").trim_end());
    };
    line(&header, &mut out);
    line(&widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>(), &mut out);
    for r in &body {
        line(r, &mut out);
    }
    out
}

/// `imageVersion` → `ImageVersion`, az's column heading.
fn heading(key: &str) -> String {
    let mut c = key.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

/// az's tsv: one line per row, the scalar fields in order, tab-separated, no header.
fn tsv(value: &Value) -> String {
    let mut out = String::new();
    for r in rows(value) {
        let cells: Vec<String> = match r {
            Value::Object(map) => map.values().filter_map(cell).collect(),
            v => cell(v).into_iter().collect(),
        };
        let _ = writeln!(out, "{}", cells.iter().map(|c| c.replace(['\t', '\n'], " ")).collect::<Vec<_>>().join("\t"));
    }
    out
}

fn yaml(value: &Value) -> String {
    let doc = to_yaml(value);
    let mut out = String::new();
    let mut emitter = saphyr::YamlEmitter::new(&mut out);
    emitter.dump(&doc).expect("YAML emits into a string");
    // The emitter starts with a document marker and ends without a newline.
    let body = out.strip_prefix("---\n").or_else(|| out.strip_prefix("--- ")).unwrap_or(&out);
    format!("{body}\n")
}

fn to_yaml(value: &Value) -> saphyr::Yaml<'static> {
    use saphyr::{Scalar, Yaml};
    use std::borrow::Cow;
    match value {
        Value::Null => Yaml::Value(Scalar::Null),
        Value::Bool(b) => Yaml::Value(Scalar::Boolean(*b)),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Yaml::Value(Scalar::Integer(i)),
            None => Yaml::Value(Scalar::FloatingPoint(n.as_f64().unwrap_or_default().into())),
        },
        Value::String(s) => Yaml::Value(Scalar::String(Cow::Owned(s.clone()))),
        Value::Array(items) => Yaml::Sequence(items.iter().map(to_yaml).collect()),
        Value::Object(map) => Yaml::Mapping(
            map.iter().map(|(k, v)| (Yaml::Value(Scalar::String(Cow::Owned(k.clone()))), to_yaml(v))).collect(),
        ),
    }
}

/// JSON with ANSI colours: keys blue, strings green, numbers and booleans yellow (az's jsonc).
fn colored(value: &Value, indent: usize, out: &mut String) {
    const KEY: &str = "\x1b[94m";
    const STR: &str = "\x1b[32m";
    const LIT: &str = "\x1b[33m";
    const END: &str = "\x1b[0m";
    let pad = "  ".repeat(indent + 1);
    match value {
        Value::Object(map) if !map.is_empty() => {
            out.push_str("{\n");
            for (i, (k, v)) in map.iter().enumerate() {
                let _ = write!(out, "{pad}{KEY}{}{END}: ", Value::String(k.clone()));
                colored(v, indent + 1, out);
                out.push_str(if i + 1 < map.len() { ",\n" } else { "\n" });
            }
            let _ = write!(out, "{}}}", "  ".repeat(indent));
        }
        Value::Array(items) if !items.is_empty() => {
            out.push_str("[\n");
            for (i, v) in items.iter().enumerate() {
                out.push_str(&pad);
                colored(v, indent + 1, out);
                out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
            }
            let _ = write!(out, "{}]", "  ".repeat(indent));
        }
        Value::String(_) => {
            let _ = write!(out, "{STR}{value}{END}");
        }
        Value::Number(_) | Value::Bool(_) => {
            let _ = write!(out, "{LIT}{value}{END}");
        }
        v => out.push_str(&v.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn versions() -> Value {
        json!([
            {"version": "1.0.2", "published": "2026-11-01", "action": "keep", "regions": ["westeurope"]},
            {"version": "1.0.1", "published": "2026-10-01", "action": "delete", "reason": "older than --keep 1"}
        ])
    }

    #[test]
    fn table_has_scalar_columns_in_first_seen_order() {
        let t = render(&versions(), Format::Table, false);
        assert_eq!(
            t,
            "Version  Published   Action  Reason\n\
             -------  ----------  ------  -------------------\n\
             1.0.2    2026-11-01  keep\n\
             1.0.1    2026-10-01  delete  older than --keep 1\n"
        );
    }

    #[test]
    fn tsv_has_no_header_and_skips_nested_values() {
        assert_eq!(
            render(&versions(), Format::Tsv, false),
            "1.0.2\t2026-11-01\tkeep\n1.0.1\t2026-10-01\tdelete\tolder than --keep 1\n"
        );
        assert_eq!(render(&json!("a\tb"), Format::Tsv, false), "a b\n");
    }

    #[test]
    fn yaml_round_trips_through_a_parser() {
        let y = render(&versions(), Format::Yaml, false);
        assert!(y.starts_with("- version: 1.0.2\n"), "{y}");
        assert!(y.contains("  regions:\n    - westeurope\n"), "{y}");
    }

    #[test]
    fn none_prints_nothing_and_jsonc_without_terminal_is_json() {
        assert_eq!(render(&versions(), Format::None, false), "");
        assert_eq!(render(&versions(), Format::Jsonc, false), render(&versions(), Format::Json, false));
        let c = render(&json!({"a": 1}), Format::Jsonc, true);
        assert_eq!(c, "{\n  \x1b[94m\"a\"\x1b[0m: \x1b[33m1\x1b[0m\n}\n");
    }

    #[test]
    fn queries_select_and_project() {
        assert_eq!(apply_query(&versions(), "[?action=='delete'].version").unwrap(), json!(["1.0.1"]));
        assert_eq!(apply_query(&versions(), "[0].regions[0]").unwrap(), json!("westeurope"));
        assert_eq!(apply_query(&versions(), "length(@)").unwrap(), json!(2));
        let e = check_query("[?action==").unwrap_err();
        assert!(e.contains("not valid JMESPath"), "{e}");
    }

    #[test]
    fn a_list_of_scalars_is_one_result_column() {
        assert_eq!(render(&json!(["a", "bb"]), Format::Table, false), "Result\n------\na\nbb\n");
    }
}
