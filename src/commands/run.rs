//! `aibc run`, `status`, `cancel` and `logs` on the command line.

use std::cell::RefCell;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;

use super::{AzureArgs, Loaded, Output, block_on, connect, fail, say};
use crate::azure::{Error, Session, api};
use crate::deploy;
use crate::exit;
use crate::track::follow::{self, Start, Target};
use crate::track::logs;
use crate::track::model::{RunState, RunStatus, replication_of};
use crate::track::report::{self, Event, Render};
use crate::track::summary::{Quiet, Summary, Tee};
use std::rc::Rc;

#[derive(Debug, Clone, clap::Args)]
pub struct Which {
    /// The spec file (its images' current templates are found through their deployments).
    #[arg(required_unless_present = "templates")]
    pub spec: Option<PathBuf>,
    /// An image template's resource ID, instead of a spec (repeatable: one process follows
    /// many builds).
    #[arg(long = "template", value_name = "ID", conflicts_with = "spec")]
    pub templates: Vec<String>,
    #[command(flatten)]
    pub azure: AzureArgs,
}

#[derive(Debug, Clone, clap::Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub which: Which,
    /// Return once the build has started.
    #[arg(long)]
    pub no_wait: bool,
    /// Stop following after this long (exit 6); the build goes on.
    #[arg(long, value_name = "DURATION", value_parser = super::parse_duration)]
    pub timeout: Option<Duration>,
    /// Where to write image-version.json (a family writes `<image>.image-version.json` beside it).
    #[arg(long, value_name = "PATH", default_value = "image-version.json")]
    pub metadata: PathBuf,
    /// Where a failed build's customization.log is saved.
    #[arg(long, value_name = "DIR", default_value = "aibc-logs")]
    pub logs_dir: PathBuf,
}

#[derive(Debug, Clone, clap::Args)]
pub struct CancelArgs {
    #[command(flatten)]
    pub which: Which,
    /// Return once the cancel was accepted, instead of waiting for Canceled.
    #[arg(long)]
    pub no_wait: bool,
}

#[derive(Debug, Clone, clap::Args)]
pub struct LogsArgs {
    #[command(flatten)]
    pub which: Which,
    /// Folder to save customization.log in.
    #[arg(long, value_name = "DIR", default_value = "aibc-logs")]
    pub out: PathBuf,
    /// Print the log to standard output instead.
    #[arg(long, conflicts_with = "out")]
    pub print: bool,
}

/// The templates to act on: the spec's images' current ones, or `--template`.
async fn targets(session: &Session, which: &Which, images: &[Loaded]) -> Result<Vec<Target>, i32> {
    if !which.templates.is_empty() {
        return Ok(which
            .templates
            .iter()
            .map(|id| Target {
                image: id.rsplit('/').next().unwrap_or(id).to_string(),
                template_id: id.clone(),
                spec_hash: String::new(),
                image_version: None,
            })
            .collect());
    }
    let mut out = Vec::new();
    for loaded in images {
        let name = &loaded.spec.name;
        match deploy::current(session, &which.azure.resource_group, name).await {
            Ok(Some(c)) => out.push(Target {
                image: name.clone(),
                template_id: c.template_id,
                spec_hash: loaded.compiled.plan.content_hash.clone(),
                image_version: c.image_version,
            }),
            Ok(None) => {
                eprintln!(
                    "error: {name} is not deployed in {}: run `aibc deploy` first (or give --template ID)",
                    which.azure.resource_group
                );
                return Err(exit::USAGE);
            }
            Err(e) => return Err(fail(&e)),
        }
    }
    Ok(out)
}

/// Signs in and finds the builds to act on.
async fn open(which: &Which, images: &[Loaded]) -> Result<(Session, Vec<Target>), i32> {
    let session = connect(&which.azure).await?;
    let targets = targets(&session, which, images).await?;
    Ok((session, targets))
}

fn images_of(which: &Which) -> Result<Vec<Loaded>, i32> {
    match &which.spec {
        Some(spec) => super::load(spec, &which.azure, &which.azure.images),
        None => Ok(Vec::new()),
    }
}

/// How events are shown: `-o json` alone is the JSON event stream; another `-o` or a
/// `--query` shows progress on standard error and prints the summary document at the end.
type Shared = Option<Rc<RefCell<Summary>>>;

