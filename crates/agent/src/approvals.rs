//! Durable approval requests and the decisions humans make on them.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use steward_audit::{RecordKind, redact};
use steward_domain::report::TurnReport;
use steward_domain::{
    ActionCall, ActionSpec, ApprovalId, Change, Channel, ConversationId, Decision, Principal,
    Target,
};
use steward_policy::ApproverRequest;
use steward_store::ApprovalStatus;

use crate::gateway::{CallContext, GatewayOutcome};
use crate::{AgentError, TenantRuntime};

/// A self-describing approval request: everything an approver needs to decide without asking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalRequest {
    /// Its id.
    pub id: ApprovalId,
    /// The conversation waiting on it.
    pub conversation: ConversationId,
    /// Who asked (the principal the action is judged as).
    pub requester: Principal,
    /// The channel the request came through.
    pub channel: Channel,
    /// The action to run.
    pub call: ActionCall,
    /// What the action does.
    pub summary: String,
    /// Why the reasoner proposed it.
    pub purpose: String,
    /// The objects it touches.
    pub targets: Vec<Target>,
    /// What it would change, read from the live system when the approval was asked for
    /// (current → proposed). Empty when the read failed; the decision re-reads before running.
    #[serde(default)]
    pub preview: Vec<Change>,
    /// The policy decision that asked for approval (deciding policies and gates).
    pub decision: Decision,
    /// The decisions on offer.
    pub decisions_offered: Vec<String>,
    /// For a bulk job: every item waiting for this approval, each with its own targets,
    /// decision and preview (the approver may approve some and not others). Empty for a single
    /// call.
    #[serde(default)]
    pub items: Vec<crate::bulk::ApprovalItem>,
    /// Distinct objects the whole job touches (`context.blastRadius`).
    #[serde(default)]
    pub blast_radius: i64,
    /// Questions approvers asked the requester before deciding, and the answers.
    #[serde(default)]
    pub info_requests: Vec<crate::approval_info::InfoRequest>,
    /// The Cedar rule "approve always" would link (its slots filled with the scope the approver
    /// chooses: this requester, their department or a group; and the target's), when offered.
    #[serde(default)]
    pub standing_rule: Option<String>,
    /// Why "approve always" is not offered, when it is not.
    #[serde(default)]
    pub approve_always_refused: Option<String>,
}

impl ApprovalRequest {
    pub(crate) fn new(
        id: ApprovalId,
        ctx: &CallContext<'_>,
        call: &ActionCall,
        spec: &ActionSpec,
        targets: &[Target],
        decision: &Decision,
        preview: Vec<Change>,
    ) -> Self {
        Self {
            preview,
            id,
            conversation: ctx.conversation,
            requester: ctx.principal.clone(),
            channel: ctx.channel,
            call: call.clone(),
            summary: spec.summary.clone(),
            purpose: ctx.purpose.to_owned(),
            targets: targets.to_vec(),
            decision: decision.clone(),
            decisions_offered: vec![
                "approveOnce".into(),
                "approveAlways".into(),
                "deny".into(),
                "askForInfo".into(),
            ],
            items: Vec::new(),
            blast_radius: ctx
                .blast_radius
                .unwrap_or_else(|| i64::try_from(targets.len()).unwrap_or(i64::MAX)),
            info_requests: Vec::new(),
            standing_rule: None,
            approve_always_refused: None,
        }
    }
}

impl ApprovalRequest {
    /// The request stored as approval `id`'s payload.
    pub(crate) fn from_payload(id: ApprovalId, payload: Value) -> Result<Self, AgentError> {
        serde_json::from_value(payload)
            .map_err(|e| AgentError::BadState(id.to_string(), e.to_string()))
    }

    /// "Approve always" is not offered for a hard approval (`@approval("hard")`), nor where a
    /// forbid must be lifted by a fresh approval each time.
    pub(crate) fn approve_always(mut self, refused: Option<String>, rule: Option<String>) -> Self {
        if refused.is_some() {
            self.decisions_offered.retain(|d| d != "approveAlways");
            self.approve_always_refused = refused;
        } else {
            self.standing_rule = rule;
        }
        self
    }
}

