//! The commands that reach Azure (deploy, clean, run, status, …): what they share — the
//! connection flags, loading and compiling the spec, printing progress, and turning errors
//! into exit codes.

pub mod deploy;
pub mod pipeline;
pub mod prune;
pub mod run;
pub mod smoke;

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::azure::{AuthMethod, CloudName, Connect, Error, Session};
use crate::compiler::{self, Compiled, Target};
use crate::diagnostic;
use crate::exit;
use crate::redact::redact;
use crate::spec::ImageSpec;

/// Where Azure is and how to sign in; shared by every command that calls it.
#[derive(Debug, Clone, clap::Args)]
pub struct AzureArgs {
    /// Resource group the image's resources live in (created if missing; default: `az config`'s
    /// defaults.group; not needed with --template).
    #[arg(
        long,
        short = 'g',
        env = "AIBC_RESOURCE_GROUP",
        value_name = "NAME",
        default_value = "",
        hide_default_value = true
    )]
    pub resource_group: String,
    /// Subscription ID or name (default: AZURE_SUBSCRIPTION_ID, the Azure CLI's current one
    /// with --auth cli, else the only one the identity sees).
    #[arg(long, value_name = "ID|NAME")]
    pub subscription: Option<String>,
    /// How to sign in.
    #[arg(long, value_enum, default_value_t = AuthMethod::Auto, env = "AIBC_AUTH")]
    pub auth: AuthMethod,
    /// A named Azure cloud (default AzureCloud, or AZURE_CLOUD_NAME).
    #[arg(long, value_enum)]
    pub cloud: Option<CloudName>,
    /// A custom ARM endpoint (an Azure Stack Hub or private cloud; also AIBC_ARM_ENDPOINT).
    #[arg(long, value_name = "URL")]
    pub arm_endpoint: Option<String>,
    /// Entra ID authority host for a custom cloud (also AZURE_AUTHORITY_HOST).
    #[arg(long, value_name = "URL")]
    pub authority_host: Option<String>,
    /// Only this image of a family file (repeatable).
    #[arg(long = "image", value_name = "NAME")]
    pub images: Vec<String>,
    /// A folder of customization library entries that add to or replace the built-in ones.
    #[arg(long, value_name = "DIR")]
    pub library: Option<PathBuf>,
    /// A folder the spec's local files may come from besides the spec's own folder.
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Log every HTTP request (method, URL, status, request id) to standard error, redacted.
    #[arg(long, short)]
    pub verbose: bool,
}

impl AzureArgs {
    pub fn connect_options(&self) -> Connect {
        Connect {
            cloud: self.cloud,
            arm_endpoint: self.arm_endpoint.clone(),
            authority_host: self.authority_host.clone(),
            auth: self.auth,
            subscription: self.subscription.clone(),
            verbose: self.verbose || crate::format::settings().debug,
        }
    }
}

/// How a command prints its result: human lines on standard error, or JSON on standard output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Output {
    Text,
    Json,
}

/// Progress goes to standard error, one redacted line at a time, so standard output stays
/// for results (JSON, pipeline variables). `--only-show-errors` silences it.
pub fn say(line: &str) {
    if !crate::format::settings().only_show_errors {
        eprintln!("{}", redact(line));
    }
}

/// `-o json` (or jsonc): what the commands that print events take as "JSON on stdout".
pub fn output() -> Output {
    match crate::format::settings().output {
        Some(crate::format::Format::Json | crate::format::Format::Jsonc) => Output::Json,
        _ => Output::Text,
    }
}

/// Prints a command's result document (`-o`, `--query`) and gives the exit code: `code`, or
/// 64 when the query fails on the document.
pub fn print_result(code: i32, value: &serde_json::Value) -> i32 {
    match crate::format::print(value) {
        Ok(()) => code,
        Err(e) => {
            eprintln!("error: {e}");
            exit::USAGE
        }
    }
}

/// A deleting command's plan (one row per thing kept or deleted), when `-o` or `--query`
/// asked for it and the command got through.
pub fn print_plan(code: i32, rows: Vec<serde_json::Value>) -> i32 {
    if code != exit::SUCCESS || !crate::format::wants_document() {
        return code;
    }
    print_result(code, &serde_json::Value::Array(rows))
}

