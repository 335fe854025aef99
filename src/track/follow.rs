//! Following a build from start to the last replica. Everything is read from Azure (the
//! template's `lastRunStatus`, its run outputs, the gallery versions), so any machine can
//! attach to a build another one started, and an interrupted `run` loses nothing.

use std::cell::RefCell;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::logs;
use super::metadata::{self, Facts, Provenance};
use super::model::{RegionReplication, RunOutput, RunState, RunStatus, replication_of};
use super::poll::Schedule;
use super::report::{Event, Render};
use crate::azure::{Error, Result, Session, api};
use crate::exit;

/// Which build to follow.
#[derive(Debug, Clone)]
pub struct Target {
    pub image: String,
    pub template_id: String,
    pub spec_hash: String,
    pub image_version: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Stop following after this long (exit 6); the build goes on.
    pub timeout: Option<Duration>,
    /// Where to write image-version.json.
    pub metadata: Option<PathBuf>,
    /// Where to save customization.log of a failed build.
    pub logs_dir: Option<PathBuf>,
}

/// How following began.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Start {
    /// We started a run; a `lastRunStatus` with this start time is the previous run's.
    /// `retry_after` is what the service said when it accepted the run.
    Started { previous_start: Option<String>, retry_after: Option<Duration> },
    /// A run was already going (or is being canceled).
    Attached,
}

pub type Renderer<'a> = &'a RefCell<Box<dyn Render>>;

/// While distributing, the template is read every this many rounds of version reads.
const TEMPLATE_EVERY: u32 = 5;

fn emit(r: Renderer<'_>, e: Event) {
    r.borrow_mut().event(&e);
}

/// Reads the template, with the Retry-After the service sent.
async fn read_template(session: &Session, id: &str) -> Result<(Value, Option<Duration>)> {
    let r = session.arm.send(azure_core::http::Method::Get, id, Some(api::IMAGE_TEMPLATES), None).await?;
    Ok((r.body, r.retry_after))
}

/// Follows the run to its end, then its outputs and replication. Returns the exit code.
pub async fn follow(session: &Session, target: &Target, start: Start, options: &Options, render: Renderer<'_>) -> i32 {
    match follow_inner(session, target, start, options, render).await {
        Ok(code) => code,
        Err(e) => {
            emit(
                render,
                Event::Finished {
                    image: target.image.clone(),
                    result: "Error".into(),
                    message: e.to_string(),
                    exit_code: error_code(&e),
                },
            );
            error_code(&e)
        }
    }
}

pub fn error_code(e: &Error) -> i32 {
    match e {
        Error::Azure(_) | Error::Auth(_) => exit::AZURE_REFUSED,
        _ => exit::FAILURE,
    }
}

async fn follow_inner(
    session: &Session,
    target: &Target,
    start: Start,
    options: &Options,
    render: Renderer<'_>,
) -> Result<i32> {
    let began = Instant::now();
    let image = target.image.clone();
    let mut schedule = Schedule::default();
    let mut last: Option<RunStatus> = None;
    let mut seen: Seen = Vec::new();
    let mut first_wait = match &start {
        // The service's interval from the run's 202: the first read comes after it.
        Start::Started { retry_after, .. } => Some(schedule.next(false, None, *retry_after)),
        Start::Attached => None,
    };
    let (template, status) = loop {
        if let Some(wait) = first_wait.take()
            && let Some(code) = sleep_within(options.timeout, began, wait, &image, render).await
        {
            return Ok(code);
        }
        let (template, retry_after) = read_template(session, &target.template_id).await?;
        let mut status = RunStatus::of_template(&template);
        if let (Start::Started { previous_start, .. }, Some(s)) = (&start, &status)
            && s.state.is_terminal()
            && s.start_time == *previous_start
        {
            // Still the previous run's status: ours has not been picked up yet.
            status = None;
        }
        let changed = match (&status, &last) {
            (Some(s), Some(l)) => !s.same_phase(l),
            (Some(_), None) => true,
            _ => false,
        };
        if changed && let Some(s) = &status {
            emit(
                render,
                Event::Phase {
                    image: image.clone(),
                    state: s.state.as_str().to_string(),
                    sub_state: s.sub_state.clone(),
                    message: s.message.clone(),
                    elapsed_secs: began.elapsed().as_secs(),
                },
            );
            last = status.clone();
        }
        if let Some(s) = &status
            && s.state.is_terminal()
        {
            break (template, s.clone());
        }
        let sub_state = status.as_ref().and_then(|s| s.sub_state.clone());
        let mut wait = schedule.next(changed, sub_state.as_deref(), retry_after);
        let planned = planned_versions(&template);
        if sub_state.as_deref().is_some_and(|s| s.eq_ignore_ascii_case("Distributing")) && !planned.is_empty() {
            // While AIB distributes, what changes is replication: read the versions, and the
            // template again only once they are done (or failed), or every few rounds in
            // case the run ends some other way.
            for round in 1.. {
                if let Some(code) = sleep_within(options.timeout, began, wait, &image, render).await {
                    return Ok(code);
                }
                let (done, changed, failed, retry) =
                    read_replication(session, &planned, &mut seen, &image, render).await?;
                wait = schedule.next(changed, sub_state.as_deref(), retry.or(retry_after));
                if done || failed.is_some() || round % TEMPLATE_EVERY == 0 {
                    break;
                }
            }
            continue;
        }
        if let Some(code) = sleep_within(options.timeout, began, wait, &image, render).await {
            return Ok(code);
        }
    };

    let outputs = run_outputs(session, &target.template_id).await?;
    for o in &outputs {
        emit(render, Event::Output { image: image.clone(), output: o.clone() });
    }

    let mut state = status.state.clone();
    let mut message = status.message.clone();
    if state == RunState::Failed && status.sub_state.as_deref().is_some_and(|s| s.eq_ignore_ascii_case("Distributing"))
    {
        // Distribution failed: the regions say where.
        let planned = planned_versions(&template);
        read_replication(session, &planned, &mut seen, &image, render).await?;
    }
    if state == RunState::Failed {
        report_failure(session, &template, &status, options, &image, render).await;
    }
    if matches!(state, RunState::Succeeded | RunState::PartiallySucceeded) {
        match replication(session, &outputs, &mut seen, options.timeout, began, &image, render).await? {
            Replicated::Done => {}
            Replicated::Failed(region) => {
                state = RunState::PartiallySucceeded;
                message = format!("replication to {region} failed");
            }
            Replicated::TimedOut(code) => return Ok(code),
        }
    }

    write_metadata(target, &template, &status, &outputs, options, render);
    let code = state.exit_code();
    emit(render, Event::Finished { image, result: state.as_str().to_string(), message, exit_code: code });
    Ok(code)
}

