//! Intents: each change Steward starts, keyed by the idempotency key it sends to the platform.
//! The row is written before the connector is called and closed after it answers, so a change is
//! never made twice under one key: a second attempt finds the row. A row left `pending` past its
//! lease was being made by a process that died mid-call; it stays "in doubt" until a reconciler
//! reads the target's state and records what it found.

use chrono::{DateTime, Duration, Utc};
use serde_json::Value;

use crate::db::on_db;
use crate::standing::stored_time;
use crate::{StoreError, TenantStore};

/// Where an intent stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntentStatus {
    /// The call is being made (or its maker died: in doubt once the lease has passed).
    Pending,
    /// The call succeeded.
    Done,
    /// The call failed with an answer from the platform (nothing changed, or the platform said so).
    Failed,
    /// In doubt, then reconciled: the target shows the change was made.
    Applied,
    /// In doubt, then reconciled: the target shows the change was not made (it may be attempted
    /// again under the same key).
    NotApplied,
    /// In doubt, and the target's state cannot tell: left to a human.
    Unknown,
}

impl IntentStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Done => "done",
            Self::Failed => "failed",
            Self::Applied => "applied",
            Self::NotApplied => "notApplied",
            Self::Unknown => "unknown",
        }
    }

    fn parse(text: &str) -> Result<Self, StoreError> {
        Ok(match text {
            "pending" => Self::Pending,
            "done" => Self::Done,
            "failed" => Self::Failed,
            "applied" => Self::Applied,
            "notApplied" => Self::NotApplied,
            "unknown" => Self::Unknown,
            other => {
                return Err(StoreError::Corrupt {
                    what: "intent",
                    reason: format!("unknown status `{other}`"),
                });
            }
        })
    }
}

/// One intent as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct IntentRow {
    /// The idempotency key.
    pub key: String,
    /// The conversation it belongs to.
    pub conversation: String,
    /// The action.
    pub action: String,
    /// The call as the gateway made it (action and parameters).
    pub call: Value,
    /// Where it stands.
    pub status: IntentStatus,
    /// The process (replica) that made, or is reconciling, the call.
    pub owner: String,
    /// When the call was started.
    pub created_at: DateTime<Utc>,
    /// Until when its owner answers for it.
    pub lease_until: DateTime<Utc>,
    /// What the call or the reconciliation found (summary, request id, detail).
    pub resolution: Option<Value>,
}

/// The answer to [`TenantStore::begin_intent`].
#[derive(Debug, Clone, PartialEq)]
pub enum IntentStart {
    /// Nobody has made this call under this key (or a reconciler found it was not made): the
    /// caller makes it now.
    New,
    /// The key was used before: the caller must not call again, but act on what is recorded.
    Existing(Box<IntentRow>),
}

type Row = (
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
);

const COLUMNS: &str =
    "key, conversation, action, call, status, owner, created_at, lease_until, resolution";

fn parse_time(text: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Corrupt {
            what: "intent",
            reason: e.to_string(),
        })
}

impl TenantStore {
    fn decode_intent(&self, r: Row) -> Result<IntentRow, StoreError> {
        Ok(IntentRow {
            call: self.open_json(&r.3, "intent.call", "intent")?,
            key: r.0,
            conversation: r.1,
            action: r.2,
            status: IntentStatus::parse(&r.4)?,
            owner: r.5,
            created_at: parse_time(&r.6)?,
            lease_until: parse_time(&r.7)?,
            resolution: r
                .8
                .map(|s| self.open_json(&s, "intent.resolution", "intent"))
                .transpose()?,
        })
    }

