//! What the Azure CLI already knows about the user, read from its configuration folder
//! (`$AZURE_CONFIG_DIR`, default `~/.azure`) so aibc needs no flag az users never type:
//! `az config set defaults.group=NAME` (the `[defaults]` section of `config`) and the
//! subscription `az account set` made current (`isDefault` in `azureProfile.json`).
//! Reading the files costs nothing; starting `az` costs about a second.

use std::path::PathBuf;

use serde_json::Value;

/// `$AZURE_CONFIG_DIR`, else `~/.azure` (`%USERPROFILE%\.azure` on Windows).
pub fn config_dir(env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    if let Some(dir) = env("AZURE_CONFIG_DIR").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    env("HOME").or_else(|| env("USERPROFILE")).filter(|h| !h.is_empty()).map(|h| PathBuf::from(h).join(".azure"))
}

/// `key` of the `[section]` of an INI text (az's `config`): `name = value`, `#`/`;` comments.
pub fn ini_value(text: &str, section: &str, key: &str) -> Option<String> {
    let mut current = String::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with(['#', ';']) {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            current = name.trim().to_ascii_lowercase();
            continue;
        }
        if current == section
            && let Some((k, v)) = line.split_once(['=', ':'])
            && k.trim().eq_ignore_ascii_case(key)
        {
            return Some(v.trim().to_string()).filter(|v| !v.is_empty());
        }
    }
    None
}

/// `az config get defaults.<key>`: `group`, `location`.
pub fn default(env: &dyn Fn(&str) -> Option<String>, key: &str) -> Option<String> {
    let text = std::fs::read_to_string(config_dir(env)?.join("config")).ok()?;
    ini_value(&text, "defaults", key)
}

/// The subscription `az account set` made current: its id.
pub fn current_subscription(env: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    let text = std::fs::read_to_string(config_dir(env)?.join("azureProfile.json")).ok()?;
    // az writes the profile with a UTF-8 byte order mark.
    let profile: Value = serde_json::from_str(text.trim_start_matches('\u{feff}')).ok()?;
    profile
        .get("subscriptions")?
        .as_array()?
        .iter()
        .find(|s| s.get("isDefault").and_then(Value::as_bool) == Some(true))
        .and_then(|s| s.get("id").and_then(Value::as_str))
        .map(str::to_string)
}

/// `/subscriptions/S/resourceGroups/G/providers/…` → (S, G).
pub fn scope_of(resource_id: &str) -> Option<(String, String)> {
    let parts: Vec<&str> = resource_id.trim_matches('/').split('/').collect();
    match parts.as_slice() {
        [s, sub, r, group, ..]
            if s.eq_ignore_ascii_case("subscriptions") && r.eq_ignore_ascii_case("resourceGroups") =>
        {
            Some((sub.to_string(), group.to_string()))
        }
        _ => None,
    }
}

/// Whether `text` is a subscription id (a GUID) rather than a subscription name.
pub fn is_guid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups.iter().zip([8, 4, 4, 4, 12]).all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_defaults_from_az_config() {
        let text = "[core]\noutput = table\n\n[defaults]\n# comment\ngroup = rg-images\nlocation=westeurope\n";
        assert_eq!(ini_value(text, "defaults", "group").as_deref(), Some("rg-images"));
        assert_eq!(ini_value(text, "defaults", "location").as_deref(), Some("westeurope"));
        assert_eq!(ini_value(text, "core", "group"), None);
        assert_eq!(ini_value("[defaults]\ngroup =\n", "defaults", "group"), None);
    }

    #[test]
    fn the_current_subscription_and_group_come_from_the_config_folder() {
        let dir = std::env::temp_dir().join(format!("aibc-azcli-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("config"), "[defaults]\ngroup = rg-x\n").unwrap();
        std::fs::write(
            dir.join("azureProfile.json"),
            "\u{feff}{\"subscriptions\": [{\"id\": \"a\", \"isDefault\": false}, {\"id\": \"b\", \"isDefault\": true}]}",
        )
        .unwrap();
        let d = dir.display().to_string();
        let env = move |k: &str| (k == "AZURE_CONFIG_DIR").then(|| d.clone());
        assert_eq!(default(&env, "group").as_deref(), Some("rg-x"));
        assert_eq!(current_subscription(&env).as_deref(), Some("b"));
        let none = |_: &str| None;
        assert_eq!(config_dir(&none), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn ids_and_names() {
        assert_eq!(
            scope_of("/subscriptions/s1/resourceGroups/g1/providers/Microsoft.VirtualMachineImages/imageTemplates/t"),
            Some(("s1".into(), "g1".into()))
        );
        assert_eq!(scope_of("t"), None);
        assert!(is_guid("00000000-1111-4222-8333-444444444444"));
        assert!(!is_guid("Contoso Production"));
    }
}
