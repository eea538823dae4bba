//! A Bot Framework simulator for Steward's Teams channel: the OpenID metadata and signing keys
//! Bot Framework publishes (one RSA key of its own, RS256), the token endpoint a bot gets its
//! Bot Connector token from (client credentials), and the Bot Connector API's activity routes
//! (reply, send, update). Tests sign incoming activities' tokens with [`RunningBotFramework::token`],
//! the way Bot Framework signs them, and read what the bot sent with
//! [`RunningBotFramework::activities`].

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256};
use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// The issuer of Bot Framework's tokens to bots.
pub const ISSUER: &str = "https://api.botframework.com";

/// An activity the bot sent to the Bot Connector.
#[derive(Debug, Clone, PartialEq)]
pub struct SentActivity {
    /// `reply`, `send` or `update`.
    pub how: &'static str,
    /// The conversation id.
    pub conversation: String,
    /// The activity replied to or updated, if any.
    pub activity: Option<String>,
    /// The id the connector gave it.
    pub id: String,
    /// The activity.
    pub body: Value,
}

struct BotState {
    base_url: String,
    app_id: String,
    app_password: String,
    key: KeyPair,
    kid: String,
    tokens: Mutex<Vec<String>>,
    sent: Mutex<Vec<SentActivity>>,
}

/// The simulator, serving until dropped.
pub struct RunningBotFramework {
    /// `http://127.0.0.1:PORT`: metadata at `/v1/.well-known/openidconfiguration`, the token
    /// endpoint at `/botframework.com/oauth2/v2.0/token`, the connector at `/v3/…` (so this,
    /// with a trailing slash, is an activity's `serviceUrl`).
    pub base_url: String,
    state: Arc<BotState>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for RunningBotFramework {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningBotFramework")
            .field("base_url", &self.base_url)
            .finish()
    }
}

impl Drop for RunningBotFramework {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

impl RunningBotFramework {
    /// Serves Bot Framework for one bot (`app_id`, `app_password`), with a fresh signing key.
    pub async fn start(app_id: &str, app_password: &str) -> std::io::Result<Self> {
        let key = KeyPair::generate(KeySize::Rsa2048)
            .map_err(|e| std::io::Error::other(format!("cannot make an RSA key: {e}")))?;
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let base_url = format!("http://{}", listener.local_addr()?);
        let kid = format!("sim-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
        let state = Arc::new(BotState {
            base_url: base_url.clone(),
            app_id: app_id.to_owned(),
            app_password: app_password.to_owned(),
            key,
            kid,
            tokens: Mutex::new(Vec::new()),
            sent: Mutex::new(Vec::new()),
        });
        let router = Router::new()
            .route("/v1/.well-known/openidconfiguration", get(metadata))
            .route("/v1/.well-known/keys", get(keys))
            .route("/botframework.com/oauth2/v2.0/token", post(token))
            .route("/v3/conversations", post(create_conversation))
            .route("/v3/conversations/{conversation}/activities", post(send))
            .route(
                "/v3/conversations/{conversation}/activities/{activity}",
                post(reply).put(update),
            )
            .with_state(state.clone());
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, router).await {
                tracing::error!(error = %e, "Bot Framework simulator stopped");
            }
        });
        Ok(Self {
            base_url,
            state,
            task,
        })
    }

    /// The OpenID metadata URL a bot validates incoming tokens with.
    pub fn metadata_url(&self) -> String {
        format!("{}/v1/.well-known/openidconfiguration", self.base_url)
    }

    /// The token endpoint a bot gets its connector token from.
    pub fn token_url(&self) -> String {
        format!("{}/botframework.com/oauth2/v2.0/token", self.base_url)
    }

    /// A token as Bot Framework signs one for an incoming activity: issuer, audience
    /// (`aud`), `serviceurl`, valid from `nbf_offset` to `exp_offset` seconds from now. `kid`
    /// overrides the signing key's id (an unknown key).
    pub fn token(
        &self,
        aud: &str,
        service_url: &str,
        nbf_offset: i64,
        exp_offset: i64,
        kid: Option<&str>,
    ) -> String {
        let now = chrono::Utc::now().timestamp();
        let header = json!({"alg": "RS256", "typ": "JWT", "kid": kid.unwrap_or(&self.state.kid), "x5t": kid.unwrap_or(&self.state.kid)});
        let claims = json!({"serviceurl": service_url, "nbf": now + nbf_offset, "exp": now + exp_offset, "iss": ISSUER, "aud": aud});
        let signing_input = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let mut signature = vec![0; self.state.key.public_modulus_len()];
        if self
            .state
            .key
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                signing_input.as_bytes(),
                &mut signature,
            )
            .is_err()
        {
            return String::new();
        }
        format!("{signing_input}.{}", b64(&signature))
    }

    /// Every activity the bot sent, oldest first.
    pub fn activities(&self) -> Vec<SentActivity> {
        self.state
            .sent
            .lock()
            .map(|s| s.clone())
            .unwrap_or_default()
    }
}

