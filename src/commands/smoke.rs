//! `aibc smoke-test`: boot a VM from the new gallery version in a throwaway resource group
//! (private network only, no public IP), run the spec's `test:` checks through Run Command,
//! report each, and delete the group — also when a check fails, a request fails or the user
//! presses Ctrl-C.

use std::path::PathBuf;

use serde_json::{Value, json};

use super::{AzureArgs, connect, fail, runtime, say};
use crate::azure::{Error, Result, Session, api};
use crate::exit;
use crate::library::render::{ps_quote_content, sh_quote_content};
use crate::spec::{Check, ImageSpec, Os};

/// Compute and network api-versions the test VM is made with.
pub mod versions {
    pub const COMPUTE: &str = "2024-11-01";
    pub const NETWORK: &str = "2024-05-01";
}

/// The first line of Run Command output for each check: `AIBC-CHECK <n> PASS|FAIL [detail]`.
const MARK: &str = "AIBC-CHECK";

#[derive(Debug, Clone, clap::Args)]
pub struct SmokeArgs {
    /// The spec file (its `test:` section says what to check).
    pub spec: PathBuf,
    #[command(flatten)]
    pub azure: AzureArgs,
    /// The gallery image version to test (default: the one the current deployment publishes).
    #[arg(long, value_name = "M.m.p")]
    pub image_version: Option<String>,
    /// Name of the throwaway resource group (default: aibc-smoke-<image>-<random>).
    #[arg(long, value_name = "NAME")]
    pub test_resource_group: Option<String>,
    /// Keep the resource group for debugging (it is deleted otherwise, whatever happens).
    #[arg(long)]
    pub keep: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub label: String,
    pub passed: bool,
    pub detail: String,
}

/// The check script for the OS: one line per check, each printing a mark line.
pub fn script(os: Os, checks: &[Check]) -> Vec<String> {
    match os {
        Os::Windows => {
            let mut out = vec![
                "$ErrorActionPreference = 'Stop'".to_string(),
                "function Test-Check([string] $Name, [scriptblock] $Test) {".to_string(),
                "  try { if (& $Test) { \"AIBC-CHECK $Name PASS\" } else { \"AIBC-CHECK $Name FAIL\" } }".to_string(),
                "  catch { \"AIBC-CHECK $Name FAIL $($_.Exception.Message)\" }".to_string(),
                "}".to_string(),
            ];
            for (i, c) in checks.iter().enumerate() {
                let q = |s: &str| format!("'{}'", ps_quote_content(s));
                let test = match c {
                    Check::Http(h) => format!(
                        "{{ (Invoke-WebRequest -UseBasicParsing -Uri {} -TimeoutSec 30).StatusCode -eq {} }}",
                        q(&h.http),
                        h.status.unwrap_or(200)
                    ),
                    Check::Service(s) => format!("{{ (Get-Service -Name {}).Status -eq 'Running' }}", q(&s.service)),
                    Check::File(f) => format!("{{ Test-Path -LiteralPath {} }}", q(&f.file)),
                    Check::Command(c) => format!(
                        "{{ & ([scriptblock]::Create({})) | Out-Host; $LASTEXITCODE -in @($null, 0) -and $? }}",
                        q(&c.command)
                    ),
                };
                out.push(format!("Test-Check '{}' {test}", i + 1));
            }
            out
        }
        Os::Linux => {
            let mut out = vec![
                "check() { n=\"$1\"; shift; if out=$(\"$@\" 2>&1); then echo \"AIBC-CHECK $n PASS\"; else echo \"AIBC-CHECK $n FAIL $(printf '%s' \"$out\" | tail -c 300 | tr '\\n' ' ')\"; fi; }".to_string(),
            ];
            for (i, c) in checks.iter().enumerate() {
                let q = |s: &str| format!("'{}'", sh_quote_content(s));
                let test = match c {
                    Check::Http(h) => format!(
                        "sh -c {}",
                        q(&format!(
                            "test \"$(curl -s -o /dev/null -m 30 -w '%{{http_code}}' {})\" = {}",
                            q(&h.http),
                            h.status.unwrap_or(200)
                        ))
                    ),
                    Check::Service(s) => format!("systemctl is-active --quiet {}", q(&s.service)),
                    Check::File(f) => format!("test -e {}", q(&f.file)),
                    Check::Command(c) => format!("sh -c {}", q(&c.command)),
                };
                out.push(format!("check {} {test}", i + 1));
            }
            out
        }
    }
}

