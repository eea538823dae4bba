//! Microsoft Graph v1.0 routes served by the simulator.

mod audit;
mod batch;
mod devices;
mod files;
mod groups;
mod licenses;
mod lifecycle;
mod logs;
mod mailbox;
mod methods;
mod owners;
mod properties;
mod risk;
mod teams;
mod users;

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::routing::{delete, get, post};

use crate::SimState;

pub(crate) use audit::record_directory_audit;

/// Query-string parameters as sent (Graph's `$`-prefixed options included).
pub(crate) type Query = axum::extract::Query<BTreeMap<String, String>>;

/// The `/v1.0` router.
pub(crate) fn routes() -> Router<Arc<SimState>> {
    Router::new()
        .route("/v1.0/me", get(users::me))
        .route("/v1.0/$batch", post(batch::batch))
        .route("/v1.0/users", get(users::list).post(lifecycle::create))
        .route("/v1.0/users/{id}", get(users::get_one).patch(users::update))
        .route("/v1.0/users/{id}/memberOf", get(users::member_of))
        .route("/v1.0/users/{id}/manager", get(users::manager))
        .route(
            "/v1.0/users/{id}/manager/$ref",
            axum::routing::put(lifecycle::set_manager).delete(lifecycle::remove_manager),
        )
        .route(
            "/v1.0/users/{id}/revokeSignInSessions",
            post(users::revoke_sessions),
        )
        .route(
            "/v1.0/users/{id}/authentication/methods",
            get(methods::list),
        )
        .route(
            "/v1.0/users/{id}/authentication/methods/{method}/resetPassword",
            post(methods::reset_password),
        )
        .route(
            "/v1.0/users/{id}/authentication/operations/{op}",
            get(methods::operation),
        )
        .route(
            "/v1.0/users/{id}/authentication/temporaryAccessPassMethods",
            post(methods::create_tap),
        )
        .route(
            "/v1.0/users/{id}/authentication/{collection}/{method}",
            delete(methods::delete_method),
        )
        .route("/v1.0/groups", get(groups::list))
        .route("/v1.0/groups/{id}", get(groups::get_one))
        .route("/v1.0/groups/{id}/members", get(groups::members))
        .route("/v1.0/groups/{id}/members/$ref", post(groups::add_member))
        .route(
            "/v1.0/groups/{id}/members/{member}/$ref",
            delete(groups::remove_member),
        )
        .route("/v1.0/groups/{id}/owners", get(owners::list))
        .route("/v1.0/groups/{id}/owners/$ref", post(owners::add))
        .route(
            "/v1.0/groups/{id}/owners/{owner}/$ref",
            delete(owners::remove),
        )
        .route("/v1.0/sites/{id}", get(files::get_site))
        .route("/v1.0/sites/{id}/drive", get(files::site_drive))
        .route("/v1.0/users/{id}/drive", get(files::user_drive))
        .route("/v1.0/drives/{drive}/items/{item}", get(files::get_item))
        .route(
            "/v1.0/drives/{drive}/items/{item}/permissions",
            get(files::list_permissions),
        )
        .route(
            "/v1.0/drives/{drive}/items/{item}/permissions/{permission}",
            get(files::get_permission).delete(files::delete_permission),
        )
        .route(
            "/v1.0/drives/{drive}/items/{item}/invite",
            post(files::invite),
        )
        .route(
            "/v1.0/drives/{drive}/items/{item}/createLink",
            post(files::create_link),
        )
        .route("/v1.0/teams/{id}", get(teams::get_team))
        .route(
            "/v1.0/teams/{id}/members",
            get(teams::list_members).post(teams::add_member),
        )
        .route(
            "/v1.0/teams/{id}/members/{membership}",
            delete(teams::remove_member),
        )
        .route("/v1.0/auditLogs/signIns", get(logs::sign_ins))
        .route("/v1.0/subscribedSkus", get(licenses::subscribed_skus))
        .route(
            "/v1.0/users/{id}/assignLicense",
            post(licenses::assign_license),
        )
        .route("/v1.0/identityProtection/riskyUsers", get(risk::list))
        .route(
            "/v1.0/identityProtection/riskyUsers/confirmCompromised",
            post(risk::confirm_compromised),
        )
        .route(
            "/v1.0/identityProtection/riskyUsers/dismiss",
            post(risk::dismiss),
        )
        .route(
            "/v1.0/identityProtection/riskyUsers/{id}",
            get(risk::get_one),
        )
        .route(
            "/v1.0/auditLogs/directoryAudits",
            get(logs::directory_audits),
        )
        .route("/v1.0/deviceManagement/managedDevices", get(devices::list))
        .route(
            "/v1.0/deviceManagement/managedDevices/{id}",
            get(devices::get_one),
        )
        .route(
            "/v1.0/deviceManagement/managedDevices/{id}/deviceCompliancePolicyStates",
            get(devices::compliance_states),
        )
        .route(
            "/v1.0/deviceManagement/managedDevices/{id}/syncDevice",
            post(devices::sync),
        )
        .route(
            "/v1.0/deviceManagement/managedDevices/{id}/rebootNow",
            post(devices::reboot),
        )
        .route(
            "/v1.0/deviceManagement/managedDevices/{id}/remoteLock",
            post(devices::remote_lock),
        )
        .route(
            "/v1.0/deviceManagement/managedDevices/{id}/resetPasscode",
            post(devices::reset_passcode),
        )
        .route(
            "/v1.0/deviceManagement/managedDevices/{id}/retire",
            post(devices::retire),
        )
        .route(
            "/v1.0/deviceManagement/managedDevices/{id}/wipe",
            post(devices::wipe),
        )
        .route("/v1.0/users/{id}/managedDevices", get(devices::of_user))
        .route(
            "/v1.0/users/{id}/mailboxSettings",
            get(mailbox::get_settings).patch(mailbox::update_settings),
        )
        .route(
            "/v1.0/users/{id}/mailFolders/{folder}/messageRules",
            get(mailbox::list_rules).post(mailbox::create_rule),
        )
        .route(
            "/v1.0/users/{id}/mailFolders/{folder}/messageRules/{rule}",
            get(mailbox::get_rule).delete(mailbox::delete_rule),
        )
        .route(
            "/v1.0/users/{id}/calendar/calendarPermissions",
            get(mailbox::list_calendar_permissions).post(mailbox::add_calendar_permission),
        )
        .route(
            "/v1.0/users/{id}/calendar/calendarPermissions/{permission}",
            axum::routing::patch(mailbox::update_calendar_permission)
                .delete(mailbox::delete_calendar_permission),
        )
}

