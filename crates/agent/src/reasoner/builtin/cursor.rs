//! Replays a conversation's observations to a procedure.

use serde_json::Value;
use steward_domain::{ActionCall, ActionName, ApprovalId, Finding, Step};

use crate::{Observation, ObservedResult};

/// `Err(step)` means "run this step next" (boxed: it travels up through every `?`).
pub(crate) type Flow<T> = Result<T, Box<Step>>;

/// How a change ended, as a procedure needs to know it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Acted {
    Done { verified: bool },
    Denied(String),
    Pending(ApprovalId),
    Failed(String),
}

pub(crate) struct Cursor<'a> {
    observations: &'a [Observation],
    pos: usize,
}

fn is_note(step: &Step) -> bool {
    matches!(
        step,
        Step::Plan { .. } | Step::Reply { .. } | Step::Escalate { .. }
    )
}

impl<'a> Cursor<'a> {
    pub fn new(observations: &'a [Observation]) -> Self {
        Self {
            observations,
            pos: 0,
        }
    }

    /// The result of `step` if it already ran, else `Err(step)`. Notes (plans, replies,
    /// escalations) that the procedure no longer produces — because an approval or answer
    /// changed its course — are skipped.
    fn run(&mut self, step: Step) -> Flow<&'a ObservedResult> {
        while let Some(obs) = self.observations.get(self.pos) {
            if obs.step == step {
                self.pos += 1;
                return Ok(&obs.result);
            }
            if is_note(&obs.step) {
                self.pos += 1;
                continue;
            }
            break;
        }
        Err(Box::new(step))
    }

    fn call(action: &str, params: Value) -> Flow<ActionCall> {
        match ActionName::new(action) {
            Ok(action) => Ok(ActionCall { action, params }),
            Err(e) => Err(Box::new(Step::Escalate {
                reason: format!("internal error: {e}"),
                findings: Vec::new(),
            })),
        }
    }

    /// A read; `Ok(Err(reason))` when it was refused or failed.
    pub fn investigate(
        &mut self,
        action: &str,
        params: Value,
        purpose: &str,
    ) -> Flow<Result<&'a Value, String>> {
        let call = Self::call(action, params)?;
        Ok(
            match self.run(Step::Investigate {
                call,
                purpose: purpose.to_owned(),
            })? {
                ObservedResult::Data { data, .. } => Ok(data),
                ObservedResult::Denied { reason } => Err(reason.clone()),
                ObservedResult::Failed { error } => Err(error.clone()),
                other => Err(format!("unexpected result {other:?}")),
            },
        )
    }

    /// A change.
    pub fn act(&mut self, action: &str, params: Value, purpose: &str) -> Flow<Acted> {
        let call = Self::call(action, params)?;
        Ok(acted(self.run(Step::Act {
            call,
            purpose: purpose.to_owned(),
        })?))
    }

    /// A bulk job: one change to many objects, one outcome per call in order.
    pub fn act_bulk(
        &mut self,
        action: &str,
        params: Vec<Value>,
        purpose: &str,
    ) -> Flow<Vec<Acted>> {
        let calls = params
            .into_iter()
            .map(|p| Self::call(action, p))
            .collect::<Flow<Vec<ActionCall>>>()?;
        let count = calls.len();
        Ok(
            match self.run(Step::ActBulk {
                calls,
                purpose: purpose.to_owned(),
            })? {
                ObservedResult::Bulk { results } => results.iter().map(acted).collect(),
                other => vec![Acted::Failed(format!("unexpected result {other:?}")); count],
            },
        )
    }

    pub fn plan(&mut self, findings: Vec<Finding>, steps: Vec<String>) -> Flow<()> {
        self.run(Step::Plan { findings, steps }).map(|_| ())
    }

    pub fn reply(&mut self, text: String) -> Flow<()> {
        self.run(Step::Reply { text }).map(|_| ())
    }

    pub fn escalate(&mut self, reason: String, findings: Vec<Finding>) -> Flow<()> {
        self.run(Step::Escalate { reason, findings }).map(|_| ())
    }

    /// A question; the answer once the requester has given one.
    pub fn ask(&mut self, question: String, options: Vec<String>) -> Flow<String> {
        match self.run(Step::Ask { question, options })? {
            ObservedResult::Answer { text: Some(text) } => Ok(text.clone()),
            // Still waiting: nothing more to do this turn.
            _ => Err(Box::new(Step::Done)),
        }
    }
}

pub(crate) fn finding(code: &str, detail: impl Into<String>) -> Finding {
    Finding {
        code: code.to_owned(),
        detail: detail.into(),
    }
}

fn acted(result: &ObservedResult) -> Acted {
    match result {
        ObservedResult::Executed { verified, .. } => Acted::Done {
            verified: *verified,
        },
        ObservedResult::Denied { reason } => Acted::Denied(reason.clone()),
        ObservedResult::PendingApproval { approval_id } => Acted::Pending(*approval_id),
        ObservedResult::Failed { error } => Acted::Failed(error.clone()),
        other => Acted::Failed(format!("unexpected result {other:?}")),
    }
}
