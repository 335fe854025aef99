//! Signing in. `--auth auto` takes the first way whose settings are all present, in the order
//! a pipeline agent, a Kubernetes pod, a service principal, a laptop and an Azure VM provide
//! them, and says which it took; `--auth NAME` forces one and names what is missing. The
//! credentials are azure_identity's; nothing here ever prints a secret.

use std::sync::Arc;

use azure_core::credentials::{Secret, TokenCredential};
use azure_core::http::ClientOptions;
use azure_identity::{
    AzureCliCredential, AzurePipelinesCredential, AzurePipelinesCredentialOptions, ClientAssertionCredentialOptions,
    ClientSecretCredential, ClientSecretCredentialOptions, ManagedIdentityCredential, ManagedIdentityCredentialOptions,
    UserAssignedId, WorkloadIdentityCredential, WorkloadIdentityCredentialOptions,
};

use super::cloud::Cloud;
use super::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AuthMethod {
    /// The first of the others whose settings are present, in this order.
    Auto,
    /// An Azure Pipelines service connection with workload identity federation (OIDC).
    Pipelines,
    /// A federated token file (`AZURE_FEDERATED_TOKEN_FILE`), as on AKS or GitHub Actions.
    WorkloadIdentity,
    /// A service principal secret in `AZURE_CLIENT_SECRET`.
    ClientSecret,
    /// The Azure CLI's signed-in account (`az login`).
    Cli,
    /// The managed identity of the machine aibc runs on.
    ManagedIdentity,
}

impl AuthMethod {
    pub const ORDER: [AuthMethod; 5] = [
        AuthMethod::Pipelines,
        AuthMethod::WorkloadIdentity,
        AuthMethod::ClientSecret,
        AuthMethod::Cli,
        AuthMethod::ManagedIdentity,
    ];

    pub fn label(self) -> &'static str {
        match self {
            AuthMethod::Auto => "auto",
            AuthMethod::Pipelines => "Azure Pipelines service connection (OIDC)",
            AuthMethod::WorkloadIdentity => "workload identity (federated token file)",
            AuthMethod::ClientSecret => "service principal with a client secret",
            AuthMethod::Cli => "Azure CLI",
            AuthMethod::ManagedIdentity => "managed identity",
        }
    }
}

/// The environment as the credential choice sees it (a function, so tests give their own).
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

fn var(env: Env, name: &str) -> Option<String> {
    env(name).filter(|v| !v.trim().is_empty())
}

/// The first variable of `names` that is set.
fn first(env: Env, names: &[&str]) -> Option<String> {
    names.iter().find_map(|n| var(env, n))
}

// AzureCLI@2 and AzurePowerShell@5 export these for a workload-identity service connection;
// the AZURE_* names are the SDKs' own.
const PIPELINE_CLIENT: &[&str] = &["AZURESUBSCRIPTION_CLIENT_ID", "AZURE_CLIENT_ID"];
const PIPELINE_TENANT: &[&str] = &["AZURESUBSCRIPTION_TENANT_ID", "AZURE_TENANT_ID"];
const PIPELINE_CONNECTION: &[&str] = &["AZURESUBSCRIPTION_SERVICE_CONNECTION_ID", "AIBC_SERVICE_CONNECTION_ID"];

