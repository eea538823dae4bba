use serde::{Deserialize, Serialize};

use crate::ActionCall;

/// A fact established during investigation, carried into plans, replies and escalations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    /// Short machine-readable key, e.g. `signin.locked` or `user.disabled`.
    pub code: String,
    /// The fact in plain words.
    pub detail: String,
}

/// What a reasoner proposes next. Reasoners only produce these values; the conversation loop
/// hands every call to the action gateway, so a reasoner can never reach a connector itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Step {
    /// A read-only call to learn something (policy-checked and audited like any call).
    Investigate {
        /// The read-only call.
        call: ActionCall,
        /// Why this is being looked at.
        purpose: String,
    },
    /// A call that changes something.
    Act {
        /// The mutating call.
        call: ActionCall,
        /// Why this is the right thing to do.
        purpose: String,
    },
    /// One change applied to many objects as one job ("give the whole Finance team VPN
    /// access"): each call is decided on its own with the job's size as blast radius, what may
    /// run runs, and whatever needs a human becomes one approval request listing every target.
    ActBulk {
        /// The calls, one per object, all of the same action.
        calls: Vec<ActionCall>,
        /// Why this is the right thing to do.
        purpose: String,
    },
    /// What the investigation established and what will be done about it, before anything runs.
    Plan {
        /// Facts established.
        findings: Vec<Finding>,
        /// The actions intended, in order, each with its reason.
        steps: Vec<String>,
    },
    /// A message to the requester.
    Reply {
        /// The text.
        text: String,
    },
    /// A question for the requester; the conversation waits for the answer.
    Ask {
        /// The question.
        question: String,
        /// Suggested answers, if the choice is closed.
        options: Vec<String>,
    },
    /// Hand over to a human with everything found so far.
    Escalate {
        /// Why Steward stops here.
        reason: String,
        /// What was established.
        findings: Vec<Finding>,
    },
    /// The conversation's work is finished.
    Done,
}
