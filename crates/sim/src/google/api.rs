//! The Directory and Reports API routes.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use chrono::{SecondsFormat, Utc};
use serde_json::{Value, json};

use super::GoogleState;

type Shared = State<Arc<GoogleState>>;
type Params = Query<HashMap<String, String>>;

pub(super) fn routes() -> Router<Arc<GoogleState>> {
    Router::new()
        .route("/admin/directory/v1/users", get(list_users))
        .route(
            "/admin/directory/v1/users/{userKey}",
            get(get_user).patch(patch_user),
        )
        .route(
            "/admin/directory/v1/users/{userKey}/signOut",
            post(sign_out),
        )
        .route(
            "/admin/directory/v1/users/{userKey}/verificationCodes",
            get(list_codes),
        )
        .route(
            "/admin/directory/v1/users/{userKey}/verificationCodes/generate",
            post(generate_codes),
        )
        .route(
            "/admin/directory/v1/users/{userKey}/twoStepVerification/turnOff",
            post(turn_off_2sv),
        )
        .route(
            "/admin/directory/v1/groups/{groupKey}/members",
            get(list_members).post(insert_member),
        )
        .route(
            "/admin/directory/v1/groups/{groupKey}/members/{memberKey}",
            delete(delete_member).patch(patch_member),
        )
        .route(
            "/admin/directory/v1/customer/{customerId}/devices/mobile",
            get(list_devices),
        )
        .route(
            "/admin/directory/v1/customer/{customerId}/devices/mobile/{resourceId}/action",
            post(device_action),
        )
        .route(
            "/admin/reports/v1/activity/users/{userKey}/applications/{applicationName}",
            get(activities),
        )
}

/// Google's error body.
pub(super) fn error(code: u16, message: &str, reason: &str) -> Response {
    let status = match code {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        409 => "ALREADY_EXISTS",
        _ => "UNKNOWN",
    };
    (
        StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST),
        Json(json!({"error": {"code": code, "message": message, "errors": [{"message": message, "domain": "global", "reason": reason}], "status": status}})),
    )
        .into_response()
}

fn not_found(what: &str) -> Response {
    error(404, &format!("Resource Not Found: {what}"), "notFound")
}

/// A call's scope (any of them) and admin roles (any of them).
struct Need {
    scopes: &'static [&'static str],
    roles: &'static [&'static str],
}

const S: &str = "https://www.googleapis.com/auth/";
const USERS_READ: Need = Need {
    scopes: &["admin.directory.user", "admin.directory.user.readonly"],
    roles: &[
        "SUPER_ADMIN",
        "USER_MANAGEMENT",
        "HELP_DESK",
        "USER_SECURITY",
    ],
};
const USERS_WRITE: Need = Need {
    scopes: &["admin.directory.user"],
    roles: &["SUPER_ADMIN", "USER_MANAGEMENT", "HELP_DESK"],
};
const SECURITY: Need = Need {
    scopes: &["admin.directory.user.security"],
    roles: &["SUPER_ADMIN", "USER_SECURITY"],
};
const MEMBERS: Need = Need {
    scopes: &["admin.directory.group", "admin.directory.group.member"],
    roles: &["SUPER_ADMIN", "GROUPS"],
};
const MOBILE: Need = Need {
    scopes: &[
        "admin.directory.device.mobile",
        "admin.directory.device.mobile.action",
    ],
    roles: &["SUPER_ADMIN", "MOBILE"],
};
const REPORTS: Need = Need {
    scopes: &["admin.reports.audit.readonly"],
    roles: &["SUPER_ADMIN", "REPORTS"],
};

/// The acting user's index, or Google's refusal.
#[expect(
    clippy::result_large_err,
    reason = "the error is the HTTP answer itself, returned at once"
)]
fn authorize(s: &GoogleState, headers: &HeaderMap, need: &Need) -> Result<usize, Response> {
    s.with(|w| {
        let token = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer ")).map(str::trim);
        let Some(grant) = token.and_then(|t| w.access.get(t)).cloned() else {
            return Err(error(401, "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.", "authError"));
        };
        if !grant.scopes.iter().any(|g| need.scopes.iter().any(|n| g == &format!("{S}{n}"))) {
            return Err(error(403, "Request had insufficient authentication scopes.", "insufficientPermissions"));
        }
        let Some(i) = w.users.iter().position(|(u, _, _)| u["id"] == grant.user.as_str()) else {
            return Err(error(403, "Not Authorized to access this resource/api", "forbidden"));
        };
        if !w.users[i].2.iter().any(|r| need.roles.contains(&r.as_str())) {
            return Err(error(403, "Not Authorized to access this resource/api", "forbidden"));
        }
        Ok(i)
    })
}

