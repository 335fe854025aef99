//! Customize and validate steps: OS fit, script sources, local files, destinations.

use super::{Context, Explain};
use crate::diagnostic::Code;
use crate::node::Path;
use crate::params::has_references;
use crate::spec::{CustomizeStep, FileStep, Os, PowerShellStep, ShellStep, Step, ValidationStep};

pub fn check(cx: &mut Context) {
    let spec = cx.spec;
    for (i, step) in spec.customize.iter().enumerate() {
        let at = Path::root().join("customize").join(i);
        // Library steps are checked against their manifests in `library.rs`.
        let CustomizeStep::Builtin(step) = step else { continue };
        match step {
            Step::PowerShell(s) => powershell(cx, &at, s),
            Step::Shell(s) => shell(cx, &at, s),
            Step::File(f) => file(cx, &at, f),
            Step::WindowsRestart(r) => {
                windows_only(cx, &at, "WindowsRestart");
                if let Some(t) = r.timeout.as_deref().filter(|t| !has_references(t))
                    && !duration_ok(t)
                {
                    cx.at(Code::Duration, &at.join("timeout"), format!("`{t}` is not a duration"))
                        .hint("write a number and a unit: `90s`, `10m`, `1h`");
                }
            }
            Step::WindowsUpdate(_) => windows_only(cx, &at, "WindowsUpdate"),
        }
    }
    if let Some(v) = &spec.validate {
        for (i, step) in v.steps.iter().enumerate() {
            let at = Path::root().join("validate").join("steps").join(i);
            match step {
                ValidationStep::PowerShell(s) => powershell(cx, &at, s),
                ValidationStep::Shell(s) => shell(cx, &at, s),
                ValidationStep::File(f) => file(cx, &at, f),
            }
        }
        if v.source_only == Some(true) && !spec.customize.is_empty() {
            cx.at_key(
                Code::SourceValidationOnly,
                &Path::root().join("customize"),
                "the image has customize steps, but `validate.sourceOnly` skips the build",
            )
            .hint("remove `validate.sourceOnly`, or the customize steps");
        }
    }
}

fn windows_only(cx: &mut Context, at: &Path, what: &str) {
    if cx.spec.os == Os::Linux {
        cx.at(Code::WindowsOnly, &at.join("type"), format!("`{what}` runs only on Windows, and this image is Linux"))
            .hint(if what == "PowerShell" {
                "use a `Shell` step on Linux"
            } else {
                "remove the step, or use a `Shell` step"
            });
    }
}

fn powershell(cx: &mut Context, at: &Path, s: &PowerShellStep) {
    windows_only(cx, at, "PowerShell");
    script_source(cx, at, s.inline.is_some(), s.script.as_deref(), s.sha256.as_deref());
    step_artifacts(cx, at, s.inline.is_some(), &s.artifacts);
    if s.run_as_system == Some(true) && s.run_elevated != Some(true) {
        cx.at_key(
            Code::RunAsSystem,
            &at.join("runAsSystem"),
            "`runAsSystem` has no effect without `runElevated: true`",
        )
        .hint("add `runElevated: true` to this step");
    }
}

fn shell(cx: &mut Context, at: &Path, s: &ShellStep) {
    if cx.spec.os == Os::Windows {
        cx.at(Code::LinuxOnly, &at.join("type"), "`Shell` runs only on Linux, and this image is Windows")
            .hint("use a `PowerShell` step on Windows");
    }
    script_source(cx, at, s.inline.is_some(), s.script.as_deref(), s.sha256.as_deref());
    step_artifacts(cx, at, s.inline.is_some(), &s.artifacts);
}

/// `artifacts:` of a script step: local files, an `inline` script to read the variables,
/// and a build VM identity to download with.
fn step_artifacts(cx: &mut Context, at: &Path, inline: bool, artifacts: &[String]) {
    if artifacts.is_empty() {
        return;
    }
    if !inline {
        cx.at_key(Code::StepArtifacts, &at.join("artifacts"), "only an `inline` script gets the artifacts' variables")
            .hint("write the commands in `inline`, or copy the file with a `File` step");
    }
    if cx.spec.build.as_ref().is_none_or(|b| b.vm_identities.is_empty()) {
        cx.at_key(
            Code::StepArtifacts,
            &at.join("artifacts"),
            "the script downloads these with the build VM's identity, and the build VM has none",
        )
        .hint("add `build.vmIdentities`: aibc lets that identity read the artifact container");
    }
    for (i, a) in artifacts.iter().enumerate() {
        let p = at.join("artifacts").join(i);
        if a.contains("://") {
            cx.at(Code::StepArtifacts, &p, format!("`{a}` is a URL; the script can download it itself"))
                .hint("list local files here (relative to the spec)");
        } else if !cx.base_dir.join(a).is_file() {
            cx.at(Code::MissingFile, &p, format!("`{a}` does not exist"))
                .hint("give a path relative to the spec's folder");
        }
    }
}

