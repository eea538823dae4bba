use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use steward_agent::{ApprovalDecision, StandingScope, StandingTerms};
use steward_domain::report::TurnReport;
use steward_domain::{ApprovalId, Channel, ConversationId};

use crate::{ApiError, AppState};

const DEMO_PAGE: &str = include_str!("../assets/demo.html");

/// The router over `state`, with the default rate limits.
pub fn app(state: AppState) -> Router {
    app_with_limits(state, crate::Limits::default())
}

/// The router over `state`, each endpoint group limited as `limits` says.
pub fn app_with_limits(state: AppState, limits: crate::Limits) -> Router {
    Router::new()
        .route("/", get(|| async { Html(DEMO_PAGE) }))
        .route("/healthz", get(|| async { Json(json!({"status": "ok"})) }))
        .route("/api/v1/ask", post(ask))
        .route("/api/v1/approvals", get(list_approvals))
        .route("/api/v1/approvals/{id}/approve", post(approve))
        .route("/api/v1/approvals/{id}/deny", post(deny))
        .route("/api/v1/approvals/{id}/ask-info", post(ask_info))
        .route("/api/v1/audit/verify", get(verify_audit))
        .route("/api/v1/escalations", get(crate::escalations::list))
        .route("/api/v1/escalations/{id}", get(crate::escalations::show))
        .route("/api/v1/standing", get(list_standing))
        .route("/api/v1/standing/{id}/revoke", post(revoke_standing))
        .route("/api/v1/demo/people", get(demo_people))
        .route("/api/v1/work/{id}", get(crate::work::work_status))
        .route("/console", get(crate::console::page))
        .route("/console/login", get(crate::console::login))
        .route("/console/callback", get(crate::console::callback))
        .route("/console/logout", post(crate::console::logout))
        .route("/console/events", get(crate::console::events))
        .route("/console/api/me", get(crate::console::me))
        .route("/console/api/ask", post(crate::console::ask))
        .route("/console/api/approvals", get(crate::console::approvals))
        .route(
            "/console/api/approvals/{id}/{verb}",
            post(crate::console::decide),
        )
        .route("/console/api/audit", get(crate::console::audit))
        .route("/console/api/requests", get(crate::console::requests))
        .route("/console/api/explain", get(crate::console::explain))
        .route("/console/api/actions", get(crate::console::actions::list))
        .route(
            "/console/api/actions/run",
            post(crate::console::actions::run),
        )
        .route(
            "/console/api/conversations",
            get(crate::console::conversations),
        )
        .route(
            "/console/api/integrations",
            get(crate::console::integrations),
        )
        .route("/console/api/standing", get(crate::console::standing))
        .route(
            "/console/api/standing/{id}/revoke",
            post(crate::console::revoke),
        )
        .route("/console/api/escalations", get(crate::console::escalations))
        .route("/channels/slack/events", post(crate::slack::events))
        .route("/channels/teams/messages", post(crate::teams::messages))
        .route(
            "/channels/slack/interactions",
            post(crate::slack::interactions),
        )
        .route("/api/v1/playbooks/onboard", post(crate::playbooks::onboard))
        .route(
            "/api/v1/playbooks/offboard",
            post(crate::playbooks::offboard),
        )
        .route(
            "/console/api/integrations/imported",
            get(crate::console::imports::list),
        )
        .route(
            "/console/api/integrations/imported/{name}",
            get(crate::console::imports::show),
        )
        .route(
            "/console/api/integrations/imported/{name}/accept",
            post(crate::console::imports::accept),
        )
        .layer(tower_http::limit::RequestBodyLimitLayer::new(64 * 1024))
        // An API description is larger than any other request: its own limit, the importer's.
        .route(
            "/console/api/integrations/import",
            post(crate::console::imports::import).layer(axum::extract::DefaultBodyLimit::max(
                crate::console::imports::MAX_UPLOAD_BYTES,
            )),
        )
        .route(
            "/console/api/ask/attachment",
            post(crate::console::imports::chat_import).layer(axum::extract::DefaultBodyLimit::max(
                crate::console::imports::MAX_UPLOAD_BYTES,
            )),
        )
        .layer(axum::middleware::from_fn_with_state(
            crate::limits::Buckets::new(limits),
            crate::limits::limit,
        ))
        .with_state(state)
}

