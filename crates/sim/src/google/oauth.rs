//! Google's OAuth 2.0 endpoints as the simulator needs them: a sign-in page handing back a
//! one-time code (`/o/oauth2/v2/auth`), the token endpoint (`/token`: authorization code with
//! PKCE S256, refresh token — both with the client's secret when it has one, as Google wants —
//! and a password grant that stands in for a sign-in in tests), and OpenID Connect's user info
//! (`/v1/userinfo`). Access tokens are opaque and carry the scopes asked for; a refresh token
//! comes only with `access_type=offline`, as at Google.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use serde_json::json;

use crate::oauth_util::{hidden_fields, random_token, s256_matches};

use super::{GoogleState, Grant};

pub(super) fn routes() -> Router<Arc<GoogleState>> {
    Router::new()
        .route("/o/oauth2/v2/auth", get(page).post(sign_in))
        .route("/token", post(token))
        .route("/v1/userinfo", get(userinfo))
}

/// Who the access token stands for, as much as its scopes let it say.
async fn userinfo(State(s): State<Arc<GoogleState>>, headers: axum::http::HeaderMap) -> Response {
    let token = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .unwrap_or_default()
        .to_owned();
    let found = s.with(|w| {
        let grant = w.access.get(&token)?.clone();
        let user = w
            .users
            .iter()
            .find(|(u, _, _)| u["id"] == grant.user.as_str())?
            .0
            .clone();
        Some((grant, user))
    });
    let Some((grant, user)) = found else {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_request",
            "Invalid Credentials",
        );
    };
    if !grant.scopes.iter().any(|s| s == "openid") {
        return oauth_error(
            StatusCode::FORBIDDEN,
            "insufficient_scope",
            "The access token was not granted the openid scope.",
        );
    }
    let mut info = json!({"sub": user["id"]});
    if grant.scopes.iter().any(|s| s == "email") {
        info["email"] = user["primaryEmail"].clone();
        info["email_verified"] = json!(true);
    }
    if grant.scopes.iter().any(|s| s == "profile") {
        info["name"] = user.pointer("/name/fullName").cloned().unwrap_or_default();
    }
    Json(info).into_response()
}

/// Whether `client` is registered and, if it has a secret, `secret` is it.
fn client_ok(s: &GoogleState, client: &str, secret: Option<&str>, secret_needed: bool) -> bool {
    s.with(|w| {
        w.clients.iter().any(|(id, kept)| {
            id == client && (!secret_needed || kept.is_none() || kept.as_deref() == secret)
        })
    })
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

async fn page(Query(q): Query<HashMap<String, String>>) -> Response {
    let hidden = hidden_fields(&q);
    Html(format!("<!doctype html><title>Sign in - Google Accounts</title><form method=\"post\">{hidden}<input name=\"identifier\"><input name=\"password\" type=\"password\"><button>Next</button></form>")).into_response()
}

/// The user's id when the password is theirs and the account is not suspended.
fn check_password(s: &GoogleState, email: &str, password: &str) -> Option<String> {
    s.with(|w| {
        w.user_index(email)
            .filter(|i| w.users[*i].1 == password && w.users[*i].0["suspended"] != true)
            .and_then(|i| w.users[i].0["id"].as_str().map(str::to_owned))
    })
}

fn scopes_of(asked: Option<&String>) -> Vec<String> {
    asked
        .map(|s| s.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default()
}

async fn sign_in(
    State(s): State<Arc<GoogleState>>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let get = |k: &str| f.get(k).cloned().unwrap_or_default();
    let client = get("client_id");
    let redirect = get("redirect_uri");
    if !client_ok(&s, &client, None, false)
        || !(redirect.starts_with("http://127.0.0.1:") || redirect.starts_with("http://localhost:"))
    {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "redirect_uri_mismatch",
            "The redirect URI in the request does not match the ones authorized for the OAuth client.",
        );
    }
    if get("code_challenge_method") != "S256" || get("code_challenge").len() < 43 {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Missing required parameter: code_challenge",
        );
    }
    let Some(user) = check_password(&s, &get("identifier"), &get("password")) else {
        return (
            StatusCode::UNAUTHORIZED,
            Html("<p>Wrong password. Try again.</p>"),
        )
            .into_response();
    };
    let code = random_token();
    let grant = Grant {
        user,
        scopes: scopes_of(f.get("scope")),
    };
    let offline = get("access_type") == "offline";
    s.with(|w| {
        w.codes_pending.insert(
            code.clone(),
            (grant, get("code_challenge"), redirect.clone(), offline),
        )
    });
    let state: String = url::form_urlencoded::byte_serialize(get("state").as_bytes()).collect();
    Redirect::to(&format!("{redirect}?code={code}&state={state}")).into_response()
}

fn issue(s: &GoogleState, grant: Grant, with_refresh: bool) -> Response {
    let access = random_token();
    let refresh = random_token();
    let scope = grant.scopes.join(" ");
    s.with(|w| {
        w.access.insert(access.clone(), grant.clone());
        if with_refresh {
            w.refresh.insert(refresh.clone(), grant);
        }
    });
    let mut body =
        json!({"access_token": access, "expires_in": 3599, "scope": scope, "token_type": "Bearer"});
    if with_refresh {
        body["refresh_token"] = json!(refresh);
    }
    Json(body).into_response()
}

async fn token(
    State(s): State<Arc<GoogleState>>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let get = |k: &str| f.get(k).cloned().unwrap_or_default();
    // The password grant stands in for a person's sign-in in tests; Google has none, and the
    // simulator does not ask its caller for the client's secret.
    let secret_needed = get("grant_type") != "password";
    if !client_ok(
        &s,
        &get("client_id"),
        f.get("client_secret").map(String::as_str),
        secret_needed,
    ) {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", "Unauthorized");
    }
    match get("grant_type").as_str() {
        "authorization_code" => {
            let Some((grant, challenge, redirect, offline)) =
                s.with(|w| w.codes_pending.remove(&get("code")))
            else {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "Malformed auth code.",
                );
            };
            if !s256_matches(&get("code_verifier"), &challenge) || redirect != get("redirect_uri") {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "Invalid code verifier.",
                );
            }
            issue(&s, grant, offline)
        }
        "refresh_token" => match s.with(|w| w.refresh.get(&get("refresh_token")).cloned()) {
            // Google keeps the refresh token: the answer has a new access token only.
            Some(grant) => issue(&s, grant, false),
            None => oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                "Token has been expired or revoked.",
            ),
        },
        "password" => match check_password(&s, &get("username"), &get("password")) {
            Some(user) => issue(
                &s,
                Grant {
                    user,
                    scopes: scopes_of(f.get("scope")),
                },
                true,
            ),
            None => oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "Bad credentials."),
        },
        other => oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            &format!("Invalid grant_type: {other}"),
        ),
    }
}
