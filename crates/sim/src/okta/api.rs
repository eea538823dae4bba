//! The Management API routes.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use rand::Rng as _;
use serde_json::{Value, json};

use super::OktaState;
use super::store::{Org, now};

type Shared = State<Arc<OktaState>>;
type Params = Query<HashMap<String, String>>;

pub(super) fn routes() -> Router<Arc<OktaState>> {
    Router::new()
        .route("/api/v1/users", get(list_users))
        .route("/api/v1/users/{id}", get(get_user).post(update_user))
        .route("/api/v1/users/{id}/groups", get(user_groups))
        .route(
            "/api/v1/users/{id}/lifecycle/activate",
            lifecycle_route("activate"),
        )
        .route(
            "/api/v1/users/{id}/lifecycle/deactivate",
            lifecycle_route("deactivate"),
        )
        .route(
            "/api/v1/users/{id}/lifecycle/suspend",
            lifecycle_route("suspend"),
        )
        .route(
            "/api/v1/users/{id}/lifecycle/unsuspend",
            lifecycle_route("unsuspend"),
        )
        .route(
            "/api/v1/users/{id}/lifecycle/unlock",
            lifecycle_route("unlock"),
        )
        .route(
            "/api/v1/users/{id}/lifecycle/reset_password",
            lifecycle_route("reset_password"),
        )
        .route(
            "/api/v1/users/{id}/lifecycle/expire_password",
            lifecycle_route("expire_password"),
        )
        .route(
            "/api/v1/users/{id}/lifecycle/expire_password_with_temp_password",
            lifecycle_route("expire_password_with_temp_password"),
        )
        .route(
            "/api/v1/users/{id}/lifecycle/reset_factors",
            lifecycle_route("reset_factors"),
        )
        .route("/api/v1/users/{id}/sessions", delete(clear_sessions))
        .route("/api/v1/users/{id}/factors", get(list_factors))
        .route("/api/v1/users/{id}/factors/{factor}", delete(delete_factor))
        .route("/api/v1/groups", get(list_groups))
        .route("/api/v1/groups/{group}/users", get(group_users))
        .route(
            "/api/v1/groups/{group}/users/{id}",
            put(add_member).delete(remove_member),
        )
        .route("/api/v1/apps", get(list_apps))
        .route("/api/v1/apps/{app}/users", get(app_users).post(assign_app))
        .route("/api/v1/apps/{app}/users/{id}", delete(unassign_app))
        .route("/api/v1/logs", get(logs))
        .layer(middleware::from_fn(rate_limit_headers))
}

/// Okta's error body.
pub(super) fn error(status: StatusCode, code: &str, summary: &str, causes: &[String]) -> Response {
    let id: String = rand::rng()
        .sample_iter(rand::distr::Alphanumeric)
        .take(25)
        .map(char::from)
        .collect();
    (
        status,
        axum::Json(json!({
            "errorCode": code,
            "errorSummary": summary,
            "errorLink": code,
            "errorId": format!("oae{id}"),
            "errorCauses": causes.iter().map(|c| json!({"errorSummary": c})).collect::<Vec<_>>(),
        })),
    )
        .into_response()
}

fn not_found(what: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "E0000007",
        &format!("Not found: Resource not found: {what} (User)"),
        &[],
    )
}

fn denied() -> Response {
    error(
        StatusCode::FORBIDDEN,
        "E0000006",
        "You do not have permission to perform the requested action",
        &[],
    )
}

fn invalid(summary: &str) -> Response {
    error(
        StatusCode::BAD_REQUEST,
        "E0000001",
        &format!("Api validation failed: {summary}"),
        &[summary.to_owned()],
    )
}

/// Every answer carries Okta's rate-limit headers; a 429 says when the window resets.
async fn rate_limit_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let reset = (chrono::Utc::now().timestamp() + 60).to_string();
    let remaining = if response.status() == StatusCode::TOO_MANY_REQUESTS {
        "0"
    } else {
        "599"
    };
    let h = response.headers_mut();
    h.insert("x-rate-limit-limit", HeaderValue::from_static("600"));
    h.insert(
        "x-rate-limit-remaining",
        HeaderValue::from_static(remaining),
    );
    if let Ok(v) = HeaderValue::from_str(&reset) {
        h.insert("x-rate-limit-reset", v);
    }
    response
}

