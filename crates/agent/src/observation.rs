use serde::{Deserialize, Serialize};
use serde_json::Value;
use steward_domain::{ApprovalId, Step};

/// What came of a step, as the reasoner sees it. Data is redacted: a reasoner never sees a
/// secret (a temporary password is delivered by the conversation loop, not by the reasoner).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum ObservedResult {
    /// A read returned data.
    Data {
        /// One sentence.
        summary: String,
        /// The data (secrets redacted).
        data: Value,
    },
    /// A change ran.
    Executed {
        /// One sentence.
        summary: String,
        /// Whether the read-back confirmed it.
        verified: bool,
    },
    /// Policy or scope refused; nothing was called.
    Denied {
        /// Why.
        reason: String,
    },
    /// Waits for a human approval.
    PendingApproval {
        /// The approval request.
        approval_id: ApprovalId,
    },
    /// The call failed (platform refusal, throttling after retries, bad target).
    Failed {
        /// What went wrong.
        error: String,
    },
    /// What came of each call of a bulk job, in the job's order (items waiting for the job's
    /// approval are `PendingApproval`).
    Bulk {
        /// One result per call.
        results: Vec<ObservedResult>,
    },
    /// The requester's answer to a question (`None` while waiting).
    Answer {
        /// The answer.
        text: Option<String>,
    },
    /// A plan, reply or escalation was recorded.
    Noted,
}

/// One step and what came of it; the conversation's memory, replayed to the reasoner each turn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    /// The step proposed.
    pub step: Step,
    /// What came of it.
    pub result: ObservedResult,
}