/// A delegated admin may not change a super administrator.
fn may_change(w: &super::Workspace, actor: usize, target: usize) -> bool {
    w.users[actor].2.iter().any(|r| r == "SUPER_ADMIN") || w.users[target].0["isAdmin"] != true
}

async fn list_users(State(s): Shared, headers: HeaderMap, Query(q): Params) -> Response {
    if let Err(r) = authorize(&s, &headers, &USERS_READ) {
        return r;
    }
    let query = q.get("query").cloned().unwrap_or_default().to_lowercase();
    let users: Vec<Value> = s.with(|w| {
        w.users
            .iter()
            .map(|(u, _, _)| u.clone())
            .filter(|u| {
                query.is_empty()
                    || query.split_whitespace().all(|term| {
                        let term = term.trim_end_matches('*');
                        let (field, value) = term.split_once(':').unwrap_or(("", term));
                        let email = u["primaryEmail"]
                            .as_str()
                            .unwrap_or_default()
                            .to_lowercase();
                        let name = u["name"]["fullName"]
                            .as_str()
                            .unwrap_or_default()
                            .to_lowercase();
                        match field {
                            "email" => email.starts_with(value),
                            "name" => name.contains(value),
                            _ => email.starts_with(value) || name.contains(value),
                        }
                    })
            })
            .collect()
    });
    Json(json!({"kind": "admin#directory#users", "users": users})).into_response()
}

async fn get_user(State(s): Shared, headers: HeaderMap, Path(key): Path<String>) -> Response {
    if let Err(r) = authorize(&s, &headers, &USERS_READ) {
        return r;
    }
    s.with(|w| match w.user_index(&key) {
        Some(i) => Json(w.users[i].0.clone()).into_response(),
        None => not_found("userKey"),
    })
}

async fn patch_user(
    State(s): Shared,
    headers: HeaderMap,
    Path(key): Path<String>,
    body: Bytes,
) -> Response {
    let actor = match authorize(&s, &headers, &USERS_WRITE) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let Ok(Value::Object(body)) = serde_json::from_slice::<Value>(&body) else {
        return error(400, "Invalid JSON payload received.", "parseError");
    };
    s.with(|w| {
        let Some(i) = w.user_index(&key) else {
            return not_found("userKey");
        };
        if !may_change(w, actor, i) {
            return error(
                403,
                "Not Authorized to access this resource/api",
                "forbidden",
            );
        }
        if body.contains_key("suspended")
            && !w.users[actor]
                .2
                .iter()
                .any(|r| r == "SUPER_ADMIN" || r == "USER_MANAGEMENT")
        {
            return error(
                403,
                "Not Authorized to access this resource/api",
                "forbidden",
            );
        }
        if let Some(pw) = body.get("password") {
            let pw = pw.as_str().unwrap_or_default();
            if pw.chars().count() < 8 {
                return error(400, "Invalid Password", "invalid");
            }
            w.users[i].1 = pw.to_owned();
        }
        let user = &mut w.users[i].0;
        for (k, v) in &body {
            match k.as_str() {
                "password" | "hashFunction" => {}
                "suspended" => {
                    user["suspended"] = v.clone();
                    if v == true {
                        user["suspensionReason"] = json!("ADMIN");
                    } else if let Some(o) = user.as_object_mut() {
                        o.remove("suspensionReason");
                    }
                }
                "changePasswordAtNextLogin"
                | "orgUnitPath"
                | "recoveryEmail"
                | "recoveryPhone"
                | "name"
                | "archived" => {
                    user[k.as_str()] = v.clone();
                }
                other => {
                    return error(
                        400,
                        &format!("Invalid field selection {other}"),
                        "invalidParameter",
                    );
                }
            }
        }
        Json(user.clone()).into_response()
    })
}

fn security_call(
    s: &GoogleState,
    headers: &HeaderMap,
    key: &str,
    f: impl FnOnce(&mut super::Workspace, usize) -> Response,
) -> Response {
    let actor = match authorize(s, headers, &SECURITY) {
        Ok(a) => a,
        Err(r) => return r,
    };
    s.with(|w| {
        let Some(i) = w.user_index(key) else {
            return not_found("userKey");
        };
        if !may_change(w, actor, i) {
            return error(
                403,
                "Not Authorized to access this resource/api",
                "forbidden",
            );
        }
        f(w, i)
    })
}

async fn sign_out(State(s): Shared, headers: HeaderMap, Path(key): Path<String>) -> Response {
    security_call(&s, &headers, &key, |w, i| {
        let id = w.users[i].0["id"].as_str().unwrap_or_default().to_owned();
        w.signed_out
            .insert(id, Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true));
        StatusCode::NO_CONTENT.into_response()
    })
}

