//! The web console's server side: sign-in through the tenant's identity provider (see
//! `oidc.rs`), sessions in cookies with CSRF protection (see `session.rs`), and the console's
//! own JSON API, which — unlike the skeleton's REST API — takes who is asking from the session,
//! never from the request: an employee can only ever ask as themselves, and the admin parts
//! answer only IT admins (read live from the directory). Live updates come as server-sent events.

pub(crate) mod actions;
pub(crate) mod imports;
mod oidc;
mod session;

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use steward_agent::{AgentError, ApprovalDecision, StandingScope, StandingTerms, TenantRuntime};
use steward_domain::{ApprovalId, Channel, ConversationId};

pub use oidc::OidcConfig;
use session::{Session, Sessions};

use crate::AppState;

const PAGE: &str = include_str!("../../assets/console.html");

/// The console of one tenant.
pub struct Console {
    oidc: OidcConfig,
    tenant: String,
    secure_cookies: bool,
    http: reqwest::Client,
    sessions: Sessions,
    pending: oidc::PendingLogins,
}

impl std::fmt::Debug for Console {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Console")
            .field("tenant", &self.tenant)
            .finish_non_exhaustive()
    }
}

impl Console {
    /// A console for `tenant`, signing people in through `oidc`; `secure_cookies` when it is
    /// served over HTTPS.
    pub fn new(oidc: OidcConfig, tenant: &str, secure_cookies: bool) -> Self {
        Self {
            oidc,
            tenant: tenant.to_owned(),
            secure_cookies,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap_or_default(),
            sessions: Sessions::default(),
            pending: oidc::PendingLogins::default(),
        }
    }
}

/// A refusal before any work: status and reason.
struct Problem(StatusCode, String);

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        problem(self.0, &self.1)
    }
}

fn problem(status: StatusCode, message: &str) -> Response {
    (
        status,
        Json(json!({"error": {"code": status.as_u16(), "message": message}})),
    )
        .into_response()
}

/// The console, the tenant's runtime and the caller's session; `state_changing` requests must
/// carry the session's CSRF token.
fn caller(
    state: &AppState,
    headers: &HeaderMap,
    state_changing: bool,
) -> Result<(Arc<Console>, Arc<TenantRuntime>, Session), Problem> {
    let console = state.console.clone().ok_or_else(|| {
        Problem(
            StatusCode::NOT_FOUND,
            "the console is not configured".into(),
        )
    })?;
    let runtime = state.tenants.get(&console.tenant).cloned().ok_or_else(|| {
        Problem(
            StatusCode::NOT_FOUND,
            "the console's tenant is not served".into(),
        )
    })?;
    let session = console
        .sessions
        .of(headers)
        .ok_or_else(|| Problem(StatusCode::UNAUTHORIZED, "sign in first".into()))?;
    if state_changing {
        let sent = headers.get("x-csrf-token").and_then(|v| v.to_str().ok());
        if sent != Some(session.csrf.as_str()) {
            return Err(Problem(
                StatusCode::FORBIDDEN,
                "missing or wrong CSRF token".into(),
            ));
        }
    }
    Ok((console, runtime, session))
}

/// As [`caller`], for the admin parts: the session's person must be an IT admin now.
async fn admin(
    state: &AppState,
    headers: &HeaderMap,
    state_changing: bool,
) -> Result<(Arc<TenantRuntime>, Session), Problem> {
    let (_, runtime, session) = caller(state, headers, state_changing)?;
    match runtime.identify(&session.upn).await {
        Ok(p) if p.it_admin => Ok((runtime, session)),
        Ok(_) => Err(Problem(
            StatusCode::FORBIDDEN,
            "the admin view is for IT admins".into(),
        )),
        Err(e) => Err(Problem(StatusCode::FORBIDDEN, e.to_string())),
    }
}

