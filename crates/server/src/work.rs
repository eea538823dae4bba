//! Replica mode: each request (a message, an approval decision) becomes a work item in the shared
//! database; the replica that took the request waits for its result while any replica's workers
//! may run it. A worker renews its lease while it works; if its replica dies, the lease runs out
//! and another replica runs the item again — after settling every change the first run started
//! (by reading the target), and under the same idempotency keys, so nothing is done twice.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, Query, State};
use chrono::Utc;
use serde::Deserialize;
use serde_json::{Value, json};
use steward_agent::TenantRuntime;
use steward_domain::{ApprovalId, Channel, ConversationId};
use steward_store::{ApprovalStatus, Store, WorkItem, WorkStatus};

use crate::api::{DecisionBody, approval_decision};
use crate::{ApiError, AppState};

/// How replica mode runs.
#[derive(Debug, Clone)]
pub struct WorkConfig {
    /// This replica's name as the owner of the work it claims (unique per process).
    pub owner: String,
    /// How long a claim lasts without renewal (renewed every third of it while working).
    pub lease: Duration,
    /// Concurrent workers in this replica.
    pub workers: usize,
    /// How long a request waits for its work before answering "still running" (504) with the
    /// work's id to ask about later.
    pub wait: Duration,
}

impl WorkConfig {
    /// Defaults for `owner`: a 30 s lease, four workers, two minutes' wait.
    pub fn new(owner: String) -> Self {
        Self {
            owner,
            lease: Duration::from_secs(30),
            workers: 4,
            wait: Duration::from_secs(120),
        }
    }
}

