//! Reasoners decide the next step of a conversation. They only return data ([`Step`]); they
//! never hold a connector, so whatever they propose still goes through the gateway.

pub mod builtin;

use steward_domain::{Principal, Step};

use crate::Observation;

/// What a reasoner sees: the requester (as identified by intake), their messages and every
/// earlier step with its (redacted) result.
#[derive(Debug, Clone, Copy)]
pub struct ReasonerInput<'a> {
    /// Who asks.
    pub requester: &'a Principal,
    /// The tenant's default domain (to recognise sign-in names).
    pub domain: &'a str,
    /// The requester's messages, oldest first.
    pub messages: &'a [String],
    /// Earlier steps and their results, oldest first.
    pub observations: &'a [Observation],
}

/// Proposes the next step of a conversation.
pub trait Reasoner: Send + Sync {
    /// The next step, given everything so far.
    fn next(&self, input: &ReasonerInput<'_>) -> Step;

    /// A short name for what the requester asked (e.g. `signin.locked_out`), if understood.
    fn intent(&self, input: &ReasonerInput<'_>) -> Option<String>;
}
