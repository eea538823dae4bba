//! One HTTP exchange with an ITSM tool: a timeout per attempt, and retries of throttling (429,
//! obeying `Retry-After` up to a cap), server errors and broken connections.

use std::time::Duration;

use reqwest::header::HeaderMap;
use serde_json::Value;

use super::ItsmError;

/// Attempts per call.
const ATTEMPTS: u32 = 3;
/// The longest wait between attempts, whatever `Retry-After` asks (an escalation should not
/// hold the requester's turn for long; the queue has it already).
const MAX_WAIT: Duration = Duration::from_secs(5);
/// One attempt's limit.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(20);

/// The answer to a call: status, headers and the body (JSON, or `Null` when it is not JSON).
pub(crate) struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
}

/// A base URL without its trailing slash, checked to parse.
pub(crate) fn base(system: &'static str, url: &str) -> Result<String, ItsmError> {
    reqwest::Url::parse(url).map_err(|e| ItsmError::Config {
        system,
        reason: format!("`base_url` {url:?} is not a URL: {e}"),
    })?;
    Ok(url.trim_end_matches('/').to_owned())
}

/// Sends what `build` makes, retrying what is transient; a final 4xx is returned as an answer
/// for the caller to word.
pub(crate) async fn send(
    system: &'static str,
    build: impl Fn() -> reqwest::RequestBuilder,
) -> Result<Answer, ItsmError> {
    let mut last = String::new();
    for attempt in 0..ATTEMPTS {
        match build().timeout(TIMEOUT).send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                let headers = response.headers().clone();
                let text = response.text().await.unwrap_or_default();
                let body = serde_json::from_str(&text).unwrap_or(Value::Null);
                if status == 429 || status >= 500 {
                    let asked = headers
                        .get(reqwest::header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<u64>().ok())
                        .map(Duration::from_secs);
                    last = format!("HTTP {status}");
                    if attempt + 1 < ATTEMPTS {
                        let wait = asked
                            .unwrap_or(Duration::from_millis(300 << attempt))
                            .min(MAX_WAIT);
                        tracing::warn!(
                            system,
                            status,
                            wait_ms = wait.as_millis() as u64,
                            "ITSM call throttled or failed; retrying"
                        );
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    break;
                }
                return Ok(Answer {
                    status,
                    headers,
                    body,
                });
            }
            Err(e) => {
                last = e.to_string();
                if attempt + 1 < ATTEMPTS {
                    tokio::time::sleep(Duration::from_millis(300 << attempt)).await;
                }
            }
        }
    }
    Err(ItsmError::Unreachable {
        system,
        reason: format!("{last} after {ATTEMPTS} attempts"),
    })
}

/// A client that does not follow redirects (a login page answering a redirect is a refusal,
/// not a ticket).
pub(crate) fn client(system: &'static str) -> Result<reqwest::Client, ItsmError> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| ItsmError::Config {
            system,
            reason: format!("cannot build an HTTP client: {e}"),
        })
}
