//! SharePoint and OneDrive (`/sites/{id}`, `/sites/{id}/drive`, `/users/{id}/drive`,
//! `/drives/{id}/items/{id}` with `permissions`, `invite` and `createLink`), with OneDrive's
//! error codes (`itemNotFound`, `accessDenied`, `invalidRequest`). An item lists its own
//! permissions and, marked `inheritedFrom`, its library's root permissions.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::SimState;
use crate::auth::{Caller, authenticate, scopes};
use crate::error::GraphError;
use crate::files::{Drive, DriveOwner, user_permission};
use crate::roles::may_manage_files;
use crate::state::Tenant;

fn item_not_found() -> GraphError {
    GraphError::new(
        StatusCode::NOT_FOUND,
        "itemNotFound",
        "The resource could not be found.",
    )
}

fn access_denied() -> GraphError {
    GraphError::new(StatusCode::FORBIDDEN, "accessDenied", "Access denied")
}

fn invalid(message: impl Into<String>) -> GraphError {
    GraphError::new(StatusCode::BAD_REQUEST, "invalidRequest", message)
}

/// Whether the caller manages sharing of this item: a SharePoint Administrator, the OneDrive's
/// owner, or someone the item or its library root grants `owner` or `write`.
fn may_share(caller: &Caller, drive: &Drive, item_id: &str) -> bool {
    if may_manage_files(&caller.roles) || drive.owner == DriveOwner::User(caller.oid.clone()) {
        return true;
    }
    let grants = |id: &str| {
        drive.item(id).is_some_and(|i| {
            i.permissions.iter().any(|p| {
                p.pointer("/grantedToV2/user/id").and_then(Value::as_str) == Some(&caller.oid)
                    && p["roles"]
                        .as_array()
                        .is_some_and(|r| r.iter().any(|r| r == "owner" || r == "write"))
            })
        })
    };
    grants(item_id) || grants("root")
}

fn drive_owner_view(tenant: &Tenant, drive: &Drive) -> Value {
    match &drive.owner {
        DriveOwner::User(id) => {
            let name = tenant.user(id).map(|u| u.display_name().to_owned());
            json!({"user": {"id": id, "displayName": name}})
        }
        // A site's library belongs to the site itself, which Graph shows as the system account.
        DriveOwner::Site(_) => json!({"user": {"displayName": "System Account"}}),
    }
}

fn site<'a>(tenant: &'a Tenant, id: &str) -> Result<&'a crate::files::Site, GraphError> {
    tenant
        .sites
        .iter()
        .find(|s| s.id() == id)
        .ok_or_else(item_not_found)
}