fn renderer() -> (RefCell<Box<dyn Render>>, Shared) {
    let settings = crate::format::settings();
    let stream = super::output() == Output::Json && settings.query.is_none();
    if stream || !crate::format::wants_document() {
        return (RefCell::new(report::for_environment(stream)), None);
    }
    let summary = Rc::new(RefCell::new(Summary::default()));
    let tee = Tee { shown: report::for_document(), summary: summary.clone() };
    (RefCell::new(Box::new(tee)), Some(summary))
}

/// Prints the summary document, when one was asked for; a failing `--query` is a usage error.
fn print_summary(summary: Shared, code: i32) -> i32 {
    match summary {
        Some(summary) => super::print_result(code, &summary.borrow().document()),
        None => code,
    }
}

const REATTACH: &str = "the build goes on in Azure (it is not canceled); `aibc status` shows it, `aibc run` attaches to it again and `aibc cancel` stops it";

pub fn run(args: RunArgs) -> i32 {
    let images = match images_of(&args.which) {
        Ok(i) => i,
        Err(code) => return code,
    };
    block_on(run_all(args, images), REATTACH)
}

async fn run_all(args: RunArgs, images: Vec<Loaded>) -> i32 {
    let (session, targets) = match open(&args.which, &images).await {
        Ok(o) => o,
        Err(code) => return code,
    };
    let (render, summary) = renderer();
    let family = targets.len() > 1;
    let runs = targets.iter().map(|t| {
        let metadata = if family { family_path(&args.metadata, &t.image) } else { args.metadata.clone() };
        let options =
            follow::Options { timeout: args.timeout, metadata: Some(metadata), logs_dir: Some(args.logs_dir.clone()) };
        start_and_follow(&session, t, args.no_wait, options, &render)
    });
    // Images of a family build in parallel; one process follows them all.
    let codes = futures::future::join_all(runs).await;
    let (reads, writes) = session.arm.counts();
    say(&format!("ARM requests: {reads} read(s), {writes} write(s)"));
    print_summary(summary, worst(&codes))
}

/// `image-version.json` → `web.image-version.json` beside it, for each image of a family.
fn family_path(path: &std::path::Path, image: &str) -> PathBuf {
    let file =
        path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_else(|| "image-version.json".into());
    path.with_file_name(format!("{image}.{file}"))
}

/// The exit code of several images: the most serious.
fn worst(codes: &[i32]) -> i32 {
    let rank = |c: i32| match c {
        exit::SUCCESS => 0,
        exit::PARTIALLY_SUCCEEDED => 1,
        exit::TIMED_OUT => 2,
        exit::CANCELED => 3,
        exit::BUILD_FAILED => 4,
        _ => 5,
    };
    codes.iter().copied().max_by_key(|c| rank(*c)).unwrap_or(exit::SUCCESS)
}

async fn start_and_follow(
    session: &Session,
    target: &Target,
    no_wait: bool,
    options: follow::Options,
    render: &RefCell<Box<dyn Render>>,
) -> i32 {
    let emit = |e: Event| render.borrow_mut().event(&e);
    let template = match session.arm.get(&target.template_id, api::IMAGE_TEMPLATES).await {
        Ok(Some(t)) => t,
        Ok(None) => {
            eprintln!("error: the image template {} does not exist; run `aibc deploy`", target.template_id);
            return exit::AZURE_REFUSED;
        }
        Err(e) => return fail(&e),
    };
    let name = template.get("name").and_then(Value::as_str).unwrap_or(&target.image).to_string();
    if let Some(v) = &target.image_version {
        emit(Event::Version { image: target.image.clone(), version: v.clone() });
    }
    let status = RunStatus::of_template(&template);
    let start = if status.as_ref().is_some_and(|s| !s.state.is_terminal()) {
        // One build at a time per template: follow the one that is going.
        emit(Event::Started { image: target.image.clone(), template: name, attached: true });
        Start::Attached
    } else {
        // No build starts on a template whose distribution target exists (ADR 13).
        match deploy::lifecycle::existing_target(session, &template).await {
            Ok(Some(what)) => {
                eprintln!(
                    "error: {}: {what} already exists, so a build of {name} would fail when it publishes; nothing was started. `aibc deploy` again picks the next version of the spec's scheme (or give `--image-version`); a version the spec pins must change in the spec",
                    target.image
                );
                return exit::AZURE_REFUSED;
            }
            Ok(None) => {}
            Err(e) => return fail(&e),
        }
        let accepted =
            match session.arm.post_no_wait(&format!("{}/run", target.template_id), api::IMAGE_TEMPLATES, None).await {
                Ok(r) => r,
                Err(e) => return start_refused(session, target, e, render).await,
            };
        emit(Event::Started { image: target.image.clone(), template: name, attached: false });
        Start::Started { previous_start: status.and_then(|s| s.start_time), retry_after: accepted.retry_after }
    };
    if no_wait {
        emit(Event::Note { image: target.image.clone(), text: format!("not waiting; {REATTACH}") });
        return exit::SUCCESS;
    }
    follow::follow(session, target, start, &options, render).await
}

