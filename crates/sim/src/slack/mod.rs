//! A Slack Web API simulator: `users.info`, `chat.postMessage` and `chat.update`, answering
//! `{"ok": true, …}` or `{"ok": false, "error"}` as Slack does, with the bot token checked
//! (`not_authed`, `invalid_auth`). Bodies are JSON or form-encoded. Messages are kept for tests.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Map, Value, json};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// A Slack user the workspace has.
#[derive(Debug, Clone)]
pub struct SlackUser {
    /// `U…` / `W…`.
    pub id: String,
    /// Profile e-mail (none: the profile shows none).
    pub email: Option<String>,
    /// A bot user.
    pub is_bot: bool,
    /// Deactivated.
    pub deleted: bool,
}

/// A message as Slack keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct SlackMessage {
    /// Channel id.
    pub channel: String,
    /// Its timestamp id.
    pub ts: String,
    /// Thread it was posted in.
    pub thread_ts: Option<String>,
    /// Text.
    pub text: String,
    /// Block Kit blocks.
    pub blocks: Value,
    /// How many times it was updated.
    pub updates: u32,
    /// Shown only to this user (`chat.postEphemeral`).
    pub only_for: Option<String>,
}

struct SlackState {
    token: String,
    users: Vec<SlackUser>,
    messages: Mutex<Vec<SlackMessage>>,
}

/// The simulator, serving until dropped.
pub struct RunningSlack {
    /// `http://127.0.0.1:PORT/api`.
    pub base_url: String,
    state: Arc<SlackState>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for RunningSlack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningSlack")
            .field("base_url", &self.base_url)
            .finish()
    }
}

impl Drop for RunningSlack {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl RunningSlack {
    /// Serves a workspace of `users` accepting the bot token `token`.
    pub async fn start(token: &str, users: Vec<SlackUser>) -> std::io::Result<Self> {
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let base_url = format!("http://{}/api", listener.local_addr()?);
        let state = Arc::new(SlackState {
            token: token.to_owned(),
            users,
            messages: Mutex::new(Vec::new()),
        });
        let router = Router::new()
            .route("/api/users.info", get(users_info))
            .route("/api/chat.postMessage", post(post_message))
            .route("/api/chat.update", post(update))
            .route("/api/chat.postEphemeral", post(post_ephemeral))
            .with_state(state.clone());
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, router).await {
                tracing::error!(error = %e, "Slack simulator stopped");
            }
        });
        Ok(Self {
            base_url,
            state,
            task,
        })
    }

    /// Every message posted, oldest first, as last updated.
    pub fn messages(&self) -> Vec<SlackMessage> {
        self.state
            .messages
            .lock()
            .map(|m| m.clone())
            .unwrap_or_default()
    }
}

fn fail(code: &str) -> Response {
    Json(json!({"ok": false, "error": code})).into_response()
}

/// `None` when the token is right; otherwise Slack's error code.
fn auth(state: &SlackState, headers: &HeaderMap, form_token: Option<&str>) -> Option<&'static str> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match bearer.or(form_token) {
        None => Some("not_authed"),
        Some(t) if t == state.token => None,
        Some(_) => Some("invalid_auth"),
    }
}

/// A JSON or form body as a map of fields.
fn fields(headers: &HeaderMap, body: &[u8]) -> Option<Map<String, Value>> {
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
    if form {
        let pairs: Vec<(String, String)> = url::form_urlencoded::parse(body).into_owned().collect();
        Some(
            pairs
                .into_iter()
                .map(|(k, v)| {
                    let value = if k == "blocks" {
                        serde_json::from_str(&v).unwrap_or(Value::String(v))
                    } else {
                        Value::String(v)
                    };
                    (k, value)
                })
                .collect(),
        )
    } else {
        serde_json::from_slice::<Value>(body)
            .ok()?
            .as_object()
            .cloned()
    }
}

async fn users_info(
    State(state): State<Arc<SlackState>>,
    headers: HeaderMap,
    Query(q): Query<Map<String, Value>>,
) -> Response {
    if let Some(code) = auth(&state, &headers, q.get("token").and_then(Value::as_str)) {
        return fail(code);
    }
    let Some(id) = q.get("user").and_then(Value::as_str) else {
        return fail("user_not_found");
    };
    let Some(user) = state.users.iter().find(|u| u.id == id) else {
        return fail("user_not_found");
    };
    let name = user
        .email
        .as_deref()
        .and_then(|e| e.split('@').next())
        .unwrap_or(&user.id)
        .to_owned();
    let mut profile =
        json!({"display_name": name, "display_name_normalized": name, "real_name": name});
    if let Some(email) = &user.email {
        profile["email"] = json!(email);
    }
    Json(json!({"ok": true, "user": {
        "id": user.id, "name": name, "deleted": user.deleted, "is_bot": user.is_bot,
        "is_app_user": false, "is_admin": false, "is_owner": false, "is_restricted": false,
        "has_2fa": false, "profile": profile,
    }}))
    .into_response()
}

