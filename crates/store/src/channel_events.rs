//! Events a channel delivered, remembered so that a retry of one is dropped wherever it lands.

use chrono::Utc;

use crate::db::on_db;
use crate::{StoreError, TenantStore};

impl TenantStore {
    /// Records `event_id` of `channel`; true when it was not seen before (only then is it to be
    /// worked on). One conditional insert, so two replicas receiving the same retry cannot both
    /// get true.
    pub async fn first_delivery(&self, channel: &str, event_id: &str) -> Result<bool, StoreError> {
        let inserted = on_db!(&self.db, pool => sqlx::query(
            "INSERT INTO channel_events (tenant, channel, event_id, seen_at) VALUES ($1, $2, $3, $4) ON CONFLICT (tenant, channel, event_id) DO NOTHING",
        )
        .bind(self.tenant.as_str())
        .bind(channel)
        .bind(event_id)
        .bind(Utc::now().to_rfc3339())
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(inserted == 1)
    }
}