async fn list_codes(State(s): Shared, headers: HeaderMap, Path(key): Path<String>) -> Response {
    security_call(&s, &headers, &key, |w, i| {
        let id = w.users[i].0["id"].as_str().unwrap_or_default().to_owned();
        let items: Vec<Value> = w.codes.get(&id).cloned().unwrap_or_default().into_iter()
            .map(|c| json!({"kind": "admin#directory#verificationCode", "userId": id, "verificationCode": c}))
            .collect();
        Json(json!({"kind": "admin#directory#verificationCodesList", "items": items}))
            .into_response()
    })
}

async fn generate_codes(State(s): Shared, headers: HeaderMap, Path(key): Path<String>) -> Response {
    security_call(&s, &headers, &key, |w, i| {
        let id = w.users[i].0["id"].as_str().unwrap_or_default().to_owned();
        let codes: Vec<String> = (0..10)
            .map(|_| format!("{:08}", rand::random::<u32>() % 100_000_000))
            .collect();
        w.codes.insert(id, codes);
        StatusCode::NO_CONTENT.into_response()
    })
}

async fn turn_off_2sv(State(s): Shared, headers: HeaderMap, Path(key): Path<String>) -> Response {
    security_call(&s, &headers, &key, |w, i| {
        if w.users[i].0["isEnrolledIn2Sv"] != true {
            return error(
                400,
                "2-Step Verification is not turned on for this user",
                "invalid",
            );
        }
        w.users[i].0["isEnrolledIn2Sv"] = json!(false);
        StatusCode::NO_CONTENT.into_response()
    })
}

fn member_view(group: &Value, m: &Value) -> Value {
    json!({"kind": "admin#directory#member", "email": m["email"], "role": m["role"], "type": "USER", "status": "ACTIVE",
           "id": format!("{}-{}", group["id"].as_str().unwrap_or_default(), m["email"].as_str().unwrap_or_default().split('@').next().unwrap_or_default())})
}

async fn list_members(State(s): Shared, headers: HeaderMap, Path(group): Path<String>) -> Response {
    if let Err(r) = authorize(&s, &headers, &MEMBERS) {
        return r;
    }
    s.with(|w| {
        match w
            .groups
            .iter()
            .find(|g| g["id"] == group.as_str() || g["email"] == group.as_str())
        {
            Some(g) => {
                let members: Vec<Value> = g["members"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|m| member_view(g, m))
                    .collect();
                Json(json!({"kind": "admin#directory#members", "members": members})).into_response()
            }
            None => not_found("groupKey"),
        }
    })
}

async fn insert_member(
    State(s): Shared,
    headers: HeaderMap,
    Path(group): Path<String>,
    body: Bytes,
) -> Response {
    if let Err(r) = authorize(&s, &headers, &MEMBERS) {
        return r;
    }
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return error(400, "Invalid JSON payload received.", "parseError");
    };
    let Some(email) = body["email"].as_str().map(str::to_lowercase) else {
        return error(400, "Missing required field: memberKey", "required");
    };
    let role = body["role"].as_str().unwrap_or("MEMBER").to_owned();
    if !["MEMBER", "MANAGER", "OWNER"].contains(&role.as_str()) {
        return error(400, "Invalid role", "invalid");
    }
    s.with(|w| {
        if w.user_index(&email).is_none() {
            return not_found("memberKey");
        }
        let Some(g) = w
            .groups
            .iter_mut()
            .find(|g| g["id"] == group.as_str() || g["email"] == group.as_str())
        else {
            return not_found("groupKey");
        };
        let members = g["members"].as_array_mut();
        let Some(members) = members else {
            return not_found("groupKey");
        };
        if members.iter().any(|m| m["email"] == email.as_str()) {
            return error(409, "Member already exists.", "duplicate");
        }
        let m = json!({"email": email, "role": role});
        members.push(m.clone());
        let g = g.clone();
        Json(member_view(&g, &m)).into_response()
    })
}

async fn delete_member(
    State(s): Shared,
    headers: HeaderMap,
    Path((group, member)): Path<(String, String)>,
) -> Response {
    if let Err(r) = authorize(&s, &headers, &MEMBERS) {
        return r;
    }
    s.with(|w| {
        let Some(g) = w
            .groups
            .iter_mut()
            .find(|g| g["id"] == group.as_str() || g["email"] == group.as_str())
        else {
            return not_found("groupKey");
        };
        let Some(members) = g["members"].as_array_mut() else {
            return not_found("groupKey");
        };
        let before = members.len();
        members.retain(|m| {
            !m["email"]
                .as_str()
                .is_some_and(|e| e.eq_ignore_ascii_case(&member))
        });
        if members.len() == before {
            return not_found("memberKey");
        }
        StatusCode::NO_CONTENT.into_response()
    })
}