async fn metadata(State(state): State<Arc<BotState>>) -> Json<Value> {
    Json(json!({
        "issuer": ISSUER,
        "authorization_endpoint": "https://invalid.botframework.com",
        "jwks_uri": format!("{}/v1/.well-known/keys", state.base_url),
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
    }))
}

/// The signing key's public half as a JWK (with the channels it is endorsed for).
async fn keys(State(state): State<Arc<BotState>>) -> Response {
    let public = state.key.public_key();
    let (n, e) = (public.modulus(), public.exponent());
    Json(json!({"keys": [{
        "kty": "RSA", "use": "sig", "kid": state.kid, "x5t": state.kid,
        "n": b64(n.big_endian_without_leading_zero()), "e": b64(e.big_endian_without_leading_zero()),
        "endorsements": ["msteams"],
    }]}))
    .into_response()
}

async fn token(
    State(state): State<Arc<BotState>>,
    Form(form): Form<std::collections::HashMap<String, String>>,
) -> Response {
    let field = |k: &str| form.get(k).map(String::as_str);
    if field("grant_type") != Some("client_credentials") {
        return (StatusCode::BAD_REQUEST, Json(json!({"error": "unsupported_grant_type", "error_description": "AADSTS70003: The app requested an unsupported grant type."}))).into_response();
    }
    if field("client_id") != Some(state.app_id.as_str())
        || field("client_secret") != Some(state.app_password.as_str())
    {
        return (StatusCode::UNAUTHORIZED, Json(json!({"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided."}))).into_response();
    }
    if field("scope") != Some("https://api.botframework.com/.default") {
        return (StatusCode::BAD_REQUEST, Json(json!({"error": "invalid_scope", "error_description": "AADSTS70011: The provided value for the input parameter 'scope' is not valid."}))).into_response();
    }
    let access = format!("bf-{}", uuid::Uuid::new_v4().simple());
    if let Ok(mut t) = state.tokens.lock() {
        t.push(access.clone());
    }
    Json(json!({"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": access})).into_response()
}

fn authorised(state: &BotState, headers: &HeaderMap) -> bool {
    let Some(bearer) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return false;
    };
    state
        .tokens
        .lock()
        .map(|t| t.iter().any(|x| x == bearer))
        .unwrap_or(false)
}

fn record(
    state: &BotState,
    headers: &HeaderMap,
    how: &'static str,
    conversation: String,
    activity: Option<String>,
    body: &[u8],
) -> Response {
    if !authorised(state, headers) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"message": "Authorization has been denied for this request."})),
        )
            .into_response();
    }
    let Ok(body) = serde_json::from_slice::<Value>(body) else {
        return (StatusCode::BAD_REQUEST, Json(json!({"error": {"code": "BadArgument", "message": "The request body is not a valid activity."}}))).into_response();
    };
    if body["type"].as_str().is_none() {
        return (
            StatusCode::BAD_REQUEST,
            Json(
                json!({"error": {"code": "BadArgument", "message": "Activity type is required."}}),
            ),
        )
            .into_response();
    }
    let id = match (how, &activity) {
        ("update", Some(a)) => a.clone(),
        _ => format!("1:{}", uuid::Uuid::new_v4().simple()),
    };
    if let Ok(mut sent) = state.sent.lock() {
        sent.push(SentActivity {
            how,
            conversation,
            activity,
            id: id.clone(),
            body,
        });
    }
    let status = if how == "update" {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    (status, Json(json!({"id": id}))).into_response()
}

async fn send(
    State(state): State<Arc<BotState>>,
    headers: HeaderMap,
    Path(conversation): Path<String>,
    body: Bytes,
) -> Response {
    record(&state, &headers, "send", conversation, None, &body)
}

async fn reply(
    State(state): State<Arc<BotState>>,
    headers: HeaderMap,
    Path((conversation, activity)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    record(
        &state,
        &headers,
        "reply",
        conversation,
        Some(activity),
        &body,
    )
}

async fn update(
    State(state): State<Arc<BotState>>,
    headers: HeaderMap,
    Path((conversation, activity)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    record(
        &state,
        &headers,
        "update",
        conversation,
        Some(activity),
        &body,
    )
}

/// `POST /v3/conversations`: a personal chat with one member (recorded as `how: "create"`).
async fn create_conversation(
    State(state): State<Arc<BotState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !authorised(&state, &headers) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"message": "Authorization has been denied for this request."})),
        )
            .into_response();
    }
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return (StatusCode::BAD_REQUEST, Json(json!({"error": {"code": "BadArgument", "message": "The request body is not valid."}}))).into_response();
    };
    if body["members"].as_array().is_none_or(|m| m.len() != 1)
        || body["bot"]["id"].as_str().is_none()
    {
        return (StatusCode::BAD_REQUEST, Json(json!({"error": {"code": "BadArgument", "message": "A personal chat needs the bot and exactly one member."}}))).into_response();
    }
    let id = format!("a:{}", uuid::Uuid::new_v4().simple());
    if let Ok(mut sent) = state.sent.lock() {
        sent.push(SentActivity {
            how: "create",
            conversation: id.clone(),
            activity: None,
            id: id.clone(),
            body,
        });
    }
    (StatusCode::CREATED, Json(json!({"id": id}))).into_response()
}
