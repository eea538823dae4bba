//! Asking the configured reasoner for the next step, and what happens when it cannot answer:
//! before anything has happened the builtin reasoner takes the conversation over; once steps
//! have been taken the request is escalated with them, so nothing half-done goes unreported.
//! Either way the failure is audited.

use serde_json::json;
use steward_audit::RecordKind;
use steward_domain::{Finding, Step, TokenUsage};

use crate::TenantRuntime;
use crate::gateway::CallContext;
use crate::reasoner::ReasonerInput;
use crate::reasoner::builtin::BuiltinReasoner;

/// A step and where it came from.
pub(crate) struct Proposed {
    /// The step.
    pub step: Step,
    /// Model tokens it cost.
    pub tokens: TokenUsage,
    /// Which reasoner proposed it.
    pub by: String,
    /// Set when the builtin reasoner has just taken the conversation over: why.
    pub taken_over: Option<String>,
    /// Audit records written about a failure.
    pub audit_ids: Vec<i64>,
}

impl TenantRuntime {
    /// The next step. `taken_over` says the builtin reasoner already drives this conversation;
    /// `failed` is set (and then gives `Done`) once this turn escalated for a failed reasoner.
    pub(crate) async fn propose(
        &self,
        input: &ReasonerInput<'_>,
        ctx: &CallContext<'_>,
        taken_over: Option<&str>,
        failed: &mut bool,
    ) -> Proposed {
        let plain = |step: Step, by: String| Proposed {
            step,
            tokens: TokenUsage::default(),
            by,
            taken_over: None,
            audit_ids: Vec::new(),
        };
        let reasoner = self.reasoner();
        if *failed {
            return plain(Step::Done, reasoner.name());
        }
        if let Some(why) = taken_over {
            return plain(BuiltinReasoner.step(input), format!("builtin ({why})"));
        }
        let error = match reasoner.next(input).await {
            Ok(p) => {
                return Proposed {
                    step: p.step,
                    tokens: p.tokens,
                    by: reasoner.name(),
                    taken_over: None,
                    audit_ids: Vec::new(),
                };
            }
            Err(e) => e,
        };
        let name = reasoner.name();
        tracing::warn!(tenant = %self.config.id, reasoner = %name, error = %error, "reasoner failed");
        if input.observations.is_empty() {
            let why = format!("{name} failed: {error}");
            let audit = self
                .gateway
                .note(
                    ctx,
                    RecordKind::ReasonerFailure,
                    "builtinTookOver",
                    json!({"reasoner": name, "error": error.to_string()}),
                )
                .await;
            return Proposed {
                step: BuiltinReasoner.step(input),
                tokens: TokenUsage::default(),
                by: format!("builtin ({why})"),
                taken_over: Some(why),
                audit_ids: audit.into_iter().collect(),
            };
        }
        *failed = true;
        let audit = self
            .gateway
            .note(ctx, RecordKind::ReasonerFailure, "escalated", json!({"reasoner": name, "error": error.to_string(), "stepsTaken": input.observations.len()}))
            .await;
        Proposed {
            step: Step::Escalate {
                reason: format!(
                    "The language model stopped giving usable answers part-way through ({error}). \
                     The steps already taken are listed; a person should check them and finish the request."
                ),
                findings: vec![Finding {
                    code: "reasoner.failed".into(),
                    detail: format!("{name}: {error}"),
                }],
            },
            tokens: TokenUsage::default(),
            by: name,
            taken_over: None,
            audit_ids: audit.into_iter().collect(),
        }
    }
}
