//! Faults injected by tests through `POST /_sim/faults`: the simulator answers the next N
//! matching requests (or, with `rate`, that share of them) with a throttling or unavailable
//! error the way Graph does under load, holds them (`delayMs`) before or after doing what they
//! ask, or drops the connection (`drop`, `dropAfter`: the change made and its answer lost).

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
    /// Drop the connection instead of answering: before the request is handled, or (with
    /// `dropAfter`) after it was, so the change is made and its answer lost.
    #[serde(default)]
    pub drop: bool,
    #[serde(default)]
    pub drop_after: bool,
    /// The chance (0–1) that a matching request gets this fault; without it, every matching
    /// request does until `count` is spent.
    #[serde(default)]
    pub rate: Option<f64>,
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
    /// Break the connection without a complete answer, before (or after) handling it.
    Drop { after: bool },
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
                && f.rate.is_none_or(|r| rand::random::<f64>() < r)
        })?;
        let fault = self.pending.get_mut(index)?;
        fault.count -= 1;
        self.served += 1;
        if fault.drop {
            return Some(Injected::Drop {
                after: fault.drop_after,
            });
        }
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

/// `DELETE /_sim/faults`: the pending faults are dropped (what was served stays counted).
pub(crate) async fn clear_faults(State(state): State<Arc<SimState>>) -> StatusCode {
    state.faults.lock().await.pending.clear();
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

/// A response whose body breaks off: the caller sees the connection end mid-answer, as when a
/// proxy or the network drops it.
pub(crate) fn dropped_response() -> axum::response::Response {
    let broken = futures_util::stream::once(async {
        Err::<axum::body::Bytes, std::io::Error>(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "connection dropped by an injected fault",
        ))
    });
    axum::response::Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/json")
        .body(axum::body::Body::from_stream(broken))
        .unwrap_or_default()
}
