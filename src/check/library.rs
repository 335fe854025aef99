//! `use:` steps: the entry exists, fits the OS, and gets the parameters it declares.

use super::{Context, Explain};
use crate::diagnostic::{Code, suggest};
use crate::library::ParamKind;
use crate::node::Path;
use crate::spec::CustomizeStep;

pub fn check(cx: &mut Context) {
    let spec = cx.spec;
    let library = cx.library;
    for (i, step) in spec.customize.iter().enumerate() {
        let CustomizeStep::Library(step) = step else { continue };
        let at = Path::root().join("customize").join(i);
        let Some(entry) = library.get(&step.entry) else {
            let d = cx.at(
                Code::UnknownEntry,
                &at.join("use"),
                format!("the customization library has no entry `{}`", step.entry),
            );
            match suggest(&step.entry, library.names()) {
                Some(s) => {
                    d.label(format!("did you mean `{s}`?"))
                        .hint(format!("use `{s}`; `aibc customizations list` shows every entry"));
                }
                None => {
                    d.hint("`aibc customizations list` shows every entry");
                }
            }
            continue;
        };
        let m = &entry.manifest;
        pinned_checksums(cx, &at, &step.with);
        if step.run_as_system.is_some() && !m.steps.iter().any(|s| matches!(s, crate::spec::Step::PowerShell(_))) {
            cx.at_key(
                Code::WindowsOnly,
                &at.join("runAsSystem"),
                format!("`{}` runs no PowerShell, which is all `runAsSystem` applies to", step.entry),
            )
            .hint("remove `runAsSystem`");
        }
        if m.os != spec.os {
            cx.at(
                Code::EntryOs,
                &at.join("use"),
                format!("`{}` is for {}, and this image is {}", m.name, m.os.azure_name(), spec.os.azure_name()),
            )
            .hint("choose an entry for this image's OS (`aibc customizations list`)");
            continue;
        }
        for (key, value) in &step.with {
            let vat = at.join("with").join(key.as_str());
            let Some(p) = m.parameters.get(key) else {
                let d = cx.at_key(Code::EntryParameter, &vat, format!("`{}` has no parameter `{key}`", m.name));
                match suggest(key, m.parameters.keys().map(String::as_str)) {
                    Some(s) => {
                        d.label(format!("did you mean `{s}`?")).hint(format!("rename it to `{s}`"));
                    }
                    None => {
                        let names: Vec<&str> = m.parameters.keys().map(String::as_str).collect();
                        d.hint(if names.is_empty() {
                            "this entry takes no parameters".to_string()
                        } else {
                            format!("its parameters: {}", names.join(", "))
                        });
                    }
                }
                continue;
            };
            if !p.kind.accepts(value) {
                cx.at(Code::EntryValue, &vat, format!("`{key}` of `{}` takes a {}", m.name, p.kind.name()))
                    .hint(format!("{key}: {}", p.description));
                continue;
            }
            if !p.allowed.is_empty() && !p.allowed.contains(value) {
                let allowed: Vec<String> =
                    p.allowed.iter().map(|a| a.as_str().map(str::to_string).unwrap_or_else(|| a.to_string())).collect();
                let shown = value.as_str().map(str::to_string).unwrap_or_else(|| value.to_string());
                let d = cx
                    .at(Code::EntryValue, &vat, format!("`{shown}` is not allowed for `{key}`"))
                    .hint(format!("use one of: {}", allowed.join(", ")));
                if let Some(s) = suggest(&shown, allowed.iter().map(String::as_str)) {
                    d.label(format!("did you mean `{s}`?"));
                }
                continue;
            }
            if p.kind == ParamKind::File {
                let rel = value.as_str().unwrap_or_default();
                super::paths::check_local(cx, &vat, rel, super::paths::Want::File);
            }
            if p.secret {
                let uri = value.as_str().unwrap_or_default();
                if !is_secret_uri(uri) {
                    cx.at(
                        Code::EntryValue,
                        &vat,
                        format!("`{key}` is a secret: give the Key Vault secret's URI, not a value"),
                    )
                    .hint("https://<vault>.vault.azure.net/secrets/<name>; the build VM reads it at build time");
                } else if spec.build.as_ref().is_none_or(|b| b.vm_identities.is_empty()) {
                    cx.at(
                        Code::SecretIdentity,
                        &vat,
                        format!("`{key}` is read from Key Vault by the build VM, which has no identity"),
                    )
                    .hint(
                        "add `build.vmIdentities` with an identity that may read the secret (Key Vault Secrets User)",
                    );
                }
            }
        }
        // A misspelt key is reported once, as unknown, not again as a missing parameter.
        let misspelt = |k: &str| step.with.keys().any(|w| !m.parameters.contains_key(w) && suggest(w, [k]).is_some());
        let missing: Vec<&str> = m
            .parameters
            .iter()
            .filter(|(k, p)| p.default.is_none() && !step.with.contains_key(*k) && !misspelt(k))
            .map(|(k, _)| k.as_str())
            .collect();
        if !missing.is_empty() {
            let list = missing.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ");
            let first = missing[0];
            cx.at_key(Code::EntryMissing, &at.join("use"), format!("`{}` needs {list}", m.name))
                .hint(format!("add `with: {{ {first}: … }}` ({})", m.parameters[first].description));
        }
    }
}

/// `https://<vault>.vault.azure.net/secrets/<name>[/<version>]` (and sovereign clouds).
pub fn is_secret_uri(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("https://") else { return false };
    let Some((host, path)) = rest.split_once('/') else { return false };
    let vault_host =
        [".vault.azure.net", ".vault.usgovcloudapi.net", ".vault.azure.cn"].iter().any(|d| host.ends_with(d));
    let segs: Vec<&str> = path.split('/').collect();
    vault_host && matches!(segs.as_slice(), ["secrets", name] | ["secrets", name, _] if !name.is_empty())
}

/// A `with:` value that pins a checksum (a parameter named `sha256`, or ending in `Sha256`)
/// must be one: a placeholder such as `REPLACE-…` would otherwise reach the build VM, which
/// refuses every file then. Lists pin as `KEY=SHA256` (language-pack).
fn pinned_checksums(cx: &mut Context, at: &Path, with: &std::collections::BTreeMap<String, serde_json::Value>) {
    let is_sha = |s: &str| s.len() == 64 && s.chars().all(|c| c.is_ascii_hexdigit());
    for (name, value) in with {
        if !(name == "sha256" || name.ends_with("Sha256")) {
            continue;
        }
        let p = at.join("with").join(name.as_str());
        match value {
            serde_json::Value::String(s) if !s.is_empty() && !crate::params::has_references(s) && !is_sha(s) => {
                cx.at(Code::Sha256, &p, format!("`{s}` is not a SHA-256 checksum")).hint(
                    "64 hexadecimal digits, as `sha256sum` or `Get-FileHash` prints; leave it empty to pin nothing",
                );
            }
            serde_json::Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    let Some(s) = item.as_str() else { continue };
                    let sha = s.split_once('=').map_or(s, |(_, v)| v).trim();
                    if !crate::params::has_references(s) && !is_sha(sha) {
                        cx.at(Code::Sha256, &p.join(i), format!("`{sha}` in `{s}` is not a SHA-256 checksum"))
                            .hint("write `KEY=` and the 64 hexadecimal digits of the file");
                    }
                }
            }
            _ => {}
        }
    }
}
