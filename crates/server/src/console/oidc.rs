//! Sign-in through the tenant's identity provider: OpenID Connect's authorization-code flow with
//! PKCE (S256), a `state` tying the answer to the request and a `nonce` tying the ID token to
//! it. The ID token comes straight from the token endpoint (OpenID Connect Core 3.1.3.7 lets the
//! TLS connection stand for its signature there); its issuer, audience, expiry and nonce are
//! checked, and the person is who its `preferred_username` names.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use sha2::{Digest as _, Sha256};

/// How long a sign-in may take at the identity provider.
const PENDING_LIFETIME: Duration = Duration::from_secs(600);

/// Where the identity provider is, and who the console is to it.
#[derive(Debug, Clone)]
pub struct OidcConfig {
    /// The authorization endpoint.
    pub authorize_url: String,
    /// The token endpoint.
    pub token_url: String,
    /// The console's client id.
    pub client_id: String,
    /// Where the provider sends people back (`…/console/callback`).
    pub redirect_uri: String,
    /// The issuer the ID token must name (none: not checked, for providers that vary it per
    /// tenant and are reached only through the configured token endpoint).
    pub issuer: Option<String>,
}

struct Pending {
    verifier: String,
    nonce: String,
    started: Instant,
}

/// Sign-ins under way, by `state`.
#[derive(Default)]
pub(crate) struct PendingLogins {
    map: Mutex<HashMap<String, Pending>>,
}

impl PendingLogins {
    /// A new sign-in: the URL to send the browser to.
    pub(crate) fn begin(&self, config: &OidcConfig) -> Result<String, String> {
        let state = super::session::token();
        let verifier = format!("{}{}", super::session::token(), super::session::token());
        let nonce = super::session::token();
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        let mut url = url::Url::parse(&config.authorize_url)
            .map_err(|e| format!("the authorization endpoint is not a URL: {e}"))?;
        url.query_pairs_mut()
            .append_pair("client_id", &config.client_id)
            .append_pair("response_type", "code")
            .append_pair("redirect_uri", &config.redirect_uri)
            .append_pair("scope", "openid profile")
            .append_pair("state", &state)
            .append_pair("nonce", &nonce)
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256");
        let mut map = self
            .map
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.retain(|_, p| p.started.elapsed() < PENDING_LIFETIME);
        map.insert(
            state,
            Pending {
                verifier,
                nonce,
                started: Instant::now(),
            },
        );
        Ok(url.to_string())
    }

    /// Redeems the provider's answer; the signed-in person's sign-in name.
    pub(crate) async fn finish(
        &self,
        config: &OidcConfig,
        http: &reqwest::Client,
        state: &str,
        code: &str,
    ) -> Result<String, String> {
        let pending = self
            .map
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(state)
            .filter(|p| p.started.elapsed() < PENDING_LIFETIME)
            .ok_or("this sign-in is unknown or expired; start again")?;
        let response = http
            .post(&config.token_url)
            .form(&[
                ("grant_type", "authorization_code"),
                ("client_id", config.client_id.as_str()),
                ("code", code),
                ("redirect_uri", config.redirect_uri.as_str()),
                ("code_verifier", pending.verifier.as_str()),
                ("scope", "openid profile"),
            ])
            .timeout(Duration::from_secs(15))
            .send()
            .await
            .map_err(|e| format!("the identity provider could not be reached: {e}"))?;
        let status = response.status();
        let body: Value = response
            .json()
            .await
            .map_err(|e| format!("the identity provider answered something unreadable: {e}"))?;
        if !status.is_success() {
            return Err(format!(
                "the identity provider refused the sign-in: {}",
                body["error_description"]
                    .as_str()
                    .or(body["error"].as_str())
                    .unwrap_or("no reason given")
            ));
        }
        let id_token = body["id_token"]
            .as_str()
            .ok_or("the identity provider sent no ID token")?;
        let claims = id_token
            .split('.')
            .nth(1)
            .and_then(|c| URL_SAFE_NO_PAD.decode(c).ok())
            .and_then(|c| serde_json::from_slice::<Value>(&c).ok())
            .ok_or("the ID token is not a JWT")?;
        if claims["aud"] != config.client_id.as_str() {
            return Err("the ID token is not addressed to the console".into());
        }
        if let Some(issuer) = &config.issuer
            && claims["iss"] != issuer.as_str()
        {
            return Err("the ID token comes from another issuer".into());
        }
        if claims["nonce"] != pending.nonce.as_str() {
            return Err("the ID token does not answer this sign-in (nonce)".into());
        }
        let now = chrono::Utc::now().timestamp();
        if claims["exp"].as_i64().is_none_or(|exp| exp + 300 < now) {
            return Err("the ID token has expired".into());
        }
        claims["preferred_username"]
            .as_str()
            .or(claims["upn"].as_str())
            .filter(|u| u.contains('@'))
            .map(str::to_lowercase)
            .ok_or_else(|| "the ID token names nobody".into())
    }
}
