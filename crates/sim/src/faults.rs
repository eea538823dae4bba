//! Faults injected by tests through `POST /_sim/faults`: the simulator answers the next N
//! matching requests with a throttling error, the way Graph does under load, or holds them
//! (`delayMs`) before or after doing what they ask, so a test can stop Steward mid-call.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use std::sync::Arc;

use crate::SimState;
use crate::error::GraphError;

/// A pending fault: answer `count` requests whose path contains `path_contains` with `status`,
/// or, with `delay_ms`, hold them that long (before the change is made, or after it when
/// `delay_after` is set) and then answer normally.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Fault {
    pub path_contains: String,
    #[serde(default)]
    pub method: Option<String>,
    #[serde(default)]
    pub status: u16,
    pub count: u32,
    #[serde(default = "one")]
    pub retry_after: u64,
    #[serde(default)]
    pub delay_ms: Option<u64>,
    #[serde(default)]
    pub delay_after: bool,
}

/// What the simulator does with a request a fault matched.
pub(crate) enum Injected {
    /// Answer with this error instead.
    Error(GraphError),
    /// Hold the request this long, before (or after) handling it.
    Delay {
        by: std::time::Duration,
        after: bool,
    },
}

fn one() -> u64 {
    1
}

#[derive(Debug, Default)]
pub(crate) struct Faults {
    pending: Vec<Fault>,
    pub served: u32,
}

impl Faults {
    /// Takes one matching fault, if any, and returns what to do instead of (or around) the
    /// request.
    pub fn take(&mut self, method: &str, path: &str) -> Option<Injected> {
        let index = self.pending.iter().position(|f| {
            f.count > 0
                && path.contains(&f.path_contains)
                && f.method
                    .as_deref()
                    .is_none_or(|m| m.eq_ignore_ascii_case(method))
        })?;
        let fault = self.pending.get_mut(index)?;
        fault.count -= 1;
        self.served += 1;
        if let Some(ms) = fault.delay_ms {
            return Some(Injected::Delay {
                by: std::time::Duration::from_millis(ms),
                after: fault.delay_after,
            });
        }
        let status = StatusCode::from_u16(fault.status).unwrap_or(StatusCode::TOO_MANY_REQUESTS);
        let (code, message) = if status == StatusCode::TOO_MANY_REQUESTS {
            ("TooManyRequests", "Too many requests.")
        } else {
            (
                "serviceNotAvailable",
                "The service is temporarily unavailable.",
            )
        };
        let mut error = GraphError::new(status, code, message);
        error.retry_after = Some(fault.retry_after);
        Some(Injected::Error(error))
    }
}

pub(crate) async fn add_fault(
    State(state): State<Arc<SimState>>,
    Json(fault): Json<Fault>,
) -> StatusCode {
    state.faults.lock().await.pending.push(fault);
    StatusCode::NO_CONTENT
}

pub(crate) async fn fault_stats(State(state): State<Arc<SimState>>) -> Json<serde_json::Value> {
    let served = state.faults.lock().await.served;
    Json(serde_json::json!({"served": served}))
}

/// One change request as the simulator received it: what a test reads to check that an action
/// was not done twice (Graph's own logs would show the same).
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoggedRequest {
    /// The HTTP method.
    pub method: String,
    /// The path.
    pub path: String,
    /// The caller's `client-request-id` header (Steward sends its idempotency key there).
    pub client_request_id: Option<String>,
    /// The status answered (0 when the caller went away before the request was handled).
    pub status: u16,
}

pub(crate) async fn request_log(State(state): State<Arc<SimState>>) -> Json<serde_json::Value> {
    let log = state.requests.lock().await.clone();
    Json(serde_json::json!({"value": log}))
}
