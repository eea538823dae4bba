use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Map, Value, json};

use super::Query;
use super::properties::GROUP_PROPERTIES;
use crate::SimState;
use crate::auth::{Caller, authenticate, scopes};
use crate::error::GraphError;
use crate::odata::{CollectionQuery, Filter, select};
use crate::roles::may_manage_members;
use crate::state::{Group, Tenant};

const DEFAULT_PROPS: &[&str] = &[
    "id",
    "deletedDateTime",
    "classification",
    "createdDateTime",
    "description",
    "displayName",
    "expirationDateTime",
    "groupTypes",
    "isAssignableToRole",
    "mail",
    "mailEnabled",
    "mailNickname",
    "membershipRule",
    "membershipRuleProcessingState",
    "preferredDataLocation",
    "preferredLanguage",
    "proxyAddresses",
    "renewedDateTime",
    "securityEnabled",
    "securityIdentifier",
    "theme",
    "visibility",
];
const FILTERABLE: &[&str] = &[
    "id",
    "displayName",
    "mail",
    "mailNickname",
    "mailEnabled",
    "securityEnabled",
    "isAssignableToRole",
];

pub(crate) fn group_view(
    props: &Map<String, Value>,
    selected: Option<&str>,
) -> Result<Value, GraphError> {
    select(
        props,
        selected,
        DEFAULT_PROPS,
        GROUP_PROPERTIES,
        "microsoft.graph.group",
    )
}

pub(crate) async fn list(
    State(state): State<Arc<SimState>>,
    headers: HeaderMap,
    query: Query,
) -> Result<Json<Value>, GraphError> {
    let tenant = state.tenant.lock().await;
    let caller = authenticate(&state, &tenant, &headers)?;
    caller.require_scope(scopes::GROUP_READ)?;
    let q = CollectionQuery::from_params(&query.0, 999)?;
    let filter = q
        .filter
        .as_deref()
        .map(|f| Filter::parse(f, FILTERABLE, "Group"))
        .transpose()?;
    let mut items = Vec::new();
    for group in &tenant.groups {
        if filter
            .as_ref()
            .is_none_or(|f| f.matches(&Value::Object(group.props.clone())))
        {
            items.push(group_view(&group.props, q.select.as_deref())?);
        }
    }
    Ok(Json(q.page(
        items,
        100,
        state.base(),
        "/v1.0/groups",
        "groups",
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
    caller.require_scope(scopes::GROUP_READ)?;
    let group = tenant
        .group(&id)
        .ok_or_else(|| GraphError::not_found(&id))?;
    let view = group_view(&group.props, query.0.get("$select").map(String::as_str))?;
    Ok(super::single_entity(view, &state, "groups", None))
}

pub(crate) async fn members(
    State(state): State<Arc<SimState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    query: Query,
) -> Result<Json<Value>, GraphError> {
    let tenant = state.tenant.lock().await;
    let caller = authenticate(&state, &tenant, &headers)?;
    caller.require_scope(scopes::GROUP_READ)?;
    let group = tenant
        .group(&id)
        .ok_or_else(|| GraphError::not_found(&id))?;
    let q = CollectionQuery::from_params(&query.0, 999)?;
    let mut items = Vec::new();
    for member in &group.members {
        if let Some(user) = tenant.user(member) {
            let mut view = super::users::user_view(user, q.select.as_deref())?;
            if let Some(map) = view.as_object_mut() {
                map.insert("@odata.type".into(), json!("#microsoft.graph.user"));
            }
            items.push(view);
        }
    }
    Ok(Json(q.page(
        items,
        100,
        state.base(),
        &format!("/v1.0/groups/{id}/members"),
        "directoryObjects",
    )))
}

/// The group `id`, when the caller may change its members and owners: its owners, Groups, User
/// or Global Administrators, and for a role-assignable group only a Privileged Role (or Global)
/// Administrator.
pub(crate) fn changeable<'a>(
    tenant: &'a Tenant,
    caller: &Caller,
    id: &str,
) -> Result<&'a Group, GraphError> {
    let group = tenant.group(id).ok_or_else(|| GraphError::not_found(id))?;
    let is_owner = group.owners.contains(&caller.oid);
    if may_manage_members(&caller.roles, is_owner, group.role_assignable()) {
        Ok(group)
    } else {
        Err(GraphError::denied())
    }
}

pub(crate) fn referenced_id(body: &Value) -> Option<String> {
    let link = body.get("@odata.id")?.as_str()?;
    link.trim_end_matches('/')
        .rsplit('/')
        .next()
        .map(str::to_owned)
}

pub(crate) async fn add_member(
    State(state): State<Arc<SimState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> Result<StatusCode, GraphError> {
    let mut tenant = state.tenant.lock().await;
    let caller = authenticate(&state, &tenant, &headers)?;
    caller.require_scope(scopes::GROUP_MEMBER_WRITE)?;
    let member_id = referenced_id(&body)
        .ok_or_else(|| GraphError::bad_request("Invalid object identifier ''."))?;
    let group = super::groups::changeable(&tenant, &caller, &id)?;
    let user = tenant
        .user(&member_id)
        .ok_or_else(|| GraphError::not_found(&member_id))?;
    let (user_id, upn, name) = (
        user.id().to_owned(),
        user.upn().to_owned(),
        user.display_name().to_owned(),
    );
    if group.members.contains(&user_id) {
        return Err(GraphError::bad_request(
            "One or more added object references already exist for the following modified properties: 'members'.",
        ));
    }
    let group_name = group
        .props
        .get("displayName")
        .cloned()
        .unwrap_or(Value::Null);
    if let Some(group) = tenant.group_mut(&id) {
        group.members.push(user_id.clone());
    }
    super::record_directory_audit(
        &mut tenant,
        &caller,
        "GroupManagement",
        "Add member to group",
        json!({"id": user_id, "displayName": name, "type": "User", "userPrincipalName": upn,
               "modifiedProperties": [{"displayName": "Group.DisplayName", "oldValue": null, "newValue": group_name.to_string()}]}),
    );
    Ok(StatusCode::NO_CONTENT)
}

pub(crate) async fn remove_member(
    State(state): State<Arc<SimState>>,
    headers: HeaderMap,
    Path((id, member)): Path<(String, String)>,
) -> Result<StatusCode, GraphError> {
    let mut tenant = state.tenant.lock().await;
    let caller = authenticate(&state, &tenant, &headers)?;
    caller.require_scope(scopes::GROUP_MEMBER_WRITE)?;
    let group = super::groups::changeable(&tenant, &caller, &id)?;
    if !group.members.contains(&member) {
        return Err(GraphError::not_found(&member));
    }
    let group_name = group
        .props
        .get("displayName")
        .cloned()
        .unwrap_or(Value::Null);
    let (upn, name) = tenant
        .user(&member)
        .map(|u| (u.upn().to_owned(), u.display_name().to_owned()))
        .unwrap_or_default();
    if let Some(group) = tenant.group_mut(&id) {
        group.members.retain(|m| *m != member);
    }
    super::record_directory_audit(
        &mut tenant,
        &caller,
        "GroupManagement",
        "Remove member from group",
        json!({"id": member, "displayName": name, "type": "User", "userPrincipalName": upn,
               "modifiedProperties": [{"displayName": "Group.DisplayName", "oldValue": group_name.to_string(), "newValue": null}]}),
    );
    Ok(StatusCode::NO_CONTENT)
}
