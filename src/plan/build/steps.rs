//! Customizer and validator objects of the template, and the local files they use.

use super::*;

pub(super) struct StepCtx<'a> {
    pub(super) artifacts: &'a [Artifact],
}

impl StepCtx<'_> {
    /// A script or file reference: a remote URL as given, or the uploaded blob.
    pub(super) fn uri(&self, value: &str, sha: Option<&str>) -> (Expr, Option<String>) {
        if value.contains("://") {
            return (Expr::str(value), sha.map(str::to_string));
        }
        let a = self.artifacts.iter().find(|a| a.spec_path == value).expect("every local file is an artifact");
        (Expr::interp(vec![Expr::param("artifactsUrl"), Expr::str(format!("/{}", a.blob))]), Some(a.sha256.clone()))
    }

    pub(super) fn script(
        &self,
        p: &mut Vec<(&'static str, Expr)>,
        inline: &Option<Inline>,
        script: &Option<String>,
        sha: &Option<String>,
        env: &[Expr],
    ) {
        if let Some(i) = inline {
            let mut lines = env.to_vec();
            lines.extend(i.lines().iter().map(Expr::str));
            p.push(("inline", Expr::Array(lines)));
        }
        if let Some(s) = script {
            let (uri, sha) = self.uri(s, sha.as_deref());
            p.push(("scriptUri", uri));
            if let Some(sha) = sha {
                p.push(("sha256Checksum", Expr::str(sha)));
            }
        }
    }

    /// Lines that set `AIBC_ARTIFACT_<NAME>` (the blob URL) and `…_SHA256` for a script.
    fn artifact_env(&self, paths: &[String], set: impl Fn(&str, Expr) -> Vec<Expr>) -> Vec<Expr> {
        let mut lines = Vec::new();
        for path in paths {
            let Some(a) = self.artifacts.iter().find(|a| &a.spec_path == path) else { continue };
            let name = artifact_env_name(path);
            let url = Expr::interp(vec![Expr::param("artifactsUrl"), Expr::str(format!("/{}", a.blob))]);
            lines.push(Expr::interp(set(&name, url)));
            lines.push(Expr::interp(set(&format!("{name}_SHA256"), Expr::str(&a.sha256))));
        }
        lines
    }

    pub(super) fn powershell(&self, i: usize, s: &PowerShellStep) -> Expr {
        let mut p: Vec<(&str, Expr)> = vec![
            ("type", Expr::str("PowerShell")),
            ("name", Expr::str(step_name(i, "PowerShell", s.name.as_deref(), s.script.as_deref()))),
        ];
        let env = self.artifact_env(&s.artifacts, |name, value| {
            vec![Expr::str(format!("$env:{name} = '")), value, Expr::str("'")]
        });
        self.script(&mut p, &s.inline, &s.script, &s.sha256, &env);
        if let Some(b) = s.run_elevated {
            p.push(("runElevated", Expr::Bool(b)));
        }
        if let Some(b) = s.run_as_system {
            p.push(("runAsSystem", Expr::Bool(b)));
        }
        if !s.valid_exit_codes.is_empty() {
            p.push((
                "validExitCodes",
                Expr::Array(s.valid_exit_codes.iter().map(|c| Expr::Int((*c).into())).collect()),
            ));
        }
        Expr::obj(p)
    }

    pub(super) fn shell(&self, i: usize, s: &ShellStep) -> Expr {
        let mut p: Vec<(&str, Expr)> = vec![
            ("type", Expr::str("Shell")),
            ("name", Expr::str(step_name(i, "Shell", s.name.as_deref(), s.script.as_deref()))),
        ];
        let env = self.artifact_env(&s.artifacts, |name, value| {
            vec![Expr::str(format!("export {name}='")), value, Expr::str("'")]
        });
        self.script(&mut p, &s.inline, &s.script, &s.sha256, &env);
        Expr::obj(p)
    }

    pub(super) fn file(&self, i: usize, f: &FileStep) -> Expr {
        let (uri, sha) = self.uri(&f.source, f.sha256.as_deref());
        let mut p: Vec<(&str, Expr)> = vec![
            ("type", Expr::str("File")),
            ("name", Expr::str(step_name(i, "File", f.name.as_deref(), Some(&f.source)))),
            ("sourceUri", uri),
        ];
        if let Some(sha) = sha {
            p.push(("sha256Checksum", Expr::str(sha)));
        }
        p.push(("destination", from_spec_string(&f.destination)));
        Expr::obj(p)
    }

    pub(super) fn customizer(&self, i: usize, s: &Step) -> Expr {
        match s {
            Step::PowerShell(s) => self.powershell(i, s),
            Step::Shell(s) => self.shell(i, s),
            Step::File(f) => self.file(i, f),
            Step::WindowsRestart(r) => {
                let mut p: Vec<(&str, Expr)> = vec![
                    ("type", Expr::str("WindowsRestart")),
                    ("name", Expr::str(step_name(i, "WindowsRestart", r.name.as_deref(), None))),
                ];
                if let Some(c) = &r.command {
                    p.push(("restartCommand", Expr::str(c)));
                }
                if let Some(c) = &r.check_command {
                    p.push(("restartCheckCommand", Expr::str(c)));
                }
                if let Some(t) = &r.timeout {
                    p.push(("restartTimeout", from_spec_string(t)));
                }
                Expr::obj(p)
            }
            Step::WindowsUpdate(u) => {
                let mut p: Vec<(&str, Expr)> = vec![
                    ("type", Expr::str("WindowsUpdate")),
                    ("name", Expr::str(step_name(i, "WindowsUpdate", u.name.as_deref(), None))),
                ];
                if let Some(c) = &u.search_criteria {
                    p.push(("searchCriteria", Expr::str(c)));
                }
                if !u.filters.is_empty() {
                    p.push(("filters", Expr::strings(&u.filters)));
                }
                if let Some(l) = u.update_limit {
                    p.push(("updateLimit", Expr::Int(l.into())));
                }
                Expr::obj(p)
            }
        }
    }

    pub(super) fn validator(&self, i: usize, s: &ValidationStep) -> Expr {
        match s {
            ValidationStep::PowerShell(s) => self.powershell(i, s),
            ValidationStep::Shell(s) => self.shell(i, s),
            ValidationStep::File(f) => self.file(i, f),
        }
    }
}