/// Reads Run Command's output: the mark line of each check, in order. A check without a
/// line (the script died before it) failed.
pub fn outcomes(checks: &[Check], output: &str) -> Vec<Outcome> {
    checks
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let n = (i + 1).to_string();
            let line = output.lines().map(str::trim).find(|l| {
                let mut parts = l.split_whitespace();
                parts.next() == Some(MARK) && parts.next() == Some(n.as_str())
            });
            let (passed, detail) = match line {
                Some(l) => {
                    let rest: Vec<&str> = l.split_whitespace().skip(2).collect();
                    (rest.first() == Some(&"PASS"), rest.iter().skip(1).copied().collect::<Vec<_>>().join(" "))
                }
                None => (false, "no result (the check script stopped before it)".to_string()),
            };
            Outcome { label: c.label(), passed, detail }
        })
        .collect()
}

/// A password for the VM's local administrator: random, never printed, never stored; the
/// VM has no public address and lives for minutes.
fn password() -> String {
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes).expect("the OS random source");
    let alphabet = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let body: String = bytes.iter().map(|b| alphabet[*b as usize % alphabet.len()] as char).collect();
    // Azure's complexity rule: lower, upper, digit and a special character.
    format!("{body}aA1!")
}

fn suffix() -> String {
    let mut bytes = [0u8; 3];
    getrandom::fill(&mut bytes).expect("the OS random source");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The VM security type an image definition demands (the `*Supported` types also boot as
/// Standard VMs).
fn required_security(spec: &ImageSpec) -> Option<&'static str> {
    use crate::spec::SecurityType as T;
    match spec.gallery.as_ref().and_then(|g| g.image.as_ref()).and_then(|i| i.security_type)? {
        T::TrustedLaunch => Some("TrustedLaunch"),
        T::ConfidentialVM => Some("ConfidentialVM"),
        _ => None,
    }
}

pub fn default_size(spec: &ImageSpec) -> &'static str {
    match (spec.os, required_security(spec)) {
        (_, Some("ConfidentialVM")) => "Standard_DC2as_v5",
        (_, Some(_)) => "Standard_D2s_v5",
        (Os::Linux, None) => "Standard_B2s",
        (Os::Windows, None) => "Standard_B2ms",
    }
}

pub fn run(args: SmokeArgs) -> i32 {
    let images = match super::load(&args.spec, &args.azure, &args.azure.images) {
        Ok(i) => i,
        Err(code) => return code,
    };
    let image = &images[0];
    let Some(test) = image.spec.test.clone() else {
        eprintln!(
            "error: {} has no `test:` section; add checks (http, service, file, command) to smoke-test it",
            image.spec.name
        );
        return exit::USAGE;
    };
    let group = args.test_resource_group.clone().unwrap_or_else(|| {
        let base: String =
            image.spec.name.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').take(40).collect();
        format!("aibc-smoke-{base}-{}", suffix())
    });
    runtime().block_on(async {
        let session = match connect(&args.azure).await {
            Ok(s) => s,
            Err(code) => return code,
        };
        let work = smoke(&session, &args, &image.spec, &test, &group);
        let code = tokio::select! {
            code = work => code,
            _ = tokio::signal::ctrl_c() => {
                eprintln!("\ninterrupted: deleting the test resource group {group} before exiting");
                exit::INTERRUPTED
            }
        };
        // The group goes whatever happened above: a forgotten VM costs money.
        if args.keep {
            say(&format!("keeping the test resource group {group} (--keep)"));
        } else if let Err(e) = delete_group(&session, &group).await {
            eprintln!("error: could not delete the test resource group {group}: {e}; delete it by hand");
            return if code == exit::SUCCESS { exit::AZURE_REFUSED } else { code };
        }
        code
    })
}