pub(crate) fn body<T>(payload: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    payload
        .map(|Json(v)| v)
        .map_err(|e| ApiError::bad_request(format!("invalid request body: {}", e.body_text())))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct AskBody {
    tenant: Option<String>,
    #[serde(rename = "as")]
    requester: String,
    message: String,
    conversation_id: Option<ConversationId>,
    channel: Option<Channel>,
    /// The caller's id for this message (a UUID): sent again (to any replica) after a lost
    /// answer, it gets the first attempt's answer instead of a second turn.
    request_id: Option<uuid::Uuid>,
    /// Decide and preview every change without making any (a new conversation only).
    #[serde(default)]
    dry_run: bool,
}

async fn ask(
    State(state): State<AppState>,
    payload: Result<Json<AskBody>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let req = body(payload)?;
    let runtime = state.tenant(req.tenant.as_deref())?;
    let channel = req.channel.unwrap_or(Channel::Web);
    if req.dry_run {
        if req.conversation_id.is_some() {
            return Err(ApiError::bad_request(
                "a dry run starts a new conversation: leave out `conversationId`",
            ));
        }
        // Nothing is changed, so there is nothing to run at most once: no work item.
        let report = runtime
            .handle_dry_run(&req.requester, channel, &req.message)
            .await?;
        return Ok(Json(serde_json::to_value(report).map_err(|e| {
            ApiError::internal(format!("the report could not be encoded: {e}"))
        })?));
    }
    if state.work.is_some() {
        let turn = req.request_id.unwrap_or_else(uuid::Uuid::now_v7);
        let payload = json!({"as": req.requester, "message": req.message, "channel": channel, "conversationId": req.conversation_id});
        let conversation = req.conversation_id.map(|c| c.to_string());
        return crate::work::submit(
            &state,
            runtime,
            &turn.to_string(),
            "turn",
            conversation.as_deref(),
            payload,
        )
        .await
        .map(Json);
    }
    let report: TurnReport = runtime
        .handle(&req.requester, channel, &req.message, req.conversation_id)
        .await?;
    Ok(Json(serde_json::to_value(report).map_err(|e| {
        ApiError::internal(format!("the report could not be encoded: {e}"))
    })?))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TenantQuery {
    tenant: Option<String>,
    status: Option<String>,
}

async fn list_approvals(
    State(state): State<AppState>,
    Query(q): Query<TenantQuery>,
) -> Result<Json<Value>, ApiError> {
    let runtime = state.tenant(q.tenant.as_deref())?;
    let only_pending = match q.status.as_deref() {
        None | Some("pending") => true,
        Some("all") => false,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "status must be `pending` or `all`, not `{other}`"
            )));
        }
    };
    let rows = runtime.approvals(only_pending).await?;
    let items: Vec<Value> = rows
        .into_iter()
        .map(|(row, payload)| {
            json!({"id": row.id, "status": row.status.as_str(), "requester": row.requester, "action": row.action, "createdAt": row.created_at,
                   "decidedBy": row.decided_by, "note": row.note, "request": payload})
        })
        .collect();
    Ok(Json(json!({"approvals": items})))
}

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct DecisionBody {
    pub(crate) tenant: Option<String>,
    #[serde(rename = "as")]
    pub(crate) approver: String,
    pub(crate) reason: Option<String>,
    /// "Approve always" with these bounds.
    pub(crate) always: Option<AlwaysBody>,
    /// For a bulk request: approve only these targets (sign-in names, ids or names).
    pub(crate) only: Option<Vec<String>>,
    /// The caller's id for this decision: sent again (to any replica) after a lost answer, it
    /// gets the first attempt's answer instead of deciding twice.
    pub(crate) request_id: Option<String>,
}

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct AlwaysBody {
    pub(crate) scope: StandingScope,
    pub(crate) max_uses: u32,
    pub(crate) expires_in_hours: u64,
}

async fn decide(
    state: AppState,
    id: &str,
    req: DecisionBody,
    approve: bool,
) -> Result<Json<Value>, ApiError> {
    let id: ApprovalId = id
        .parse()
        .map_err(|_| ApiError::bad_request(format!("`{id}` is not an approval id")))?;
    let runtime = state.tenant(req.tenant.as_deref())?;
    if state.work.is_some() {
        // Any replica runs it; this one answers when it is done.
        let work_id = format!(
            "approval:{id}:{}",
            req.request_id
                .clone()
                .unwrap_or_else(|| uuid::Uuid::now_v7().to_string())
        );
        let payload = json!({"approvalId": id, "approve": approve, "body": req});
        return crate::work::submit(&state, runtime, &work_id, "approval", None, payload)
            .await
            .map(Json);
    }
    let decision = approval_decision(&req, approve)?;
    let (summary, follow_up) = runtime.decide_approval(id, &req.approver, decision).await?;
    Ok(Json(
        json!({"approvalId": id, "summary": summary, "followUp": follow_up}),
    ))
}

