use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use rand::Rng;
use serde_json::{Value, json};

use super::users::facts;
use crate::auth::{authenticate, scopes};
use crate::error::GraphError;
use crate::roles::{may_read_methods, may_reset_password};
use crate::{PASSWORD_METHOD_ID, SimState};

pub(crate) async fn list(
    State(state): State<Arc<SimState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, GraphError> {
    let tenant = state.tenant.lock().await;
    let caller = authenticate(&state, &tenant, &headers)?;
    caller.require_scope(scopes::METHODS_READ)?;
    let user = tenant.user(&id).ok_or_else(|| GraphError::not_found(&id))?;
    if user.id() != caller.oid && !may_read_methods(&caller.roles, &facts(&tenant, user)) {
        return Err(GraphError::denied());
    }
    Ok(Json(json!({
        "@odata.context": format!("{}/v1.0/$metadata#users('{}')/authentication/methods", state.base(), user.id()),
        "value": user.methods,
    })))
}

pub(crate) fn complex_enough(password: &str) -> bool {
    let classes = [
        password.chars().any(|c| c.is_ascii_lowercase()),
        password.chars().any(|c| c.is_ascii_uppercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_ascii_alphanumeric()),
    ];
    password.chars().count() >= 8 && classes.iter().filter(|c| **c).count() >= 3
}

fn generate_password() -> String {
    const WORDS: &[&str] = &[
        "Amber", "Birch", "Cobalt", "Delta", "Ember", "Fjord", "Garnet", "Harbor", "Indigo",
        "Juniper",
    ];
    let mut rng = rand::rng();
    let a = WORDS[rng.random_range(0..WORDS.len())];
    let b = WORDS[rng.random_range(0..WORDS.len())];
    format!("{a}-{b}-{:04}!", rng.random_range(0..10_000))
}

pub(crate) async fn reset_password(
    State(state): State<Arc<SimState>>,
    headers: HeaderMap,
    Path((id, method)): Path<(String, String)>,
    body: Option<Json<Value>>,
) -> Result<Response, GraphError> {
    let mut tenant = state.tenant.lock().await;
    let caller = authenticate(&state, &tenant, &headers)?;
    caller.require_scope(scopes::METHODS_WRITE)?;
    let user = tenant.user(&id).ok_or_else(|| GraphError::not_found(&id))?;
    if method != PASSWORD_METHOD_ID {
        return Err(GraphError::not_found(&method));
    }
    if user.id() == caller.oid {
        return Err(GraphError::new(
            StatusCode::FORBIDDEN,
            "Authorization_RequestDenied",
            "Password reset via this API cannot be performed on one's own account.",
        ));
    }
    if !may_reset_password(&caller.roles, &facts(&tenant, user)) {
        return Err(GraphError::denied());
    }
    let requested = body
        .as_ref()
        .and_then(|b| b.get("newPassword"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    if let Some(p) = &requested
        && !complex_enough(p)
    {
        return Err(GraphError::bad_request(
            "The specified password does not comply with password complexity requirements. Please provide a different password.",
        ));
    }
    let generated = requested.is_none();
    let new_password = requested.unwrap_or_else(generate_password);
    let user_id = user.id().to_owned();
    let target = user.audit_target(&[]);
    let now = Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    if let Some(user) = tenant.user_mut(&user_id) {
        user.sim.password = new_password.clone();
        user.sim.must_change_password = true;
        user.sim.locked_out = false;
        user.sim.failed_attempts = 0;
        user.props
            .insert("lastPasswordChangeDateTime".into(), json!(now));
    }
    let op_id = uuid::Uuid::new_v4().to_string();
    let location = format!(
        "{}/v1.0/users/{user_id}/authentication/operations/{op_id}",
        state.base()
    );
    tenant.operations.insert(
        op_id.clone(),
        json!({
            "@odata.type": "#microsoft.graph.longRunningOperation",
            "id": op_id,
            "createdDateTime": now,
            "lastActionDateTime": now,
            "status": "succeeded",
            "statusDetail": null,
            "resourceLocation": format!("{}/v1.0/users/{user_id}/authentication/methods/{PASSWORD_METHOD_ID}", state.base()),
        }),
    );
    super::record_directory_audit(
        &mut tenant,
        &caller,
        "UserManagement",
        "Reset password (by admin)",
        target,
    );
    let mut response = if generated {
        (
            StatusCode::ACCEPTED,
            Json(json!({"newPassword": new_password})),
        )
            .into_response()
    } else {
        StatusCode::ACCEPTED.into_response()
    };
    if let Ok(v) = HeaderValue::from_str(&location) {
        response.headers_mut().insert("Location", v);
    }
    Ok(response)
}

pub(crate) async fn operation(
    State(state): State<Arc<SimState>>,
    headers: HeaderMap,
    Path((id, op)): Path<(String, String)>,
) -> Result<Json<Value>, GraphError> {
    let tenant = state.tenant.lock().await;
    let caller = authenticate(&state, &tenant, &headers)?;
    caller.require_scope(scopes::METHODS_READ)?;
    tenant.user(&id).ok_or_else(|| GraphError::not_found(&id))?;
    tenant
        .operations
        .get(&op)
        .cloned()
        .map(Json)
        .ok_or_else(|| GraphError::not_found(&op))
}

/// The method collections a method may be deleted through, by their `@odata.type`.
fn collection_type(collection: &str) -> Option<&'static str> {
    Some(match collection {
        "phoneMethods" => "#microsoft.graph.phoneAuthenticationMethod",
        "microsoftAuthenticatorMethods" => {
            "#microsoft.graph.microsoftAuthenticatorAuthenticationMethod"
        }
        "fido2Methods" => "#microsoft.graph.fido2AuthenticationMethod",
        "softwareOathMethods" => "#microsoft.graph.softwareOathAuthenticationMethod",
        "temporaryAccessPassMethods" => "#microsoft.graph.temporaryAccessPassAuthenticationMethod",
        _ => return None,
    })
}

/// `DELETE /users/{id}/authentication/{collection}/{method}`: removes one registered method
/// (an MFA reset). The method must belong to that collection; an admin needs the role that
/// manages the target's methods.
pub(crate) async fn delete_method(
    State(state): State<Arc<SimState>>,
    headers: HeaderMap,
    Path((id, collection, method)): Path<(String, String, String)>,
) -> Result<StatusCode, GraphError> {
    let mut tenant = state.tenant.lock().await;
    let caller = authenticate(&state, &tenant, &headers)?;
    caller.require_scope(scopes::METHODS_WRITE)?;
    let odata_type =
        collection_type(&collection).ok_or_else(|| GraphError::not_found(&collection))?;
    let user = tenant.user(&id).ok_or_else(|| GraphError::not_found(&id))?;
    if user.id() != caller.oid && !may_read_methods(&caller.roles, &facts(&tenant, user)) {
        return Err(GraphError::denied());
    }
    let found = user
        .methods
        .iter()
        .any(|m| m["id"] == method.as_str() && m["@odata.type"] == odata_type);
    if !found {
        return Err(GraphError::not_found(&method));
    }
    let user_id = user.id().to_owned();
    let target = user.audit_target(&[]);
    if let Some(user) = tenant.user_mut(&user_id) {
        user.methods.retain(|m| m["id"] != method.as_str());
    }
    super::record_directory_audit(
        &mut tenant,
        &caller,
        "UserManagement",
        "Admin deleted security info",
        target,
    );
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /users/{id}/authentication/temporaryAccessPassMethods`: a Temporary Access Pass. The
/// pass itself is in this answer only; listing the methods later shows it without.
pub(crate) async fn create_tap(
    State(state): State<Arc<SimState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Option<Json<Value>>,
) -> Result<Response, GraphError> {
    let mut tenant = state.tenant.lock().await;
    let caller = authenticate(&state, &tenant, &headers)?;
    caller.require_scope(scopes::METHODS_WRITE)?;
    let user = tenant.user(&id).ok_or_else(|| GraphError::not_found(&id))?;
    if !may_read_methods(&caller.roles, &facts(&tenant, user)) {
        return Err(GraphError::denied());
    }
    let body = body.map(|Json(b)| b).unwrap_or_else(|| json!({}));
    let lifetime = body
        .get("lifetimeInMinutes")
        .and_then(Value::as_i64)
        .unwrap_or(60);
    if !(10..=43_200).contains(&lifetime) {
        return Err(GraphError::bad_request(
            "lifetimeInMinutes must be between 10 and 43200.",
        ));
    }
    let usable_once = body
        .get("isUsableOnce")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if user
        .methods
        .iter()
        .any(|m| m["@odata.type"] == "#microsoft.graph.temporaryAccessPassAuthenticationMethod")
    {
        return Err(GraphError::bad_request(
            "A Temporary Access Pass already exists for this user; delete it before creating another.",
        ));
    }
    let now = Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let pass: String = {
        const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789";
        let mut rng = rand::rng();
        (0..8)
            .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
            .collect()
    };
    let method_id = uuid::Uuid::new_v4().to_string();
    let stored = json!({
        "@odata.type": "#microsoft.graph.temporaryAccessPassAuthenticationMethod",
        "id": method_id,
        "temporaryAccessPass": null,
        "createdDateTime": now,
        "startDateTime": now,
        "lifetimeInMinutes": lifetime,
        "isUsableOnce": usable_once,
        "isUsable": true,
        "methodUsabilityReason": "EnabledByPolicy",
    });
    let mut answer = stored.clone();
    answer["temporaryAccessPass"] = json!(pass);
    answer["@odata.context"] = json!(format!(
        "{}/v1.0/$metadata#users('{}')/authentication/temporaryAccessPassMethods/$entity",
        state.base(),
        user.id()
    ));
    let user_id = user.id().to_owned();
    let target = user.audit_target(&[]);
    if let Some(user) = tenant.user_mut(&user_id) {
        user.methods.push(stored);
    }
    super::record_directory_audit(
        &mut tenant,
        &caller,
        "UserManagement",
        "Admin registered security info",
        target,
    );
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}
