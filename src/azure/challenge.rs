//! A 401 from ARM while the token still looks valid: the token was revoked (continuous access
//! evaluation), a Conditional Access policy changed, or the clocks disagree. Entra ID's rule:
//! "A claims challenge is a response sent from an API indicating that an access token sent by a
//! client application has insufficient claims. This can be because the token doesn't satisfy the
//! Conditional Access policies set for that API, or the access token has been revoked."
//!
//! aibc signs in again once per refused request, with a new credential (the old one's cache
//! would hand back the refused token), checks that the new token meets the challenge's `nbf`
//! claim (issued after the revocation), and sends the request again. A second 401 is final and
//! says so (`after_refusal`). azure_identity 1.0 cannot put the challenge's claims into the
//! token request itself; a fresh sign-in is what a service principal or managed identity can
//! do (docs/adr/0017).

use std::sync::{Arc, RwLock};

use azure_core::credentials::{AccessToken, TokenCredential, TokenRequestOptions};
use azure_core::http::headers::{Headers, WWW_AUTHENTICATE};
use azure_core::http::policies::auth::{Authorizer, OnChallenge};
use azure_core::http::{Context, Request};
use serde_json::Value;

use super::error::Result;

type Make = dyn Fn() -> Result<Arc<dyn TokenCredential>> + Send + Sync;

/// A credential that can be replaced by a new one of the same kind.
pub struct Renewable {
    make: Box<Make>,
    current: RwLock<Arc<dyn TokenCredential>>,
}

impl std::fmt::Debug for Renewable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Renewable")
    }
}

impl Renewable {
    pub fn new(make: Box<Make>) -> Result<Renewable> {
        let first = make()?;
        Ok(Renewable { make, current: RwLock::new(first) })
    }

    /// Replaces the credential with a new one (an empty token cache).
    pub fn renew(&self) -> Result<()> {
        let fresh = (self.make)()?;
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = fresh;
        Ok(())
    }
}