async fn approve(
    State(state): State<AppState>,
    Path(id): Path<String>,
    payload: Result<Json<DecisionBody>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let req = body(payload)?;
    approval_decision(&req, true)?;
    decide(state, &id, req, true).await
}

/// The decision a request body asks for: approve (once, always, some targets) or deny.
pub(crate) fn approval_decision(
    req: &DecisionBody,
    approve: bool,
) -> Result<ApprovalDecision, ApiError> {
    if !approve {
        let reason = req
            .reason
            .clone()
            .filter(|r| !r.trim().is_empty())
            .ok_or_else(|| ApiError::bad_request("a denial needs a `reason` for the requester"))?;
        return Ok(ApprovalDecision::Deny { reason });
    }
    Ok(match (&req.always, &req.only) {
        (Some(_), Some(_)) => {
            return Err(ApiError::bad_request(
                "`always` and `only` do not go together: a bulk request is never approved always",
            ));
        }
        (None, Some(only)) if only.is_empty() => {
            return Err(ApiError::bad_request(
                "`only` lists the targets to approve; it cannot be empty",
            ));
        }
        (None, Some(only)) => ApprovalDecision::ApproveSelected(only.clone()),
        (None, None) => ApprovalDecision::ApproveOnce,
        (Some(a), None) => {
            if a.max_uses == 0 || a.expires_in_hours == 0 || a.expires_in_hours > 24 * 365 {
                return Err(ApiError::bad_request(
                    "`always` needs maxUses >= 1 and expiresInHours between 1 and 8760",
                ));
            }
            ApprovalDecision::ApproveAlways(StandingTerms {
                scope: a.scope,
                max_uses: a.max_uses,
                ttl: std::time::Duration::from_secs(a.expires_in_hours * 3600),
            })
        }
    })
}

async fn list_standing(
    State(state): State<AppState>,
    Query(q): Query<TenantQuery>,
) -> Result<Json<Value>, ApiError> {
    let runtime = state.tenant(q.tenant.as_deref())?;
    let rows = runtime.standing_approvals().await?;
    let items: Vec<Value> = rows
        .into_iter()
        .map(|r| {
            json!({"id": r.id, "action": r.action, "scope": r.scope_label, "approver": r.approver, "createdAt": r.created_at,
                   "expiresAt": r.expires_at, "maxUses": r.max_uses, "uses": r.uses, "revokedAt": r.revoked_at,
                   "sourceApproval": r.source_approval})
        })
        .collect();
    Ok(Json(json!({"standingApprovals": items})))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RevokeBody {
    tenant: Option<String>,
    #[serde(rename = "as")]
    by: String,
}

async fn revoke_standing(
    State(state): State<AppState>,
    Path(id): Path<String>,
    payload: Result<Json<RevokeBody>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let req = body(payload)?;
    let runtime = state.tenant(req.tenant.as_deref())?;
    runtime.revoke_standing(&id, &req.by).await?;
    Ok(Json(json!({"revoked": id})))
}

async fn deny(
    State(state): State<AppState>,
    Path(id): Path<String>,
    payload: Result<Json<DecisionBody>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let req = body(payload)?;
    approval_decision(&req, false)?;
    decide(state, &id, req, false).await
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct InfoBody {
    tenant: Option<String>,
    #[serde(rename = "as")]
    approver: String,
    question: String,
}

async fn ask_info(
    State(state): State<AppState>,
    Path(id): Path<String>,
    payload: Result<Json<InfoBody>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let req = body(payload)?;
    let id: ApprovalId = id
        .parse()
        .map_err(|_| ApiError::bad_request(format!("`{id}` is not an approval id")))?;
    let runtime = state.tenant(req.tenant.as_deref())?;
    let (summary, follow_up) = runtime
        .ask_for_info(id, &req.approver, &req.question)
        .await?;
    Ok(Json(
        json!({"approvalId": id, "summary": summary, "followUp": follow_up}),
    ))
}

async fn verify_audit(
    State(state): State<AppState>,
    Query(q): Query<TenantQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let runtime = state.tenant(q.tenant.as_deref())?;
    Ok(Json(runtime.store.verify_audit().await?))
}

async fn demo_people(State(state): State<AppState>) -> Json<Value> {
    Json(json!({"people": *state.demo_people}))
}
