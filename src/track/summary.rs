//! The result of `status` and of a finished `run` as one document per image, built from the
//! same events the other renderers show: what `-o json|table|tsv|yaml` and `--query` print,
//! and what the GitHub step summary tables.

use std::cell::RefCell;
use std::rc::Rc;

use serde_json::{Map, Value, json};

use super::report::{Event, Render};

/// Collects events image by image, in the order images first appear.
#[derive(Debug, Default)]
pub struct Summary {
    images: Vec<(String, Map<String, Value>)>,
}

impl Summary {
    fn image(&mut self, name: &str) -> &mut Map<String, Value> {
        if let Some(i) = self.images.iter().position(|(n, _)| n == name) {
            return &mut self.images[i].1;
        }
        let mut m = Map::new();
        m.insert("image".into(), json!(name));
        self.images.push((name.to_string(), m));
        &mut self.images.last_mut().expect("just pushed").1
    }

    /// One object for one image, a list for a family (as `az … show` and `az … list`).
    pub fn document(&self) -> Value {
        let mut docs: Vec<Value> = self.images.iter().map(|(_, m)| Value::Object(m.clone())).collect();
        if docs.len() == 1 { docs.remove(0) } else { Value::Array(docs) }
    }

    /// Every image's document, for renderers that table them.
    pub fn images(&self) -> impl Iterator<Item = &Map<String, Value>> {
        self.images.iter().map(|(_, m)| m)
    }
}

fn push(m: &mut Map<String, Value>, key: &str, v: Value) {
    match m.entry(key).or_insert_with(|| json!([])) {
        Value::Array(a) => a.push(v),
        other => *other = json!([v]),
    }
}

impl Render for Summary {
    fn event(&mut self, e: &Event) {
        match e {
            Event::Started { image, template, attached } => {
                let m = self.image(image);
                m.insert("template".into(), json!(template));
                m.insert("attached".into(), json!(attached));
            }
            Event::Version { image, version } => {
                self.image(image).insert("imageVersion".into(), json!(version));
            }
            Event::Phase { image, state, sub_state, message, .. } => {
                let m = self.image(image);
                m.insert("state".into(), json!(state));
                m.insert("subState".into(), json!(sub_state));
                m.insert("message".into(), json!(message));
            }
            Event::Output { image, output } => push(self.image(image), "runOutputs", json!(output)),
            Event::Replication { image, version_id, region } => {
                let m = self.image(image);
                let regions = m.entry("replication").or_insert_with(|| json!([]));
                if let Value::Array(a) = regions {
                    // The latest read of a region replaces the earlier one.
                    a.retain(|r| r["region"] != json!(region.region));
                    let mut r = serde_json::to_value(region).expect("regions serialize");
                    r["versionId"] = json!(version_id);
                    a.push(r);
                }
            }
            Event::Failure { image, step, message, log_tail } => {
                self.image(image)
                    .insert("failure".into(), json!({"step": step, "message": message, "logTail": log_tail}));
            }
            Event::Note { image, text } => push(self.image(image), "notes", json!(text)),
            Event::Artifact { image, kind, path } => {
                push(self.image(image), "artifacts", json!({"kind": kind, "path": path}))
            }
            Event::Finished { image, result, message, exit_code } => {
                let m = self.image(image);
                m.insert("result".into(), json!(result));
                if !message.is_empty() {
                    m.insert("message".into(), json!(message));
                }
                m.insert("exitCode".into(), json!(exit_code));
            }
        }
    }
}

/// Shows events with one renderer and collects them in a shared summary at the same time.
pub struct Tee {
    pub shown: Box<dyn Render>,
    pub summary: Rc<RefCell<Summary>>,
}

impl Render for Tee {
    fn event(&mut self, e: &Event) {
        self.shown.event(e);
        self.summary.borrow_mut().event(e);
    }
}

/// A renderer that shows nothing (the summary alone is printed).
pub struct Quiet;

impl Render for Quiet {
    fn event(&mut self, _: &Event) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::track::model::RegionReplication;

    #[test]
    fn one_image_is_one_object_and_regions_keep_their_latest_read() {
        let mut s = Summary::default();
        let region = |p: u8, st: &str| RegionReplication {
            region: "westeurope".into(),
            state: st.into(),
            progress: p,
            details: None,
        };
        for e in [
            Event::Version { image: "web".into(), version: "1.2.3".into() },
            Event::Phase {
                image: "web".into(),
                state: "Running".into(),
                sub_state: Some("Distributing".into()),
                message: String::new(),
                elapsed_secs: 9,
            },
            Event::Replication { image: "web".into(), version_id: "v".into(), region: region(40, "Replicating") },
            Event::Replication { image: "web".into(), version_id: "v".into(), region: region(100, "Completed") },
            Event::Finished { image: "web".into(), result: "Succeeded".into(), message: String::new(), exit_code: 0 },
        ] {
            s.event(&e);
        }
        let d = s.document();
        assert_eq!(d["imageVersion"], "1.2.3");
        assert_eq!(d["result"], "Succeeded");
        assert_eq!(d["replication"].as_array().unwrap().len(), 1);
        assert_eq!(d["replication"][0]["state"], "Completed");
        s.event(&Event::Note { image: "db".into(), text: "never built".into() });
        assert_eq!(s.document().as_array().unwrap().len(), 2);
    }
}