/// A collection as Graph answers it: `value` under the `@odata.context` of its entity set or
/// navigation path (`users('{id}')/managedDevices`), with `@odata.count` where the service sends
/// it unasked (Intune, Teams).
pub(crate) fn collection(
    state: &SimState,
    context: &str,
    items: Vec<serde_json::Value>,
    counted: bool,
) -> axum::Json<serde_json::Value> {
    let mut answer = serde_json::json!({
        "@odata.context": format!("{}/v1.0/$metadata#{context}", state.base()),
    });
    if counted {
        answer["@odata.count"] = serde_json::json!(items.len());
    }
    answer["value"] = serde_json::Value::Array(items);
    axum::Json(answer)
}

/// One object as Graph answers it: the view with its `@odata.context` (`users`, `groups`,
/// `directoryObjects`) and, where Graph names it, its `@odata.type`.
pub(crate) fn single_entity(
    mut view: serde_json::Value,
    state: &SimState,
    entity_set: &str,
    odata_type: Option<&str>,
) -> axum::Json<serde_json::Value> {
    if let Some(map) = view.as_object_mut() {
        if let Some(t) = odata_type {
            map.insert("@odata.type".into(), serde_json::json!(t));
        }
        map.insert(
            "@odata.context".into(),
            serde_json::json!(format!(
                "{}/v1.0/$metadata#{entity_set}/$entity",
                state.base()
            )),
        );
    }
    axum::Json(view)
}
