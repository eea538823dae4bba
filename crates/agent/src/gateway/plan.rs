//! A dry run's change: resolved, scoped and decided exactly like a real one (the decision is
//! audited, marked as a dry run), previewed by reading the target, and never executed — no
//! intent, no approval request, no connector change, and the rate counter given back at once.

use serde_json::json;
use steward_domain::{ActionCall, Change, Decision, Target};

use super::audit::CallAudit;
use super::{CallContext, Gateway, GatewayOutcome, denial};
use steward_policy::ApprovalContext;

/// What a change would do, and whether policy would let it.
#[derive(Debug, Clone)]
pub struct PlannedChange {
    /// The decision it would get now (auto, ask or deny).
    pub decision: Decision,
    /// Its targets, as resolved from the directory.
    pub targets: Vec<Target>,
    /// Current → new values, read from the target (empty when the connector has no preview).
    pub preview: Vec<Change>,
    /// Audit records written (the decision).
    pub audit_ids: Vec<i64>,
}

impl Gateway {
    /// Decides `call` as a change without running it. `Err` is a call that could not even be
    /// prepared (bad parameters, unknown target), ended as a real call would end.
    pub async fn plan(
        &self,
        ctx: &CallContext<'_>,
        call: &ActionCall,
    ) -> Result<PlannedChange, GatewayOutcome> {
        let mut audit = CallAudit::new(self, ctx, call);
        let (spec, targets) = match self.prepare(call).await {
            Ok(p) => p,
            Err(error) => return Err(audit.invalid(error).await),
        };
        // The count the decision sees is the real one; the reservation is returned at once,
        // since nothing will run.
        let decision = match self.reserve(ctx, &spec, &targets).await {
            Ok(counted) => {
                let decision = self.decide(
                    ctx,
                    &spec,
                    &targets,
                    ApprovalContext::default(),
                    counted.count,
                );
                self.release(counted).await;
                decision
            }
            Err(reason) => denial(reason, self.policy().policy_set_hash()),
        };
        let detail = json!({"decision": decision, "purpose": ctx.purpose, "dryRun": true});
        if let Err(error) = audit.decision(&targets, &decision, detail).await {
            tracing::warn!(%error, "a dry run's decision could not be audited");
        }
        let preview = if spec.mutating {
            self.connector.preview(call).await.unwrap_or_default()
        } else {
            Vec::new()
        };
        Ok(PlannedChange {
            decision,
            targets,
            preview,
            audit_ids: audit.ids,
        })
    }
}