    /// Records, before the connector is called, that `owner` makes `call` under `key`, and
    /// answers for it until `now + lease`. Only the first attempt with a key (or one after a
    /// reconciler found the change was not made) gets [`IntentStart::New`].
    pub async fn begin_intent(
        &self,
        key: &str,
        conversation: &str,
        call: &Value,
        owner: &str,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> Result<IntentStart, StoreError> {
        let action = call.get("action").and_then(Value::as_str).unwrap_or("");
        let sealed = self.seal_json(call, "intent.call")?;
        let until = stored_time(now + lease);
        let inserted = on_db!(&self.db, pool => sqlx::query(
            "INSERT INTO intents (tenant, key, conversation, action, call, status, owner, created_at, lease_until) VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7, $8) ON CONFLICT (tenant, key) DO NOTHING",
        )
        .bind(self.tenant.as_str())
        .bind(key)
        .bind(conversation)
        .bind(action)
        .bind(&sealed)
        .bind(owner)
        .bind(stored_time(now))
        .bind(&until)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        if inserted == 1 {
            return Ok(IntentStart::New);
        }
        // A change found not made may be attempted again, by one caller.
        let retaken = on_db!(&self.db, pool => sqlx::query(
            "UPDATE intents SET status = 'pending', owner = $1, created_at = $2, lease_until = $3, resolution = NULL, resolved_at = NULL WHERE tenant = $4 AND key = $5 AND status = 'notApplied'",
        )
        .bind(owner)
        .bind(stored_time(now))
        .bind(&until)
        .bind(self.tenant.as_str())
        .bind(key)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        if retaken == 1 {
            return Ok(IntentStart::New);
        }
        match self.intent(key).await? {
            Some(row) => Ok(IntentStart::Existing(Box::new(row))),
            None => Err(StoreError::NotFound {
                what: "intent",
                id: key.to_owned(),
            }),
        }
    }

    /// Closes `owner`'s pending intent with what the call (or the reconciliation) found. Returns
    /// false, changing nothing, if the intent is no longer `owner`'s to close (its lease passed
    /// and a reconciler took it over).
    pub async fn finish_intent(
        &self,
        key: &str,
        owner: &str,
        status: IntentStatus,
        resolution: &Value,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let sealed = self.seal_json(resolution, "intent.resolution")?;
        let done = on_db!(&self.db, pool => sqlx::query(
            "UPDATE intents SET status = $1, resolution = $2, resolved_at = $3 WHERE tenant = $4 AND key = $5 AND owner = $6 AND status = 'pending'",
        )
        .bind(status.as_str())
        .bind(&sealed)
        .bind(stored_time(now))
        .bind(self.tenant.as_str())
        .bind(key)
        .bind(owner)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }

    /// One intent of this tenant.
    pub async fn intent(&self, key: &str) -> Result<Option<IntentRow>, StoreError> {
        let row: Option<Row> = on_db!(&self.db, pool => sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM intents WHERE tenant = $1 AND key = $2"
        )))
        .bind(self.tenant.as_str())
        .bind(key)
        .fetch_optional(pool)
        .await)?;
        row.map(|r| self.decode_intent(r)).transpose()
    }

    /// Intents still pending after their lease ran out at `now`: their makers died mid-call.
    pub async fn in_doubt_intents(&self, now: DateTime<Utc>) -> Result<Vec<IntentRow>, StoreError> {
        let rows: Vec<Row> = on_db!(&self.db, pool => sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM intents WHERE tenant = $1 AND status = 'pending' AND lease_until < $2 ORDER BY created_at"
        )))
        .bind(self.tenant.as_str())
        .bind(stored_time(now))
        .fetch_all(pool)
        .await)?;
        rows.into_iter().map(|r| self.decode_intent(r)).collect()
    }

    /// The latest lease of the intents of `conversation` still pending (live or in doubt), if
    /// any: work run again after a crash waits until then, so every change its first run started
    /// is settled before it goes on.
    pub async fn pending_intents_until(
        &self,
        conversation: &str,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let rows: Vec<(String,)> = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT lease_until FROM intents WHERE tenant = $1 AND conversation = $2 AND status = 'pending'",
        )
        .bind(self.tenant.as_str())
        .bind(conversation)
        .fetch_all(pool)
        .await)?;
        let mut latest = None;
        for (text,) in rows {
            let t = parse_time(&text)?;
            latest = Some(latest.map_or(t, |l: DateTime<Utc>| l.max(t)));
        }
        Ok(latest)
    }

    /// Takes over an in-doubt intent for reconciling (one reconciler wins; the others get false).
    pub async fn claim_in_doubt(
        &self,
        key: &str,
        owner: &str,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> Result<bool, StoreError> {
        let done = on_db!(&self.db, pool => sqlx::query(
            "UPDATE intents SET owner = $1, lease_until = $2 WHERE tenant = $3 AND key = $4 AND status = 'pending' AND lease_until < $5",
        )
        .bind(owner)
        .bind(stored_time(now + lease))
        .bind(self.tenant.as_str())
        .bind(key)
        .bind(stored_time(now))
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }
}
