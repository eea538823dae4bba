//! Tickets as requests: the ITSM tool's queue for Steward is polled from a cursor, each new
//! ticket claimed once in the store, then handled like any request — with the ticket's caller
//! (the tool's own field, never what the text claims) as the requester and the text as their
//! message, so it can never widen what Steward may do. What was found and done goes back as an
//! internal work note, the outcome as a comment the caller sees, and the ticket is resolved, or
//! handed back to the IT team's queue.

use std::fmt::Write as _;

use steward_connectors::itsm::QueuedTicket;
use steward_domain::Channel;
use steward_domain::report::{ActionStatus, TurnReport, TurnStatus};

use crate::{AgentError, TenantRuntime};

/// How one ticket ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketHandled {
    /// The ticket (`INC0010001`).
    pub key: String,
    /// `resolved`, `handedBack`, `waiting` (for an approval) or `notWritten` (the tool refused
    /// the write-back; the reason follows).
    pub outcome: String,
    /// The conversation that handled it, when one did.
    pub conversation: Option<String>,
}

/// The internal note: what was found, tried and decided.
fn work_note(report: &TurnReport) -> String {
    let mut note = format!(
        "Steward handled this as {} (conversation {}).\n",
        report
            .intent
            .as_deref()
            .unwrap_or("a request it did not recognise"),
        report.conversation_id
    );
    for f in &report.findings {
        let _ = writeln!(note, "Found: {} — {}", f.code, f.detail);
    }
    for a in &report.actions {
        let _ = writeln!(
            note,
            "Action: {} — {:?} (policy: {:?} by {})",
            a.action,
            a.status,
            a.decision.outcome,
            a.decision
                .deciding
                .iter()
                .map(|d| d.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if let Some(e) = &report.escalation {
        let _ = writeln!(note, "Handed to the IT team: {}", e.reason);
    }
    let _ = write!(note, "Audit records: {:?}", report.audit_ids);
    note
}

impl TenantRuntime {
    /// Takes every new ticket from the ITSM tool's queue for Steward and handles it. Nothing
    /// when no tool is configured or it has no queue for Steward.
    pub async fn take_tickets(&self) -> Result<Vec<TicketHandled>, AgentError> {
        let Some(desk) = self.ticket_desk() else {
            return Ok(Vec::new());
        };
        let system = desk.system();
        let cursor = self.store.ticket_cursor(system).await?;
        let queued = match desk.queued(cursor.as_deref()).await {
            Ok(Some(q)) => q,
            Ok(None) => return Ok(Vec::new()),
            Err(e) => {
                tracing::warn!(error = %e, system, "could not read the ticket queue; trying again at the next poll");
                return Ok(Vec::new());
            }
        };
        let mut handled = Vec::new();
        for ticket in queued {
            // Claimed before any work: a ticket is never picked twice.
            if !self
                .store
                .claim_ticket(system, &ticket.key, &ticket.created)
                .await?
            {
                continue;
            }
            let (outcome, conversation) = self.take_ticket(desk.as_ref(), &ticket).await;
            self.store
                .finish_ticket(system, &ticket.key, conversation.as_deref(), &outcome)
                .await?;
            handled.push(TicketHandled {
                key: ticket.key.clone(),
                outcome,
                conversation,
            });
        }
        Ok(handled)
    }

    async fn take_ticket(
        &self,
        desk: &dyn steward_connectors::itsm::TicketDesk,
        ticket: &QueuedTicket,
    ) -> (String, Option<String>) {
        let message = format!("{}\n{}", ticket.summary.trim(), ticket.description.trim());
        let report = match self
            .handle(&ticket.caller_email, Channel::Ticket, message.trim(), None)
            .await
        {
            Ok(r) => r,
            Err(e) => {
                // An unknown caller, an empty ticket: a person looks at it.
                let note =
                    format!("Steward did not take this ticket: {e}. Handed back to the IT team.");
                let outcome = match desk.settle(ticket, false, &note).await {
                    Ok(()) => "handedBack".to_owned(),
                    Err(w) => format!("notWritten: {w}"),
                };
                return (outcome, None);
            }
        };
        let conversation = Some(report.conversation_id.to_string());
        // Resolved only when the fix was made and read back; anything less goes to a person.
        let done = report.status == TurnStatus::Resolved
            && report
                .actions
                .iter()
                .all(|a| a.status == ActionStatus::Executed);
        let waiting = report.status == TurnStatus::AwaitingApproval;
        let writes = async {
            desk.note(ticket, &work_note(&report), false).await?;
            if !report.reply.trim().is_empty() {
                desk.note(ticket, &report.reply, true).await?;
            }
            if waiting {
                Ok::<_, steward_connectors::itsm::ItsmError>("waiting".to_owned())
            } else if done {
                desk.settle(ticket, true, &report.reply).await?;
                Ok("resolved".to_owned())
            } else {
                let reason = report
                    .escalation
                    .as_ref()
                    .map(|e| e.reason.clone())
                    .or_else(|| {
                        report
                            .question
                            .as_ref()
                            .map(|q| format!("Steward needs an answer from the caller: {}", q.text))
                    })
                    .unwrap_or_else(|| "Steward could not finish this request".into());
                desk.settle(ticket, false, &format!("Handed back by Steward: {reason}"))
                    .await?;
                Ok("handedBack".to_owned())
            }
        };
        match writes.await {
            Ok(outcome) => (outcome, conversation),
            Err(e) => {
                tracing::error!(error = %e, ticket = %ticket.key, "could not write back to the ticket");
                (format!("notWritten: {e}"), conversation)
            }
        }
    }
}
