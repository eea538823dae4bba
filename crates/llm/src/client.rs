//! Sends a conversation to the configured provider: encodes, retries what is transient, reads a
//! streamed or whole reply, and decodes it.

use std::time::Duration;

use eventsource_stream::Eventsource as _;
use futures_util::StreamExt as _;
use serde_json::Value;

use crate::config::{ProviderConfig, ProviderKind};
use crate::retry::{backoff, retryable};
use crate::{ChatRequest, LlmError, ModelReply, anthropic, openai};

/// The version of the Messages API the Anthropic encoder follows.
const ANTHROPIC_VERSION: &str = "2023-06-01";

/// A client of one provider. Cheap to share (`reqwest::Client` is reference-counted inside).
#[derive(Clone)]
pub struct ModelClient {
    http: reqwest::Client,
    config: ProviderConfig,
    url: reqwest::Url,
    key: Option<String>,
}

impl std::fmt::Debug for ModelClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key is never printed.
        f.debug_struct("ModelClient")
            .field("provider", &self.config.name)
            .field("url", &self.url.as_str())
            .field("model", &self.config.model)
            .finish()
    }
}

/// One failed attempt, and whether another is worth making (with the provider's
/// `Retry-After`, if it sent one).
struct Failure {
    error: LlmError,
    retry: Option<Option<String>>,
}

impl Failure {
    fn fatal(error: LlmError) -> Self {
        Self { error, retry: None }
    }

    fn transient(error: LlmError, after: Option<String>) -> Self {
        Self {
            error,
            retry: Some(after),
        }
    }
}

impl ModelClient {
    /// Checks the description and reads the key from its environment variable; a named variable
    /// that is unset or empty is an error (a provider silently used without its key would only
    /// fail later, request by request).
    pub fn new(config: ProviderConfig) -> Result<Self, LlmError> {
        let key = match &config.api_key_env {
            Some(var) => match std::env::var(var) {
                Ok(k) if !k.trim().is_empty() => Some(k.trim().to_owned()),
                _ => {
                    return Err(LlmError::Config {
                        provider: config.name.clone(),
                        reason: format!(
                            "the environment variable `{var}` holding its key is not set"
                        ),
                    });
                }
            },
            None => None,
        };
        Self::with_key(config, key)
    }

    /// As [`ModelClient::new`], with the key supplied by the caller (held somewhere other than
    /// the environment) instead of read from `api_key_env`.
    pub fn with_key(config: ProviderConfig, key: Option<String>) -> Result<Self, LlmError> {
        let misconfigured = |reason: String| LlmError::Config {
            provider: config.name.clone(),
            reason,
        };
        if matches!(
            config.kind,
            ProviderKind::AzureOpenai | ProviderKind::Anthropic
        ) && key.is_none()
        {
            return Err(misconfigured(
                "this kind of provider needs `api_key_env`".into(),
            ));
        }
        let path = match config.kind {
            ProviderKind::Openai | ProviderKind::AzureOpenai => "chat/completions",
            ProviderKind::Anthropic => "messages",
        };
        let base = format!("{}/", config.base_url.trim_end_matches('/'));
        let mut url = reqwest::Url::parse(&base)
            .and_then(|b| b.join(path))
            .map_err(|e| {
                misconfigured(format!(
                    "`base_url` {:?} is not a URL: {e}",
                    config.base_url
                ))
            })?;
        if let Some(version) = &config.api_version {
            url.query_pairs_mut().append_pair("api-version", version);
        } else if config.kind == ProviderKind::AzureOpenai {
            return Err(misconfigured("Azure OpenAI needs `api_version`".into()));
        }
        if config.timeout_seconds == 0 {
            return Err(misconfigured("`timeout_seconds` must be above 0".into()));
        }
        let http = reqwest::Client::builder()
            .connect_timeout(
                Duration::from_secs(10).min(Duration::from_secs(config.timeout_seconds)),
            )
            .build()
            .map_err(|e| misconfigured(format!("cannot build an HTTP client: {e}")))?;
        Ok(Self {
            http,
            config,
            url,
            key,
        })
    }

    /// The provider's description.
    pub fn config(&self) -> &ProviderConfig {
        &self.config
    }

