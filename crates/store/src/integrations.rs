//! Integrations imported from API descriptions: their operations sealed with the tenant's data
//! key, the policies proposed for them, and whether an admin accepted those. A re-import
//! replaces the definition and puts the integration back to `disabled`, so a changed document
//! is always reviewed again before it is used.

use chrono::Utc;
use serde_json::Value;

use crate::db::on_db;
use crate::{StoreError, TenantStore};

/// One imported integration as stored.
#[derive(Debug, Clone)]
pub struct IntegrationRow {
    /// Its name (the first part of its action names).
    pub name: String,
    /// The imported operations (opened).
    pub definition: Value,
    /// The Cedar policies proposed for it (accepted as they are, or not at all).
    pub policy: String,
    /// `disabled` until accepted, then `enabled`.
    pub status: String,
    /// Who imported it, and when (RFC 3339).
    pub imported: (String, String),
    /// Who accepted its policies, and when.
    pub accepted: Option<(String, String)>,
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
);

impl TenantStore {
    /// Saves an imported integration, disabled; an existing one of the same name is replaced
    /// and disabled again.
    pub async fn put_integration(
        &self,
        name: &str,
        definition: &Value,
        policy: &str,
        imported_by: &str,
    ) -> Result<(), StoreError> {
        let sealed = self
            .key
            .seal(&definition.to_string(), "integration.definition")?;
        on_db!(&self.db, pool => sqlx::query(
            "INSERT INTO integrations (tenant, name, definition, policy, status, imported_by, imported_at) VALUES ($1, $2, $3, $4, 'disabled', $5, $6) \
             ON CONFLICT (tenant, name) DO UPDATE SET definition = excluded.definition, policy = excluded.policy, status = 'disabled', \
             imported_by = excluded.imported_by, imported_at = excluded.imported_at, accepted_by = NULL, accepted_at = NULL",
        )
        .bind(self.tenant.as_str())
        .bind(name)
        .bind(&sealed)
        .bind(policy)
        .bind(imported_by)
        .bind(Utc::now().to_rfc3339())
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Every imported integration of this tenant, by name.
    pub async fn integrations(&self) -> Result<Vec<IntegrationRow>, StoreError> {
        let rows: Vec<Row> = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT name, definition, policy, status, imported_by, imported_at, accepted_by, accepted_at FROM integrations WHERE tenant = $1 ORDER BY name",
        )
        .bind(self.tenant.as_str())
        .fetch_all(pool)
        .await)?;
        rows.into_iter().map(|r| self.open_integration(r)).collect()
    }

    /// Every integration's name, status and when it was last imported and accepted, without
    /// opening its definition: what a poll compares to see whether anything changed.
    pub async fn integration_versions(&self) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String, String, String, Option<String>)> = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT name, status, imported_at, accepted_at FROM integrations WHERE tenant = $1 ORDER BY name",
        )
        .bind(self.tenant.as_str())
        .fetch_all(pool)
        .await)?;
        Ok(rows
            .into_iter()
            .map(|(name, status, imported, accepted)| {
                format!(
                    "{name}|{status}|{imported}|{}",
                    accepted.unwrap_or_default()
                )
            })
            .collect())
    }

    /// Integration `name`.
    pub async fn integration(&self, name: &str) -> Result<IntegrationRow, StoreError> {
        let row: Option<Row> = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT name, definition, policy, status, imported_by, imported_at, accepted_by, accepted_at FROM integrations WHERE tenant = $1 AND name = $2",
        )
        .bind(self.tenant.as_str())
        .bind(name)
        .fetch_optional(pool)
        .await)?;
        let row = row.ok_or_else(|| StoreError::NotFound {
            what: "integration",
            id: name.to_owned(),
        })?;
        self.open_integration(row)
    }

    /// Marks `name` enabled by `by`, once: a second acceptance (or one racing it) is a conflict.
    pub async fn accept_integration(&self, name: &str, by: &str) -> Result<(), StoreError> {
        let changed = on_db!(&self.db, pool => sqlx::query(
            "UPDATE integrations SET status = 'enabled', accepted_by = $3, accepted_at = $4 WHERE tenant = $1 AND name = $2 AND status = 'disabled'",
        )
        .bind(self.tenant.as_str())
        .bind(name)
        .bind(by)
        .bind(Utc::now().to_rfc3339())
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        if changed == 1 {
            return Ok(());
        }
        let current = self.integration(name).await?;
        Err(StoreError::Conflict {
            what: "integration",
            id: name.to_owned(),
            status: current.status,
            expected: "disabled".into(),
        })
    }

    fn open_integration(&self, r: Row) -> Result<IntegrationRow, StoreError> {
        let text = self.key.open(&r.1, "integration.definition")?;
        let definition = serde_json::from_str(&text).map_err(|e| StoreError::Corrupt {
            what: "integration",
            reason: e.to_string(),
        })?;
        Ok(IntegrationRow {
            name: r.0,
            definition,
            policy: r.2,
            status: r.3,
            imported: (r.4, r.5),
            accepted: r.6.zip(r.7),
        })
    }
}
