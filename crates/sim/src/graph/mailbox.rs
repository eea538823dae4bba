//! Exchange Online through Graph: mailbox settings (automatic replies), inbox rules and calendar
//! permissions (`/users/{id}/mailboxSettings`, `/users/{id}/mailFolders/inbox/messageRules`,
//! `/users/{id}/calendar/calendarPermissions`). Exchange answers errors with its own codes
//! (`ErrorAccessDenied`, `ErrorItemNotFound`) inside Graph's error body.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::SimState;
use crate::auth::{Caller, authenticate, scopes};
use crate::error::GraphError;
use crate::roles::may_use_mailbox;
use crate::state::{Tenant, User};

const REPLY_STATUSES: &[&str] = &["disabled", "alwaysEnabled", "scheduled"];
const AUDIENCES: &[&str] = &["none", "contactsOnly", "all"];
const CALENDAR_ROLES: &[&str] = &[
    "none",
    "freeBusyRead",
    "limitedRead",
    "read",
    "write",
    "delegateWithoutPrivateEventAccess",
    "delegateWithPrivateEventAccess",
];

fn access_denied() -> GraphError {
    GraphError::new(
        StatusCode::FORBIDDEN,
        "ErrorAccessDenied",
        "Access is denied. Check credentials and try again.",
    )
}

fn item_not_found() -> GraphError {
    GraphError::new(
        StatusCode::NOT_FOUND,
        "ErrorItemNotFound",
        "The specified object was not found in the store.",
    )
}

fn invalid(message: impl Into<String>) -> GraphError {
    GraphError::new(StatusCode::BAD_REQUEST, "ErrorInvalidRequest", message)
}

/// The mailbox's owner, if the caller may use that mailbox.
fn owner<'a>(tenant: &'a Tenant, caller: &Caller, id: &str) -> Result<&'a User, GraphError> {
    let user = tenant.user(id).ok_or_else(|| GraphError::not_found(id))?;
    if may_use_mailbox(&caller.roles, user.id() == caller.oid) {
        Ok(user)
    } else {
        Err(access_denied())
    }
}

fn owner_mut<'a>(
    tenant: &'a mut Tenant,
    caller: &Caller,
    id: &str,
) -> Result<&'a mut User, GraphError> {
    owner(tenant, caller, id)?;
    tenant.user_mut(id).ok_or_else(|| GraphError::not_found(id))
}

fn inbox(folder: &str) -> Result<(), GraphError> {
    if folder.eq_ignore_ascii_case("inbox") {
        Ok(())
    } else {
        Err(item_not_found())
    }
}

fn settings_view(state: &SimState, user: &User) -> Json<Value> {
    let mut view = Value::Object(user.mailbox.settings.clone());
    view["@odata.context"] = json!(format!(
        "{}/v1.0/$metadata#users('{}')/mailboxSettings",
        state.base(),
        user.id()
    ));
    Json(view)
}

