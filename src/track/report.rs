//! One model of what happens during a build, rendered three ways: a terminal (spinners and
//! bars per phase and region, or plain lines when not a TTY), JSON lines for machines, and
//! Azure DevOps logging commands under `TF_BUILD=True`.

use std::collections::BTreeMap;
use std::io::Write;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;

use super::model::{RegionReplication, RunOutput, progress_of};
use crate::commands::escape_logging_value;
use crate::emit::bicep::upper_snake;
use crate::redact::redact;

/// Everything a renderer is told. `image` names the image in a family.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
#[serde(tag = "event", rename_all = "camelCase")]
pub enum Event {
    /// The build was started, or an existing one attached to.
    #[serde(rename_all = "camelCase")]
    Started { image: String, template: String, attached: bool },
    #[serde(rename_all = "camelCase")]
    Version { image: String, version: String },
    /// A new run state or phase.
    #[serde(rename_all = "camelCase")]
    Phase { image: String, state: String, sub_state: Option<String>, message: String, elapsed_secs: u64 },
    #[serde(rename_all = "camelCase")]
    Output { image: String, output: RunOutput },
    #[serde(rename_all = "camelCase")]
    Replication { image: String, version_id: String, region: RegionReplication },
    /// The step that failed and the end of its output in customization.log.
    #[serde(rename_all = "camelCase")]
    Failure { image: String, step: Option<String>, message: String, log_tail: Vec<String> },
    #[serde(rename_all = "camelCase")]
    Note { image: String, text: String },
    /// A file worth keeping: the metadata, the log.
    #[serde(rename_all = "camelCase")]
    Artifact { image: String, kind: String, path: String },
    /// The end of following (the build may still run: TimedOut, Detached).
    #[serde(rename_all = "camelCase")]
    Finished { image: String, result: String, message: String, exit_code: i32 },
}

pub trait Render {
    fn event(&mut self, e: &Event);
}

/// Which renderer fits where aibc runs.
pub fn for_environment(json: bool) -> Box<dyn Render> {
    if json {
        Box::new(Json::new(std::io::stdout()))
    } else if crate::commands::in_azure_pipelines() {
        Box::new(Pipelines::new(std::io::stdout()))
    } else if crate::github::in_github_actions() {
        Box::new(super::github::GitHub::new(std::io::stdout()))
    } else {
        for_document()
    }
}

/// Human progress on standard error only, leaving standard output to a result document
/// (`-o table`, `--query`).
pub fn for_document() -> Box<dyn Render> {
    if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        Box::new(Terminal::new())
    } else {
        Box::new(Lines::new(std::io::stderr()))
    }
}

/// The human text of an event (plain lines, and the message behind a spinner).
pub fn describe(e: &Event) -> Option<String> {
    Some(match e {
        Event::Started { image, template, attached: false } => format!("{image}: build started on {template}"),
        Event::Started { image, template, attached: true } => {
            format!("{image}: a build is already running on {template}; following it")
        }
        Event::Version { image, version } => format!("{image}: image version {version}"),
        Event::Phase { image, state, sub_state, message, elapsed_secs } => {
            let phase = sub_state.as_deref().map(|s| format!(" / {s}")).unwrap_or_default();
            let msg = if message.is_empty() { String::new() } else { format!(": {message}") };
            format!("{image}: {state}{phase} after {}{msg}", clock(*elapsed_secs))
        }
        Event::Output { image, output } => format!(
            "{image}: run output {} -> {}",
            output.name,
            output.artifact_id.as_deref().or(output.artifact_uri.as_deref()).unwrap_or("(none)")
        ),
        Event::Replication { image, region, .. } => {
            let details = region.details.as_deref().map(|d| format!(" ({d})")).unwrap_or_default();
            format!("{image}: replication {} {} {}%{details}", region.region, region.state, region.progress)
        }
        Event::Failure { image, step, message, log_tail } => {
            let mut s = match step {
                Some(step) => format!("{image}: step `{step}` failed: {message}"),
                None => format!("{image}: the build failed: {message}"),
            };
            if !log_tail.is_empty() {
                s.push_str("\n  last lines of customization.log:");
                for l in log_tail {
                    s.push_str("\n  | ");
                    s.push_str(l);
                }
            }
            s
        }
        Event::Note { image, text } => format!("{image}: {text}"),
        Event::Artifact { image, kind, path } => format!("{image}: wrote {kind} {path}"),
        Event::Finished { image, result, message, .. } => {
            if message.is_empty() {
                format!("{image}: {result}")
            } else {
                format!("{image}: {result}: {message}")
            }
        }
    })
}

