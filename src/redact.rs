//! Secrets never reach a terminal, a pipeline log or a file: every line aibc prints about
//! Azure passes `redact`. It recognises the shapes secrets have rather than a list of known
//! values, so a token minted after start-up is caught too.

use std::borrow::Cow;

const MASK: &str = "***";

/// Query parameters and form fields whose values are secret (SAS signatures, OAuth bodies).
const SECRET_KEYS: &[&str] = &[
    "sig",
    "client_secret",
    "client_assertion",
    "access_token",
    "refresh_token",
    "code",
    "password",
    "accountkey",
    "sharedaccesssignature",
    "x-ms-encryption-key",
];

/// Replaces bearer tokens, JWTs, SAS signatures, client secrets and account keys in `text`.
pub fn redact(text: &str) -> Cow<'_, str> {
    if !might_hold_secret(text) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        // A JWT: three base64url segments, the first starting `eyJ` (`{"` encoded).
        if text[i..].starts_with("eyJ") && boundary_before(bytes, i) {
            let end = token_end(bytes, i);
            if text[i..end].matches('.').count() >= 2 {
                out.push_str(MASK);
                i = end;
                continue;
            }
        }
        if let Some(skip) = keyword_at(text, i) {
            // Copy the key and its separator, mask the value.
            out.push_str(&text[i..i + skip]);
            i += skip;
            let end = value_end(bytes, i);
            if end > i {
                out.push_str(MASK);
            }
            i = end;
            continue;
        }
        let ch = text[i..].chars().next().expect("in bounds");
        out.push(ch);
        i += ch.len_utf8();
    }
    Cow::Owned(out)
}

fn might_hold_secret(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    text.contains("eyJ")
        || lower.contains("bearer")
        || lower.contains("authorization")
        || SECRET_KEYS.iter().any(|k| lower.contains(k))
}

fn boundary_before(bytes: &[u8], i: usize) -> bool {
    i == 0 || !is_token_byte(bytes[i - 1])
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'=' | b'+' | b'/' | b'%')
}

fn token_end(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() && is_token_byte(bytes[i]) {
        i += 1;
    }
    i
}

/// Where a secret value ends: at whitespace, a quote, `&`, `,` or `;`.
fn value_end(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len()
        && !matches!(bytes[i], b' ' | b'\t' | b'\n' | b'\r' | b'"' | b'\'' | b'&' | b',' | b';' | b'<' | b'>')
    {
        i += 1;
    }
    i
}

/// At `i`, a key whose value is secret: `Bearer `, `Authorization: `, or `key=` / `"key": "`.
/// Returns the length of the key and separator.
fn keyword_at(text: &str, i: usize) -> Option<usize> {
    let rest = &text[i..];
    let bytes = text.as_bytes();
    for prefix in ["Bearer ", "bearer ", "Basic ", "SharedKey "] {
        if rest.starts_with(prefix) {
            return Some(prefix.len());
        }
    }
    if rest.len() >= 14 && rest.as_bytes()[..14].eq_ignore_ascii_case(b"authorization:") {
        let mut n = 14;
        while rest[n..].starts_with(' ') {
            n += 1;
        }
        // `Authorization: Bearer x` is caught by the Bearer rule on the next step.
        if rest[n..].starts_with("Bearer ") || rest[n..].starts_with("Basic ") {
            return None;
        }
        return Some(n);
    }
    // Keys start at a word boundary (`?sig=`, `&sig=`, `"sig"`), not inside a word (`design=`).
    if i > 0 && (bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_') {
        return None;
    }
    for key in SECRET_KEYS {
        // Bytes, not str slices: `rest` may hold multi-byte characters at any offset.
        if rest.len() < key.len() || !rest.as_bytes()[..key.len()].eq_ignore_ascii_case(key.as_bytes()) {
            continue;
        }
        let after = &rest[key.len()..];
        if after.starts_with('=') {
            return Some(key.len() + 1);
        }
        // JSON: "key": "value"
        if let Some(a) = after.strip_prefix('"') {
            let trimmed = a.trim_start_matches([' ', ':']);
            let colon = a.len() - trimmed.len();
            if colon > 0 && a[..colon].contains(':') && trimmed.starts_with('"') {
                return Some(key.len() + 1 + colon + 1);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_tokens_and_jwts() {
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl";
        assert_eq!(redact(&format!("Authorization: Bearer {jwt}")), "Authorization: Bearer ***");
        assert_eq!(redact(&format!("token {jwt} here")), "token *** here");
        assert_eq!(redact("Bearer opaque-token-123"), "Bearer ***");
    }

    #[test]
    fn sas_signatures_and_form_secrets() {
        let url = "https://a.blob.core.windows.net/c/b?sv=2024-11-04&se=2026&sig=abc%2Bdef%3D&sp=r";
        assert_eq!(redact(url), "https://a.blob.core.windows.net/c/b?sv=2024-11-04&se=2026&sig=***&sp=r");
        assert_eq!(
            redact("grant_type=client_credentials&client_secret=s3cr3t&scope=x"),
            "grant_type=client_credentials&client_secret=***&scope=x"
        );
        assert_eq!(
            redact(r#"{"access_token": "abc", "expires_in": 3599}"#),
            r#"{"access_token": "***", "expires_in": 3599}"#
        );
        assert_eq!(redact("AccountKey=Eby8vdM02x==;BlobEndpoint=x"), "AccountKey=***;BlobEndpoint=x");
    }

    #[test]
    fn ordinary_text_is_untouched_and_borrowed() {
        let text = "deployment aibc-ubuntu succeeded in 42 s (signature check ok, design=sig)";
        assert!(matches!(redact(text), Cow::Borrowed(_)) || redact(text) == text);
        assert_eq!(redact("config=1&signal=2"), "config=1&signal=2");
        assert_eq!(redact("the word eyJust is not a token"), "the word eyJust is not a token");
    }

    #[test]
    fn never_panics_on_odd_input() {
        for s in ["", "sig=", "Bearer ", "eyJ", "é sig=ü", "\"client_secret\":", "authorization:"] {
            let _ = redact(s);
        }
    }
}
