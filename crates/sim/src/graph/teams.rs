//! Microsoft Teams: a team is a Microsoft 365 group provisioned as one
//! (`resourceProvisioningOptions` holds `Team`); its members are the group's members and owners,
//! shown as `aadUserConversationMember`s (`/teams/{id}`, `/teams/{id}/members`).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::{Value, json};

use crate::SimState;
use crate::auth::{Caller, authenticate, scopes};
use crate::error::GraphError;
use crate::roles::may_manage_team;
use crate::state::{Group, Tenant};

fn team_not_found(id: &str) -> GraphError {
    GraphError::new(
        StatusCode::NOT_FOUND,
        "NotFound",
        format!("No team found with Group Id {id}"),
    )
}

/// The group behind a team; a group that is no team is answered as Teams does.
fn team<'a>(tenant: &'a Tenant, id: &str) -> Result<&'a Group, GraphError> {
    tenant
        .group(id)
        .filter(|g| {
            g.props
                .get("resourceProvisioningOptions")
                .and_then(Value::as_array)
                .is_some_and(|o| o.iter().any(|v| v == "Team"))
        })
        .ok_or_else(|| team_not_found(id))
}

/// A membership's id, as Teams builds it from the team and the user.
fn membership_id(team: &str, user: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("1#{team}#{user}"))
}

fn member_view(tenant: &Tenant, group: &Group, user_id: &str) -> Option<Value> {
    let user = tenant.user(user_id)?;
    let owner = group.owners.iter().any(|o| o == user_id);
    Some(json!({
        "@odata.type": "#microsoft.graph.aadUserConversationMember",
        "id": membership_id(group.id(), user_id),
        "roles": if owner { json!(["owner"]) } else { json!([]) },
        "displayName": user.display_name(),
        "visibleHistoryStartDateTime": "0001-01-01T00:00:00Z",
        "userId": user_id,
        "email": user.props.get("mail").cloned().unwrap_or(Value::Null),
        "tenantId": tenant.tenant_id(),
    }))
}

fn members_of(tenant: &Tenant, group: &Group) -> Vec<Value> {
    let mut ids: Vec<&String> = group.owners.iter().collect();
    ids.extend(group.members.iter().filter(|m| !group.owners.contains(m)));
    ids.into_iter()
        .filter_map(|id| member_view(tenant, group, id))
        .collect()
}

