//! HTTP to an Okta org: the delegated access token, Okta's error body mapped to
//! `ConnectorError`, 429s waited out until `X-Rate-Limit-Reset` (or `Retry-After`), reads sent
//! again when the connection breaks (a change never is: the gateway settles it), and
//! `Link: rel="next"` paging.

use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use serde_json::Value;

use crate::msgraph::{RetryPolicy, TokenProvider};
use crate::{ConnectorError, TransportError};

const PLATFORM: &str = "Okta";

fn transport(reason: String) -> ConnectorError {
    ConnectorError::Transport {
        platform: PLATFORM,
        source: TransportError(reason),
    }
}

/// One answer: status, body (`Null` when empty) and the `Link` header's next page.
#[derive(Debug)]
pub struct OktaResponse {
    /// HTTP status.
    pub status: u16,
    /// The body.
    pub body: Value,
    /// The next page, from `Link: <…>; rel="next"`.
    pub next: Option<String>,
}

/// A client of one Okta org, acting with one person's delegated grant.
pub struct OktaClient {
    http: reqwest::Client,
    base_url: String,
    tokens: Arc<TokenProvider>,
    retry: RetryPolicy,
}

impl OktaClient {
    /// `base_url` is the org URL (`https://larkspur.okta.com`) or a simulator's address.
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

    /// Whose grant, and its scopes.
    pub fn tokens(&self) -> &TokenProvider {
        &self.tokens
    }

    /// `base_url` + `/api/v1/` + the segments, each percent-encoded, + query.
    pub fn url(
        &self,
        segments: &[&str],
        query: &[(&str, String)],
    ) -> Result<url::Url, ConnectorError> {
        let mut url = url::Url::parse(&format!("{}/api/v1", self.base_url))
            .map_err(|e| transport(format!("bad Okta URL: {e}")))?;
        url.path_segments_mut()
            .map_err(|()| transport("the Okta URL cannot have a path".into()))?
            .extend(segments);
        if !query.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        Ok(url)
    }

    /// Sends one request; 429s are waited out and broken reads sent again, as the policy allows.
    pub async fn send(
        &self,
        method: Method,
        url: url::Url,
        body: Option<&Value>,
    ) -> Result<OktaResponse, ConnectorError> {
        let mut attempt = 0;
        let mut refreshed = false;
        loop {
            attempt += 1;
            let token = self.tokens.access_token(false).await?;
            let mut request = self
                .http
                .request(method.clone(), url.clone())
                .bearer_auth(&token)
                .header(reqwest::header::ACCEPT, "application/json");
            if let Some(b) = body {
                request = request.json(b);
            }
            let response = match request.send().await {
                Ok(r) => r,
                Err(e) if method == Method::GET && attempt < self.retry.max_attempts => {
                    tracing::warn!(attempt, error = %e, "Okta connection broke; reading again");
                    tokio::time::sleep(self.retry.default_wait).await;
                    continue;
                }
                Err(e) => return Err(transport(e.to_string())),
            };
            let status = response.status().as_u16();
            let headers = response.headers().clone();
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
                    let wait = wait_of(&headers)
                        .unwrap_or(self.retry.default_wait)
                        .min(self.retry.max_wait);
                    tracing::warn!(
                        attempt,
                        wait_ms = wait.as_millis() as u64,
                        "Okta is throttling; waiting"
                    );
                    tokio::time::sleep(wait).await;
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
                return Ok(OktaResponse {
                    status,
                    next: next_link(&headers),
                    body,
                });
            }
            return Err(error_of(status, &body));
        }
    }

    /// GETs a list and follows `Link: rel="next"` until done or `limit` items are read.
    pub async fn get_all(&self, url: url::Url, limit: usize) -> Result<Vec<Value>, ConnectorError> {
        let mut items = Vec::new();
        let mut next = Some(url);
        while let Some(url) = next.take() {
            let page = self.send(Method::GET, url, None).await?;
            let values = page
                .body
                .as_array()
                .ok_or_else(|| transport("a list answer is not an array".into()))?;
            items.extend(values.iter().cloned());
            if items.len() >= limit {
                items.truncate(limit);
                break;
            }
            next = match page.next {
                Some(link) => Some(
                    url::Url::parse(&link).map_err(|e| transport(format!("bad next link: {e}")))?,
                ),
                None => None,
            };
        }
        Ok(items)
    }
}

/// How long Okta asks to wait: until `X-Rate-Limit-Reset` (epoch seconds), else `Retry-After`.
fn wait_of(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let number = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<i64>().ok())
    };
    if let Some(reset) = number("x-rate-limit-reset") {
        let secs = reset - chrono::Utc::now().timestamp();
        return Some(Duration::from_secs(u64::try_from(secs.max(1)).unwrap_or(1)));
    }
    number("retry-after").map(|s| Duration::from_secs(u64::try_from(s.max(0)).unwrap_or(0)))
}

/// The `rel="next"` target of the `Link` headers.
fn next_link(headers: &reqwest::header::HeaderMap) -> Option<String> {
    headers
        .get_all(reqwest::header::LINK)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .find(|l| l.contains("rel=\"next\""))
        .and_then(|l| l.split(['<', '>']).nth(1))
        .map(str::to_owned)
}

/// Okta's error body (`errorCode`, `errorSummary`, `errorCauses`) as a `ConnectorError`.
pub(crate) fn error_of(status: u16, body: &Value) -> ConnectorError {
    let code = body["errorCode"].as_str().unwrap_or_default().to_owned();
    let mut message = body["errorSummary"].as_str().unwrap_or_default().to_owned();
    let causes: Vec<&str> = body["errorCauses"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["errorSummary"].as_str())
        .collect();
    if !causes.is_empty() {
        message = format!("{message} ({})", causes.join("; "));
    }
    let request_id = body["errorId"].as_str().map(str::to_owned);
    match status {
        401 => ConnectorError::Credential {
            owner: "the Okta grant".into(),
            reason: format!("{code}: {message}"),
        },
        403 if code == "E0000006" => ConnectorError::Denied {
            platform: PLATFORM,
            code,
            message,
            request_id,
        },
        404 => ConnectorError::NotFound {
            platform: PLATFORM,
            code,
            message,
            request_id,
        },
        _ => ConnectorError::Rejected {
            platform: PLATFORM,
            status,
            code,
            message,
            request_id,
        },
    }
}
