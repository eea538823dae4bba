//! The audit records of one call, written as its steps happen.

use serde_json::Value;
use steward_audit::{AuditEntry, RecordKind, redact};
use steward_domain::{ActionCall, Decision, Target};

use super::{CallContext, Gateway, GatewayOutcome, kind_name};

/// Writes one call's records and collects their sequence numbers for the report.
pub(super) struct CallAudit<'a> {
    gateway: &'a Gateway,
    ctx: &'a CallContext<'a>,
    call: &'a ActionCall,
    /// Whose grant acts (and its scopes), once chosen; until then the administrator's.
    actor: Option<(String, Vec<String>)>,
    pub ids: Vec<i64>,
}

impl<'a> CallAudit<'a> {
    pub fn new(gateway: &'a Gateway, ctx: &'a CallContext<'a>, call: &'a ActionCall) -> Self {
        Self {
            gateway,
            ctx,
            call,
            actor: None,
            ids: Vec::new(),
        }
    }

    /// Records from now on name this grant as the actor.
    pub fn act_as(&mut self, actor: (String, Vec<String>)) {
        self.actor = Some(actor);
    }

    /// Who asks and why.
    pub fn ctx(&self) -> &'a CallContext<'a> {
        self.ctx
    }

    /// The call being made.
    pub fn call(&self) -> &'a ActionCall {
        self.call
    }

    /// Records the policy decision; a decision that cannot be recorded is never acted on.
    pub async fn decision(
        &mut self,
        targets: &[Target],
        decision: &Decision,
        detail: Value,
    ) -> Result<(), String> {
        self.write(
            RecordKind::Decision,
            targets,
            &decision.outcome.to_string(),
            detail,
            None,
        )
        .await
    }

    /// Ends a call that could not even be prepared (bad parameters, unknown target): the refusal
    /// is recorded as an `invalid` decision.
    pub async fn invalid(mut self, error: String) -> GatewayOutcome {
        let _ = self
            .write(
                RecordKind::Decision,
                &[],
                "invalid",
                serde_json::json!({"error": error}),
                None,
            )
            .await;
        self.fail(None, Vec::new(), error)
    }

    /// Ends the call as failed, with the records written so far.
    pub fn fail(
        self,
        decision: Option<Decision>,
        targets: Vec<Target>,
        error: String,
    ) -> GatewayOutcome {
        GatewayOutcome::Failed {
            decision,
            targets,
            error,
            audit_ids: self.ids,
        }
    }

    /// Appends a record (committed to disk before returning). The caller decides whether a
    /// failure stops the call: it must for an intent, it cannot undo an outcome.
    pub async fn write(
        &mut self,
        kind: RecordKind,
        targets: &[Target],
        outcome: &str,
        detail: Value,
        request_id: Option<String>,
    ) -> Result<(), String> {
        let mut entry = AuditEntry::new(self.gateway.tenant.clone(), kind);
        let (actor, scopes) = self
            .actor
            .clone()
            .unwrap_or_else(|| self.gateway.connector.acting_as());
        entry.conversation = Some(self.ctx.conversation.to_string());
        entry.requester = Some(self.ctx.principal.upn.clone());
        entry.actor = Some(actor);
        entry.actor_scopes = scopes;
        entry.channel = Some(self.ctx.channel.to_string());
        entry.action = Some(self.call.action.to_string());
        entry.params = redact(&self.call.params);
        entry.targets = targets
            .iter()
            .map(|t| {
                format!(
                    "{}:{} ({})",
                    kind_name(t.kind),
                    t.id,
                    t.upn.as_deref().unwrap_or(&t.display_name)
                )
            })
            .collect();
        entry.outcome = Some(outcome.to_owned());
        entry.detail = redact(&detail);
        entry.platform_request_id = request_id;
        match self.gateway.store.append_audit(entry).await {
            Ok(id) => {
                self.ids.push(id);
                Ok(())
            }
            Err(e) => {
                tracing::error!(error = %e, kind = %kind, action = %self.call.action, "audit append failed");
                Err(format!("audit append failed: {e}"))
            }
        }
    }
}
