//! Which Azure the binary talks to: the three public clouds, or any ARM endpoint given on the
//! command line or in `AIBC_ARM_ENDPOINT`. Sovereign clouds and the tests' loopback fake go
//! through the same switch, so the code under test is the code users run.

use std::fmt;

use azure_core::cloud::{CloudConfiguration, CustomConfiguration};
use url::Url;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CloudName {
    #[value(name = "AzureCloud", alias = "azurecloud", alias = "public")]
    AzureCloud,
    #[value(name = "AzureUSGovernment", alias = "azureusgovernment", alias = "usgov")]
    AzureUsGovernment,
    #[value(name = "AzureChinaCloud", alias = "azurechinacloud", alias = "china")]
    AzureChinaCloud,
}

/// Endpoints of one cloud, resolved once at start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cloud {
    pub name: String,
    /// ARM's base URL, ending in `/`.
    pub arm: Url,
    /// Entra ID's authority host, ending in `/`.
    pub authority: Url,
    /// The token scope for ARM (`{audience}/.default`).
    pub arm_scope: String,
}

#[derive(Debug)]
pub struct CloudError(pub String);

impl fmt::Display for CloudError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CloudError {}

impl Cloud {
    pub fn builtin(name: CloudName) -> Cloud {
        let (label, arm, authority, audience) = match name {
            CloudName::AzureCloud => (
                "AzureCloud",
                "https://management.azure.com/",
                "https://login.microsoftonline.com/",
                "https://management.core.windows.net/",
            ),
            CloudName::AzureUsGovernment => (
                "AzureUSGovernment",
                "https://management.usgovcloudapi.net/",
                "https://login.microsoftonline.us/",
                "https://management.core.usgovcloudapi.net/",
            ),
            CloudName::AzureChinaCloud => (
                "AzureChinaCloud",
                "https://management.chinacloudapi.cn/",
                "https://login.chinacloudapi.cn/",
                "https://management.core.chinacloudapi.cn/",
            ),
        };
        Cloud {
            name: label.to_string(),
            arm: Url::parse(arm).expect("built-in URL"),
            authority: Url::parse(authority).expect("built-in URL"),
            arm_scope: format!("{audience}.default"),
        }
    }

    /// Resolves the cloud from flags and environment. A custom ARM endpoint keeps the named
    /// cloud's token audience unless `AIBC_ARM_AUDIENCE` says otherwise (Azure Stack Hub and
    /// private clouds use their own), and takes its authority host from `--authority-host` or
    /// `AZURE_AUTHORITY_HOST`, the variable azure_identity itself reads.
    pub fn resolve(
        name: Option<CloudName>,
        arm_endpoint: Option<&str>,
        authority_host: Option<&str>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Cloud, CloudError> {
        // AZURE_CLOUD_NAME is what `az cloud set` users and AzureCLI@2 agents already have.
        let named = match (name, env("AZURE_CLOUD_NAME").filter(|n| !n.is_empty())) {
            (Some(n), _) => n,
            (None, Some(text)) => <CloudName as clap::ValueEnum>::from_str(&text, true).map_err(|_| {
                CloudError(format!("AZURE_CLOUD_NAME `{text}` is not AzureCloud, AzureUSGovernment or AzureChinaCloud"))
            })?,
            (None, None) => CloudName::AzureCloud,
        };
        let mut cloud = Cloud::builtin(named);
        let endpoint = arm_endpoint.map(str::to_string).or_else(|| env("AIBC_ARM_ENDPOINT"));
        if let Some(endpoint) = endpoint.filter(|e| !e.is_empty()) {
            cloud.arm = https_base(&endpoint, "the ARM endpoint (--arm-endpoint / AIBC_ARM_ENDPOINT)")?;
            cloud.name = "custom".to_string();
        }
        let authority = authority_host.map(str::to_string).or_else(|| env("AZURE_AUTHORITY_HOST"));
        if let Some(authority) = authority.filter(|a| !a.is_empty()) {
            cloud.authority = https_base(&authority, "the authority host (--authority-host / AZURE_AUTHORITY_HOST)")?;
        }
        if let Some(audience) = env("AIBC_ARM_AUDIENCE").filter(|a| !a.is_empty()) {
            let audience = audience.trim_end_matches('/');
            cloud.arm_scope = format!("{audience}/.default");
        }
        Ok(cloud)
    }

    /// The configuration azure_identity's credentials take.
    pub fn configuration(&self) -> CloudConfiguration {
        let mut custom = CustomConfiguration::default();
        custom.authority_host = self.authority.as_str().trim_end_matches('/').to_string();
        custom.into()
    }
}

fn https_base(text: &str, what: &str) -> Result<Url, CloudError> {
    let mut url = Url::parse(text).map_err(|e| CloudError(format!("{what} `{text}` is not a URL: {e}")))?;
    if url.scheme() != "https" {
        return Err(CloudError(format!("{what} `{text}` must use https: tokens are never sent in the clear")));
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn builtin_clouds_have_their_own_endpoints() {
        let gov = Cloud::resolve(Some(CloudName::AzureUsGovernment), None, None, &no_env).unwrap();
        assert_eq!(gov.arm.as_str(), "https://management.usgovcloudapi.net/");
        assert_eq!(gov.arm_scope, "https://management.core.usgovcloudapi.net/.default");
        let china = Cloud::builtin(CloudName::AzureChinaCloud);
        assert_eq!(china.authority.as_str(), "https://login.chinacloudapi.cn/");
    }

    #[test]
    fn custom_endpoint_from_env_keeps_the_audience() {
        let env = |k: &str| match k {
            "AIBC_ARM_ENDPOINT" => Some("https://127.0.0.1:8443".to_string()),
            "AZURE_AUTHORITY_HOST" => Some("https://127.0.0.1:8443".to_string()),
            _ => None,
        };
        let c = Cloud::resolve(None, None, None, &env).unwrap();
        assert_eq!(c.arm.as_str(), "https://127.0.0.1:8443/");
        assert_eq!(c.name, "custom");
        assert_eq!(c.arm_scope, "https://management.core.windows.net/.default");
    }

    #[test]
    fn plain_http_is_refused() {
        let err = Cloud::resolve(None, Some("http://127.0.0.1:1"), None, &no_env).unwrap_err();
        assert!(err.0.contains("must use https"), "{err}");
    }
}