/// What a method still needs from the environment; empty when it can be used.
pub fn missing(method: AuthMethod, env: Env) -> Vec<&'static str> {
    let mut need = Vec::new();
    let mut want = |ok: bool, what: &'static str| {
        if !ok {
            need.push(what);
        }
    };
    match method {
        AuthMethod::Auto => {}
        AuthMethod::Pipelines => {
            want(var(env, "SYSTEM_OIDCREQUESTURI").is_some(), "SYSTEM_OIDCREQUESTURI");
            want(
                var(env, "SYSTEM_ACCESSTOKEN").is_some(),
                "SYSTEM_ACCESSTOKEN (map it: env: SYSTEM_ACCESSTOKEN: $(System.AccessToken))",
            );
            want(
                first(env, PIPELINE_CONNECTION).is_some(),
                "AZURESUBSCRIPTION_SERVICE_CONNECTION_ID or AIBC_SERVICE_CONNECTION_ID",
            );
            want(first(env, PIPELINE_CLIENT).is_some(), "AZURESUBSCRIPTION_CLIENT_ID or AZURE_CLIENT_ID");
            want(first(env, PIPELINE_TENANT).is_some(), "AZURESUBSCRIPTION_TENANT_ID or AZURE_TENANT_ID");
        }
        AuthMethod::WorkloadIdentity => {
            want(var(env, "AZURE_FEDERATED_TOKEN_FILE").is_some(), "AZURE_FEDERATED_TOKEN_FILE");
            want(var(env, "AZURE_CLIENT_ID").is_some(), "AZURE_CLIENT_ID");
            want(var(env, "AZURE_TENANT_ID").is_some(), "AZURE_TENANT_ID");
        }
        AuthMethod::ClientSecret => {
            want(var(env, "AZURE_CLIENT_SECRET").is_some(), "AZURE_CLIENT_SECRET");
            want(var(env, "AZURE_CLIENT_ID").is_some(), "AZURE_CLIENT_ID");
            want(var(env, "AZURE_TENANT_ID").is_some(), "AZURE_TENANT_ID");
        }
        AuthMethod::Cli => want(on_path(env, "az"), "the `az` command on PATH"),
        // IMDS cannot be detected without a network call, so managed identity is the last
        // resort of `auto` and always "available".
        AuthMethod::ManagedIdentity => {}
    }
    need
}

fn on_path(env: Env, program: &str) -> bool {
    let Some(path) = env("PATH") else { return false };
    std::env::split_paths(&path).any(|dir| {
        let candidate = dir.join(program);
        candidate.is_file() || (cfg!(windows) && dir.join(format!("{program}.cmd")).is_file())
    })
}

/// Picks the method `auto` would use.
pub fn choose(requested: AuthMethod, env: Env) -> Result<AuthMethod> {
    if requested != AuthMethod::Auto {
        let need = missing(requested, env);
        if need.is_empty() {
            return Ok(requested);
        }
        return Err(Error::Auth(format!("--auth {} needs {}", cli_name(requested), need.join(", "))));
    }
    Ok(AuthMethod::ORDER.into_iter().find(|m| missing(*m, env).is_empty()).unwrap_or(AuthMethod::ManagedIdentity))
}

pub fn cli_name(method: AuthMethod) -> &'static str {
    match method {
        AuthMethod::Auto => "auto",
        AuthMethod::Pipelines => "pipelines",
        AuthMethod::WorkloadIdentity => "workload-identity",
        AuthMethod::ClientSecret => "client-secret",
        AuthMethod::Cli => "cli",
        AuthMethod::ManagedIdentity => "managed-identity",
    }
}