/// What a call needs: a scope (a `.manage` scope also reads) and one of some admin roles.
struct Need {
    scope: &'static str,
    roles: &'static [&'static str],
}

const READ_USERS: Need = Need {
    scope: "okta.users.read",
    roles: &[
        "SUPER_ADMIN",
        "ORG_ADMIN",
        "HELP_DESK_ADMIN",
        "READ_ONLY_ADMIN",
        "GROUP_MEMBERSHIP_ADMIN",
        "APP_ADMIN",
        "REPORT_ADMIN",
    ],
};
const MANAGE_USERS: Need = Need {
    scope: "okta.users.manage",
    roles: &["SUPER_ADMIN", "ORG_ADMIN", "HELP_DESK_ADMIN"],
};
const READ_GROUPS: Need = Need {
    scope: "okta.groups.read",
    roles: READ_USERS.roles,
};
const MANAGE_GROUPS: Need = Need {
    scope: "okta.groups.manage",
    roles: &["SUPER_ADMIN", "ORG_ADMIN", "GROUP_MEMBERSHIP_ADMIN"],
};
const READ_APPS: Need = Need {
    scope: "okta.apps.read",
    roles: READ_USERS.roles,
};
const MANAGE_APPS: Need = Need {
    scope: "okta.apps.manage",
    roles: &["SUPER_ADMIN", "ORG_ADMIN", "APP_ADMIN"],
};
const READ_LOGS: Need = Need {
    scope: "okta.logs.read",
    roles: &[
        "SUPER_ADMIN",
        "ORG_ADMIN",
        "HELP_DESK_ADMIN",
        "READ_ONLY_ADMIN",
        "REPORT_ADMIN",
    ],
};

/// The acting user's id, or the answer Okta gives: 429 while throttled, 401 without a valid
/// token, 403 without the scope or an admin role that allows it.
#[expect(
    clippy::result_large_err,
    reason = "the error is the HTTP answer itself, returned at once"
)]
fn authorize(state: &OktaState, headers: &HeaderMap, need: &Need) -> Result<String, Response> {
    state.with(|org| {
        if org.throttle > 0 {
            org.throttle -= 1;
            return Err(error(
                StatusCode::TOO_MANY_REQUESTS,
                "E0000047",
                "API call exceeded rate limit due to too many requests.",
                &[],
            ));
        }
        let token = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        let Some(grant) = token.and_then(|t| org.access.get(t)).cloned() else {
            return Err(error(
                StatusCode::UNAUTHORIZED,
                "E0000011",
                "Invalid token provided",
                &[],
            ));
        };
        let manage = need.scope.replace(".read", ".manage");
        if !grant.scopes.iter().any(|s| s == need.scope || *s == manage) {
            return Err(error(
                StatusCode::FORBIDDEN,
                "E0000006",
                &format!("You do not have permission to perform the requested action (the token lacks {})", need.scope),
                &[],
            ));
        }
        let Some(user) = org.users.iter().find(|u| u.id == grant.user) else {
            return Err(denied());
        };
        if !user.roles.iter().any(|r| need.roles.contains(&r.as_str())) {
            return Err(denied());
        }
        Ok(user.id.clone())
    })
}