fn clock(secs: u64) -> String {
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m{:02}s", s / 60, s % 60),
        s => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
    }
}

/// The pipeline variables / step outputs an event sets: IMAGE_VERSION, RUN_OUTPUT_<NAME>,
/// GALLERY_IMAGE_VERSION_ID (Azure DevOps takes them as they are, GitHub in lower-kebab case).
pub fn variables(e: &Event) -> Vec<(String, String)> {
    match e {
        Event::Version { version, .. } => vec![("IMAGE_VERSION".into(), version.clone())],
        Event::Output { output, .. } => {
            let value = output.artifact_id.as_deref().or(output.artifact_uri.as_deref()).unwrap_or_default();
            let mut out =
                vec![(format!("RUN_OUTPUT_{}", upper_snake(&output.name.replace('-', "_"))), value.to_string())];
            if let Some(id) = output.gallery_version_id() {
                out.push(("GALLERY_IMAGE_VERSION_ID".into(), id.to_string()));
            }
            out
        }
        _ => Vec::new(),
    }
}

/// The one-line text of a failed step, for an error annotation.
pub fn failure_text(image: &str, step: Option<&str>, message: &str) -> String {
    match step {
        Some(s) => format!("{image}: step `{s}` failed: {message}"),
        None => format!("{image}: the build failed: {message}"),
    }
}

/// Plain lines: logs, CI systems other than Azure DevOps, redirected output.
pub struct Lines<W: Write> {
    out: W,
}

impl<W: Write> Lines<W> {
    pub fn new(out: W) -> Self {
        Lines { out }
    }
}

impl<W: Write> Render for Lines<W> {
    fn event(&mut self, e: &Event) {
        if let Some(text) = describe(e) {
            let _ = writeln!(self.out, "{}", redact(&text));
        }
    }
}

/// The version of the JSON event stream (`schema/events.schema.json`): raised when a field
/// changes meaning or goes away; new fields and events do not raise it.
pub const EVENT_SCHEMA_VERSION: u32 = 1;

/// An event as a JSON Lines record: `schemaVersion` and `time` (RFC 3339, UTC) first.
pub fn json_record(e: &Event, unix_millis: u128) -> serde_json::Value {
    let mut record = serde_json::Map::new();
    record.insert("schemaVersion".into(), EVENT_SCHEMA_VERSION.into());
    record.insert("time".into(), rfc3339(unix_millis).into());
    if let serde_json::Value::Object(fields) = serde_json::to_value(e).expect("events serialize") {
        record.extend(fields);
    }
    serde_json::Value::Object(record)
}

/// Where the committed schema of the JSON event stream lives.
pub const EVENTS_SCHEMA_PATH: &str = "schema/events.schema.json";

/// The JSON Schema of one JSON Lines record of `run -o json` (`schema/events.schema.json`):
/// the envelope (`schemaVersion`, `time`) and one of the events, from the `Event` type.
pub fn events_schema() -> serde_json::Value {
    let mut generator = schemars::generate::SchemaSettings::draft2020_12().into_generator();
    let event = generator.subschema_for::<Event>();
    let defs: serde_json::Map<String, serde_json::Value> = generator.take_definitions(true).into_iter().collect();
    serde_json::json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://aibc.dev/schema/events.schema.json",
        "title": "aibc event",
        "description": "One record of the JSON Lines stream `aibc run -o json` prints: the envelope (schemaVersion, time) and one event, named by `event`.",
        "type": "object",
        "required": ["schemaVersion", "time", "event", "image"],
        "properties": {
            "schemaVersion": {
                "description": "Raised when a field changes meaning or goes away; new fields and events keep it.",
                "const": EVENT_SCHEMA_VERSION
            },
            "time": {"description": "When aibc saw the event (RFC 3339, UTC).", "type": "string", "format": "date-time"}
        },
        "allOf": [event.to_value()],
        "$defs": serde_json::Value::Object(defs),
    })
}

/// `2026-12-04T13:45:07.123Z`.
pub fn rfc3339(unix_millis: u128) -> String {
    let secs = (unix_millis / 1000) as u64;
    let day = crate::version::Utc::from_unix(secs);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        day.year,
        day.month,
        day.day,
        day.hour,
        day.minute,
        secs % 60,
        unix_millis % 1000
    )
}

/// JSON Lines on standard output: one object per event, `event` naming its kind.
pub struct Json<W: Write> {
    out: W,
}

impl<W: Write> Json<W> {
    pub fn new(out: W) -> Self {
        Json { out }
    }
}

impl<W: Write> Render for Json<W> {
    fn event(&mut self, e: &Event) {
        let now =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);
        let text = json_record(e, now).to_string();
        let _ = writeln!(self.out, "{}", redact(&text));
        let _ = self.out.flush();
    }
}