/// What became of an approval request, for the conversation waiting on it.
pub(crate) enum Resolution {
    /// Approved and run (or refused by the re-check, or failed).
    Ran {
        /// The call.
        call: ActionCall,
        /// Why it was proposed.
        purpose: String,
        /// What the gateway did.
        outcome: Box<GatewayOutcome>,
    },
    /// A bulk job's approval: the approved items ran (each by its index in the job), the
    /// others were declined.
    RanBulk {
        /// Why the job was proposed.
        purpose: String,
        /// The approved items: index, call and what the gateway did.
        ran: Vec<(usize, ActionCall, GatewayOutcome)>,
        /// The items not approved, with the reason the requester is given.
        declined: Vec<(usize, String)>,
    },
    /// A human declined it.
    Declined {
        /// Their reason.
        reason: String,
    },
}

/// A human's decision on an approval request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApprovalDecision {
    /// Run it once.
    ApproveOnce,
    /// Run it, and let similar requests within the terms run without asking (a standing
    /// approval: bounded in scope, uses and time; revocable; never offered for a hard approval).
    ApproveAlways(crate::StandingTerms),
    /// For a bulk job: run only the items whose subject (a person's sign-in name, id or name)
    /// is listed; the others are declined.
    ApproveSelected(Vec<String>),
    /// Do not run it.
    Deny {
        /// Why, for the requester.
        reason: String,
    },
}

impl TenantRuntime {
    /// The approver's authority, checked now against the policies in force and fresh targets
    /// (`steward.approval.decide`): who may approve is policy, not code. The code backstop keeps
    /// anyone from approving their own request on a privileged target whatever the policies say.
    pub(crate) async fn check_approver(
        &self,
        approver: &Principal,
        requester: &Principal,
        request: &ApprovalRequest,
        standing: bool,
    ) -> Result<(), AgentError> {
        let targets = self.gateway.refresh_targets(&request.targets).await;
        // An action no longer offered is judged at the highest risk.
        let risk = self
            .gateway
            .spec(&request.call.action)
            .map_or(100, |s| s.risk.score());
        let decision = self.gateway.policy().may_approve(&ApproverRequest {
            approver,
            requester,
            action: &request.call.action,
            risk,
            targets: &targets,
            channel: request.channel,
            local_hour: self.gateway.local_hour(),
            standing,
        });
        if approver.directory_id == requester.directory_id && targets.iter().any(|t| t.privileged) {
            return Err(AgentError::NotAllowed(
                "nobody approves their own request on a privileged target".into(),
            ));
        }
        if decision.outcome != steward_domain::Outcome::Auto {
            return Err(AgentError::NotAllowed(format!(
                "{} is not an approver for this request: {}",
                approver.upn, decision.reason
            )));
        }
        Ok(())
    }