pub(crate) async fn get_settings(
    State(state): State<Arc<SimState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, GraphError> {
    let tenant = state.tenant.lock().await;
    let caller = authenticate(&state, &tenant, &headers)?;
    caller.require_scope(scopes::MAILBOX_READ)?;
    let user = owner(&tenant, &caller, &id)?;
    Ok(settings_view(&state, user))
}

/// Checks an `automaticRepliesSetting` patch the way Exchange does: known status and audience,
/// and a scheduled reply needs both ends, the end after the start.
fn check_replies(patch: &Value, merged: &Value) -> Result<(), GraphError> {
    if let Some(s) = patch.get("status")
        && !s.as_str().is_some_and(|s| REPLY_STATUSES.contains(&s))
    {
        return Err(GraphError::bad_request(format!(
            "Requested value '{s}' was not found in enum automaticRepliesStatus."
        )));
    }
    if let Some(a) = patch.get("externalAudience")
        && !a.as_str().is_some_and(|a| AUDIENCES.contains(&a))
    {
        return Err(GraphError::bad_request(format!(
            "Requested value '{a}' was not found in enum externalAudienceScope."
        )));
    }
    if merged["status"] == "scheduled" {
        let at = |key: &str| {
            merged[key]["dateTime"]
                .as_str()
                .and_then(|t| chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%.f").ok())
        };
        match (at("scheduledStartDateTime"), at("scheduledEndDateTime")) {
            (Some(start), Some(end)) if end > start => {}
            (Some(_), Some(_)) => {
                return Err(invalid(
                    "The scheduled end time must be later than the scheduled start time.",
                ));
            }
            _ => {
                return Err(invalid(
                    "Scheduled automatic replies need scheduledStartDateTime and scheduledEndDateTime.",
                ));
            }
        }
    }
    Ok(())
}

/// `PATCH /users/{id}/mailboxSettings`: merges what is sent (automatic replies, time zone,
/// formats) and answers with the whole settings object.
pub(crate) async fn update_settings(
    State(state): State<Arc<SimState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> Result<Json<Value>, GraphError> {
    let mut tenant = state.tenant.lock().await;
    let caller = authenticate(&state, &tenant, &headers)?;
    caller.require_scope(scopes::MAILBOX_WRITE)?;
    let patch = body
        .as_object()
        .ok_or_else(|| GraphError::bad_request("The body must be a mailboxSettings object."))?;
    const WRITABLE: &[&str] = &[
        "@odata.context",
        "@odata.type",
        "automaticRepliesSetting",
        "timeZone",
        "dateFormat",
        "timeFormat",
        "language",
        "workingHours",
        "delegateMeetingMessageDeliveryOptions",
        "archiveFolder",
    ];
    if let Some(bad) = patch.keys().find(|k| !WRITABLE.contains(&k.as_str())) {
        return Err(GraphError::bad_request(format!(
            "Could not find a property named '{bad}' on type 'microsoft.graph.mailboxSettings'."
        )));
    }
    let user = owner_mut(&mut tenant, &caller, &id)?;
    let mut settings = user.mailbox.settings.clone();
    for (k, v) in patch {
        if k.starts_with('@') {
            continue;
        }
        if k == "automaticRepliesSetting" {
            let mut merged = settings.get(k).cloned().unwrap_or_else(|| json!({}));
            for (rk, rv) in v.as_object().into_iter().flatten() {
                merged[rk] = rv.clone();
            }
            check_replies(v, &merged)?;
            settings.insert(k.clone(), merged);
        } else {
            settings.insert(k.clone(), v.clone());
        }
    }
    user.mailbox.settings = settings;
    let user = owner(&tenant, &caller, &id)?;
    Ok(settings_view(&state, user))
}

pub(crate) async fn list_rules(
    State(state): State<Arc<SimState>>,
    headers: HeaderMap,
    Path((id, folder)): Path<(String, String)>,
) -> Result<Json<Value>, GraphError> {
    let tenant = state.tenant.lock().await;
    let caller = authenticate(&state, &tenant, &headers)?;
    caller.require_scope(scopes::RULES_READ)?;
    inbox(&folder)?;
    let user = owner(&tenant, &caller, &id)?;
    Ok(super::collection(
        &state,
        &format!("users('{}')/mailFolders('inbox')/messageRules", user.id()),
        user.mailbox.inbox_rules.clone(),
        false,
    ))
}

pub(crate) async fn get_rule(
    State(state): State<Arc<SimState>>,
    headers: HeaderMap,
    Path((id, folder, rule)): Path<(String, String, String)>,
) -> Result<Json<Value>, GraphError> {
    let tenant = state.tenant.lock().await;
    let caller = authenticate(&state, &tenant, &headers)?;
    caller.require_scope(scopes::RULES_READ)?;
    inbox(&folder)?;
    let user = owner(&tenant, &caller, &id)?;
    user.mailbox
        .inbox_rules
        .iter()
        .find(|r| r["id"] == rule.as_str())
        .cloned()
        .map(Json)
        .ok_or_else(item_not_found)
}

/// `POST …/messageRules`: a new rule at the end of the sequence (201 with the rule).
pub(crate) async fn create_rule(
    State(state): State<Arc<SimState>>,
    headers: HeaderMap,
    Path((id, folder)): Path<(String, String)>,
    Json(body): Json<Value>,
) -> Result<Response, GraphError> {
    let mut tenant = state.tenant.lock().await;
    let caller = authenticate(&state, &tenant, &headers)?;
    caller.require_scope(scopes::MAILBOX_WRITE)?;
    inbox(&folder)?;
    if body["displayName"].as_str().is_none_or(str::is_empty) {
        return Err(invalid("The rule needs a displayName."));
    }
    let user = owner_mut(&mut tenant, &caller, &id)?;
    let sequence = user.mailbox.inbox_rules.len() + 1;
    let mut rule = json!({
        "id": format!("AQAAA{}=", uuid::Uuid::new_v4().simple()),
        "displayName": body["displayName"],
        "sequence": body.get("sequence").cloned().unwrap_or(json!(sequence)),
        "isEnabled": body.get("isEnabled").cloned().unwrap_or(json!(true)),
        "hasError": false,
        "isReadOnly": false,
        "conditions": body.get("conditions").cloned().unwrap_or(json!({})),
        "actions": body.get("actions").cloned().unwrap_or(json!({})),
    });
    if let Some(e) = body.get("exceptions") {
        rule["exceptions"] = e.clone();
    }
    user.mailbox.inbox_rules.push(rule.clone());
    Ok((StatusCode::CREATED, Json(rule)).into_response())
}

pub(crate) async fn delete_rule(
    State(state): State<Arc<SimState>>,
    headers: HeaderMap,
    Path((id, folder, rule)): Path<(String, String, String)>,
) -> Result<StatusCode, GraphError> {
    let mut tenant = state.tenant.lock().await;
    let caller = authenticate(&state, &tenant, &headers)?;
    caller.require_scope(scopes::MAILBOX_WRITE)?;
    inbox(&folder)?;
    let user = owner_mut(&mut tenant, &caller, &id)?;
    let before = user.mailbox.inbox_rules.len();
    user.mailbox
        .inbox_rules
        .retain(|r| r["id"] != rule.as_str());
    if user.mailbox.inbox_rules.len() == before {
        return Err(item_not_found());
    }
    Ok(StatusCode::NO_CONTENT)
}

pub(crate) async fn list_calendar_permissions(
    State(state): State<Arc<SimState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, GraphError> {
    let tenant = state.tenant.lock().await;
    let caller = authenticate(&state, &tenant, &headers)?;
    caller.require_scope(scopes::CALENDAR_READ)?;
    let user = owner(&tenant, &caller, &id)?;
    Ok(super::collection(
        &state,
        &format!("users('{}')/calendar/calendarPermissions", user.id()),
        user.mailbox.calendar_permissions.clone(),
        false,
    ))
}

fn check_role(role: &Value) -> Result<&str, GraphError> {
    role.as_str()
        .filter(|r| CALENDAR_ROLES.contains(r))
        .ok_or_else(|| {
            GraphError::bad_request(format!(
                "Requested value '{role}' was not found in enum calendarRoleType."
            ))
        })
}

/// `POST …/calendarPermissions`: shares the calendar with `emailAddress.address` at `role`.
pub(crate) async fn add_calendar_permission(
    State(state): State<Arc<SimState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> Result<Response, GraphError> {
    let mut tenant = state.tenant.lock().await;
    let caller = authenticate(&state, &tenant, &headers)?;
    caller.require_scope(scopes::CALENDAR_WRITE)?;
    let role = check_role(&body["role"])?.to_owned();
    let address = body["emailAddress"]["address"]
        .as_str()
        .filter(|a| a.contains('@'))
        .ok_or_else(|| invalid("emailAddress.address must be an e-mail address."))?
        .to_lowercase();
    let domain = tenant.domain().to_lowercase();
    let sharee = tenant
        .users
        .iter()
        .find(|u| {
            u.upn().eq_ignore_ascii_case(&address)
                || u.props
                    .get("mail")
                    .unwrap_or(&Value::Null)
                    .as_str()
                    .is_some_and(|m| m.eq_ignore_ascii_case(&address))
        })
        .map(|u| u.display_name().to_owned());
    let inside = address.ends_with(&format!("@{domain}"));
    if role.starts_with("delegate") && sharee.is_none() {
        return Err(invalid(
            "Only a user in your organization can be made a delegate.",
        ));
    }
    let user = owner_mut(&mut tenant, &caller, &id)?;
    if user.mailbox.calendar_permissions.iter().any(|p| {
        p["emailAddress"]["address"]
            .as_str()
            .is_some_and(|a| a.eq_ignore_ascii_case(&address))
    }) {
        return Err(GraphError::new(
            StatusCode::CONFLICT,
            "ErrorItemAlreadyExists",
            "The calendar is already shared with this recipient.",
        ));
    }
    let permission = json!({
        "id": format!("RoleUser-{}", uuid::Uuid::new_v4().simple()),
        "isRemovable": true,
        "isInsideOrganization": inside,
        "role": role,
        "allowedRoles": if inside { json!(CALENDAR_ROLES) } else { json!(["none", "freeBusyRead", "limitedRead", "read"]) },
        "emailAddress": {"name": sharee.unwrap_or_else(|| address.clone()), "address": address},
    });
    user.mailbox.calendar_permissions.push(permission.clone());
    Ok((StatusCode::CREATED, Json(permission)).into_response())
}

/// `PATCH …/calendarPermissions/{id}`: only `role` changes, and only to an allowed role.
pub(crate) async fn update_calendar_permission(
    State(state): State<Arc<SimState>>,
    headers: HeaderMap,
    Path((id, permission)): Path<(String, String)>,
    Json(body): Json<Value>,
) -> Result<Json<Value>, GraphError> {
    let mut tenant = state.tenant.lock().await;
    let caller = authenticate(&state, &tenant, &headers)?;
    caller.require_scope(scopes::CALENDAR_WRITE)?;
    let role = check_role(&body["role"])?.to_owned();
    let user = owner_mut(&mut tenant, &caller, &id)?;
    let entry = user
        .mailbox
        .calendar_permissions
        .iter_mut()
        .find(|p| p["id"] == permission.as_str())
        .ok_or_else(item_not_found)?;
    if !entry["allowedRoles"]
        .as_array()
        .is_some_and(|a| a.iter().any(|r| r == role.as_str()))
    {
        return Err(invalid(format!(
            "The role '{role}' is not allowed for this sharee."
        )));
    }
    entry["role"] = json!(role);
    Ok(Json(entry.clone()))
}

pub(crate) async fn delete_calendar_permission(
    State(state): State<Arc<SimState>>,
    headers: HeaderMap,
    Path((id, permission)): Path<(String, String)>,
) -> Result<StatusCode, GraphError> {
    let mut tenant = state.tenant.lock().await;
    let caller = authenticate(&state, &tenant, &headers)?;
    caller.require_scope(scopes::CALENDAR_WRITE)?;
    let user = owner_mut(&mut tenant, &caller, &id)?;
    let entry = user
        .mailbox
        .calendar_permissions
        .iter()
        .find(|p| p["id"] == permission.as_str())
        .ok_or_else(item_not_found)?;
    if entry["isRemovable"] == false {
        return Err(invalid("This calendar permission cannot be removed."));
    }
    user.mailbox
        .calendar_permissions
        .retain(|p| p["id"] != permission.as_str());
    Ok(StatusCode::NO_CONTENT)
}
