//! The builtin reasoner: offline and deterministic. It recognises the request, investigates
//! before acting, plans, adapts to denials and failures, and escalates with its findings what it
//! cannot or should not do — never guessing.
//!
//! Procedures are written as straight-line code over a [`Cursor`]: each step either finds its
//! result among the conversation's observations and carries on, or returns the step to run next.
//! Replaying the same observations always reaches the same point, so a conversation can pause
//! (for an answer or an approval) and resume in a later process.

mod cursor;
mod procedures;
mod resolve;
mod understand;

use steward_domain::Step;

use super::{Reasoner, ReasonerInput};
use cursor::Cursor;

/// The offline reasoner.
#[derive(Debug, Clone, Copy, Default)]
pub struct BuiltinReasoner;

impl Reasoner for BuiltinReasoner {
    fn next(&self, input: &ReasonerInput<'_>) -> Step {
        let Some(first) = input.messages.first() else {
            return Step::Done;
        };
        let intent = understand::understand(first);
        let mut cursor = Cursor::new(input.observations);
        match procedures::run(&mut cursor, input, &intent) {
            Ok(()) => Step::Done,
            Err(step) => *step,
        }
    }

    fn intent(&self, input: &ReasonerInput<'_>) -> Option<String> {
        input
            .messages
            .first()
            .and_then(|m| understand::understand(m).name())
            .map(str::to_owned)
    }
}
