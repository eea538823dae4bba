//! Calls an integration imported from an API description (`steward-openapi`): each action is
//! one HTTP operation, its arguments placed in the path, query, headers, cookies and body as the
//! document says, authenticated with the secret the admin gave (kept sealed in the store).

use std::time::Duration;

use async_trait::async_trait;
use base64::Engine as _;
use serde_json::{Value, json};
use steward_domain::{ActionCall, ActionSpec, Change, Target, TargetKind};
use steward_openapi::{AuthScheme, Integration, KeyPlace, Operation, ParamPlace};

use crate::{ActionResult, Connector, ConnectorError, TransportError, Verification};

/// The platform name errors carry for every imported integration (the action names which).
const PLATFORM: &str = "the imported API";

/// One attempt's limit.
const TIMEOUT: Duration = Duration::from_secs(30);

/// Attempts of a throttled call (429 means the API did nothing, so asking again is safe).
const ATTEMPTS: u32 = 3;

/// The longest wait between attempts, whatever `Retry-After` asks.
const MAX_WAIT: Duration = Duration::from_secs(10);

/// The most of an answer kept as an action's output.
const MAX_OUTPUT_BYTES: usize = 256 * 1024;

/// The secret an integration authenticates with, and the scheme it is for.
#[derive(Clone)]
pub struct ImportedAuth {
    /// The scheme of the document it answers.
    pub scheme: AuthScheme,
    /// The key, token, or `user:password` (empty when `tokens` hands out the token).
    pub secret: String,
    /// Who gave it (whose access the calls use).
    pub owner: String,
    /// For an OAuth 2.0 scheme a person signed in to: their grant, exchanged for access
    /// tokens as calls need them.
    pub tokens: Option<std::sync::Arc<crate::msgraph::TokenProvider>>,
}

impl std::fmt::Debug for ImportedAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImportedAuth")
            .field("scheme", &self.scheme.scheme())
            .field("secret", &"[redacted]")
            .field("owner", &self.owner)
            .finish()
    }
}

/// An imported integration's connector.
pub struct ImportedConnector {
    integration: Integration,
    base_url: String,
    auth: Option<ImportedAuth>,
    http: reqwest::Client,
}

impl ImportedConnector {
    /// A connector calling `integration` at its base URL. Fails when it has none, or when the
    /// secret's scheme is one Steward cannot use.
    pub fn new(
        http: reqwest::Client,
        integration: Integration,
        auth: Option<ImportedAuth>,
    ) -> Result<Self, ConnectorError> {
        let base_url = integration
            .base_url
            .clone()
            .ok_or_else(|| ConnectorError::Unmet {
                action: format!("{}.*", integration.name),
                reason: "the integration has no base URL: import it again with --base-url".into(),
            })?;
        if let Some(AuthScheme::Unsupported { scheme, what }) = auth.as_ref().map(|a| &a.scheme) {
            return Err(ConnectorError::Unmet {
                action: format!("{}.*", integration.name),
                reason: format!(
                    "its security scheme `{scheme}` ({what}) is not one Steward can use"
                ),
            });
        }
        Ok(Self {
            integration,
            base_url,
            auth,
            http,
        })
    }

    fn operation(&self, action: &str) -> Result<&Operation, ConnectorError> {
        self.integration
            .operations
            .iter()
            .find(|o| o.spec.name.as_str() == action)
            .ok_or_else(|| ConnectorError::UnknownAction(action.to_owned()))
    }