    /// Applies a human decision: checks the approver's authority now, records the decision once,
    /// and (when approved) re-decides and runs the action; then the conversation continues so the
    /// requester hears what happened.
    pub async fn decide_approval(
        &self,
        id: ApprovalId,
        approver_upn: &str,
        decision: ApprovalDecision,
    ) -> Result<(String, TurnReport), AgentError> {
        let row = self.store.approval(id).await?;
        if !matches!(
            row.status,
            ApprovalStatus::Pending | ApprovalStatus::InfoRequested
        ) {
            return Err(AgentError::Approval(format!(
                "approval `{id}` is already {}",
                row.status
            )));
        }
        let request = ApprovalRequest::from_payload(id, row.payload.clone())?;
        let approver = self.identify(approver_upn).await?;
        // Fresh facts about the requester, not the ones captured when the request was made.
        let requester = self.identify(&request.requester.upn).await?;
        let standing_wanted = matches!(decision, ApprovalDecision::ApproveAlways(_));
        self.check_approver(&approver, &requester, &request, standing_wanted)
            .await?;
        let ctx = CallContext {
            principal: &requester,
            channel: request.channel,
            conversation: request.conversation,
            purpose: &request.purpose,
            blast_radius: None,
            turn: None,
        };
        if !request.items.is_empty()
            && matches!(
                decision,
                ApprovalDecision::ApproveOnce | ApprovalDecision::ApproveSelected(_)
            )
        {
            return self
                .decide_bulk(id, row.status, &request, &requester, &approver, decision)
                .await;
        }
        if matches!(decision, ApprovalDecision::ApproveSelected(_)) {
            return Err(AgentError::BadInput(
                "choosing targets is for bulk requests; approve or deny this one as a whole".into(),
            ));
        }
        let mut standing = None;
        if let ApprovalDecision::ApproveAlways(terms) = &decision {
            if let Some(why) = &request.approve_always_refused {
                return Err(AgentError::Approval(format!(
                    "\"approve always\" is not offered for this request: {why}"
                )));
            }
            if let Some(why) = self
                .gateway
                .policy()
                .approve_always_refusal(&request.decision)
            {
                return Err(AgentError::Approval(format!(
                    "\"approve always\" is not offered for `{}`: {why}",
                    request.call.action
                )));
            }
            // Checked before anything is recorded, so bad terms leave the request pending.
            crate::standing::scopes(terms.scope, &requester, &request.targets)?;
            if terms.max_uses == 0 || terms.ttl.is_zero() {
                return Err(AgentError::Approval(
                    "\"approve always\" needs at least one use and a time it lasts".into(),
                ));
            }
            self.prove_standing(
                &request.call.action,
                &requester,
                &request.targets,
                terms.scope,
            )
            .await?;
            standing = Some(*terms);
        }
        // Approving one's own request records nothing unless that approval can make it run:
        // otherwise it stays pending for someone else rather than being used up.
        if approver.directory_id == requester.directory_id
            && !matches!(decision, ApprovalDecision::Deny { .. })
            && let Err(why) = self
                .gateway
                .own_approval_suffices(&ctx, &request.call)
                .await
        {
            return Err(AgentError::NotAllowed(format!(
                "your own approval would not let this run ({why}); it stays pending for another approver"
            )));
        }
        let (to, note) = match &decision {
            ApprovalDecision::ApproveOnce
            | ApprovalDecision::ApproveAlways(_)
            | ApprovalDecision::ApproveSelected(_) => (ApprovalStatus::Approved, None),
            ApprovalDecision::Deny { reason } => (ApprovalStatus::Denied, Some(reason.as_str())),
        };
        self.store
            .transition_approval(id, row.status, to, Some(&approver.upn), note)
            .await?;
        let decided_record = self
            .gateway
            .note(&ctx, RecordKind::ApprovalDecided, to.as_str(), json!({"approvalId": id, "approver": approver.upn, "action": request.call.action, "params": redact(&request.call.params), "note": note}))
            .await;

        let (resolution, summary) = match decision {
            ApprovalDecision::Deny { reason } => {
                let reason = format!("{} declined the request: {reason}", approver.display_name);
                (
                    Resolution::Declined {
                        reason: reason.clone(),
                    },
                    reason,
                )
            }
            ApprovalDecision::ApproveOnce
            | ApprovalDecision::ApproveAlways(_)
            | ApprovalDecision::ApproveSelected(_) => {
                if let Some(terms) = standing {
                    let created = self
                        .create_standing(
                            &request.call.action,
                            &requester,
                            &request.targets,
                            &approver,
                            &id.to_string(),
                            terms,
                        )
                        .await;
                    match created {
                        Ok(link) => {
                            tracing::info!(standing = %link, action = %request.call.action, "standing approval created")
                        }
                        Err(e) => {
                            // Never left half-done: the approval is closed as failed, saying why.
                            let note = format!(
                                "approved always, but the standing approval could not be created: {e}"
                            );
                            self.store
                                .transition_approval(
                                    id,
                                    ApprovalStatus::Approved,
                                    ApprovalStatus::Failed,
                                    None,
                                    Some(&note),
                                )
                                .await?;
                            return Err(e);
                        }
                    }
                }
                self.run_approved(id, &request, &ctx, &approver)
                    .await?
                    .ok_or_else(|| {
                        AgentError::Approval(format!(
                            "approval `{id}` was finished by another Steward replica meanwhile"
                        ))
                    })?
            }
        };
        let report = self
            .resume_after_approval(
                &requester,
                request.channel,
                request.conversation,
                id,
                resolution,
                decided_record,
            )
            .await?;
        Ok((summary, report))
    }

