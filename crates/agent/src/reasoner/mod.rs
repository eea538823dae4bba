//! Reasoners decide the next step of a conversation. They only return data ([`Step`]); they
//! never hold a connector, so whatever they propose still goes through the gateway.

pub mod builtin;
pub mod llm;

use steward_domain::{Principal, Step, TokenUsage};

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
    /// The systems connected beside Microsoft 365 (`okta`), so a reasoner can act where a
    /// person's account is mastered.
    pub systems: &'a [String],
    /// The actions that can run now (the catalog without systems not connected), read at
    /// the start of the turn: a system or integration attached later is offered from then on.
    pub catalog: &'a [steward_domain::ActionSpec],
}

/// A proposed step and what proposing it cost.
#[derive(Debug, Clone, PartialEq)]
pub struct Proposal {
    /// The step.
    pub step: Step,
    /// Model tokens spent on it (zero for the builtin reasoner).
    pub tokens: TokenUsage,
}

impl Proposal {
    /// A step that cost no model tokens.
    pub fn free(step: Step) -> Self {
        Self {
            step,
            tokens: TokenUsage::default(),
        }
    }
}

/// Why a reasoner proposed nothing. The conversation loop then lets the builtin reasoner take
/// over (nothing has happened yet) or escalates with what was done (something has).
#[derive(Debug, thiserror::Error)]
pub enum ReasonerError {
    /// The model could not be asked, or did not answer usefully, after retries.
    #[error(transparent)]
    Model(#[from] steward_llm::LlmError),
    /// The model answered with something that is not a step (a malformed tool call).
    #[error("the language model proposed something unusable: {0}")]
    Unusable(String),
}

/// Proposes the next step of a conversation.
#[async_trait::async_trait]
pub trait Reasoner: Send + Sync {
    /// The next step, given everything so far.
    async fn next(&self, input: &ReasonerInput<'_>) -> Result<Proposal, ReasonerError>;

    /// A short name for what the requester asked (e.g. `signin.locked_out`), if understood.
    fn intent(&self, input: &ReasonerInput<'_>) -> Option<String>;

    /// Which reasoner this is, for reports and the audit (`builtin`, `llm:PROVIDER`).
    fn name(&self) -> String;
}