    /// The request for `call`, without sending it.
    fn request(
        &self,
        op: &Operation,
        call: &ActionCall,
        access_token: Option<&str>,
    ) -> Result<reqwest::RequestBuilder, ConnectorError> {
        let bad = |reason: String| ConnectorError::BadParams {
            action: call.action.to_string(),
            reason,
        };
        let args = call
            .params
            .as_object()
            .ok_or_else(|| bad("arguments must be an object".into()))?;
        let mut path = op.path.clone();
        let mut query: Vec<(String, String)> = Vec::new();
        let mut headers = reqwest::header::HeaderMap::new();
        let mut cookies: Vec<String> = Vec::new();
        for p in &op.params {
            let Some(value) = args.get(&p.key) else {
                if p.required {
                    return Err(bad(format!("`{}` is required", p.key)));
                }
                continue;
            };
            let text = scalar(value);
            match p.place {
                ParamPlace::Path => {
                    let encoded: String =
                        url::form_urlencoded::byte_serialize(text.as_bytes()).collect();
                    // A path segment: `+` means a plus, not a space.
                    path = path.replace(&format!("{{{}}}", p.name), &encoded.replace('+', "%20"));
                }
                ParamPlace::Query => match value {
                    Value::Array(items) => {
                        query.extend(items.iter().map(|i| (p.name.clone(), scalar(i))));
                    }
                    _ => query.push((p.name.clone(), text)),
                },
                ParamPlace::Header => {
                    let name = reqwest::header::HeaderName::from_bytes(p.name.as_bytes())
                        .map_err(|e| bad(format!("header `{}`: {e}", p.name)))?;
                    let value = reqwest::header::HeaderValue::from_str(&text)
                        .map_err(|e| bad(format!("header `{}`: {e}", p.name)))?;
                    headers.insert(name, value);
                }
                ParamPlace::Cookie => cookies.push(format!("{}={text}", p.name)),
            }
        }
        if path.contains('{') {
            return Err(bad(format!(
                "the path {path} still has a parameter with no value"
            )));
        }
        let mut url = reqwest::Url::parse(&format!("{}{path}", self.base_url))
            .map_err(|e| bad(format!("the URL cannot be built: {e}")))?;
        let method = reqwest::Method::from_bytes(op.method.as_bytes())
            .map_err(|e| bad(format!("method {}: {e}", op.method)))?;
        if let Some(auth) = &self.auth
            && let AuthScheme::ApiKey {
                place: KeyPlace::Query,
                param,
                ..
            } = &auth.scheme
        {
            query.push((param.clone(), auth.secret.clone()));
        }
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query.iter());
        }
        let mut builder = self
            .http
            .request(method, url)
            .headers(headers)
            .timeout(TIMEOUT);
        if let Some(auth) = &self.auth {
            builder = match &auth.scheme {
                AuthScheme::ApiKey {
                    place: KeyPlace::Header,
                    param,
                    ..
                } => builder.header(param.as_str(), auth.secret.as_str()),
                AuthScheme::ApiKey {
                    place: KeyPlace::Cookie,
                    param,
                    ..
                } => {
                    cookies.push(format!("{param}={}", auth.secret));
                    builder
                }
                AuthScheme::Bearer { .. } | AuthScheme::OAuth2Code { .. } => {
                    builder.bearer_auth(access_token.unwrap_or(auth.secret.as_str()))
                }
                AuthScheme::Basic { .. } => builder.header(
                    reqwest::header::AUTHORIZATION,
                    format!(
                        "Basic {}",
                        base64::engine::general_purpose::STANDARD.encode(auth.secret.as_bytes())
                    ),
                ),
                AuthScheme::ApiKey {
                    place: KeyPlace::Query,
                    ..
                }
                | AuthScheme::Unsupported { .. } => builder,
            };
        }
        if !cookies.is_empty() {
            builder = builder.header(reqwest::header::COOKIE, cookies.join("; "));
        }
        if let Some(body) = &op.body
            && let Some(value) = args.get(&body.key)
        {
            let media = body.media_type.to_ascii_lowercase();
            builder = if media.contains("json") {
                builder
                    .header(reqwest::header::CONTENT_TYPE, body.media_type.as_str())
                    .body(value.to_string())
            } else if media == "application/x-www-form-urlencoded" {
                let pairs: Vec<(String, String)> = value
                    .as_object()
                    .map(|m| m.iter().map(|(k, v)| (k.clone(), scalar(v))).collect())
                    .unwrap_or_default();
                builder.form(&pairs)
            } else {
                builder
                    .header(reqwest::header::CONTENT_TYPE, body.media_type.as_str())
                    .body(scalar(value))
            };
        }
        Ok(builder.header(reqwest::header::ACCEPT, "application/json"))
    }

    async fn send(
        &self,
        op: &Operation,
        call: &ActionCall,
    ) -> Result<(u16, Value), ConnectorError> {
        let mut last = 0;
        let tokens = self.auth.as_ref().and_then(|a| a.tokens.clone());
        let mut refreshed = false;
        let mut attempt = 0;
        while attempt < ATTEMPTS {
            let access_token = match &tokens {
                Some(t) => Some(t.access_token(refreshed).await?),
                None => None,
            };
            let response = self
                .request(op, call, access_token.as_deref())?
                .send()
                .await
                .map_err(|e| ConnectorError::Transport {
                    platform: PLATFORM,
                    source: TransportError(format!("{} {}: {e}", op.method, op.path)),
                })?;
            let status = response.status().as_u16();
            let wait = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            let bytes = response
                .bytes()
                .await
                .map_err(|e| ConnectorError::Transport {
                    platform: PLATFORM,
                    source: TransportError(e.to_string()),
                })?;
            // An access token refused (revoked, expired early): one fresh one, then the answer.
            if status == 401 && tokens.is_some() && !refreshed {
                refreshed = true;
                continue;
            }
            if status == 429 && attempt + 1 < ATTEMPTS {
                last = status;
                tokio::time::sleep(
                    wait.unwrap_or(Duration::from_millis(500 << attempt))
                        .min(MAX_WAIT),
                )
                .await;
                attempt += 1;
                continue;
            }
            let body = if bytes.len() > MAX_OUTPUT_BYTES {
                json!({"truncated": true, "bytes": bytes.len()})
            } else {
                serde_json::from_slice(&bytes)
                    .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
            };
            return Ok((status, body));
        }
        Err(ConnectorError::Unavailable {
            platform: PLATFORM,
            attempts: ATTEMPTS,
            status: last,
        })
    }
}

