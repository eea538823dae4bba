//! The org authorization server: a sign-in page that hands back a one-time code
//! (`/oauth2/v1/authorize`) and the token endpoint (`/oauth2/v1/token`: authorization code with
//! PKCE S256, refresh token, and the resource-owner password grant an org can enable for an
//! app). Access tokens are opaque and carry the `okta.*` scopes the person consented to, held
//! to what they asked for.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use serde_json::json;

use crate::oauth_util::{hidden_fields, random_token, s256_matches};

use super::OktaState;
use super::store::{Code, Grant};

pub(super) fn routes() -> Router<Arc<OktaState>> {
    Router::new()
        .route("/oauth2/v1/authorize", get(page).post(sign_in))
        .route("/oauth2/v1/token", post(token))
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
    Html(format!(
        "<!doctype html><title>Sign in to Okta</title><form method=\"post\">{hidden}\
         <label>Username <input name=\"username\"></label><label>Password <input name=\"password\" type=\"password\"></label>\
         <button>Sign in</button></form>"
    ))
    .into_response()
}

fn registered(state: &OktaState, client: &str, redirect: &str) -> bool {
    state.with(|o| {
        o.clients.iter().any(|(id, uris)| {
            id == client
                && (uris.iter().any(|u| u == redirect)
                    || redirect.starts_with("http://127.0.0.1:")
                    || redirect.starts_with("http://localhost:"))
        })
    })
}

/// The person's user id when the password is theirs and the account can sign in.
fn check_password(state: &OktaState, username: &str, password: &str) -> Option<String> {
    state.with(|o| {
        o.user_by_key(username)
            .filter(|u| {
                u.password == password && matches!(u.status.as_str(), "ACTIVE" | "PASSWORD_EXPIRED")
            })
            .map(|u| u.id.clone())
    })
}

fn scopes_of(asked: Option<&String>) -> Vec<String> {
    asked
        .map(|s| {
            s.split_whitespace()
                .filter(|s| s.starts_with("okta.") || *s == "offline_access" || *s == "openid")
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

async fn sign_in(
    State(s): State<Arc<OktaState>>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let get = |k: &str| f.get(k).cloned().unwrap_or_default();
    let (client, redirect) = (get("client_id"), get("redirect_uri"));
    if !registered(&s, &client, &redirect) {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The 'redirect_uri' parameter must be a Login redirect URI in the client app settings",
        );
    }
    if get("response_type") != "code"
        || get("code_challenge_method") != "S256"
        || get("code_challenge").len() < 43
    {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "PKCE code challenge is required when the token endpoint authentication method is 'NONE'.",
        );
    }
    let Some(user) = check_password(&s, &get("username"), &get("password")) else {
        return (StatusCode::UNAUTHORIZED, Html("<p>Unable to sign in</p>")).into_response();
    };
    let code = random_token();
    s.with(|o| {
        o.codes.insert(
            code.clone(),
            Code {
                grant: Grant {
                    user,
                    scopes: scopes_of(f.get("scope")),
                    client: client.clone(),
                },
                challenge: get("code_challenge"),
                redirect_uri: redirect.clone(),
            },
        )
    });
    let state: String = url::form_urlencoded::byte_serialize(get("state").as_bytes()).collect();
    Redirect::to(&format!("{redirect}?code={code}&state={state}")).into_response()
}

fn issue(s: &OktaState, grant: Grant) -> Response {
    let access = random_token();
    let refresh = random_token();
    let scope = grant.scopes.join(" ");
    let offline = grant.scopes.iter().any(|s| s == "offline_access");
    s.with(|o| {
        o.access.insert(access.clone(), grant.clone());
        if offline {
            o.refresh.insert(refresh.clone(), grant);
        }
    });
    let mut body =
        json!({"token_type": "Bearer", "expires_in": 3600, "access_token": access, "scope": scope});
    if offline {
        body["refresh_token"] = json!(refresh);
    }
    Json(body).into_response()
}

async fn token(
    State(s): State<Arc<OktaState>>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let get = |k: &str| f.get(k).cloned().unwrap_or_default();
    let client = get("client_id");
    if !s.with(|o| o.clients.iter().any(|(id, _)| *id == client)) {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "The client_id provided is invalid.",
        );
    }
    match get("grant_type").as_str() {
        "authorization_code" => {
            let Some(code) = s.with(|o| o.codes.remove(&get("code"))) else {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "The authorization code is invalid or has expired.",
                );
            };
            if !s256_matches(&get("code_verifier"), &code.challenge)
                || code.redirect_uri != get("redirect_uri")
                || code.grant.client != client
            {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "PKCE verification failed.",
                );
            }
            issue(&s, code.grant)
        }
        "refresh_token" => {
            let Some(grant) = s.with(|o| o.refresh.remove(&get("refresh_token"))) else {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "The refresh token is invalid or expired.",
                );
            };
            issue(&s, grant)
        }
        "password" => {
            let Some(user) = check_password(&s, &get("username"), &get("password")) else {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "The credentials provided were invalid.",
                );
            };
            issue(
                &s,
                Grant {
                    user,
                    scopes: scopes_of(f.get("scope")),
                    client,
                },
            )
        }
        other => oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            &format!(
                "The authorization grant type `{other}` is not supported by the authorization server."
            ),
        ),
    }
}