async fn patch_member(
    State(s): Shared,
    headers: HeaderMap,
    Path((group, member)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    if let Err(r) = authorize(&s, &headers, &MEMBERS) {
        return r;
    }
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return error(400, "Invalid JSON payload received.", "parseError");
    };
    let Some(role) = body["role"]
        .as_str()
        .filter(|r| ["MEMBER", "MANAGER", "OWNER"].contains(r))
        .map(str::to_owned)
    else {
        return error(400, "Invalid role", "invalid");
    };
    s.with(|w| {
        let Some(g) = w
            .groups
            .iter_mut()
            .find(|g| g["id"] == group.as_str() || g["email"] == group.as_str())
        else {
            return not_found("groupKey");
        };
        let view = g.clone();
        let Some(m) = g["members"].as_array_mut().and_then(|ms| {
            ms.iter_mut().find(|m| {
                m["email"]
                    .as_str()
                    .is_some_and(|e| e.eq_ignore_ascii_case(&member))
            })
        }) else {
            return not_found("memberKey");
        };
        m["role"] = json!(role);
        Json(member_view(&view, m)).into_response()
    })
}

async fn list_devices(
    State(s): Shared,
    headers: HeaderMap,
    Path(customer): Path<String>,
    Query(q): Params,
) -> Response {
    if let Err(r) = authorize(&s, &headers, &MOBILE) {
        return r;
    }
    let query = q.get("query").cloned().unwrap_or_default().to_lowercase();
    s.with(|w| {
        if customer != "my_customer" && customer != w.customer {
            return not_found("customerId");
        }
        let devices: Vec<Value> = w
            .devices
            .iter()
            .filter(|d| {
                let email = query.strip_prefix("email:").unwrap_or(&query);
                query.is_empty()
                    || d["email"].as_array().is_some_and(|e| {
                        e.iter()
                            .any(|x| x.as_str().is_some_and(|x| x.eq_ignore_ascii_case(email)))
                    })
            })
            .cloned()
            .collect();
        Json(json!({"kind": "admin#directory#mobiledevices", "mobiledevices": devices}))
            .into_response()
    })
}

async fn device_action(
    State(s): Shared,
    headers: HeaderMap,
    Path((customer, resource)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    if let Err(r) = authorize(&s, &headers, &MOBILE) {
        return r;
    }
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return error(400, "Invalid JSON payload received.", "parseError");
    };
    let action = body["action"].as_str().unwrap_or_default().to_owned();
    let known = [
        "admin_remote_wipe",
        "admin_account_wipe",
        "approve",
        "block",
        "cancel_remote_wipe_then_activate",
        "cancel_remote_wipe_then_block",
    ];
    if !known.contains(&action.as_str()) {
        return error(
            400,
            &format!("Invalid value for action: {action}"),
            "invalid",
        );
    }
    s.with(|w| {
        if customer != "my_customer" && customer != w.customer {
            return not_found("customerId");
        }
        let Some(d) = w
            .devices
            .iter_mut()
            .find(|d| d["resourceId"] == resource.as_str())
        else {
            return not_found("resourceId");
        };
        d["status"] = json!(match action.as_str() {
            "admin_remote_wipe" => "WIPING",
            "admin_account_wipe" => "ACCOUNT_WIPING",
            "block" | "cancel_remote_wipe_then_block" => "BLOCKED",
            _ => "APPROVED",
        });
        w.device_actions.push((resource.clone(), action.clone()));
        StatusCode::NO_CONTENT.into_response()
    })
}

async fn activities(
    State(s): Shared,
    headers: HeaderMap,
    Path((user, application)): Path<(String, String)>,
    Query(q): Params,
) -> Response {
    if let Err(r) = authorize(&s, &headers, &REPORTS) {
        return r;
    }
    if application != "login" {
        return Json(json!({"kind": "admin#reports#activities", "items": []})).into_response();
    }
    let start = q.get("startTime").cloned().unwrap_or_default();
    let event = q.get("eventName").cloned();
    let max = q
        .get("maxResults")
        .and_then(|m| m.parse::<usize>().ok())
        .unwrap_or(1000);
    s.with(|w| {
        if user != "all" && w.user_index(&user).is_none() {
            return not_found("userKey");
        }
        let mut items: Vec<Value> = w
            .logins
            .iter()
            .filter(|a| {
                user == "all"
                    || a["actor"]["email"]
                        .as_str()
                        .is_some_and(|e| e.eq_ignore_ascii_case(&user))
            })
            .filter(|a| a["id"]["time"].as_str().unwrap_or_default() >= start.as_str())
            .filter(|a| {
                event
                    .as_ref()
                    .is_none_or(|e| a["events"][0]["name"] == e.as_str())
            })
            .cloned()
            .collect();
        items.sort_by(|a, b| b["id"]["time"].as_str().cmp(&a["id"]["time"].as_str()));
        items.truncate(max);
        Json(json!({"kind": "admin#reports#activities", "items": items})).into_response()
    })
}
