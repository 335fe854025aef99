//! Customizers, in-VM validators and optimization: the steps of the build.

use super::super::diag::ImportCode;
use super::super::resolve::Field;
use super::super::value::{V, Val};
use super::{Mapper, type_of};
use crate::spec::*;

impl Mapper<'_> {
    /// A script or file reference: remote URLs as they are, local paths relative to the
    /// spec.
    pub(super) fn uri(&mut self, v: &Val, path: &str, what: &str) -> Option<String> {
        let s = self.r.string(v, path, what, Field::Url)?;
        if s.contains("://") {
            return Some(s);
        }
        match self.local_path {
            Some(f) => Some(f(&s)),
            None => {
                self.r
                    .warn(ImportCode::Invalid, v.span, format!("`{what}` `{s}` is not a URL"))
                    .help("AIB downloads scripts and files from https URLs");
                Some(s)
            }
        }
    }

    pub(super) fn inline(&mut self, v: &Val, path: &str) -> Inline {
        let lines: Vec<String> = self
            .r
            .list(v, path, "inline")
            .iter()
            .enumerate()
            .filter_map(|(i, l)| self.r.string(l, &format!("{path}/{i}"), "inline", Field::Content))
            .collect();
        inline(lines)
    }

    /// The script keys shared by PowerShell and Shell steps: (inline, script, sha256).
    pub(super) fn script(&mut self, v: &Val, path: &str) -> (Option<Inline>, Option<String>, Option<String>) {
        let inline =
            v.get("inline").filter(|x| !matches!(x.v, V::Null)).map(|x| self.inline(x, &format!("{path}/inline")));
        let script = v
            .get("scriptUri")
            .filter(|x| !x.lit().is_some_and(str::is_empty))
            .and_then(|x| self.uri(x, &format!("{path}/scriptUri"), "scriptUri"));
        let sha = self.checksum(v, path);
        if inline.is_some() == script.is_some() {
            self.r
                .gap(v.span, "a script step needs exactly one of `inline` and `scriptUri`; the step is left out")
                .help("give the commands inline, or the script's URL");
            return (None, None, sha);
        }
        (inline, script, sha)
    }

    pub(super) fn checksum(&mut self, v: &Val, path: &str) -> Option<String> {
        self.opt_string(v, "sha256Checksum", path, Field::Raw).filter(|s| !s.is_empty()).map(|s| s.to_ascii_lowercase())
    }

    pub(super) fn step_name(&mut self, v: &Val, path: &str) -> Option<String> {
        // Names are written into the template as they are: no parameters.
        self.opt_string(v, "name", path, Field::Raw).filter(|s| !s.is_empty())
    }

    pub(super) fn customizer(&mut self, v: &Val, path: &str) -> Option<Step> {
        let Some((kind, kind_span)) = type_of(v) else {
            self.r.gap(v.span, "a customizer without `type` is left out").help("write the step by hand");
            return None;
        };
        let name = self.step_name(v, path);
        match kind.to_ascii_lowercase().as_str() {
            "powershell" => {
                self.unknown_keys(
                    v,
                    path,
                    &["inline", "scriptUri", "sha256Checksum", "runElevated", "runAsSystem", "validExitCodes"],
                    "a PowerShell customizer",
                );
                self.powershell(v, path, name).map(Step::PowerShell)
            }
            "shell" => {
                self.unknown_keys(v, path, &["inline", "scriptUri", "sha256Checksum"], "a Shell customizer");
                let (inline, script, sha256) = self.script(v, path);
                if inline.is_none() && script.is_none() {
                    return None;
                }
                Some(Step::Shell(ShellStep { name, inline, script, sha256, artifacts: Vec::new() }))
            }
            "file" => self.file(v, path, name).map(Step::File),
            "windowsrestart" => {
                self.unknown_keys(
                    v,
                    path,
                    &["restartCommand", "restartCheckCommand", "restartTimeout"],
                    "a WindowsRestart customizer",
                );
                Some(Step::WindowsRestart(RestartStep {
                    name,
                    command: self.opt_string(v, "restartCommand", path, Field::Content).filter(|s| !s.is_empty()),
                    check_command: self
                        .opt_string(v, "restartCheckCommand", path, Field::Content)
                        .filter(|s| !s.is_empty()),
                    timeout: self.opt_string(v, "restartTimeout", path, Field::Param).filter(|s| !s.is_empty()),
                }))
            }
            "windowsupdate" => {
                self.unknown_keys(v, path, &["searchCriteria", "filters", "updateLimit"], "a WindowsUpdate customizer");
                let filters = match v.get("filters").filter(|f| !matches!(f.v, V::Null)) {
                    Some(f) => {
                        let p = format!("{path}/filters");
                        self.r
                            .list(f, &p, "filters")
                            .iter()
                            .enumerate()
                            .filter_map(|(i, x)| self.r.string(x, &format!("{p}/{i}"), "filters", Field::Content))
                            .collect()
                    }
                    None => Vec::new(),
                };
                Some(Step::WindowsUpdate(WindowsUpdateStep {
                    name,
                    search_criteria: self
                        .opt_string(v, "searchCriteria", path, Field::Content)
                        .filter(|s| !s.is_empty()),
                    filters,
                    update_limit: self.opt_u32(v, "updateLimit", path).filter(|n| *n != 0),
                }))
            }
            _ => {
                let m = format!("`{kind}` is not a customizer AIB has; the step is left out");
                self.r
                    .warn(ImportCode::Unsupported, kind_span, m.clone())
                    .help("AIB customizers are PowerShell, Shell, File, WindowsRestart and WindowsUpdate");
                self.r.remove(path, m);
                None
            }
        }
    }

    pub(super) fn powershell(&mut self, v: &Val, path: &str, name: Option<String>) -> Option<PowerShellStep> {
        let (inline, script, sha256) = self.script(v, path);
        if inline.is_none() && script.is_none() {
            return None;
        }
        let valid_exit_codes = match v.get("validExitCodes").filter(|x| !matches!(x.v, V::Null)) {
            Some(codes) => {
                let p = format!("{path}/validExitCodes");
                self.r
                    .list(codes, &p, "validExitCodes")
                    .iter()
                    .enumerate()
                    .filter_map(|(i, c)| self.r.int(c, &format!("{p}/{i}"), "validExitCodes"))
                    .filter_map(|c| i32::try_from(c).ok())
                    .collect()
            }
            None => Vec::new(),
        };
        Some(PowerShellStep {
            name,
            inline,
            script,
            sha256,
            run_elevated: self.opt_bool(v, "runElevated", path).filter(|b| *b),
            run_as_system: self.opt_bool(v, "runAsSystem", path).filter(|b| *b),
            valid_exit_codes,
            artifacts: Vec::new(),
        })
    }

    pub(super) fn file(&mut self, v: &Val, path: &str, name: Option<String>) -> Option<FileStep> {
        self.unknown_keys(v, path, &["sourceUri", "destination", "sha256Checksum"], "a File customizer");
        let source = v.get("sourceUri").and_then(|x| self.uri(x, &format!("{path}/sourceUri"), "sourceUri"));
        let destination = self.opt_string(v, "destination", path, Field::Param);
        let sha256 = self.checksum(v, path);
        match (source, destination) {
            (Some(source), Some(destination)) => Some(FileStep { name, source, destination, sha256 }),
            _ => {
                self.r.gap(v.span, "a File customizer needs `sourceUri` and `destination`; it is left out");
                None
            }
        }
    }

    pub(super) fn validate(&mut self, v: &Val) -> Option<Validate> {
        self.unknown_keys(
            v,
            "/validate",
            &["continueDistributeOnFailure", "sourceValidationOnly", "inVMValidations"],
            "`validate`",
        );
        let mut steps = Vec::new();
        if let Some(list) = v.get("inVMValidations") {
            for (i, s) in self.r.list(list, "/validate/inVMValidations", "inVMValidations").iter().enumerate() {
                let path = format!("/validate/inVMValidations/{i}");
                let Some((kind, kind_span)) = type_of(s) else { continue };
                let name = self.step_name(s, &path);
                match kind.to_ascii_lowercase().as_str() {
                    "powershell" => {
                        self.unknown_keys(
                            s,
                            &path,
                            &["inline", "scriptUri", "sha256Checksum", "runElevated", "runAsSystem", "validExitCodes"],
                            "a PowerShell validator",
                        );
                        if let Some(p) = self.powershell(s, &path, name) {
                            steps.push(ValidationStep::PowerShell(p));
                        }
                    }
                    "shell" => {
                        self.unknown_keys(s, &path, &["inline", "scriptUri", "sha256Checksum"], "a Shell validator");
                        let (inline, script, sha256) = self.script(s, &path);
                        if inline.is_some() || script.is_some() {
                            steps.push(ValidationStep::Shell(ShellStep {
                                name,
                                inline,
                                script,
                                sha256,
                                artifacts: Vec::new(),
                            }));
                        }
                    }
                    "file" => {
                        if let Some(f) = self.file(s, &path, name) {
                            steps.push(ValidationStep::File(f));
                        }
                    }
                    _ => {
                        let m = format!("`{kind}` is not a validator AIB has; it is left out");
                        self.r.warn(ImportCode::Unsupported, kind_span, m.clone());
                        self.r.remove(&path, m);
                    }
                }
            }
        }
        let out = Validate {
            steps,
            source_only: self.opt_bool(v, "sourceValidationOnly", "/validate").filter(|b| *b),
            continue_distribute_on_failure: self.opt_bool(v, "continueDistributeOnFailure", "/validate"),
        };
        (out != Validate::default()).then_some(out)
    }

    pub(super) fn optimize(&mut self, v: &Val) -> Option<Optimize> {
        self.unknown_keys(v, "/optimize", &["vmBoot", "workload"], "`optimize`");
        let mut state = |key: &str, known: &[&str]| {
            let o = v.get(key)?;
            self.unknown_keys(o, &format!("/optimize/{key}"), known, &format!("`optimize.{key}`"));
            let s = o.get("state")?;
            let s = self.r.string(s, &format!("/optimize/{key}/state"), "state", Field::Content)?;
            Some(s.eq_ignore_ascii_case("enabled"))
        };
        let vm_boot = state("vmBoot", &["state"]);
        let workload = state("workload", &["state"]);
        let out = Optimize { vm_boot, workload };
        (out != Optimize::default()).then_some(out)
    }
}

/// Script lines as the spec writes them: one block of text when that reads back the same
/// lines, the list otherwise.
pub fn inline(lines: Vec<String>) -> Inline {
    let blockable = lines.len() > 1
        && lines.iter().all(|l| {
            !l.contains(['\n', '\r']) && !l.ends_with([' ', '\t']) && !l.chars().any(|c| c.is_control() && c != '\t')
        });
    if blockable {
        let mut text = lines.join("\n");
        text.push('\n');
        Inline::Text(text)
    } else {
        Inline::Lines(lines)
    }
}