    /// Asks the model to continue `req`; retries timeouts, broken connections and transient
    /// statuses (honouring `Retry-After`) up to the configured count.
    pub async fn complete(&self, req: &ChatRequest) -> Result<ModelReply, LlmError> {
        let c = &self.config;
        let body = match c.kind {
            ProviderKind::Openai | ProviderKind::AzureOpenai => {
                openai::encode(req, &c.model, c.stream, c.max_tokens)
            }
            ProviderKind::Anthropic => anthropic::encode(req, &c.model, c.stream, c.max_tokens),
        };
        let cap = Duration::from_secs(c.max_backoff_seconds);
        let mut attempt = 0u32;
        loop {
            match self.attempt(&body).await {
                Ok(reply) => return Ok(reply),
                Err(Failure {
                    error,
                    retry: Some(after),
                }) if attempt < c.max_retries => {
                    let wait = backoff(attempt, after.as_deref(), cap);
                    tracing::warn!(provider = %c.name, attempt, error = %error, wait_ms = wait.as_millis() as u64, "model request failed; retrying");
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                Err(Failure { error, .. }) => {
                    return Err(match error {
                        LlmError::Timeout { seconds, .. } => LlmError::Timeout {
                            seconds,
                            attempts: attempt + 1,
                        },
                        other => other,
                    });
                }
            }
        }
    }

    async fn attempt(&self, body: &Value) -> Result<ModelReply, Failure> {
        let c = &self.config;
        let mut request = self
            .http
            .post(self.url.clone())
            .timeout(Duration::from_secs(c.timeout_seconds))
            .json(body);
        request = match (c.kind, &self.key) {
            (ProviderKind::Openai, Some(key)) => request.bearer_auth(key),
            (ProviderKind::Openai, None) => request,
            (ProviderKind::AzureOpenai, key) => {
                request.header("api-key", key.as_deref().unwrap_or_default())
            }
            (ProviderKind::Anthropic, key) => request
                .header("x-api-key", key.as_deref().unwrap_or_default())
                .header("anthropic-version", ANTHROPIC_VERSION),
        };
        let response = request.send().await.map_err(|e| self.transport(&e))?;
        let status = response.status();
        if !status.is_success() {
            let after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let text = response.text().await.unwrap_or_default();
            let parsed: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            let message = match c.kind {
                ProviderKind::Anthropic => anthropic::error_message(&parsed),
                _ => openai::error_message(&parsed),
            }
            .unwrap_or_else(|| text.chars().take(300).collect());
            let error = LlmError::Status {
                status: status.as_u16(),
                message,
            };
            return Err(if retryable(status.as_u16()) {
                Failure::transient(error, after)
            } else {
                Failure::fatal(error)
            });
        }
        let streamed = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.starts_with("text/event-stream"));
        if streamed {
            return self.read_stream(response).await;
        }
        let text = response.text().await.map_err(|e| self.transport(&e))?;
        let parsed: Value = serde_json::from_str(&text).map_err(|e| {
            Failure::fatal(LlmError::Garbage(format!(
                "the reply is not JSON ({e}): {:.200}",
                text
            )))
        })?;
        match c.kind {
            ProviderKind::Anthropic => anthropic::decode(&parsed),
            _ => openai::decode(&parsed),
        }
        .map_err(Failure::fatal)
    }

    /// Reads server-sent events to the end and folds them; a stream that breaks is retried
    /// whole, since nothing of a reply is used before it is complete.
    async fn read_stream(&self, response: reqwest::Response) -> Result<ModelReply, Failure> {
        let mut events = response.bytes_stream().eventsource();
        let fold_error = |e: LlmError| match e {
            LlmError::Status { status, .. } if retryable(status) => Failure::transient(e, None),
            other => Failure::fatal(other),
        };
        match self.config.kind {
            ProviderKind::Anthropic => {
                let mut fold = anthropic::StreamFold::default();
                while let Some(event) = events.next().await {
                    let event = event.map_err(|e| self.broken(&e.to_string()))?;
                    fold.feed(&event.data).map_err(fold_error)?;
                }
                fold.finish().map_err(Failure::fatal)
            }
            _ => {
                let mut fold = openai::StreamFold::default();
                while let Some(event) = events.next().await {
                    let event = event.map_err(|e| self.broken(&e.to_string()))?;
                    fold.feed(&event.data).map_err(fold_error)?;
                }
                fold.finish().map_err(Failure::fatal)
            }
        }
    }

    fn transport(&self, e: &reqwest::Error) -> Failure {
        if e.is_timeout() {
            Failure::transient(
                LlmError::Timeout {
                    seconds: self.config.timeout_seconds,
                    attempts: 1,
                },
                None,
            )
        } else {
            self.broken(&e.to_string())
        }
    }

    fn broken(&self, reason: &str) -> Failure {
        if reason.contains("timed out") || reason.contains("timeout") {
            return Failure::transient(
                LlmError::Timeout {
                    seconds: self.config.timeout_seconds,
                    attempts: 1,
                },
                None,
            );
        }
        Failure::transient(
            LlmError::Unreachable {
                url: self.url.to_string(),
                reason: reason.to_owned(),
            },
            None,
        )
    }
}
