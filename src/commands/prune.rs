//! `aibc prune`: delete old gallery image versions, never the one `latest` resolves to and
//! never one an image template builds from (a trigger or a pinned source would break).

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use std::cell::RefCell;
use std::rc::Rc;

use serde_json::{Value, json};

use super::{AzureArgs, say};
use crate::azure::{Error, Result, Session, api};
use crate::commands::deploy::definition_id;
use crate::spec::{Distribution, ImageSpec};
use crate::version::GalleryVersion;

#[derive(Debug, Clone, clap::Args)]
pub struct PruneArgs {
    /// The spec file.
    pub spec: PathBuf,
    #[command(flatten)]
    pub azure: AzureArgs,
    /// Keep this many of the newest versions.
    #[arg(long, value_name = "N", required_unless_present = "older_than")]
    pub keep: Option<usize>,
    /// Delete only versions published longer ago than this (e.g. 90d).
    #[arg(long, value_name = "DURATION", value_parser = super::parse_duration)]
    pub older_than: Option<Duration>,
    /// Say what would be deleted, delete nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Delete without asking (needed without a terminal).
    #[arg(long, short = 'y')]
    pub yes: bool,
}

/// A version of the image definition, as prune sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub id: String,
    pub version: GalleryVersion,
    /// Seconds since the epoch, from `publishingProfile.publishedDate`.
    pub published: Option<i64>,
    pub exclude_from_latest: bool,
}

/// Why a version stays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Keep {
    Latest,
    Newest,
    Recent,
    InUse(String),
}

/// Decides, newest first, which versions go. `in_use` maps version ids (lower case) to the
/// template that uses them.
pub fn decide(
    mut versions: Vec<Candidate>,
    keep: Option<usize>,
    older_than: Option<Duration>,
    now: i64,
    in_use: &dyn Fn(&str) -> Option<String>,
) -> Vec<(Candidate, Option<Keep>)> {
    versions.sort_by_key(|v| std::cmp::Reverse(v.version));
    // `latest` is the highest version not excluded from it.
    let latest = versions.iter().find(|v| !v.exclude_from_latest).map(|v| v.version);
    let cutoff = older_than.map(|d| now - d.as_secs() as i64);
    versions
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            let why = if Some(v.version) == latest {
                Some(Keep::Latest)
            } else if let Some(t) = in_use(&v.id.to_ascii_lowercase()) {
                Some(Keep::InUse(t))
            } else if keep.is_some_and(|k| i < k) {
                Some(Keep::Newest)
            } else if let Some(c) = cutoff
                && v.published.is_none_or(|p| p > c)
            {
                Some(Keep::Recent)
            } else {
                None
            };
            (v, why)
        })
        .collect()
}

pub fn run(args: PruneArgs) -> i32 {
    let what = format!(
        "This deletes old gallery image versions of {} (resource group {}).",
        args.spec.display(),
        args.azure.resource_group
    );
    if let Err(code) = super::confirm(&what, args.yes, args.dry_run) {
        return code;
    }
    let own = args.clone();
    let plan = Rc::new(RefCell::new(Vec::new()));
    let rows = plan.clone();
    let code = super::for_each_image(
        &args.spec,
        &args.azure,
        "deletions already sent go on in Azure",
        move |session, loaded| {
            let args = own.clone();
            let rows = rows.clone();
            Box::pin(async move { prune_image(session, &loaded.spec, &args, &rows).await })
        },
    );
    super::print_plan(code, plan.take())
}

/// The image definition the spec publishes to (its gallery distribution).
pub fn definition_of(session: &Session, spec: &ImageSpec, rg: &str) -> Option<String> {
    spec.distribute.iter().find_map(|d| match d {
        Distribution::Gallery(g) => definition_id(session, spec, g, rg),
        _ => None,
    })
}

/// One row of the plan document (`-o`): the version, what happens to it and why.
fn plan_row(spec: &ImageSpec, v: &Candidate, why: &Option<Keep>, dry_run: bool) -> Value {
    let (action, reason) = match why {
        Some(Keep::Latest) => ("keep", "latest".to_string()),
        Some(Keep::InUse(t)) => ("keep", format!("the source of image template {t}")),
        Some(Keep::Newest) => ("keep", "among the newest --keep".to_string()),
        Some(Keep::Recent) => ("keep", "newer than --older-than".to_string()),
        None if dry_run => ("wouldDelete", String::new()),
        None => ("delete", String::new()),
    };
    json!({"image": spec.name, "version": v.version.to_string(), "action": action, "reason": reason, "id": v.id})
}

async fn prune_image(session: &Session, spec: &ImageSpec, args: &PruneArgs, rows: &RefCell<Vec<Value>>) -> Result<()> {
    let Some(definition) = definition_of(session, spec, &args.azure.resource_group) else {
        say(&format!("{}: no gallery distribution, nothing to prune", spec.name));
        return Ok(());
    };
    let listed = match session.arm.list(&format!("{definition}/versions"), api::COMPUTE_GALLERY).await {
        Ok(v) => v,
        Err(e) if e.is_not_found() => Vec::new(),
        Err(e) => return Err(e),
    };
    let versions: Vec<Candidate> = listed.iter().filter_map(candidate).collect();
    let used = sources_in_use(session, &args.azure.resource_group).await?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
    let in_use = |id: &str| used.iter().find(|(v, _)| v == id).map(|(_, t)| t.clone());
    let plan = decide(versions, args.keep, args.older_than, now, &in_use);
    let mut deleted = 0;
    for (v, why) in &plan {
        rows.borrow_mut().push(plan_row(spec, v, why, args.dry_run));
        match why {
            Some(Keep::Latest) => say(&format!("{}: keep {} (latest)", spec.name, v.version)),
            Some(Keep::InUse(t)) => {
                say(&format!("{}: keep {} (the source of image template {t})", spec.name, v.version))
            }
            Some(Keep::Newest) | Some(Keep::Recent) => say(&format!("{}: keep {}", spec.name, v.version)),
            None if args.dry_run => {
                say(&format!("{}: would delete {}", spec.name, v.version));
                deleted += 1;
            }
            None => {
                say(&format!("{}: deleting {}", spec.name, v.version));
                session.arm.delete(&v.id, api::COMPUTE_GALLERY).await?;
                deleted += 1;
            }
        }
    }
    let verb = if args.dry_run { "would delete" } else { "deleted" };
    say(&format!("{}: {verb} {deleted} of {} version(s)", spec.name, plan.len()));
    Ok(())
}