#[async_trait::async_trait]
impl TokenCredential for Renewable {
    async fn get_token(
        &self,
        scopes: &[&str],
        options: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AccessToken> {
        let current = self.current.read().unwrap_or_else(|p| p.into_inner()).clone();
        current.get_token(scopes, options).await
    }
}

/// The OnChallenge of the ARM pipeline's bearer policy.
#[derive(Debug)]
pub struct Reauthenticate {
    pub credential: Arc<Renewable>,
    pub scope: String,
}

#[async_trait::async_trait]
impl OnChallenge for Reauthenticate {
    async fn on_challenge(
        &self,
        _context: &Context,
        request: &mut Request,
        authorizer: &dyn Authorizer,
        headers: &Headers,
    ) -> azure_core::Result<()> {
        let challenge = headers.get_optional_str(&WWW_AUTHENTICATE).unwrap_or_default();
        let why = param(challenge, "error").unwrap_or_else(|| "invalid_token".into());
        eprintln!("{}", crate::redact::redact(&format!("ARM refused the access token ({why}); signing in again")));
        self.credential
            .renew()
            .map_err(|e| azure_core::Error::with_message(azure_core::error::ErrorKind::Credential, e.to_string()))?;
        authorizer.authorize(request, &[self.scope.as_str()], TokenRequestOptions::default()).await?;
        // Honour the challenge: a token issued before the `nbf` it asks for would be refused again.
        if let Some(nbf) = claims(challenge).and_then(|c| required_nbf(&c))
            && let Some(iat) =
                request.headers().get_optional_str(&azure_core::http::headers::AUTHORIZATION).and_then(issued_at)
            && iat < nbf
        {
            return Err(azure_core::Error::with_message(
                azure_core::error::ErrorKind::Credential,
                format!(
                    "ARM asked for a token issued after {nbf} (claims challenge), and signing in again gave one issued at {iat}: \
                     the identity's sign-in is cached outside aibc (az login, the pipeline's token); sign in again there"
                ),
            ));
        }
        Ok(())
    }
}

/// What a final 401 adds to ARM's message: that aibc already signed in again, what the
/// challenge asked for, and what to do.
pub fn after_refusal(challenge: Option<&str>) -> String {
    let Some(challenge) = challenge else { return String::new() };
    let mut out = String::from(" — aibc signed in again and ARM refused the new token too");
    if let Some(c) = claims(challenge) {
        out.push_str(&format!(
            " (claims challenge, error=\"{}\": {}). The sign-in was revoked or a Conditional Access policy refuses this \
             identity (location, device, risk): check the identity's sign-in logs in Entra ID, or ask the tenant's \
             administrator",
            param(challenge, "error").unwrap_or_default(),
            c
        ));
    } else if let Some(e) = param(challenge, "error_description").or_else(|| param(challenge, "error")) {
        out.push_str(&format!(" ({e}). Check this machine's clock and that the identity still exists and may sign in"));
    }
    out
}

/// The decoded `claims` parameter of a `WWW-Authenticate: Bearer …` challenge.
pub fn claims(challenge: &str) -> Option<String> {
    let encoded = param(challenge, "claims")?;
    let bytes = base64_decode(&encoded)?;
    let text = String::from_utf8(bytes).ok()?;
    serde_json::from_str::<Value>(&text).ok()?;
    Some(text)
}

/// `access_token.nbf.value` of a claims request: the earliest issue time ARM accepts.
fn required_nbf(claims: &str) -> Option<i64> {
    let v: Value = serde_json::from_str(claims).ok()?;
    let nbf = v.pointer("/access_token/nbf/value")?;
    nbf.as_i64().or_else(|| nbf.as_str()?.parse().ok())
}

/// `iat` of the bearer token in an Authorization header (its payload, not its signature).
fn issued_at(header: &str) -> Option<i64> {
    let token = header.strip_prefix("Bearer ")?;
    let payload = token.split('.').nth(1)?;
    let v: Value = serde_json::from_slice(&base64_decode(payload)?).ok()?;
    v.get("iat")?.as_i64()
}

/// One `name="value"` (or `name=value`) parameter of a challenge.
fn param(challenge: &str, name: &str) -> Option<String> {
    let mut rest = challenge;
    while let Some(at) = rest.find(name) {
        let before = rest[..at].chars().last();
        let after = &rest[at + name.len()..];
        if before.is_none_or(|c| c == ' ' || c == ',') && after.trim_start().starts_with('=') {
            let value = after.trim_start()[1..].trim_start();
            return Some(match value.strip_prefix('"') {
                Some(q) => q.split('"').next().unwrap_or_default().to_string(),
                None => value.split([',', ' ']).next().unwrap_or_default().to_string(),
            });
        }
        rest = after;
    }
    None
}

/// Standard or URL-safe base64, padded or not.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.trim_end_matches('=').bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHALLENGE: &str = r#"Bearer authorization_uri="https://login.example/t", error="insufficient_claims", claims="eyJhY2Nlc3NfdG9rZW4iOnsibmJmIjp7ImVzc2VudGlhbCI6dHJ1ZSwidmFsdWUiOiIxNzAwMDAwMDAwIn19fQ==""#;

    #[test]
    fn claims_challenges_are_read() {
        let c = claims(CHALLENGE).unwrap();
        assert_eq!(c, r#"{"access_token":{"nbf":{"essential":true,"value":"1700000000"}}}"#);
        assert_eq!(required_nbf(&c), Some(1_700_000_000));
        assert_eq!(param(CHALLENGE, "error").as_deref(), Some("insufficient_claims"));
        let text = after_refusal(Some(CHALLENGE));
        assert!(text.contains("signed in again") && text.contains("Conditional Access"), "{text}");
        assert!(after_refusal(Some(r#"Bearer error="invalid_token", error_description="expired""#)).contains("clock"));
        assert_eq!(after_refusal(None), "");
    }

    #[test]
    fn token_issue_time() {
        // {"iat":1700000001}
        let header = "Bearer eyJhbGciOiJub25lIn0.eyJpYXQiOjE3MDAwMDAwMDF9.";
        assert_eq!(issued_at(header), Some(1_700_000_001));
        assert_eq!(base64_decode("aGk"), Some(b"hi".to_vec()));
        assert_eq!(base64_decode("a*"), None);
    }
}
