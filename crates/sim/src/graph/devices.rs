//! Intune managed devices (`/deviceManagement/managedDevices`, `/users/{id}/managedDevices`):
//! inventory, per-policy compliance, and the remote actions (sync, restart, lock, passcode reset,
//! retire, wipe), each recorded in the device's `deviceActionResults` as Intune does.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use chrono::Utc;
use serde_json::{Value, json};

use super::Query;
use crate::SimState;
use crate::auth::{Caller, authenticate, scopes};
use crate::error::GraphError;
use crate::odata::{CollectionQuery, Filter};
use crate::roles::may_manage_devices;
use crate::state::{ManagedDevice, Tenant};

const FILTERABLE: &[&str] = &[
    "id",
    "deviceName",
    "userId",
    "userPrincipalName",
    "complianceState",
    "operatingSystem",
    "managementState",
    "serialNumber",
];

fn not_found(id: &str) -> GraphError {
    GraphError::new(
        StatusCode::NOT_FOUND,
        "ResourceNotFound",
        format!("Resource not found for the segment 'managedDevices' with id '{id}'."),
    )
}

fn forbidden() -> GraphError {
    GraphError::new(
        StatusCode::FORBIDDEN,
        "Forbidden",
        "Application is not authorized to perform this operation. The signed-in user needs an Intune role that allows it.",
    )
}

/// A device the caller may see: any, for an Intune administrator; their own, for anyone else.
fn visible<'a>(
    tenant: &'a Tenant,
    caller: &Caller,
    id: &str,
) -> Result<&'a ManagedDevice, GraphError> {
    let device = tenant.device(id).ok_or_else(|| not_found(id))?;
    if may_manage_devices(&caller.roles) || device.owner() == caller.oid {
        Ok(device)
    } else {
        Err(forbidden())
    }
}

pub(crate) async fn list(
    State(state): State<Arc<SimState>>,
    headers: HeaderMap,
    query: Query,
) -> Result<Json<Value>, GraphError> {
    let tenant = state.tenant.lock().await;
    let caller = authenticate(&state, &tenant, &headers)?;
    caller.require_scope(scopes::DEVICES_READ)?;
    if !may_manage_devices(&caller.roles) {
        return Err(forbidden());
    }
    let q = CollectionQuery::from_params(&query.0, 1000)?;
    let filter = q
        .filter
        .as_deref()
        .map(|f| Filter::parse(f, FILTERABLE, "managedDevice"))
        .transpose()?;
    let items: Vec<Value> = tenant
        .managed_devices
        .iter()
        .map(ManagedDevice::view)
        .filter(|d| filter.as_ref().is_none_or(|f| f.matches(d)))
        .collect();
    Ok(super::collection(
        &state,
        "deviceManagement/managedDevices",
        items,
        true,
    ))
}

