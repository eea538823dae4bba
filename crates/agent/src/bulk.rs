//! The items of a bulk approval request and the approver's per-target choice.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use serde_json::json;
use steward_audit::{RecordKind, redact};
use steward_domain::report::TurnReport;
use steward_domain::{ActionCall, ApprovalId, Change, Decision, Principal, Target, TargetKind};
use steward_store::ApprovalStatus;

use crate::approvals::{ApprovalDecision, ApprovalRequest, Resolution};
use crate::gateway::{CallContext, GatewayOutcome};
use crate::{AgentError, TenantRuntime};

/// One call of a bulk job waiting for approval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalItem {
    /// Its position in the job.
    pub index: usize,
    /// Who or what it is about, for choosing (the person's sign-in name, else the object's name).
    pub subject: String,
    /// The call.
    pub call: ActionCall,
    /// Its targets.
    pub targets: Vec<Target>,
    /// Its own policy decision.
    pub decision: Decision,
    /// What it would change.
    pub preview: Vec<Change>,
}

impl ApprovalItem {
    pub(crate) fn new(
        index: usize,
        call: ActionCall,
        targets: Vec<Target>,
        decision: Decision,
        preview: Vec<Change>,
    ) -> Self {
        let subject = targets
            .iter()
            .find(|t| t.kind == TargetKind::Person)
            .or_else(|| targets.last())
            .map(|t| t.upn.clone().unwrap_or_else(|| t.display_name.clone()))
            .unwrap_or_default();
        Self {
            index,
            subject,
            call,
            targets,
            decision,
            preview,
        }
    }

    /// Whether the approver's `key` (a sign-in name, an object id or a display name) picks
    /// this item.
    pub(crate) fn picked_by(&self, key: &str) -> bool {
        let key = key.trim();
        self.subject.eq_ignore_ascii_case(key)
            || self.targets.iter().any(|t| {
                t.kind == TargetKind::Person
                    && (t.id.eq_ignore_ascii_case(key)
                        || t.display_name.eq_ignore_ascii_case(key)
                        || t.upn
                            .as_deref()
                            .is_some_and(|u| u.eq_ignore_ascii_case(key)))
            })
    }
}

impl TenantRuntime {
    /// Approves a bulk job, whole or in part: the chosen items are re-decided (with the real
    /// approver, fresh targets and the approved part's size as blast radius) and run one by one;
    /// the rest are declined. A choice that names nothing in the job is refused before anything
    /// is recorded.
    pub(crate) async fn decide_bulk(
        &self,
        id: ApprovalId,
        from: ApprovalStatus,
        request: &ApprovalRequest,
        requester: &Principal,
        approver: &Principal,
        decision: ApprovalDecision,
    ) -> Result<(String, TurnReport), AgentError> {
        let chosen: HashSet<usize> = match &decision {
            ApprovalDecision::ApproveSelected(keys) => {
                let mut chosen = HashSet::new();
                for key in keys {
                    let picked: Vec<usize> = request
                        .items
                        .iter()
                        .filter(|i| i.picked_by(key))
                        .map(|i| i.index)
                        .collect();
                    if picked.is_empty() {
                        return Err(AgentError::BadInput(format!(
                            "`{key}` is not one of this request's targets ({})",
                            request
                                .items
                                .iter()
                                .map(|i| i.subject.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        )));
                    }
                    chosen.extend(picked);
                }
                chosen
            }
            _ => request.items.iter().map(|i| i.index).collect(),
        };
        let total = request.items.len();
        let note = format!("approved {} of {total}", chosen.len());
        self.store
            .transition_approval(
                id,
                from,
                ApprovalStatus::Approved,
                Some(&approver.upn),
                Some(&note),
            )
            .await?;
        let approved_subjects: Vec<&str> = request
            .items
            .iter()
            .filter(|i| chosen.contains(&i.index))
            .map(|i| i.subject.as_str())
            .collect();
        let ctx = CallContext {
            principal: requester,
            channel: request.channel,
            conversation: request.conversation,
            purpose: &request.purpose,
            blast_radius: None,
            turn: None,
        };
        let decided_record = self
            .gateway
            .note(
                &ctx,
                RecordKind::ApprovalDecided,
                ApprovalStatus::Approved.as_str(),
                json!({"approvalId": id, "approver": approver.upn, "action": request.call.action, "params": redact(&request.call.params), "approved": approved_subjects, "of": total}),
            )
            .await;
        let distinct: HashSet<(TargetKind, &str)> = request
            .items
            .iter()
            .filter(|i| chosen.contains(&i.index))
            .flat_map(|i| i.targets.iter())
            .map(|t| (t.kind, t.id.as_str()))
            .collect();
        let job = CallContext {
            blast_radius: Some(i64::try_from(distinct.len()).unwrap_or(i64::MAX)),
            ..ctx.clone()
        };
        let mut ran = Vec::new();
        let mut declined = Vec::new();
        let (mut executed, mut not_run) = (0usize, Vec::new());
        for item in &request.items {
            if !chosen.contains(&item.index) {
                declined.push((
                    item.index,
                    format!(
                        "{} did not approve this part of the job",
                        approver.display_name
                    ),
                ));
                continue;
            }
            let outcome = self
                .gateway
                .call_approved(
                    &job,
                    &item.call,
                    approver,
                    id,
                    &format!("{id}/{}", item.index),
                )
                .await;
            match &outcome {
                GatewayOutcome::Done { .. } => executed += 1,
                GatewayOutcome::Denied { decision, .. } => {
                    not_run.push(format!(
                        "{}: refused by the re-check ({})",
                        item.subject, decision.reason
                    ));
                }
                GatewayOutcome::Failed { error, .. } => {
                    not_run.push(format!("{}: failed ({error})", item.subject));
                }
                GatewayOutcome::NeedsApproval { .. } => {
                    not_run.push(format!("{}: still needs another approval", item.subject));
                }
            }
            ran.push((item.index, item.call.clone(), outcome));
        }
        let mut summary = format!(
            "approved by {} for {} of {total} targets: {executed} executed",
            approver.upn,
            chosen.len()
        );
        if !not_run.is_empty() {
            summary.push_str(&format!("; not run: {}", not_run.join("; ")));
        }
        if !declined.is_empty() {
            summary.push_str(&format!("; {} not approved", declined.len()));
        }
        let status = if not_run.is_empty() {
            ApprovalStatus::Executed
        } else {
            ApprovalStatus::Failed
        };
        self.store
            .transition_approval(id, ApprovalStatus::Approved, status, None, Some(&summary))
            .await?;
        let report = self
            .resume_after_approval(
                requester,
                request.channel,
                request.conversation,
                id,
                Resolution::RanBulk {
                    purpose: request.purpose.clone(),
                    ran,
                    declined,
                },
                decided_record,
            )
            .await?;
        Ok((summary, report))
    }
}