/// az's question before a deletion: asked on a terminal, skipped with `--yes`, and refused
/// (exit 10, nothing deleted) without a terminal to ask on, so a script never deletes by
/// accident and never hangs on a prompt. A dry run deletes nothing and is not asked about.
pub fn confirm(what: &str, yes: bool, dry_run: bool) -> Result<(), i32> {
    use std::io::{BufRead, IsTerminal, Write};
    if yes || dry_run {
        return Ok(());
    }
    if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        eprintln!("error: {what}: not confirmed; add --yes to delete without a question (no terminal to ask on)");
        return Err(exit::NOT_CONFIRMED);
    }
    eprint!("{what}\nAre you sure you want to perform this operation? (y/n): ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    let _ = std::io::stdin().lock().read_line(&mut answer);
    if matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
        Ok(())
    } else {
        eprintln!("nothing was deleted");
        Err(exit::NOT_CONFIRMED)
    }
}

/// Under Azure Pipelines (`TF_BUILD=True`), logging commands are understood on stdout.
pub fn in_azure_pipelines() -> bool {
    std::env::var("TF_BUILD").is_ok_and(|v| v.eq_ignore_ascii_case("true"))
}

/// `##vso[task.setvariable]` for an output variable, when running in a pipeline; a step
/// output (`image-version`) under GitHub Actions.
pub fn set_pipeline_variable(name: &str, value: &str) {
    if in_azure_pipelines() {
        println!("##vso[task.setvariable variable={name};isOutput=true]{}", escape_logging_value(value));
    }
    crate::github::set_output(name, value);
}

/// Logging-command values may not hold raw CR/LF or `;]` sequences that end the command.
pub fn escape_logging_value(value: &str) -> String {
    value.replace('%', "%AZP25").replace('\r', "%0D").replace('\n', "%0A").replace(';', "%3B").replace(']', "%5D")
}

pub fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// Signs in, with the one line that says how.
pub async fn connect(args: &AzureArgs) -> Result<Session, i32> {
    Session::connect(&args.connect_options(), &env_var, &say).await.map_err(|e| fail(&e))
}

/// An image of the spec, checked and compiled to ARM JSON (what is deployed).
pub struct Loaded {
    pub spec: ImageSpec,
    pub compiled: Compiled,
}

/// Loads, checks and compiles the spec; prints diagnostics; keeps the images asked for.
pub fn load(spec_path: &Path, azure: &AzureArgs, only: &[String]) -> Result<Vec<Loaded>, i32> {
    let options = compiler::Options { library: azure.library.clone(), root: azure.root.clone() };
    let doc = compiler::check_file_with(spec_path, &options).map_err(|e| {
        eprintln!("error: cannot read {}: {e}", spec_path.display());
        exit::FAILURE
    })?;
    let color = std::io::IsTerminal::is_terminal(&std::io::stderr()) && std::env::var_os("NO_COLOR").is_none();
    for d in &doc.diags {
        eprintln!("{}", diagnostic::render(d, &doc.sources, color));
    }
    crate::github::annotate(&doc);
    if doc.has_errors() {
        return Err(exit::INVALID_SPEC);
    }
    let compiled = compiler::compile(&doc, &compiler::display_path(spec_path), Target::Arm).map_err(|e| {
        eprintln!("error: {e}");
        exit::FAILURE
    })?;
    let mut out = Vec::new();
    for (image, compiled) in doc.images.iter().zip(compiled) {
        let spec = image.spec.clone().expect("compiled images are typed");
        if only.is_empty() || only.iter().any(|n| n == &spec.name) {
            out.push(Loaded { spec, compiled });
        }
    }
    if out.is_empty() {
        eprintln!("error: {} has no image named {}", spec_path.display(), only.join(", "));
        return Err(exit::USAGE);
    }
    Ok(out)
}

/// The future a per-image step returns (see `for_each_image`).
pub type Step<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = crate::azure::Result<()>> + 'a>>;

