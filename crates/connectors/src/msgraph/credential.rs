//! Delegated credentials: a named person's refresh token, exchanged for access tokens at the
//! Microsoft identity platform's v2.0 token endpoint.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde::Deserialize;
use tokio::sync::Mutex;

use crate::ConnectorError;

/// A person's delegated grant: whose it is and the refresh token their sign-in produced.
#[derive(Clone)]
pub struct DelegatedCredential {
    /// The person the credential belongs to (every call is attributable to them).
    pub owner: String,
    /// The refresh token (a secret; never logged).
    pub refresh_token: String,
}

impl std::fmt::Debug for DelegatedCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DelegatedCredential")
            .field("owner", &self.owner)
            .field("refresh_token", &"[redacted]")
            .finish()
    }
}

/// Where a refresh token is kept between runs (Steward's store, sealed with the tenant's key):
/// the provider saves every rotated token there, and after a refused refresh reloads it once —
/// another replica sharing the credential may have rotated it meanwhile.
#[async_trait]
pub trait RefreshTokenStore: Send + Sync {
    /// The refresh token kept now, if any.
    async fn load(&self) -> Option<String>;
    /// Keeps `refresh_token` (the platform issued a new one); failures are the store's to log.
    async fn save(&self, refresh_token: &str, scopes: &[String]);
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    refresh_token: Option<String>,
    expires_in: Option<u64>,
    scope: Option<String>,
}

#[derive(Deserialize)]
struct TokenErrorAnswer {
    error: String,
    error_description: Option<String>,
}

struct Cached {
    refresh_token: String,
    access_token: Option<(String, Instant)>,
    scopes: Vec<String>,
}

/// Hands out access tokens for one delegated credential, refreshing (and rotating the refresh
/// token) shortly before expiry.
pub struct TokenProvider {
    http: reqwest::Client,
    token_url: String,
    client_id: String,
    scopes: Vec<String>,
    owner: String,
    cached: Mutex<Cached>,
    kept: Option<std::sync::Arc<dyn RefreshTokenStore>>,
    /// What the platform puts before a scope's name (Graph's resource URI; nothing for Okta).
    scope_prefix: String,
    /// Whether `offline_access` is asked for on refresh (Microsoft and Okta; Google keeps its
    /// refresh tokens without it and knows no such scope).
    offline_scope: bool,
    /// The OAuth client's secret, for platforms that want one even with PKCE (Google).
    client_secret: Option<String>,
}

impl std::fmt::Debug for TokenProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenProvider")
            .field("token_url", &self.token_url)
            .field("owner", &self.owner)
            .finish()
    }
}

impl TokenProvider {
    /// A provider for `credential` at `token_url` (the tenant's `/oauth2/v2.0/token`).
    pub fn new(
        http: reqwest::Client,
        token_url: String,
        client_id: String,
        scopes: Vec<String>,
        credential: DelegatedCredential,
    ) -> Self {
        Self {
            http,
            token_url,
            client_id,
            scopes: scopes.clone(),
            owner: credential.owner,
            cached: Mutex::new(Cached {
                refresh_token: credential.refresh_token,
                access_token: None,
                scopes,
            }),
            kept: None,
            scope_prefix: "https://graph.microsoft.com/".into(),
            offline_scope: true,
            client_secret: None,
        }
    }

    /// Refreshes without asking for `offline_access` (a platform that knows no such scope).
    #[must_use]
    pub fn without_offline_scope(mut self) -> Self {
        self.offline_scope = false;
        self
    }

    /// Sends the OAuth client's secret with every refresh (a confidential or Google client).
    #[must_use]
    pub fn with_client_secret(mut self, secret: Option<String>) -> Self {
        self.client_secret = secret.filter(|s| !s.is_empty());
        self
    }

    /// Asks for the scopes by their bare names (an Okta org authorization server's `okta.*`
    /// scopes), not as Graph resource URIs.
    #[must_use]
    pub fn with_bare_scopes(mut self) -> Self {
        self.scope_prefix = String::new();
        self
    }

