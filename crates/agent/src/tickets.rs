//! Tickets as requests: the ITSM tool's queue for Steward is polled from a cursor, each new
//! ticket claimed once in the store, then handled like any request — with the ticket's caller
//! (the tool's own field, never what the text claims) as the requester and the text as their
//! message, so it can never widen what Steward may do. What was found and done goes back as an
//! internal work note, the outcome as a comment the caller sees, and the ticket is resolved, or
//! handed back to the IT team's queue.
//!
//! A ticket is followed up at every poll until it is settled: one waiting for an approval is
//! written to and settled once the approval is decided; a question asked in the ticket waits
//! for the caller's own comment there (their answer continues the conversation, as untrusted as
//! the ticket), and is handed back when none comes; a write-back the tool refused is tried
//! again from where it stopped, a bounded number of times.

use std::fmt::Write as _;

use steward_connectors::itsm::{ItsmError, QueuedTicket, TicketDesk};
use steward_domain::report::{ActionStatus, TurnReport, TurnStatus};
use steward_domain::{Channel, ConversationId};
use steward_store::{OpenTicket, TicketProgress};

use crate::{AgentError, TenantRuntime};

/// Write-back attempts before a ticket is left to people as it is (`gaveUp: …`).
pub const MAX_WRITE_ATTEMPTS: i64 = 10;

/// How long a question asked in a ticket waits for the caller before the ticket is handed back.
pub const CALLER_WAIT: chrono::Duration = chrono::Duration::days(3);

/// How one ticket ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketHandled {
    /// The ticket (`INC0010001`).
    pub key: String,
    /// `resolved`, `handedBack`, `waiting` (for an approval), `awaitingCaller` (an answer in
    /// the ticket), `notWritten: …` (the tool refused the write-back; tried again) or
    /// `gaveUp: …` (refused too many times; left to people).
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

/// Where a turn leaves its ticket.
fn intended(report: &TurnReport) -> &'static str {
    // Resolved only when the fix was made and read back; anything less goes to a person.
    let done = report.status == TurnStatus::Resolved
        && report
            .actions
            .iter()
            .all(|a| a.status == ActionStatus::Executed);
    match report.status {
        _ if done => "resolved",
        TurnStatus::AwaitingApproval => "waiting",
        TurnStatus::AwaitingRequester => "awaitingCaller",
        _ => "handedBack",
    }
}

/// Writes `report` on the ticket from where `progress.written` says, and settles it when the
/// turn ends the request; `progress` records how far it got and where the ticket stands.
async fn write_back(
    desk: &dyn TicketDesk,
    ticket: &QueuedTicket,
    report: &TurnReport,
    progress: &mut TicketProgress,
) {
    let outcome = intended(report);
    let written = async {
        if progress.written < 1 {
            desk.note(ticket, &work_note(report), false).await?;
            progress.written = 1;
        }
        if progress.written < 2 {
            if !report.reply.trim().is_empty() {
                desk.note(ticket, &report.reply, true).await?;
            }
            progress.written = 2;
        }
        if progress.written < 3 && matches!(outcome, "resolved" | "handedBack") {
            if outcome == "resolved" {
                desk.settle(ticket, true, &report.reply).await?;
            } else {
                let reason = report
                    .escalation
                    .as_ref()
                    .map(|e| e.reason.clone())
                    .unwrap_or_else(|| "Steward could not finish this request".into());
                desk.settle(ticket, false, &format!("Handed back by Steward: {reason}"))
                    .await?;
            }
            progress.written = 3;
        }
        Ok::<_, ItsmError>(())
    };
    match written.await {
        Ok(()) => {
            progress.outcome = outcome.to_owned();
            progress.attempts = 0;
        }
        Err(e) => {
            tracing::error!(error = %e, ticket = %ticket.key, "could not write back to the ticket; trying again at the next poll");
            progress.attempts += 1;
            progress.outcome = if progress.attempts >= MAX_WRITE_ATTEMPTS {
                format!("gaveUp: {e}")
            } else {
                format!("notWritten: {e}")
            };
        }
    }
}