/// A value as a parameter's text (strings without quotes).
fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The API's own words about a failure, from the common error shapes, shortened.
fn message_of(body: &Value) -> String {
    let candidates = [
        "/error/message",
        "/error_description",
        "/errorSummary",
        "/message",
        "/errorMessages/0",
        "/error",
        "/detail",
        "/title",
    ];
    let found = candidates
        .iter()
        .find_map(|p| body.pointer(p).and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_else(|| match body {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        });
    found.chars().take(300).collect()
}

#[async_trait]
impl Connector for ImportedConnector {
    fn catalog(&self) -> Vec<ActionSpec> {
        self.integration.actions()
    }

    fn acting_as(&self) -> (String, Vec<String>) {
        match &self.auth {
            Some(a) => (a.owner.clone(), vec![a.scheme.scheme().to_owned()]),
            None => ("(no credential)".into(), Vec::new()),
        }
    }

    async fn resolve(&self, kind: TargetKind, key: &str) -> Result<Target, ConnectorError> {
        Err(ConnectorError::NotFound {
            platform: PLATFORM,
            code: format!("{kind:?}"),
            message: format!("an imported integration has no directory to find `{key}` in"),
            request_id: None,
        })
    }

    async fn execute(
        &self,
        call: &ActionCall,
        _idempotency_key: &str,
    ) -> Result<ActionResult, ConnectorError> {
        let op = self.operation(call.action.as_str())?;
        let (status, body) = self.send(op, call).await?;
        let label = format!("{} {}", op.method, op.path);
        match status {
            200..=299 => Ok(ActionResult {
                summary: format!("{label} answered {status}"),
                after: op.spec.mutating.then(|| body.clone()),
                output: body,
                before: None,
                platform_request_id: None,
            }),
            401 | 403 => Err(ConnectorError::Denied {
                platform: PLATFORM,
                code: status.to_string(),
                message: format!("{label}: {}", message_of(&body)),
                request_id: None,
            }),
            404 => Err(ConnectorError::NotFound {
                platform: PLATFORM,
                code: status.to_string(),
                message: format!("{label}: {}", message_of(&body)),
                request_id: None,
            }),
            429 | 500..=599 => Err(ConnectorError::Unavailable {
                platform: PLATFORM,
                attempts: ATTEMPTS,
                status,
            }),
            _ => Err(ConnectorError::Rejected {
                platform: PLATFORM,
                status,
                code: status.to_string(),
                message: format!("{label}: {}", message_of(&body)),
                request_id: None,
            }),
        }
    }

    async fn preview(&self, call: &ActionCall) -> Result<Vec<Change>, ConnectorError> {
        let op = self.operation(call.action.as_str())?;
        let body = op
            .body
            .as_ref()
            .and_then(|b| call.params.get(&b.key))
            .cloned()
            .unwrap_or(Value::Null);
        Ok(vec![Change {
            target: format!("{} ({})", self.integration.title, self.base_url),
            field: format!("{} {}", op.method, op.path),
            current: Value::Null,
            proposed: json!({"arguments": call.params, "body": body}),
        }])
    }

    async fn verify(
        &self,
        call: &ActionCall,
        result: &ActionResult,
    ) -> Result<Verification, ConnectorError> {
        let _ = call;
        Ok(Verification {
            passed: true,
            detail: format!(
                "{} (an imported integration has no read-back of its own)",
                result.summary
            ),
        })
    }
}
