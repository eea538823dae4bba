//! The Microsoft identity platform's authorization endpoint
//! (`/{tenant}/oauth2/v2.0/authorize`) for the authorization-code flow with PKCE: a sign-in page,
//! then a redirect back to the app with a one-time `code` (or `error` and `error_description`).
//! The token endpoint redeems the code once, checking `redirect_uri` and the `code_verifier`
//! against the `code_challenge` (`S256` or `plain`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use base64::Engine as _;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::SimState;
use crate::oauth_util::escape;
use crate::state::Tenant;

/// How long a code may wait to be redeemed.
const CODE_LIFETIME: Duration = Duration::from_secs(600);

/// The parameters of an authorization request (query string of the GET, form of the POST).
#[derive(Debug, Clone, Deserialize, Default)]
pub(crate) struct AuthorizeParams {
    client_id: Option<String>,
    response_type: Option<String>,
    redirect_uri: Option<String>,
    scope: Option<String>,
    state: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    login_hint: Option<String>,
    /// OpenID Connect: echoed in the ID token.
    nonce: Option<String>,
    /// The sign-in page's fields (POST only).
    login: Option<String>,
    passwd: Option<String>,
}

/// A code waiting to be redeemed.
#[derive(Debug, Clone)]
pub(crate) struct IssuedCode {
    pub oid: String,
    pub scopes: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub challenge: Option<(String, String)>,
    pub issued: Instant,
    pub redeemed: bool,
    /// `openid` was asked for: the token answer carries an ID token.
    pub openid: bool,
    /// The authorization request's nonce, for the ID token.
    pub nonce: Option<String>,
}

/// Issued codes by value.
pub(crate) type Codes = HashMap<String, IssuedCode>;

/// Why a code cannot be redeemed: the AADSTS code and message the token endpoint answers.
pub(crate) fn redeem(
    codes: &mut Codes,
    code: &str,
    client_id: &str,
    redirect_uri: Option<&str>,
    verifier: Option<&str>,
) -> Result<IssuedCode, (u32, String)> {
    let Some(issued) = codes.get_mut(code) else {
        return Err((
            70008,
            "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.".into(),
        ));
    };
    if issued.redeemed {
        return Err((
            54005,
            "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.".into(),
        ));
    }
    if issued.issued.elapsed() > CODE_LIFETIME {
        return Err((
            70008,
            "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.".into(),
        ));
    }
    if issued.client_id != client_id {
        return Err((
            70000,
            "The provided value for the 'code' parameter is not valid. The code was issued to a different client.".into(),
        ));
    }
    if redirect_uri != Some(issued.redirect_uri.as_str()) {
        return Err((
            50011,
            format!(
                "The redirect URI '{}' specified in the request does not match the redirect URIs configured for the application.",
                redirect_uri.unwrap_or_default()
            ),
        ));
    }
    if let Some((challenge, method)) = &issued.challenge {
        let Some(verifier) = verifier else {
            return Err((
                50148,
                "The code_verifier does not match the code_challenge supplied in the authorization request for PKCE.".into(),
            ));
        };
        let derived = if method.eq_ignore_ascii_case("S256") {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier))
        } else {
            verifier.to_owned()
        };
        if &derived != challenge {
            return Err((
                50148,
                "The code_verifier does not match the code_challenge supplied in the authorization request for PKCE.".into(),
            ));
        }
    }
    issued.redeemed = true;
    Ok(issued.clone())
}

/// A page for an error that cannot be sent back to the app (its redirect URI is not trusted).
fn error_page(code: u32, message: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Html(format!(
            "<!doctype html><title>Sign in to your account</title><h1>Sorry, but we're having trouble signing you in.</h1><p>AADSTS{code}: {}</p>",
            escape(message)
        )),
    )
        .into_response()
}

/// Sends the browser back to the app with `pairs` on its redirect URI.
fn back_to_app(redirect_uri: &str, pairs: &[(&str, &str)]) -> Response {
    let Ok(mut url) = url::Url::parse(redirect_uri) else {
        return error_page(50011, "The redirect URI is not a valid URL.");
    };
    {
        let mut q = url.query_pairs_mut();
        for (k, v) in pairs {
            q.append_pair(k, v);
        }
    }
    (StatusCode::FOUND, [(header::LOCATION, url.to_string())]).into_response()
}