/// Sleeps `wait`, or until the timeout, which ends following with exit 6.
async fn sleep_within(
    timeout: Option<Duration>,
    began: Instant,
    wait: Duration,
    image: &str,
    render: Renderer<'_>,
) -> Option<i32> {
    let wait = match timeout {
        Some(t) if began.elapsed() + wait >= t => {
            tokio::time::sleep(t.saturating_sub(began.elapsed())).await;
            emit(
                render,
                Event::Finished {
                    image: image.to_string(),
                    result: "TimedOut".into(),
                    message: format!(
                        "stopped following after {} s; the build goes on: `aibc status` shows it, `aibc run` attaches again",
                        t.as_secs()
                    ),
                    exit_code: exit::TIMED_OUT,
                },
            );
            return Some(exit::TIMED_OUT);
        }
        _ => wait,
    };
    tokio::time::sleep(wait).await;
    None
}

pub async fn run_outputs(session: &Session, template_id: &str) -> Result<Vec<RunOutput>> {
    let list = match session.arm.list(&format!("{template_id}/runOutputs"), api::IMAGE_TEMPLATES).await {
        Ok(l) => l,
        Err(e) if e.is_not_found() => Vec::new(),
        Err(e) => return Err(e),
    };
    Ok(list.iter().filter_map(RunOutput::parse).collect())
}

async fn report_failure(
    session: &Session,
    template: &Value,
    status: &RunStatus,
    options: &Options,
    image: &str,
    render: Renderer<'_>,
) {
    let log = match logs::fetch(session, template).await {
        Ok(l) => l,
        Err(e) => {
            emit(render, Event::Note { image: image.into(), text: format!("could not read customization.log: {e}") });
            None
        }
    };
    let summary = log.as_ref().and_then(|(_, text)| logs::summarise(text));
    if let (Some((_, text)), Some(dir)) = (&log, &options.logs_dir) {
        let path = dir.join(format!("{image}-{}", logs::FILE));
        match std::fs::create_dir_all(dir).and_then(|()| std::fs::write(&path, text)) {
            Ok(()) => emit(
                render,
                Event::Artifact { image: image.into(), kind: "log".into(), path: path.display().to_string() },
            ),
            Err(e) => emit(
                render,
                Event::Note { image: image.into(), text: format!("could not save {}: {e}", path.display()) },
            ),
        }
    }
    let message = match summary.as_ref().and_then(|s| s.error.clone()) {
        Some(err) if status.message.is_empty() => err,
        Some(err) if !status.message.contains(&err) => format!("{} ({err})", status.message),
        _ => status.message.clone(),
    };
    emit(
        render,
        Event::Failure {
            image: image.into(),
            step: summary.as_ref().and_then(|s| s.step.clone()),
            message,
            log_tail: summary.map(|s| s.tail).unwrap_or_default(),
        },
    );
}

enum Replicated {
    Done,
    Failed(String),
    TimedOut(i32),
}

