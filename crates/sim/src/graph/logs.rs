use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use serde_json::Value;

use super::Query;
use super::properties::{DIRECTORY_AUDIT_PROPERTIES, SIGN_IN_PROPERTIES};
use crate::SimState;
use crate::auth::{authenticate, scopes};
use crate::error::GraphError;
use crate::odata::{CollectionQuery, Filter, select};
use crate::roles::may_read_audit_logs;

const SIGN_IN_FILTERABLE: &[&str] = &[
    "id",
    "userPrincipalName",
    "userId",
    "userDisplayName",
    "createdDateTime",
    "status/errorCode",
    "appDisplayName",
    "appId",
    "ipAddress",
    "conditionalAccessStatus",
    "isInteractive",
];
const AUDIT_FILTERABLE: &[&str] = &[
    "activityDisplayName",
    "activityDateTime",
    "category",
    "result",
    "correlationId",
    "initiatedBy/user/id",
    "initiatedBy/user/userPrincipalName",
];

fn listing(
    items: &[Value],
    query: &Query,
    filterable: &[&str],
    known: &[&str],
    type_name: &str,
) -> Result<(CollectionQuery, Vec<Value>), GraphError> {
    let q = CollectionQuery::from_params(&query.0, 1000)?;
    let filter = q
        .filter
        .as_deref()
        .map(|f| Filter::parse(f, filterable, type_name))
        .transpose()?;
    let mut out = Vec::new();
    for item in items {
        if filter.as_ref().is_none_or(|f| f.matches(item)) {
            let view = match (&q.select, item.as_object()) {
                (Some(s), Some(map)) => select(map, Some(s), &[], known, type_name)?,
                _ => item.clone(),
            };
            out.push(view);
        }
    }
    Ok((q, out))
}

pub(crate) async fn sign_ins(
    State(state): State<Arc<SimState>>,
    headers: HeaderMap,
    query: Query,
) -> Result<Json<Value>, GraphError> {
    let tenant = state.tenant.lock().await;
    let caller = authenticate(&state, &tenant, &headers)?;
    caller.require_scope(scopes::AUDIT_READ)?;
    if !may_read_audit_logs(&caller.roles) {
        return Err(GraphError::denied());
    }
    let (q, items) = listing(
        &tenant.sign_ins,
        &query,
        SIGN_IN_FILTERABLE,
        SIGN_IN_PROPERTIES,
        "microsoft.graph.signIn",
    )?;
    Ok(Json(q.page(
        items,
        1000,
        state.base(),
        "/v1.0/auditLogs/signIns",
        "auditLogs/signIns",
    )))
}

pub(crate) async fn directory_audits(
    State(state): State<Arc<SimState>>,
    headers: HeaderMap,
    query: Query,
) -> Result<Json<Value>, GraphError> {
    let tenant = state.tenant.lock().await;
    let caller = authenticate(&state, &tenant, &headers)?;
    caller.require_scope(scopes::AUDIT_READ)?;
    if !may_read_audit_logs(&caller.roles) {
        return Err(GraphError::denied());
    }
    let (q, items) = listing(
        &tenant.directory_audits,
        &query,
        AUDIT_FILTERABLE,
        DIRECTORY_AUDIT_PROPERTIES,
        "microsoft.graph.directoryAudit",
    )?;
    Ok(Json(q.page(
        items,
        1000,
        state.base(),
        "/v1.0/auditLogs/directoryAudits",
        "auditLogs/directoryAudits",
    )))
}
