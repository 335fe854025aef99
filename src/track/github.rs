//! Following a build under GitHub Actions: the human lines, a collapsible group per phase,
//! error and warning annotations, step outputs, and a run summary (phases, run outputs,
//! replication) in the job summary — what `Pipelines` gives Azure DevOps.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write;

use super::report::{Event, Groups, Render, describe, failure_text, variables};
use super::summary::Summary;
use crate::github::{escape_data, set_output};
use crate::redact::redact;

pub struct GitHub<W: Write> {
    out: W,
    groups: Groups,
    phases: BTreeMap<String, Vec<(String, u64)>>,
    summary: Summary,
    /// Where the Markdown goes (the job summary; a test keeps it).
    markdown: Box<dyn FnMut(&str)>,
}

impl<W: Write> GitHub<W> {
    pub fn new(out: W) -> Self {
        Self::with_summary(out, Box::new(crate::github::add_summary))
    }

    pub fn with_summary(out: W, markdown: Box<dyn FnMut(&str)>) -> Self {
        GitHub {
            out,
            groups: Groups::new("::group::", "::endgroup::"),
            phases: BTreeMap::new(),
            summary: Summary::default(),
            markdown,
        }
    }

    fn line(&mut self, text: &str) {
        let _ = writeln!(self.out, "{}", redact(text));
    }

    /// The Markdown for a finished image.
    fn report(&self, image: &str) -> String {
        let doc = self.summary.images().find(|m| m["image"] == image).cloned().unwrap_or_default();
        let text = |k: &str| doc.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
        let mut md = format!("### aibc: {image} — {}\n\n", text("result"));
        if !text("imageVersion").is_empty() {
            let _ = writeln!(md, "Image version **{}**\n", text("imageVersion"));
        }
        if let Some(phases) = self.phases.get(image) {
            md.push_str("| phase | after |\n|---|---|\n");
            for (p, secs) in phases {
                let _ = writeln!(md, "| {p} | {}m{:02}s |", secs / 60, secs % 60);
            }
            md.push('\n');
        }
        if let Some(outputs) = doc.get("runOutputs").and_then(|v| v.as_array()) {
            md.push_str("| run output | artifact |\n|---|---|\n");
            for o in outputs {
                let artifact = o["artifactId"].as_str().or(o["artifactUri"].as_str()).unwrap_or("");
                let _ = writeln!(md, "| {} | `{artifact}` |", o["name"].as_str().unwrap_or(""));
            }
            md.push('\n');
        }
        if let Some(regions) = doc.get("replication").and_then(|v| v.as_array()) {
            md.push_str("| region | state | progress |\n|---|---|---|\n");
            for r in regions {
                let _ = writeln!(
                    md,
                    "| {} | {} | {}% |",
                    r["region"].as_str().unwrap_or(""),
                    r["state"].as_str().unwrap_or(""),
                    r["progress"]
                );
            }
            md.push('\n');
        }
        if let Some(f) = doc.get("failure") {
            let step = f["step"].as_str().map(|s| format!("step `{s}`: ")).unwrap_or_default();
            let _ = writeln!(md, "**Failed** {step}{}\n", f["message"].as_str().unwrap_or(""));
            if let Some(tail) = f["logTail"].as_array().filter(|t| !t.is_empty()) {
                md.push_str("```text\n");
                for l in tail {
                    let _ = writeln!(md, "{}", l.as_str().unwrap_or(""));
                }
                md.push_str("```\n\n");
            }
        }
        md
    }
}

impl<W: Write> Render for GitHub<W> {
    fn event(&mut self, e: &Event) {
        self.summary.event(e);
        for l in self.groups.lines(e) {
            self.line(&l);
        }
        if let Event::Phase { image, state, sub_state, elapsed_secs, .. } = e {
            let phase = sub_state.clone().unwrap_or_else(|| state.clone());
            let list = self.phases.entry(image.clone()).or_default();
            if list.last().is_none_or(|(p, _)| p != &phase) {
                list.push((phase, *elapsed_secs));
            }
        }
        if let Some(text) = describe(e) {
            self.line(&text);
        }
        for (name, value) in variables(e) {
            set_output(&name, &value);
        }
        match e {
            Event::Failure { image, step, message, .. } => {
                let what = failure_text(image, step.as_deref(), message);
                self.line(&format!("::error title=aibc {image}::{}", escape_data(&what)));
            }
            Event::Finished { image, result, message, .. } => {
                if result == "PartiallySucceeded" {
                    let what = format!("{image}: partially succeeded: {message}");
                    self.line(&format!("::warning title=aibc {image}::{}", escape_data(&what)));
                }
                let md = self.report(image);
                (self.markdown)(&md);
            }
            _ => {}
        }
        let _ = self.out.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::track::model::{RegionReplication, RunOutput};
    use std::cell::RefCell;
    use std::rc::Rc;

    #[test]
    fn groups_annotations_and_a_summary_table() {
        let md = Rc::new(RefCell::new(String::new()));
        let sink = md.clone();
        let mut out = Vec::new();
        {
            let mut g = GitHub::with_summary(&mut out, Box::new(move |t: &str| sink.borrow_mut().push_str(t)));
            let phase = |sub: &str, secs| Event::Phase {
                image: "web".into(),
                state: "Running".into(),
                sub_state: Some(sub.into()),
                message: String::new(),
                elapsed_secs: secs,
            };
            for e in [
                Event::Version { image: "web".into(), version: "1.2.3".into() },
                phase("Building", 10),
                phase("Customizing", 130),
                Event::Output {
                    image: "web".into(),
                    output: RunOutput {
                        name: "web-gallery".into(),
                        artifact_id: Some("/subscriptions/s/x/versions/1.2.3".into()),
                        artifact_uri: None,
                        provisioning_state: Some("Succeeded".into()),
                    },
                },
                Event::Replication {
                    image: "web".into(),
                    version_id: "v".into(),
                    region: RegionReplication {
                        region: "westeurope".into(),
                        state: "Failed".into(),
                        progress: 30,
                        details: None,
                    },
                },
                Event::Finished {
                    image: "web".into(),
                    result: "PartiallySucceeded".into(),
                    message: "westeurope failed".into(),
                    exit_code: 5,
                },
            ] {
                g.event(&e);
            }
        }
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines.contains(&"::group::web: Building"), "{text}");
        assert_eq!(lines.iter().filter(|l| **l == "::endgroup::").count(), 2, "{text}");
        assert!(lines.contains(&"::warning title=aibc web::web: partially succeeded: westeurope failed"), "{text}");
        let md = md.borrow();
        assert!(md.starts_with("### aibc: web — PartiallySucceeded\n"), "{md}");
        assert!(md.contains("| Customizing | 2m10s |"), "{md}");
        assert!(md.contains("| web-gallery | `/subscriptions/s/x/versions/1.2.3` |"), "{md}");
        assert!(md.contains("| westeurope | Failed | 30% |"), "{md}");
    }
}