/// Loads the spec, signs in, and runs `step` for each image in turn; the first Azure error
/// ends it with its exit code.
pub fn for_each_image(
    spec: &Path,
    azure: &AzureArgs,
    on_interrupt: &str,
    step: impl for<'a> Fn(&'a Session, &'a Loaded) -> Step<'a>,
) -> i32 {
    let images = match load(spec, azure, &azure.images) {
        Ok(i) => i,
        Err(code) => return code,
    };
    block_on(
        async {
            let session = match connect(azure).await {
                Ok(s) => s,
                Err(code) => return code,
            };
            for loaded in &images {
                if let Err(e) = step(&session, loaded).await {
                    return fail(&e);
                }
            }
            exit::SUCCESS
        },
        on_interrupt,
    )
}

/// Prints an Azure error and gives its exit code: 3 when Azure (or Entra) said no, 1 for
/// what went wrong on our side of the wire.
pub fn fail(e: &Error) -> i32 {
    let text = e.to_string();
    let mut lines = text.lines();
    eprintln!("error: {}", lines.next().unwrap_or_default());
    for l in lines {
        eprintln!("{l}");
    }
    if in_azure_pipelines() {
        println!("##vso[task.logissue type=error]{}", escape_logging_value(&redact(text.lines().next().unwrap_or(""))));
    }
    if crate::github::in_github_actions() {
        println!("::error title=aibc::{}", crate::github::escape_data(&redact(&text)));
    }
    match e {
        Error::Azure(_) | Error::Auth(_) => exit::AZURE_REFUSED,
        Error::Transport(_) | Error::Protocol(_) | Error::Local(_) => exit::FAILURE,
        Error::TimedOut(_) => exit::WAIT_TIMED_OUT,
    }
}

/// A single-threaded runtime: the work is waiting on HTTP, and one thread keeps the process
/// small and its output in order.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime")
}

/// Runs a command's future; Ctrl-C stops waiting (exit 130) and says what keeps running.
/// SIGTERM, what CI agents and containers send on cancel, is handled the same way (exit 143).
pub fn block_on<F: std::future::Future<Output = i32>>(future: F, on_interrupt: &str) -> i32 {
    block_on_with(future, &|| on_interrupt.to_string())
}

/// `block_on` whose interruption message is made when the signal comes (where things stand).
pub fn block_on_with<F: std::future::Future<Output = i32>>(future: F, on_interrupt: &dyn Fn() -> String) -> i32 {
    runtime().block_on(async {
        tokio::select! {
            code = future => code,
            _ = tokio::signal::ctrl_c() => {
                eprintln!("\ninterrupted: {}", on_interrupt());
                exit::INTERRUPTED
            }
            _ = terminated() => {
                eprintln!("\nterminated (SIGTERM): {}", on_interrupt());
                exit::TERMINATED
            }
        }
    })
}

/// Resolves when the process receives SIGTERM (never elsewhere).
async fn terminated() {
    #[cfg(unix)]
    if let Ok(mut term) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        term.recv().await;
        return;
    }
    std::future::pending::<()>().await
}

/// `30s`, `5m`, `4h`, `1h30m`, `90` (seconds).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    if let Ok(secs) = t.parse::<u64>() {
        return Ok(Duration::from_secs(secs));
    }
    let mut total = 0u64;
    let mut number = String::new();
    for c in t.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let n: u64 = number.parse().map_err(|_| format!("`{text}` is not a duration (e.g. 30s, 10m, 4h, 1h30m)"))?;
        number.clear();
        total += n * match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => return Err(format!("`{text}`: unknown unit `{c}` (use s, m, h or d)")),
        };
    }
    if !number.is_empty() {
        return Err(format!("`{text}`: a number needs a unit (s, m, h or d)"));
    }
    Ok(Duration::from_secs(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("2d").unwrap(), Duration::from_secs(172_800));
        assert!(parse_duration("5x").is_err());
        assert!(parse_duration("1h5").is_err());
        assert!(parse_duration("h").is_err());
    }

    #[test]
    fn logging_values_cannot_end_the_command() {
        assert_eq!(escape_logging_value("a;b]c\nd%"), "a%3Bb%5Dc%0Ad%AZP25");
    }
}
