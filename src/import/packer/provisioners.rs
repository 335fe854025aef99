//! Packer provisioners → AIB customizers (in the API's shape, so that the image template
//! the Packer template amounts to can be mapped and compared like any other).
//!
//! powershell, shell, file, windows-restart and windows-update have AIB counterparts
//! (AIB's customizers were modelled on them). Packer's generalization steps (Sysprep,
//! `waagent -deprovision`) are left out: AIB generalizes the image itself. Everything
//! else is reported, never dropped silently.

use super::super::diag::{Finding, ImportCode};
use super::super::value::{Piece, Text, V, Val};
use super::model::{Attr, Block};
use crate::source::Span;
use std::path::Path;

/// Settings every provisioner may have that AIB has no per-step counterpart for.
const COMMON_UNSUPPORTED: &[&str] = &["pause_before", "max_retries", "timeout"];

/// The customizers a provisioner becomes (none, one, or one per script or file).
pub fn customizers(p: &Block, template_dir: &Path, findings: &mut Vec<Finding>) -> Vec<Val> {
    let mut cx = Cx { p, findings, handled: Vec::new(), template_dir };
    let out = match p.kind.as_str() {
        "powershell" => cx.powershell(),
        "shell" => cx.shell(),
        "file" => cx.file(),
        "windows-restart" => cx.restart(),
        "windows-update" => cx.windows_update(),
        other => {
            let hint = match other {
                "ansible" | "ansible-local" | "chef-solo" | "chef-client" | "puppet-masterless" | "puppet-server"
                | "salt-masterless" | "converge" => {
                    "run the tool from a Shell or PowerShell step (install it, then run it on the build VM)"
                }
                "breakpoint" => {
                    "AIB runs unattended; to inspect a failed build VM, set `build.onCustomizerError: abort`"
                }
                "windows-shell" => "run the commands from a PowerShell step (`cmd /c …`)",
                "shell-local" => "run it before or after the build, where the template is deployed",
                _ => "run its work from a Shell or PowerShell step",
            };
            // A provisioner that changes the image leaves work undone: a gap. One that does
            // not (a pause, a step on the machine running Packer) is only left out.
            let code =
                if matches!(other, "breakpoint" | "shell-local") { ImportCode::Unsupported } else { ImportCode::Gap };
            cx.findings.push(
                Finding::new(
                    code,
                    p.kind_span,
                    format!("the `{other}` provisioner has no AIB counterpart; it is left out"),
                )
                .hint(hint),
            );
            return Vec::new();
        }
    };
    cx.leftovers();
    out
}

struct Cx<'a> {
    p: &'a Block,
    findings: &'a mut Vec<Finding>,
    /// Settings read; the rest are reported.
    handled: Vec<&'static str>,
    /// Local files are relative to it.
    template_dir: &'a Path,
}

fn obj(span: Span, entries: Vec<(&str, Val)>) -> Val {
    Val::new(V::Obj(entries.into_iter().map(|(k, v)| (k.to_string(), v.span, v)).collect()), span)
}

fn lit(s: &str, span: Span) -> Val {
    Val::str(Text::lit(s), span)
}