fn text<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// `attr eq "value"` clauses joined by `and` / `or` (Okta's filter and search expressions, the
/// subset an IT desk uses); attributes are dotted paths into the object.
fn matches_expression(object: &Value, expression: &str) -> Result<bool, String> {
    let lower = expression.replace(" OR ", " or ").replace(" AND ", " and ");
    let any: Vec<&str> = lower.split(" or ").collect();
    let mut result = false;
    for alternative in any {
        let mut all = true;
        for clause in alternative.split(" and ") {
            let clause = clause.trim().trim_matches(['(', ')']);
            let mut parts = clause.splitn(3, ' ');
            let (Some(attr), Some(op), Some(value)) = (parts.next(), parts.next(), parts.next())
            else {
                return Err(format!("cannot read the expression `{clause}`"));
            };
            let value = value.trim().trim_matches('"');
            // An attribute inside a list (`target.id`) matches when any element does.
            let actuals: Vec<String> = values_at(object, &attr.split('.').collect::<Vec<_>>())
                .into_iter()
                .map(|v| match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect();
            let compare = |a: &String| match op.to_ascii_lowercase().as_str() {
                "eq" => Ok(a.eq_ignore_ascii_case(value)),
                "sw" => Ok(a.to_lowercase().starts_with(&value.to_lowercase())),
                "gt" => Ok(a.as_str() > value),
                "ge" => Ok(a.as_str() >= value),
                "lt" => Ok(a.as_str() < value),
                "le" => Ok(a.as_str() <= value),
                other => Err(format!("the operator `{other}` is not supported")),
            };
            let mut ok = false;
            for a in &actuals {
                ok |= compare(a)?;
            }
            if actuals.is_empty() {
                compare(&String::new())?;
            }
            all &= ok;
        }
        result |= all;
    }
    Ok(result)
}

/// The values at a dotted path, descending into every element of a list on the way.
fn values_at<'v>(object: &'v Value, path: &[&str]) -> Vec<&'v Value> {
    let Some((first, rest)) = path.split_first() else {
        return vec![object];
    };
    match object {
        Value::Array(items) => items.iter().flat_map(|i| values_at(i, path)).collect(),
        Value::Object(map) => map
            .get(*first)
            .map(|v| values_at(v, rest))
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// One page of `items` after the cursor, with Okta's `Link` headers.
fn page(
    state: &OktaState,
    path: &str,
    q: &HashMap<String, String>,
    items: Vec<(String, Value)>,
    max: usize,
) -> Response {
    let limit = q
        .get("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(max)
        .clamp(1, max);
    let start = match q.get("after") {
        Some(after) => items
            .iter()
            .position(|(id, _)| id == after)
            .map_or(items.len(), |p| p + 1),
        None => 0,
    };
    let chunk: Vec<Value> = items
        .iter()
        .skip(start)
        .take(limit)
        .map(|(_, v)| v.clone())
        .collect();
    let mut links = vec![format!(
        "<{}{path}?limit={limit}>; rel=\"self\"",
        state.base_url
    )];
    if start + limit < items.len()
        && let Some((last, _)) = items.get(start + limit - 1)
    {
        let mut next = format!("{}{path}?limit={limit}&after={last}", state.base_url);
        for key in ["q", "filter", "search", "since", "until", "sortOrder"] {
            if let Some(v) = q.get(key) {
                let encoded: String = url::form_urlencoded::byte_serialize(v.as_bytes()).collect();
                next.push_str(&format!("&{key}={encoded}"));
            }
        }
        links.push(format!("<{next}>; rel=\"next\""));
    }
    let mut response = axum::Json(Value::Array(chunk)).into_response();
    for link in links {
        if let Ok(v) = HeaderValue::from_str(&link) {
            response.headers_mut().append(header::LINK, v);
        }
    }
    response
}

async fn list_users(State(s): Shared, headers: HeaderMap, Query(q): Params) -> Response {
    if let Err(r) = authorize(&s, &headers, &READ_USERS) {
        return r;
    }
    let users: Vec<(String, Value)> = s.with(|o| {
        o.users
            .iter()
            .map(|u| (u.id.clone(), o.show_user(u)))
            .collect()
    });
    let mut kept = Vec::new();
    for (id, u) in users {
        let ok = if let Some(term) = q.get("q") {
            let t = term.to_lowercase();
            [
                "/profile/firstName",
                "/profile/lastName",
                "/profile/email",
                "/profile/login",
            ]
            .iter()
            .any(|p| text(&u, p).to_lowercase().starts_with(&t))
        } else if let Some(expr) = q.get("search").or_else(|| q.get("filter")) {
            match matches_expression(&u, expr) {
                Ok(b) => b,
                Err(e) => return invalid(&e),
            }
        } else {
            text(&u, "/status") != "DEPROVISIONED"
        };
        if ok {
            kept.push((id, u));
        }
    }
    page(&s, "/api/v1/users", &q, kept, 200)
}

async fn get_user(State(s): Shared, headers: HeaderMap, Path(id): Path<String>) -> Response {
    // `me` is the token's own user, readable by anyone signed in.
    if id == "me" {
        let token = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .unwrap_or_default()
            .to_owned();
        return s.with(|o| match o.access.get(&token).map(|g| g.user.clone()) {
            Some(user) => match o.users.iter().find(|u| u.id == user) {
                Some(u) => axum::Json(o.show_user(u)).into_response(),
                None => not_found("me"),
            },
            None => error(
                StatusCode::UNAUTHORIZED,
                "E0000011",
                "Invalid token provided",
                &[],
            ),
        });
    }
    if let Err(r) = authorize(&s, &headers, &READ_USERS) {
        return r;
    }
    s.with(|o| match o.user_by_key(&id) {
        Some(u) => axum::Json(o.show_user(u)).into_response(),
        None => not_found(&id),
    })
}

async fn update_user(
    State(s): Shared,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let actor = match authorize(&s, &headers, &MANAGE_USERS) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "E0000003",
            "The request body was not well-formed.",
            &[],
        );
    };
    let Some(profile) = body.get("profile").and_then(Value::as_object) else {
        return invalid("profile: the update needs a profile object");
    };
    if body
        .as_object()
        .is_some_and(|b| b.keys().any(|k| k != "profile" && k != "credentials"))
    {
        return invalid("only profile and credentials can be updated");
    }
    for (key, value) in profile {
        if (key == "login" || key == "email") && !value.as_str().is_some_and(|v| v.contains('@')) {
            return invalid(&format!("{key}: Does not match required pattern"));
        }
    }
    s.with(|o| {
        let Some(i) = o.user_index(&id) else {
            return not_found(&id);
        };
        let uid = o.users[i].id.clone();
        if let Some(p) = o.users[i].profile.as_object_mut() {
            for (k, v) in profile {
                p.insert(k.clone(), v.clone());
            }
        }
        o.users[i].last_updated = now();
        o.log_change(
            &actor,
            "user.account.update_profile",
            "Update user profile for Okta",
            &uid,
        );
        axum::Json(o.show_user(&o.users[i])).into_response()
    })
}

