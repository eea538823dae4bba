//! The conversation loop: the reasoner proposes, the gateway disposes, and every turn ends in a
//! [`TurnReport`].

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use steward_audit::{RecordKind, redact};
use steward_domain::report::{
    ActionStatus, ActionView, EscalationView, InvestigationView, QuestionView, RequesterView,
    TurnReport, TurnStatus, VerificationView,
};
use steward_domain::{ApprovalId, Channel, ConversationId, Principal, Step, TokenUsage};

use crate::approvals::Resolution;
use crate::filing::{Filed, record_name};
use crate::gateway::{CallContext, CallKind, GatewayOutcome, TurnKeys};
use crate::reasoner::ReasonerInput;
use crate::{AgentError, Observation, ObservedResult, TenantRuntime};

/// At most this many steps per turn: a reasoner that loops is stopped and the request escalated.
const MAX_STEPS_PER_TURN: usize = 40;
/// Longest message accepted.
const MAX_MESSAGE_CHARS: usize = 4000;

/// What a conversation remembers between turns.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct ConversationState {
    messages: Vec<String>,
    observations: Vec<Observation>,
    /// Started as a dry run: changes are decided and never made, in every later turn too.
    #[serde(default)]
    dry_run: bool,
    /// Model tokens the conversation has spent.
    #[serde(default)]
    tokens: TokenUsage,
    /// Why the builtin reasoner took the conversation over from the configured one (it keeps it
    /// to the end, since it replays its own steps).
    #[serde(default)]
    taken_over: Option<String>,
}

/// Who a turn is for and where it runs: the requester, the channel, the conversation, and the
/// turn's idempotency keys when it runs as work that may be run again.
#[derive(Clone, Copy)]
struct TurnScope<'a> {
    principal: &'a Principal,
    channel: Channel,
    id: ConversationId,
    turn: Option<&'a TurnKeys>,
}

/// A secret produced for the requester (a temporary password), delivered in the reply once and
/// never stored.
struct Secret {
    label: String,
    value: String,
}

impl TenantRuntime {
    /// Handles one message: a new conversation, or the next turn of `conversation`.
    pub async fn handle(
        &self,
        requester_upn: &str,
        channel: Channel,
        message: &str,
        conversation: Option<ConversationId>,
    ) -> Result<TurnReport, AgentError> {
        self.handle_turn(requester_upn, channel, message, conversation, None, false)
            .await
    }

    /// A dry run of a new request: the reasoner investigates (reads run and are audited) and
    /// proposes its changes; each is decided by policy and previewed, none is made. The
    /// conversation stays a dry run if it is continued.
    pub async fn handle_dry_run(
        &self,
        requester_upn: &str,
        channel: Channel,
        message: &str,
    ) -> Result<TurnReport, AgentError> {
        self.handle_turn(requester_upn, channel, message, None, None, true)
            .await
    }

