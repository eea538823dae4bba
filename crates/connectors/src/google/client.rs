//! HTTP to Google's Admin SDK: the admin's delegated OAuth 2.0 access token, Google's error body
//! (`{"error": {"code", "message", "errors": [{"reason"}], "status"}}`) mapped to
//! `ConnectorError`, 429 and 503 waited out (`Retry-After`, else a back-off), broken reads sent
//! again.

use std::sync::Arc;

use reqwest::Method;
use serde_json::Value;

use crate::msgraph::{RetryPolicy, TokenProvider};
use crate::{ConnectorError, TransportError};

const PLATFORM: &str = "Google Workspace";

fn transport(reason: String) -> ConnectorError {
    ConnectorError::Transport {
        platform: PLATFORM,
        source: TransportError(reason),
    }
}

/// A client of one Google Workspace, acting with one admin's delegated grant.
pub struct GoogleClient {
    http: reqwest::Client,
    base_url: String,
    tokens: Arc<TokenProvider>,
    retry: RetryPolicy,
}

impl GoogleClient {
    /// `base_url` is `https://admin.googleapis.com` or a simulator's address.
    pub fn new(
        http: reqwest::Client,
        base_url: impl Into<String>,
        tokens: Arc<TokenProvider>,
        retry: RetryPolicy,
    ) -> Self {
        Self {
            http,
            base_url: base_url.into().trim_end_matches('/').to_owned(),
            tokens,
            retry,
        }
    }

    /// Whose grant.
    pub fn tokens(&self) -> &TokenProvider {
        &self.tokens
    }

    /// `base_url` + the path's segments (each percent-encoded) + query.
    pub fn url(
        &self,
        segments: &[&str],
        query: &[(&str, String)],
    ) -> Result<url::Url, ConnectorError> {
        let mut url = url::Url::parse(&self.base_url)
            .map_err(|e| transport(format!("bad Google URL: {e}")))?;
        url.path_segments_mut()
            .map_err(|()| transport("the Google URL cannot have a path".into()))?
            .extend(segments);
        if !query.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        Ok(url)
    }

    /// Sends one request; the body of a success (`Null` when empty).
    pub async fn send(
        &self,
        method: Method,
        url: url::Url,
        body: Option<&Value>,
    ) -> Result<Value, ConnectorError> {
        let mut attempt = 0;
        let mut refreshed = false;
        loop {
            attempt += 1;
            let token = self.tokens.access_token(false).await?;
            let mut request = self
                .http
                .request(method.clone(), url.clone())
                .bearer_auth(&token);
            if let Some(b) = body {
                request = request.json(b);
            }
            let response = match request.send().await {
                Ok(r) => r,
                Err(e) if method == Method::GET && attempt < self.retry.max_attempts => {
                    tracing::warn!(attempt, error = %e, "Google connection broke; reading again");
                    tokio::time::sleep(self.retry.default_wait).await;
                    continue;
                }
                Err(e) => return Err(transport(e.to_string())),
            };
            let status = response.status().as_u16();
            let wait = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(std::time::Duration::from_secs);
            let text = response
                .text()
                .await
                .map_err(|e| transport(e.to_string()))?;
            let body: Value = if text.trim().is_empty() {
                Value::Null
            } else {
                serde_json::from_str(&text).unwrap_or(Value::String(text))
            };
            if status == 429 || status == 503 {
                if attempt < self.retry.max_attempts {
                    tokio::time::sleep(
                        wait.unwrap_or(self.retry.default_wait)
                            .min(self.retry.max_wait),
                    )
                    .await;
                    continue;
                }
                return Err(ConnectorError::Unavailable {
                    platform: PLATFORM,
                    attempts: attempt,
                    status,
                });
            }
            if status == 401 && !refreshed {
                refreshed = true;
                self.tokens.access_token(true).await?;
                continue;
            }
            if (200..300).contains(&status) {
                return Ok(body);
            }
            return Err(error_of(status, &body));
        }
    }
}

/// Google's error body as a `ConnectorError`.
fn error_of(status: u16, body: &Value) -> ConnectorError {
    let message = body
        .pointer("/error/message")
        .and_then(Value::as_str)
        .unwrap_or("no message")
        .to_owned();
    let code = body
        .pointer("/error/errors/0/reason")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    match status {
        401 => ConnectorError::Credential {
            owner: "the Google grant".into(),
            reason: format!("{code}: {message}"),
        },
        403 => ConnectorError::Denied {
            platform: PLATFORM,
            code,
            message,
            request_id: None,
        },
        404 => ConnectorError::NotFound {
            platform: PLATFORM,
            code,
            message,
            request_id: None,
        },
        _ => ConnectorError::Rejected {
            platform: PLATFORM,
            status,
            code,
            message,
            request_id: None,
        },
    }
}
