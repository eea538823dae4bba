//! After a crash: changes a dead process started but never closed ("in doubt") are settled by
//! reading the target's state — never by calling again blindly — and approvals that were decided
//! but never ran to the end are run to the end, under their own idempotency key.

use chrono::{DateTime, Utc};
use serde_json::json;
use steward_audit::{AuditEntry, RecordKind};
use steward_connectors::Reconciliation;
use steward_domain::report::TurnReport;
use steward_domain::{ActionCall, ApprovalId, ConversationId};
use steward_store::{ApprovalRow, ApprovalStatus, IntentStart, IntentStatus};

use crate::approvals::ApprovalRequest;
use crate::gateway::CallContext;
use crate::gateway::intents::{PROCESS_OWNER, call_json};
use crate::{AgentError, TenantRuntime};

/// What reconciling one in-doubt change found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reconciled {
    /// The idempotency key of the change.
    pub key: String,
    /// The action.
    pub action: String,
    /// What the target's state showed.
    pub found: Reconciliation,
}

impl TenantRuntime {
    /// Settles every change whose process died mid-call (its lease ran out before `now`): reads
    /// the target, records what it found in the audit trail, the intent and the conversation, and
    /// escalates what cannot be told. Then runs to the end every approval decided before
    /// `now - lease` that never finished. Safe to run on every replica at once: each change is
    /// claimed by one.
    pub async fn reconcile(
        &self,
        now: DateTime<Utc>,
    ) -> Result<(Vec<Reconciled>, Vec<TurnReport>), AgentError> {
        let settled = self.reconcile_in_doubt(now).await?;
        let finished = self.finish_stuck_approvals(now).await?;
        Ok((settled, finished))
    }

    /// Before work is run again after its replica died: waits until every change the first run
    /// started in `conversation` is past its lease, and settles it by reading the target, so the
    /// second run finds what the first one did. Gives up after ten leases (a target that cannot
    /// be read): the work then fails rather than guess.
    pub async fn settle_before_rerun(&self, conversation: &str) -> Result<(), AgentError> {
        let give_up = Utc::now() + self.lease() * 10;
        loop {
            let Some(until) = self.store.pending_intents_until(conversation).await? else {
                return Ok(());
            };
            let now = Utc::now();
            if now > give_up {
                return Err(AgentError::BadState(
                    conversation.to_owned(),
                    "a change started before a crash could not be settled; a person must check it"
                        .into(),
                ));
            }
            if until < now {
                self.reconcile_in_doubt(now).await?;
            }
            let wait = (until - now).to_std().unwrap_or_default().clamp(
                std::time::Duration::from_millis(100),
                std::time::Duration::from_secs(1),
            );
            tokio::time::sleep(wait).await;
        }
    }

    /// Runs approval `id` to the end if it was approved but its run never finished (the replica
    /// running it died); `None` if there is nothing left to do.
    pub async fn finish_approved(&self, id: ApprovalId) -> Result<Option<TurnReport>, AgentError> {
        let row = self.store.approval(id).await?;
        if row.status != ApprovalStatus::Approved {
            return Ok(None);
        }
        self.settle_before_rerun(&row.conversation.to_string())
            .await?;
        self.finish_stuck_approval(&row, Utc::now()).await
    }

    async fn reconcile_in_doubt(&self, now: DateTime<Utc>) -> Result<Vec<Reconciled>, AgentError> {
        let lease = self.lease();
        let mut settled = Vec::new();
        for row in self.store.in_doubt_intents(now).await? {
            if !self
                .store
                .claim_in_doubt(&row.key, &PROCESS_OWNER, now, lease)
                .await?
            {
                continue;
            }
            let found = match serde_json::from_value::<ActionCall>(row.call.clone()) {
                Err(e) => Reconciliation::Unknown(format!("the recorded call is unreadable: {e}")),
                Ok(call) => match self
                    .gateway
                    .connector()
                    .reconcile(&call, row.created_at)
                    .await
                {
                    Ok(found) => found,
                    Err(e) => {
                        // Left claimed: after this lease it is tried again.
                        tracing::warn!(key = %row.key, error = %e, "could not read the target to reconcile an in-doubt change");
                        continue;
                    }
                },
            };
            self.record(&row.key, &row.conversation, &row.action, &row.owner, &found)
                .await;
            settled.push(Reconciled {
                key: row.key,
                action: row.action,
                found,
            });
        }
        Ok(settled)
    }

