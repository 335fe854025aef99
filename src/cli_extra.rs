//! The command line's shared surface beside the subcommands: the az-style global flags, the
//! long `--version`, the man page, and filling in the resource group and subscription the
//! way az users expect. Kept out of main.rs so the clap definition stays one list of commands.

use std::sync::OnceLock;

use crate::commands::AzureArgs;
use crate::exit;
use crate::format::{self, Format};

/// Flags every command takes, as in az.
#[derive(Debug, Clone, clap::Args)]
pub struct GlobalArgs {
    /// Output format of a command's result (status, run's summary, deploy, prune's plan,
    /// customizations list, explain); `-o json` on `run` streams its events as JSON Lines.
    #[arg(long, short = 'o', global = true, value_enum, value_name = "FORMAT")]
    pub output: Option<Format>,
    /// A JMESPath query applied to the result before it is printed (https://jmespath.org),
    /// e.g. `--query imageVersion -o tsv`.
    #[arg(long, global = true, value_name = "JMESPATH")]
    pub query: Option<String>,
    /// Print errors only: no progress, no warnings.
    #[arg(long, global = true)]
    pub only_show_errors: bool,
    /// Log everything: every HTTP request (redacted), as --verbose does for Azure commands.
    #[arg(long, global = true)]
    pub debug: bool,
}

impl GlobalArgs {
    /// Checks the query and records the flags for the commands.
    pub fn apply(&self) -> Result<(), i32> {
        if let Some(q) = &self.query
            && let Err(e) = format::check_query(q)
        {
            eprintln!("error: {e}");
            return Err(exit::USAGE);
        }
        format::init(format::Settings {
            output: self.output,
            query: self.query.clone(),
            only_show_errors: self.only_show_errors,
            debug: self.debug,
        });
        Ok(())
    }
}

/// `aibc --version`: the version, the commit it was built from, the target, and the Azure
/// api-versions it writes (what a support question needs first).
pub fn long_version() -> &'static str {
    static TEXT: OnceLock<String> = OnceLock::new();
    TEXT.get_or_init(|| {
        use crate::azure::api;
        format!(
            "{}\ncommit: {}\ntarget: {}\napi-versions: Microsoft.VirtualMachineImages {}, Microsoft.Compute galleries {}, Microsoft.Resources {}, Microsoft.Storage {}",
            env!("CARGO_PKG_VERSION"),
            env!("AIBC_COMMIT"),
            env!("AIBC_TARGET"),
            api::IMAGE_TEMPLATES,
            api::COMPUTE_GALLERY,
            api::RESOURCES,
            api::STORAGE,
        )
    })
}

/// Prints the man page of `command` (roff) to standard output, or with `dir` writes it and
/// one page per subcommand (`aibc-prune.1`, `aibc-pipeline-init.1`) there, so `man aibc-prune`
/// shows that command's flags.
pub fn man(command: clap::Command, dir: Option<&std::path::Path>) -> i32 {
    let written = match dir {
        None => clap_mangen::Man::new(command).render(&mut std::io::stdout().lock()),
        Some(dir) => std::fs::create_dir_all(dir).and_then(|()| {
            let mut command = command;
            command.build();
            pages(&command, dir)
        }),
    };
    match written {
        Ok(()) => exit::SUCCESS,
        Err(e) => {
            eprintln!("error: cannot write the man page: {e}");
            exit::FAILURE
        }
    }
}

/// A built command's display name is its path (`aibc-pipeline-init`): the page's title and file.
fn pages(command: &clap::Command, dir: &std::path::Path) -> std::io::Result<()> {
    let name = command.get_display_name().unwrap_or(command.get_name());
    let mut page = Vec::new();
    clap_mangen::Man::new(command.clone()).render(&mut page)?;
    std::fs::write(dir.join(format!("{name}.1")), page)?;
    for sub in command.get_subcommands().filter(|s| s.get_name() != "help") {
        pages(sub, dir)?;
    }
    Ok(())
}

/// Fills in the resource group (az's `defaults.group`, or the one `--template` ids carry)
/// and the subscription of `--template` ids; a command that needs a group and has none is a
/// usage error that says the three ways to give one.
pub fn resolve(azure: &mut AzureArgs, templates: &[String], needs_group: bool) -> Result<(), i32> {
    let env = |k: &str| std::env::var(k).ok();
    let scope = templates.iter().find_map(|t| crate::azcli::scope_of(t));
    if let Some((sub, group)) = &scope {
        if azure.subscription.is_none() && env("AZURE_SUBSCRIPTION_ID").is_none_or(|s| s.is_empty()) {
            azure.subscription = Some(sub.clone());
        }
        if azure.resource_group.is_empty() {
            azure.resource_group = group.clone();
        }
    }
    if azure.resource_group.is_empty()
        && let Some(group) = crate::azcli::default(&env, "group")
    {
        azure.resource_group = group;
    }
    if needs_group && azure.resource_group.is_empty() {
        eprintln!(
            "error: no resource group: give -g NAME, set AIBC_RESOURCE_GROUP, or `az config set defaults.group=NAME`"
        );
        return Err(exit::USAGE);
    }
    Ok(())
}