    /// Keeps rotated refresh tokens in `store` (and reloads from it after a refused refresh).
    #[must_use]
    pub fn keeping_tokens_in(mut self, store: std::sync::Arc<dyn RefreshTokenStore>) -> Self {
        self.kept = Some(store);
        self
    }

    /// Whose credential this is.
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// The scopes granted at the last refresh (or requested, before the first).
    pub async fn scopes(&self) -> Vec<String> {
        self.cached.lock().await.scopes.clone()
    }

    /// A valid access token, refreshed when it is within a minute of expiry (or `force`).
    pub async fn access_token(&self, force: bool) -> Result<String, ConnectorError> {
        let mut cached = self.cached.lock().await;
        if !force
            && let Some((token, expires)) = &cached.access_token
            && *expires > Instant::now() + Duration::from_secs(60)
        {
            return Ok(token.clone());
        }
        let offline = self.offline_scope.then(|| "offline_access".to_owned());
        let scope = self
            .scopes
            .iter()
            .map(|s| format!("{}{s}", self.scope_prefix))
            .chain(offline)
            .collect::<Vec<_>>()
            .join(" ");
        let failed = |reason: String| ConnectorError::Credential {
            owner: self.owner.clone(),
            reason,
        };
        let mut reloads = 0;
        let text = loop {
            let mut form = vec![
                ("grant_type", "refresh_token"),
                ("client_id", self.client_id.as_str()),
                ("refresh_token", cached.refresh_token.as_str()),
            ];
            if !scope.is_empty() {
                form.push(("scope", scope.as_str()));
            }
            if let Some(secret) = &self.client_secret {
                form.push(("client_secret", secret.as_str()));
            }
            let response = self
                .http
                .post(&self.token_url)
                .form(&form)
                .send()
                .await
                .map_err(|e| failed(e.to_string()))?;
            let status = response.status();
            let text = response.text().await.map_err(|e| failed(e.to_string()))?;
            if status.is_success() {
                break text;
            }
            let refused = serde_json::from_str::<TokenErrorAnswer>(&text).ok();
            // Another process sharing this credential may have rotated the token, and may not
            // have kept the new one yet: wait briefly for a kept token other than the refused
            // one, and try it (a few times at most) before giving up.
            if reloads < 3
                && refused.as_ref().is_some_and(|e| e.error == "invalid_grant")
                && let Some(kept) = &self.kept
            {
                let mut fresh = None;
                for wait_ms in [0, 50, 100, 200, 300, 500, 800] {
                    tokio::time::sleep(Duration::from_millis(wait_ms)).await;
                    if let Some(token) = kept.load().await
                        && token != cached.refresh_token
                    {
                        fresh = Some(token);
                        break;
                    }
                }
                if let Some(token) = fresh {
                    cached.refresh_token = token;
                    reloads += 1;
                    continue;
                }
            }
            let reason = refused
                .map(|e| format!("{}: {}", e.error, e.error_description.unwrap_or_default()))
                .unwrap_or_else(|| format!("HTTP {status}"));
            return Err(failed(reason));
        };
        let answer: TokenAnswer = serde_json::from_str(&text)
            .map_err(|e| failed(format!("unreadable token answer: {e}")))?;
        let rotated = answer
            .refresh_token
            .filter(|rt| *rt != cached.refresh_token);
        if let Some(scope) = answer.scope {
            cached.scopes = scope
                .split_whitespace()
                .map(|s| {
                    s.strip_prefix(self.scope_prefix.as_str())
                        .unwrap_or(s)
                        .to_owned()
                })
                .collect();
        }
        if let Some(rt) = rotated {
            if let Some(kept) = &self.kept {
                kept.save(&rt, &cached.scopes).await;
            }
            cached.refresh_token = rt;
        }
        let expires = Instant::now() + Duration::from_secs(answer.expires_in.unwrap_or(3600));
        cached.access_token = Some((answer.access_token.clone(), expires));
        Ok(answer.access_token)
    }
}
