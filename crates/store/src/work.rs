//! Conversation work that any replica may do — a turn to answer, an approval to run — claimed
//! with a lease. A worker renews its lease while it works; if its replica dies, the lease runs
//! out and another replica claims the item again. On PostgreSQL claims use
//! `FOR UPDATE SKIP LOCKED` (claimers never wait for each other) and a new item is announced with
//! `NOTIFY`, so an idle replica wakes at once instead of polling; SQLite's single writer needs
//! neither.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;
use steward_domain::TenantId;

use crate::db::{Db, LockedBegin, on_db};
use crate::standing::stored_time;
use crate::{Store, StoreError, TenantStore};

/// The PostgreSQL channel new work is announced on.
const WORK_CHANNEL: &str = "steward_work";

/// Where a work item stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkStatus {
    /// Waiting for a worker.
    Queued,
    /// A worker holds it (or held it and died: claimable again once the lease has run out).
    Running,
    /// Finished; its result is stored.
    Done,
    /// Given up (its result says why).
    Failed,
}

impl WorkStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Done => "done",
            Self::Failed => "failed",
        }
    }

    fn parse(text: &str) -> Result<Self, StoreError> {
        Ok(match text {
            "queued" => Self::Queued,
            "running" => Self::Running,
            "done" => Self::Done,
            "failed" => Self::Failed,
            other => {
                return Err(StoreError::Corrupt {
                    what: "work item",
                    reason: format!("unknown status `{other}`"),
                });
            }
        })
    }
}

/// A claimed work item.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkItem {
    /// Its id (chosen by whoever enqueued it, so enqueueing twice is harmless).
    pub id: String,
    /// What kind of work (`turn`, `approval`, …).
    pub kind: String,
    /// The conversation it belongs to, if any.
    pub conversation: Option<String>,
    /// What to do.
    pub payload: Value,
    /// How many times it has been claimed, this claim included (more than one: a replica died
    /// working on it).
    pub attempts: i64,
}

/// How waiting for new work ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wake {
    /// Another process announced new work.
    Announced,
    /// The time ran out (look for work anyway: announcements are a hint, not a guarantee).
    TimedOut,
}

