use std::fmt;
use std::str::FromStr;

use chrono::Utc;
use serde_json::Value;
use steward_domain::{ApprovalId, ConversationId};

use crate::db::on_db;
use crate::{StoreError, TenantStore};

/// Where an approval request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApprovalStatus {
    /// Waiting for a human.
    Pending,
    /// An approver asked the requester for more information; waiting for the answer.
    InfoRequested,
    /// Approved; the action is being (or was) re-checked and run.
    Approved,
    /// Denied by a human.
    Denied,
    /// Approved and run.
    Executed,
    /// Approved, but the run failed or the re-check refused it.
    Failed,
    /// Nobody decided in time; the requester was told.
    Expired,
}

impl ApprovalStatus {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::InfoRequested => "infoRequested",
            Self::Approved => "approved",
            Self::Denied => "denied",
            Self::Executed => "executed",
            Self::Failed => "failed",
            Self::Expired => "expired",
        }
    }
}

impl fmt::Display for ApprovalStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ApprovalStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "pending" => Self::Pending,
            "infoRequested" => Self::InfoRequested,
            "approved" => Self::Approved,
            "denied" => Self::Denied,
            "executed" => Self::Executed,
            "failed" => Self::Failed,
            "expired" => Self::Expired,
            other => return Err(format!("unknown approval status `{other}`")),
        })
    }
}

/// A stored approval request; `payload` is the self-describing request the agent built.
#[derive(Debug, Clone, PartialEq)]
pub struct ApprovalRow {
    /// Its id.
    pub id: ApprovalId,
    /// The conversation waiting on it.
    pub conversation: ConversationId,
    /// Who asked.
    pub requester: String,
    /// The action.
    pub action: String,
    /// Where it stands.
    pub status: ApprovalStatus,
    /// The full request (action, parameters, targets, decision, reason).
    pub payload: Value,
    /// Who decided.
    pub decided_by: Option<String>,
    /// A note on the decision or the run.
    pub note: Option<String>,
    /// When it was asked for.
    pub created_at: String,
    /// When it was decided (RFC 3339), if it was.
    pub decided_at: Option<String>,
}

type Row = (
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    Option<String>,
);

fn decode(store: &TenantStore, row: Row) -> Result<ApprovalRow, StoreError> {
    let (
        id,
        conversation,
        requester,
        action,
        status,
        payload,
        decided_by,
        note,
        created_at,
        decided_at,
    ) = row;
    let corrupt = |reason: String| StoreError::Corrupt {
        what: "approval",
        reason,
    };
    Ok(ApprovalRow {
        id: id
            .parse()
            .map_err(|e: uuid::Error| corrupt(e.to_string()))?,
        conversation: conversation
            .parse()
            .map_err(|e: uuid::Error| corrupt(e.to_string()))?,
        requester,
        action,
        status: status.parse().map_err(corrupt)?,
        payload: store.open_json(&payload, "approval.payload", "approval")?,
        decided_by,
        note,
        created_at,
        decided_at,
    })
}

const COLUMNS: &str = "id, conversation, requester, action, status, payload, decided_by, note, created_at, decided_at";