fn valid_channel(c: &str) -> bool {
    c.len() > 1 && (c.starts_with('C') || c.starts_with('D') || c.starts_with('G'))
}

/// A message to post, checked as Slack checks it: authenticated, an existing channel, some text
/// or blocks, not too long.
struct Post {
    fields: Map<String, Value>,
    channel: String,
    text: String,
    blocks: Value,
}

fn post_of(state: &SlackState, headers: &HeaderMap, body: &[u8]) -> Result<Post, &'static str> {
    let fields = fields(headers, body).ok_or("invalid_json")?;
    if let Some(code) = auth(state, headers, fields.get("token").and_then(Value::as_str)) {
        return Err(code);
    }
    let text_of = |k: &str| {
        fields
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let (channel, text) = (text_of("channel"), text_of("text"));
    if !valid_channel(&channel) {
        return Err("channel_not_found");
    }
    let blocks = fields.get("blocks").cloned().unwrap_or(Value::Null);
    if text.is_empty() && !blocks.is_array() {
        return Err("no_text");
    }
    if text.chars().count() > 40_000 {
        return Err("msg_too_long");
    }
    Ok(Post {
        fields,
        channel,
        text,
        blocks,
    })
}

/// Keeps a posted message; its `ts`.
fn keep(state: &SlackState, post: &Post, only_for: Option<String>) -> Result<String, &'static str> {
    let mut messages = state.messages.lock().map_err(|_| "fatal_error")?;
    let ts = format!("1700000000.{:06}", messages.len() + 1);
    messages.push(SlackMessage {
        channel: post.channel.clone(),
        ts: ts.clone(),
        thread_ts: post
            .fields
            .get("thread_ts")
            .and_then(Value::as_str)
            .map(str::to_owned),
        text: post.text.clone(),
        blocks: post.blocks.clone(),
        updates: 0,
        only_for,
    });
    Ok(ts)
}

async fn post_message(
    State(state): State<Arc<SlackState>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let post = match post_of(&state, &headers, &body) {
        Ok(p) => p,
        Err(code) => return fail(code),
    };
    let ts = match keep(&state, &post, None) {
        Ok(ts) => ts,
        Err(code) => return fail(code),
    };
    Json(json!({"ok": true, "channel": post.channel, "ts": ts, "message": {"type": "message", "subtype": "bot_message", "text": post.text, "ts": ts, "blocks": post.blocks}})).into_response()
}

async fn update(
    State(state): State<Arc<SlackState>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let Some(f) = fields(&headers, &body) else {
        return fail("invalid_json");
    };
    if let Some(code) = auth(&state, &headers, f.get("token").and_then(Value::as_str)) {
        return fail(code);
    }
    let channel = f.get("channel").and_then(Value::as_str).unwrap_or_default();
    let ts = f.get("ts").and_then(Value::as_str).unwrap_or_default();
    let text = f
        .get("text")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let Ok(mut messages) = state.messages.lock() else {
        return fail("fatal_error");
    };
    let Some(m) = messages
        .iter_mut()
        .find(|m| m.channel == channel && m.ts == ts)
    else {
        return fail(if valid_channel(channel) {
            "message_not_found"
        } else {
            "channel_not_found"
        });
    };
    m.text = text.clone();
    if let Some(b) = f.get("blocks") {
        m.blocks = b.clone();
    }
    m.updates += 1;
    Json(json!({"ok": true, "channel": channel, "ts": ts, "text": text, "message": {"text": text}}))
        .into_response()
}

async fn post_ephemeral(
    State(state): State<Arc<SlackState>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let post = match post_of(&state, &headers, &body) {
        Ok(p) => p,
        Err(code) => return fail(code),
    };
    let Some(user) = post
        .fields
        .get("user")
        .and_then(Value::as_str)
        .filter(|u| state.users.iter().any(|x| x.id == *u))
        .map(str::to_owned)
    else {
        return fail("user_not_in_channel");
    };
    match keep(&state, &post, Some(user)) {
        Ok(ts) => Json(json!({"ok": true, "message_ts": ts})).into_response(),
        Err(code) => fail(code),
    }
}
