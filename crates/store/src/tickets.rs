//! Tickets taken from the ITSM tool's queue: claimed once by a conditional insert (so a ticket
//! is never picked twice, whichever replica polls), with the conversation that handled it and
//! how it ended; the newest claimed creation time is where the next poll starts.

use chrono::Utc;

use crate::db::on_db;
use crate::{StoreError, TenantStore};

impl TenantStore {
    /// Claims ticket `ticket` of `system`; false when it was claimed before.
    pub async fn claim_ticket(
        &self,
        system: &str,
        ticket: &str,
        created: &str,
    ) -> Result<bool, StoreError> {
        let inserted = on_db!(&self.db, pool => sqlx::query(
            "INSERT INTO ticket_intake (tenant, system, ticket, created, picked_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant, system, ticket) DO NOTHING",
        )
        .bind(self.tenant.as_str())
        .bind(system)
        .bind(ticket)
        .bind(created)
        .bind(Utc::now().to_rfc3339())
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(inserted == 1)
    }

    /// Records how a claimed ticket was handled.
    pub async fn finish_ticket(
        &self,
        system: &str,
        ticket: &str,
        conversation: Option<&str>,
        outcome: &str,
    ) -> Result<(), StoreError> {
        on_db!(&self.db, pool => sqlx::query(
            "UPDATE ticket_intake SET conversation = $4, outcome = $5 WHERE tenant = $1 AND system = $2 AND ticket = $3",
        )
        .bind(self.tenant.as_str())
        .bind(system)
        .bind(ticket)
        .bind(conversation)
        .bind(outcome)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The newest creation time among the tickets claimed from `system` (where to poll from).
    pub async fn ticket_cursor(&self, system: &str) -> Result<Option<String>, StoreError> {
        let row: Option<(Option<String>,)> = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT MAX(created) FROM ticket_intake WHERE tenant = $1 AND system = $2",
        )
        .bind(self.tenant.as_str())
        .bind(system)
        .fetch_optional(pool)
        .await)?;
        Ok(row.and_then(|(c,)| c))
    }

    /// The tickets claimed from `system`: (ticket, conversation, outcome), in claim order.
    pub async fn taken_tickets(
        &self,
        system: &str,
    ) -> Result<Vec<(String, Option<String>, Option<String>)>, StoreError> {
        Ok(on_db!(&self.db, pool => sqlx::query_as(
            "SELECT ticket, conversation, outcome FROM ticket_intake WHERE tenant = $1 AND system = $2 ORDER BY created",
        )
        .bind(self.tenant.as_str())
        .bind(system)
        .fetch_all(pool)
        .await)?)
    }
}