async fn user_groups(State(s): Shared, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if let Err(r) = authorize(&s, &headers, &READ_GROUPS) {
        return r;
    }
    s.with(|o| {
        let Some(uid) = o.user_by_key(&id).map(|u| u.id.clone()) else {
            return not_found(&id);
        };
        let groups: Vec<Value> = o
            .groups
            .iter()
            .filter(|g| g.members.contains(&uid))
            .map(|g| o.show_group(g))
            .collect();
        axum::Json(groups).into_response()
    })
}

fn temp_password() -> String {
    let mut rng = rand::rng();
    let letters: String = (0..6)
        .map(|_| {
            char::from(b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz"[rng.random_range(0..48)])
        })
        .collect();
    format!("{letters}{}", rng.random_range(10..99))
}

/// `POST /api/v1/users/{id}/lifecycle/<verb>`.
fn lifecycle_route(verb: &'static str) -> axum::routing::MethodRouter<Arc<OktaState>> {
    post(
        move |s: Shared, headers: HeaderMap, Path(id): Path<String>, q: Params| {
            lifecycle(s, headers, id, verb, q)
        },
    )
}

async fn lifecycle(
    State(s): Shared,
    headers: HeaderMap,
    id: String,
    verb: &str,
    Query(q): Params,
) -> Response {
    let actor = match authorize(&s, &headers, &MANAGE_USERS) {
        Ok(a) => a,
        Err(r) => return r,
    };
    s.with(|o| {
        let Some(i) = o.user_index(&id) else {
            return not_found(&id);
        };
        let uid = o.users[i].id.clone();
        let status = o.users[i].status.clone();
        let revoke = q.get("revokeSessions").is_some_and(|v| v == "true");
        if status == "DEPROVISIONED" && verb != "activate" && verb != "deactivate" {
            return invalid("the user is deactivated: activate it first");
        }
        let (new_status, answer, event, message): (&str, Value, &str, &str) = match verb {
            "activate" => {
                if status == "ACTIVE" {
                    return error(StatusCode::FORBIDDEN, "E0000016", "Activation failed because the user is already active", &[]);
                }
                ("ACTIVE", json!({}), "user.lifecycle.activate", "Activate Okta user")
            }
            "deactivate" => ("DEPROVISIONED", Value::Null, "user.lifecycle.deactivate", "Deactivate Okta user"),
            "suspend" => {
                if status != "ACTIVE" {
                    return invalid("Cannot suspend a user that is not active");
                }
                ("SUSPENDED", Value::Null, "user.lifecycle.suspend", "Suspend Okta user")
            }
            "unsuspend" => {
                if status != "SUSPENDED" {
                    return invalid("Cannot unsuspend a user that is not suspended");
                }
                ("ACTIVE", Value::Null, "user.lifecycle.unsuspend", "Unsuspend Okta user")
            }
            "unlock" => {
                if status != "LOCKED_OUT" {
                    return error(StatusCode::FORBIDDEN, "E0000032", "Unlock is not allowed for this user.", &[]);
                }
                ("ACTIVE", Value::Null, "user.account.unlock_by_admin", "Unlock Okta user")
            }
            "reset_password" => {
                let Some(send) = q.get("sendEmail") else {
                    return error(StatusCode::BAD_REQUEST, "E0000028", "The request is missing a required parameter.", &["sendEmail".to_owned()]);
                };
                let answer = if send == "false" {
                    json!({"resetPasswordUrl": format!("{}/reset_password/{}", o.base_url, uuid::Uuid::new_v4().simple())})
                } else {
                    json!({})
                };
                ("RECOVERY", answer, "user.account.reset_password", "Reset Okta user password")
            }
            "expire_password" => ("PASSWORD_EXPIRED", Value::Null, "user.password.expire", "Expire Okta user password"),
            "expire_password_with_temp_password" => {
                let temp = temp_password();
                o.users[i].password = temp.clone();
                o.users[i].password_changed = now();
                ("PASSWORD_EXPIRED", json!({"tempPassword": temp}), "user.password.expire", "Expire Okta user password with a temporary one")
            }
            "reset_factors" => {
                o.factors.retain(|f| f.user != uid);
                (status.as_str(), Value::Null, "user.mfa.factor.reset_all", "Reset all factors for user")
            }
            _ => return error(StatusCode::NOT_FOUND, "E0000022", "The endpoint does not support the provided HTTP method", &[]),
        };
        o.users[i].status = new_status.to_owned();
        o.users[i].status_changed = now();
        o.users[i].last_updated = now();
        if revoke || verb == "deactivate" || verb == "suspend" {
            o.users[i].sessions_cleared = Some(now());
        }
        o.log_change(&actor, event, message, &uid);
        match answer {
            // Okta answers these with an empty 200.
            Value::Null if verb != "expire_password" => StatusCode::OK.into_response(),
            Value::Null => axum::Json(o.show_user(&o.users[i])).into_response(),
            answer => axum::Json(answer).into_response(),
        }
    })
}

async fn clear_sessions(State(s): Shared, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let actor = match authorize(&s, &headers, &MANAGE_USERS) {
        Ok(a) => a,
        Err(r) => return r,
    };
    s.with(|o| {
        let Some(i) = o.user_index(&id) else {
            return not_found(&id);
        };
        let uid = o.users[i].id.clone();
        o.users[i].sessions_cleared = Some(now());
        o.log_change(&actor, "user.session.clear", "Clear user session", &uid);
        StatusCode::NO_CONTENT.into_response()
    })
}

async fn list_factors(State(s): Shared, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if let Err(r) = authorize(&s, &headers, &READ_USERS) {
        return r;
    }
    s.with(|o| {
        let Some(uid) = o.user_by_key(&id).map(|u| u.id.clone()) else {
            return not_found(&id);
        };
        let list: Vec<Value> = o
            .factors
            .iter()
            .filter(|f| f.user == uid)
            .map(|f| f.body.clone())
            .collect();
        axum::Json(list).into_response()
    })
}

async fn delete_factor(
    State(s): Shared,
    headers: HeaderMap,
    Path((id, factor)): Path<(String, String)>,
) -> Response {
    let actor = match authorize(&s, &headers, &MANAGE_USERS) {
        Ok(a) => a,
        Err(r) => return r,
    };
    s.with(|o| {
        let Some(uid) = o.user_by_key(&id).map(|u| u.id.clone()) else {
            return not_found(&id);
        };
        let before = o.factors.len();
        o.factors
            .retain(|f| !(f.user == uid && text(&f.body, "/id") == factor));
        if o.factors.len() == before {
            return error(
                StatusCode::NOT_FOUND,
                "E0000007",
                &format!("Not found: Resource not found: {factor} (UserFactor)"),
                &[],
            );
        }
        o.log_change(
            &actor,
            "user.mfa.factor.deactivate",
            "Reset factor for user",
            &uid,
        );
        StatusCode::NO_CONTENT.into_response()
    })
}

async fn list_groups(State(s): Shared, headers: HeaderMap, Query(q): Params) -> Response {
    if let Err(r) = authorize(&s, &headers, &READ_GROUPS) {
        return r;
    }
    let groups: Vec<(String, Value)> = s.with(|o| {
        o.groups
            .iter()
            .filter(|g| {
                q.get("q").is_none_or(|t| {
                    text(&g.profile, "/name")
                        .to_lowercase()
                        .starts_with(&t.to_lowercase())
                })
            })
            .map(|g| (g.id.clone(), o.show_group(g)))
            .collect()
    });
    page(&s, "/api/v1/groups", &q, groups, 10_000)
}

async fn group_users(
    State(s): Shared,
    headers: HeaderMap,
    Path(group): Path<String>,
    Query(q): Params,
) -> Response {
    if let Err(r) = authorize(&s, &headers, &READ_GROUPS) {
        return r;
    }
    let members = s.with(|o| {
        o.groups.iter().find(|g| g.id == group).map(|g| {
            g.members
                .iter()
                .filter_map(|m| o.users.iter().find(|u| &u.id == m))
                .map(|u| (u.id.clone(), o.show_user(u)))
                .collect::<Vec<_>>()
        })
    });
    match members {
        Some(m) => page(&s, &format!("/api/v1/groups/{group}/users"), &q, m, 1000),
        None => error(
            StatusCode::NOT_FOUND,
            "E0000007",
            &format!("Not found: Resource not found: {group} (UserGroup)"),
            &[],
        ),
    }
}

fn membership(s: &OktaState, headers: &HeaderMap, group: &str, id: &str, add: bool) -> Response {
    let actor = match authorize(s, headers, &MANAGE_GROUPS) {
        Ok(a) => a,
        Err(r) => return r,
    };
    s.with(|o: &mut Org| {
        let Some(uid) = o.user_by_key(id).map(|u| u.id.clone()) else {
            return not_found(id);
        };
        let Some(g) = o.groups.iter_mut().find(|g| g.id == group) else {
            return error(StatusCode::NOT_FOUND, "E0000007", &format!("Not found: Resource not found: {group} (UserGroup)"), &[]);
        };
        if g.kind != "OKTA_GROUP" {
            return error(StatusCode::FORBIDDEN, "E0000006", "You do not have permission to perform the requested action (the group's members are managed elsewhere)", &[]);
        }
        if add && !g.members.contains(&uid) {
            g.members.push(uid.clone());
        } else if !add {
            g.members.retain(|m| m != &uid);
        }
        let (event, message) = if add {
            ("group.user_membership.add", "Add user to group membership")
        } else {
            ("group.user_membership.remove", "Remove user from group membership")
        };
        o.log_change(&actor, event, message, &uid);
        StatusCode::NO_CONTENT.into_response()
    })
}

async fn add_member(
    State(s): Shared,
    headers: HeaderMap,
    Path((group, id)): Path<(String, String)>,
) -> Response {
    membership(&s, &headers, &group, &id, true)
}

async fn remove_member(
    State(s): Shared,
    headers: HeaderMap,
    Path((group, id)): Path<(String, String)>,
) -> Response {
    membership(&s, &headers, &group, &id, false)
}

async fn list_apps(State(s): Shared, headers: HeaderMap, Query(q): Params) -> Response {
    if let Err(r) = authorize(&s, &headers, &READ_APPS) {
        return r;
    }
    let apps: Vec<(String, Value)> = s.with(|o| {
        o.apps
            .iter()
            .filter(|a| {
                q.get("q").is_none_or(|t| {
                    text(&a.body, "/label")
                        .to_lowercase()
                        .starts_with(&t.to_lowercase())
                        || text(&a.body, "/name").starts_with(t.as_str())
                })
            })
            .map(|a| (a.id.clone(), a.body.clone()))
            .collect()
    });
    page(&s, "/api/v1/apps", &q, apps, 200)
}

fn app_user(o: &Org, app: &str, uid: &str) -> Value {
    let login = o
        .users
        .iter()
        .find(|u| u.id == uid)
        .map(|u| text(&u.profile, "/login").to_owned())
        .unwrap_or_default();
    json!({"id": uid, "scope": "USER", "status": "ACTIVE", "syncState": "DISABLED", "created": now(), "lastUpdated": now(),
           "credentials": {"userName": login}, "profile": {},
           "_links": {"app": {"href": format!("{}/api/v1/apps/{app}", o.base_url)}, "user": {"href": format!("{}/api/v1/users/{uid}", o.base_url)}}})
}

async fn app_users(
    State(s): Shared,
    headers: HeaderMap,
    Path(app): Path<String>,
    Query(q): Params,
) -> Response {
    if let Err(r) = authorize(&s, &headers, &READ_APPS) {
        return r;
    }
    let users = s.with(|o| {
        o.apps.iter().find(|a| a.id == app).map(|a| {
            a.users
                .iter()
                .map(|u| (u.clone(), app_user(o, &app, u)))
                .collect::<Vec<_>>()
        })
    });
    match users {
        Some(u) => page(&s, &format!("/api/v1/apps/{app}/users"), &q, u, 500),
        None => error(
            StatusCode::NOT_FOUND,
            "E0000007",
            &format!("Not found: Resource not found: {app} (AppInstance)"),
            &[],
        ),
    }
}

async fn assign_app(
    State(s): Shared,
    headers: HeaderMap,
    Path(app): Path<String>,
    body: Bytes,
) -> Response {
    let actor = match authorize(&s, &headers, &MANAGE_APPS) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "E0000003",
            "The request body was not well-formed.",
            &[],
        );
    };
    let Some(id) = body.get("id").and_then(Value::as_str).map(str::to_owned) else {
        return invalid("id: The user id is required");
    };
    s.with(|o| {
        let Some(uid) = o.user_by_key(&id).map(|u| u.id.clone()) else {
            return not_found(&id);
        };
        let Some(a) = o.apps.iter_mut().find(|a| a.id == app) else {
            return error(
                StatusCode::NOT_FOUND,
                "E0000007",
                &format!("Not found: Resource not found: {app} (AppInstance)"),
                &[],
            );
        };
        if !a.users.contains(&uid) {
            a.users.push(uid.clone());
        }
        o.log_change(
            &actor,
            "application.user_membership.add",
            "Add user to application membership",
            &uid,
        );
        axum::Json(app_user(o, &app, &uid)).into_response()
    })
}