impl TenantStore {
    /// Queues work under `id`; returns false (and changes nothing) if `id` is already queued,
    /// running or finished. On PostgreSQL every replica is told at once.
    pub async fn enqueue_work(
        &self,
        id: &str,
        kind: &str,
        conversation: Option<&str>,
        payload: &Value,
    ) -> Result<bool, StoreError> {
        let sealed = self.seal_json(payload, "work.payload")?;
        let now = stored_time(Utc::now());
        let added = on_db!(&self.db, pool => sqlx::query(
            "INSERT INTO work_items (tenant, id, kind, conversation, payload, status, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 'queued', $6, $6) ON CONFLICT (tenant, id) DO NOTHING",
        )
        .bind(self.tenant.as_str())
        .bind(id)
        .bind(kind)
        .bind(conversation)
        .bind(&sealed)
        .bind(&now)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        if added == 1 {
            announce(&self.db).await;
        }
        Ok(added == 1)
    }

    /// A work item's status and (once finished) result.
    pub async fn work_result(
        &self,
        id: &str,
    ) -> Result<Option<(WorkStatus, Option<Value>)>, StoreError> {
        let row: Option<(String, Option<String>)> = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT status, result FROM work_items WHERE tenant = $1 AND id = $2",
        )
        .bind(self.tenant.as_str())
        .bind(id)
        .fetch_optional(pool)
        .await)?;
        row.map(|(status, result)| {
            Ok((
                WorkStatus::parse(&status)?,
                result
                    .map(|r| self.open_json(&r, "work.result", "work result"))
                    .transpose()?,
            ))
        })
        .transpose()
    }

    /// Extends `owner`'s lease on a running item; false if it is no longer `owner`'s (its lease
    /// ran out and another replica claimed it: stop working on it).
    pub async fn renew_work(
        &self,
        id: &str,
        owner: &str,
        now: DateTime<Utc>,
        lease: chrono::Duration,
    ) -> Result<bool, StoreError> {
        let done = on_db!(&self.db, pool => sqlx::query(
            "UPDATE work_items SET lease_until = $1, updated_at = $2 WHERE tenant = $3 AND id = $4 AND owner = $5 AND status = 'running'",
        )
        .bind(stored_time(now + lease))
        .bind(stored_time(now))
        .bind(self.tenant.as_str())
        .bind(id)
        .bind(owner)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }

    /// Finishes `owner`'s item with `result`; false if it was no longer `owner`'s.
    pub async fn complete_work(
        &self,
        id: &str,
        owner: &str,
        status: WorkStatus,
        result: &Value,
    ) -> Result<bool, StoreError> {
        let sealed = self.seal_json(result, "work.result")?;
        let done = on_db!(&self.db, pool => sqlx::query(
            "UPDATE work_items SET status = $1, result = $2, updated_at = $3 WHERE tenant = $4 AND id = $5 AND owner = $6 AND status = 'running'",
        )
        .bind(status.as_str())
        .bind(&sealed)
        .bind(stored_time(Utc::now()))
        .bind(self.tenant.as_str())
        .bind(id)
        .bind(owner)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        if done == 1 {
            // Whoever waits for the result (the replica that took the request) looks now.
            announce(&self.db).await;
        }
        Ok(done == 1)
    }
}

type ClaimRow = (String, String, String, Option<String>, String, i64);

impl Store {
    /// Claims the oldest work item of any tenant that is queued, or running under a lease that
    /// ran out before `now`, for `owner` until `now + lease`. Each item goes to one claimer.
    pub async fn claim_work(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        lease: chrono::Duration,
    ) -> Result<Option<(TenantStore, WorkItem)>, StoreError> {
        let (now_text, until) = (stored_time(now), stored_time(now + lease));
        let row: Option<ClaimRow> = match &self.db {
            Db::Postgres(pool) => {
                sqlx::query_as(
                    "UPDATE work_items SET status = 'running', owner = $1, lease_until = $2, attempts = attempts + 1, updated_at = $3 \
                     WHERE (tenant, id) = (SELECT tenant, id FROM work_items WHERE status = 'queued' OR (status = 'running' AND lease_until < $3) \
                     ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED) \
                     RETURNING tenant, id, kind, conversation, payload, attempts",
                )
                .bind(owner)
                .bind(&until)
                .bind(&now_text)
                .fetch_optional(pool)
                .await?
            }
            Db::Sqlite(pool) => {
                // One writer at a time: the write lock taken first is the whole claim's lock.
                let mut tx = pool.begin_locked(&[]).await?;
                let row = sqlx::query_as(
                    "UPDATE work_items SET status = 'running', owner = $1, lease_until = $2, attempts = attempts + 1, updated_at = $3 \
                     WHERE (tenant, id) = (SELECT tenant, id FROM work_items WHERE status = 'queued' OR (status = 'running' AND lease_until < $3) \
                     ORDER BY created_at LIMIT 1) \
                     RETURNING tenant, id, kind, conversation, payload, attempts",
                )
                .bind(owner)
                .bind(&until)
                .bind(&now_text)
                .fetch_optional(&mut *tx)
                .await?;
                tx.commit().await?;
                row
            }
        };
        let Some((tenant, id, kind, conversation, payload, attempts)) = row else {
            return Ok(None);
        };
        let tenant = TenantId::new(tenant).map_err(|e| StoreError::Corrupt {
            what: "work item",
            reason: e.to_string(),
        })?;
        let handle = self.tenant(&tenant).await?;
        let payload = handle.open_json(&payload, "work.payload", "work item")?;
        Ok(Some((
            handle,
            WorkItem {
                id,
                kind,
                conversation,
                payload,
                attempts,
            },
        )))
    }

    /// Something to wait on for new work: on PostgreSQL a listener woken by every replica's
    /// announcements; on SQLite (one process) a plain timer.
    pub async fn work_signal(&self) -> Result<WorkSignal, StoreError> {
        Ok(match &self.db {
            Db::Postgres(pool) => {
                let mut listener = sqlx::postgres::PgListener::connect_with(pool).await?;
                listener.listen(WORK_CHANNEL).await?;
                WorkSignal {
                    listener: Some(listener),
                }
            }
            Db::Sqlite(_) => WorkSignal { listener: None },
        })
    }
}

/// Waits for new work (see [`Store::work_signal`]).
#[derive(Debug)]
pub struct WorkSignal {
    listener: Option<sqlx::postgres::PgListener>,
}

impl WorkSignal {
    /// Returns when new work is announced or after `timeout`, whichever is first.
    pub async fn wait(&mut self, timeout: Duration) -> Wake {
        let Some(listener) = self.listener.as_mut() else {
            tokio::time::sleep(timeout).await;
            return Wake::TimedOut;
        };
        match tokio::time::timeout(timeout, listener.recv()).await {
            Ok(Ok(_)) => Wake::Announced,
            Ok(Err(e)) => {
                // The listener reconnects by itself on its next use; meanwhile act as a timer.
                tracing::warn!(error = %e, "work listener interrupted");
                tokio::time::sleep(timeout.min(Duration::from_secs(1))).await;
                Wake::TimedOut
            }
            Err(_) => Wake::TimedOut,
        }
    }
}

/// Tells every replica that work was queued or finished (PostgreSQL); a lost announcement only
/// delays a worker until its next poll.
async fn announce(db: &Db) {
    if let Db::Postgres(pool) = db
        && let Err(e) = sqlx::query("SELECT pg_notify($1, '')")
            .bind(WORK_CHANNEL)
            .execute(pool)
            .await
    {
        tracing::warn!(error = %e, "could not announce work");
    }
}