/// Hands a ticket back to people without a conversation's turn to write (Steward could not
/// take it, or the caller never answered).
async fn hand_back(
    desk: &dyn TicketDesk,
    ticket: &QueuedTicket,
    why: &str,
    progress: &mut TicketProgress,
) {
    match desk.settle(ticket, false, why).await {
        Ok(()) => {
            progress.outcome = "handedBack".into();
            progress.written = 3;
            progress.attempts = 0;
        }
        Err(e) => {
            progress.attempts += 1;
            progress.outcome = if progress.attempts >= MAX_WRITE_ATTEMPTS {
                format!("gaveUp: {e}")
            } else {
                format!("notWritten: {e}")
            };
        }
    }
}

impl TenantRuntime {
    /// Follows up the tickets taken before, then takes every new ticket from the ITSM tool's
    /// queue for Steward and handles it. Nothing when no tool is configured or it has no queue
    /// for Steward.
    pub async fn take_tickets(&self) -> Result<Vec<TicketHandled>, AgentError> {
        let Some(desk) = self.ticket_desk() else {
            return Ok(Vec::new());
        };
        let system = desk.system();
        let mut handled = self.follow_up_tickets(desk.as_ref()).await?;
        let cursor = self.store.ticket_cursor(system).await?;
        let queued = match desk.queued(cursor.as_deref()).await {
            Ok(Some(q)) => q,
            Ok(None) => return Ok(handled),
            Err(e) => {
                tracing::warn!(error = %e, system, "could not read the ticket queue; trying again at the next poll");
                return Ok(handled);
            }
        };
        for ticket in queued {
            let record = serde_json::to_value(&ticket)
                .map_err(|e| AgentError::BadInput(format!("ticket {}: {e}", ticket.key)))?;
            // Claimed before any work: a ticket is never picked twice.
            if !self
                .store
                .claim_ticket(system, &ticket.key, &ticket.created, &record)
                .await?
            {
                continue;
            }
            let progress = self.take_ticket(desk.as_ref(), &ticket).await;
            self.store
                .update_ticket(system, &ticket.key, &progress)
                .await?;
            handled.push(TicketHandled {
                key: ticket.key.clone(),
                outcome: progress.outcome,
                conversation: progress.conversation,
            });
        }
        Ok(handled)
    }

    async fn take_ticket(&self, desk: &dyn TicketDesk, ticket: &QueuedTicket) -> TicketProgress {
        let message = format!("{}\n{}", ticket.summary.trim(), ticket.description.trim());
        let mut progress = TicketProgress::default();
        match self
            .handle(&ticket.caller_email, Channel::Ticket, message.trim(), None)
            .await
        {
            Ok(report) => {
                progress.conversation = Some(report.conversation_id.to_string());
                progress.turn = self.turns(report.conversation_id).await.len() as i64;
                if report.status == TurnStatus::AwaitingRequester {
                    // Only what the caller writes after the question answers it.
                    progress.replies_seen = self.last_reply_id(desk, ticket).await;
                }
                write_back(desk, ticket, &report, &mut progress).await;
            }
            Err(e) => {
                // An unknown caller, an empty ticket: a person looks at it.
                let why =
                    format!("Steward did not take this ticket: {e}. Handed back to the IT team.");
                hand_back(desk, ticket, &why, &mut progress).await;
            }
        }
        progress
    }

    /// The conversation's turns as recorded, oldest first.
    async fn turns(&self, conversation: ConversationId) -> Vec<TurnReport> {
        match self.store.steps(conversation).await {
            Ok(steps) => steps
                .into_iter()
                .filter(|(kind, _)| kind == "turn")
                .filter_map(|(_, v)| serde_json::from_value(v).ok())
                .collect(),
            Err(e) => {
                tracing::warn!(error = %e, %conversation, "could not read the conversation's turns");
                Vec::new()
            }
        }
    }

    async fn last_reply_id(&self, desk: &dyn TicketDesk, ticket: &QueuedTicket) -> Option<String> {
        match desk.caller_replies(ticket).await {
            Ok(replies) => replies.last().map(|r| r.id.clone()),
            Err(e) => {
                tracing::warn!(error = %e, ticket = %ticket.key, "could not read the caller's comments");
                None
            }
        }
    }