/// Collapsible log groups, one per image at a time: a phase opens one (closing the one
/// before), replication opens one if none is open, the end or a failure closes it. CI systems
/// differ only in the markers (`##[group]` in Azure DevOps, `::group::` in GitHub Actions).
pub struct Groups {
    open: std::collections::BTreeSet<String>,
    start: &'static str,
    end: &'static str,
}

impl Groups {
    pub fn new(start: &'static str, end: &'static str) -> Groups {
        Groups { open: Default::default(), start, end }
    }

    /// The marker lines `e` calls for.
    pub fn lines(&mut self, e: &Event) -> Vec<String> {
        let mut out = Vec::new();
        match e {
            Event::Phase { image, state, sub_state, .. } => {
                if self.open.remove(image) {
                    out.push(self.end.to_string());
                }
                if !is_terminal(state) {
                    let phase = sub_state.as_deref().unwrap_or(state);
                    out.push(format!("{}{image}: {phase}", self.start));
                    self.open.insert(image.clone());
                }
            }
            Event::Replication { image, .. } if !self.open.contains(image) => {
                out.push(format!("{}{image}: replication", self.start));
                self.open.insert(image.clone());
            }
            Event::Finished { image, .. } | Event::Failure { image, .. } if self.open.remove(image) => {
                out.push(self.end.to_string());
            }
            _ => {}
        }
        out
    }
}

/// A run state that ends the build.
pub fn is_terminal(state: &str) -> bool {
    matches!(state, "Succeeded" | "PartiallySucceeded" | "Failed" | "Canceled")
}

/// Azure DevOps: the human lines plus logging commands — a collapsible group per phase,
/// progress, output variables, error issues, artifacts and SucceededWithIssues.
pub struct Pipelines<W: Write> {
    out: W,
    groups: Groups,
}

impl<W: Write> Pipelines<W> {
    pub fn new(out: W) -> Self {
        Pipelines { out, groups: Groups::new("##[group]", "##[endgroup]") }
    }

    fn line(&mut self, text: &str) {
        let _ = writeln!(self.out, "{}", redact(text));
    }

    fn variable(&mut self, name: &str, value: &str) {
        self.line(&format!("##vso[task.setvariable variable={name};isOutput=true]{}", escape_logging_value(value)));
    }
}

impl<W: Write> Render for Pipelines<W> {
    fn event(&mut self, e: &Event) {
        for l in self.groups.lines(e) {
            self.line(&l);
        }
        if let Event::Phase { image, state, sub_state, .. } = e {
            let phase = sub_state.clone().unwrap_or_else(|| state.clone());
            let pct = if is_terminal(state) { 100 } else { progress_of(sub_state.as_deref()) };
            self.line(&format!("##vso[task.setprogress value={pct};]{image} {phase}"));
        }
        if let Some(text) = describe(e) {
            self.line(&text);
        }
        for (name, value) in variables(e) {
            self.variable(&name, &value);
        }
        match e {
            Event::Failure { image, step, message, .. } => {
                let what = failure_text(image, step.as_deref(), message);
                self.line(&format!("##vso[task.logissue type=error]{}", escape_logging_value(&what)));
            }
            Event::Artifact { kind, path, .. } => {
                let name = if kind == "log" { "aibc-logs" } else { "image-metadata" };
                self.line(&format!("##vso[artifact.upload artifactname={name}]{path}"));
            }
            Event::Finished { image, result, message, .. } if result == "PartiallySucceeded" => {
                self.line(&format!(
                    "##vso[task.logissue type=warning]{}",
                    escape_logging_value(&format!("{image}: partially succeeded: {message}"))
                ));
                self.line(&format!("##vso[task.complete result=SucceededWithIssues;]{image} partially succeeded"));
            }
            _ => {}
        }
        let _ = self.out.flush();
    }
}

/// A terminal: a spinner per image showing its phase, a bar per replicating region.
pub struct Terminal {
    multi: MultiProgress,
    spinners: BTreeMap<String, ProgressBar>,
    regions: BTreeMap<(String, String), ProgressBar>,
}

impl Default for Terminal {
    fn default() -> Self {
        Self::new()
    }
}

impl Terminal {
    pub fn new() -> Self {
        Terminal {
            multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
            spinners: BTreeMap::new(),
            regions: BTreeMap::new(),
        }
    }

    fn spinner(&mut self, image: &str) -> &ProgressBar {
        let multi = &self.multi;
        self.spinners.entry(image.to_string()).or_insert_with(|| {
            let bar = multi.add(ProgressBar::new_spinner());
            bar.set_style(ProgressStyle::with_template("{spinner} {elapsed_precise} {msg}").expect("valid template"));
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            bar
        })
    }
}

