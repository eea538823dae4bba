//! HTTP to Graph: bearer tokens, Graph's error body, retries that honour `Retry-After` on 429 and
//! 503/504, and `@odata.nextLink` paging.

use std::sync::Arc;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde_json::Value;

use super::TokenProvider;
use crate::ConnectorError;
use crate::error::TransportError;

const PLATFORM: &str = "Microsoft Graph";

/// How throttling and transient failures are retried.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Total attempts, the first included.
    pub max_attempts: u32,
    /// Longest wait honoured from a `Retry-After` header.
    pub max_wait: Duration,
    /// Wait when the platform gives no `Retry-After`.
    pub default_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            max_wait: Duration::from_secs(30),
            default_wait: Duration::from_secs(2),
        }
    }
}

/// A successful answer.
#[derive(Debug, Clone)]
pub struct GraphResponse {
    /// HTTP status.
    pub status: StatusCode,
    /// Parsed JSON body (`Null` when empty).
    pub body: Value,
    /// The `Location` header (long-running operations).
    pub location: Option<String>,
    /// Graph's `request-id`.
    pub request_id: Option<String>,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: MainError,
}

#[derive(Deserialize)]
struct MainError {
    code: String,
    message: String,
}

/// A Graph client for one tenant and one delegated credential.
#[derive(Debug, Clone)]
pub struct GraphClient {
    http: reqwest::Client,
    base_url: String,
    tokens: Arc<TokenProvider>,
    retry: RetryPolicy,
}

impl GraphClient {
    /// `base_url` is `https://graph.microsoft.com` in production or a simulator's address.
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

    /// The base URL (without `/v1.0`).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The credential's provider.
    pub fn tokens(&self) -> &TokenProvider {
        &self.tokens
    }

    /// Builds `{base}/v1.0/{segments…}` with each segment percent-encoded.
    pub fn url(&self, segments: &[&str]) -> Result<url::Url, ConnectorError> {
        let mut url = url::Url::parse(&format!("{}/v1.0/", self.base_url))
            .map_err(|e| transport(format!("bad base URL: {e}")))?;
        url.path_segments_mut()
            .map_err(|()| transport("base URL cannot have a path".into()))?
            .pop_if_empty()
            .extend(segments);
        Ok(url)
    }

    /// Sends one request, retrying throttling and transient failures as the policy allows.
    pub async fn send(
        &self,
        method: Method,
        url: url::Url,
        body: Option<&Value>,
    ) -> Result<GraphResponse, ConnectorError> {
        self.send_as(method, url, body, None).await
    }