fn candidate(v: &Value) -> Option<Candidate> {
    let id = v.get("id").and_then(Value::as_str)?.to_string();
    let version = v.get("name").and_then(Value::as_str)?.parse().ok()?;
    let profile = v.pointer("/properties/publishingProfile");
    Some(Candidate {
        id,
        version,
        published: profile.and_then(|p| p.get("publishedDate")).and_then(Value::as_str).and_then(parse_time),
        exclude_from_latest: profile.and_then(|p| p.get("excludeFromLatest")).and_then(Value::as_bool).unwrap_or(false),
    })
}

/// Gallery versions image templates in the resource group build from: (version id, template).
async fn sources_in_use(session: &Session, rg: &str) -> Result<Vec<(String, String)>> {
    let path = format!("{}/providers/Microsoft.VirtualMachineImages/imageTemplates", session.rg_path(rg));
    let templates = match session.arm.list(&path, api::IMAGE_TEMPLATES).await {
        Ok(t) => t,
        Err(Error::Azure(a)) if a.status == 404 => Vec::new(),
        Err(e) => return Err(e),
    };
    Ok(templates
        .iter()
        .filter_map(|t| {
            let id = t.pointer("/properties/source/imageVersionId").and_then(Value::as_str)?;
            Some((id.to_ascii_lowercase(), t.get("name").and_then(Value::as_str).unwrap_or("?").to_string()))
        })
        .collect())
}

/// `2026-12-03T09:05:00.1234567+00:00` → Unix seconds (UTC offsets other than Z/+00:00 are
/// applied).
pub fn parse_time(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || b[13] != b':' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, m, d, hh, mm, ss) = (num(0..4)?, num(5..7)?, num(8..10)?, num(11..13)?, num(14..16)?, num(17..19)?);
    // Days from civil (Howard Hinnant).
    let (y2, m2) = if m <= 2 { (y - 1, m + 9) } else { (y, m - 3) };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let doy = (153 * m2 + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let mut t = days * 86_400 + hh * 3600 + mm * 60 + ss;
    let rest = &s[19..];
    let tz = rest.trim_start_matches(|c: char| c == '.' || c.is_ascii_digit());
    if let Some(sign) = tz.chars().next().filter(|c| *c == '+' || *c == '-') {
        let oh = tz.get(1..3)?.parse::<i64>().ok()?;
        let om = tz.get(4..6).and_then(|m| m.parse::<i64>().ok()).unwrap_or(0);
        let offset = oh * 3600 + om * 60;
        t -= if sign == '+' { offset } else { -offset };
    }
    Some(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(v: &str, published: i64, excluded: bool) -> Candidate {
        Candidate {
            id: format!("/x/versions/{v}"),
            version: v.parse().unwrap(),
            published: Some(published),
            exclude_from_latest: excluded,
        }
    }

    #[test]
    fn keeps_latest_newest_and_in_use() {
        let versions = vec![
            c("1.0.0", 0, false),
            c("1.0.1", 10, false),
            c("1.0.2", 20, false),
            c("1.0.3", 30, true),
            c("1.0.4", 40, false),
        ];
        let in_use = |id: &str| (id == "/x/versions/1.0.0").then(|| "child-1234abcd".to_string());
        let plan = decide(versions, Some(2), None, 100, &in_use);
        let verdict: Vec<(String, Option<Keep>)> = plan.into_iter().map(|(v, k)| (v.version.to_string(), k)).collect();
        assert_eq!(
            verdict,
            vec![
                ("1.0.4".into(), Some(Keep::Latest)),
                ("1.0.3".into(), Some(Keep::Newest)),
                ("1.0.2".into(), None),
                ("1.0.1".into(), None),
                ("1.0.0".into(), Some(Keep::InUse("child-1234abcd".into()))),
            ]
        );
    }

    #[test]
    fn latest_skips_excluded_versions() {
        let versions = vec![c("2.0.0", 50, true), c("1.9.0", 40, false)];
        let plan = decide(versions, Some(0), None, 100, &|_| None);
        assert_eq!(plan[0].1, None);
        assert_eq!(plan[1].1, Some(Keep::Latest));
    }

    #[test]
    fn older_than_keeps_recent_versions() {
        let day = 86_400;
        let versions = vec![c("1.0.0", 0, false), c("1.0.1", 95 * day, false), c("1.0.2", 99 * day, false)];
        let plan = decide(versions, None, Some(Duration::from_secs(10 * day as u64)), 100 * day, &|_| None);
        assert_eq!(
            plan.iter().map(|(_, k)| k.clone()).collect::<Vec<_>>(),
            vec![Some(Keep::Latest), Some(Keep::Recent), None]
        );
    }

    #[test]
    fn times() {
        assert_eq!(parse_time("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_time("2026-12-03T09:05:00.1234567+00:00"), Some(1_796_288_700));
        assert_eq!(parse_time("2026-12-03T10:05:00+01:00"), Some(1_796_288_700));
        assert_eq!(parse_time("yesterday"), None);
    }
}
