//! JSON batching (`POST /$batch`): up to 20 requests in one, each answered with its own status,
//! headers and body; `dependsOn` orders them, and a request whose dependency failed is answered
//! 424 without running. Each request goes through the same routes, checks and faults as if sent
//! alone, with the batch's own bearer token.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Request, StatusCode};
use serde_json::{Map, Value, json};
use tower::ServiceExt as _;

use crate::SimState;
use crate::error::GraphError;

const MAX_REQUESTS: usize = 20;
const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE"];

/// The batch checked whole before anything runs, as Graph does: ids unique, methods known, URLs
/// relative, dependencies naming earlier requests.
fn check(requests: &[Value]) -> Result<(), GraphError> {
    if requests.is_empty() {
        return Err(GraphError::bad_request("The batch has no requests."));
    }
    if requests.len() > MAX_REQUESTS {
        return Err(GraphError::bad_request(format!(
            "Number of batch request steps exceeds the maximum number of {MAX_REQUESTS}."
        )));
    }
    let mut seen: Vec<&str> = Vec::new();
    for r in requests {
        let id = r["id"]
            .as_str()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| GraphError::bad_request("Every batch request needs an id."))?;
        if seen.contains(&id) {
            return Err(GraphError::bad_request(format!(
                "Batch request ids must be unique; '{id}' repeats."
            )));
        }
        if !r["method"].as_str().is_some_and(|m| METHODS.contains(&m)) {
            return Err(GraphError::bad_request(format!(
                "Batch request '{id}' has an invalid method."
            )));
        }
        if !r["url"].as_str().is_some_and(|u| u.starts_with('/')) {
            return Err(GraphError::bad_request(format!(
                "Batch request '{id}' needs a relative url such as /users/{{id}}."
            )));
        }
        for dep in r["dependsOn"].as_array().into_iter().flatten() {
            if !dep.as_str().is_some_and(|d| seen.contains(&d)) {
                return Err(GraphError::bad_request(format!(
                    "Batch request '{id}' depends on '{dep}', which is not an earlier request."
                )));
            }
        }
        seen.push(id);
    }
    Ok(())
}

pub(crate) async fn batch(
    State(state): State<Arc<SimState>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Result<Json<Value>, GraphError> {
    let requests = body["requests"].as_array().cloned().unwrap_or_default();
    check(&requests)?;
    let router = crate::app::app(state.clone());
    let mut statuses: HashMap<String, u16> = HashMap::new();
    let mut responses = Vec::new();
    for r in &requests {
        let id = r["id"].as_str().unwrap_or_default().to_owned();
        let failed_dependency = r["dependsOn"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .any(|d| statuses.get(d).is_none_or(|s| *s >= 400));
        if failed_dependency {
            statuses.insert(id.clone(), 424);
            responses.push(json!({
                "id": id, "status": 424, "headers": {"Content-Type": "application/json"},
                "body": {"error": {"code": "FailedDependency", "message": "A request this one depends on failed."}},
            }));
            continue;
        }
        let method = r["method"].as_str().unwrap_or("GET");
        let url = r["url"].as_str().unwrap_or_default();
        let mut builder = Request::builder().method(method).uri(format!("/v1.0{url}"));
        if let Some(auth) = headers.get("authorization") {
            builder = builder.header("authorization", auth);
        }
        if let Some(cid) = headers.get("client-request-id") {
            builder = builder.header("client-request-id", cid);
        }
        for (k, v) in r["headers"].as_object().into_iter().flatten() {
            if let Some(v) = v.as_str() {
                builder = builder.header(k.as_str(), v);
            }
        }
        let payload = match r.get("body") {
            Some(b) if !b.is_null() => {
                builder = builder.header("content-type", "application/json");
                Body::from(b.to_string())
            }
            _ => Body::empty(),
        };
        let request = builder.body(payload).map_err(|e| {
            GraphError::bad_request(format!("Batch request '{id}' is malformed: {e}"))
        })?;
        let answer = router.clone().oneshot(request).await.map_err(|e| {
            GraphError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "generalException",
                e.to_string(),
            )
        })?;
        let status = answer.status().as_u16();
        let mut answer_headers = Map::new();
        for name in ["content-type", "location", "retry-after"] {
            if let Some(v) = answer.headers().get(name).and_then(|v| v.to_str().ok()) {
                let key = match name {
                    "content-type" => "Content-Type",
                    "location" => "Location",
                    _ => "Retry-After",
                };
                answer_headers.insert(key.into(), json!(v));
            }
        }
        let bytes = axum::body::to_bytes(answer.into_body(), 4 * 1024 * 1024)
            .await
            .unwrap_or_default();
        let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        statuses.insert(id.clone(), status);
        let mut entry = json!({"id": id, "status": status, "headers": answer_headers});
        if !body.is_null() {
            entry["body"] = body;
        }
        responses.push(entry);
    }
    Ok(Json(json!({"responses": responses})))
}
