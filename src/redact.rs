//! Secrets never reach a terminal, a pipeline log or a file: every line aibc prints about
//! Azure passes `redact`. It recognises the shapes secrets have rather than a list of known
//! values, so a token minted after start-up is caught too: any JWT-shaped token wherever it
//! sits (after `key=`, inside a URL-encoded query, in a JSON string), the value of any key
//! whose name says it is secret (`clientSecret=`, `AZURE_CLIENT_SECRET=`, `password: `,
//! `"sig": "…"`, `sig%3D…`, `x-ms-encryption-key: …`), and authorization headers.

use std::borrow::Cow;

const MASK: &str = "***";

/// Last words of a key name that make its value secret (`client_secret`, `accountKey`,
/// `x-ms-encryption-key`, `access_token`, `AZURE_CLIENT_SECRET`): the name is split at `_`,
/// `-`, `.` and lower-to-upper case changes, so `tokenType` or `keyVaultId` stay readable.
const SECRET_WORDS: &[&str] = &[
    "secret",
    "secrets",
    "password",
    "passwd",
    "pwd",
    "passphrase",
    "token",
    "sig",
    "signature",
    "key",
    "assertion",
    "credential",
    "credentials",
    "sas",
];

/// Whole key names that are secret although their last word is not in the list above.
const SECRET_NAMES: &[&str] = &["accountkey", "sharedaccesssignature", "sharedaccesskey", "apikey", "connectionstring"];

/// Lower-case fragments one of which every secret-bearing text holds; a line without any
/// is returned as it is, without a copy.
const HINTS: &[&str] = &[
    "eyj",
    "secret",
    "passw",
    "pwd",
    "passphrase",
    "token",
    "sig",
    "key",
    "assertion",
    "credential",
    "sas",
    "bearer",
    "basic",
    "authorization",
    "code=",
    "connectionstring",
];

/// Replaces bearer tokens, JWTs, SAS signatures, client secrets, keys and passwords in `text`.
pub fn redact(text: &str) -> Cow<'_, str> {
    if !might_hold_secret(text) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if let Some(end) = jwt_at(bytes, i) {
            out.push_str(MASK);
            i = end;
            continue;
        }
        if let Some((skip, end)) = secret_at(text, i) {
            // Copy the key and its separator, mask the value.
            out.push_str(&text[i..i + skip]);
            if end > i + skip {
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
    HINTS.iter().any(|h| lower.contains(h))
}

fn is_b64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_')
}

/// A JWT at `i`: `eyJ` (`{"` encoded) starting a word, or right after a URL-encoded byte
/// (`key%3DeyJ…`), then three base64url segments separated by dots (the last may be empty:
/// an unsigned token is still a bearer credential). Returns where it ends.
fn jwt_at(bytes: &[u8], i: usize) -> Option<usize> {
    if !bytes[i..].starts_with(b"eyJ") {
        return None;
    }
    let after_escape =
        i >= 3 && bytes[i - 3] == b'%' && bytes[i - 2].is_ascii_hexdigit() && bytes[i - 1].is_ascii_hexdigit();
    if i > 0 && is_b64url(bytes[i - 1]) && !after_escape {
        return None;
    }
    let mut end = i;
    let mut dots = 0;
    let mut segment = 0;
    while end < bytes.len() && (is_b64url(bytes[end]) || bytes[end] == b'.') {
        if bytes[end] == b'.' {
            if segment == 0 || dots == 2 {
                break;
            }
            dots += 1;
            segment = 0;
        } else {
            segment += 1;
        }
        end += 1;
    }
    (dots == 2).then_some(end)
}

/// At `i`, an authorization scheme (`Bearer `, `Basic `, `SharedKey `, `Authorization: `) or
/// a key whose name says its value is secret, with its separator: `=`, `:`, `%3D`, JSON's
/// `": "`, quotes around the value. Returns the length of key and separator, and where the
/// value ends.
fn secret_at(text: &str, i: usize) -> Option<(usize, usize)> {
    let bytes = text.as_bytes();
    let rest = &bytes[i..];
    for prefix in ["Bearer ", "bearer ", "Basic ", "SharedKey "] {
        if rest.starts_with(prefix.as_bytes()) {
            let n = prefix.len();
            return Some((n, value_end(bytes, i + n, None, false)));
        }
    }
    // Keys start at a word boundary (`?sig=`, `&sig=`, `"sig"`), not inside a word (`design=`).
    if i > 0 && (bytes[i - 1].is_ascii_alphanumeric() || matches!(bytes[i - 1], b'_' | b'-' | b'.')) {
        return None;
    }
    let key_len =
        rest.iter().take(80).take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')).count();
    if key_len == 0 || key_len == 80 {
        return None;
    }
    let key = &text[i..i + key_len];
    let authorization = key.eq_ignore_ascii_case("authorization");
    if !authorization && !secret_key(key) {
        return None;
    }
    // The separator: an optional closing quote of a JSON/YAML key, spaces, `=` / `:` / `%3D`,
    // spaces, an optional opening quote.
    let mut j = i + key_len;
    let closing = bytes.get(j).copied().filter(|b| matches!(b, b'"' | b'\''));
    if closing.is_some() {
        j += 1;
    }
    while bytes.get(j) == Some(&b' ') {
        j += 1;
    }
    let encoded = bytes[j..].len() >= 3 && bytes[j..j + 3].eq_ignore_ascii_case(b"%3D");
    match bytes.get(j) {
        _ if encoded => j += 3,
        Some(b'=') | Some(b':') => j += 1,
        _ => return None,
    }
    // `code=` is OAuth's authorization code; `code: X` is an error code and stays.
    if key.eq_ignore_ascii_case("code") && bytes[j - 1] != b'=' {
        return None;
    }
    while bytes.get(j) == Some(&b' ') {
        j += 1;
    }
    let quote = bytes.get(j).copied().filter(|b| matches!(b, b'"' | b'\''));
    if quote.is_some() {
        j += 1;
    }
    // `Authorization: Bearer x` leaves the value to the scheme rule, which keeps the scheme.
    if authorization && secret_at(text, j).is_some() {
        return Some((j - i, j));
    }
    Some((j - i, value_end(bytes, j, quote, encoded)))
}