    /// One look at every ticket still open: settled approvals written back, caller answers
    /// taken, refused write-backs tried again.
    async fn follow_up_tickets(
        &self,
        desk: &dyn TicketDesk,
    ) -> Result<Vec<TicketHandled>, AgentError> {
        let system = desk.system();
        let mut handled = Vec::new();
        for open in self.store.open_tickets(system).await? {
            let Ok(ticket) = serde_json::from_value::<QueuedTicket>(open.record.clone()) else {
                continue;
            };
            let before = open.progress.clone();
            let progress = self.follow_up(desk, &ticket, open).await;
            if progress != before {
                self.store
                    .update_ticket(system, &ticket.key, &progress)
                    .await?;
                handled.push(TicketHandled {
                    key: ticket.key.clone(),
                    outcome: progress.outcome.clone(),
                    conversation: progress.conversation.clone(),
                });
            }
        }
        Ok(handled)
    }

    async fn follow_up(
        &self,
        desk: &dyn TicketDesk,
        ticket: &QueuedTicket,
        open: OpenTicket,
    ) -> TicketProgress {
        let mut progress = open.progress;
        let Some(conversation) = progress
            .conversation
            .as_deref()
            .and_then(|c| c.parse::<ConversationId>().ok())
        else {
            // Never taken (no conversation): only the hand-back is left to write.
            let why = "Steward did not take this ticket. Handed back to the IT team.";
            hand_back(desk, ticket, why, &mut progress).await;
            return progress;
        };
        let turns = self.turns(conversation).await;
        let Some(latest) = turns.last() else {
            return progress;
        };
        let count = turns.len() as i64;
        match progress.outcome.as_str() {
            "waiting" => {
                // Still waiting while no later turn reported on the decision.
                if count == progress.turn && latest.status == TurnStatus::AwaitingApproval {
                    return progress;
                }
                progress.turn = count;
                progress.written = 0;
                write_back(desk, ticket, latest, &mut progress).await;
            }
            "awaitingCaller" => {
                let replies = match desk.caller_replies(ticket).await {
                    Ok(r) => r,
                    Err(e) => {
                        tracing::warn!(error = %e, ticket = %ticket.key, "could not read the caller's comments");
                        return progress;
                    }
                };
                let fresh: Vec<_> = match &progress.replies_seen {
                    Some(seen) => replies
                        .iter()
                        .skip_while(|r| &r.id != seen)
                        .skip(1)
                        .collect(),
                    None => replies.iter().collect(),
                };
                if fresh.is_empty() {
                    let asked = chrono::DateTime::parse_from_rfc3339(&open.since)
                        .map(|t| t.with_timezone(&chrono::Utc))
                        .unwrap_or_else(|_| chrono::Utc::now());
                    if chrono::Utc::now() - asked > CALLER_WAIT {
                        let why = "Handed back by Steward: the caller did not answer its question in the ticket.";
                        hand_back(desk, ticket, why, &mut progress).await;
                    }
                    return progress;
                }
                let answer = fresh
                    .iter()
                    .map(|r| r.text.trim())
                    .collect::<Vec<_>>()
                    .join("\n");
                progress.replies_seen = fresh.last().map(|r| r.id.clone());
                match self
                    .handle(
                        &ticket.caller_email,
                        Channel::Ticket,
                        &answer,
                        Some(conversation),
                    )
                    .await
                {
                    Ok(report) => {
                        progress.turn = self.turns(conversation).await.len() as i64;
                        progress.written = 0;
                        if report.status == TurnStatus::AwaitingRequester {
                            progress.replies_seen = self.last_reply_id(desk, ticket).await;
                        }
                        write_back(desk, ticket, &report, &mut progress).await;
                    }
                    Err(e) => {
                        let why = format!(
                            "Handed back by Steward: the caller's answer could not be taken ({e})."
                        );
                        hand_back(desk, ticket, &why, &mut progress).await;
                    }
                }
            }
            _ => {
                // A refused write-back: again from where it stopped, for the latest turn.
                if count != progress.turn {
                    progress.turn = count;
                    progress.written = 0;
                }
                write_back(desk, ticket, latest, &mut progress).await;
            }
        }
        progress
    }
}
