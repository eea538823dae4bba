use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde_json::{Map, Value, json};

use super::Query;
use super::properties::USER_PROPERTIES;
use crate::SimState;
use crate::auth::{authenticate, scopes};
use crate::error::GraphError;
use crate::odata::{CollectionQuery, Filter, select};
use crate::roles::{
    TargetFacts, may_do_sensitive, may_reset_password, may_update_profile, role_template_id,
};
use crate::state::{Tenant, User};

const DEFAULT_PROPS: &[&str] = &[
    "businessPhones",
    "displayName",
    "givenName",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
    "id",
];
const FILTERABLE: &[&str] = &[
    "id",
    "userPrincipalName",
    "mail",
    "displayName",
    "givenName",
    "surname",
    "department",
    "jobTitle",
    "accountEnabled",
    "employeeId",
    "mailNickname",
    "userType",
    "usageLocation",
];
/// Properties whose change is a "sensitive action" in Entra.
const SENSITIVE: &[&str] = &[
    "accountEnabled",
    "businessPhones",
    "mobilePhone",
    "otherMails",
    "passwordProfile",
    "userPrincipalName",
    "onPremisesImmutableId",
];

pub(crate) fn facts<'a>(tenant: &Tenant, user: &'a User) -> TargetFacts<'a> {
    TargetFacts {
        roles: &user.sim.roles,
        in_role_assignable_group: tenant.in_role_assignable_group(user.id()),
    }
}

pub(crate) fn user_view(user: &User, selected: Option<&str>) -> Result<Value, GraphError> {
    let mut view = select(
        &user.props,
        selected,
        DEFAULT_PROPS,
        USER_PROPERTIES,
        "microsoft.graph.user",
    )?;
    if let Some(map) = view.as_object_mut() {
        // Graph never returns a password, whatever is selected.
        if map.contains_key("passwordProfile") {
            map.insert("passwordProfile".into(), Value::Null);
        }
    }
    Ok(view)
}

pub(crate) async fn list(
    State(state): State<Arc<SimState>>,
    headers: HeaderMap,
    query: Query,
) -> Result<Json<Value>, GraphError> {
    let tenant = state.tenant.lock().await;
    let caller = authenticate(&state, &tenant, &headers)?;
    caller.require_scope(scopes::USER_READ)?;
    let q = CollectionQuery::from_params(&query.0, 999)?;
    let filter = q
        .filter
        .as_deref()
        .map(|f| Filter::parse(f, FILTERABLE, "User"))
        .transpose()?;
    let mut items = Vec::new();
    for user in &tenant.users {
        let full = Value::Object(user.props.clone());
        if filter.as_ref().is_none_or(|f| f.matches(&full)) {
            items.push(user_view(user, q.select.as_deref())?);
        }
    }
    Ok(Json(q.page(
        items,
        100,
        state.base(),
        "/v1.0/users",
        "users",
    )))
}

pub(crate) async fn get_one(
    State(state): State<Arc<SimState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    query: Query,
) -> Result<Json<Value>, GraphError> {
    let tenant = state.tenant.lock().await;
    let caller = authenticate(&state, &tenant, &headers)?;
    caller.require_scope(scopes::USER_READ)?;
    let user = tenant.user(&id).ok_or_else(|| GraphError::not_found(&id))?;
    let view = user_view(user, query.0.get("$select").map(String::as_str))?;
    Ok(super::single_entity(view, &state, "users", None))
}

/// `GET /me`: the signed-in user (who a delegated token acts as).
pub(crate) async fn me(
    State(state): State<Arc<SimState>>,
    headers: HeaderMap,
    query: Query,
) -> Result<Json<Value>, GraphError> {
    let tenant = state.tenant.lock().await;
    let caller = authenticate(&state, &tenant, &headers)?;
    caller.require_scope(scopes::ME_READ)?;
    let user = tenant
        .user(&caller.oid)
        .ok_or_else(|| GraphError::not_found(&caller.oid))?;
    let view = user_view(user, query.0.get("$select").map(String::as_str))?;
    Ok(super::single_entity(view, &state, "users", None))
}

/// `GET /users/{id}/manager`: the manager as a directory object; 404 when none is set, as Graph
/// answers.
pub(crate) async fn manager(
    State(state): State<Arc<SimState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    query: Query,
) -> Result<Json<Value>, GraphError> {
    let tenant = state.tenant.lock().await;
    let caller = authenticate(&state, &tenant, &headers)?;
    caller.require_scope(scopes::USER_READ)?;
    let user = tenant.user(&id).ok_or_else(|| GraphError::not_found(&id))?;
    let manager = user
        .manager
        .as_deref()
        .and_then(|m| tenant.user(m))
        .ok_or_else(|| GraphError::not_found("manager"))?;
    let view = user_view(manager, query.0.get("$select").map(String::as_str))?;
    Ok(super::single_entity(
        view,
        &state,
        "directoryObjects",
        Some("#microsoft.graph.user"),
    ))
}

