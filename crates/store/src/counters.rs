//! Rate counters for the runtime policy layer. Cedar keeps no state, so "how many times has this
//! person had this change made lately" is counted here, reserved before the policy query so two
//! concurrent requests cannot both see the count below a limit.

use chrono::{DateTime, Duration, Utc};

use crate::db::{LockedBegin, on_db};
use crate::standing::stored_time;
use crate::{StoreError, TenantStore};

/// A reserved slot in a principal's recent-changes count; released if the change does not run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reservation {
    /// The reservation's own id (to release it).
    pub id: String,
    /// Units counted within the window, this reservation included.
    pub count: i64,
}

impl TenantStore {
    /// Reserves `units` changes of `action` by `principal` at `now` and returns the count within
    /// the `window` before `now`, this reservation included. Reservations older than the window
    /// are pruned in the same transaction. The counter's write lock is taken first, so
    /// concurrent reservations are counted one after another, never both against the old count.
    pub async fn reserve_action(
        &self,
        principal: &str,
        action: &str,
        units: i64,
        now: DateTime<Utc>,
        window: Duration,
    ) -> Result<Reservation, StoreError> {
        let id = uuid::Uuid::now_v7().to_string();
        let since = stored_time(now - window);
        let scope = format!("steward:rate:{}:{principal}:{action}", self.tenant);
        on_db!(&self.db, pool => {
        let mut tx = pool.begin_locked(std::slice::from_ref(&scope)).await?;
        sqlx::query(
            "DELETE FROM action_reservations WHERE tenant = $1 AND principal = $2 AND action = $3 AND at <= $4",
        )
        .bind(self.tenant.as_str())
        .bind(principal)
        .bind(action)
        .bind(&since)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO action_reservations (tenant, id, principal, action, at, units) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(self.tenant.as_str())
        .bind(&id)
        .bind(principal)
        .bind(action)
        .bind(stored_time(now))
        .bind(units.max(1))
        .execute(&mut *tx)
        .await?;
        let (count,): (i64,) = sqlx::query_as(
            "SELECT CAST(COALESCE(SUM(units), 0) AS BIGINT) FROM action_reservations WHERE tenant = $1 AND principal = $2 AND action = $3 AND at > $4",
        )
        .bind(self.tenant.as_str())
        .bind(principal)
        .bind(action)
        .bind(&since)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Reservation { id, count })
        })
    }

    /// Gives a reservation back: the change it was for did not run.
    pub async fn release_action(&self, reservation_id: &str) -> Result<(), StoreError> {
        on_db!(&self.db, pool => sqlx::query("DELETE FROM action_reservations WHERE tenant = $1 AND id = $2")
            .bind(self.tenant.as_str())
            .bind(reservation_id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }
}
