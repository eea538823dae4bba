//! A scripted language-model server speaking OpenAI chat completions (`POST
//! /v1/chat/completions`) and Anthropic Messages (`POST /v1/messages`), whole or streamed, in
//! the shapes of the captured replies. Tests of Steward's LLM reasoner run against it: a script
//! says what "the model" proposes — including hostile proposals — and every request received is
//! kept for inspection.

mod script;
mod wire;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use script::{Failure, Script, ScriptedCall, ScriptedConversation, ScriptedReply};
use wire::Api;

/// One request the server received.
#[derive(Debug, Clone)]
pub struct ModelRequest {
    /// `openai` or `anthropic`.
    pub api: &'static str,
    /// The credential header's value (`Authorization` or `x-api-key`), if any.
    pub credential: Option<String>,
    /// The body.
    pub body: Value,
}

struct ModelState {
    script: Script,
    key: Option<String>,
    hits: Mutex<HashMap<(usize, usize), usize>>,
    requests: Mutex<Vec<ModelRequest>>,
}

/// The scripted model, serving on loopback until dropped.
pub struct ScriptedModel {
    /// `http://127.0.0.1:PORT/v1` — the base URL for either provider kind.
    pub base_url: String,
    state: Arc<ModelState>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for ScriptedModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScriptedModel")
            .field("base_url", &self.base_url)
            .finish()
    }
}

impl Drop for ScriptedModel {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl ScriptedModel {
    /// Serves `script` on an ephemeral loopback port (or `port`). With `key`, requests without
    /// it (as `Authorization: Bearer` or `x-api-key`) get the provider's 401.
    pub async fn start(
        script: Script,
        key: Option<String>,
        port: Option<u16>,
    ) -> std::io::Result<Self> {
        let state = Arc::new(ModelState {
            script,
            key,
            hits: Mutex::new(HashMap::new()),
            requests: Mutex::new(Vec::new()),
        });
        let listener =
            TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port.unwrap_or(0)))).await?;
        let addr = listener.local_addr()?;
        let router = Router::new()
            .route("/v1/chat/completions", post(openai))
            .route("/v1/messages", post(anthropic))
            .with_state(state.clone());
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, router).await {
                tracing::error!(error = %e, "scripted model stopped");
            }
        });
        Ok(Self {
            base_url: format!("http://{addr}/v1"),
            state,
            task,
        })
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<ModelRequest> {
        self.state
            .requests
            .lock()
            .map(|r| r.clone())
            .unwrap_or_default()
    }
}

async fn openai(State(state): State<Arc<ModelState>>, headers: HeaderMap, body: Bytes) -> Response {
    answer(&state, Api::OpenAi, &headers, &body).await
}

async fn anthropic(
    State(state): State<Arc<ModelState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    answer(&state, Api::Anthropic, &headers, &body).await
}

fn error(api: Api, status: StatusCode, retry_after: Option<u64>) -> Response {
    let mut response = (status, axum::Json(wire::error_body(api, status.as_u16()))).into_response();
    if let Some(s) = retry_after
        && let Ok(v) = s.to_string().parse()
    {
        response.headers_mut().insert(header::RETRY_AFTER, v);
    }
    response
}

/// Text of a message's content: a string, or the text parts of a list.
fn text_of(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(" "),
        _ => String::new(),
    }
}

async fn answer(state: &ModelState, api: Api, headers: &HeaderMap, raw: &[u8]) -> Response {
    let Ok(body) = serde_json::from_slice::<Value>(raw) else {
        return error(api, StatusCode::BAD_REQUEST, None);
    };
    let header_value = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let credential = match api {
        Api::OpenAi => header_value("authorization"),
        Api::Anthropic => header_value("x-api-key"),
    };
    if let Ok(mut r) = state.requests.lock() {
        r.push(ModelRequest {
            api: if api == Api::OpenAi {
                "openai"
            } else {
                "anthropic"
            },
            credential: credential.clone(),
            body: body.clone(),
        });
    }
    if let Some(key) = &state.key {
        let expected = match api {
            Api::OpenAi => format!("Bearer {key}"),
            Api::Anthropic => key.clone(),
        };
        let versioned = api == Api::OpenAi || header_value("anthropic-version").is_some();
        if credential.as_deref() != Some(expected.as_str()) || !versioned {
            return error(api, StatusCode::UNAUTHORIZED, None);
        }
    }
    let messages = body
        .get("messages")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let first_user = messages
        .iter()
        .find(|m| m.get("role").and_then(Value::as_str) == Some("user"))
        .map(|m| text_of(m.get("content").unwrap_or(&Value::Null)))
        .unwrap_or_default();
    let position: usize = messages
        .iter()
        .filter(|m| m.get("role").and_then(Value::as_str) == Some("assistant"))
        .map(|m| match (api, m.get("content")) {
            (Api::Anthropic, Some(Value::Array(blocks))) => blocks.len(),
            _ => 1,
        })
        .sum();
    let Some((index, conversation)) = state.script.conversation(&first_user) else {
        return error(api, StatusCode::BAD_REQUEST, None);
    };
    let Some(reply) = conversation
        .replies
        .get(position)
        .or_else(|| conversation.replies.last())
    else {
        return error(api, StatusCode::BAD_REQUEST, None);
    };
    let hit = state
        .hits
        .lock()
        .map(|mut h| {
            let n = h.entry((index, position)).or_insert(0);
            *n += 1;
            *n - 1
        })
        .unwrap_or(0);
    if let Some(failure) = reply.failures.get(hit) {
        if let Some(ms) = failure.delay_ms {
            tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
        }
        if let Some(status) = failure.status.and_then(|s| StatusCode::from_u16(s).ok()) {
            return error(api, status, failure.retry_after);
        }
    }
    let stream = body.get("stream").and_then(Value::as_bool).unwrap_or(false);
    if let Some(garbage) = &reply.garbage {
        let content_type = if stream {
            "text/event-stream"
        } else {
            "application/json"
        };
        let text = if stream {
            format!("data: {garbage}\n\n")
        } else {
            garbage.clone()
        };
        return ([(header::CONTENT_TYPE, content_type)], text).into_response();
    }
    let prompt_tokens = wire::tokens(&body.to_string());
    if stream {
        (
            [
                (header::CONTENT_TYPE, "text/event-stream"),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            wire::stream(api, reply, position, prompt_tokens),
        )
            .into_response()
    } else {
        axum::Json(wire::whole(api, reply, position, prompt_tokens)).into_response()
    }
}
