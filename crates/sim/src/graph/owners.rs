//! Group owners (`/groups/{id}/owners`, `owners/$ref`): owners manage a group's members and, for
//! a Microsoft 365 group, its team and site.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};

use super::Query;
use crate::SimState;
use crate::auth::{authenticate, scopes};
use crate::error::GraphError;
use crate::odata::CollectionQuery;

pub(crate) async fn list(
    State(state): State<Arc<SimState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    query: Query,
) -> Result<Json<Value>, GraphError> {
    let tenant = state.tenant.lock().await;
    let caller = authenticate(&state, &tenant, &headers)?;
    caller.require_scope(scopes::GROUP_OWNERS_READ)?;
    let group = tenant
        .group(&id)
        .ok_or_else(|| GraphError::not_found(&id))?;
    let q = CollectionQuery::from_params(&query.0, 999)?;
    let mut items = Vec::new();
    for owner in &group.owners {
        if let Some(user) = tenant.user(owner) {
            let mut view = super::users::user_view(user, q.select.as_deref())?;
            view["@odata.type"] = json!("#microsoft.graph.user");
            items.push(view);
        }
    }
    Ok(Json(q.page(
        items,
        100,
        state.base(),
        &format!("/v1.0/groups/{id}/owners"),
        "directoryObjects",
    )))
}

/// `POST /groups/{id}/owners/$ref` with `{"@odata.id": ".../directoryObjects/{user-id}"}`.
pub(crate) async fn add(
    State(state): State<Arc<SimState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> Result<StatusCode, GraphError> {
    let mut tenant = state.tenant.lock().await;
    let caller = authenticate(&state, &tenant, &headers)?;
    caller.require_scope(scopes::GROUP_OWNERS_WRITE)?;
    let owner_id = super::groups::referenced_id(&body)
        .ok_or_else(|| GraphError::bad_request("Invalid object identifier ''."))?;
    let group = super::groups::changeable(&tenant, &caller, &id)?;
    let user = tenant
        .user(&owner_id)
        .ok_or_else(|| GraphError::not_found(&owner_id))?;
    let target = user.audit_target(&["Group.Owners"]);
    let user_id = user.id().to_owned();
    if group.owners.contains(&user_id) {
        return Err(GraphError::bad_request(
            "One or more added object references already exist for the following modified properties: 'owners'.",
        ));
    }
    if let Some(group) = tenant.group_mut(&id) {
        group.owners.push(user_id);
    }
    super::record_directory_audit(
        &mut tenant,
        &caller,
        "GroupManagement",
        "Add owner to group",
        target,
    );
    Ok(StatusCode::NO_CONTENT)
}

pub(crate) async fn remove(
    State(state): State<Arc<SimState>>,
    headers: HeaderMap,
    Path((id, owner)): Path<(String, String)>,
) -> Result<StatusCode, GraphError> {
    let mut tenant = state.tenant.lock().await;
    let caller = authenticate(&state, &tenant, &headers)?;
    caller.require_scope(scopes::GROUP_OWNERS_WRITE)?;
    let group = super::groups::changeable(&tenant, &caller, &id)?;
    if !group.owners.contains(&owner) {
        return Err(GraphError::not_found(&owner));
    }
    let target = tenant
        .user(&owner)
        .map(|u| u.audit_target(&["Group.Owners"]))
        .unwrap_or(Value::Null);
    if let Some(group) = tenant.group_mut(&id) {
        group.owners.retain(|o| *o != owner);
    }
    super::record_directory_audit(
        &mut tenant,
        &caller,
        "GroupManagement",
        "Remove owner from group",
        target,
    );
    Ok(StatusCode::NO_CONTENT)
}