pub(crate) async fn update(
    State(state): State<Arc<SimState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> Result<StatusCode, GraphError> {
    let mut tenant = state.tenant.lock().await;
    let caller = authenticate(&state, &tenant, &headers)?;
    let changes = body
        .as_object()
        .cloned()
        .ok_or_else(|| GraphError::bad_request("Empty Payload. JSON content expected."))?;
    for key in changes.keys() {
        if !USER_PROPERTIES.contains(&key.as_str()) {
            return Err(GraphError::bad_request(format!(
                "Property '{key}' does not exist on type 'microsoft.graph.user'. Make sure to only use property names that are defined by the type."
            )));
        }
        if [
            "id",
            "createdDateTime",
            "lastPasswordChangeDateTime",
            "signInSessionsValidFromDateTime",
        ]
        .contains(&key.as_str())
        {
            return Err(GraphError::bad_request(format!(
                "Property '{key}' is read-only and cannot be set."
            )));
        }
    }
    let user = tenant.user(&id).ok_or_else(|| GraphError::not_found(&id))?;
    let target_facts = facts(&tenant, user);
    let sensitive = changes.keys().any(|k| SENSITIVE.contains(&k.as_str()));
    if changes.contains_key("accountEnabled") {
        caller.require_scope(scopes::USER_ENABLE)?;
    } else {
        caller.require_scope(scopes::USER_WRITE)?;
    }
    let allowed = if sensitive {
        may_do_sensitive(&caller.roles, &target_facts)
    } else {
        may_update_profile(&caller.roles, &target_facts)
    };
    if !allowed {
        return Err(GraphError::denied());
    }
    if let Some(v) = changes.get("accountEnabled")
        && !v.is_boolean()
    {
        return Err(GraphError::bad_request(
            "Invalid value specified for property 'accountEnabled' of resource 'User'.",
        ));
    }
    let user_id = user.id().to_owned();
    let upn = user.upn().to_owned();
    let display_name = user.display_name().to_owned();
    let mut modified = Vec::new();
    if let Some(user) = tenant.user_mut(&user_id) {
        for (key, value) in &changes {
            let old = user.props.get(key).cloned().unwrap_or(Value::Null);
            modified.push(json!({"displayName": key, "oldValue": old.to_string(), "newValue": value.to_string()}));
            user.props.insert(key.clone(), value.clone());
        }
    }
    let activity = match changes.get("accountEnabled").and_then(Value::as_bool) {
        Some(true) if changes.len() == 1 => "Enable account",
        Some(false) if changes.len() == 1 => "Disable account",
        _ => "Update user",
    };
    super::record_directory_audit(
        &mut tenant,
        &caller,
        "UserManagement",
        activity,
        json!({"id": user_id, "displayName": display_name, "type": "User", "userPrincipalName": upn, "modifiedProperties": modified}),
    );
    Ok(StatusCode::NO_CONTENT)
}

pub(crate) async fn member_of(
    State(state): State<Arc<SimState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    query: Query,
) -> Result<Json<Value>, GraphError> {
    let tenant = state.tenant.lock().await;
    let caller = authenticate(&state, &tenant, &headers)?;
    caller.require_scope(&[scopes::USER_READ, scopes::GROUP_READ].concat())?;
    let user = tenant.user(&id).ok_or_else(|| GraphError::not_found(&id))?;
    let q = CollectionQuery::from_params(&query.0, 999)?;
    let mut items = Vec::new();
    for group in tenant
        .groups
        .iter()
        .filter(|g| g.members.iter().any(|m| m == user.id()))
    {
        let mut view = super::groups::group_view(&group.props, None)?;
        if let Some(map) = view.as_object_mut() {
            map.insert("@odata.type".into(), json!("#microsoft.graph.group"));
        }
        items.push(view);
    }
    for role in &user.sim.roles {
        let template = role_template_id(role);
        let mut map = Map::new();
        map.insert(
            "@odata.type".into(),
            json!("#microsoft.graph.directoryRole"),
        );
        map.insert(
            "id".into(),
            json!(
                uuid::Uuid::new_v5(
                    &uuid::Uuid::NAMESPACE_OID,
                    format!("{}:{template}", tenant.tenant_id).as_bytes()
                )
                .to_string()
            ),
        );
        map.insert("displayName".into(), json!(role));
        map.insert("roleTemplateId".into(), json!(template));
        items.push(Value::Object(map));
    }
    Ok(Json(q.page(
        items,
        100,
        state.base(),
        &format!("/v1.0/users/{id}/memberOf"),
        "directoryObjects",
    )))
}

pub(crate) async fn revoke_sessions(
    State(state): State<Arc<SimState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, GraphError> {
    let mut tenant = state.tenant.lock().await;
    let caller = authenticate(&state, &tenant, &headers)?;
    caller.require_scope(scopes::REVOKE)?;
    let user = tenant.user(&id).ok_or_else(|| GraphError::not_found(&id))?;
    if user.id() != caller.oid && !may_reset_password(&caller.roles, &facts(&tenant, user)) {
        return Err(GraphError::denied());
    }
    let user_id = user.id().to_owned();
    let target = user.audit_target(&[]);
    let now = Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    if let Some(user) = tenant.user_mut(&user_id) {
        user.props
            .insert("signInSessionsValidFromDateTime".into(), json!(now));
    }
    state
        .refresh_tokens
        .lock()
        .await
        .retain(|_, (oid, _)| *oid != user_id);
    super::record_directory_audit(
        &mut tenant,
        &caller,
        "UserManagement",
        "Invalidate all refresh tokens for user",
        target,
    );
    Ok(Json(json!({"@odata.context": format!("{}/v1.0/$metadata#Edm.Boolean", state.base()), "value": true})).into_response())
}