/// A run that ARM refused because one had just started elsewhere is attached to, not an error.
async fn start_refused(session: &Session, target: &Target, e: Error, render: &RefCell<Box<dyn Render>>) -> i32 {
    if e.status() == Some(409)
        && let Ok(Some(t)) = session.arm.get(&target.template_id, api::IMAGE_TEMPLATES).await
        && RunStatus::of_template(&t).is_some_and(|s| !s.state.is_terminal())
    {
        render.borrow_mut().event(&Event::Started {
            image: target.image.clone(),
            template: target.template_id.clone(),
            attached: true,
        });
        return follow::follow(session, target, Start::Attached, &follow::Options::default(), render).await;
    }
    fail(&e)
}

pub fn status(which: Which) -> i32 {
    let images = match images_of(&which) {
        Ok(i) => i,
        Err(code) => return code,
    };
    block_on(
        async move {
            let (session, targets) = match open(&which, &images).await {
                Ok(o) => o,
                Err(code) => return code,
            };
            // A document (`-o`, `--query`) is the whole answer: nothing else is shown.
            let summary = crate::format::wants_document().then(|| Rc::new(RefCell::new(Summary::default())));
            let render: RefCell<Box<dyn Render>> = match &summary {
                Some(s) => RefCell::new(Box::new(Tee { shown: Box::new(Quiet), summary: s.clone() })),
                None => renderer().0,
            };
            let mut codes = Vec::new();
            for t in &targets {
                codes.push(status_once(&session, t, &render).await);
            }
            print_summary(summary, worst(&codes))
        },
        "nothing was changed",
    )
}

/// The picture once: state and phase, run outputs, replication. The exit code is the
/// finished build's (0 while it runs).
async fn status_once(session: &Session, target: &Target, render: &RefCell<Box<dyn Render>>) -> i32 {
    let emit = |e: Event| render.borrow_mut().event(&e);
    let template = match session.arm.get(&target.template_id, api::IMAGE_TEMPLATES).await {
        Ok(Some(t)) => t,
        Ok(None) => {
            eprintln!("error: the image template {} does not exist", target.template_id);
            return exit::AZURE_REFUSED;
        }
        Err(e) => return fail(&e),
    };
    if let Some(v) = &target.image_version {
        emit(Event::Version { image: target.image.clone(), version: v.clone() });
    }
    let Some(status) = RunStatus::of_template(&template) else {
        emit(Event::Note { image: target.image.clone(), text: "never built; start a build with `aibc run`".into() });
        return exit::SUCCESS;
    };
    emit(Event::Phase {
        image: target.image.clone(),
        state: status.state.as_str().to_string(),
        sub_state: status.sub_state.clone(),
        message: status.message.clone(),
        elapsed_secs: 0,
    });
    if !status.state.is_terminal() {
        return exit::SUCCESS;
    }
    let outputs = match follow::run_outputs(session, &target.template_id).await {
        Ok(o) => o,
        Err(e) => return fail(&e),
    };
    for o in &outputs {
        emit(Event::Output { image: target.image.clone(), output: o.clone() });
        if let Some(id) = o.gallery_version_id().filter(|_| !o.failed()) {
            let path = format!("{id}?$expand=ReplicationStatus");
            if let Ok(r) =
                session.arm.send(azure_core::http::Method::Get, &path, Some(api::COMPUTE_GALLERY), None).await
            {
                for region in replication_of(&r.body) {
                    emit(Event::Replication { image: target.image.clone(), version_id: id.to_string(), region });
                }
            }
        }
    }
    status.state.exit_code()
}

