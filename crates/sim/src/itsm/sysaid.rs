//! SysAid's REST API: login (a `JSESSIONID` cookie; two logins per five minutes, then 429) and
//! service records as `{"id", "info": [{"key", "value", ...}]}`.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::ItsmState;

/// Logins allowed (per five minutes; the simulator's life is shorter than that).
const LOGINS_ALLOWED: u32 = 2;

pub(super) fn routes() -> Router<Arc<ItsmState>> {
    Router::new()
        .route("/api/v1/login", post(login))
        .route("/api/v1/sr", post(create))
        .route("/api/v1/sr/{id}", get(read))
}

fn error(status: StatusCode, message: &str) -> Response {
    (
        status,
        Json(json!({"status": status.as_u16().to_string(), "message": message})),
    )
        .into_response()
}

async fn login(State(state): State<Arc<ItsmState>>, body: Bytes) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if state.with(|r| r.logins) >= LOGINS_ALLOWED {
        return error(StatusCode::TOO_MANY_REQUESTS, "Too many login requests");
    }
    if body["user_name"].as_str() != Some(state.account.user.as_str())
        || body["password"].as_str() != Some(state.account.secret.as_str())
    {
        return error(StatusCode::UNAUTHORIZED, "Login failed");
    }
    let session = state.with(|r| {
        r.logins += 1;
        let session = format!("{:032X}", 0xA1_u128 << 100 | u128::from(r.logins));
        r.sessions.push(session.clone());
        session
    });
    let mut response = Json(json!({
        "language": "en",
        "sysaid_version": "24.1",
        "user": {"id": "2", "name": state.account.user, "info": [{"key": "display_name", "value": "Steward"}]},
    }))
    .into_response();
    if let Ok(cookie) = HeaderValue::from_str(&format!("JSESSIONID={session}; Path=/; HttpOnly")) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}

fn session_ok(state: &ItsmState, headers: &HeaderMap) -> bool {
    let sessions = state.with(|r| r.sessions.clone());
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().strip_prefix("JSESSIONID="))
        .any(|s| sessions.iter().any(|known| known == s))
}

async fn create(State(state): State<Arc<ItsmState>>, headers: HeaderMap, body: Bytes) -> Response {
    if !session_ok(&state, &headers) {
        return error(StatusCode::UNAUTHORIZED, "Unauthorized");
    }
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return error(StatusCode::BAD_REQUEST, "Invalid request body");
    };
    let Some(info) = body["info"].as_array() else {
        return error(StatusCode::BAD_REQUEST, "The info array is missing");
    };
    let value = |key: &str| {
        info.iter()
            .find(|i| i["key"] == key)
            .map(|i| i["value"].clone())
    };
    if value("title")
        .and_then(|t| t.as_str().map(str::to_owned))
        .is_none_or(|t| t.trim().is_empty())
    {
        return error(StatusCode::BAD_REQUEST, "The field title is mandatory");
    }
    let record = state.with(|r| {
        let id = (100 + r.service_records.len() + 1).to_string();
        let mut fields: Vec<Value> = info
            .iter()
            .filter(|i| i["key"].is_string())
            .map(|i| json!({"key": i["key"], "value": i["value"], "keyCaption": i["key"], "valueCaption": i["value"]}))
            .collect();
        fields.push(json!({"key": "sr_type", "value": 1, "keyCaption": "Service Record Type", "valueCaption": "Incident"}));
        fields.push(json!({"key": "status", "value": 1, "keyCaption": "Status", "valueCaption": "New"}));
        let record = json!({"id": id, "info": fields});
        r.service_records.push(record.clone());
        record
    });
    Json(record).into_response()
}

async fn read(
    State(state): State<Arc<ItsmState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if !session_ok(&state, &headers) {
        return error(StatusCode::UNAUTHORIZED, "Unauthorized");
    }
    match state.with(|r| {
        r.service_records
            .iter()
            .find(|s| s["id"] == id.as_str())
            .cloned()
    }) {
        Some(record) => Json(record).into_response(),
        None => error(StatusCode::NOT_FOUND, "Invalid service record id"),
    }
}
