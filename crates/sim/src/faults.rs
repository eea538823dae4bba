//! Faults injected by tests through `POST /_sim/faults`: the simulator answers the next N
//! matching requests with a throttling error, the way Graph does under load.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use std::sync::Arc;

use crate::SimState;
use crate::error::GraphError;

/// A pending fault: answer `count` requests whose path contains `path_contains` with `status`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Fault {
    pub path_contains: String,
    #[serde(default)]
    pub method: Option<String>,
    pub status: u16,
    pub count: u32,
    #[serde(default = "one")]
    pub retry_after: u64,
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
    /// Takes one matching fault, if any, and returns the error to answer with.
    pub fn take(&mut self, method: &str, path: &str) -> Option<GraphError> {
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
        Some(error)
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
