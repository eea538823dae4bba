//! A Microsoft identity platform v2.0-style token endpoint and the bearer-token check of every
//! Graph call. Tokens are signed JWTs with Entra's claims (`tid`, `oid`, `upn`, `scp`).

use std::sync::Arc;

use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::SimState;
use crate::error::GraphError;
use crate::state::Tenant;

const AUDIENCE: &str = "https://graph.microsoft.com";
const LOCKOUT_THRESHOLD: u32 = 10;

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    aud: String,
    iss: String,
    iat: i64,
    nbf: i64,
    exp: i64,
    tid: String,
    oid: String,
    upn: String,
    name: String,
    scp: String,
    appid: String,
    ver: String,
}

/// The signed-in person behind a Graph call, re-read from the directory on every call.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    pub oid: String,
    pub upn: String,
    pub display_name: String,
    pub scopes: Vec<String>,
    pub roles: Vec<String>,
}

impl Caller {
    /// Passes when the token carries any of `scopes`; otherwise Graph's 403.
    pub fn require_scope(&self, scopes: &[&str]) -> Result<(), GraphError> {
        if scopes
            .iter()
            .any(|s| self.scopes.iter().any(|have| have.eq_ignore_ascii_case(s)))
        {
            Ok(())
        } else {
            Err(GraphError::denied())
        }
    }
}

/// Checks the bearer token of a Graph request and loads the caller's current roles.
pub(crate) fn authenticate(
    state: &SimState,
    tenant: &Tenant,
    headers: &HeaderMap,
) -> Result<Caller, GraphError> {
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| GraphError::unauthenticated("Access token is empty."))?;
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_audience(&[AUDIENCE]);
    let data = jsonwebtoken::decode::<Claims>(
        token,
        &DecodingKey::from_secret(&state.signing_key),
        &validation,
    )
    .map_err(|e| GraphError::unauthenticated(format!("Access token validation failure: {e}.")))?;
    let claims = data.claims;
    if claims.tid != tenant.tenant_id {
        return Err(GraphError::unauthenticated(
            "Access token validation failure. Invalid audience.",
        ));
    }
    let user = tenant.user(&claims.oid).ok_or_else(|| {
        GraphError::unauthenticated(
            "The user or administrator has not consented to use the application.",
        )
    })?;
    if !user.enabled() {
        return Err(GraphError::unauthenticated("The user account is disabled."));
    }
    Ok(Caller {
        oid: claims.oid,
        upn: claims.upn,
        display_name: claims.name,
        scopes: claims.scp.split_whitespace().map(str::to_owned).collect(),
        roles: user.sim.roles.clone(),
    })
}

/// The form of a token request (`application/x-www-form-urlencoded`).
#[derive(Debug, Deserialize)]
pub(crate) struct TokenForm {
    grant_type: String,
    client_id: Option<String>,
    scope: Option<String>,
    username: Option<String>,
    password: Option<String>,
    refresh_token: Option<String>,
    code: Option<String>,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
}

fn aad_error(status: StatusCode, error: &str, code: u32, description: &str) -> Response {
    let now = Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let trace = uuid::Uuid::new_v4().to_string();
    (
        status,
        axum::Json(json!({
            "error": error,
            "error_description": format!("AADSTS{code}: {description} Trace ID: {trace} Timestamp: {now}"),
            "error_codes": [code],
            "timestamp": now,
            "trace_id": trace,
            "correlation_id": uuid::Uuid::new_v4().to_string(),
            "error_uri": format!("https://login.microsoftonline.com/error?code={code}"),
        })),
    )
        .into_response()
}

pub(crate) fn graph_scopes(scope: &str) -> Vec<String> {
    scope
        .split_whitespace()
        .map(|s| s.strip_prefix("https://graph.microsoft.com/").unwrap_or(s))
        .filter(|s| !["openid", "profile", "email", "offline_access", ".default"].contains(s))
        .map(str::to_owned)
        .collect()
}