/// `GET /console`.
pub(crate) async fn page() -> Response {
    let mut response = Html(PAGE).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

/// `GET /console/login`: off to the identity provider.
pub(crate) async fn login(State(state): State<AppState>) -> Response {
    let Some(console) = state.console.clone() else {
        return problem(StatusCode::NOT_FOUND, "the console is not configured");
    };
    match console.pending.begin(&console.oidc) {
        Ok(url) => Redirect::to(&url).into_response(),
        Err(e) => problem(StatusCode::INTERNAL_SERVER_ERROR, &e),
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// `GET /console/callback`: the provider's answer; a session, or why not.
pub(crate) async fn callback(State(state): State<AppState>, Query(q): Query<Callback>) -> Response {
    let Some(console) = state.console.clone() else {
        return problem(StatusCode::NOT_FOUND, "the console is not configured");
    };
    let refused = |why: &str| {
        (
            StatusCode::BAD_REQUEST,
            Html(format!(
                "<!doctype html><title>Sign-in failed</title><main><h1>Sign-in failed</h1><p role=\"alert\">{}</p><p><a href=\"/console/login\">Try again</a></p></main>",
                why.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
            )),
        )
            .into_response()
    };
    if let Some(error) = q.error {
        return refused(&format!(
            "{error}: {}",
            q.error_description.unwrap_or_default()
        ));
    }
    let (Some(code), Some(sign_in)) = (q.code, q.state) else {
        return refused("the identity provider's answer has no code or state");
    };
    let upn = match console
        .pending
        .finish(&console.oidc, &console.http, &sign_in, &code)
        .await
    {
        Ok(u) => u,
        Err(e) => return refused(&e),
    };
    let Some(runtime) = state.tenants.get(&console.tenant) else {
        return refused("the console's tenant is not served");
    };
    if let Err(e) = runtime.identify(&upn).await {
        return refused(&match e {
            AgentError::UnknownRequester(_) => {
                format!("{upn} is not in this organisation's directory")
            }
            other => other.to_string(),
        });
    }
    let id = console.sessions.start(&upn);
    let mut response = Redirect::to("/console").into_response();
    if let Ok(cookie) = HeaderValue::from_str(&session::set_cookie(&id, console.secure_cookies)) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}

/// `POST /console/logout`.
pub(crate) async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let (console, _, _) = match caller(&state, &headers, true) {
        Ok(c) => c,
        Err(r) => return r.into_response(),
    };
    console.sessions.end(&headers);
    let mut response = Json(json!({"signedOut": true})).into_response();
    if let Ok(cookie) = HeaderValue::from_str(&session::set_cookie("", console.secure_cookies)) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}

/// `GET /console/api/me`: who is signed in, whether an IT admin, and the CSRF token.
pub(crate) async fn me(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let (_, runtime, session) = match caller(&state, &headers, false) {
        Ok(c) => c,
        Err(r) => return r.into_response(),
    };
    match runtime.identify(&session.upn).await {
        Ok(p) => Json(json!({"upn": p.upn, "displayName": p.display_name, "itAdmin": p.it_admin, "csrf": session.csrf})).into_response(),
        Err(e) => problem(StatusCode::FORBIDDEN, &e.to_string()),
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct AskBody {
    message: String,
    conversation_id: Option<ConversationId>,
}

/// `POST /console/api/ask`: the signed-in person asks, as themselves.
pub(crate) async fn ask(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let (_, runtime, session) = match caller(&state, &headers, true) {
        Ok(c) => c,
        Err(r) => return r.into_response(),
    };
    let Ok(req) = serde_json::from_slice::<AskBody>(&body) else {
        return problem(
            StatusCode::BAD_REQUEST,
            "the body must be {\"message\": \"…\", \"conversationId\": optional}",
        );
    };
    if req.message.trim().is_empty() {
        return problem(StatusCode::BAD_REQUEST, "say what is wrong");
    }
    match runtime
        .handle(
            &session.upn,
            Channel::Web,
            &req.message,
            req.conversation_id,
        )
        .await
    {
        Ok(report) => Json(json!(report)).into_response(),
        Err(e) => problem(StatusCode::UNPROCESSABLE_ENTITY, &e.to_string()),
    }
}

/// `GET /console/api/approvals`: the approval queue (IT admins).
pub(crate) async fn approvals(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let (runtime, _) = match admin(&state, &headers, false).await {
        Ok(c) => c,
        Err(r) => return r.into_response(),
    };
    match runtime.approvals(true).await {
        Ok(rows) => Json(json!({"approvals": rows.into_iter().map(|(row, payload)| json!({
            "id": row.id, "status": row.status.as_str(), "requester": row.requester, "action": row.action,
            "createdAt": row.created_at, "request": payload,
        })).collect::<Vec<_>>()})).into_response(),
        Err(e) => problem(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct DecideBody {
    /// `true` (this requester, 5 uses, 7 days) or the terms (`scope`, `maxUses`,
    /// `expiresInHours`), as the REST API takes them.
    always: Option<Always>,
    reason: Option<String>,
    /// For `ask-info`: the question for the requester.
    question: Option<String>,
}

/// "Approve always": the default terms, or chosen ones.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum Always {
    /// `true` for the default terms (`false`: approve once).
    Default(bool),
    /// Chosen terms.
    Terms(crate::api::AlwaysBody),
}

/// `POST /console/api/approvals/{id}/{approve|deny}` (IT admins; their authority is still
/// policy's to decide).
pub(crate) async fn decide(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, verb)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Response {
    let (runtime, session) = match admin(&state, &headers, true).await {
        Ok(c) => c,
        Err(r) => return r.into_response(),
    };
    let req: DecideBody = if body.is_empty() {
        DecideBody::default()
    } else {
        match serde_json::from_slice(&body) {
            Ok(b) => b,
            Err(e) => return problem(StatusCode::BAD_REQUEST, &format!("invalid body: {e}")),
        }
    };
    let Ok(id) = uuid::Uuid::parse_str(&id) else {
        return problem(StatusCode::BAD_REQUEST, "not an approval id");
    };
    if verb == "ask-info" {
        let Some(question) = req.question.filter(|q| !q.trim().is_empty()) else {
            return problem(StatusCode::BAD_REQUEST, "ask the requester a question");
        };
        return match runtime
            .ask_for_info(ApprovalId(id), &session.upn, &question)
            .await
        {
            Ok((summary, follow_up)) => {
                Json(json!({"summary": summary, "followUp": follow_up})).into_response()
            }
            Err(e) => problem(StatusCode::FORBIDDEN, &e.to_string()),
        };
    }
    let decision = match verb.as_str() {
        "approve" => match req.always {
            None | Some(Always::Default(false)) => ApprovalDecision::ApproveOnce,
            Some(Always::Default(true)) => ApprovalDecision::ApproveAlways(StandingTerms {
                scope: StandingScope::Requester,
                max_uses: 5,
                ttl: Duration::from_secs(7 * 24 * 3600),
            }),
            Some(Always::Terms(t)) => {
                if t.max_uses == 0
                    || t.max_uses > 1000
                    || t.expires_in_hours == 0
                    || t.expires_in_hours > 24 * 365
                {
                    return problem(
                        StatusCode::BAD_REQUEST,
                        "approve always needs maxUses 1–1000 and expiresInHours 1–8760",
                    );
                }
                ApprovalDecision::ApproveAlways(StandingTerms {
                    scope: t.scope,
                    max_uses: t.max_uses,
                    ttl: Duration::from_secs(t.expires_in_hours * 3600),
                })
            }
        },
        "deny" => match req.reason.filter(|r| !r.trim().is_empty()) {
            Some(reason) => ApprovalDecision::Deny { reason },
            None => {
                return problem(
                    StatusCode::BAD_REQUEST,
                    "a denial needs a reason for the requester",
                );
            }
        },
        _ => return problem(StatusCode::NOT_FOUND, "approve or deny"),
    };
    match runtime
        .decide_approval(ApprovalId(id), &session.upn, decision)
        .await
    {
        Ok((summary, follow_up)) => {
            Json(json!({"summary": summary, "followUp": follow_up})).into_response()
        }
        Err(e) => problem(StatusCode::FORBIDDEN, &e.to_string()),
    }
}

/// Narrows the audit view: each given field must appear in the record's (case-insensitive).
#[derive(Debug, Deserialize, Default)]
pub(crate) struct AuditFilter {
    kind: Option<String>,
    action: Option<String>,
    requester: Option<String>,
    outcome: Option<String>,
}

fn matches(filter: Option<&String>, value: Option<&str>) -> bool {
    match filter
        .map(|f| f.trim().to_lowercase())
        .filter(|f| !f.is_empty())
    {
        None => true,
        Some(f) => value.is_some_and(|v| v.to_lowercase().contains(&f)),
    }
}

/// `GET /console/api/audit`: the latest records (filtered by `kind`, `action`, `requester`,
/// `outcome`) and whether the chain verifies (IT admins).
pub(crate) async fn audit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(filter): Query<AuditFilter>,
) -> Response {
    let (runtime, _) = match admin(&state, &headers, false).await {
        Ok(c) => c,
        Err(r) => return r.into_response(),
    };
    let records = match runtime.store.audit_records(None).await {
        Ok(r) => r,
        Err(e) => return problem(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    };
    let verification = runtime.store.verify_audit().await.ok();
    let latest: Vec<Value> = records
        .iter()
        .rev()
        .filter(|r| {
            let kind = r.entry.kind.to_string();
            matches(filter.kind.as_ref(), Some(&kind))
                && matches(filter.action.as_ref(), r.entry.action.as_deref())
                && matches(filter.requester.as_ref(), r.entry.requester.as_deref())
                && matches(filter.outcome.as_ref(), r.entry.outcome.as_deref())
        })
        .take(200)
        .map(|r| json!({"seq": r.seq, "kind": r.entry.kind.to_string(), "time": r.entry.time, "requester": r.entry.requester,
                        "action": r.entry.action, "outcome": r.entry.outcome, "conversation": r.entry.conversation}))
        .collect();
    Json(json!({"records": latest, "verification": verification})).into_response()
}

/// `GET /console/api/escalations`: the open escalations (IT admins).
pub(crate) async fn escalations(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let (runtime, _) = match admin(&state, &headers, false).await {
        Ok(c) => c,
        Err(r) => return r.into_response(),
    };
    match runtime.store.escalations(true).await {
        Ok(rows) => Json(json!({"escalations": rows.into_iter().map(|r| json!({
            "id": r.id, "requester": r.requester, "createdAt": r.created_at, "ticket": r.ticket,
            "reason": r.bundle["reason"], "suggestedNextStep": r.bundle["suggestedNextStep"],
        })).collect::<Vec<_>>()}))
        .into_response(),
        Err(e) => problem(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}

/// `GET /console/events`: a `changed` event whenever the approval queue or the audit trail
/// moves (checked every second), so pages update without reload.
pub(crate) async fn events(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let (_, runtime, _) = match caller(&state, &headers, false) {
        Ok(c) => c,
        Err(r) => return r.into_response(),
    };
    let stream = futures_util::stream::unfold(
        (runtime, None::<(i64, i64)>),
        |(runtime, last)| async move {
            loop {
                // Two cheap counts per second and client; the page fetches what changed.
                let pending = runtime.store.pending_approval_count().await.unwrap_or(0);
                let latest = runtime.store.last_audit_seq().await.unwrap_or(0);
                let now = (pending, latest);
                if last != Some(now) {
                    let event = Event::default().event("changed").data(
                        json!({"pendingApprovals": pending, "lastAudit": latest}).to_string(),
                    );
                    return Some((Ok::<_, Infallible>(event), (runtime, Some(now))));
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        },
    );
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}

/// `GET /console/api/requests`: the signed-in person's own latest requests.
pub(crate) async fn requests(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let (_, runtime, session) = match caller(&state, &headers, false) {
        Ok(c) => c,
        Err(r) => return r.into_response(),
    };
    match runtime.store.conversations_of(&session.upn, 20).await {
        Ok(rows) => Json(json!({"requests": rows.into_iter().map(|(row, created_at)| json!({
            "conversationId": row.id, "channel": row.channel, "status": row.status, "createdAt": created_at,
            "message": row.state["messages"][0],
        })).collect::<Vec<_>>()}))
        .into_response(),
        Err(e) => problem(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}

/// `GET /console/api/standing`: standing approvals ("approve always"), live and ended (IT
/// admins).
pub(crate) async fn standing(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let (runtime, _) = match admin(&state, &headers, false).await {
        Ok(c) => c,
        Err(r) => return r.into_response(),
    };
    match runtime.standing_approvals().await {
        Ok(rows) => Json(json!({"standingApprovals": rows.into_iter().map(|r| json!({
            "id": r.id, "action": r.action, "scope": r.scope_label, "approver": r.approver,
            "createdAt": r.created_at, "expiresAt": r.expires_at, "maxUses": r.max_uses, "uses": r.uses,
            "revokedAt": r.revoked_at,
        })).collect::<Vec<_>>()}))
        .into_response(),
        Err(e) => problem(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}

/// `POST /console/api/standing/{id}/revoke` (IT admins).
pub(crate) async fn revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let (runtime, session) = match admin(&state, &headers, true).await {
        Ok(c) => c,
        Err(r) => return r.into_response(),
    };
    match runtime.revoke_standing(&id, &session.upn).await {
        Ok(()) => Json(json!({"revoked": id})).into_response(),
        Err(e) => problem(StatusCode::FORBIDDEN, &e.to_string()),
    }
}

/// `GET /console/api/conversations`: everyone's latest conversations, for watching Steward work
/// (IT admins).
pub(crate) async fn conversations(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let (runtime, _) = match admin(&state, &headers, false).await {
        Ok(c) => c,
        Err(r) => return r.into_response(),
    };
    match runtime.store.recent_conversations(30).await {
        Ok(rows) => Json(json!({"conversations": rows.into_iter().map(|(row, updated_at)| json!({
            "conversationId": row.id, "requester": row.requester, "channel": row.channel, "status": row.status,
            "updatedAt": updated_at, "message": row.state["messages"][0],
            "steps": row.state["observations"].as_array().map_or(0, Vec::len),
        })).collect::<Vec<_>>()}))
        .into_response(),
        Err(e) => problem(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}

/// `GET /console/api/integrations`: what the tenant is connected to and whose grants Steward
/// acts with — never a token (IT admins).
pub(crate) async fn integrations(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let (runtime, _) = match admin(&state, &headers, false).await {
        Ok(c) => c,
        Err(r) => return r.into_response(),
    };
    Json(runtime.integrations().await).into_response()
}

/// The facts of the "explain" form.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ExplainQuery {
    action: String,
    target: steward_policy::HypotheticalTarget,
    #[serde(default)]
    it_admin: bool,
    department: Option<String>,
    channel: Option<String>,
    #[serde(default)]
    approved: bool,
    blast_radius: Option<i64>,
    recent_count: Option<i64>,
    local_hour: Option<i64>,
}

/// `GET /console/api/explain`: how the policies in force would decide a request described by
/// hand — outcome, deciding policies and layers, and what an approval would change (IT admins).
pub(crate) async fn explain(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<ExplainQuery>,
) -> Response {
    let (runtime, _) = match admin(&state, &headers, false).await {
        Ok(c) => c,
        Err(r) => return r.into_response(),
    };
    let h = steward_policy::Hypothetical {
        action: q.action.clone(),
        it_admin: q.it_admin,
        target: q.target,
        department: q.department.filter(|d| !d.trim().is_empty()),
        channel: q.channel.unwrap_or_else(|| "web".into()),
        approved: q.approved,
        blast_radius: q.blast_radius.unwrap_or(1).max(1),
        recent_count: q.recent_count.unwrap_or(0).max(0),
        local_hour: q.local_hour.unwrap_or(12).clamp(0, 23),
    };
    let engine = runtime.gateway().policy();
    let catalog = runtime.catalog();
    let decided = h.decide(&engine, &catalog).and_then(|(target, decision)| {
        h.approval_effect(&engine, &catalog, &decision)
            .map(|effect| (target, decision, effect))
    });
    match decided {
        Ok((target, decision, effect)) => Json(json!({
            "action": q.action, "target": target, "decision": decision,
            "withApproval": effect.by_other, "withOwnApproval": effect.by_self,
            "approveAlwaysOffered": effect.always_offered, "approveAlwaysRefused": effect.always_refused,
            "standingRule": effect.standing_rule,
        }))
        .into_response(),
        Err(e) => problem(StatusCode::BAD_REQUEST, &e.to_string()),
    }
}