/// Whether a key's name says its value is secret.
fn secret_key(key: &str) -> bool {
    let lower = key.to_ascii_lowercase();
    if SECRET_NAMES.contains(&lower.as_str()) || lower == "code" {
        return true;
    }
    // The last word: after the last separator or lower-to-upper change.
    let bytes = key.as_bytes();
    let mut start = 0;
    for k in 1..bytes.len() {
        if matches!(bytes[k - 1], b'_' | b'-' | b'.')
            || (bytes[k - 1].is_ascii_lowercase() && bytes[k].is_ascii_uppercase())
        {
            start = k;
        }
    }
    let last = lower[start..].trim_matches(|c| c == '_' || c == '-' || c == '.');
    SECRET_WORDS.contains(&last)
}

/// Where a secret value ends: at its closing quote when it had an opening one; otherwise at
/// whitespace, a quote, `&`, `,`, `;`, `<`, `>` (and `%26`, an encoded `&`, when the value
/// sits in an encoded query).
fn value_end(bytes: &[u8], mut i: usize, quote: Option<u8>, encoded: bool) -> usize {
    if let Some(q) = quote {
        while i < bytes.len() && bytes[i] != q && bytes[i] != b'\n' {
            i += 1;
        }
        return i;
    }
    while i < bytes.len()
        && !matches!(bytes[i], b' ' | b'\t' | b'\n' | b'\r' | b'"' | b'\'' | b'&' | b',' | b';' | b'<' | b'>')
    {
        if encoded && bytes[i..].len() >= 3 && bytes[i..i + 3].eq_ignore_ascii_case(b"%26") {
            break;
        }
        i += 1;
    }
    i
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
    fn jwts_anywhere() {
        let jwt = "eyJ0eXAiOiJKV1QifQ.eyJvaWQiOiJ4In0.c2ln-_";
        for (text, want) in [
            (format!("key={jwt}"), "key=***".to_string()),
            (format!("foo={jwt}&bar=1"), "foo=***&bar=1".to_string()),
            (format!("q%3D{jwt}%26x%3D1"), "q%3D***%26x%3D1".to_string()),
            (format!("\"id_token_hint\":\"{jwt}\""), "\"id_token_hint\":\"***\"".to_string()),
            (format!("[{jwt}]"), "[***]".to_string()),
            ("unsigned eyJhbGciOiJub25lIn0.eyJ4IjoxfQ. end".to_string(), "unsigned *** end".to_string()),
        ] {
            assert_eq!(redact(&text), want, "{text}");
        }
    }

    #[test]
    fn values_of_secret_looking_keys() {
        for (text, want) in [
            ("clientSecret=abc123", "clientSecret=***"),
            ("AZURE_CLIENT_SECRET=abc123 AZURE_CLIENT_ID=c", "AZURE_CLIENT_SECRET=*** AZURE_CLIENT_ID=c"),
            ("password: hunter2", "password: ***"),
            ("adminPassword='p w'", "adminPassword='***'"),
            ("sig: abc==", "sig: ***"),
            ("?sv=1&sig%3Dabc%2Bdef%26se%3D2", "?sv=1&sig%3D***%26se%3D2"),
            ("x-ms-encryption-key: c2VjcmV0a2V5", "x-ms-encryption-key: ***"),
            ("x-ms-encryption-key-sha256: aGFzaA==", "x-ms-encryption-key-sha256: aGFzaA=="),
            ("key=v", "key=***"),
            ("primaryKey = v; next", "primaryKey = ***; next"),
            (r#"{"clientSecret": "s", "tokenType": "Bearer"}"#, r#"{"clientSecret": "***", "tokenType": "Bearer"}"#),
            ("SharedAccessSignature=sv&x", "SharedAccessSignature=***&x"),
            ("Authorization: SharedKey acct:c2ln", "Authorization: SharedKey ***"),
            ("authorization: opaque", "authorization: ***"),
            ("the_code=abc", "the_code=abc"),
            ("code=abc&state=1", "code=***&state=1"),
            ("code: InvalidTemplate", "code: InvalidTemplate"),
            ("keyVaultId=/subscriptions/x", "keyVaultId=/subscriptions/x"),
            ("monkey=1 turkey: 2", "monkey=1 turkey: 2"),
        ] {
            assert_eq!(redact(text), want, "{text}");
        }
    }

    #[test]
    fn never_panics_on_odd_input() {
        for s in [
            "",
            "sig=",
            "Bearer ",
            "eyJ",
            "é sig=ü",
            "\"client_secret\":",
            "authorization:",
            "key%3",
            "eyJ.",
            "pwd='",
            "sig:é",
        ] {
            let _ = redact(s);
        }
    }
}
