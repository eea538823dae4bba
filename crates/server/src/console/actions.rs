//! The console's "run action" form (IT admins): the catalog to choose from, and one action run
//! by hand — through the gateway, so it is decided by policy, approved, audited and verified
//! like anything a reasoner proposes. An imported integration appears here once accepted.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use steward_agent::GatewayOutcome;
use steward_domain::Channel;

use super::{admin, problem};
use crate::AppState;

/// `GET /console/api/actions`: every action offered, with its schema (IT admins).
pub(crate) async fn list(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let (runtime, _) = match admin(&state, &headers, false).await {
        Ok(c) => c,
        Err(r) => return r.into_response(),
    };
    let actions: Vec<Value> = runtime
        .catalog()
        .into_iter()
        .map(|s| {
            json!({"name": s.name, "summary": s.summary, "mutating": s.mutating,
                   "risk": s.risk, "schema": s.params_schema})
        })
        .collect();
    Json(json!({"actions": actions})).into_response()
}

/// What the form sends.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RunBody {
    action: String,
    #[serde(default = "empty_object")]
    params: Value,
}

fn empty_object() -> Value {
    json!({})
}

/// `POST /console/api/actions/run`: runs one action as the signed-in IT admin.
pub(crate) async fn run(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(body): Json<RunBody>,
) -> Response {
    let (runtime, session) = match admin(&state, &headers, true).await {
        Ok(c) => c,
        Err(r) => return r.into_response(),
    };
    let outcome = match runtime
        .run_action(&session.upn, Channel::Web, &body.action, body.params)
        .await
    {
        Ok(o) => o,
        Err(e) => return problem(StatusCode::BAD_REQUEST, &e.to_string()),
    };
    let answer = match outcome {
        GatewayOutcome::Done {
            result,
            decision,
            verification,
            audit_ids,
            ..
        } => json!({"status": "done", "summary": result.summary,
                    "output": steward_audit::redact(&result.output),
                    "decision": decision, "verification": verification, "auditIds": audit_ids}),
        GatewayOutcome::Denied {
            decision,
            audit_ids,
            ..
        } => {
            json!({"status": "denied", "reason": decision.reason, "decision": decision, "auditIds": audit_ids})
        }
        GatewayOutcome::NeedsApproval {
            approval_id,
            decision,
            audit_ids,
            ..
        } => json!({"status": "awaitingApproval", "approvalId": approval_id.to_string(),
                    "decision": decision, "auditIds": audit_ids}),
        GatewayOutcome::Failed {
            error,
            decision,
            audit_ids,
            ..
        } => {
            json!({"status": "failed", "error": error, "decision": decision, "auditIds": audit_ids})
        }
    };
    Json(answer).into_response()
}
