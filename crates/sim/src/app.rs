//! The simulator's HTTP server: Graph under `/v1.0`, the token endpoint under
//! `/{tenant}/oauth2/v2.0/token`, and test controls under `/_sim`.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::Utc;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::error::GraphError;
use crate::faults::{Injected, LoggedRequest};
use crate::seed::SeedError;
use crate::state::{SimState, Tenant};

/// The router over a simulator state (tests can drive it in-process).
pub fn app(state: Arc<SimState>) -> Router {
    let graph = crate::graph::routes().layer(middleware::from_fn_with_state(
        state.clone(),
        graph_envelope,
    ));
    Router::new()
        .merge(graph)
        .route("/{tenant}/oauth2/v2.0/token", post(crate::auth::token))
        .route(
            "/{tenant}/oauth2/v2.0/authorize",
            get(crate::authorize::authorize_page).post(crate::authorize::authorize_submit),
        )
        .route(
            "/_sim/faults",
            post(crate::faults::add_fault)
                .get(crate::faults::fault_stats)
                .delete(crate::faults::clear_faults),
        )
        .route("/_sim/requests", get(crate::faults::request_log))
        .route("/_sim/health", get(|| async { "ok" }))
        .with_state(state)
}

/// Injected faults first; then every response gets a `request-id`, and framework rejections
/// (malformed JSON, unknown routes) are answered in Graph's error shape.
async fn graph_envelope(
    State(state): State<Arc<SimState>>,
    request: Request,
    next: Next,
) -> Response {
    let method = request.method().to_string();
    let path = request.uri().path().to_owned();
    let injected = state.faults.lock().await.take(&method, &path);
    let (mut delay_before, mut delay_after, mut drop_after) = (None, None, false);
    match injected {
        Some(Injected::Error(error)) => return error.into_response(),
        Some(Injected::Drop { after: false }) => return crate::faults::dropped_response(),
        Some(Injected::Drop { after: true }) => drop_after = true,
        Some(Injected::Delay { by, after: false }) => delay_before = Some(by),
        Some(Injected::Delay { by, after: true }) => delay_after = Some(by),
        None => {}
    }
    // Change requests are logged as they arrive and their status filled in when answered: a
    // caller that went away mid-request leaves status 0.
    let logged = if method == "GET" {
        None
    } else {
        let client_request_id = request
            .headers()
            .get("client-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let mut log = state.requests.lock().await;
        log.push(LoggedRequest {
            method: method.clone(),
            path: path.clone(),
            client_request_id,
            status: 0,
        });
        Some(log.len() - 1)
    };
    if let Some(by) = delay_before {
        tokio::time::sleep(by).await;
    }
    let response = next.run(request).await;
    if let Some(index) = logged
        && let Some(entry) = state.requests.lock().await.get_mut(index)
    {
        entry.status = response.status().as_u16();
    }
    if let Some(by) = delay_after {
        tokio::time::sleep(by).await;
    }
    if drop_after {
        return crate::faults::dropped_response();
    }
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let mut response = if (response.status().is_client_error()
        || response.status().is_server_error())
        && !is_json
    {
        let status = response.status();
        let code = match status {
            StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED => "BadRequest",
            _ => "Request_BadRequest",
        };
        let message = match status {
            StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED => format!("Resource not found for the segment '{path}'."),
            _ => "Write requests (excluding DELETE) must contain the Content-Type header declaration and a valid JSON body.".into(),
        };
        let status = if status == StatusCode::METHOD_NOT_ALLOWED {
            StatusCode::BAD_REQUEST
        } else {
            status
        };
        GraphError::new(status, code, message).into_response()
    } else {
        response
    };
    if !response.headers().contains_key("request-id")
        && let Ok(v) = HeaderValue::from_str(&uuid::Uuid::new_v4().to_string())
    {
        response.headers_mut().insert("request-id", v);
    }
    response
}

/// A simulator serving on loopback.
#[derive(Debug)]
pub struct RunningSim {
    /// `http://127.0.0.1:PORT` (Graph lives under `/v1.0`).
    pub base_url: String,
    /// The tenant's directory id.
    pub tenant_id: String,
    /// The tenant's default domain.
    pub domain: String,
    /// The shared state (for in-process inspection by tests of the simulator itself).
    pub state: Arc<SimState>,
    task: JoinHandle<()>,
}

impl RunningSim {
    /// Every change request received so far, in order (what `GET /_sim/requests` answers).
    pub async fn requests(&self) -> Vec<LoggedRequest> {
        self.state.requests.lock().await.clone()
    }

    /// The token endpoint URL.
    pub fn token_url(&self) -> String {
        format!("{}/{}/oauth2/v2.0/token", self.base_url, self.tenant_id)
    }
}

impl Drop for RunningSim {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Loads the seed and serves it on `127.0.0.1` on an ephemeral port (or `port` when given).
pub async fn start(seed: Value, port: Option<u16>) -> Result<RunningSim, SeedError> {
    let tenant = Tenant::from_seed(seed, Utc::now())?;
    let tenant_id = tenant.tenant_id().to_owned();
    let domain = tenant.domain().to_owned();
    let state = Arc::new(SimState::new(tenant));
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port.unwrap_or(0))))
        .await
        .map_err(|e| crate::seed::invalid(format!("cannot listen on loopback: {e}")))?;
    let addr = listener
        .local_addr()
        .map_err(|e| crate::seed::invalid(format!("no local address: {e}")))?;
    let base_url = format!("http://{addr}");
    let _ = state.base_url.set(base_url.clone());
    let router = app(state.clone());
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router).await {
            tracing::error!(error = %e, "simulator stopped");
        }
    });
    Ok(RunningSim {
        base_url,
        tenant_id,
        domain,
        state,
        task,
    })
}