/// A step's name in AIB's log: as given, else the script's file name, else type and position.
pub(super) fn step_name(i: usize, kind: &str, name: Option<&str>, file: Option<&str>) -> String {
    if let Some(n) = name {
        return n.to_string();
    }
    if let Some(f) = file
        && let Some(base) = f.rsplit(['/', '\\']).next().filter(|b| !b.is_empty())
    {
        return base.split('?').next().unwrap_or(base).to_string();
    }
    format!("{kind}-{}", i + 1)
}

pub(super) fn step_file(s: &Step) -> Option<&str> {
    match s {
        Step::PowerShell(p) => p.script.as_deref(),
        Step::Shell(p) => p.script.as_deref(),
        Step::File(f) => Some(&f.source),
        _ => None,
    }
}

pub(super) fn validation_file(s: &ValidationStep) -> Option<&str> {
    match s {
        ValidationStep::PowerShell(p) => p.script.as_deref(),
        ValidationStep::Shell(p) => p.script.as_deref(),
        ValidationStep::File(f) => Some(&f.source),
    }
}

/// `installers/setup-1.2.msi` → `AIBC_ARTIFACT_SETUP_1_2_MSI`.
pub fn artifact_env_name(path: &str) -> String {
    let file = path.trim_end_matches(['/', '\\']).rsplit(['/', '\\']).next().unwrap_or(path);
    let upper: String =
        file.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' }).collect();
    format!("AIBC_ARTIFACT_{upper}")
}

/// Local files a step exposes to its script (`artifacts:`).
pub(super) fn step_artifacts(s: &Step) -> &[String] {
    match s {
        Step::PowerShell(p) => &p.artifacts,
        Step::Shell(p) => &p.artifacts,
        _ => &[],
    }
}