    /// Like [`send`](Self::send) with a caller-chosen `client-request-id` (Steward's idempotency
    /// key), so the platform's logs name the job that made the call.
    pub async fn send_as(
        &self,
        method: Method,
        url: url::Url,
        body: Option<&Value>,
        client_request_id: Option<&str>,
    ) -> Result<GraphResponse, ConnectorError> {
        let mut attempt = 0;
        let mut refreshed = false;
        loop {
            attempt += 1;
            let token = self.tokens.access_token(false).await?;
            let mut request = self
                .http
                .request(method.clone(), url.clone())
                .bearer_auth(&token)
                .header(
                    "client-request-id",
                    client_request_id
                        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned),
                );
            if let Some(body) = body {
                request = request.json(body);
            }
            // A read is safe to send again when the connection broke; a change is not (it may
            // have been made): its caller settles it by reading the target.
            let retry_read = method == Method::GET && attempt < self.retry.max_attempts;
            let response = match request.send().await {
                Ok(r) => r,
                Err(e) if retry_read => {
                    self.wait_before_retry(attempt, &url, &e.to_string()).await;
                    continue;
                }
                Err(e) => return Err(transport(e.to_string())),
            };
            let status = response.status();
            let headers = response.headers().clone();
            let header = |name: &str| {
                headers
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            };
            let request_id = header("request-id");
            if matches!(
                status,
                StatusCode::TOO_MANY_REQUESTS
                    | StatusCode::SERVICE_UNAVAILABLE
                    | StatusCode::GATEWAY_TIMEOUT
            ) {
                if attempt >= self.retry.max_attempts {
                    return Err(ConnectorError::Unavailable {
                        platform: PLATFORM,
                        attempts: attempt,
                        status: status.as_u16(),
                    });
                }
                let wait = header("retry-after")
                    .and_then(|s| s.trim().parse::<u64>().ok())
                    .map_or(self.retry.default_wait, Duration::from_secs)
                    .min(self.retry.max_wait);
                tracing::warn!(status = status.as_u16(), attempt, wait_ms = wait.as_millis() as u64, url = %url.path(), "graph throttled; waiting before retry");
                tokio::time::sleep(wait).await;
                continue;
            }
            let text = match response.text().await {
                Ok(t) => t,
                Err(e) if retry_read => {
                    self.wait_before_retry(attempt, &url, &e.to_string()).await;
                    continue;
                }
                Err(e) => return Err(transport(format!("the answer broke off: {e}"))),
            };
            if status == StatusCode::UNAUTHORIZED && !refreshed {
                refreshed = true;
                self.tokens.access_token(true).await?;
                attempt -= 1;
                continue;
            }
            if !status.is_success() {
                return Err(classify(status, &text, request_id));
            }
            let body = if text.trim().is_empty() {
                Value::Null
            } else {
                serde_json::from_str(&text)
                    .map_err(|e| transport(format!("answer is not JSON: {e}")))?
            };
            return Ok(GraphResponse {
                status,
                body,
                location: header("location"),
                request_id,
            });
        }
    }

    /// Backs off before sending a read again after a broken connection: the default wait,
    /// doubled each attempt, never more than the longest wait allowed.
    async fn wait_before_retry(&self, attempt: u32, url: &url::Url, error: &str) {
        let wait = self
            .retry
            .default_wait
            .saturating_mul(1 << attempt.min(6))
            .min(self.retry.max_wait);
        tracing::warn!(attempt, wait_ms = wait.as_millis() as u64, url = %url.path(), error, "graph connection broke; reading again");
        tokio::time::sleep(wait).await;
    }

    /// GETs a collection and follows `@odata.nextLink` until done or `limit` items are read.
    pub async fn get_all(
        &self,
        url: url::Url,
        limit: usize,
    ) -> Result<(Vec<Value>, Option<String>), ConnectorError> {
        let mut items = Vec::new();
        let mut next = Some(url);
        let mut request_id = None;
        while let Some(url) = next.take() {
            let page = self.send(Method::GET, url, None).await?;
            request_id = page.request_id.or(request_id);
            let values = page
                .body
                .get("value")
                .and_then(Value::as_array)
                .ok_or_else(|| transport("collection answer has no `value` array".into()))?;
            items.extend(values.iter().cloned());
            if items.len() >= limit {
                items.truncate(limit);
                break;
            }
            next = match page.body.get("@odata.nextLink").and_then(Value::as_str) {
                Some(link) => Some(
                    url::Url::parse(link).map_err(|e| transport(format!("bad nextLink: {e}")))?,
                ),
                None => None,
            };
        }
        Ok((items, request_id))
    }
}

fn transport(message: String) -> ConnectorError {
    ConnectorError::Transport {
        platform: PLATFORM,
        source: TransportError(message),
    }
}

fn classify(status: StatusCode, text: &str, request_id: Option<String>) -> ConnectorError {
    let (code, message) = serde_json::from_str::<ErrorBody>(text)
        .map(|b| (b.error.code, b.error.message))
        .unwrap_or_else(|_| {
            (
                format!("HTTP{}", status.as_u16()),
                text.chars().take(200).collect(),
            )
        });
    match status {
        StatusCode::FORBIDDEN | StatusCode::UNAUTHORIZED => ConnectorError::Denied {
            platform: PLATFORM,
            code,
            message,
            request_id,
        },
        StatusCode::NOT_FOUND => ConnectorError::NotFound {
            platform: PLATFORM,
            code,
            message,
            request_id,
        },
        _ => ConnectorError::Rejected {
            platform: PLATFORM,
            status: status.as_u16(),
            code,
            message,
            request_id,
        },
    }
}
