//! Steward's shared vocabulary.
//!
//! Every other crate speaks in these types: who asks ([`Principal`]), what is touched ([`Target`]),
//! what may be done ([`ActionSpec`], [`ActionCall`]), what the policy engine said ([`Decision`]),
//! what a reasoner proposes next ([`Step`]) and what Steward reports back ([`report`]). Nothing here
//! does I/O, so the types can be shared by the gateway, the policy engine, the store and every front end.

mod action;
mod decision;
mod error;
mod ids;
mod principal;
pub mod report;
mod step;
mod target;

pub use action::{ActionCall, ActionName, ActionSpec, Change, Risk, TargetParam};
pub use decision::{DecidingPolicy, Decision, Layer, Outcome};
pub use error::DomainError;
pub use ids::{ApprovalId, ConversationId, TenantId};
pub use principal::{Channel, Principal};
pub use report::TokenUsage;
pub use step::{Finding, Step};
pub use target::{Target, TargetKind};
