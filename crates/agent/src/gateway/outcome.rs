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
    /// The turn this call belongs to, when the turn may be run again (work a replica claimed):
    /// its changes get idempotency keys derived from the turn, so a second run finds the first
    /// run's changes. `None`: every change gets a fresh key.
    pub turn: Option<&'a TurnKeys>,
}

/// Idempotency keys of one turn's changes: the same turn making the same calls in the same order
/// gets the same keys, whichever replica runs it.
#[derive(Debug)]
pub struct TurnKeys {
    turn: uuid::Uuid,
    seen: std::sync::Mutex<std::collections::HashMap<String, u32>>,
}

impl TurnKeys {
    /// The keys of turn `turn`.
    pub fn new(turn: uuid::Uuid) -> Self {
        Self {
            turn,
            seen: std::sync::Mutex::default(),
        }
    }

    /// The key of the next change `call` in this turn: derived from the turn, the action, its
    /// parameters (serde_json keeps object keys sorted) and how many times the turn made that
    /// same call before (a retry after a failure is another change).
    pub fn next_key(&self, call: &steward_domain::ActionCall) -> String {
        self.next_id(call).to_string()
    }

    /// Like [`next_key`](Self::next_key), as a UUID (an approval request's id: the same turn
    /// run again asks for the same approval, not a second one).
    pub fn next_id(&self, call: &steward_domain::ActionCall) -> uuid::Uuid {
        let basis = format!("{}|{}", call.action, call.params);
        let n = {
            let mut seen = self
                .seen
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let n = seen.entry(basis.clone()).or_insert(0);
            *n += 1;
            *n
        };
        uuid::Uuid::new_v5(&self.turn, format!("{basis}|{n}").as_bytes())
    }
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