/// The checks both the GET and the POST make: `Some` is the answer to give instead of going on.
fn refusal(tenant: &Tenant, segment: &str, params: &AuthorizeParams) -> Option<Response> {
    let client_id = params.client_id.as_deref().unwrap_or_default();
    if client_id.is_empty() {
        return Some(error_page(
            900144,
            "The request body must contain the following parameter: 'client_id'.",
        ));
    }
    if !tenant.knows_client(client_id) {
        return Some(error_page(
            700016,
            &format!(
                "Application with identifier '{client_id}' was not found in the directory '{segment}'."
            ),
        ));
    }
    let redirect_uri = params.redirect_uri.as_deref().unwrap_or_default();
    if !tenant.accepts_redirect(client_id, redirect_uri) {
        return Some(error_page(
            50011,
            &format!(
                "The redirect URI '{redirect_uri}' specified in the request does not match the redirect URIs configured for the application '{client_id}'."
            ),
        ));
    }
    let state_param = params.state.as_deref().unwrap_or_default();
    if params.response_type.as_deref() != Some("code") {
        return Some(back_to_app(
            redirect_uri,
            &[
                ("error", "unsupported_response_type"),
                (
                    "error_description",
                    "AADSTS700054: response_type 'code' is the only one this application may use.",
                ),
                ("state", state_param),
            ],
        ));
    }
    if let Some(method) = params.code_challenge_method.as_deref()
        && !method.eq_ignore_ascii_case("S256")
        && !method.eq_ignore_ascii_case("plain")
    {
        return Some(back_to_app(
            redirect_uri,
            &[
                ("error", "invalid_request"),
                (
                    "error_description",
                    "AADSTS501491: Invalid code_challenge_method parameter.",
                ),
                ("state", state_param),
            ],
        ));
    }
    None
}

fn tenant_matches(segment: &str, tenant: &Tenant) -> bool {
    [
        tenant.tenant_id.as_str(),
        tenant.domain.as_str(),
        "organizations",
        "common",
    ]
    .contains(&segment)
}

/// `GET /{tenant}/oauth2/v2.0/authorize`: the sign-in page.
pub(crate) async fn authorize_page(
    State(state): State<Arc<SimState>>,
    Path(segment): Path<String>,
    Query(params): Query<AuthorizeParams>,
) -> Response {
    let tenant = state.tenant.lock().await;
    if !tenant_matches(&segment, &tenant) {
        return error_page(90002, &format!("Tenant '{segment}' not found."));
    }
    if let Some(r) = refusal(&tenant, &segment, &params) {
        return r;
    }
    sign_in_page(&params, None)
}

fn sign_in_page(params: &AuthorizeParams, problem: Option<&str>) -> Response {
    let hidden: String = [
        ("client_id", &params.client_id),
        ("response_type", &params.response_type),
        ("redirect_uri", &params.redirect_uri),
        ("scope", &params.scope),
        ("state", &params.state),
        ("code_challenge", &params.code_challenge),
        ("code_challenge_method", &params.code_challenge_method),
        ("nonce", &params.nonce),
    ]
    .iter()
    .filter_map(|(k, v)| {
        v.as_deref().map(|v| {
            format!(
                "<input type=\"hidden\" name=\"{k}\" value=\"{}\">",
                escape(v)
            )
        })
    })
    .collect();
    let login = escape(params.login_hint.as_deref().unwrap_or_default());
    let problem = problem
        .map(|p| format!("<p role=\"alert\">{}</p>", escape(p)))
        .unwrap_or_default();
    Html(format!(
        "<!doctype html><title>Sign in to your account</title><form method=\"post\">{hidden}{problem}<label>Email <input name=\"login\" value=\"{login}\"></label><label>Password <input name=\"passwd\" type=\"password\"></label><button type=\"submit\">Sign in</button></form>"
    ))
    .into_response()
}

/// `POST /{tenant}/oauth2/v2.0/authorize`: the sign-in form; on success back to the app with a
/// one-time code.
pub(crate) async fn authorize_submit(
    State(state): State<Arc<SimState>>,
    Path(segment): Path<String>,
    Form(params): Form<AuthorizeParams>,
) -> Response {
    let mut tenant = state.tenant.lock().await;
    if !tenant_matches(&segment, &tenant) {
        return error_page(90002, &format!("Tenant '{segment}' not found."));
    }
    if let Some(r) = refusal(&tenant, &segment, &params) {
        return r;
    }
    let (login, password) = (
        params.login.as_deref().unwrap_or_default(),
        params.passwd.as_deref().unwrap_or_default(),
    );
    let oid = match crate::auth::sign_in(&mut tenant, login, password) {
        Ok(oid) => oid,
        Err((code, message)) => {
            return sign_in_page(&params, Some(&format!("AADSTS{code}: {message}")));
        }
    };
    drop(tenant);
    let code = format!(
        "0.sim-code.{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let redirect_uri = params.redirect_uri.clone().unwrap_or_default();
    let scopes = crate::auth::graph_scopes(params.scope.as_deref().unwrap_or_default()).join(" ");
    state.codes.lock().await.insert(
        code.clone(),
        IssuedCode {
            oid,
            scopes,
            client_id: params.client_id.clone().unwrap_or_default(),
            redirect_uri: redirect_uri.clone(),
            challenge: params.code_challenge.clone().map(|c| {
                (
                    c,
                    params
                        .code_challenge_method
                        .clone()
                        .unwrap_or_else(|| "plain".into()),
                )
            }),
            issued: Instant::now(),
            redeemed: false,
            openid: params
                .scope
                .as_deref()
                .unwrap_or_default()
                .split_whitespace()
                .any(|s| s == "openid"),
            nonce: params.nonce.clone(),
        },
    );
    let session = uuid::Uuid::new_v4().to_string();
    back_to_app(
        &redirect_uri,
        &[
            ("code", &code),
            ("state", params.state.as_deref().unwrap_or_default()),
            ("session_state", &session),
        ],
    )
}
