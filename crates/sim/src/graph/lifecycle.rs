//! A user's life in the directory: creating an account (onboarding) and setting or removing a
//! manager (`/users/{id}/manager/$ref`), with the roles and checks Entra applies.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde_json::{Map, Value, json};

use super::methods::complex_enough;
use super::properties::USER_PROPERTIES;
use super::users::{facts, user_view};
use crate::auth::{authenticate, scopes};
use crate::error::GraphError;
use crate::roles::may_update_profile;
use crate::state::{SimUser, User};
use crate::{PASSWORD_METHOD_ID, SimState};

/// `POST /users`: a new account. User Administrator or Global Administrator; the sign-in name
/// must be unique and in a verified domain; the password must be complex enough.
pub(crate) async fn create(
    State(state): State<Arc<SimState>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Result<Response, GraphError> {
    let mut tenant = state.tenant.lock().await;
    let caller = authenticate(&state, &tenant, &headers)?;
    caller.require_scope(scopes::USER_WRITE)?;
    if !["User Administrator", "Global Administrator"]
        .iter()
        .any(|r| caller.roles.iter().any(|have| have == r))
    {
        return Err(GraphError::denied());
    }
    let mut props: Map<String, Value> = body
        .as_object()
        .cloned()
        .ok_or_else(|| GraphError::bad_request("Empty Payload. JSON content expected."))?;
    let profile = props.remove("passwordProfile").unwrap_or(Value::Null);
    for key in props.keys() {
        if !USER_PROPERTIES.contains(&key.as_str()) {
            return Err(GraphError::bad_request(format!(
                "Property '{key}' does not exist on type 'microsoft.graph.user'. Make sure to only use property names that are defined by the type."
            )));
        }
    }
    for required in [
        "accountEnabled",
        "displayName",
        "mailNickname",
        "userPrincipalName",
    ] {
        if props.get(required).is_none_or(Value::is_null) {
            return Err(GraphError::bad_request(format!(
                "Invalid value specified for property '{required}' of resource 'User'."
            )));
        }
    }
    let password = profile["password"].as_str().unwrap_or_default().to_owned();
    if !complex_enough(&password) {
        return Err(GraphError::bad_request(
            "The specified password does not comply with password complexity requirements. Please provide a different password.",
        ));
    }
    let upn = props
        .get("userPrincipalName")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_lowercase();
    let domain = tenant.domain().to_lowercase();
    if !upn.ends_with(&format!("@{domain}")) {
        return Err(GraphError::bad_request(format!(
            "The domain portion of the userPrincipalName property is invalid. You must use one of the verified domain names in your organization: {domain}."
        )));
    }
    if tenant.user(&upn).is_some() {
        return Err(GraphError::bad_request(
            "Another object with the same value for property userPrincipalName already exists.",
        ));
    }
    let id = uuid::Uuid::new_v4().to_string();
    let now = Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    props.insert("id".into(), json!(id));
    props.insert("userPrincipalName".into(), json!(upn));
    props.insert("createdDateTime".into(), json!(now));
    props.insert("lastPasswordChangeDateTime".into(), json!(now));
    props.entry("assignedLicenses").or_insert(json!([]));
    props.entry("userType").or_insert(json!("Member"));
    let user = User {
        props,
        manager: None,
        methods: vec![json!({
            "@odata.type": "#microsoft.graph.passwordAuthenticationMethod",
            "id": PASSWORD_METHOD_ID,
            "password": null,
            "createdDateTime": now,
        })],
        mailbox: crate::mailbox::Mailbox::new(),
        sim: SimUser {
            password,
            locked_out: false,
            failed_attempts: 0,
            must_change_password: profile["forceChangePasswordNextSignIn"] != false,
            roles: Vec::new(),
        },
    };
    let view = user_view(&user, None)?;
    let target = user.audit_target(&[]);
    let drive = crate::files::one_drive(None, &id, &upn, user.display_name(), &domain)
        .map_err(|e| GraphError::bad_request(e.to_string()))?;
    tenant.users.push(user);
    tenant.drives.push(drive);
    super::record_directory_audit(&mut tenant, &caller, "UserManagement", "Add user", target);
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

/// `PUT /users/{id}/manager/$ref` with `{"@odata.id": ".../users/{manager-id}"}`.
pub(crate) async fn set_manager(
    State(state): State<Arc<SimState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> Result<StatusCode, GraphError> {
    let mut tenant = state.tenant.lock().await;
    let caller = authenticate(&state, &tenant, &headers)?;
    caller.require_scope(scopes::USER_WRITE)?;
    let reference = body["@odata.id"]
        .as_str()
        .ok_or_else(|| GraphError::bad_request("The request body must contain '@odata.id'."))?;
    let manager_key = reference.rsplit('/').next().unwrap_or_default().to_owned();
    let manager_id = tenant
        .user(&manager_key)
        .map(|m| m.id().to_owned())
        .ok_or_else(|| GraphError::not_found(&manager_key))?;
    let user = tenant.user(&id).ok_or_else(|| GraphError::not_found(&id))?;
    if !may_update_profile(&caller.roles, &facts(&tenant, user)) {
        return Err(GraphError::denied());
    }
    if user.id() == manager_id {
        return Err(GraphError::bad_request(
            "A user cannot be their own manager.",
        ));
    }
    let user_id = user.id().to_owned();
    let target = user.audit_target(&["Manager"]);
    if let Some(user) = tenant.user_mut(&user_id) {
        user.manager = Some(manager_id);
    }
    super::record_directory_audit(
        &mut tenant,
        &caller,
        "UserManagement",
        "Set user manager",
        target,
    );
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /users/{id}/manager/$ref`.
pub(crate) async fn remove_manager(
    State(state): State<Arc<SimState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<StatusCode, GraphError> {
    let mut tenant = state.tenant.lock().await;
    let caller = authenticate(&state, &tenant, &headers)?;
    caller.require_scope(scopes::USER_WRITE)?;
    let user = tenant.user(&id).ok_or_else(|| GraphError::not_found(&id))?;
    if !may_update_profile(&caller.roles, &facts(&tenant, user)) {
        return Err(GraphError::denied());
    }
    if user.manager.is_none() {
        return Err(GraphError::not_found("manager"));
    }
    let user_id = user.id().to_owned();
    let target = user.audit_target(&["Manager"]);
    if let Some(user) = tenant.user_mut(&user_id) {
        user.manager = None;
    }
    super::record_directory_audit(
        &mut tenant,
        &caller,
        "UserManagement",
        "Remove user manager",
        target,
    );
    Ok(StatusCode::NO_CONTENT)
}
