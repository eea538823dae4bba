//! Bot Framework's token on an incoming activity: RS256 under a key Bot Framework publishes
//! (endorsed for the activity's channel), issuer `https://api.botframework.com`, audience the
//! bot's app id, within its validity (five minutes' clock skew), and a `serviceurl` claim equal
//! to the activity's `serviceUrl` — so a token for one service cannot send Steward's replies to
//! another.

use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde::Deserialize;
use serde_json::Value;
use steward_connectors::botframework::SigningKeys;

/// The issuer of Bot Framework's tokens.
const ISSUER: &str = "https://api.botframework.com";
/// Clock skew allowed.
const LEEWAY_SECONDS: u64 = 300;

#[derive(Debug, Deserialize)]
struct Claims {
    serviceurl: Option<String>,
}

/// Checks the `Authorization` header's token for `activity`; the reason when refused.
pub(crate) async fn verify(
    keys: &SigningKeys,
    app_id: &str,
    authorization: Option<&str>,
    activity: &Value,
) -> Result<(), String> {
    let token = authorization
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or("no bearer token")?;
    let header = decode_header(token).map_err(|e| format!("not a JWT: {e}"))?;
    if header.alg != Algorithm::RS256 {
        return Err(format!("signed with {:?}, not RS256", header.alg));
    }
    let kid = header.kid.ok_or("the token names no signing key")?;
    let jwk = keys
        .key(&kid)
        .await
        .map_err(|e| format!("the signing keys could not be read: {e}"))?
        .ok_or_else(|| format!("signed with a key Bot Framework does not publish ({kid})"))?;
    let channel = activity["channelId"].as_str().unwrap_or_default();
    if let Some(endorsed) = jwk["endorsements"].as_array()
        && !endorsed.iter().any(|e| e == channel)
    {
        return Err(format!(
            "the signing key is not endorsed for channel `{channel}`"
        ));
    }
    let (Some(n), Some(e)) = (jwk["n"].as_str(), jwk["e"].as_str()) else {
        return Err("the signing key is not an RSA key".into());
    };
    let key = DecodingKey::from_rsa_components(n, e)
        .map_err(|e| format!("the signing key is unusable: {e}"))?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&[ISSUER]);
    validation.set_audience(&[app_id]);
    validation.leeway = LEEWAY_SECONDS;
    validation.validate_nbf = true;
    validation.set_required_spec_claims(&["exp", "iss", "aud"]);
    let claims = decode::<Claims>(token, &key, &validation)
        .map_err(|e| format!("the token is not valid: {e}"))?
        .claims;
    let trim = |s: &str| s.trim_end_matches('/').to_ascii_lowercase();
    let service_url = activity["serviceUrl"].as_str().unwrap_or_default();
    match claims.serviceurl {
        Some(claimed) if trim(&claimed) == trim(service_url) => Ok(()),
        Some(_) => Err("the token's serviceurl is not the activity's serviceUrl".into()),
        None => Err("the token has no serviceurl claim".into()),
    }
}