    /// Runs an approved request's action (decided again with the approver, under the approval's
    /// id as idempotency key, so a second run finds the first) and records how it ended. `None`:
    /// another replica recorded the end first (it also tells the requester).
    pub(crate) async fn run_approved(
        &self,
        id: ApprovalId,
        request: &ApprovalRequest,
        ctx: &CallContext<'_>,
        approver: &Principal,
    ) -> Result<Option<(Resolution, String)>, AgentError> {
        let outcome = self
            .gateway
            .call_approved(ctx, &request.call, approver, id, &id.to_string())
            .await;
        let (status, summary) = match &outcome {
            GatewayOutcome::Done { result, .. } => (
                ApprovalStatus::Executed,
                format!(
                    "approved by {} and executed: {}",
                    approver.upn, result.summary
                ),
            ),
            GatewayOutcome::Denied { decision, .. } => (
                ApprovalStatus::Failed,
                format!("approved, but the re-check refused it: {}", decision.reason),
            ),
            GatewayOutcome::NeedsApproval { .. } => (
                ApprovalStatus::Failed,
                "approved, but it still needs another approval".into(),
            ),
            GatewayOutcome::Failed { error, .. } => (
                ApprovalStatus::Failed,
                format!("approved, but the call failed: {error}"),
            ),
        };
        match self
            .store
            .transition_approval(id, ApprovalStatus::Approved, status, None, Some(&summary))
            .await
        {
            Ok(()) => {}
            Err(steward_store::StoreError::Conflict { .. }) => return Ok(None),
            Err(e) => return Err(e.into()),
        }
        Ok(Some((
            Resolution::Ran {
                call: request.call.clone(),
                purpose: request.purpose.clone(),
                outcome: Box::new(outcome),
            },
            summary,
        )))
    }

    /// Expires every approval request older than the tenant's time to live (as of `now`): each is
    /// marked expired once, audited, and its conversation continues so the requester is told —
    /// never a silent deny. Returns the follow-up reports.
    pub async fn expire_approvals(
        &self,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<(ApprovalId, TurnReport)>, AgentError> {
        let ttl =
            chrono::Duration::from_std(self.config.approval_ttl).unwrap_or(chrono::Duration::MAX);
        let cutoff = now
            .checked_sub_signed(ttl)
            .unwrap_or(chrono::DateTime::<chrono::Utc>::MIN_UTC)
            .to_rfc3339();
        let mut done = Vec::new();
        for row in self.store.pending_approvals_before(&cutoff).await? {
            let Ok(request) = ApprovalRequest::from_payload(row.id, row.payload.clone()) else {
                tracing::error!(approval = %row.id, "unreadable approval request; left for an operator");
                continue;
            };
            let hours = self.config.approval_ttl.as_secs_f64() / 3600.0;
            let note = format!("nobody decided within {hours:.1} h, so the request expired");
            // Someone may decide at this very moment: only one of the two wins.
            match self
                .store
                .transition_approval(
                    row.id,
                    row.status,
                    ApprovalStatus::Expired,
                    None,
                    Some(&note),
                )
                .await
            {
                Ok(()) => {}
                Err(steward_store::StoreError::Conflict { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
            let requester = match self.identify(&request.requester.upn).await {
                Ok(p) => p,
                Err(_) => request.requester.clone(),
            };
            let ctx = CallContext {
                principal: &requester,
                channel: request.channel,
                conversation: request.conversation,
                purpose: &request.purpose,
                blast_radius: None,
                turn: None,
            };
            let record = self
                .gateway
                .note(
                    &ctx,
                    RecordKind::ApprovalDecided,
                    "expired",
                    json!({"approvalId": row.id, "action": request.call.action, "note": note}),
                )
                .await;
            let report = self
                .resume_after_approval(
                    &requester,
                    request.channel,
                    request.conversation,
                    row.id,
                    Resolution::Declined {
                        reason: format!("the approval request expired: {note}"),
                    },
                    record,
                )
                .await?;
            done.push((row.id, report));
        }
        Ok(done)
    }

    /// Undecided (pending or waiting for the requester's answer), or all, approval requests of
    /// this tenant, as their stored payloads.
    pub async fn approvals(
        &self,
        only_pending: bool,
    ) -> Result<Vec<(steward_store::ApprovalRow, Value)>, AgentError> {
        let rows = self.store.approvals(None).await?;
        Ok(rows
            .into_iter()
            .filter(|r| {
                !only_pending
                    || matches!(
                        r.status,
                        ApprovalStatus::Pending | ApprovalStatus::InfoRequested
                    )
            })
            .map(|r| {
                let payload = redact(&r.payload);
                (r, payload)
            })
            .collect())
    }
}
