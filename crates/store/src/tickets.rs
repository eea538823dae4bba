//! Tickets taken from the ITSM tool's queue: claimed once by a conditional insert (so a ticket
//! is never picked twice, whichever replica polls), with the ticket as taken (sealed), the
//! conversation that handled it, where it stands and how far its write-back got — what a later
//! poll needs to follow it up; the newest claimed creation time is where the next poll starts.

use chrono::Utc;
use serde_json::Value;

use crate::db::on_db;
use crate::{StoreError, TenantStore};

impl TenantStore {
    /// Claims ticket `ticket` of `system` (`record`: the ticket as taken, kept sealed for the
    /// follow-ups); false when it was claimed before.
    pub async fn claim_ticket(
        &self,
        system: &str,
        ticket: &str,
        created: &str,
        record: &Value,
    ) -> Result<bool, StoreError> {
        let sealed = self.key.seal(&record.to_string(), "ticket.record")?;
        let now = Utc::now().to_rfc3339();
        let inserted = on_db!(&self.db, pool => sqlx::query(
            "INSERT INTO ticket_intake (tenant, system, ticket, created, picked_at, record, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $5) ON CONFLICT (tenant, system, ticket) DO NOTHING",
        )
        .bind(self.tenant.as_str())
        .bind(system)
        .bind(ticket)
        .bind(created)
        .bind(&now)
        .bind(&sealed)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(inserted == 1)
    }

    /// Records where a claimed ticket stands.
    pub async fn update_ticket(
        &self,
        system: &str,
        ticket: &str,
        progress: &TicketProgress,
    ) -> Result<(), StoreError> {
        on_db!(&self.db, pool => sqlx::query(
            "UPDATE ticket_intake SET conversation = $4, outcome = $5, turn = $6, written = $7, attempts = $8, replies_seen = $9, updated_at = $10 WHERE tenant = $1 AND system = $2 AND ticket = $3",
        )
        .bind(self.tenant.as_str())
        .bind(system)
        .bind(ticket)
        .bind(progress.conversation.as_deref())
        .bind(&progress.outcome)
        .bind(progress.turn)
        .bind(progress.written)
        .bind(progress.attempts)
        .bind(progress.replies_seen.as_deref())
        .bind(Utc::now().to_rfc3339())
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The tickets of `system` still to follow up — waiting for an approval or the caller, or
    /// whose write-back failed — with the ticket as taken, oldest first.
    pub async fn open_tickets(&self, system: &str) -> Result<Vec<OpenTicket>, StoreError> {
        type Row = (
            String,
            Option<String>,
            Option<String>,
            Option<String>,
            i64,
            i64,
            i64,
            Option<String>,
            Option<String>,
        );
        let rows: Vec<Row> = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT ticket, record, conversation, outcome, turn, written, attempts, replies_seen, updated_at FROM ticket_intake \
             WHERE tenant = $1 AND system = $2 AND (outcome = 'waiting' OR outcome = 'awaitingCaller' OR outcome LIKE 'notWritten%') ORDER BY created",
        )
        .bind(self.tenant.as_str())
        .bind(system)
        .fetch_all(pool)
        .await)?;
        rows.into_iter()
            .map(|r| {
                let record = match r.1 {
                    Some(sealed) => {
                        let text = self.key.open(&sealed, "ticket.record")?;
                        serde_json::from_str(&text).map_err(|e| StoreError::Corrupt {
                            what: "ticket",
                            reason: e.to_string(),
                        })?
                    }
                    None => Value::Null,
                };
                Ok(OpenTicket {
                    ticket: r.0,
                    record,
                    since: r.8.unwrap_or_default(),
                    progress: TicketProgress {
                        conversation: r.2,
                        outcome: r.3.unwrap_or_default(),
                        turn: r.4,
                        written: r.5,
                        attempts: r.6,
                        replies_seen: r.7,
                    },
                })
            })
            .collect()
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

/// Where a taken ticket stands.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TicketProgress {
    /// The conversation that handles it.
    pub conversation: Option<String>,
    /// `resolved`, `handedBack`, `waiting` (an approval), `awaitingCaller` (an answer in the
    /// ticket), or `notWritten: …` (the write-back failed; tried again).
    pub outcome: String,
    /// How many of the conversation's turns the write-back is for.
    pub turn: i64,
    /// How far that turn's write-back got (0 nothing, 1 the work note, 2 the caller's comment,
    /// 3 the ticket settled).
    pub written: i64,
    /// Failed write-back attempts so far.
    pub attempts: i64,
    /// The caller's last comment already read (its id in the tool).
    pub replies_seen: Option<String>,
}

/// A taken ticket still to follow up.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenTicket {
    /// Its key (`INC0010001`).
    pub ticket: String,
    /// The ticket as taken (`Null` for one taken before this was kept).
    pub record: Value,
    /// When its row last changed (RFC 3339).
    pub since: String,
    /// Where it stands.
    pub progress: TicketProgress,
}