/// A credential for `method` (already chosen), on the cloud's authority host.
pub fn credential(method: AuthMethod, cloud: &Cloud, env: Env) -> Result<Arc<dyn TokenCredential>> {
    // Token requests get the same per-try deadline and certificate check as ARM's (limits.rs).
    let guard: Arc<dyn azure_core::http::policies::Policy> =
        Arc::new(super::limits::Guard::new(super::limits::DEFAULT_PER_TRY));
    let client_options = || ClientOptions {
        cloud: Some(Arc::new(cloud.configuration())),
        per_try_policies: vec![guard.clone()],
        ..Default::default()
    };
    let need = |name: &str| var(env, name).ok_or_else(|| Error::Auth(format!("{name} is not set")));
    let failed = |e: azure_core::Error| Error::Auth(super::client::error_chain(&e));
    let cred: Arc<dyn TokenCredential> = match method {
        AuthMethod::Auto => return credential(choose(AuthMethod::Auto, env)?, cloud, env),
        AuthMethod::Pipelines => {
            let tenant = first(env, PIPELINE_TENANT).ok_or_else(|| Error::Auth("no tenant id".into()))?;
            let client = first(env, PIPELINE_CLIENT).ok_or_else(|| Error::Auth("no client id".into()))?;
            let connection =
                first(env, PIPELINE_CONNECTION).ok_or_else(|| Error::Auth("no service connection id".into()))?;
            let options = AzurePipelinesCredentialOptions {
                credential_options: ClientAssertionCredentialOptions { client_options: client_options() },
            };
            AzurePipelinesCredential::new(
                tenant,
                client,
                &connection,
                Secret::new(need("SYSTEM_ACCESSTOKEN")?),
                Some(options),
            )
            .map_err(failed)?
        }
        AuthMethod::WorkloadIdentity => {
            let options = WorkloadIdentityCredentialOptions {
                credential_options: ClientAssertionCredentialOptions { client_options: client_options() },
                client_id: Some(need("AZURE_CLIENT_ID")?),
                tenant_id: Some(need("AZURE_TENANT_ID")?),
                token_file_path: Some(need("AZURE_FEDERATED_TOKEN_FILE")?.into()),
            };
            WorkloadIdentityCredential::new(Some(options)).map_err(failed)?
        }
        AuthMethod::ClientSecret => {
            let options = ClientSecretCredentialOptions { client_options: client_options() };
            ClientSecretCredential::new(
                &need("AZURE_TENANT_ID")?,
                need("AZURE_CLIENT_ID")?,
                Secret::new(need("AZURE_CLIENT_SECRET")?),
                Some(options),
            )
            .map_err(failed)?
        }
        AuthMethod::Cli => AzureCliCredential::new(None).map_err(failed)?,
        AuthMethod::ManagedIdentity => {
            let options = ManagedIdentityCredentialOptions {
                user_assigned_id: var(env, "AZURE_CLIENT_ID").map(UserAssignedId::ClientId),
                client_options: client_options(),
            };
            ManagedIdentityCredential::new(Some(options)).map_err(failed)?
        }
    };
    Ok(cred)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn auto_prefers_the_pipeline_then_the_environment() {
        let secret = env_of(&[("AZURE_CLIENT_ID", "c"), ("AZURE_TENANT_ID", "t"), ("AZURE_CLIENT_SECRET", "s")]);
        assert_eq!(choose(AuthMethod::Auto, &secret).unwrap(), AuthMethod::ClientSecret);
        let pipeline = env_of(&[
            ("SYSTEM_OIDCREQUESTURI", "https://dev.azure.com/x"),
            ("SYSTEM_ACCESSTOKEN", "a"),
            ("AZURESUBSCRIPTION_SERVICE_CONNECTION_ID", "id"),
            ("AZURESUBSCRIPTION_CLIENT_ID", "c"),
            ("AZURESUBSCRIPTION_TENANT_ID", "t"),
            ("AZURE_CLIENT_SECRET", "s"),
        ]);
        assert_eq!(choose(AuthMethod::Auto, &pipeline).unwrap(), AuthMethod::Pipelines);
        let federated =
            env_of(&[("AZURE_CLIENT_ID", "c"), ("AZURE_TENANT_ID", "t"), ("AZURE_FEDERATED_TOKEN_FILE", "/f")]);
        assert_eq!(choose(AuthMethod::Auto, &federated).unwrap(), AuthMethod::WorkloadIdentity);
        assert_eq!(choose(AuthMethod::Auto, &env_of(&[])).unwrap(), AuthMethod::ManagedIdentity);
    }

    #[test]
    fn a_forced_method_names_what_is_missing() {
        let err = choose(AuthMethod::ClientSecret, &env_of(&[("AZURE_CLIENT_ID", "c")])).unwrap_err().to_string();
        assert!(err.contains("--auth client-secret needs AZURE_CLIENT_SECRET, AZURE_TENANT_ID"), "{err}");
        let err = choose(AuthMethod::Pipelines, &env_of(&[("SYSTEM_OIDCREQUESTURI", "u")])).unwrap_err().to_string();
        assert!(err.contains("SYSTEM_ACCESSTOKEN"), "{err}");
    }

    #[test]
    fn cli_is_found_on_path() {
        let dir = std::env::temp_dir().join(format!("aibc-auth-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("az"), "#!/bin/sh\n").unwrap();
        let path = dir.to_string_lossy().into_owned();
        assert_eq!(choose(AuthMethod::Auto, &env_of(&[("PATH", &path)])).unwrap(), AuthMethod::Cli);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
