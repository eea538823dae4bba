use chrono::{DateTime, Utc};

use crate::db::on_db;
use crate::{StoreError, TenantStore};

/// A standing approval's sidecar record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StandingRow {
    /// The link's policy id.
    pub id: String,
    /// The action it permits.
    pub action: String,
    /// `person`, `department` or `group`, and its id.
    pub principal: (String, String),
    /// `person`, `department` or `group`, and its id.
    pub resource: (String, String),
    /// The scope in words, for people ("the Sales department").
    pub scope_label: String,
    /// Who approved always.
    pub approver: String,
    /// The approval request it came from.
    pub source_approval: String,
    /// When it was created.
    pub created_at: String,
    /// When it stops.
    pub expires_at: String,
    /// How many uses it allows.
    pub max_uses: i64,
    /// How many it has had.
    pub uses: i64,
    /// When it was revoked, if it was.
    pub revoked_at: Option<String>,
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
    String,
    String,
    String,
    i64,
    i64,
    Option<String>,
);

const COLUMNS: &str = "id, action, principal_kind, principal_id, resource_kind, resource_id, scope_label, approver, source_approval, created_at, expires_at, max_uses, uses, revoked_at";

fn decode(r: Row) -> StandingRow {
    StandingRow {
        id: r.0,
        action: r.1,
        principal: (r.2, r.3),
        resource: (r.4, r.5),
        scope_label: r.6,
        approver: r.7,
        source_approval: r.8,
        created_at: r.9,
        expires_at: r.10,
        max_uses: r.11,
        uses: r.12,
        revoked_at: r.13,
    }
}

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

impl TenantStore {
    /// Records a new standing approval.
    pub async fn create_standing(&self, row: &StandingRow) -> Result<(), StoreError> {
        on_db!(&self.db, pool => sqlx::query(
            "INSERT INTO standing_approvals (tenant, id, action, principal_kind, principal_id, resource_kind, resource_id, scope_label, approver, source_approval, created_at, expires_at, max_uses, uses) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 0)",
        )
        .bind(self.tenant.as_str())
        .bind(&row.id)
        .bind(&row.action)
        .bind(&row.principal.0)
        .bind(&row.principal.1)
        .bind(&row.resource.0)
        .bind(&row.resource.1)
        .bind(&row.scope_label)
        .bind(&row.approver)
        .bind(&row.source_approval)
        .bind(&row.created_at)
        .bind(&row.expires_at)
        .bind(row.max_uses)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Standing approvals in force at `now`: not revoked, not expired, uses left.
    pub async fn live_standing(&self, now: DateTime<Utc>) -> Result<Vec<StandingRow>, StoreError> {
        let rows: Vec<Row> = on_db!(&self.db, pool => sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM standing_approvals WHERE tenant = $1 AND revoked_at IS NULL AND expires_at > $2 AND uses < max_uses ORDER BY created_at"
        )))
        .bind(self.tenant.as_str())
        .bind(stamp(now))
        .fetch_all(pool)
        .await)?;
        Ok(rows.into_iter().map(decode).collect())
    }

    /// Every standing approval, newest first.
    pub async fn all_standing(&self) -> Result<Vec<StandingRow>, StoreError> {
        let rows: Vec<Row> = on_db!(&self.db, pool => sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM standing_approvals WHERE tenant = $1 ORDER BY created_at DESC"
        )))
        .bind(self.tenant.as_str())
        .fetch_all(pool)
        .await)?;
        Ok(rows.into_iter().map(decode).collect())
    }

    /// Counts one use, atomically and only while the approval is still live. Returns the uses
    /// left after this one, or `None` if it was revoked, expired or used up in the meantime (then
    /// the action must not run on its strength).
    pub async fn use_standing(
        &self,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<i64>, StoreError> {
        let left: Option<(i64,)> = on_db!(&self.db, pool => sqlx::query_as(
            "UPDATE standing_approvals SET uses = uses + 1 WHERE tenant = $1 AND id = $2 AND revoked_at IS NULL AND expires_at > $3 AND uses < max_uses RETURNING max_uses - uses",
        )
        .bind(self.tenant.as_str())
        .bind(id)
        .bind(stamp(now))
        .fetch_optional(pool)
        .await)?;
        Ok(left.map(|(n,)| n))
    }

    /// Ends a standing approval at once.
    pub async fn revoke_standing(
        &self,
        id: &str,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let done = on_db!(&self.db, pool => sqlx::query("UPDATE standing_approvals SET revoked_at = $1, revoked_by = $2 WHERE tenant = $3 AND id = $4 AND revoked_at IS NULL")
            .bind(stamp(now))
            .bind(by)
            .bind(self.tenant.as_str())
            .bind(id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        if done == 0 {
            return Err(StoreError::NotFound {
                what: "live standing approval",
                id: id.to_owned(),
            });
        }
        Ok(())
    }
}

/// The stored form of a time (sortable text).
pub fn stored_time(t: DateTime<Utc>) -> String {
    stamp(t)
}