fn file(cx: &mut Context, at: &Path, f: &FileStep) {
    let d = &f.destination;
    let absolute = if cx.spec.os == Os::Windows {
        let b = d.as_bytes();
        (b.len() >= 3 && b[0].is_ascii_alphabetic() && b[1] == b':' && (b[2] == b'\\' || b[2] == b'/'))
            || d.starts_with("\\\\")
    } else {
        d.starts_with('/')
    };
    if !has_references(d) && !absolute {
        let example = if cx.spec.os == Os::Windows { "C:\\BuildArtifacts\\app.zip" } else { "/tmp/app.tar.gz" };
        cx.at(
            Code::RelativeDestination,
            &at.join("destination"),
            format!("`{d}` is not an absolute path on the {} build VM", cx.spec.os.azure_name()),
        )
        .hint(format!("give the full path, for example `{example}`"));
    }
    local_or_remote_to(
        cx,
        &at.join("source"),
        &f.source,
        f.sha256.as_deref(),
        &at.join("sha256"),
        Some(&f.destination),
    );
}

fn script_source(cx: &mut Context, at: &Path, inline: bool, script: Option<&str>, sha: Option<&str>) {
    match (inline, script) {
        (true, Some(_)) => {
            cx.at_key(
                Code::ScriptSource,
                &at.join("script"),
                "a step runs either `inline` commands or a `script`, not both",
            )
            .hint("split it into two steps");
        }
        (false, None) => {
            // A misspelt `inline`/`script` is already reported as an unknown key.
            let misspelt = match cx.node.locate_node(at).map(|n| &n.kind) {
                Some(crate::node::Kind::Map(entries)) => entries.iter().any(|e| {
                    e.key != "inline"
                        && e.key != "script"
                        && crate::diagnostic::suggest(&e.key, ["inline", "script"]).is_some()
                }),
                _ => false,
            };
            if !misspelt {
                cx.at(Code::ScriptSource, at, "this step has nothing to run")
                    .hint("add `inline:` commands or a `script:` path");
            }
        }
        (false, Some(s)) => local_or_remote(cx, &at.join("script"), s, sha, &at.join("sha256")),
        (true, None) => {
            if sha.is_some() {
                cx.at_key(
                    Code::Sha256,
                    &at.join("sha256"),
                    "`sha256` applies to a remote `script`, and this step is inline",
                )
                .hint("remove `sha256`");
            }
        }
    }
}

/// A URL must be https; anything else is a local path that must exist. `zip_to` is the
/// destination of a File step, where a folder is allowed (it is uploaded as a zip).
fn local_or_remote(cx: &mut Context, at: &Path, value: &str, sha: Option<&str>, sha_at: &Path) {
    local_or_remote_to(cx, at, value, sha, sha_at, None)
}

fn local_or_remote_to(
    cx: &mut Context,
    at: &Path,
    value: &str,
    sha: Option<&str>,
    sha_at: &Path,
    zip_to: Option<&str>,
) {
    if has_references(value) {
        return;
    }
    if let Some(sha) = sha
        && (sha.len() != 64 || !sha.chars().all(|c| c.is_ascii_hexdigit()))
    {
        cx.at(Code::Sha256, sha_at, "`sha256` is not a SHA-256 checksum")
            .hint("64 hexadecimal digits, as `sha256sum` or `Get-FileHash` prints");
    }
    if value.contains("://") {
        if !value.starts_with("https://") {
            cx.at(Code::Uri, at, format!("`{value}` is not an https URL"))
                .hint("AIB downloads scripts and files over https only; use an https URL or a local path");
        }
        return;
    }
    if sha.is_some() {
        cx.at_key(Code::Sha256, sha_at, "local files are hashed by aibc; `sha256` is for remote URLs")
            .hint("remove `sha256`");
    }
    let want = match zip_to {
        Some(dest) => super::paths::Want::FileOrFolderTo(dest),
        None => super::paths::Want::File,
    };
    super::paths::check_local(cx, at, value, want);
}

pub fn duration_ok(t: &str) -> bool {
    let (num, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
    !num.is_empty() && matches!(unit, "s" | "m" | "h")
}