    /// Handles one message as turn `turn` of work that may be run again (a replica died running
    /// it): a new conversation gets an id derived from the turn, and the turn's changes get keys
    /// derived from it, so running it again continues the same conversation and finds the changes
    /// already made instead of making them twice.
    pub async fn handle_work(
        &self,
        turn: uuid::Uuid,
        requester_upn: &str,
        channel: Channel,
        message: &str,
        conversation: Option<ConversationId>,
    ) -> Result<TurnReport, AgentError> {
        let conversation = match conversation {
            Some(id) => Some(id),
            None => {
                let id = Self::conversation_of_work(turn);
                match self.store.conversation(id).await {
                    Ok(_) => Some(id),
                    Err(steward_store::StoreError::NotFound { .. }) => {
                        self.store
                            .create_conversation(
                                id,
                                &self.identify(requester_upn).await?.upn,
                                channel.as_str(),
                                &json!(ConversationState::default()),
                            )
                            .await?;
                        Some(id)
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        };
        let keys = TurnKeys::new(turn);
        self.handle_turn(
            requester_upn,
            channel,
            message,
            conversation,
            Some(&keys),
            false,
        )
        .await
    }

    /// The id of the conversation a first turn run as work `turn` starts (the same on every
    /// replica and every run).
    pub fn conversation_of_work(turn: uuid::Uuid) -> ConversationId {
        ConversationId(uuid::Uuid::new_v5(&turn, b"conversation"))
    }

    async fn handle_turn(
        &self,
        requester_upn: &str,
        channel: Channel,
        message: &str,
        conversation: Option<ConversationId>,
        turn: Option<&TurnKeys>,
        dry_run: bool,
    ) -> Result<TurnReport, AgentError> {
        let message = message.trim();
        if message.is_empty() {
            return Err(AgentError::BadInput(
                "the message is empty: say what the problem is".into(),
            ));
        }
        if message.chars().count() > MAX_MESSAGE_CHARS {
            return Err(AgentError::BadInput(format!(
                "the message is longer than {MAX_MESSAGE_CHARS} characters"
            )));
        }
        let principal = self.identify(requester_upn).await?;
        let (id, state) = match conversation {
            Some(id) => {
                let row = self.store.conversation(id).await?;
                if !row.requester.eq_ignore_ascii_case(&principal.upn) {
                    return Err(AgentError::NotYourConversation(id.to_string()));
                }
                let state: ConversationState = serde_json::from_value(row.state)
                    .map_err(|e| AgentError::BadState(id.to_string(), e.to_string()))?;
                (id, state)
            }
            None => {
                let id = ConversationId::new();
                let state = ConversationState {
                    dry_run,
                    ..ConversationState::default()
                };
                self.store
                    .create_conversation(id, &principal.upn, channel.as_str(), &json!(state))
                    .await?;
                (id, state)
            }
        };
        // The answer to an approver's question goes to the approver, not to the reasoner (it is
        // kept on the approval request, in the transcript and in the audit trail).
        let received = self.note_received(&principal, channel, id, message).await;
        if conversation.is_some()
            && let Some(mut answered) = self
                .answer_info_request(&principal, channel, id, message)
                .await?
        {
            answered.audit_ids.splice(0..0, received);
            return Ok(answered);
        }
        let scope = TurnScope {
            principal: &principal,
            channel,
            id,
            turn,
        };
        self.continue_turn(scope, state, message, received).await
    }

    async fn note_received(
        &self,
        principal: &Principal,
        channel: Channel,
        id: ConversationId,
        message: &str,
    ) -> Option<i64> {
        let ctx = CallContext {
            principal,
            channel,
            conversation: id,
            purpose: "request received",
            blast_radius: None,
            turn: None,
        };
        self.gateway
            .note(&ctx, RecordKind::RequestReceived, "received", json!({"message": message, "identifiedBy": identified_by(channel), "itAdmin": principal.it_admin}))
            .await
    }

    /// One ordinary turn: the message joins the conversation and the reasoner continues.
    async fn continue_turn(
        &self,
        scope: TurnScope<'_>,
        mut state: ConversationState,
        message: &str,
        received: Option<i64>,
    ) -> Result<TurnReport, AgentError> {
        let TurnScope {
            principal,
            channel,
            id,
            ..
        } = scope;
        // An answer to a pending question fills it in.
        if let Some(Observation {
            result: ObservedResult::Answer { text },
            ..
        }) = state.observations.last_mut()
            && text.is_none()
        {
            *text = Some(message.to_owned());
        }
        state.messages.push(message.to_owned());
        let mut report = empty_report(id, principal, channel, self.config.id.as_str());
        report.audit_ids.extend(received);
        self.run_turn(scope, &mut state, &mut report, Vec::new())
            .await?;
        Ok(report)
    }

    /// Continues a conversation after a human decided on one of its approvals.
    pub(crate) async fn resume_after_approval(
        &self,
        principal: &Principal,
        channel: Channel,
        id: ConversationId,
        approval: ApprovalId,
        resolution: Resolution,
        decided_record: Option<i64>,
    ) -> Result<TurnReport, AgentError> {
        // The approved action belongs to this turn's report; the reasoner sees how it ended.
        let mut report = empty_report(id, principal, channel, self.config.id.as_str());
        report.audit_ids.extend(decided_record);
        let mut secrets = Vec::new();
        // What each waiting call came to: by its index in a bulk job, or one result for all.
        let mut by_index: std::collections::HashMap<usize, ObservedResult> =
            std::collections::HashMap::new();
        let observed = match resolution {
            Resolution::Ran {
                call,
                purpose,
                outcome,
            } => {
                report.audit_ids.extend(outcome.audit_ids());
                record_call(
                    &mut report,
                    &mut secrets,
                    principal,
                    CallKind::Act,
                    &call,
                    &purpose,
                    *outcome,
                )
            }
            Resolution::RanBulk {
                purpose,
                ran,
                declined,
            } => {
                for (index, call, outcome) in ran {
                    report.audit_ids.extend(outcome.audit_ids());
                    let result = record_call(
                        &mut report,
                        &mut secrets,
                        principal,
                        CallKind::Act,
                        &call,
                        &purpose,
                        outcome,
                    );
                    by_index.insert(index, result);
                }
                for (index, reason) in declined {
                    by_index.insert(index, ObservedResult::Denied { reason });
                }
                ObservedResult::Denied {
                    reason: "not part of the approved job".into(),
                }
            }
            Resolution::Declined { reason } => ObservedResult::Denied { reason },
        };
        let row = self.store.conversation(id).await?;
        let mut state: ConversationState = serde_json::from_value(row.state)
            .map_err(|e| AgentError::BadState(id.to_string(), e.to_string()))?;
        let waiting = ObservedResult::PendingApproval {
            approval_id: approval,
        };
        for obs in &mut state.observations {
            if obs.result == waiting {
                obs.result = observed.clone();
            }
            if let ObservedResult::Bulk { results } = &mut obs.result {
                for (index, result) in results.iter_mut().enumerate() {
                    if *result == waiting {
                        *result = by_index.remove(&index).unwrap_or_else(|| observed.clone());
                    }
                }
            }
        }
        let scope = TurnScope {
            principal,
            channel,
            id,
            turn: None,
        };
        self.run_turn(scope, &mut state, &mut report, secrets)
            .await?;
        Ok(report)
    }

    async fn run_turn(
        &self,
        scope: TurnScope<'_>,
        state: &mut ConversationState,
        report: &mut TurnReport,
        mut secrets: Vec<Secret>,
    ) -> Result<(), AgentError> {
        let TurnScope {
            principal,
            channel,
            id,
            turn,
        } = scope;
        let mut replies: Vec<String> = Vec::new();
        let mut status = None;
        let mut reasoner_failed = false;
        let systems = self.router.attached();
        let catalog = self.catalog();
        for _ in 0..MAX_STEPS_PER_TURN {
            let input = ReasonerInput {
                requester: principal,
                domain: &self.config.domain,
                messages: &state.messages,
                observations: &state.observations,
                systems: &systems,
                catalog: &catalog,
            };
            if report.intent.is_none() {
                report.intent = self.reasoner().intent(&input);
            }
            let ctx = CallContext {
                principal,
                channel,
                conversation: id,
                purpose: "next step",
                blast_radius: None,
                turn: None,
            };
            let proposed = self
                .propose(
                    &input,
                    &ctx,
                    state.taken_over.as_deref(),
                    &mut reasoner_failed,
                )
                .await;
            report.audit_ids.extend(proposed.audit_ids);
            report.reasoner = Some(proposed.by);
            state.tokens.add(proposed.tokens);
            if proposed.taken_over.is_some() {
                state.taken_over = proposed.taken_over;
            }
            let step = proposed.step;
            let result = match &step {
                Step::Done => break,
                Step::Investigate { call, purpose } | Step::Act { call, purpose } => {
                    let kind = if matches!(step, Step::Investigate { .. }) {
                        CallKind::Investigate
                    } else {
                        CallKind::Act
                    };
                    let ctx = CallContext {
                        principal,
                        channel,
                        conversation: id,
                        purpose,
                        blast_radius: None,
                        turn,
                    };
                    if state.dry_run && kind == CallKind::Act {
                        self.plan_call(report, &ctx, call, purpose).await
                    } else {
                        let outcome = self.gateway.call(&ctx, call, kind).await;
                        report.audit_ids.extend(outcome.audit_ids());
                        record_call(
                            report,
                            &mut secrets,
                            principal,
                            kind,
                            call,
                            purpose,
                            outcome,
                        )
                    }
                }
                Step::ActBulk { calls, purpose } if state.dry_run => {
                    let ctx = CallContext {
                        principal,
                        channel,
                        conversation: id,
                        purpose,
                        blast_radius: None,
                        turn,
                    };
                    let mut results = Vec::with_capacity(calls.len());
                    for call in calls {
                        results.push(self.plan_call(report, &ctx, call, purpose).await);
                    }
                    ObservedResult::Bulk { results }
                }
                Step::ActBulk { calls, purpose } => {
                    let ctx = CallContext {
                        principal,
                        channel,
                        conversation: id,
                        purpose,
                        blast_radius: None,
                        turn,
                    };
                    let outcomes = self.gateway.call_bulk(&ctx, calls).await;
                    let mut results = Vec::with_capacity(outcomes.len());
                    for (call, outcome) in calls.iter().zip(outcomes) {
                        report.audit_ids.extend(outcome.audit_ids());
                        results.push(record_call(
                            report,
                            &mut secrets,
                            principal,
                            CallKind::Act,
                            call,
                            purpose,
                            outcome,
                        ));
                    }
                    ObservedResult::Bulk { results }
                }
                Step::Plan { findings, steps } => {
                    report.findings.extend(findings.iter().cloned());
                    report.plan.extend(steps.iter().cloned());
                    ObservedResult::Noted
                }
                Step::Reply { text } => {
                    replies.push(text.clone());
                    ObservedResult::Noted
                }
                Step::Ask { question, options } => {
                    report.question = Some(QuestionView {
                        text: question.clone(),
                        options: options.clone(),
                    });
                    replies.push(question.clone());
                    status = Some(TurnStatus::AwaitingRequester);
                    state.observations.push(Observation {
                        step: step.clone(),
                        result: ObservedResult::Answer { text: None },
                    });
                    break;
                }
                Step::Escalate { reason, findings } => {
                    let ctx = CallContext {
                        principal,
                        channel,
                        conversation: id,
                        purpose: reason,
                        blast_radius: None,
                        turn: None,
                    };
                    let audit = self
                        .gateway
                        .note(
                            &ctx,
                            RecordKind::Escalation,
                            "escalated",
                            json!({"reason": reason, "findings": findings}),
                        )
                        .await;
                    report.audit_ids.extend(audit);
                    for f in findings {
                        if !report.findings.contains(f) {
                            report.findings.push(f.clone());
                        }
                    }
                    // Queued with everything a person needs to take it over; its id follows
                    // from the conversation and the step, so a turn run again queues it once.
                    let queued = if state.dry_run {
                        None
                    } else {
                        let escalation = uuid::Uuid::new_v5(
                            &id.0,
                            format!("escalation-{}", state.observations.len()).as_bytes(),
                        )
                        .to_string();
                        let bundle = crate::escalation::bundle(
                            &escalation,
                            &state.messages,
                            &state.observations,
                            report,
                            reason,
                            findings,
                        );
                        self.store
                            .create_escalation(
                                &escalation,
                                &id.to_string(),
                                &principal.upn,
                                &bundle,
                            )
                            .await?;
                        let filed = self.file_escalation(&ctx, &escalation, &bundle).await;
                        Some((escalation, filed))
                    };
                    let (queued, filed) = match queued {
                        Some((e, f)) => (Some(e), f),
                        None => (None, Filed::NotConfigured),
                    };
                    let (ticket, filing_error) = match filed {
                        Filed::NotConfigured => (None, None),
                        Filed::Ticket(t) => (Some(t), None),
                        Filed::Failed(system, error) => {
                            (None, Some(format!("{}: {error}", record_name(system))))
                        }
                    };
                    report.escalation = Some(EscalationView {
                        reason: reason.clone(),
                        findings: findings.clone(),
                        id: queued,
                        ticket,
                        filing_error,
                    });
                    ObservedResult::Noted
                }
            };
            state.observations.push(Observation { step, result });
        }

        // Items of a bulk job share their approval request's record.
        report.audit_ids.sort_unstable();
        report.audit_ids.dedup();
        if let Some(escalation) = report.escalation.as_ref()
            && let Some(queued) = escalation.id.as_ref()
        {
            let short = queued.get(..8).unwrap_or(queued);
            replies.push(match (&escalation.ticket, &escalation.filing_error) {
                (Some(t), _) => format!(
                    "(The IT team has this as {} {}, escalation {short}.)",
                    record_name(&t.system),
                    t.key
                ),
                (None, Some(_)) => format!(
                    "(The IT team has this in their queue as escalation {short}; it could not be filed in the ticketing tool, and the queue shows why.)"
                ),
                (None, None) => format!("(The IT team has this in their queue as escalation {short}.)"),
            });
        }
        let mut reply = replies.join("\n\n");
        if channel == Channel::Ticket && !secrets.is_empty() {
            // A ticket is read by many and kept for years: a secret never goes into one.
            reply.push_str("\n\n(A temporary password was set, but a ticket is no place for a secret, so it is not written here; ask Steward in chat or the console for a new one.)");
        } else {
            for s in &secrets {
                reply.push_str(&format!("\n\n{}: {}", s.label, s.value));
            }
        }
        let stored_reply = secrets.iter().fold(reply.clone(), |r, s| {
            r.replace(&s.value, steward_audit::REDACTED)
        });
        report.reply = reply;
        let status = status.unwrap_or_else(|| {
            if report
                .actions
                .iter()
                .any(|a| a.status == ActionStatus::PendingApproval)
            {
                TurnStatus::AwaitingApproval
            } else if report.escalation.is_some() {
                TurnStatus::Escalated
            } else if report
                .actions
                .iter()
                .any(|a| a.status == ActionStatus::Executed)
            {
                TurnStatus::Resolved
            } else {
                TurnStatus::Answered
            }
        });
        report.status = status;
        report.dry_run = state.dry_run;
        report.tokens = (!state.tokens.is_zero()).then_some(state.tokens);
        let ctx = CallContext {
            principal,
            channel,
            conversation: id,
            purpose: "reply",
            blast_radius: None,
            turn: None,
        };
        let audit = self
            .gateway
            .note(
                &ctx,
                RecordKind::Reply,
                status.as_str(),
                json!({"reply": stored_reply}),
            )
            .await;
        report.audit_ids.extend(audit);

        let mut stored = serde_json::to_value(&*report).unwrap_or(Value::Null);
        stored["reply"] = json!(stored_reply);
        self.store.append_step(id, "turn", &stored).await?;
        let state_value = serde_json::to_value(&*state)
            .map_err(|e| AgentError::BadState(id.to_string(), e.to_string()))?;
        self.store
            .update_conversation(id, status.as_str(), &state_value)
            .await?;
        Ok(())
    }
}

impl TenantRuntime {
    /// A dry run's change: decided and previewed, shown in the report as planned. The reasoner
    /// sees a refusal as a refusal and anything else as done, so the whole plan unfolds.
    async fn plan_call(
        &self,
        report: &mut TurnReport,
        ctx: &CallContext<'_>,
        call: &steward_domain::ActionCall,
        purpose: &str,
    ) -> ObservedResult {
        let planned = match self.gateway.plan(ctx, call).await {
            Ok(p) => p,
            Err(outcome) => {
                report.audit_ids.extend(outcome.audit_ids());
                let mut secrets = Vec::new();
                return record_call(
                    report,
                    &mut secrets,
                    ctx.principal,
                    CallKind::Act,
                    call,
                    purpose,
                    outcome,
                );
            }
        };
        report.audit_ids.extend(planned.audit_ids.iter().copied());
        let denied = planned.decision.outcome == steward_domain::Outcome::Deny;
        let reason = planned.decision.reason.clone();
        report.actions.push(ActionView {
            action: call.action.to_string(),
            params: redact(&call.params),
            purpose: purpose.to_owned(),
            targets: planned.targets,
            decision: planned.decision,
            status: if denied {
                ActionStatus::Denied
            } else {
                ActionStatus::Planned
            },
            approval_id: None,
            verification: None,
            error: denied.then(|| reason.clone()),
            preview: planned.preview,
            audit_ids: planned.audit_ids,
        });
        if denied {
            ObservedResult::Denied { reason }
        } else {
            ObservedResult::Executed {
                summary: format!("dry run: {} was not run", call.action),
                verified: false,
            }
        }
    }
}

fn identified_by(channel: Channel) -> &'static str {
    match channel {
        Channel::Cli => "asserted by the operator's shell (--as)",
        Channel::Web => "demo page sign-in",
        _ => "channel identity",
    }
}

pub(crate) fn empty_report(
    id: ConversationId,
    principal: &Principal,
    channel: Channel,
    tenant: &str,
) -> TurnReport {
    TurnReport {
        conversation_id: id,
        tenant: tenant.to_owned(),
        requester: RequesterView {
            upn: principal.upn.clone(),
            display_name: principal.display_name.clone(),
            it_admin: principal.it_admin,
        },
        channel: channel.to_string(),
        intent: None,
        status: TurnStatus::Answered,
        investigations: Vec::new(),
        findings: Vec::new(),
        plan: Vec::new(),
        actions: Vec::new(),
        reply: String::new(),
        question: None,
        escalation: None,
        audit_ids: Vec::new(),
        dry_run: false,
        tokens: None,
        reasoner: None,
    }
}

/// Adds a gateway outcome to the report and turns it into what the reasoner observes.
fn record_call(
    report: &mut TurnReport,
    secrets: &mut Vec<Secret>,
    principal: &Principal,
    kind: CallKind,
    call: &steward_domain::ActionCall,
    purpose: &str,
    outcome: GatewayOutcome,
) -> ObservedResult {
    let audit_ids = outcome.audit_ids().to_vec();
    let params = redact(&call.params);
    if kind == CallKind::Investigate {
        let (decision, summary, observed) = match outcome {
            GatewayOutcome::Done {
                result, decision, ..
            } => {
                let summary = result.summary.clone();
                (
                    Some(decision),
                    summary.clone(),
                    ObservedResult::Data {
                        summary,
                        data: redact(&result.output),
                    },
                )
            }
            GatewayOutcome::Denied { decision, .. } => {
                let reason = decision.reason.clone();
                (
                    Some(decision),
                    format!("refused: {reason}"),
                    ObservedResult::Denied { reason },
                )
            }
            GatewayOutcome::NeedsApproval { decision, .. } => (
                Some(decision),
                "needs approval".into(),
                ObservedResult::Failed {
                    error: "a read needed approval".into(),
                },
            ),
            GatewayOutcome::Failed {
                decision, error, ..
            } => (
                decision,
                format!("failed: {error}"),
                ObservedResult::Failed { error },
            ),
        };
        if let Some(decision) = decision {
            report.investigations.push(InvestigationView {
                action: call.action.to_string(),
                params,
                purpose: purpose.to_owned(),
                decision,
                summary,
                audit_ids,
            });
        }
        return observed;
    }
    let mut view = ActionView {
        action: call.action.to_string(),
        params,
        purpose: purpose.to_owned(),
        targets: Vec::new(),
        decision: steward_domain::Decision {
            outcome: steward_domain::Outcome::Deny,
            deciding: Vec::new(),
            gates: Vec::new(),
            reason: String::new(),
            errors: Vec::new(),
            policy_set_hash: String::new(),
        },
        status: ActionStatus::Failed,
        approval_id: None,
        verification: None,
        error: None,
        preview: Vec::new(),
        audit_ids,
    };
    let observed = match outcome {
        GatewayOutcome::Done {
            result,
            decision,
            targets,
            verification,
            ..
        } => {
            let passed = verification.as_ref().is_none_or(|v| v.passed);
            view.status = if passed {
                ActionStatus::Executed
            } else {
                ActionStatus::Unverified
            };
            view.verification = verification.map(|v| VerificationView {
                passed: v.passed,
                detail: v.detail,
            });
            view.decision = decision;
            // A temporary password goes to the person it belongs to, or to an IT admin asking
            // for someone else; nobody else ever sees it.
            if let Some(pw) = result
                .output
                .get("temporaryPassword")
                .and_then(Value::as_str)
            {
                // A new account has no target yet: the password is the new account's.
                let owner = targets
                    .iter()
                    .find_map(|t| t.upn.clone())
                    .or_else(|| {
                        result.output["userPrincipalName"]
                            .as_str()
                            .map(str::to_owned)
                    })
                    .unwrap_or_default();
                if owner.eq_ignore_ascii_case(&principal.upn) || principal.it_admin {
                    secrets.push(Secret { label: format!("Temporary password for {owner} (shown once; you must change it when you sign in)"), value: pw.to_owned() });
                }
            }
            // A Temporary Access Pass likewise goes to the requester only (an IT admin hands it
            // over after checking who is asking).
            if let Some(pass) = result
                .output
                .get("temporaryAccessPass")
                .and_then(Value::as_str)
            {
                let owner = targets
                    .iter()
                    .find_map(|t| t.upn.clone())
                    .unwrap_or_default();
                let minutes = result.output["lifetimeInMinutes"].as_i64().unwrap_or(60);
                secrets.push(Secret {
                    label: format!(
                        "Temporary Access Pass for {owner} (shown once; valid {minutes} minutes)"
                    ),
                    value: pass.to_owned(),
                });
            }
            view.targets = targets;
            ObservedResult::Executed {
                summary: result.summary,
                verified: passed,
            }
        }
        GatewayOutcome::Denied {
            decision, targets, ..
        } => {
            view.status = ActionStatus::Denied;
            view.error = Some(decision.reason.clone());
            let reason = decision.reason.clone();
            view.decision = decision;
            view.targets = targets;
            ObservedResult::Denied { reason }
        }
        GatewayOutcome::NeedsApproval {
            approval_id,
            decision,
            targets,
            ..
        } => {
            view.status = ActionStatus::PendingApproval;
            view.approval_id = Some(approval_id);
            view.decision = decision;
            view.targets = targets;
            ObservedResult::PendingApproval { approval_id }
        }
        GatewayOutcome::Failed {
            decision,
            targets,
            error,
            ..
        } => {
            view.error = Some(error.clone());
            if let Some(d) = decision {
                view.decision = d;
            }
            view.targets = targets;
            ObservedResult::Failed { error }
        }
    };
    report.actions.push(view);
    observed
}