impl Cx<'_> {
    fn get(&mut self, key: &'static str) -> Option<Val> {
        self.handled.push(key);
        self.p.get(key).filter(|v| !matches!(v.v, V::Null)).cloned()
    }

    fn attr(&self, key: &str) -> Option<&Attr> {
        self.p.attr(key)
    }

    /// Reports every setting not read.
    fn leftovers(&mut self) {
        for a in &self.p.attrs {
            if self.handled.contains(&a.key.as_str()) {
                continue;
            }
            let m = if COMMON_UNSUPPORTED.contains(&a.key.as_str()) {
                format!("`{}` has no counterpart for an AIB customizer; it is left out", a.key)
            } else {
                format!("`{}` of the `{}` provisioner has no AIB counterpart; it is left out", a.key, self.p.kind)
            };
            self.findings.push(Finding::new(ImportCode::Unsupported, a.key_span, m));
        }
    }

    /// `environment_vars = ["K=V"]` and `env = { K = "V" }`, in order.
    fn env_vars(&mut self) -> Vec<(String, Text, Span)> {
        let mut out = Vec::new();
        if let Some(list) = self.get("environment_vars") {
            for item in list.items() {
                let Some(t) = item.text() else { continue };
                let canon = t.canonical();
                if let Some((k, _)) = canon.split_once('=') {
                    // The value is everything after the first `=` in the literal text.
                    let mut value = Text::default();
                    let mut seen = false;
                    for piece in t.pieces() {
                        match piece {
                            Piece::Lit(l) if !seen => {
                                if let Some((_, rest)) = l.split_once('=') {
                                    seen = true;
                                    value.push(Piece::Lit(rest.to_string()));
                                }
                            }
                            other if seen => value.push(other.clone()),
                            _ => {}
                        }
                    }
                    out.push((k.to_string(), value, item.span));
                }
            }
        }
        if let Some(map) = self.get("env") {
            for (k, _, v) in map.entries() {
                if let Some(t) = v.text() {
                    out.push((k.clone(), t.clone(), v.span));
                }
            }
        }
        out
    }

    /// The scripts to run: `inline` (one step) or `script` / `scripts` (one step each).
    fn sources(&mut self) -> (Option<Vec<Val>>, Vec<Val>) {
        let inline = self.get("inline").map(|v| match v.v {
            V::Arr(items) => items,
            _ => vec![v],
        });
        let mut scripts = Vec::new();
        if let Some(s) = self.get("script") {
            scripts.push(s);
        }
        if let Some(list) = self.get("scripts") {
            scripts.extend(list.items().iter().cloned());
        }
        (inline, scripts)
    }

    /// Drops Sysprep / `waagent -deprovision` and the lines that only wait for them.
    /// `None` when nothing is left of the step.
    fn without_deprovision(&mut self, lines: Vec<Val>) -> Option<Vec<Val>> {
        let is_step = |v: &Val| v.text().is_some_and(|t| deprovisions(&t.canonical()));
        let Some(first) = lines.iter().find(|v| is_step(v)).map(|v| v.span) else { return Some(lines) };
        let kept: Vec<Val> = lines
            .into_iter()
            .filter(|v| {
                v.text().is_none_or(|t| !deprovisions(&t.canonical()) && !waits_for_deprovision(&t.canonical()))
            })
            .collect();
        let what = if self.p.kind == "powershell" { "Sysprep" } else { "waagent -deprovision" };
        if kept.iter().all(|v| v.text().is_some_and(|t| t.canonical().trim().is_empty())) {
            self.findings.push(
                Finding::new(
                    ImportCode::DoneByAib,
                    first,
                    format!("this step runs {what}; AIB generalizes the image itself, so it is left out"),
                )
                .hint("nothing to do: AIB runs the deprovisioning as its last step"),
            );
            // Its execution settings went with it.
            self.handled.extend([
                "execute_command",
                "elevated_user",
                "elevated_password",
                "skip_clean",
                "inline_shebang",
            ]);
            return None;
        }
        self.findings.push(
            Finding::new(
                ImportCode::DoneByAib,
                first,
                format!("the {what} lines are left out of this step: AIB generalizes the image itself"),
            )
            .hint("the step's other commands are kept"),
        );
        Some(kept)
    }

    fn powershell(&mut self) -> Vec<Val> {
        let span = self.p.kind_span;
        let (inline, scripts) = self.sources();
        let env = self.env_vars();
        let user = self.get("elevated_user");
        self.handled.push("elevated_password");
        if let Some(a) = self.attr("elevated_password") {
            self.findings.push(Finding::new(
                ImportCode::DoneByAib,
                a.key_span,
                "AIB elevates without a password; `elevated_password` is left out",
            ));
        }
        let system = user.as_ref().and_then(Val::lit).is_some_and(|u| {
            let u = u.to_ascii_uppercase();
            u == "SYSTEM" || u == "NT AUTHORITY\\SYSTEM"
        });
        let codes = self.get("valid_exit_codes");
        self.handled.push("execution_policy");
        if let Some(a) = self.attr("execution_policy") {
            self.findings.push(Finding::new(
                ImportCode::DoneByAib,
                a.key_span,
                "AIB runs its PowerShell steps under an execution policy of its own; `execution_policy` is left out",
            ));
        }
        let settings = |mut e: Vec<(&'static str, Val)>| {
            if let Some(u) = &user {
                e.push(("runElevated", Val::new(V::Bool(true), u.span)));
                if system {
                    e.push(("runAsSystem", Val::new(V::Bool(true), u.span)));
                }
            }
            if let Some(c) = &codes {
                e.push(("validExitCodes", c.clone()));
            }
            e
        };
        let mut out = Vec::new();
        if let Some(lines) = inline {
            if let Some(mut lines) = self.without_deprovision(lines) {
                if !env.is_empty() {
                    self.env_note(env.first().map(|e| e.2).unwrap_or(span), true);
                    let set: Vec<Val> = env
                        .iter()
                        .map(|(k, v, s)| {
                            let mut t = Text::lit(format!("$env:{k} = '"));
                            t.append(v.flat_map(|p| match p {
                                Piece::Lit(l) => Text::lit(l.replace('\'', "''")),
                                other => Text::piece(other.clone()),
                            }));
                            t.push(Piece::Lit("'".into()));
                            Val::str(t, *s)
                        })
                        .collect();
                    lines.splice(0..0, set);
                }
                let arr = Val::new(V::Arr(lines), span);
                out.push(obj(span, settings(vec![("type", lit("PowerShell", span)), ("inline", arr)])));
            }
        } else if !env.is_empty() {
            self.env_note(env[0].2, false);
        }
        for s in scripts {
            out.push(obj(s.span, settings(vec![("type", lit("PowerShell", span)), ("scriptUri", s.clone())])));
        }
        self.execute_command();
        out
    }

    fn env_note(&mut self, span: Span, inline: bool) {
        if inline {
            self.findings.push(
                Finding::new(
                    ImportCode::Changed,
                    span,
                    "AIB steps take no environment variables: they are set by lines added before the commands",
                )
                .hint("check the first lines of the step in the spec"),
            );
        } else {
            self.findings.push(
                Finding::new(
                    ImportCode::Unsupported,
                    span,
                    "AIB script steps take no environment variables; these are left out",
                )
                .hint("set them at the top of the script, or run it from an inline step that sets them first"),
            );
        }
    }

    /// How Packer runs the script: AIB has its own way, reported.
    fn execute_command(&mut self) {
        for key in ["execute_command", "elevated_execute_command"] {
            self.handled.push(key);
            let Some(a) = self.attr(key) else { continue };
            let sudo = a.value.text().is_some_and(|t| t.canonical().contains("sudo"));
            let m = if sudo {
                "AIB runs Shell steps as a user with sudo rights, not as root: commands that need root must use `sudo`"
                    .to_string()
            } else {
                format!("AIB runs each step its own way; `{key}` is left out")
            };
            self.findings.push(Finding::new(ImportCode::Changed, a.key_span, m).hint("check the step's commands"));
        }
    }

    fn shell(&mut self) -> Vec<Val> {
        let span = self.p.kind_span;
        let (inline, scripts) = self.sources();
        let env = self.env_vars();
        let mut out = Vec::new();
        if let Some(lines) = inline {
            if let Some(mut lines) = self.without_deprovision(lines) {
                if !env.is_empty() {
                    self.env_note(env[0].2, true);
                    let set: Vec<Val> = env
                        .iter()
                        .map(|(k, v, s)| {
                            let mut t = Text::lit(format!("export {k}='"));
                            t.append(v.flat_map(|p| match p {
                                Piece::Lit(l) => Text::lit(l.replace('\'', "'\\''")),
                                other => Text::piece(other.clone()),
                            }));
                            t.push(Piece::Lit("'".into()));
                            Val::str(t, *s)
                        })
                        .collect();
                    lines.splice(0..0, set);
                }
                out.push(obj(span, vec![("type", lit("Shell", span)), ("inline", Val::new(V::Arr(lines), span))]));
            } else {
                return out;
            }
        } else if !env.is_empty() {
            self.env_note(env[0].2, false);
        }
        for s in scripts {
            out.push(obj(s.span, vec![("type", lit("Shell", span)), ("scriptUri", s.clone())]));
        }
        self.execute_command();
        out
    }

    fn file(&mut self) -> Vec<Val> {
        let span = self.p.kind_span;
        if let Some(d) = self.get("direction")
            && d.lit() == Some("download")
        {
            self.findings.push(
                Finding::new(
                    ImportCode::Unsupported,
                    d.span,
                    "AIB copies files onto the build VM only; this download is left out",
                )
                .hint("publish what the build produces from a step (to storage, say)"),
            );
            self.handled.extend(["source", "sources", "destination", "generated"]);
            return Vec::new();
        }
        if let Some(c) = self.get("content") {
            self.findings.push(
                Finding::new(
                    ImportCode::Unsupported,
                    c.span,
                    "AIB's File step copies a file; inline `content` is left out",
                )
                .hint("save the content as a file next to the spec and give it as `source`"),
            );
        }
        let mut sources = Vec::new();
        if let Some(s) = self.get("source") {
            sources.push(s);
        }
        if let Some(list) = self.get("sources") {
            sources.extend(list.items().iter().cloned());
        }
        let Some(dest) = self.get("destination") else {
            self.findings.push(
                Finding::new(ImportCode::Gap, span, "a file provisioner needs `destination`; it is left out")
                    .hint("write the File step by hand, with the path on the build VM"),
            );
            return Vec::new();
        };
        let many = sources.len() > 1;
        let mut out = Vec::new();
        for s in sources {
            let folder = s.lit().is_some_and(|src| !src.contains("://") && self.template_dir.join(src).is_dir());
            // Packer copies into a folder when the destination ends with a separator
            // (or there are several sources, or the source is a folder); AIB needs the
            // file's own path.
            let into_folder = dest.lit().is_some_and(|d| d.ends_with(['/', '\\'])) || many || folder;
            let destination = match (into_folder, dest.text(), s.lit()) {
                (true, Some(d), Some(src)) => {
                    let base = src.trim_end_matches(['/', '\\']).rsplit(['/', '\\']).next().unwrap_or(src);
                    let sep = if d.canonical().contains('\\') { "\\" } else { "/" };
                    let mut t = d.clone();
                    if !d.canonical().ends_with(['/', '\\']) {
                        t.push(Piece::Lit(sep.into()));
                    }
                    t.push(Piece::Lit(base.into()));
                    if folder {
                        t.push(Piece::Lit(".zip".into()));
                    }
                    Val::str(t, dest.span)
                }
                _ => dest.clone(),
            };
            if folder {
                self.findings.push(
                    Finding::new(
                        ImportCode::Changed,
                        s.span,
                        format!(
                            "AIB copies single files: this folder is uploaded as one zip, `{}`",
                            destination.text().map(Text::canonical).unwrap_or_default()
                        ),
                    )
                    .hint("unpack it in a later step (`Expand-Archive`, `unzip`)"),
                );
            }
            out.push(obj(
                s.span,
                vec![("type", lit("File", span)), ("sourceUri", s.clone()), ("destination", destination)],
            ));
        }
        out
    }

    fn restart(&mut self) -> Vec<Val> {
        let span = self.p.kind_span;
        let mut e = vec![("type", lit("WindowsRestart", span))];
        for (key, api) in [
            ("restart_command", "restartCommand"),
            ("restart_check_command", "restartCheckCommand"),
            ("restart_timeout", "restartTimeout"),
        ] {
            if let Some(v) = self.get(key) {
                e.push((api, v));
            }
        }
        vec![obj(span, e)]
    }

    fn windows_update(&mut self) -> Vec<Val> {
        let span = self.p.kind_span;
        let mut e = vec![("type", lit("WindowsUpdate", span))];
        for (key, api) in
            [("search_criteria", "searchCriteria"), ("filters", "filters"), ("update_limit", "updateLimit")]
        {
            if let Some(v) = self.get(key) {
                e.push((api, v));
            }
        }
        vec![obj(span, e)]
    }
}

