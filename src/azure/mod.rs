//! Talking to Azure: which cloud, how to sign in, the ARM client and the blob data plane.
//! `Session` bundles them for the commands that reach Azure (deploy, run, status, …).

pub mod auth;
pub mod blob;
pub mod challenge;
pub mod client;
pub mod cloud;
pub mod error;
pub mod limits;

use std::sync::Arc;

use serde_json::Value;

pub use auth::AuthMethod;
pub use client::ArmClient;
pub use cloud::{Cloud, CloudName};
pub use error::{Error, Result};

/// API versions aibc speaks, from the specs in shared/azure-specs.
pub mod api {
    pub const RESOURCES: &str = "2025-04-01";
    pub const IMAGE_TEMPLATES: &str = "2025-10-01";
    pub const COMPUTE_GALLERY: &str = "2025-03-03";
    pub const SUBSCRIPTIONS: &str = "2022-12-01";
    pub const STORAGE: &str = "2025-01-01";
}

/// How to reach Azure, from the command line.
#[derive(Debug, Clone)]
pub struct Connect {
    pub cloud: Option<CloudName>,
    pub arm_endpoint: Option<String>,
    pub authority_host: Option<String>,
    pub auth: AuthMethod,
    pub subscription: Option<String>,
    /// Log every request (redacted) to standard error.
    pub verbose: bool,
}

pub struct Session {
    pub cloud: Cloud,
    pub method: AuthMethod,
    pub arm: ArmClient,
    pub blobs: blob::Blobs,
    pub subscription: String,
}

impl Session {
    /// Resolves the cloud, signs in and finds the subscription. `say` gets the one line
    /// that tells the user how aibc signed in.
    pub async fn connect(connect: &Connect, env: auth::Env<'_>, say: &dyn Fn(&str)) -> Result<Session> {
        let cloud =
            Cloud::resolve(connect.cloud, connect.arm_endpoint.as_deref(), connect.authority_host.as_deref(), env)
                .map_err(|e| Error::Local(e.0))?;
        let method = auth::choose(connect.auth, env)?;
        let limits = limits::Limits::from_env(env).map_err(Error::Local)?;
        // The settings are read now, so signing in again later (a claims challenge) signs in
        // the same way.
        let settings: std::collections::HashMap<&str, String> =
            SIGN_IN_VARIABLES.iter().filter_map(|n| env(n).map(|v| (*n, v))).collect();
        let for_credential = cloud.clone();
        let credential = Arc::new(challenge::Renewable::new(Box::new(move || {
            auth::credential(method, &for_credential, &|n: &str| settings.get(n).cloned())
        }))?);
        let trace: client::Trace =
            if connect.verbose { Some(Arc::new(|line: &str| eprintln!("  [http] {line}"))) } else { None };
        let reauth =
            Arc::new(challenge::Reauthenticate { credential: credential.clone(), scope: cloud.arm_scope.clone() });
        let arm = ArmClient::with_limits(&cloud, credential.clone(), Some(reauth), trace, &limits);
        let blobs = blob::Blobs::new(credential, &limits);
        let how = if connect.auth == AuthMethod::Auto { " (--auth auto)" } else { "" };
        say(&format!("signed in with {}{how}, ARM at {}", method.label(), cloud.arm));
        let subscription = match connect
            .subscription
            .clone()
            .or_else(|| env("AZURE_SUBSCRIPTION_ID"))
            .or_else(|| env("AZURESUBSCRIPTION_SUBSCRIPTION_ID"))
            .filter(|s| !s.is_empty())
        {
            Some(s) if crate::azcli::is_guid(&s) => s,
            Some(name) => subscription_named(&arm, &name).await?,
            // Signed in with the Azure CLI: the subscription `az account set` chose.
            None => match crate::azcli::current_subscription(env).filter(|_| method == AuthMethod::Cli) {
                Some(s) => s,
                None => only_subscription(&arm).await?,
            },
        };
        Ok(Session { cloud, method, arm, blobs, subscription })
    }

    pub fn rg_path(&self, rg: &str) -> String {
        format!("/subscriptions/{}/resourceGroups/{rg}", self.subscription)
    }
}

/// What `auth::credential` reads from the environment.
const SIGN_IN_VARIABLES: &[&str] = &[
    "SYSTEM_OIDCREQUESTURI",
    "SYSTEM_ACCESSTOKEN",
    "AZURESUBSCRIPTION_SERVICE_CONNECTION_ID",
    "AIBC_SERVICE_CONNECTION_ID",
    "AZURESUBSCRIPTION_CLIENT_ID",
    "AZURESUBSCRIPTION_TENANT_ID",
    "AZURE_CLIENT_ID",
    "AZURE_TENANT_ID",
    "AZURE_CLIENT_SECRET",
    "AZURE_FEDERATED_TOKEN_FILE",
    "PATH",
];

/// `--subscription NAME`: the visible subscription with that display name (as az accepts).
async fn subscription_named(arm: &ArmClient, name: &str) -> Result<String> {
    let subs = arm.list("/subscriptions", api::SUBSCRIPTIONS).await?;
    let named = |s: &&Value| s.get("displayName").and_then(Value::as_str).is_some_and(|n| n.eq_ignore_ascii_case(name));
    let found: Vec<&str> =
        subs.iter().filter(named).filter_map(|s| s.get("subscriptionId").and_then(Value::as_str)).collect();
    match found.as_slice() {
        [one] => Ok(one.to_string()),
        [] => Err(Error::Local(format!(
            "no subscription named `{name}` is visible to the signed-in identity; give its id, or one of: {}",
            subs.iter().filter_map(|s| s.get("displayName").and_then(Value::as_str)).collect::<Vec<_>>().join(", ")
        ))),
        _ => Err(Error::Local(format!("several subscriptions are named `{name}`; give the id with --subscription"))),
    }
}

/// With no subscription given, the one the identity can see; several is a usage error.
async fn only_subscription(arm: &ArmClient) -> Result<String> {
    let subs = arm.list("/subscriptions", api::SUBSCRIPTIONS).await?;
    let ids: Vec<&str> = subs.iter().filter_map(|s| s.get("subscriptionId").and_then(Value::as_str)).collect();
    match ids.as_slice() {
        [one] => Ok(one.to_string()),
        [] => Err(Error::Local("the signed-in identity sees no subscription; give --subscription".into())),
        many => Err(Error::Local(format!(
            "the signed-in identity sees {} subscriptions; choose one with --subscription or AZURE_SUBSCRIPTION_ID",
            many.len()
        ))),
    }
}
