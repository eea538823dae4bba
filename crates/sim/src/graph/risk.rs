//! Identity Protection's risky users: list and read them, confirm one compromised, dismiss their
//! risk (`/identityProtection/riskyUsers`).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use chrono::Utc;
use serde_json::{Value, json};

use crate::SimState;
use crate::auth::{authenticate, scopes};
use crate::error::GraphError;
use crate::roles::may_manage_risk;

pub(crate) async fn list(
    State(state): State<Arc<SimState>>,
    headers: HeaderMap,
) -> Result<Json<Value>, GraphError> {
    let tenant = state.tenant.lock().await;
    let caller = authenticate(&state, &tenant, &headers)?;
    caller.require_scope(scopes::RISK_READ)?;
    Ok(Json(json!({
        "@odata.context": format!("{}/v1.0/$metadata#identityProtection/riskyUsers", state.base()),
        "value": tenant.risky_users,
    })))
}

pub(crate) async fn get_one(
    State(state): State<Arc<SimState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, GraphError> {
    let tenant = state.tenant.lock().await;
    let caller = authenticate(&state, &tenant, &headers)?;
    caller.require_scope(scopes::RISK_READ)?;
    tenant
        .risky_users
        .iter()
        .find(|r| r["id"] == id.as_str())
        .cloned()
        .map(Json)
        .ok_or_else(|| GraphError::not_found(&id))
}

/// Sets every listed user's risk; a user Identity Protection never flagged is added, as Graph
/// does when an admin confirms a compromise.
async fn set_risk(
    state: &SimState,
    headers: &HeaderMap,
    body: &Value,
    level: &str,
    risk_state: &str,
    detail: &str,
    activity: &str,
) -> Result<StatusCode, GraphError> {
    let mut tenant = state.tenant.lock().await;
    let caller = authenticate(state, &tenant, headers)?;
    caller.require_scope(scopes::RISK_WRITE)?;
    if !may_manage_risk(&caller.roles) {
        return Err(GraphError::denied());
    }
    let ids: Vec<String> = body["userIds"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect();
    if ids.is_empty() {
        return Err(GraphError::bad_request(
            "userIds must name at least one user.",
        ));
    }
    let now = Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    for id in &ids {
        let user = tenant.user(id).ok_or_else(|| GraphError::not_found(id))?;
        let (uid, upn, name) = (
            user.id().to_owned(),
            user.upn().to_owned(),
            user.display_name().to_owned(),
        );
        let target = user.audit_target(&[]);
        let entry = json!({
            "id": uid, "isDeleted": false, "isProcessing": false, "riskLevel": level,
            "riskState": risk_state, "riskDetail": detail, "riskLastUpdatedDateTime": now,
            "userDisplayName": name, "userPrincipalName": upn,
        });
        match tenant
            .risky_users
            .iter_mut()
            .find(|r| r["id"] == uid.as_str())
        {
            Some(existing) => *existing = entry,
            None => tenant.risky_users.push(entry),
        }
        super::record_directory_audit(&mut tenant, &caller, "IdentityProtection", activity, target);
    }
    Ok(StatusCode::NO_CONTENT)
}

pub(crate) async fn confirm_compromised(
    State(state): State<Arc<SimState>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Result<StatusCode, GraphError> {
    set_risk(
        &state,
        &headers,
        &body,
        "high",
        "confirmedCompromised",
        "adminConfirmedUserCompromised",
        "ConfirmAccountCompromised",
    )
    .await
}

pub(crate) async fn dismiss(
    State(state): State<Arc<SimState>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Result<StatusCode, GraphError> {
    set_risk(
        &state,
        &headers,
        &body,
        "none",
        "dismissed",
        "adminDismissedAllRiskForUser",
        "DismissUser",
    )
    .await
}