/// `POST /{tenant}/oauth2/v2.0/token` with the `authorization_code` (PKCE), `password` (ROPC)
/// or `refresh_token` grant.
pub(crate) async fn token(
    State(state): State<Arc<SimState>>,
    Path(tenant_segment): Path<String>,
    Form(form): Form<TokenForm>,
) -> Response {
    let mut tenant = state.tenant.lock().await;
    if ![
        tenant.tenant_id.as_str(),
        tenant.domain.as_str(),
        "organizations",
    ]
    .contains(&tenant_segment.as_str())
    {
        return aad_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            90002,
            &format!("Tenant '{tenant_segment}' not found."),
        );
    }
    if form.client_id.as_deref().is_none_or(str::is_empty) {
        return aad_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'client_id'.",
        );
    }
    let mut oidc: Option<Option<String>> = None;
    let (oid, scopes) = match form.grant_type.as_str() {
        "password" => {
            let (Some(username), Some(password)) =
                (form.username.as_deref(), form.password.as_deref())
            else {
                return aad_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    900144,
                    "The request body must contain the following parameter: 'username' and 'password'.",
                );
            };
            match sign_in(&mut tenant, username, password) {
                Ok(oid) => (oid, graph_scopes(form.scope.as_deref().unwrap_or_default())),
                Err((code, message)) => {
                    return aad_error(StatusCode::BAD_REQUEST, "invalid_grant", code, message);
                }
            }
        }
        "authorization_code" => {
            let Some(code) = form.code.as_deref().filter(|c| !c.is_empty()) else {
                return aad_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    900144,
                    "The request body must contain the following parameter: 'code'.",
                );
            };
            let redeemed = crate::authorize::redeem(
                &mut *state.codes.lock().await,
                code,
                form.client_id.as_deref().unwrap_or_default(),
                form.redirect_uri.as_deref(),
                form.code_verifier.as_deref(),
            );
            match redeemed {
                Ok(issued) => {
                    if issued.openid {
                        oidc = Some(issued.nonce.clone());
                    }
                    (
                        issued.oid,
                        issued
                            .scopes
                            .split_whitespace()
                            .map(str::to_owned)
                            .collect(),
                    )
                }
                Err((code, message)) => {
                    return aad_error(StatusCode::BAD_REQUEST, "invalid_grant", code, &message);
                }
            }
        }
        "refresh_token" => {
            let presented = form.refresh_token.unwrap_or_default();
            let Some((oid, scopes)) = state.refresh_tokens.lock().await.remove(&presented) else {
                return aad_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    70008,
                    "The provided authorization code or refresh token has expired due to inactivity.",
                );
            };
            match tenant.user(&oid) {
                Some(u) if u.enabled() => {}
                _ => {
                    return aad_error(
                        StatusCode::BAD_REQUEST,
                        "invalid_grant",
                        50057,
                        "The user account is disabled.",
                    );
                }
            }
            (oid, scopes.split_whitespace().map(str::to_owned).collect())
        }
        other => {
            return aad_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                70003,
                &format!("The app requested an unsupported grant type '{other}'."),
            );
        }
    };
    let Some(user) = tenant.user(&oid) else {
        return aad_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            50034,
            "The user account does not exist in this directory.",
        );
    };
    let now = Utc::now().timestamp();
    let scp = scopes.join(" ");
    let claims = Claims {
        aud: AUDIENCE.into(),
        iss: format!("https://sts.windows.net/{}/", tenant.tenant_id),
        iat: now,
        nbf: now,
        exp: now + 3600,
        tid: tenant.tenant_id.clone(),
        oid: user.id().to_owned(),
        upn: user.upn().to_owned(),
        name: user.display_name().to_owned(),
        scp: scp.clone(),
        appid: form.client_id.unwrap_or_default(),
        ver: "1.0".into(),
    };
    let access_token = match jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(&state.signing_key),
    ) {
        Ok(t) => t,
        Err(e) => {
            return aad_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                50000,
                &format!("token signing failed: {e}"),
            );
        }
    };
    // OpenID Connect: the v2.0 ID token, addressed to the client.
    let id_token = match oidc {
        Some(nonce) => {
            let mut id_claims = json!({
                "aud": claims.appid, "iss": format!("https://login.microsoftonline.com/{}/v2.0", tenant.tenant_id),
                "iat": now, "nbf": now, "exp": now + 3600, "sub": claims.oid, "oid": claims.oid,
                "tid": claims.tid, "preferred_username": claims.upn, "name": claims.name, "ver": "2.0",
            });
            if let Some(n) = nonce {
                id_claims["nonce"] = json!(n);
            }
            jsonwebtoken::encode(
                &Header::new(Algorithm::HS256),
                &id_claims,
                &EncodingKey::from_secret(&state.signing_key),
            )
            .ok()
        }
        None => None,
    };
    let refresh_token = format!("0.sim.{}", uuid::Uuid::new_v4().simple());
    state
        .refresh_tokens
        .lock()
        .await
        .insert(refresh_token.clone(), (claims.oid.clone(), scp.clone()));
    let mut answer = json!({
        "token_type": "Bearer",
        "scope": scopes.iter().map(|s| format!("https://graph.microsoft.com/{s}")).collect::<Vec<_>>().join(" "),
        "expires_in": 3600,
        "ext_expires_in": 3600,
        "access_token": access_token,
        "refresh_token": refresh_token,
    });
    if let Some(t) = id_token {
        answer["id_token"] = json!(t);
    }
    axum::Json(answer).into_response()
}