pub(crate) async fn get_one(
    State(state): State<Arc<SimState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, GraphError> {
    let tenant = state.tenant.lock().await;
    let caller = authenticate(&state, &tenant, &headers)?;
    caller.require_scope(scopes::DEVICES_READ)?;
    let view = visible(&tenant, &caller, &id)?.view();
    Ok(super::single_entity(
        view,
        &state,
        "deviceManagement/managedDevices",
        None,
    ))
}

/// `GET /users/{id}/managedDevices`: the person's devices (their own, or any for an Intune
/// administrator).
pub(crate) async fn of_user(
    State(state): State<Arc<SimState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, GraphError> {
    let tenant = state.tenant.lock().await;
    let caller = authenticate(&state, &tenant, &headers)?;
    caller.require_scope(scopes::USER_DEVICES_READ)?;
    let user = tenant.user(&id).ok_or_else(|| GraphError::not_found(&id))?;
    if !(may_manage_devices(&caller.roles) || user.id() == caller.oid) {
        return Err(forbidden());
    }
    let items: Vec<Value> = tenant
        .managed_devices
        .iter()
        .filter(|d| d.owner() == user.id())
        .map(ManagedDevice::view)
        .collect();
    Ok(super::collection(
        &state,
        &format!("users('{}')/managedDevices", user.id()),
        items,
        true,
    ))
}

pub(crate) async fn compliance_states(
    State(state): State<Arc<SimState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, GraphError> {
    let tenant = state.tenant.lock().await;
    let caller = authenticate(&state, &tenant, &headers)?;
    caller.require_scope(scopes::COMPLIANCE_READ)?;
    let device = visible(&tenant, &caller, &id)?;
    Ok(super::collection(
        &state,
        &format!("deviceManagement/managedDevices('{id}')/deviceCompliancePolicyStates"),
        device.policy_states.clone(),
        true,
    ))
}

/// One remote action: checks scope and role, then records it on the device.
async fn act(
    state: &SimState,
    headers: &HeaderMap,
    id: &str,
    action: &str,
    required: &[&str],
) -> Result<StatusCode, GraphError> {
    let mut tenant = state.tenant.lock().await;
    let caller = authenticate(state, &tenant, headers)?;
    caller.require_scope(required)?;
    if !may_manage_devices(&caller.roles) {
        return Err(forbidden());
    }
    let device = tenant.device_mut(id).ok_or_else(|| not_found(id))?;
    let os = device
        .props
        .get("operatingSystem")
        .unwrap_or(&Value::Null)
        .as_str()
        .unwrap_or_default()
        .to_owned();
    if action == "resetPasscode" && !matches!(os.as_str(), "iOS" | "iPadOS" | "Android") {
        return Err(GraphError::new(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            format!("resetPasscode is not supported on {os} devices."),
        ));
    }
    let management = device
        .props
        .get("managementState")
        .unwrap_or(&Value::Null)
        .as_str()
        .unwrap_or("managed");
    if management != "managed" && action != "wipe" {
        return Err(GraphError::new(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            format!("The device is {management}; only a wipe can still be sent."),
        ));
    }
    let now = Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    match action {
        "syncDevice" => {
            device.props.insert("lastSyncDateTime".into(), json!(now));
        }
        "retire" => {
            device
                .props
                .insert("managementState".into(), json!("retirePending"));
        }
        "wipe" => {
            device
                .props
                .insert("managementState".into(), json!("wipePending"));
        }
        _ => {}
    }
    let results = device
        .props
        .entry("deviceActionResults")
        .or_insert_with(|| json!([]));
    if let Some(list) = results.as_array_mut() {
        list.retain(|r| r["actionName"] != action);
        list.push(json!({
            "actionName": action,
            "actionState": if action == "syncDevice" { "done" } else { "pending" },
            "startDateTime": now,
            "lastUpdatedDateTime": now,
        }));
    }
    Ok(StatusCode::NO_CONTENT)
}

macro_rules! device_action {
    ($name:ident, $action:literal, $scopes:expr) => {
        pub(crate) async fn $name(
            State(state): State<Arc<SimState>>,
            headers: HeaderMap,
            Path(id): Path<String>,
        ) -> Result<StatusCode, GraphError> {
            act(&state, &headers, &id, $action, $scopes).await
        }
    };
}

device_action!(sync, "syncDevice", scopes::DEVICE_ACTION);
device_action!(reboot, "rebootNow", scopes::DEVICE_ACTION);
device_action!(remote_lock, "remoteLock", scopes::DEVICE_ACTION);
device_action!(reset_passcode, "resetPasscode", scopes::DEVICE_ACTION);
device_action!(retire, "retire", scopes::DEVICE_ACTION);

/// `POST …/wipe` takes a body (`keepEnrollmentData`, `keepUserData`, …); unknown names are
/// refused as Graph refuses them.
pub(crate) async fn wipe(
    State(state): State<Arc<SimState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Option<Json<Value>>,
) -> Result<StatusCode, GraphError> {
    const KNOWN: &[&str] = &[
        "keepEnrollmentData",
        "keepUserData",
        "macOsUnlockCode",
        "persistEsimDataPlan",
    ];
    if let Some(Json(Value::Object(map))) = &body
        && let Some(bad) = map.keys().find(|k| !KNOWN.contains(&k.as_str()))
    {
        return Err(GraphError::bad_request(format!(
            "The parameter '{bad}' in the request payload is not a valid parameter for the operation 'wipe'."
        )));
    }
    act(&state, &headers, &id, "wipe", scopes::DEVICE_WIPE).await
}
