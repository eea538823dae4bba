//! The escalation queue over REST: `GET /api/v1/escalations` (open ones; `?status=all` for every
//! one) and `GET /api/v1/escalations/{id}`, each with its whole hand-over bundle.

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use serde_json::{Value, json};
use steward_store::EscalationRow;

use crate::{ApiError, AppState};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct EscalationQuery {
    tenant: Option<String>,
    status: Option<String>,
}

fn view(r: EscalationRow) -> Value {
    json!({"id": r.id, "status": r.status, "requester": r.requester, "conversationId": r.conversation,
           "createdAt": r.created_at, "closedAt": r.closed.as_ref().map(|c| c.0.clone()),
           "closedBy": r.closed.map(|c| c.1), "ticket": r.ticket, "bundle": r.bundle})
}

pub(crate) async fn list(
    State(state): State<AppState>,
    Query(q): Query<EscalationQuery>,
) -> Result<Json<Value>, ApiError> {
    let runtime = state.tenant(q.tenant.as_deref())?;
    let only_open = match q.status.as_deref() {
        None | Some("open") => true,
        Some("all") => false,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "status must be `open` or `all`, not `{other}`"
            )));
        }
    };
    let rows = runtime.store.escalations(only_open).await?;
    Ok(Json(
        json!({"escalations": rows.into_iter().map(view).collect::<Vec<_>>()}),
    ))
}

pub(crate) async fn show(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<EscalationQuery>,
) -> Result<Json<Value>, ApiError> {
    let runtime = state.tenant(q.tenant.as_deref())?;
    Ok(Json(view(runtime.store.escalation(&id).await?)))
}
