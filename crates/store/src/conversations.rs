use chrono::Utc;
use serde_json::Value;
use steward_domain::ConversationId;

use crate::db::{LockedBegin, on_db};
use crate::{StoreError, TenantStore};

/// A conversation as stored: who, where, its status and the reasoner's working state.
#[derive(Debug, Clone, PartialEq)]
pub struct ConversationRow {
    /// Its id.
    pub id: ConversationId,
    /// The requester's sign-in name.
    pub requester: String,
    /// The channel it started on.
    pub channel: String,
    /// Where it stands (`resolved`, `awaitingApproval`, …).
    pub status: String,
    /// The reasoner's state (what it is waiting for and why).
    pub state: Value,
}

/// id, requester, channel, status, sealed state, and a time.
type ListedRow = (String, String, String, String, String, String);

impl TenantStore {
    /// Creates a conversation.
    pub async fn create_conversation(
        &self,
        id: ConversationId,
        requester: &str,
        channel: &str,
        state: &Value,
    ) -> Result<(), StoreError> {
        let now = Utc::now().to_rfc3339();
        on_db!(&self.db, pool => sqlx::query("INSERT INTO conversations (tenant, id, requester, channel, status, state, created_at, updated_at) VALUES ($1, $2, $3, $4, 'open', $5, $6, $7)")
            .bind(self.tenant.as_str())
            .bind(id.to_string())
            .bind(requester)
            .bind(channel)
            .bind(self.seal_json(state, "conversation.state")?)
            .bind(&now)
            .bind(&now)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// A person's latest conversations (at most `limit`, newest first), each with when it
    /// started: what the console's "my requests" lists.
    pub async fn conversations_of(
        &self,
        requester: &str,
        limit: u32,
    ) -> Result<Vec<(ConversationRow, String)>, StoreError> {
        let rows: Vec<ListedRow> = on_db!(&self.db, pool => sqlx::query_as("SELECT id, requester, channel, status, state, created_at FROM conversations WHERE tenant = $1 AND requester = $2 ORDER BY created_at DESC, id DESC LIMIT $3")
                .bind(self.tenant.as_str())
                .bind(requester)
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await)?;
        rows.into_iter().map(|r| self.listed(r)).collect()
    }

    /// The tenant's latest conversations, everyone's (at most `limit`, newest activity first),
    /// each with when it was last updated: the console's live view.
    pub async fn recent_conversations(
        &self,
        limit: u32,
    ) -> Result<Vec<(ConversationRow, String)>, StoreError> {
        let rows: Vec<ListedRow> = on_db!(&self.db, pool => sqlx::query_as("SELECT id, requester, channel, status, state, updated_at FROM conversations WHERE tenant = $1 ORDER BY updated_at DESC, id DESC LIMIT $2")
                .bind(self.tenant.as_str())
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await)?;
        rows.into_iter().map(|r| self.listed(r)).collect()
    }

    /// A listed row opened: the conversation and the time the list was ordered by.
    fn listed(&self, row: ListedRow) -> Result<(ConversationRow, String), StoreError> {
        let (id, requester, channel, status, state, time) = row;
        let id = id.parse().map_err(|_| StoreError::Corrupt {
            what: "conversation",
            reason: format!("`{id}` is not a conversation id"),
        })?;
        let state = self.open_json(&state, "conversation.state", "conversation state")?;
        Ok((
            ConversationRow {
                id,
                requester,
                channel,
                status,
                state,
            },
            time,
        ))
    }

    /// Loads a conversation of this tenant.
    pub async fn conversation(&self, id: ConversationId) -> Result<ConversationRow, StoreError> {
        let row: Option<(String, String, String, String)> = on_db!(&self.db, pool => sqlx::query_as("SELECT requester, channel, status, state FROM conversations WHERE tenant = $1 AND id = $2")
                .bind(self.tenant.as_str())
                .bind(id.to_string())
                .fetch_optional(pool)
                .await)?;
        let (requester, channel, status, state) = row.ok_or_else(|| StoreError::NotFound {
            what: "conversation",
            id: id.to_string(),
        })?;
        let state = self.open_json(&state, "conversation.state", "conversation state")?;
        Ok(ConversationRow {
            id,
            requester,
            channel,
            status,
            state,
        })
    }

    /// Saves the conversation's status and reasoner state.
    pub async fn update_conversation(
        &self,
        id: ConversationId,
        status: &str,
        state: &Value,
    ) -> Result<(), StoreError> {
        let done = on_db!(&self.db, pool => sqlx::query("UPDATE conversations SET status = $1, state = $2, updated_at = $3 WHERE tenant = $4 AND id = $5")
            .bind(status)
            .bind(self.seal_json(state, "conversation.state")?)
            .bind(Utc::now().to_rfc3339())
            .bind(self.tenant.as_str())
            .bind(id.to_string())
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        if done == 0 {
            return Err(StoreError::NotFound {
                what: "conversation",
                id: id.to_string(),
            });
        }
        Ok(())
    }

    /// Appends one step (a message, a report) to the conversation's transcript.
    pub async fn append_step(
        &self,
        id: ConversationId,
        kind: &str,
        body: &Value,
    ) -> Result<i64, StoreError> {
        let body = self.seal_json(body, "conversation.step")?;
        let scope = format!("steward:steps:{}:{id}", self.tenant);
        on_db!(&self.db, pool => {
            let mut tx = pool.begin_locked(std::slice::from_ref(&scope)).await?;
            let (next,): (i64,) = sqlx::query_as("SELECT COALESCE(MAX(seq), 0) + 1 FROM conversation_steps WHERE tenant = $1 AND conversation = $2")
                .bind(self.tenant.as_str())
                .bind(id.to_string())
                .fetch_one(&mut *tx)
                .await?;
            sqlx::query("INSERT INTO conversation_steps (tenant, conversation, seq, kind, body, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(self.tenant.as_str())
                .bind(id.to_string())
                .bind(next)
                .bind(kind)
                .bind(&body)
                .bind(Utc::now().to_rfc3339())
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(next)
        })
    }

    /// The conversation's transcript, in order.
    pub async fn steps(&self, id: ConversationId) -> Result<Vec<(String, Value)>, StoreError> {
        let rows: Vec<(String, String)> = on_db!(&self.db, pool => sqlx::query_as("SELECT kind, body FROM conversation_steps WHERE tenant = $1 AND conversation = $2 ORDER BY seq")
            .bind(self.tenant.as_str())
            .bind(id.to_string())
            .fetch_all(pool)
            .await)?;
        rows.into_iter()
            .map(|(k, b)| {
                Ok((
                    k,
                    self.open_json(&b, "conversation.step", "conversation step")?,
                ))
            })
            .collect()
    }
}
