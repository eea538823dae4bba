//! ServiceNow Table API on the incident table: create (201, `Location`) and read, with its
//! `{"error": {...}, "status": "failure"}` errors. Fields the table does not have are ignored,
//! as ServiceNow ignores them.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Map, Value, json};

use super::ItsmState;

/// Incident fields kept when sent (a subset of the table's columns).
const FIELDS: &[&str] = &[
    "short_description",
    "description",
    "correlation_id",
    "correlation_display",
    "assignment_group",
    "caller_id",
    "category",
    "urgency",
    "impact",
    "contact_type",
];

pub(super) fn routes() -> Router<Arc<ItsmState>> {
    Router::new()
        .route("/api/now/table/incident", post(create))
        .route("/api/now/table/incident/{sys_id}", get(read))
}

fn error(status: StatusCode, message: &str, detail: &str) -> Response {
    (
        status,
        Json(json!({"error": {"message": message, "detail": detail}, "status": "failure"})),
    )
        .into_response()
}

fn unauthenticated() -> Response {
    error(
        StatusCode::UNAUTHORIZED,
        "User Not Authenticated",
        "Required to provide Auth information",
    )
}

async fn create(State(state): State<Arc<ItsmState>>, headers: HeaderMap, body: Bytes) -> Response {
    if !state.basic_ok(&headers) {
        return unauthenticated();
    }
    let Ok(Value::Object(sent)) = serde_json::from_slice::<Value>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "Exception while reading request",
            "The payload is not valid JSON.",
        );
    };
    let base = state.base_url.clone();
    let record = state.with(|r| {
        let n = r.incidents.len() + 1;
        let sys_id = format!("{:032x}", 0x5e_u128 << 120 | n as u128);
        let mut record: Map<String, Value> = sent
            .into_iter()
            .filter(|(k, _)| FIELDS.contains(&k.as_str()))
            .map(|(k, v)| {
                (
                    k,
                    Value::String(v.as_str().map_or_else(|| v.to_string(), str::to_owned)),
                )
            })
            .collect();
        record.insert("sys_id".into(), json!(sys_id));
        record.insert("number".into(), json!(format!("INC{:07}", 10_000 + n)));
        record.insert("state".into(), json!("1"));
        record.insert("sys_created_by".into(), json!(state.account.user));
        let record = Value::Object(record);
        r.incidents.push(record.clone());
        record
    });
    let mut response = (StatusCode::CREATED, Json(json!({"result": record}))).into_response();
    if let Some(id) = record["sys_id"].as_str()
        && let Ok(location) = HeaderValue::from_str(&format!("{base}/api/now/table/incident/{id}"))
    {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

async fn read(
    State(state): State<Arc<ItsmState>>,
    headers: HeaderMap,
    Path(sys_id): Path<String>,
) -> Response {
    if !state.basic_ok(&headers) {
        return unauthenticated();
    }
    match state.with(|r| {
        r.incidents
            .iter()
            .find(|i| i["sys_id"] == sys_id.as_str())
            .cloned()
    }) {
        Some(record) => Json(json!({"result": record})).into_response(),
        None => error(
            StatusCode::NOT_FOUND,
            "No Record found",
            "Record doesn't exist or ACL restricts the record retrieval",
        ),
    }
}
