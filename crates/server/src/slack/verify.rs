//! Slack's request signature (v0): `v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{raw body}` under
//! the app's signing secret, with the timestamp within five minutes of now. Checked before the
//! body is parsed, in constant time.

use hmac::{Hmac, KeyInit as _, Mac as _};
use sha2::Sha256;

/// How far a request's timestamp may be from now.
pub(crate) const WINDOW_SECONDS: i64 = 300;

/// Why a request is refused.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// A header is missing or not what Slack sends.
    Missing(&'static str),
    /// The timestamp is outside the window (a replay, or a clock far off).
    Stale,
    /// The signature does not match.
    Forged,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Missing(h) => write!(f, "missing or malformed {h} header"),
            Self::Stale => write!(
                f,
                "request timestamp outside the {WINDOW_SECONDS}-second window"
            ),
            Self::Forged => write!(f, "signature does not match"),
        }
    }
}

/// Checks one request.
pub(crate) fn verify(
    secret: &str,
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now: i64,
) -> Result<(), Refusal> {
    let timestamp = timestamp.ok_or(Refusal::Missing("X-Slack-Request-Timestamp"))?;
    let seconds: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| Refusal::Missing("X-Slack-Request-Timestamp"))?;
    if (now - seconds).abs() > WINDOW_SECONDS {
        return Err(Refusal::Stale);
    }
    let given = signature
        .and_then(|s| s.strip_prefix("v0="))
        .and_then(|h| hex::decode(h).ok())
        .ok_or(Refusal::Missing("X-Slack-Signature"))?;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).map_err(|_| Refusal::Forged)?;
    mac.update(b"v0:");
    mac.update(timestamp.trim().as_bytes());
    mac.update(b":");
    mac.update(body);
    mac.verify_slice(&given).map_err(|_| Refusal::Forged)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Slack's published test vector (`shared/reference/payloads/slack/signature-test-vector.json`).
    const SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
    const BODY: &str = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    const SIGNATURE: &str = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";
    const TS: &str = "1531420618";
    const NOW: i64 = 1_531_420_618;

    #[test]
    fn the_published_vector_verifies_and_tampering_does_not() {
        assert_eq!(
            verify(SECRET, Some(TS), Some(SIGNATURE), BODY.as_bytes(), NOW),
            Ok(())
        );
        let tampered = BODY.replace("roadrunner", "coyote");
        assert_eq!(
            verify(SECRET, Some(TS), Some(SIGNATURE), tampered.as_bytes(), NOW),
            Err(Refusal::Forged)
        );
        assert_eq!(
            verify(
                "another-secret",
                Some(TS),
                Some(SIGNATURE),
                BODY.as_bytes(),
                NOW
            ),
            Err(Refusal::Forged)
        );
        assert_eq!(
            verify(
                SECRET,
                Some(TS),
                Some(SIGNATURE),
                BODY.as_bytes(),
                NOW + 301
            ),
            Err(Refusal::Stale)
        );
        assert_eq!(
            verify(
                SECRET,
                Some(TS),
                Some(SIGNATURE),
                BODY.as_bytes(),
                NOW - 301
            ),
            Err(Refusal::Stale)
        );
        assert_eq!(
            verify(SECRET, None, Some(SIGNATURE), BODY.as_bytes(), NOW),
            Err(Refusal::Missing("X-Slack-Request-Timestamp"))
        );
        assert_eq!(
            verify(SECRET, Some(TS), Some("a2114d57"), BODY.as_bytes(), NOW),
            Err(Refusal::Missing("X-Slack-Signature"))
        );
        assert_eq!(
            verify(SECRET, Some(TS), Some("v0=zz"), BODY.as_bytes(), NOW),
            Err(Refusal::Missing("X-Slack-Signature"))
        );
    }
}