async fn delete_group(session: &Session, group: &str) -> Result<()> {
    let path = session.rg_path(group);
    if session.arm.get(&path, api::RESOURCES).await?.is_none() {
        return Ok(());
    }
    say(&format!("deleting the test resource group {group}"));
    session.arm.delete(&path, api::RESOURCES).await
}

async fn smoke(
    session: &Session,
    args: &SmokeArgs,
    spec: &ImageSpec,
    test: &crate::spec::SmokeTest,
    group: &str,
) -> i32 {
    match smoke_inner(session, args, spec, test, group).await {
        Ok(results) => {
            let failed = results.iter().filter(|r| !r.passed).count();
            for r in &results {
                let mark = if r.passed { "pass" } else { "FAIL" };
                let detail = if r.detail.is_empty() { String::new() } else { format!(": {}", r.detail) };
                say(&format!("  {mark}  {}{detail}", r.label));
                if !r.passed && super::in_azure_pipelines() {
                    println!(
                        "##vso[task.logissue type=error]{}",
                        super::escape_logging_value(&format!("smoke test {} failed{detail}", r.label))
                    );
                }
            }
            say(&format!("{}: {} of {} check(s) passed", spec.name, results.len() - failed, results.len()));
            if failed == 0 { exit::SUCCESS } else { exit::BUILD_FAILED }
        }
        Err(e) => fail(&e),
    }
}