impl Render for Terminal {
    fn event(&mut self, e: &Event) {
        let text = describe(e).map(|t| redact(&t).into_owned()).unwrap_or_default();
        match e {
            Event::Phase { image, .. } => {
                self.multi.println(&text).ok();
                self.spinner(image).set_message(text);
            }
            Event::Replication { image, region, .. } => {
                let key = (image.clone(), region.region.clone());
                let multi = &self.multi;
                let bar = self.regions.entry(key).or_insert_with(|| {
                    let bar = multi.add(ProgressBar::new(100));
                    bar.set_style(
                        ProgressStyle::with_template("  {prefix:>18} [{bar:30}] {pos:>3}% {msg}")
                            .expect("valid template")
                            .progress_chars("=> "),
                    );
                    bar.set_prefix(region.region.clone());
                    bar
                });
                bar.set_position(region.progress.into());
                bar.set_message(region.state.clone());
                if region.done() || region.failed() {
                    bar.finish();
                }
            }
            Event::Finished { image, .. } => {
                if let Some(s) = self.spinners.remove(image) {
                    s.finish_and_clear();
                }
                self.multi.println(&text).ok();
            }
            _ => {
                self.multi.println(&text).ok();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(r: &mut dyn Render, events: &[Event]) {
        for e in events {
            r.event(e);
        }
    }

    fn phase(sub: &str) -> Event {
        Event::Phase {
            image: "web".into(),
            state: "Running".into(),
            sub_state: Some(sub.into()),
            message: String::new(),
            elapsed_secs: 75,
        }
    }

    #[test]
    fn pipelines_group_per_phase_and_variables() {
        let mut out = Vec::new();
        {
            let mut p = Pipelines::new(&mut out);
            render(
                &mut p,
                &[
                    Event::Version { image: "web".into(), version: "1.2.3".into() },
                    phase("Building"),
                    phase("Customizing"),
                    Event::Output {
                        image: "web".into(),
                        output: RunOutput {
                            name: "web-gallery".into(),
                            artifact_id: Some(
                                "/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/galleries/x/images/web/versions/1.2.3"
                                    .into(),
                            ),
                            artifact_uri: None,
                            provisioning_state: Some("Succeeded".into()),
                        },
                    },
                    Event::Finished {
                        image: "web".into(),
                        result: "PartiallySucceeded".into(),
                        message: "vhd failed".into(),
                        exit_code: 5,
                    },
                ],
            );
        }
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines.contains(&"##vso[task.setvariable variable=IMAGE_VERSION;isOutput=true]1.2.3"), "{text}");
        assert!(lines.contains(&"##[group]web: Building"));
        assert!(lines.contains(&"##vso[task.setprogress value=25;]web Customizing"));
        assert_eq!(lines.iter().filter(|l| **l == "##[endgroup]").count(), 2, "{text}");
        assert!(lines.iter().any(|l| l.starts_with("##vso[task.setvariable variable=RUN_OUTPUT_WEB_GALLERY;")));
        assert!(lines.iter().any(|l| l.starts_with("##vso[task.setvariable variable=GALLERY_IMAGE_VERSION_ID;")));
        assert!(lines.contains(&"##vso[task.complete result=SucceededWithIssues;]web partially succeeded"));
    }

    #[test]
    fn json_lines_carry_the_event_kind() {
        let mut out = Vec::new();
        render(&mut Json::new(&mut out), &[phase("Queued")]);
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["event"], "phase");
        assert_eq!(v["subState"], "Queued");
        assert_eq!(v["elapsedSecs"], 75);
        assert_eq!(v["schemaVersion"], EVENT_SCHEMA_VERSION);
        assert!(v["time"].as_str().unwrap().ends_with('Z'));
    }

    #[test]
    fn times_are_rfc3339_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(1_796_391_907_123), "2026-12-04T13:45:07.123Z");
        let r = json_record(&Event::Note { image: "web".into(), text: "x".into() }, 0);
        let keys: Vec<&String> = r.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["schemaVersion", "time", "event", "image", "text"]);
    }

    #[test]
    fn failure_text_shows_the_log_tail() {
        let e = Event::Failure {
            image: "web".into(),
            step: Some("Install IIS".into()),
            message: "exit code 1".into(),
            log_tail: vec!["Install-WindowsFeature : failed".into()],
        };
        let t = describe(&e).unwrap();
        assert!(t.starts_with("web: step `Install IIS` failed: exit code 1"));
        assert!(t.contains("| Install-WindowsFeature : failed"));
    }
}
