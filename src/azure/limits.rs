//! Bounds on waiting for Azure, and transport failures that retrying cannot cure.
//!
//! - Each try of a request has a deadline (`AIBC_HTTP_TIMEOUT`, default 100 s) covering the
//!   answer and its whole body: a stalled proxy or a half-open connection becomes a transport
//!   error the pipeline retries, instead of a hang.
//! - Each long-running operation is polled for at most `AIBC_OPERATION_TIMEOUT` (default
//!   60 min), then the command ends with exit 9 and says the operation goes on.
//! - A TLS certificate failure (an untrusted issuer, a name mismatch, an expired certificate)
//!   is not retried: it does not heal in 80 s, and the user needs to hear which certificate
//!   and how to trust it (docs/adr/0017).

use std::sync::Arc;
use std::time::Duration;

use azure_core::error::ErrorKind;
use azure_core::http::policies::{Policy, PolicyResult};
use azure_core::http::{Context, Request};

use super::client::error_chain;

/// How a certificate failure's message starts (client.rs finds it inside a credential's error).
pub const TLS_PROBLEM: &str = "TLS certificate problem: ";

pub const DEFAULT_PER_TRY: Duration = Duration::from_secs(100);
pub const DEFAULT_OPERATION: Duration = Duration::from_secs(60 * 60);

/// The limits, from the environment (durations like `30s`, `5m`, `1h30m`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub per_try: Duration,
    pub operation: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits { per_try: DEFAULT_PER_TRY, operation: DEFAULT_OPERATION }
    }
}

impl Limits {
    pub fn from_env(env: super::auth::Env<'_>) -> Result<Limits, String> {
        let read = |name: &str, default: Duration| match env(name).filter(|v| !v.trim().is_empty()) {
            None => Ok(default),
            Some(v) => match crate::commands::parse_duration(&v) {
                Ok(d) if !d.is_zero() => Ok(d),
                Ok(_) => Err(format!("{name}={v}: give a duration above zero (e.g. 30s, 10m)")),
                Err(e) => Err(format!("{name}: {e}")),
            },
        };
        Ok(Limits {
            per_try: read("AIBC_HTTP_TIMEOUT", DEFAULT_PER_TRY)?,
            operation: read("AIBC_OPERATION_TIMEOUT", DEFAULT_OPERATION)?,
        })
    }
}

/// `90 s`, `5 min`, `1 h 30 min`.
pub fn human(d: Duration) -> String {
    let s = d.as_secs();
    match (s / 3600, (s % 3600) / 60, s % 60) {
        (0, 0, s) => format!("{s} s"),
        (0, m, 0) => format!("{m} min"),
        (0, m, s) => format!("{m} min {s} s"),
        (h, 0, _) => format!("{h} h"),
        (h, m, _) => format!("{h} h {m} min"),
    }
}

/// The per-try policy nearest the transport: deadline for one try, and certificate failures
/// turned into errors the retry policy gives up on at once.
#[derive(Debug)]
pub struct Guard {
    per_try: Duration,
}

impl Guard {
    pub fn new(per_try: Duration) -> Guard {
        Guard { per_try }
    }
}

#[async_trait::async_trait]
impl Policy for Guard {
    async fn send(&self, ctx: &Context, request: &mut Request, next: &[Arc<dyn Policy>]) -> PolicyResult {
        let host = request.url().host_str().unwrap_or_default().to_string();
        let result = match tokio::time::timeout(self.per_try, next[0].send(ctx, request, &next[1..])).await {
            Ok(r) => r,
            // Io: the retry policy tries again, as for a dropped connection.
            Err(_) => {
                return Err(azure_core::Error::with_message(
                    ErrorKind::Io,
                    format!("no complete answer from {host} within {} (AIBC_HTTP_TIMEOUT)", human(self.per_try)),
                ));
            }
        };
        match result {
            Err(e) if matches!(e.kind(), ErrorKind::Io | ErrorKind::Connection) => match certificate_problem(&e, &host)
            {
                // Other: not retried.
                Some(message) => Err(azure_core::Error::with_message(ErrorKind::Other, message)),
                None => Err(e),
            },
            other => other,
        }
    }
}

/// The certificate failure named, with the fix, when `e` is one.
pub fn certificate_problem(e: &(dyn std::error::Error + 'static), host: &str) -> Option<String> {
    let chain = error_chain(e);
    let lower = chain.to_ascii_lowercase();
    let what = if lower.contains("notvalidforname")
        || lower.contains("not valid for name")
        || lower.contains("hostname mismatch")
    {
        format!(
            "the certificate {host} presented is not valid for the name {host} (wrong host, or a proxy answering for it)"
        )
    } else if lower.contains("unknownissuer")
        || lower.contains("unable to get local issuer")
        || lower.contains("self signed")
        || lower.contains("self-signed")
        || lower.contains("unknown ca")
        || lower.contains("badsignature")
    {
        format!("the certificate {host} presented was issued by a certificate authority this machine does not trust")
    } else if lower.contains("expired") && lower.contains("certificate") {
        format!("the certificate {host} presented has expired (or this machine's clock is wrong)")
    } else if lower.contains("invalid peer certificate")
        || lower.contains("certificate verify failed")
        || lower.contains("invalidcertificate")
    {
        format!("the certificate {host} presented was refused")
    } else {
        return None;
    };
    Some(format!(
        "{TLS_PROBLEM}{what}. If a proxy or firewall inspects TLS, add its CA certificate to the trusted \
         ones: SSL_CERT_FILE=/path/to/ca-bundle.pem (a PEM bundle with the proxy's CA and the usual roots), or install \
         it in the system store; check --arm-endpoint / AIBC_ARM_ENDPOINT names the right host. Not retried. ({chain})"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct E(&'static str);
    impl std::fmt::Display for E {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }
    impl std::error::Error for E {}

    #[test]
    fn certificate_failures_are_named() {
        let unknown = certificate_problem(&E("invalid peer certificate: UnknownIssuer"), "h").unwrap();
        assert!(unknown.contains("does not trust") && unknown.contains("SSL_CERT_FILE"), "{unknown}");
        let name = certificate_problem(&E("invalid peer certificate: NotValidForName"), "h").unwrap();
        assert!(name.contains("not valid for the name h"), "{name}");
        assert!(certificate_problem(&E("connection refused"), "h").is_none());
    }

    #[test]
    fn limits_from_the_environment() {
        let env = |k: &str| (k == "AIBC_HTTP_TIMEOUT").then(|| "5s".to_string());
        assert_eq!(Limits::from_env(&env).unwrap().per_try, Duration::from_secs(5));
        assert_eq!(Limits::from_env(&env).unwrap().operation, DEFAULT_OPERATION);
        let zero = |k: &str| (k == "AIBC_OPERATION_TIMEOUT").then(|| "0s".to_string());
        assert!(Limits::from_env(&zero).is_err());
        assert_eq!(human(Duration::from_secs(5400)), "1 h 30 min");
        assert_eq!(human(Duration::from_secs(2)), "2 s");
    }
}
