//! Filing Steward's escalations in the tenant's ITSM tool — a Jira issue (REST v3), a
//! ServiceNow incident (Table API) or a SysAid service record — so the hand-over lands where
//! the IT team already works. The console's queue keeps every escalation either way; a ticket
//! that cannot be filed is reported, never silently dropped.

mod config;
mod http;
mod jira;
mod servicenow;
mod sysaid;

use async_trait::async_trait;
use thiserror::Error;

pub use config::ItsmConfig;
pub use jira::Jira;
pub use servicenow::ServiceNow;
pub use sysaid::SysAid;

/// What is handed over: enough for a person to take the request without asking again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandOver {
    /// Steward's escalation id (also written on the ticket, to find one from the other).
    pub escalation_id: String,
    /// One line.
    pub summary: String,
    /// The whole hand-over as plain text (transcript, findings, what was tried, audit ids, the
    /// suggested next step).
    pub description: String,
    /// Who asked (sign-in name).
    pub requester: String,
}

/// A ticket filed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    /// `jira`, `servicenow` or `sysaid`.
    pub system: &'static str,
    /// What people call it (`IT-42`, `INC0010001`, `1234`).
    pub key: String,
    /// Where a person opens it.
    pub url: String,
}

/// Why a ticket could not be filed.
#[derive(Debug, Error)]
pub enum ItsmError {
    /// The configuration cannot work (missing secret variable, bad URL).
    #[error("the {system} connection is misconfigured: {reason}")]
    Config {
        /// Which tool.
        system: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The tool refused (bad credentials, a required field, no permission), with its message.
    #[error("{system} refused the ticket: HTTP {status}: {message}")]
    Refused {
        /// Which tool.
        system: &'static str,
        /// HTTP status.
        status: u16,
        /// The tool's own message.
        message: String,
    },
    /// The tool could not be reached, or kept throttling or failing, after retries.
    #[error("{system} could not be reached: {reason}")]
    Unreachable {
        /// Which tool.
        system: &'static str,
        /// The last error.
        reason: String,
    },
    /// The tool answered with something that is not its documented shape.
    #[error("{system} answered unexpectedly: {reason}")]
    Unexpected {
        /// Which tool.
        system: &'static str,
        /// What was wrong.
        reason: String,
    },
}

/// A ticket waiting in Steward's queue: a request to handle like any other. Its text is
/// untrusted; who asked is the tool's caller field, never anything the text says.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueuedTicket {
    /// The tool's id of the record (ServiceNow's sys_id).
    pub id: String,
    /// What people call it (`INC0010001`).
    pub key: String,
    /// When it was created, as the tool writes it (the intake cursor).
    pub created: String,
    /// The caller's e-mail, as the tool knows it (empty when it has none).
    pub caller_email: String,
    /// The caller's own id in the tool (ServiceNow's `user_name`, Jira's `accountId`): how
    /// their later comments are told from everyone else's.
    #[serde(default)]
    pub caller_login: String,
    /// The one-line summary.
    pub summary: String,
    /// The description.
    pub description: String,
}

/// A comment the caller wrote on their ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerReply {
    /// The tool's id of the comment (journal entry).
    pub id: String,
    /// What they wrote (plain text; untrusted like the ticket).
    pub text: String,
}

/// An ITSM tool escalations are filed in.
#[async_trait]
pub trait TicketDesk: Send + Sync {
    /// `jira`, `servicenow` or `sysaid`.
    fn system(&self) -> &'static str;

    /// Files the hand-over as a new ticket.
    async fn open(&self, hand_over: &HandOver) -> Result<Ticket, ItsmError>;

    /// The tickets in Steward's queue created after `after` (oldest first, at most a page);
    /// `None` when this tool, as configured, has no queue for Steward.
    async fn queued(&self, after: Option<&str>) -> Result<Option<Vec<QueuedTicket>>, ItsmError> {
        let _ = after;
        Ok(None)
    }

    /// The comments the caller wrote on the ticket, oldest first (their answers to a question
    /// Steward asked there). Nothing when the tool cannot tell.
    async fn caller_replies(&self, ticket: &QueuedTicket) -> Result<Vec<CallerReply>, ItsmError> {
        let _ = ticket;
        Ok(Vec::new())
    }

    /// Writes on the ticket: an internal work note, or a comment the caller sees.
    async fn note(
        &self,
        ticket: &QueuedTicket,
        text: &str,
        caller_sees: bool,
    ) -> Result<(), ItsmError> {
        let _ = (ticket, text, caller_sees);
        Err(ItsmError::Config {
            system: self.system(),
            reason: "this tool takes no tickets from Steward's queue".into(),
        })
    }

    /// Resolves the ticket (`resolved`), or hands it back to the IT team's queue.
    async fn settle(
        &self,
        ticket: &QueuedTicket,
        resolved: bool,
        note: &str,
    ) -> Result<(), ItsmError> {
        let _ = (ticket, resolved, note);
        Err(ItsmError::Config {
            system: self.system(),
            reason: "this tool takes no tickets from Steward's queue".into(),
        })
    }
}

/// Cuts `text` to at most `max` characters, marking the cut.
pub(crate) fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let kept: String = text.chars().take(max.saturating_sub(1)).collect();
    format!("{kept}…")
}
