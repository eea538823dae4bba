//! The builtin reasoner: offline and deterministic. It recognises the request, investigates
//! before acting, plans, adapts to denials and failures, and escalates with its findings what it
//! cannot or should not do — never guessing.
//!
//! Procedures are written as straight-line code over a [`Cursor`]: each step either finds its
//! result among the conversation's observations and carries on, or returns the step to run next.
//! Replaying the same observations always reaches the same point, so a conversation can pause
//! (for an answer or an approval) and resume in a later process.

mod cursor;
mod nicknames;
mod procedures;
mod resolve;
mod understand;

use steward_domain::Step;

use super::{Proposal, Reasoner, ReasonerError, ReasonerInput};
use cursor::Cursor;

/// The offline reasoner.
#[derive(Debug, Clone, Copy, Default)]
pub struct BuiltinReasoner;

impl BuiltinReasoner {
    /// The next step (the builtin reasoner cannot fail).
    pub fn step(&self, input: &ReasonerInput<'_>) -> Step {
        let Some(first) = input.messages.first() else {
            return Step::Done;
        };
        // Several requests in one message are handled one after another, each procedure
        // replaying its own part of the observations.
        let mut cursor = Cursor::new(input.observations);
        for intent in understand::understand_all(first) {
            if let Err(step) = procedures::run(&mut cursor, input, &intent) {
                return *step;
            }
        }
        Step::Done
    }

    /// What the request is about, by the offline reading of its first message.
    pub fn understood(&self, input: &ReasonerInput<'_>) -> Option<String> {
        let first = input.messages.first()?;
        let names: Vec<&str> = understand::understand_all(first)
            .iter()
            .filter_map(understand::Intent::name)
            .collect();
        (!names.is_empty()).then(|| names.join(" + "))
    }
}

#[async_trait::async_trait]
impl Reasoner for BuiltinReasoner {
    async fn next(&self, input: &ReasonerInput<'_>) -> Result<Proposal, ReasonerError> {
        Ok(Proposal::free(self.step(input)))
    }

    fn intent(&self, input: &ReasonerInput<'_>) -> Option<String> {
        self.understood(input)
    }

    fn name(&self) -> String {
        "builtin".into()
    }
}
