//! Bulk jobs: one change to many objects. Each call is decided on its own, with the number of
//! distinct objects of the whole job as `context.blastRadius`; what policy allows runs, what it
//! denies is reported, and everything that needs a human becomes a single approval request that
//! lists every target, so an approver sees the whole job at once.

use std::collections::HashSet;

use serde_json::{Value, json};
use steward_audit::RecordKind;
use steward_domain::{ActionCall, ApprovalId, Outcome, Target, TargetKind};

use super::audit::CallAudit;
use super::{CallContext, CallKind, Gateway, GatewayOutcome};
use crate::bulk::ApprovalItem;

/// Why "approve always" is never offered for a bulk job.
const NO_STANDING_FOR_BULK: &str =
    "a bulk job is approved as a whole or target by target, never always";

impl Gateway {
    /// Runs a bulk job; one outcome per call, in order. Items waiting for a human all share one
    /// approval request.
    pub async fn call_bulk(
        &self,
        ctx: &CallContext<'_>,
        calls: &[ActionCall],
    ) -> Vec<GatewayOutcome> {
        let mut prepared = Vec::with_capacity(calls.len());
        for call in calls {
            prepared.push(self.prepare(call).await);
        }
        let distinct: HashSet<(TargetKind, &str)> = prepared
            .iter()
            .flatten()
            .flat_map(|(_, targets)| targets.iter())
            .map(|t| (t.kind, t.id.as_str()))
            .collect();
        let job = CallContext {
            blast_radius: Some(i64::try_from(distinct.len()).unwrap_or(i64::MAX)),
            ..ctx.clone()
        };
        let job = &job;
        let mut outcomes: Vec<Option<GatewayOutcome>> = Vec::with_capacity(calls.len());
        let mut waiting: Vec<(usize, ApprovalItem, Vec<i64>)> = Vec::new();
        for (index, (call, prep)) in calls.iter().zip(prepared).enumerate() {
            let mut audit = CallAudit::new(self, job, call);
            let (spec, targets) = match prep {
                Ok(p) => p,
                Err(error) => {
                    outcomes.push(Some(audit.invalid(error).await));
                    continue;
                }
            };
            let decision = match self
                .decide_recorded(&mut audit, job, &spec, &targets, CallKind::Act)
                .await
            {
                Ok(d) => d,
                Err((decision, error)) => {
                    outcomes.push(Some(audit.fail(Some(*decision), targets, error)));
                    continue;
                }
            };
            match decision.outcome {
                Outcome::Deny => outcomes.push(Some(GatewayOutcome::Denied {
                    decision,
                    targets,
                    audit_ids: audit.ids,
                })),
                Outcome::Auto => {
                    let key = job
                        .turn
                        .map_or_else(|| uuid::Uuid::now_v7().to_string(), |t| t.next_key(call));
                    outcomes.push(Some(
                        self.execute(audit, &spec, targets, decision, &key, false)
                            .await,
                    ));
                }
                Outcome::Ask => {
                    let preview = self.connector.preview(call).await.unwrap_or_else(|e| {
                        tracing::warn!(error = %e, action = %call.action, "could not read the preview of a change");
                        Vec::new()
                    });
                    let item = ApprovalItem::new(index, call.clone(), targets, decision, preview);
                    waiting.push((index, item, audit.ids));
                    outcomes.push(None);
                }
            }
        }
        if !waiting.is_empty() {
            self.request_bulk_approval(job, calls, waiting, &mut outcomes)
                .await;
        }
        outcomes
            .into_iter()
            .map(|o| {
                o.unwrap_or_else(|| GatewayOutcome::Failed {
                    decision: None,
                    targets: Vec::new(),
                    error: "internal error: a bulk item was left without an outcome".into(),
                    audit_ids: Vec::new(),
                })
            })
            .collect()
    }

    /// One approval request for every waiting item of a job, persisted and audited once.
    async fn request_bulk_approval(
        &self,
        job: &CallContext<'_>,
        calls: &[ActionCall],
        waiting: Vec<(usize, ApprovalItem, Vec<i64>)>,
        outcomes: &mut [Option<GatewayOutcome>],
    ) {
        let Some((first_index, first, _)) = waiting.first() else {
            return;
        };
        let approval_id = job
            .turn
            .map_or_else(ApprovalId::new, |t| ApprovalId(t.next_id(&first.call)));
        let Some(spec) = self.spec(&first.call.action) else {
            return;
        };
        let mut all_targets: Vec<Target> = Vec::new();
        for (_, item, _) in &waiting {
            for t in &item.targets {
                if !all_targets.iter().any(|a| a.kind == t.kind && a.id == t.id) {
                    all_targets.push(t.clone());
                }
            }
        }
        let preview = waiting
            .iter()
            .flat_map(|(_, item, _)| item.preview.iter().cloned())
            .collect();
        let mut request = crate::approvals::ApprovalRequest::new(
            approval_id,
            job,
            &calls[*first_index],
            &spec,
            &all_targets,
            &first.decision,
            preview,
        )
        .approve_always(Some(NO_STANDING_FOR_BULK.into()), None);
        request
            .decisions_offered
            .insert(1, "approveSelected".into());
        request.items = waiting.iter().map(|(_, item, _)| item.clone()).collect();
        let payload = serde_json::to_value(&request).unwrap_or(Value::Null);
        let persisted = self
            .store
            .create_approval(
                approval_id,
                job.conversation,
                &job.principal.upn,
                first.call.action.as_str(),
                &payload,
            )
            .await;
        let mut audit = CallAudit::new(self, job, &calls[*first_index]);
        if let Err(e) = persisted {
            let error = format!("could not persist the approval request: {e}");
            for (index, item, ids) in waiting {
                outcomes[index] = Some(GatewayOutcome::Failed {
                    decision: Some(item.decision),
                    targets: item.targets,
                    error: error.clone(),
                    audit_ids: ids,
                });
            }
            return;
        }
        let detail = json!({
            "approvalId": approval_id,
            "items": request.items.len(),
            "blastRadius": request.blast_radius,
            "reason": first.decision.reason,
        });
        let _ = audit
            .write(
                RecordKind::ApprovalRequested,
                &all_targets,
                "pending",
                detail,
                None,
            )
            .await;
        for (index, item, mut ids) in waiting {
            ids.extend(audit.ids.iter().copied());
            outcomes[index] = Some(GatewayOutcome::NeedsApproval {
                approval_id,
                decision: item.decision,
                targets: item.targets,
                audit_ids: ids,
            });
        }
    }
}