/// Whether a command generalizes the VM (the step AIB runs itself).
fn deprovisions(line: &str) -> bool {
    let l = line.to_ascii_lowercase();
    (l.contains("sysprep") && l.contains("/generalize")) || (l.contains("waagent") && l.contains("-deprovision"))
}

/// Lines that only serve the generalization: waiting for its state, for the agent, or
/// clearing the shell history before it.
fn waits_for_deprovision(line: &str) -> bool {
    let l = line.trim().to_ascii_lowercase();
    l.is_empty()
        || l.starts_with('#')
        || l.contains("image_state_")
        || l.contains("get-service rdagent")
        || l.contains("windowsazureguestagent")
        || l.contains("windowsazuretelemetryservice")
        || l == "sync"
        || l.contains("export histsize=0")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(kind: &str, attrs: Vec<(&str, Val)>) -> Block {
        Block {
            kind: kind.into(),
            kind_span: Span::default(),
            name: String::new(),
            attrs: attrs
                .into_iter()
                .map(|(k, v)| Attr { key: k.into(), key_span: Span::default(), value: v })
                .collect(),
        }
    }

    fn strings(items: &[&str]) -> Val {
        Val::new(V::Arr(items.iter().map(|s| lit(s, Span::default())).collect()), Span::default())
    }

    #[test]
    fn sysprep_is_left_to_aib() {
        let p = block(
            "powershell",
            vec![(
                "inline",
                strings(&[
                    "while ((Get-Service RdAgent).Status -ne 'Running') { Start-Sleep -s 5 }",
                    "& $env:SystemRoot\\System32\\Sysprep\\Sysprep.exe /oobe /generalize /quiet /quit /mode:vm",
                    "while($true) { $imageState = Get-ItemProperty HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Setup\\State | Select ImageState; if($imageState.ImageState -ne 'IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE') { Start-Sleep -s 10 } else { break } }",
                ]),
            )],
        );
        let mut f = Vec::new();
        assert!(customizers(&p, Path::new("."), &mut f).is_empty());
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].code, ImportCode::DoneByAib);
    }

    #[test]
    fn elevated_system_runs_as_system() {
        let p = block(
            "powershell",
            vec![
                ("inline", strings(&["Install-WindowsFeature Web-Server"])),
                ("elevated_user", lit("SYSTEM", Span::default())),
                ("elevated_password", lit("", Span::default())),
            ],
        );
        let mut f = Vec::new();
        let c = customizers(&p, Path::new("."), &mut f);
        assert_eq!(c[0].get("runAsSystem").map(|v| v.v.clone()), Some(V::Bool(true)));
        assert_eq!(c[0].get("runElevated").map(|v| v.v.clone()), Some(V::Bool(true)));
    }

    #[test]
    fn file_into_folder_gets_the_file_name() {
        let p = block(
            "file",
            vec![("source", lit("files/app.conf", Span::default())), ("destination", lit("/tmp/", Span::default()))],
        );
        let mut f = Vec::new();
        let c = customizers(&p, Path::new("."), &mut f);
        assert_eq!(c[0].get("destination").unwrap().lit(), Some("/tmp/app.conf"));
    }
}
