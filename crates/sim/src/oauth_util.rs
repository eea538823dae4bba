//! What every simulated sign-in page and token endpoint shares: HTML escaping, opaque random
//! tokens, PKCE's S256 check, and a form that carries the authorization request along.

use std::collections::HashMap;

use base64::Engine as _;
use sha2::Digest as _;

/// `s` safe inside HTML text and attribute values.
pub(crate) fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// 256 random bits, URL-safe (codes, access and refresh tokens).
pub(crate) fn random_token() -> String {
    let bytes: [u8; 32] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Whether `verifier` is the one `challenge` (S256) was made from.
pub(crate) fn s256_matches(verifier: &str, challenge: &str) -> bool {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()))
        == challenge
}

/// The authorization request's parameters as hidden form fields, so the sign-in form posts
/// them back with the credentials.
pub(crate) fn hidden_fields(query: &HashMap<String, String>) -> String {
    query
        .iter()
        .map(|(k, v)| {
            format!(
                "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
                escape(k),
                escape(v)
            )
        })
        .collect()
}
