//! Licences: the organisation's subscriptions (`/subscribedSkus`, seats counted as they are
//! assigned) and `assignLicense` on a user, which needs the user's `usageLocation` first and a
//! free seat of every licence added.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use serde_json::{Value, json};

use super::users::user_view;
use crate::SimState;
use crate::auth::{authenticate, scopes};
use crate::error::GraphError;
use crate::roles::may_assign_licenses;

pub(crate) async fn subscribed_skus(
    State(state): State<Arc<SimState>>,
    headers: HeaderMap,
) -> Result<Json<Value>, GraphError> {
    let tenant = state.tenant.lock().await;
    let caller = authenticate(&state, &tenant, &headers)?;
    caller.require_scope(scopes::SKUS_READ)?;
    Ok(Json(json!({
        "@odata.context": format!("{}/v1.0/$metadata#subscribedSkus", state.base()),
        "value": tenant.subscribed_skus,
    })))
}

fn sku_ids(list: &Value) -> Vec<String> {
    list.as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.get("skuId").and_then(Value::as_str).or(v.as_str()))
        .map(str::to_owned)
        .collect()
}

pub(crate) async fn assign_license(
    State(state): State<Arc<SimState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> Result<Json<Value>, GraphError> {
    let mut tenant = state.tenant.lock().await;
    let caller = authenticate(&state, &tenant, &headers)?;
    caller.require_scope(scopes::LICENSE_WRITE)?;
    if !may_assign_licenses(&caller.roles) {
        return Err(GraphError::denied());
    }
    let (Some(add), Some(remove)) = (body.get("addLicenses"), body.get("removeLicenses")) else {
        return Err(GraphError::bad_request(
            "Both addLicenses and removeLicenses must be present (either may be empty).",
        ));
    };
    let (add, remove) = (sku_ids(add), sku_ids(remove));
    let user = tenant.user(&id).ok_or_else(|| GraphError::not_found(&id))?;
    let user_id = user.id().to_owned();
    if !add.is_empty()
        && user
            .props
            .get("usageLocation")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
    {
        return Err(GraphError::bad_request(
            "License assignment cannot be done for user with invalid usage location.",
        ));
    }
    let held: Vec<String> = sku_ids(user.props.get("assignedLicenses").unwrap_or(&Value::Null));
    for sku in add.iter().chain(&remove) {
        if !tenant
            .subscribed_skus
            .iter()
            .any(|s| s["skuId"] == sku.as_str())
        {
            return Err(GraphError::bad_request(format!(
                "License {sku} does not correspond to a valid company License."
            )));
        }
    }
    for sku in add.iter().filter(|s| !held.contains(s)) {
        let free = tenant
            .subscribed_skus
            .iter()
            .find(|s| s["skuId"] == sku.as_str())
            .map_or(0, |s| {
                s["prepaidUnits"]["enabled"].as_i64().unwrap_or(0)
                    - s["consumedUnits"].as_i64().unwrap_or(0)
            });
        if free <= 0 {
            return Err(GraphError::bad_request(format!(
                "Subscription with SKU {sku} does not have any available licenses."
            )));
        }
    }
    // Seats follow the assignments.
    for s in tenant.subscribed_skus.iter_mut() {
        let sku = s["skuId"].as_str().unwrap_or_default().to_owned();
        let consumed = s["consumedUnits"].as_i64().unwrap_or(0);
        if add.contains(&sku) && !held.contains(&sku) {
            s["consumedUnits"] = json!(consumed + 1);
        } else if remove.contains(&sku) && held.contains(&sku) {
            s["consumedUnits"] = json!((consumed - 1).max(0));
        }
    }
    let mut licenses: Vec<Value> = held
        .iter()
        .filter(|s| !remove.contains(s))
        .map(|s| json!({"skuId": s, "disabledPlans": []}))
        .collect();
    for sku in add.iter().filter(|s| !held.contains(s)) {
        licenses.push(json!({"skuId": sku, "disabledPlans": []}));
    }
    let target;
    {
        let user = tenant
            .user_mut(&user_id)
            .ok_or_else(|| GraphError::not_found(&user_id))?;
        user.props
            .insert("assignedLicenses".into(), Value::Array(licenses));
        target = user.audit_target(&["AssignedLicense"]);
    }
    super::record_directory_audit(
        &mut tenant,
        &caller,
        "UserManagement",
        "Change user license",
        target,
    );
    let user = tenant
        .user(&user_id)
        .ok_or_else(|| GraphError::not_found(&user_id))?;
    Ok(Json(user_view(user, None)?))
}