/// An interactive password sign-in: records a sign-in log entry either way, as Entra does.
pub(crate) fn sign_in(
    tenant: &mut Tenant,
    username: &str,
    password: &str,
) -> Result<String, (u32, &'static str)> {
    let Some(user) = tenant.user_mut(username) else {
        return Err((50034, "The user account does not exist in this directory."));
    };
    let result = if !user.enabled() {
        Err((
            50057,
            "User account is disabled. The account has been disabled by an administrator.",
        ))
    } else if user.sim.locked_out {
        Err((
            50053,
            "Account is locked because user tried to sign in too many times with an incorrect user ID or password.",
        ))
    } else if user.sim.password != password {
        user.sim.failed_attempts += 1;
        if user.sim.failed_attempts >= LOCKOUT_THRESHOLD {
            user.sim.locked_out = true;
        }
        Err((
            50126,
            "Error validating credentials due to invalid username or password.",
        ))
    } else if user.sim.must_change_password {
        Err((
            50055,
            "The password is expired. The user must change it at next sign-in.",
        ))
    } else {
        user.sim.failed_attempts = 0;
        Ok(user.id().to_owned())
    };
    let (code, reason) = match &result {
        Ok(_) => (0, None),
        Err((code, reason)) => (*code, Some(*reason)),
    };
    let record = json!({
        "id": uuid::Uuid::new_v4().to_string(),
        "createdDateTime": Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "userDisplayName": user.display_name(),
        "userPrincipalName": user.upn(),
        "userId": user.id(),
        "appId": "00000003-0000-0000-c000-000000000000",
        "appDisplayName": "Microsoft Graph",
        "ipAddress": "127.0.0.1",
        "clientAppUsed": "Mobile Apps and Desktop clients",
        "isInteractive": true,
        "conditionalAccessStatus": "notApplied",
        "correlationId": uuid::Uuid::new_v4().to_string(),
        "resourceDisplayName": "Microsoft Graph",
        "location": {"city": null, "state": null, "countryOrRegion": null},
        "status": {"errorCode": code, "failureReason": reason.unwrap_or("Other."), "additionalDetails": null},
    });
    tenant.sign_ins.insert(0, record);
    result
}

