//! What goes into and comes out of the gateway.

use steward_connectors::{ActionResult, Verification};
use steward_domain::{ApprovalId, Channel, ConversationId, Decision, Principal, Target};

/// Whether a call is a read-only investigation or a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallKind {
    /// Read-only; policy-checked and audited, never approved.
    Investigate,
    /// A change.
    Act,
}

/// Who asks, through which channel, in which conversation.
#[derive(Debug, Clone)]
pub struct CallContext<'a> {
    /// The requesting person (never Steward).
    pub principal: &'a Principal,
    /// The channel.
    pub channel: Channel,
    /// The conversation.
    pub conversation: ConversationId,
    /// Why the call is made (for approvals and audit).
    pub purpose: &'a str,
    /// The number of distinct objects of the whole job when the call is one of a bulk job
    /// (`context.blastRadius`); `None` for a single call, whose own targets are counted.
    pub blast_radius: Option<i64>,
}

/// What the gateway did with a call.
#[derive(Debug, Clone)]
#[expect(
    clippy::large_enum_variant,
    reason = "a short-lived return value, one per call; boxing would only add an allocation"
)]
pub enum GatewayOutcome {
    /// The call ran.
    Done {
        /// What it returned (may hold a secret for the requester).
        result: ActionResult,
        /// The policy decision.
        decision: Decision,
        /// The resolved targets.
        targets: Vec<Target>,
        /// The read-back (changes only).
        verification: Option<Verification>,
        /// Audit records written.
        audit_ids: Vec<i64>,
    },
    /// Policy (or the self-service scope) refused; nothing was called.
    Denied {
        /// The decision.
        decision: Decision,
        /// The resolved targets.
        targets: Vec<Target>,
        /// Audit records written.
        audit_ids: Vec<i64>,
    },
    /// Persisted for a human to approve.
    NeedsApproval {
        /// The approval request.
        approval_id: ApprovalId,
        /// The decision.
        decision: Decision,
        /// The resolved targets.
        targets: Vec<Target>,
        /// Audit records written.
        audit_ids: Vec<i64>,
    },
    /// The call was made and failed, or could not be prepared (bad parameters, unknown target).
    Failed {
        /// The decision, if one was reached.
        decision: Option<Decision>,
        /// The resolved targets.
        targets: Vec<Target>,
        /// What went wrong.
        error: String,
        /// Audit records written.
        audit_ids: Vec<i64>,
    },
}

impl GatewayOutcome {
    /// The audit records written for the call.
    pub fn audit_ids(&self) -> &[i64] {
        match self {
            Self::Done { audit_ids, .. }
            | Self::Denied { audit_ids, .. }
            | Self::NeedsApproval { audit_ids, .. }
            | Self::Failed { audit_ids, .. } => audit_ids,
        }
    }
}
