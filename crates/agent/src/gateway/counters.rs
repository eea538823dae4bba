//! The runtime layer's rate counters: a change is counted against its requester before the
//! policy query (so a limit holds under concurrency) and given back if it does not run.

use chrono::{Duration, Utc};
use steward_domain::{ActionSpec, Target};

use super::Gateway;
use super::outcome::CallContext;

/// The window `context.recentCount` covers.
pub(crate) const RECENT_WINDOW_MINUTES: i64 = 60;

/// A change's place in its requester's recent count.
#[derive(Debug, Default)]
pub(crate) struct Counted {
    /// `context.recentCount`: changes of this action by this requester within the window,
    /// this one included (0 for reads, which are not counted).
    pub count: i64,
    reservation: Option<String>,
}

impl Gateway {
    /// Reserves the change's units (one per target) before it is decided. Reads are not counted.
    /// An error means the count is unknown, and the caller must not act.
    pub(super) async fn reserve(
        &self,
        ctx: &CallContext<'_>,
        spec: &ActionSpec,
        targets: &[Target],
    ) -> Result<Counted, String> {
        if !spec.mutating {
            return Ok(Counted::default());
        }
        let units = i64::try_from(targets.len()).unwrap_or(i64::MAX);
        let r = self
            .store
            .reserve_action(
                &ctx.principal.directory_id,
                spec.name.as_str(),
                units,
                Utc::now(),
                Duration::minutes(RECENT_WINDOW_MINUTES),
            )
            .await
            .map_err(|e| format!("could not count the requester's recent changes: {e}"))?;
        Ok(Counted {
            count: r.count,
            reservation: Some(r.id),
        })
    }

    /// Gives the reservation back: the change was denied or waits for a human (who will be
    /// counted again, freshly, when the approved change runs).
    pub(super) async fn release(&self, counted: Counted) {
        if let Some(id) = counted.reservation
            && let Err(e) = self.store.release_action(&id).await
        {
            tracing::warn!(error = %e, "could not release a rate-counter reservation; it expires with its window");
        }
    }
}