/// Scope sets accepted per kind of call (least-privileged first, then the broader ones).
pub(crate) mod scopes {
    pub const USER_READ: &[&str] = &[
        "User.ReadBasic.All",
        "User.Read.All",
        "User.ReadWrite.All",
        "Directory.Read.All",
        "Directory.ReadWrite.All",
    ];
    /// `GET /me`: the signed-in user's own profile.
    pub const ME_READ: &[&str] = &[
        "User.Read",
        "User.ReadWrite",
        "User.ReadBasic.All",
        "User.Read.All",
        "User.ReadWrite.All",
        "Directory.Read.All",
        "Directory.ReadWrite.All",
    ];
    pub const USER_WRITE: &[&str] = &["User.ReadWrite.All", "Directory.ReadWrite.All"];
    pub const RISK_READ: &[&str] = &["IdentityRiskyUser.Read.All"];
    pub const RISK_WRITE: &[&str] = &["IdentityRiskyUser.ReadWrite.All"];
    pub const SKUS_READ: &[&str] = &[
        "LicenseAssignment.Read.All",
        "Organization.Read.All",
        "Organization.ReadWrite.All",
        "Directory.Read.All",
        "Directory.ReadWrite.All",
    ];
    pub const LICENSE_WRITE: &[&str] = &[
        "LicenseAssignment.ReadWrite.All",
        "User.ReadWrite.All",
        "Directory.ReadWrite.All",
    ];
    pub const USER_ENABLE: &[&str] = &[
        "User.EnableDisableAccount.All",
        "User.ReadWrite.All",
        "Directory.ReadWrite.All",
    ];
    pub const REVOKE: &[&str] = &[
        "User.RevokeSessions.All",
        "User.ReadWrite.All",
        "Directory.ReadWrite.All",
    ];
    pub const METHODS_READ: &[&str] = &[
        "UserAuthenticationMethod.Read.All",
        "UserAuthenticationMethod.ReadWrite.All",
    ];
    pub const METHODS_WRITE: &[&str] = &["UserAuthenticationMethod.ReadWrite.All"];
    pub const GROUP_READ: &[&str] = &[
        "GroupMember.Read.All",
        "GroupMember.ReadWrite.All",
        "Group.Read.All",
        "Group.ReadWrite.All",
        "Directory.Read.All",
        "Directory.ReadWrite.All",
    ];
    pub const GROUP_MEMBER_WRITE: &[&str] = &[
        "GroupMember.ReadWrite.All",
        "Group.ReadWrite.All",
        "Directory.ReadWrite.All",
    ];
    pub const AUDIT_READ: &[&str] = &["AuditLog.Read.All"];
    pub const MAILBOX_READ: &[&str] = &["MailboxSettings.Read", "MailboxSettings.ReadWrite"];
    pub const MAILBOX_WRITE: &[&str] = &["MailboxSettings.ReadWrite"];
    /// Inbox rules are read with `MailboxSettings.Read` only (the reference lists no other).
    pub const RULES_READ: &[&str] = &["MailboxSettings.Read"];
    pub const CALENDAR_READ: &[&str] = &[
        "Calendars.ReadBasic",
        "Calendars.Read",
        "Calendars.ReadWrite",
    ];
    pub const CALENDAR_WRITE: &[&str] = &["Calendars.ReadWrite"];
    pub const DEVICES_READ: &[&str] = &[
        "DeviceManagementManagedDevices.Read.All",
        "DeviceManagementManagedDevices.ReadWrite.All",
        "DeviceManagementConfiguration.Read.All",
        "DeviceManagementConfiguration.ReadWrite.All",
    ];
    /// `GET /users/{id}/managedDevices` accepts fewer permissions than the device collection.
    pub const USER_DEVICES_READ: &[&str] = &[
        "DeviceManagementManagedDevices.Read.All",
        "DeviceManagementManagedDevices.ReadWrite.All",
    ];
    pub const COMPLIANCE_READ: &[&str] = &[
        "DeviceManagementConfiguration.Read.All",
        "DeviceManagementConfiguration.ReadWrite.All",
    ];
    pub const DEVICE_ACTION: &[&str] = &["DeviceManagementManagedDevices.PrivilegedOperations.All"];
    pub const DEVICE_WIPE: &[&str] = &[
        "DeviceManagementConfiguration.ReadWrite.All",
        "DeviceManagementManagedDevices.PrivilegedOperations.All",
        "DeviceManagementManagedDevices.ReadWrite.All",
    ];
    pub const FILES_READ: &[&str] = &[
        "Files.Read",
        "Files.Read.All",
        "Files.ReadWrite",
        "Files.ReadWrite.All",
        "Sites.Read.All",
        "Sites.ReadWrite.All",
    ];
    pub const FILES_WRITE: &[&str] = &[
        "Files.ReadWrite",
        "Files.ReadWrite.All",
        "Sites.ReadWrite.All",
    ];
    pub const SITE_READ: &[&str] = &["Sites.Read.All", "Sites.ReadWrite.All"];
    pub const TEAM_READ: &[&str] = &[
        "Team.ReadBasic.All",
        "TeamSettings.Read.All",
        "TeamSettings.ReadWrite.All",
        "Group.Read.All",
        "Group.ReadWrite.All",
        "Directory.Read.All",
        "Directory.ReadWrite.All",
    ];
    pub const TEAM_MEMBERS_READ: &[&str] = &["TeamMember.Read.All", "TeamMember.ReadWrite.All"];
    pub const TEAM_MEMBERS_WRITE: &[&str] = &[
        "TeamMember.ReadWrite.All",
        "TeamMember.ReadWriteNonOwnerRole.All",
    ];
    pub const GROUP_OWNERS_READ: &[&str] = &[
        "Directory.Read.All",
        "Group.Read.All",
        "Group.ReadWrite.All",
        "GroupMember.Read.All",
        "GroupMember.ReadWrite.All",
    ];
    pub const GROUP_OWNERS_WRITE: &[&str] = &["Directory.ReadWrite.All", "Group.ReadWrite.All"];
}