async fn smoke_inner(
    session: &Session,
    args: &SmokeArgs,
    spec: &ImageSpec,
    test: &crate::spec::SmokeTest,
    group: &str,
) -> Result<Vec<Outcome>> {
    let rg = &args.azure.resource_group;
    let definition = super::prune::definition_of(session, spec, rg)
        .ok_or_else(|| Error::Local(format!("{} publishes to no gallery; nothing to boot a VM from", spec.name)))?;
    let version = match &args.image_version {
        Some(v) => v.clone(),
        None => crate::deploy::current(session, rg, &spec.name)
            .await?
            .and_then(|c| c.image_version)
            .ok_or_else(|| Error::Local("give --image-version (the deployment does not say which version)".into()))?,
    };
    let version_id = format!("{definition}/versions/{version}");
    let found =
        session.arm.get(&version_id, api::COMPUTE_GALLERY).await?.ok_or_else(|| {
            Error::Local(format!("the gallery image version {version} does not exist ({version_id})"))
        })?;
    let location = test
        .location
        .clone()
        .or_else(|| {
            found
                .pointer("/properties/publishingProfile/targetRegions/0/name")
                .and_then(Value::as_str)
                .map(|r| r.replace(' ', "").to_ascii_lowercase())
        })
        .or_else(|| found.get("location").and_then(Value::as_str).map(str::to_string))
        .unwrap_or_else(|| "westeurope".into());

    let rg_path = session.rg_path(group);
    say(&format!("creating the test resource group {group} in {location}"));
    session
        .arm
        .put(
            &rg_path,
            api::RESOURCES,
            &json!({"location": location, "tags": {"managedBy": "aibc", "aibc.purpose": "smoke-test"}}),
        )
        .await?;
    let net = format!("{rg_path}/providers/Microsoft.Network");
    let vnet = format!("{net}/virtualNetworks/vnet-smoke");
    session
        .arm
        .put(
            &vnet,
            versions::NETWORK,
            &json!({"location": location, "properties": {
                "addressSpace": {"addressPrefixes": ["10.250.0.0/24"]},
                "subnets": [{"name": "vms", "properties": {"addressPrefix": "10.250.0.0/26"}}]}}),
        )
        .await?;
    let nic = format!("{net}/networkInterfaces/nic-smoke");
    session
        .arm
        .put(
            &nic,
            versions::NETWORK,
            &json!({"location": location, "properties": {"ipConfigurations": [{"name": "ipconfig1", "properties": {
                "privateIPAllocationMethod": "Dynamic", "subnet": {"id": format!("{vnet}/subnets/vms")}}}]}}),
        )
        .await?;
    let size = test.vm_size.clone().unwrap_or_else(|| default_size(spec).to_string());
    let vm = format!("{rg_path}/providers/Microsoft.Compute/virtualMachines/vm-smoke");
    let mut os_profile =
        json!({"computerName": "aibcsmoke", "adminUsername": "aibcadmin", "adminPassword": password()});
    if spec.os == Os::Linux {
        os_profile["linuxConfiguration"] = json!({"disablePasswordAuthentication": false});
    }
    let mut properties = json!({
        "hardwareProfile": {"vmSize": size},
        "storageProfile": {"imageReference": {"id": version_id},
            "osDisk": {"createOption": "FromImage", "deleteOption": "Delete", "managedDisk": {"storageAccountType": "StandardSSD_LRS"}}},
        "osProfile": os_profile,
        "networkProfile": {"networkInterfaces": [{"id": nic, "properties": {"deleteOption": "Delete"}}]},
        "diagnosticsProfile": {"bootDiagnostics": {"enabled": true}},
    });
    if let Some(name) = required_security(spec) {
        properties["securityProfile"] =
            json!({"securityType": name, "uefiSettings": {"secureBootEnabled": true, "vTpmEnabled": true}});
    }
    say(&format!("booting a {size} VM from {} {version}", spec.name));
    session.arm.put(&vm, versions::COMPUTE, &json!({"location": location, "properties": properties})).await?;

    let (command_id, lines) = match spec.os {
        Os::Windows => ("RunPowerShellScript", script(Os::Windows, &test.checks)),
        Os::Linux => ("RunShellScript", script(Os::Linux, &test.checks)),
    };
    say(&format!("running {} check(s) through Run Command", test.checks.len()));
    let result = session
        .arm
        .post(&format!("{vm}/runCommand"), versions::COMPUTE, Some(&json!({"commandId": command_id, "script": lines})))
        .await?;
    let output: String = result
        .get("value")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|v| v.get("message").and_then(Value::as_str))
        .collect::<Vec<_>>()
        .join("\n");
    Ok(outcomes(&test.checks, &output))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{CommandCheck, FileCheck, HttpCheck, ServiceCheck};

    fn checks() -> Vec<Check> {
        vec![
            Check::Http(HttpCheck { http: "http://localhost/".into(), status: None }),
            Check::Service(ServiceCheck { service: "W3SVC".into() }),
            Check::File(FileCheck { file: "C:\\inetpub\\wwwroot\\it's.html".into() }),
            Check::Command(CommandCheck { command: "exit 0".into(), name: Some("custom".into()) }),
        ]
    }

    #[test]
    fn scripts_quote_values_for_their_shell() {
        let ps = script(Os::Windows, &checks()).join("\n");
        assert!(ps.contains("Test-Path -LiteralPath 'C:\\inetpub\\wwwroot\\it''s.html'"), "{ps}");
        assert!(ps.contains("(Get-Service -Name 'W3SVC').Status -eq 'Running'"));
        let sh = script(Os::Linux, &checks()).join("\n");
        assert!(sh.contains("test -e 'C:\\inetpub\\wwwroot\\it'\\''s.html'"), "{sh}");
        assert!(sh.contains("systemctl is-active --quiet 'W3SVC'"));
    }

    #[test]
    fn outcomes_are_read_per_check() {
        let out = "Enable succeeded:\n[stdout]\nAIBC-CHECK 1 PASS\nAIBC-CHECK 2 FAIL service stopped\n[stderr]\n";
        let r = outcomes(&checks(), out);
        assert!(r[0].passed);
        assert!(!r[1].passed && r[1].detail == "service stopped");
        assert!(!r[2].passed && r[2].detail.starts_with("no result"));
        assert_eq!(r[3].label, "custom");
    }

    #[test]
    fn passwords_meet_azure_complexity() {
        let p = password();
        assert!(p.len() >= 12 && p.chars().any(|c| c.is_ascii_digit()) && p.contains('!'));
        assert_ne!(p, password());
    }
}