/// Queues work `id` (once: a repeated id joins the first) and waits for its result.
pub(crate) async fn submit(
    state: &AppState,
    runtime: &TenantRuntime,
    id: &str,
    kind: &str,
    conversation: Option<&str>,
    payload: Value,
) -> Result<Value, ApiError> {
    let wait = state
        .work
        .as_ref()
        .map_or(Duration::from_secs(120), |w| w.wait);
    runtime
        .store
        .enqueue_work(id, kind, conversation, &payload)
        .await?;
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match runtime.store.work_result(id).await? {
            Some((WorkStatus::Done, Some(result))) => return answer(result),
            Some((WorkStatus::Failed, result)) => {
                return Err(result
                    .as_ref()
                    .and_then(|r| r.get("error"))
                    .map(ApiError::from_value)
                    .unwrap_or_else(|| ApiError::internal("the work failed")));
            }
            _ => {}
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(ApiError::still_running(format!(
                "still working on it; ask again with GET /api/v1/work/{id}"
            )));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A finished item's stored result as the API's answer.
fn answer(result: Value) -> Result<Value, ApiError> {
    match result.get("error") {
        Some(error) => Err(ApiError::from_value(error)),
        None => Ok(result.get("answer").cloned().unwrap_or(Value::Null)),
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct WorkQuery {
    tenant: Option<String>,
}

/// `GET /api/v1/work/{id}`: where a request stands, and its answer once done (for a caller whose
/// replica went away before answering).
pub(crate) async fn work_status(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<WorkQuery>,
) -> Result<Json<Value>, ApiError> {
    let runtime = state.tenant(q.tenant.as_deref())?;
    match runtime.store.work_result(&id).await? {
        None => Err(ApiError::not_found(format!("no work `{id}`"))),
        Some((WorkStatus::Done, Some(result))) => match answer(result) {
            Ok(answer) => Ok(Json(json!({"status": "done", "answer": answer}))),
            Err(e) => Ok(Json(json!({"status": "done", "error": e.to_value()}))),
        },
        Some((status, _)) => Ok(Json(json!({"status": status.as_str()}))),
    }
}

/// Starts this replica's workers over every tenant of `state`.
pub fn start_workers(store: Store, state: AppState) -> Vec<tokio::task::JoinHandle<()>> {
    let Some(config) = state.work.clone() else {
        return Vec::new();
    };
    (0..config.workers.max(1))
        .map(|n| {
            let (store, state, config) = (store.clone(), state.clone(), config.clone());
            tokio::spawn(async move { worker(n, store, state, config).await })
        })
        .collect()
}

async fn worker(n: usize, store: Store, state: AppState, config: WorkConfig) {
    let owner = format!("{}#{n}", config.owner);
    let lease = chrono::Duration::from_std(config.lease).unwrap_or(chrono::Duration::seconds(30));
    let mut signal = match store.work_signal().await {
        Ok(s) => Some(s),
        Err(e) => {
            tracing::warn!(error = %e, "no work announcements; polling");
            None
        }
    };
    loop {
        let claimed = match store.claim_work(&owner, Utc::now(), lease).await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "could not claim work");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        let Some((tenant, item)) = claimed else {
            match signal.as_mut() {
                Some(s) => {
                    s.wait(Duration::from_secs(1)).await;
                }
                None => tokio::time::sleep(Duration::from_millis(200)).await,
            }
            continue;
        };
        let Some(runtime) = state.tenants.get(tenant.tenant().as_str()).cloned() else {
            tracing::warn!(tenant = %tenant.tenant(), "work for a tenant this replica does not serve; left for another");
            continue;
        };
        run_claimed(&owner, lease, runtime, item).await;
    }
}

/// Runs one claimed item while renewing its lease; stops if the lease is lost (another replica
/// took it over) and stores the result otherwise.
async fn run_claimed(
    owner: &str,
    lease: chrono::Duration,
    runtime: Arc<TenantRuntime>,
    item: WorkItem,
) {
    let store = runtime.store.clone();
    let renew_every = (lease / 3).to_std().unwrap_or(Duration::from_secs(10));
    let heartbeat = async {
        loop {
            tokio::time::sleep(renew_every).await;
            match store.renew_work(&item.id, owner, Utc::now(), lease).await {
                Ok(true) => {}
                Ok(false) => return,
                Err(e) => {
                    tracing::warn!(work = %item.id, error = %e, "could not renew a work lease")
                }
            }
        }
    };
    let result = tokio::select! {
        r = run_item(&runtime, &item) => r,
        () = heartbeat => {
            tracing::warn!(work = %item.id, "lost the lease on work in progress; another replica has it");
            return;
        }
    };
    let stored = match result {
        Ok(answer) => json!({"answer": answer}),
        Err(e) => json!({"error": e.to_value()}),
    };
    if let Err(e) = store
        .complete_work(&item.id, owner, WorkStatus::Done, &stored)
        .await
    {
        tracing::error!(work = %item.id, error = %e, "could not store a work result; it will run again");
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TurnPayload {
    #[serde(rename = "as")]
    requester: String,
    message: String,
    channel: Channel,
    conversation_id: Option<ConversationId>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ApprovalPayload {
    approval_id: ApprovalId,
    approve: bool,
    body: DecisionBody,
}

async fn run_item(runtime: &TenantRuntime, item: &WorkItem) -> Result<Value, ApiError> {
    match item.kind.as_str() {
        "turn" => {
            let p: TurnPayload = serde_json::from_value(item.payload.clone())
                .map_err(|e| ApiError::internal(format!("unreadable work item: {e}")))?;
            let turn: uuid::Uuid = item
                .id
                .parse()
                .map_err(|e| ApiError::internal(format!("a turn's work id is not a UUID: {e}")))?;
            if item.attempts > 1 {
                let conversation = p
                    .conversation_id
                    .unwrap_or_else(|| TenantRuntime::conversation_of_work(turn));
                runtime
                    .settle_before_rerun(&conversation.to_string())
                    .await?;
            }
            let report = runtime
                .handle_work(turn, &p.requester, p.channel, &p.message, p.conversation_id)
                .await?;
            serde_json::to_value(report)
                .map_err(|e| ApiError::internal(format!("the report could not be encoded: {e}")))
        }
        "approval" => {
            let p: ApprovalPayload = serde_json::from_value(item.payload.clone())
                .map_err(|e| ApiError::internal(format!("unreadable work item: {e}")))?;
            let id = p.approval_id;
            if item.attempts > 1 {
                let row = runtime.store.approval(id).await?;
                match row.status {
                    ApprovalStatus::Pending | ApprovalStatus::InfoRequested => {}
                    ApprovalStatus::Approved => {
                        let follow_up = runtime.finish_approved(id).await?;
                        let row = runtime.store.approval(id).await?;
                        return Ok(
                            json!({"approvalId": id, "summary": row.note, "followUp": follow_up}),
                        );
                    }
                    // The first run got to the end before its replica died.
                    _ => {
                        return Ok(
                            json!({"approvalId": id, "summary": row.note, "followUp": null}),
                        );
                    }
                }
            }
            let decision = approval_decision(&p.body, p.approve)?;
            let (summary, follow_up) = runtime
                .decide_approval(id, &p.body.approver, decision)
                .await?;
            Ok(json!({"approvalId": id, "summary": summary, "followUp": follow_up}))
        }
        other => Err(ApiError::internal(format!(
            "unknown kind of work `{other}`"
        ))),
    }
}
