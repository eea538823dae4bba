//! The agent: conversations, the builtin reasoner, approvals and the action gateway.
//!
//! A reasoner only ever produces [`Step`](steward_domain::Step) values. The conversation loop hands
//! every call to the [`Gateway`], the one code path that holds a connector: it validates the call
//! against the action's schema, resolves its targets from the live directory, applies the
//! self-service scope, asks the policy engine, persists an approval when one is needed, commits an
//! audited intent, executes with the delegated credential, audits the outcome and reads the result
//! back. Nothing a reasoner is told can widen what the gateway allows.

mod approval_info;
mod approvals;
mod bulk;
mod conversation;
mod error;
mod escalation;
mod filing;
mod gateway;
pub mod integrations;
mod observation;
pub mod playbooks;
mod propose;
pub mod reasoner;
mod reconcile;
mod runtime;
mod standing;
mod stored_token;
mod tickets;

pub use approval_info::InfoRequest;
pub use approvals::{ApprovalDecision, ApprovalRequest};
pub use bulk::ApprovalItem;
pub use error::AgentError;
pub use gateway::{CallContext, CallKind, Gateway, GatewayOutcome, PlannedChange};
pub use observation::{Observation, ObservedResult};
pub use reconcile::Reconciled;

/// This process's name as the owner of the changes and work it starts (unique per process, so a
/// restarted replica never mistakes a dead predecessor's work for its own).
pub fn process_owner() -> &'static str {
    gateway::intents::PROCESS_OWNER.as_str()
}
pub use runtime::{DEFAULT_INTENT_LEASE, TenantConfig, TenantRuntime};
pub use standing::{StandingScope, StandingTerms};
pub use stored_token::StoredToken;
pub use tickets::TicketHandled;