pub fn cancel(args: CancelArgs) -> i32 {
    let images = match images_of(&args.which) {
        Ok(i) => i,
        Err(code) => return code,
    };
    block_on(
        async move {
            let (session, targets) = match open(&args.which, &images).await {
                Ok(o) => o,
                Err(code) => return code,
            };
            let render = renderer().0;
            let mut codes = Vec::new();
            for t in &targets {
                codes.push(cancel_one(&session, t, args.no_wait, &render).await);
            }
            worst(&codes)
        },
        "the cancel request was sent; `aibc status` shows when the build has stopped",
    )
}

async fn cancel_one(session: &Session, target: &Target, no_wait: bool, render: &RefCell<Box<dyn Render>>) -> i32 {
    let template = match session.arm.get(&target.template_id, api::IMAGE_TEMPLATES).await {
        Ok(Some(t)) => t,
        Ok(None) => return exit::SUCCESS,
        Err(e) => return fail(&e),
    };
    let running = RunStatus::of_template(&template).is_some_and(|s| s.state == RunState::Running);
    if !running {
        render.borrow_mut().event(&Event::Note { image: target.image.clone(), text: "no build is running".into() });
        return exit::SUCCESS;
    }
    if let Err(e) =
        session.arm.post_no_wait(&format!("{}/cancel", target.template_id), api::IMAGE_TEMPLATES, None).await
    {
        return fail(&e);
    }
    render.borrow_mut().event(&Event::Note { image: target.image.clone(), text: "cancel requested".into() });
    if no_wait {
        return exit::SUCCESS;
    }
    let code = follow::follow(session, target, Start::Attached, &follow::Options::default(), render).await;
    // Canceling what was asked to be canceled is success.
    if code == exit::CANCELED { exit::SUCCESS } else { code }
}

pub fn logs(args: LogsArgs) -> i32 {
    let images = match images_of(&args.which) {
        Ok(i) => i,
        Err(code) => return code,
    };
    block_on(
        async move {
            let (session, targets) = match open(&args.which, &images).await {
                Ok(o) => o,
                Err(code) => return code,
            };
            let render = renderer().0;
            for t in &targets {
                let template = match session.arm.get(&t.template_id, api::IMAGE_TEMPLATES).await {
                    Ok(Some(t)) => t,
                    Ok(None) => continue,
                    Err(e) => return fail(&e),
                };
                match logs::fetch(&session, &template).await {
                    Ok(Some((_, text))) if args.print => print!("{text}"),
                    Ok(Some((_, text))) => {
                        let path = args.out.join(format!("{}-{}", t.image, logs::FILE));
                        if let Err(e) = std::fs::create_dir_all(&args.out).and_then(|()| std::fs::write(&path, &text)) {
                            eprintln!("error: cannot write {}: {e}", path.display());
                            return exit::FAILURE;
                        }
                        render.borrow_mut().event(&Event::Artifact {
                            image: t.image.clone(),
                            kind: "log".into(),
                            path: path.display().to_string(),
                        });
                        if let Some(f) = logs::summarise(&text) {
                            render.borrow_mut().event(&Event::Failure {
                                image: t.image.clone(),
                                step: f.step,
                                message: f.error.unwrap_or_default(),
                                log_tail: f.tail,
                            });
                        }
                    }
                    Ok(None) => render.borrow_mut().event(&Event::Note {
                        image: t.image.clone(),
                        text: "no customization.log yet (the staging resource group has none)".into(),
                    }),
                    Err(e) => return fail(&e),
                }
            }
            exit::SUCCESS
        },
        "nothing was changed",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_worst_exit_code_wins() {
        assert_eq!(worst(&[0, 5, 0]), 5);
        assert_eq!(worst(&[5, 4, 6]), 4);
        assert_eq!(worst(&[0, 3]), 3);
        assert_eq!(worst(&[]), 0);
    }

    #[test]
    fn family_metadata_files_sit_side_by_side() {
        assert_eq!(
            family_path(std::path::Path::new("out/image-version.json"), "web"),
            PathBuf::from("out/web.image-version.json")
        );
    }
}
