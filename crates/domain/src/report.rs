//! What Steward reports about one turn of a conversation: the shape printed by `steward ask --json`
//! and returned by the REST API. Field names are stable (camelCase); new fields may be added, none
//! renamed or removed without a major version.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{ApprovalId, ConversationId, Decision, Finding, Target};

/// Where the conversation stands after this turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum TurnStatus {
    /// The problem was fixed and verified.
    Resolved,
    /// An action waits for a human approval.
    AwaitingApproval,
    /// Steward asked the requester a question.
    AwaitingRequester,
    /// Handed to a human with findings.
    Escalated,
    /// Nothing needed doing, or the request was answered without actions.
    Answered,
}

impl TurnStatus {
    /// The camelCase name, as serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Resolved => "resolved",
            Self::AwaitingApproval => "awaitingApproval",
            Self::AwaitingRequester => "awaitingRequester",
            Self::Escalated => "escalated",
            Self::Answered => "answered",
        }
    }
}

impl std::fmt::Display for TurnStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The requester as Steward identified them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequesterView {
    /// Sign-in name.
    pub upn: String,
    /// Display name.
    pub display_name: String,
    /// Whether they asked as an IT admin (may act on others) or in self-service.
    pub it_admin: bool,
}

/// One read-only call made to understand the problem.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InvestigationView {
    /// The action called.
    pub action: String,
    /// Its parameters.
    pub params: Value,
    /// Why it was called.
    pub purpose: String,
    /// The policy decision that allowed (or refused) it.
    pub decision: Decision,
    /// What was learned, in plain words.
    pub summary: String,
    /// Audit records written for it.
    pub audit_ids: Vec<i64>,
}

/// How an action ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ActionStatus {
    /// Ran and (where it has a check) was verified.
    Executed,
    /// Ran but the read-back did not show the expected state.
    Unverified,
    /// Refused by policy or scope; nothing was called.
    Denied,
    /// Waits for a human approval.
    PendingApproval,
    /// The call was made and failed.
    Failed,
    /// A dry run: decided (see `decision`), never run.
    Planned,
}

/// The read-back after an action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerificationView {
    /// Whether the post-condition holds.
    pub passed: bool,
    /// What was read and found.
    pub detail: String,
}

/// One action Steward took or tried.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActionView {
    /// The action.
    pub action: String,
    /// Its parameters, secrets redacted.
    pub params: Value,
    /// Why it was proposed.
    pub purpose: String,
    /// The objects it touches, as resolved from the directory.
    pub targets: Vec<Target>,
    /// The policy decision.
    pub decision: Decision,
    /// How it ended.
    pub status: ActionStatus,
    /// The approval it waits for, when pending.
    pub approval_id: Option<ApprovalId>,
    /// The read-back, when executed.
    pub verification: Option<VerificationView>,
    /// What went wrong, when denied or failed.
    pub error: Option<String>,
    /// Current → new values, read from the target before a dry run (empty otherwise).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub preview: Vec<crate::Change>,
    /// Audit records written for it.
    pub audit_ids: Vec<i64>,
}

/// A question put to the requester.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QuestionView {
    /// The question.
    pub text: String,
    /// Suggested answers.
    pub options: Vec<String>,
}

/// A hand-over to a human.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EscalationView {
    /// Why Steward stopped.
    pub reason: String,
    /// What it established.
    pub findings: Vec<Finding>,
    /// The escalation queued for the IT team (`steward escalations show ID`); absent in a dry run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The ticket it was filed as in the tenant's ITSM tool, when one is configured and filing
    /// worked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<TicketView>,
    /// Why it could not be filed in the configured ITSM tool (the queue still has it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filing_error: Option<String>,
}

/// A record in an ITSM tool (a Jira issue, a ServiceNow incident, a SysAid service record).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TicketView {
    /// `jira`, `servicenow` or `sysaid`.
    pub system: String,
    /// What people call it there (`IT-42`, `INC0010001`, `1234`).
    pub key: String,
    /// Where to open it.
    pub url: String,
}

/// Everything that happened in one turn of a conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TurnReport {
    /// The conversation (pass it back to continue).
    pub conversation_id: ConversationId,
    /// The tenant.
    pub tenant: String,
    /// Who asked.
    pub requester: RequesterView,
    /// Which channel.
    pub channel: String,
    /// The request as Steward understood it (e.g. `signin.locked_out`), if it did.
    pub intent: Option<String>,
    /// Where the conversation stands.
    pub status: TurnStatus,
    /// Read-only calls made.
    pub investigations: Vec<InvestigationView>,
    /// Facts established.
    pub findings: Vec<Finding>,
    /// The actions planned, in order, before any ran.
    pub plan: Vec<String>,
    /// Actions taken or tried.
    pub actions: Vec<ActionView>,
    /// The reply to the requester.
    pub reply: String,
    /// A question, when Steward needs an answer to go on.
    pub question: Option<QuestionView>,
    /// The hand-over, when escalated.
    pub escalation: Option<EscalationView>,
    /// Every audit record written in this turn.
    pub audit_ids: Vec<i64>,
    /// A dry run: every change was decided and none was made.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dry_run: bool,
    /// Language-model tokens the conversation has spent so far (absent with the builtin
    /// reasoner).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens: Option<TokenUsage>,
    /// The reasoner that proposed this turn's steps (`builtin`, `llm:PROVIDER`, or
    /// `builtin (after llm:PROVIDER failed)`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoner: Option<String>,
}

/// Language-model tokens spent, as the provider counted them (zero with the builtin reasoner).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenUsage {
    /// Prompt (input) tokens.
    pub input: u64,
    /// Completion (output) tokens.
    pub output: u64,
}

impl TokenUsage {
    /// Adds another use.
    pub fn add(&mut self, other: TokenUsage) {
        self.input = self.input.saturating_add(other.input);
        self.output = self.output.saturating_add(other.output);
    }

    /// Nothing spent.
    pub fn is_zero(&self) -> bool {
        self.input == 0 && self.output == 0
    }
}