type Seen = Vec<(String, RegionReplication)>;

/// One look at each gallery version's replication; emits the regions that changed.
/// Returns (every region done, anything changed, a failed region, Retry-After).
async fn read_replication(
    session: &Session,
    versions: &[String],
    seen: &mut Seen,
    image: &str,
    render: Renderer<'_>,
) -> Result<(bool, bool, Option<String>, Option<Duration>)> {
    let (mut all_done, mut changed, mut failed, mut retry) = (true, false, None, None);
    for id in versions {
        let path = format!("{id}?$expand=ReplicationStatus");
        let r = match session.arm.send(azure_core::http::Method::Get, &path, Some(api::COMPUTE_GALLERY), None).await {
            Ok(r) => r,
            // Not created yet: AIB makes the version when distribution starts.
            Err(e) if e.is_not_found() => {
                all_done = false;
                continue;
            }
            Err(e) => return Err(e),
        };
        retry = retry.or(r.retry_after);
        for region in replication_of(&r.body) {
            let before = seen.iter().position(|(v, s)| v == id && s.region == region.region);
            if before.is_none_or(|i| seen[i].1 != region) {
                changed = true;
                emit(
                    render,
                    Event::Replication { image: image.into(), version_id: id.clone(), region: region.clone() },
                );
                match before {
                    Some(i) => seen[i].1 = region.clone(),
                    None => seen.push((id.clone(), region.clone())),
                }
            }
            if region.failed() && failed.is_none() {
                failed = Some(region.region.clone());
            }
            all_done &= region.done();
        }
    }
    Ok((all_done, changed, failed, retry))
}

/// Gallery versions a template publishes under a fixed name (`…/versions/1.2.3`): readable
/// while AIB distributes, before the run outputs exist.
fn planned_versions(template: &Value) -> Vec<String> {
    template
        .pointer("/properties/distribute")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|d| d.get("type").and_then(Value::as_str) == Some("SharedImage"))
        .filter_map(|d| d.get("galleryImageId").and_then(Value::as_str))
        .filter(|id| id.to_ascii_lowercase().contains("/versions/"))
        .map(str::to_string)
        .collect()
}

/// Follows every gallery version the run published until each target region is Completed,
/// or one Failed.
async fn replication(
    session: &Session,
    outputs: &[RunOutput],
    seen: &mut Seen,
    timeout: Option<Duration>,
    began: Instant,
    image: &str,
    render: Renderer<'_>,
) -> Result<Replicated> {
    let versions: Vec<String> =
        outputs.iter().filter(|o| !o.failed()).filter_map(RunOutput::gallery_version_id).map(str::to_string).collect();
    // Already seen complete while AIB distributed: nothing to read again.
    let known_done = |v: &String| {
        let regions: Vec<_> = seen.iter().filter(|(id, _)| id.eq_ignore_ascii_case(v)).collect();
        !regions.is_empty() && regions.iter().all(|(_, r)| r.done())
    };
    if versions.iter().all(known_done) {
        return Ok(Replicated::Done);
    }
    let mut schedule = Schedule::default();
    loop {
        let (all_done, changed, failed, retry) = read_replication(session, &versions, seen, image, render).await?;
        if let Some(region) = failed {
            return Ok(Replicated::Failed(region));
        }
        if all_done {
            return Ok(Replicated::Done);
        }
        let wait = schedule.next(changed, Some("Distributing"), retry);
        if let Some(code) = sleep_within(timeout, began, wait, image, render).await {
            return Ok(Replicated::TimedOut(code));
        }
    }
}

fn write_metadata(
    target: &Target,
    template: &Value,
    status: &RunStatus,
    outputs: &[RunOutput],
    options: &Options,
    render: Renderer<'_>,
) {
    let Some(path) = &options.metadata else { return };
    let facts = Facts {
        image: &target.image,
        spec_hash: &target.spec_hash,
        image_version: target.image_version.as_deref(),
        template,
        status: Some(status),
        outputs,
    };
    let m = metadata::build(&facts, Provenance::from_env(&|n| std::env::var(n).ok()));
    // A version AIB chose (Latest/Source schemes) is only known now.
    if let (None, Some(v)) = (&target.image_version, &m.image_version) {
        emit(render, Event::Version { image: target.image.clone(), version: v.clone() });
    }
    let text = serde_json::to_string_pretty(&m).expect("serializes") + "\n";
    let written = path.parent().filter(|p| !p.as_os_str().is_empty()).map_or(Ok(()), std::fs::create_dir_all);
    match written.and_then(|()| std::fs::write(path, text)) {
        Ok(()) => emit(
            render,
            Event::Artifact { image: target.image.clone(), kind: "metadata".into(), path: path.display().to_string() },
        ),
        Err(e) => emit(
            render,
            Event::Note { image: target.image.clone(), text: format!("could not write {}: {e}", path.display()) },
        ),
    }
}