async fn unassign_app(
    State(s): Shared,
    headers: HeaderMap,
    Path((app, id)): Path<(String, String)>,
) -> Response {
    let actor = match authorize(&s, &headers, &MANAGE_APPS) {
        Ok(a) => a,
        Err(r) => return r,
    };
    s.with(|o| {
        let Some(uid) = o.user_by_key(&id).map(|u| u.id.clone()) else {
            return not_found(&id);
        };
        let Some(a) = o.apps.iter_mut().find(|a| a.id == app) else {
            return error(
                StatusCode::NOT_FOUND,
                "E0000007",
                &format!("Not found: Resource not found: {app} (AppInstance)"),
                &[],
            );
        };
        if !a.users.contains(&uid) {
            return error(
                StatusCode::NOT_FOUND,
                "E0000007",
                &format!("Not found: Resource not found: {uid} (AppUser)"),
                &[],
            );
        }
        a.users.retain(|u| u != &uid);
        o.log_change(
            &actor,
            "application.user_membership.remove",
            "Remove user from application membership",
            &uid,
        );
        StatusCode::NO_CONTENT.into_response()
    })
}

async fn logs(State(s): Shared, headers: HeaderMap, Query(q): Params) -> Response {
    if let Err(r) = authorize(&s, &headers, &READ_LOGS) {
        return r;
    }
    let events = s.with(|o| o.logs.clone());
    let mut kept = Vec::new();
    for (i, e) in events.into_iter().enumerate() {
        let published = text(&e, "/published").to_owned();
        if q.get("since")
            .is_some_and(|since| published.as_str() < since.as_str())
            || q.get("until")
                .is_some_and(|until| published.as_str() > until.as_str())
        {
            continue;
        }
        if let Some(expr) = q.get("filter") {
            match matches_expression(&e, expr) {
                Ok(true) => {}
                Ok(false) => continue,
                Err(err) => return invalid(&err),
            }
        }
        if let Some(term) = q.get("q")
            && !e.to_string().to_lowercase().contains(&term.to_lowercase())
        {
            continue;
        }
        kept.push((i.to_string(), e));
    }
    if q.get("sortOrder").is_some_and(|o| o == "DESCENDING") {
        kept.reverse();
    }
    page(&s, "/api/v1/logs", &q, kept, 1000)
}
