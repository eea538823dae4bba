//! Escalations: requests handed to a human, queued with the bundle a person needs to take them
//! over. The bundle is sealed with the tenant's data key; the queue's columns are not.

use chrono::Utc;
use serde_json::Value;

use crate::db::on_db;
use crate::{StoreError, TenantStore};

/// One escalation as stored.
#[derive(Debug, Clone)]
pub struct EscalationRow {
    /// Its id (a UUID).
    pub id: String,
    /// The conversation it came from.
    pub conversation: String,
    /// Who asked.
    pub requester: String,
    /// `open` or `closed`.
    pub status: String,
    /// When it was raised (RFC 3339).
    pub created_at: String,
    /// When and by whom it was closed.
    pub closed: Option<(String, String)>,
    /// Everything handed over (opened).
    pub bundle: Value,
    /// Where it was filed in the ITSM tool (`system`, `key`, `url`), or why it could not be
    /// (`error`); none when no ITSM tool is configured.
    pub ticket: Option<Value>,
}

type Row = (
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

impl TenantStore {
    /// Queues an escalation; queuing the same id again (a turn run again after a crash) changes
    /// nothing.
    pub async fn create_escalation(
        &self,
        id: &str,
        conversation: &str,
        requester: &str,
        bundle: &Value,
    ) -> Result<(), StoreError> {
        let sealed = self.key.seal(&bundle.to_string(), "escalation.bundle")?;
        on_db!(&self.db, pool => sqlx::query(
            "INSERT INTO escalations (tenant, id, conversation, requester, status, created_at, bundle) VALUES ($1, $2, $3, $4, 'open', $5, $6) ON CONFLICT (tenant, id) DO NOTHING",
        )
        .bind(self.tenant.as_str())
        .bind(id)
        .bind(conversation)
        .bind(requester)
        .bind(Utc::now().to_rfc3339())
        .bind(&sealed)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    fn escalation_of(&self, row: Row) -> Result<EscalationRow, StoreError> {
        let (id, conversation, requester, status, created_at, closed_at, closed_by, sealed, ticket) =
            row;
        let text = self.key.open(&sealed, "escalation.bundle")?;
        let bundle = serde_json::from_str(&text).map_err(|e| StoreError::Corrupt {
            what: "escalation",
            reason: e.to_string(),
        })?;
        Ok(EscalationRow {
            id,
            conversation,
            requester,
            status,
            created_at,
            closed: closed_at.zip(closed_by),
            bundle,
            ticket: ticket.and_then(|t| serde_json::from_str(&t).ok()),
        })
    }

    /// The escalations, newest first: the open ones, or all.
    pub async fn escalations(&self, only_open: bool) -> Result<Vec<EscalationRow>, StoreError> {
        let rows: Vec<Row> = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT id, conversation, requester, status, created_at, closed_at, closed_by, bundle, ticket FROM escalations \
             WHERE tenant = $1 AND ($2 = 0 OR status = 'open') ORDER BY created_at DESC, id DESC",
        )
        .bind(self.tenant.as_str())
        .bind(i64::from(only_open))
        .fetch_all(pool)
        .await)?;
        rows.into_iter().map(|r| self.escalation_of(r)).collect()
    }

    /// One escalation.
    pub async fn escalation(&self, id: &str) -> Result<EscalationRow, StoreError> {
        let row: Option<Row> = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT id, conversation, requester, status, created_at, closed_at, closed_by, bundle, ticket FROM escalations WHERE tenant = $1 AND id = $2",
        )
        .bind(self.tenant.as_str())
        .bind(id)
        .fetch_optional(pool)
        .await)?;
        let row = row.ok_or_else(|| StoreError::NotFound {
            what: "escalation",
            id: id.to_owned(),
        })?;
        self.escalation_of(row)
    }

    /// Closes an open escalation once (a conditional update); false when it was not open.
    pub async fn close_escalation(&self, id: &str, by: &str) -> Result<bool, StoreError> {
        let done = on_db!(&self.db, pool => sqlx::query(
            "UPDATE escalations SET status = 'closed', closed_at = $1, closed_by = $2 WHERE tenant = $3 AND id = $4 AND status = 'open'",
        )
        .bind(Utc::now().to_rfc3339())
        .bind(by)
        .bind(self.tenant.as_str())
        .bind(id)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }

    /// Records where the escalation was filed (or why it was not). A filed ticket is never
    /// overwritten, so a turn run again cannot file a second one over the first; false when
    /// nothing changed.
    pub async fn set_escalation_ticket(
        &self,
        id: &str,
        ticket: &Value,
    ) -> Result<bool, StoreError> {
        let done = on_db!(&self.db, pool => sqlx::query(
            "UPDATE escalations SET ticket = $1 WHERE tenant = $2 AND id = $3 AND (ticket IS NULL OR ticket NOT LIKE '%\"key\"%')",
        )
        .bind(ticket.to_string())
        .bind(self.tenant.as_str())
        .bind(id)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }
}