pub(crate) async fn get_site(
    State(state): State<Arc<SimState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, GraphError> {
    let tenant = state.tenant.lock().await;
    let caller = authenticate(&state, &tenant, &headers)?;
    caller.require_scope(scopes::SITE_READ)?;
    let view = Value::Object(site(&tenant, &id)?.props.clone());
    Ok(super::single_entity(view, &state, "sites", None))
}

fn drive_answer(state: &SimState, tenant: &Tenant, drive: &Drive) -> Json<Value> {
    super::single_entity(
        drive.view(drive_owner_view(tenant, drive)),
        state,
        "drives",
        None,
    )
}

pub(crate) async fn site_drive(
    State(state): State<Arc<SimState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, GraphError> {
    let tenant = state.tenant.lock().await;
    let caller = authenticate(&state, &tenant, &headers)?;
    caller.require_scope(scopes::FILES_READ)?;
    let drive_id = site(&tenant, &id)?.drive_id.clone();
    let drive = tenant.drive(&drive_id).ok_or_else(item_not_found)?;
    Ok(drive_answer(&state, &tenant, drive))
}

/// `GET /users/{id}/drive`: the person's OneDrive (their own, or any for a SharePoint
/// Administrator).
pub(crate) async fn user_drive(
    State(state): State<Arc<SimState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, GraphError> {
    let tenant = state.tenant.lock().await;
    let caller = authenticate(&state, &tenant, &headers)?;
    caller.require_scope(scopes::FILES_READ)?;
    let user = tenant.user(&id).ok_or_else(|| GraphError::not_found(&id))?;
    if !(user.id() == caller.oid || may_manage_files(&caller.roles)) {
        return Err(access_denied());
    }
    let owner = DriveOwner::User(user.id().to_owned());
    let drive = tenant
        .drives
        .iter()
        .find(|d| d.owner == owner)
        .ok_or_else(item_not_found)?;
    Ok(drive_answer(&state, &tenant, drive))
}

fn readable<'a>(
    tenant: &'a Tenant,
    caller: &Caller,
    drive_id: &str,
    item_id: &str,
) -> Result<(&'a Drive, &'a crate::files::Item), GraphError> {
    let drive = tenant.drive(drive_id).ok_or_else(item_not_found)?;
    let item = drive.item(item_id).ok_or_else(item_not_found)?;
    if !may_share(caller, drive, item.id()) {
        return Err(access_denied());
    }
    Ok((drive, item))
}

pub(crate) async fn get_item(
    State(state): State<Arc<SimState>>,
    headers: HeaderMap,
    Path((drive_id, item_id)): Path<(String, String)>,
) -> Result<Json<Value>, GraphError> {
    let tenant = state.tenant.lock().await;
    let caller = authenticate(&state, &tenant, &headers)?;
    caller.require_scope(scopes::FILES_READ)?;
    let (_, item) = readable(&tenant, &caller, &drive_id, &item_id)?;
    let view = Value::Object(item.props.clone());
    Ok(super::single_entity(
        view,
        &state,
        &format!("drives('{drive_id}')/items"),
        None,
    ))
}

/// The item's own permissions, then its root's marked as inherited.
fn all_permissions(drive: &Drive, item: &crate::files::Item) -> Vec<Value> {
    let mut out = item.permissions.clone();
    if let Some(root) = drive.root()
        && root.id() != item.id()
    {
        for p in &root.permissions {
            let mut inherited = p.clone();
            inherited["inheritedFrom"] =
                json!({"driveId": drive.id, "id": root.id(), "path": "/drive/root:"});
            out.push(inherited);
        }
    }
    out
}

pub(crate) async fn list_permissions(
    State(state): State<Arc<SimState>>,
    headers: HeaderMap,
    Path((drive_id, item_id)): Path<(String, String)>,
) -> Result<Json<Value>, GraphError> {
    let tenant = state.tenant.lock().await;
    let caller = authenticate(&state, &tenant, &headers)?;
    caller.require_scope(scopes::FILES_READ)?;
    let (drive, item) = readable(&tenant, &caller, &drive_id, &item_id)?;
    Ok(super::collection(
        &state,
        &format!("drives('{drive_id}')/items('{}')/permissions", item.id()),
        all_permissions(drive, item),
        false,
    ))
}

pub(crate) async fn get_permission(
    State(state): State<Arc<SimState>>,
    headers: HeaderMap,
    Path((drive_id, item_id, permission)): Path<(String, String, String)>,
) -> Result<Json<Value>, GraphError> {
    let tenant = state.tenant.lock().await;
    let caller = authenticate(&state, &tenant, &headers)?;
    caller.require_scope(scopes::FILES_READ)?;
    let (drive, item) = readable(&tenant, &caller, &drive_id, &item_id)?;
    all_permissions(drive, item)
        .into_iter()
        .find(|p| p["id"] == permission.as_str())
        .map(Json)
        .ok_or_else(item_not_found)
}

/// `DELETE …/permissions/{id}`: only the item's own permissions; an inherited one is removed
/// where it is granted, and the OneDrive owner's cannot be removed.
pub(crate) async fn delete_permission(
    State(state): State<Arc<SimState>>,
    headers: HeaderMap,
    Path((drive_id, item_id, permission)): Path<(String, String, String)>,
) -> Result<StatusCode, GraphError> {
    let mut tenant = state.tenant.lock().await;
    let caller = authenticate(&state, &tenant, &headers)?;
    caller.require_scope(scopes::FILES_WRITE)?;
    let (drive, item) = readable(&tenant, &caller, &drive_id, &item_id)?;
    let Some(found) = all_permissions(drive, item)
        .into_iter()
        .find(|p| p["id"] == permission.as_str())
    else {
        return Err(item_not_found());
    };
    if found.get("inheritedFrom").is_some() {
        return Err(invalid(
            "Cannot delete an inherited permission; remove it from the item it is inherited from.",
        ));
    }
    if found["roles"]
        .as_array()
        .is_some_and(|r| r.iter().any(|r| r == "owner"))
        && matches!(drive.owner, DriveOwner::User(_))
    {
        return Err(access_denied());
    }
    let item_id = item.id().to_owned();
    if let Some(item) = tenant
        .drive_mut(&drive_id)
        .and_then(|d| d.item_mut(&item_id))
    {
        item.permissions.retain(|p| p["id"] != permission.as_str());
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `POST …/invite`: grants `roles` (read or write) to each recipient (a person of the
/// organisation by address or object id, or an outside address); answers the permissions made.
pub(crate) async fn invite(
    State(state): State<Arc<SimState>>,
    headers: HeaderMap,
    Path((drive_id, item_id)): Path<(String, String)>,
    Json(body): Json<Value>,
) -> Result<Json<Value>, GraphError> {
    let mut tenant = state.tenant.lock().await;
    let caller = authenticate(&state, &tenant, &headers)?;
    caller.require_scope(scopes::FILES_WRITE)?;
    let role = match body["roles"].as_array().map(Vec::as_slice) {
        Some([r]) if r == "read" || r == "write" => r.as_str().unwrap_or("read").to_owned(),
        _ => return Err(invalid("roles must be [\"read\"] or [\"write\"].")),
    };
    let recipients = body["recipients"]
        .as_array()
        .filter(|r| !r.is_empty())
        .ok_or_else(|| invalid("At least one recipient is required."))?
        .clone();
    let (_, item) = readable(&tenant, &caller, &drive_id, &item_id)?;
    let item_id = item.id().to_owned();
    let mut made = Vec::new();
    for r in &recipients {
        let key = r["email"]
            .as_str()
            .or(r["objectId"].as_str())
            .or(r["alias"].as_str())
            .ok_or_else(|| invalid("A recipient needs an email, objectId or alias."))?;
        let permission = match tenant.user(key) {
            Some(u) => user_permission(u.id(), u.display_name(), &[role.as_str()]),
            None if key.contains('@') => json!({
                "id": format!("aTowIy5mfG1lbWJlcnNoaXB8ZXh0{}", key.bytes().map(|b| format!("{b:02x}")).collect::<String>()),
                "roles": [role],
                "grantedToV2": {"user": {"displayName": key}},
                "invitation": {"email": key, "signInRequired": true},
            }),
            None => {
                return Err(invalid(format!(
                    "The recipient '{key}' could not be resolved."
                )));
            }
        };
        made.push(permission);
    }
    if let Some(item) = tenant
        .drive_mut(&drive_id)
        .and_then(|d| d.item_mut(&item_id))
    {
        for p in &made {
            item.permissions.retain(|old| old["id"] != p["id"]);
            item.permissions.push(p.clone());
        }
    }
    Ok(Json(json!({"value": made})))
}

/// `POST …/createLink`: a sharing link of `type` (view, edit) and `scope` (anonymous,
/// organization); the same link again answers 200 with the existing one, a new one 201.
pub(crate) async fn create_link(
    State(state): State<Arc<SimState>>,
    headers: HeaderMap,
    Path((drive_id, item_id)): Path<(String, String)>,
    Json(body): Json<Value>,
) -> Result<Response, GraphError> {
    let mut tenant = state.tenant.lock().await;
    let caller = authenticate(&state, &tenant, &headers)?;
    caller.require_scope(scopes::FILES_WRITE)?;
    let kind = body["type"]
        .as_str()
        .filter(|t| matches!(*t, "view" | "edit" | "embed"))
        .ok_or_else(|| invalid("type must be view, edit or embed."))?
        .to_owned();
    let scope = body
        .get("scope")
        .and_then(Value::as_str)
        .unwrap_or("organization")
        .to_owned();
    if !matches!(scope.as_str(), "anonymous" | "organization" | "users") {
        return Err(invalid("scope must be anonymous, organization or users."));
    }
    let (drive, item) = readable(&tenant, &caller, &drive_id, &item_id)?;
    let web_url = item
        .props
        .get("webUrl")
        .and_then(Value::as_str)
        .unwrap_or(&drive.web_url)
        .to_owned();
    let item_id = item.id().to_owned();
    if let Some(existing) = item.permissions.iter().find(|p| {
        p.pointer("/link/type").and_then(Value::as_str) == Some(&kind)
            && p.pointer("/link/scope").and_then(Value::as_str) == Some(&scope)
    }) {
        return Ok((StatusCode::OK, Json(existing.clone())).into_response());
    }
    let token = uuid::Uuid::new_v4().simple().to_string();
    let permission = json!({
        "id": token,
        "roles": [if kind == "edit" { "write" } else { "read" }],
        "link": {
            "type": kind,
            "scope": scope,
            "webUrl": format!("{}/:f:/s/{}", web_url.split("/personal/").next().unwrap_or(&web_url), &token[..12]),
            "preventsDownload": false,
        },
        "hasPassword": false,
        "shareId": format!("u!{}", &token[..16]),
    });
    if let Some(item) = tenant
        .drive_mut(&drive_id)
        .and_then(|d| d.item_mut(&item_id))
    {
        item.permissions.push(permission.clone());
    }
    Ok((StatusCode::CREATED, Json(permission)).into_response())
}