    /// Audits, closes and tells the conversation what reconciling one change found.
    async fn record(
        &self,
        key: &str,
        conversation: &str,
        action: &str,
        first_owner: &str,
        found: &Reconciliation,
    ) {
        let (status, word, what) = match found {
            Reconciliation::Applied(d) => (IntentStatus::Applied, "applied", d),
            Reconciliation::NotApplied(d) => (IntentStatus::NotApplied, "notApplied", d),
            Reconciliation::Unknown(d) => (IntentStatus::Unknown, "unknown", d),
        };
        let detail = json!({"idempotencyKey": key, "found": word, "detail": what, "firstAttemptBy": first_owner});
        // Both records concern the same change in the same conversation.
        let entry = |kind, outcome: &str, detail| {
            let mut entry = AuditEntry::new(self.config.id.to_string(), kind);
            entry.conversation = Some(conversation.to_owned());
            entry.action = Some(action.to_owned());
            entry.outcome = Some(outcome.to_owned());
            entry.detail = detail;
            entry
        };
        let reconciled = entry(RecordKind::Outcome, "reconciled", detail.clone());
        if let Err(e) = self.store.append_audit(reconciled).await {
            tracing::error!(key, error = %e, "could not audit a reconciliation; the intent stays in doubt");
            return;
        }
        if matches!(found, Reconciliation::Unknown(_)) {
            let escalation = entry(
                RecordKind::Escalation,
                "inDoubt",
                json!({"idempotencyKey": key, "reason": format!("Steward stopped while making this change and cannot tell from the target whether it happened: {what}. A person must check it; Steward will not repeat it.")}),
            );
            if let Err(e) = self.store.append_audit(escalation).await {
                tracing::error!(key, error = %e, "could not audit the escalation of an in-doubt change");
            }
        }
        if let Err(e) = self
            .store
            .finish_intent(
                key,
                &PROCESS_OWNER,
                status,
                &json!({"summary": what, "found": word}),
                Utc::now(),
            )
            .await
        {
            tracing::error!(key, error = %e, "could not close a reconciled intent");
        }
        if let Ok(id) = conversation.parse::<ConversationId>()
            && let Err(e) = self.store.append_step(id, "reconciled", &detail).await
        {
            tracing::warn!(key, error = %e, "could not note a reconciliation in its conversation");
        }
    }

    /// Approvals decided (approved) before `now - lease` whose run never finished: each is run to
    /// the end under its own key, so a change already made is found, not made again.
    async fn finish_stuck_approvals(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Vec<TurnReport>, AgentError> {
        let lease = self.lease();
        let cutoff = now - lease;
        let mut reports = Vec::new();
        for row in self.store.approvals(Some(ApprovalStatus::Approved)).await? {
            let decided = row
                .decided_at
                .as_deref()
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.with_timezone(&Utc));
            if decided.is_none_or(|t| t > cutoff) {
                continue;
            }
            match self.finish_stuck_approval(&row, now).await {
                Ok(Some(report)) => reports.push(report),
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(approval = %row.id, error = %e, "could not finish an approved request after a restart")
                }
            }
        }
        Ok(reports)
    }

    async fn finish_stuck_approval(
        &self,
        row: &ApprovalRow,
        now: DateTime<Utc>,
    ) -> Result<Option<TurnReport>, AgentError> {
        let request = ApprovalRequest::from_payload(row.id, row.payload.clone())?;
        if !request.items.is_empty() {
            // A bulk job's items each have their own key; left for an operator for now.
            tracing::warn!(approval = %row.id, "an approved bulk job did not finish before a restart; left for an operator");
            return Ok(None);
        }
        let key = row.id.to_string();
        // Claim the run: a first attempt that never began its intent is begun here, by us.
        match self
            .store
            .begin_intent(
                &key,
                &request.conversation.to_string(),
                &call_json(&request.call),
                &PROCESS_OWNER,
                now,
                self.lease(),
            )
            .await?
        {
            IntentStart::New => {}
            IntentStart::Existing(intent)
                if intent.status == IntentStatus::Pending && intent.owner != *PROCESS_OWNER =>
            {
                // Someone is making it (or it is in doubt and will be reconciled first).
                return Ok(None);
            }
            IntentStart::Existing(_) => {}
        }
        let approver_upn = row.decided_by.clone().unwrap_or_default();
        let approver = self.identify(&approver_upn).await?;
        let requester = self.identify(&request.requester.upn).await?;
        let ctx = CallContext {
            principal: &requester,
            channel: request.channel,
            conversation: request.conversation,
            purpose: &request.purpose,
            blast_radius: None,
            turn: None,
        };
        let id: ApprovalId = row.id;
        let Some((resolution, summary)) = self.run_approved(id, &request, &ctx, &approver).await?
        else {
            return Ok(None);
        };
        tracing::info!(approval = %id, %summary, "finished an approved request after a restart");
        let report = self
            .resume_after_approval(
                &requester,
                request.channel,
                request.conversation,
                id,
                resolution,
                None,
            )
            .await?;
        Ok(Some(report))
    }

    fn lease(&self) -> chrono::Duration {
        chrono::Duration::from_std(self.config.intent_lease)
            .unwrap_or_else(|_| chrono::Duration::minutes(5))
    }
}