pub(crate) async fn get_team(
    State(state): State<Arc<SimState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, GraphError> {
    let tenant = state.tenant.lock().await;
    let caller = authenticate(&state, &tenant, &headers)?;
    caller.require_scope(scopes::TEAM_READ)?;
    let group = team(&tenant, &id)?;
    let prop = |k: &str| group.props.get(k).cloned().unwrap_or(Value::Null);
    Ok(Json(json!({
        "@odata.context": format!("{}/v1.0/$metadata#teams/$entity", state.base()),
        "id": group.id(),
        "createdDateTime": prop("createdDateTime"),
        "displayName": prop("displayName"),
        "description": prop("description"),
        "internalId": format!("19:{}@thread.tacv2", group.id().replace('-', "")),
        "classification": null,
        "specialization": "none",
        // A group's visibility is "Private" or "Public" (or unset); a team's is the enum's
        // lower-case value.
        "visibility": prop("visibility").as_str().map_or("private".to_owned(), str::to_lowercase),
        "webUrl": format!("https://teams.microsoft.com/l/team/19%3a{}%40thread.tacv2/conversations?groupId={}&tenantId={}", group.id().replace('-', ""), group.id(), tenant.tenant_id()),
        "isArchived": false,
        "tenantId": tenant.tenant_id(),
    })))
}

pub(crate) async fn list_members(
    State(state): State<Arc<SimState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, GraphError> {
    let tenant = state.tenant.lock().await;
    let caller = authenticate(&state, &tenant, &headers)?;
    caller.require_scope(scopes::TEAM_MEMBERS_READ)?;
    let group = team(&tenant, &id)?;
    Ok(super::collection(
        &state,
        &format!("teams('{id}')/members"),
        members_of(&tenant, group),
        true,
    ))
}

/// Whether the caller may change this team's members, and (without `TeamMember.ReadWrite.All`)
/// touch an owner.
fn check_write(caller: &Caller, group: &Group, owner_involved: bool) -> Result<(), GraphError> {
    caller.require_scope(scopes::TEAM_MEMBERS_WRITE)?;
    if owner_involved {
        caller.require_scope(&["TeamMember.ReadWrite.All"])?;
    }
    if may_manage_team(&caller.roles, group.owners.contains(&caller.oid)) {
        Ok(())
    } else {
        Err(GraphError::denied())
    }
}

/// `POST /teams/{id}/members` with an `aadUserConversationMember` whose `user@odata.bind`
/// names the user (`…/users('{id}')`); `roles: ["owner"]` makes them an owner.
pub(crate) async fn add_member(
    State(state): State<Arc<SimState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> Result<Response, GraphError> {
    let mut tenant = state.tenant.lock().await;
    let caller = authenticate(&state, &tenant, &headers)?;
    if body["@odata.type"] != "#microsoft.graph.aadUserConversationMember" {
        return Err(GraphError::new(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "The member must be a #microsoft.graph.aadUserConversationMember.",
        ));
    }
    let bind = body["user@odata.bind"].as_str().unwrap_or_default();
    let user_key = bind
        .rsplit_once("users('")
        .and_then(|(_, rest)| rest.strip_suffix("')"))
        .ok_or_else(|| {
            GraphError::new(
                StatusCode::BAD_REQUEST,
                "BadRequest",
                "user@odata.bind must name a user as https://graph.microsoft.com/v1.0/users('{id}').",
            )
        })?
        .to_owned();
    let owner = match body.get("roles") {
        None => false,
        Some(Value::Array(roles)) => roles.iter().any(|r| r == "owner"),
        Some(_) => return Err(GraphError::bad_request("roles must be an array.")),
    };
    let group = team(&tenant, &id)?;
    check_write(&caller, group, owner)?;
    let user = tenant
        .user(&user_key)
        .ok_or_else(|| GraphError::not_found(&user_key))?;
    let user_id = user.id().to_owned();
    let target = user.audit_target(&["Group.Members"]);
    if let Some(group) = tenant.group_mut(&id) {
        if !group.members.contains(&user_id) {
            group.members.push(user_id.clone());
        }
        if owner && !group.owners.contains(&user_id) {
            group.owners.push(user_id.clone());
        }
    }
    super::record_directory_audit(
        &mut tenant,
        &caller,
        "GroupManagement",
        "Add member to group",
        target,
    );
    let group = team(&tenant, &id)?;
    let view = member_view(&tenant, group, &user_id).unwrap_or(Value::Null);
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

pub(crate) async fn remove_member(
    State(state): State<Arc<SimState>>,
    headers: HeaderMap,
    Path((id, membership)): Path<(String, String)>,
) -> Result<StatusCode, GraphError> {
    let mut tenant = state.tenant.lock().await;
    let caller = authenticate(&state, &tenant, &headers)?;
    let group = team(&tenant, &id)?;
    let user_id = group
        .owners
        .iter()
        .chain(group.members.iter())
        .find(|u| membership_id(&id, u) == membership)
        .cloned()
        .ok_or_else(|| {
            GraphError::new(
                StatusCode::NOT_FOUND,
                "NotFound",
                format!("Membership {membership} not found in team {id}."),
            )
        })?;
    let owner = group.owners.contains(&user_id);
    check_write(&caller, group, owner)?;
    if owner && group.owners.len() == 1 {
        return Err(GraphError::new(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "The last owner of a team cannot be removed.",
        ));
    }
    let target = tenant
        .user(&user_id)
        .map(|u| u.audit_target(&["Group.Members"]))
        .unwrap_or(Value::Null);
    if let Some(group) = tenant.group_mut(&id) {
        group.members.retain(|m| *m != user_id);
        group.owners.retain(|m| *m != user_id);
    }
    super::record_directory_audit(
        &mut tenant,
        &caller,
        "GroupManagement",
        "Remove member from group",
        target,
    );
    Ok(StatusCode::NO_CONTENT)
}