impl TenantStore {
    /// Persists a new pending approval request (once: the same id again — a turn run a second
    /// time after a crash — keeps the first).
    pub async fn create_approval(
        &self,
        id: ApprovalId,
        conversation: ConversationId,
        requester: &str,
        action: &str,
        payload: &Value,
    ) -> Result<(), StoreError> {
        on_db!(&self.db, pool => sqlx::query("INSERT INTO approvals (tenant, id, conversation, requester, action, status, payload, created_at) VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7) ON CONFLICT (tenant, id) DO NOTHING")
            .bind(self.tenant.as_str())
            .bind(id.to_string())
            .bind(conversation.to_string())
            .bind(requester)
            .bind(action)
            .bind(self.seal_json(payload, "approval.payload")?)
            .bind(Utc::now().to_rfc3339())
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// How many approval requests wait for a decision (a cheap count, for live views that poll).
    pub async fn pending_approval_count(&self) -> Result<i64, StoreError> {
        let (n,): (i64,) = on_db!(&self.db, pool => sqlx::query_as("SELECT COUNT(*) FROM approvals WHERE tenant = $1 AND status = $2")
            .bind(self.tenant.as_str())
            .bind(ApprovalStatus::Pending.as_str())
            .fetch_one(pool)
            .await)?;
        Ok(n)
    }

    /// Approval requests of this tenant, newest first, optionally only one status.
    pub async fn approvals(
        &self,
        status: Option<ApprovalStatus>,
    ) -> Result<Vec<ApprovalRow>, StoreError> {
        let rows: Vec<Row> = match status {
            Some(s) => {
                on_db!(&self.db, pool => sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM approvals WHERE tenant = $1 AND status = $2 ORDER BY created_at DESC")))
                    .bind(self.tenant.as_str())
                    .bind(s.as_str())
                    .fetch_all(pool)
                    .await)?
            }
            None => {
                on_db!(&self.db, pool => sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM approvals WHERE tenant = $1 ORDER BY created_at DESC")))
                    .bind(self.tenant.as_str())
                    .fetch_all(pool)
                    .await)?
            }
        };
        rows.into_iter().map(|r| decode(self, r)).collect()
    }

    /// Undecided approval requests (pending, or waiting for the requester's answer) created
    /// before `cutoff` (RFC 3339, UTC), oldest first.
    pub async fn pending_approvals_before(
        &self,
        cutoff: &str,
    ) -> Result<Vec<ApprovalRow>, StoreError> {
        let rows: Vec<Row> = on_db!(&self.db, pool => sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM approvals WHERE tenant = $1 AND status IN ('pending', 'infoRequested') AND created_at < $2 ORDER BY created_at"
        )))
        .bind(self.tenant.as_str())
        .bind(cutoff)
        .fetch_all(pool)
        .await)?;
        rows.into_iter().map(|r| decode(self, r)).collect()
    }

    /// One approval of this tenant.
    pub async fn approval(&self, id: ApprovalId) -> Result<ApprovalRow, StoreError> {
        let row: Option<Row> = on_db!(&self.db, pool => sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM approvals WHERE tenant = $1 AND id = $2"
        )))
        .bind(self.tenant.as_str())
        .bind(id.to_string())
        .fetch_optional(pool)
        .await)?;
        row.map(|r| decode(self, r))
            .transpose()?
            .ok_or_else(|| StoreError::NotFound {
                what: "approval",
                id: id.to_string(),
            })
    }

    /// The approval requests of one conversation, newest first.
    pub async fn approvals_of_conversation(
        &self,
        conversation: ConversationId,
    ) -> Result<Vec<ApprovalRow>, StoreError> {
        let rows: Vec<Row> = on_db!(&self.db, pool => sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM approvals WHERE tenant = $1 AND conversation = $2 ORDER BY created_at DESC"
        )))
        .bind(self.tenant.as_str())
        .bind(conversation.to_string())
        .fetch_all(pool)
        .await)?;
        rows.into_iter().map(|r| decode(self, r)).collect()
    }

    /// Moves an undecided approval between pending and waiting-for-information, replacing its
    /// payload in the same conditional update (a question or an answer is never lost to a race:
    /// the loser gets a conflict).
    pub async fn exchange_approval_info(
        &self,
        id: ApprovalId,
        from: ApprovalStatus,
        to: ApprovalStatus,
        payload: &Value,
    ) -> Result<(), StoreError> {
        let done = on_db!(&self.db, pool => sqlx::query(
            "UPDATE approvals SET status = $1, payload = $2 WHERE tenant = $3 AND id = $4 AND status = $5",
        )
        .bind(to.as_str())
        .bind(self.seal_json(payload, "approval.payload")?)
        .bind(self.tenant.as_str())
        .bind(id.to_string())
        .bind(from.as_str())
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        self.moved_or_conflict(done, id, from).await
    }

    /// Moves an approval from `from` to `to` atomically; fails with a conflict if someone else
    /// moved it first (two approvers clicking at once decide once).
    pub async fn transition_approval(
        &self,
        id: ApprovalId,
        from: ApprovalStatus,
        to: ApprovalStatus,
        by: Option<&str>,
        note: Option<&str>,
    ) -> Result<(), StoreError> {
        let done = on_db!(&self.db, pool => sqlx::query(
            "UPDATE approvals SET status = $1, decided_by = COALESCE($2, decided_by), decided_at = COALESCE(decided_at, $3), note = COALESCE($4, note) WHERE tenant = $5 AND id = $6 AND status = $7",
        )
        .bind(to.as_str())
        .bind(by)
        .bind(Utc::now().to_rfc3339())
        .bind(note)
        .bind(self.tenant.as_str())
        .bind(id.to_string())
        .bind(from.as_str())
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        self.moved_or_conflict(done, id, from).await
    }

    /// `Ok` when the conditional update moved the approval, else a conflict naming its status now.
    async fn moved_or_conflict(
        &self,
        rows: u64,
        id: ApprovalId,
        from: ApprovalStatus,
    ) -> Result<(), StoreError> {
        if rows == 1 {
            return Ok(());
        }
        let current = self.approval(id).await?;
        Err(StoreError::Conflict {
            what: "approval",
            id: id.to_string(),
            status: current.status.to_string(),
            expected: from.to_string(),
        })
    }
}
