//! Who may decide an approval request is a policy question too: the would-be approver is the
//! principal of the action `steward.approval.decide`, each target of the change its resource.

use steward_domain::{ActionName, Channel, DecidingPolicy, Decision, Outcome, Principal, Target};

use super::{ApprovalContext, DecisionRequest, PolicyEngine, failed_closed, list, named};
use crate::entities::approve_context_facts;
use crate::schema::APPROVE_ACTION;

/// One question for the engine: may this person decide this approval request?
#[derive(Debug, Clone)]
pub struct ApproverRequest<'a> {
    /// Who would decide.
    pub approver: &'a Principal,
    /// Who asked for the change.
    pub requester: &'a Principal,
    /// The change's action.
    pub action: &'a ActionName,
    /// The change's risk score (0–100).
    pub risk: i64,
    /// Every target of the change: the approver must be allowed for each.
    pub targets: &'a [Target],
    /// Where the decision is being made.
    pub channel: Channel,
    /// Hour of day in the tenant's time zone.
    pub local_hour: i64,
    /// The approver wants to approve always (create a standing approval), not just once.
    pub standing: bool,
}

impl PolicyEngine {
    /// Decides whether `req.approver` may decide the request: `Auto` when a policy permits it for
    /// every target and none forbids it, otherwise `Deny` naming why. Fails closed like
    /// [`decide`](Self::decide).
    pub fn may_approve(&self, req: &ApproverRequest<'_>) -> Decision {
        let Some(set) = self.by_action.get(APPROVE_ACTION) else {
            return self.deny(
                Vec::new(),
                "no approver policy is loaded".into(),
                Vec::new(),
            );
        };
        let approve = match ActionName::new(APPROVE_ACTION) {
            Ok(a) => a,
            Err(e) => return self.deny(Vec::new(), e.to_string(), Vec::new()),
        };
        if req.targets.is_empty() {
            return self.deny(
                Vec::new(),
                "the request names no target to approve".into(),
                Vec::new(),
            );
        }
        let own = req.approver.directory_id == req.requester.directory_id;
        let mut deciding: Vec<DecidingPolicy> = Vec::new();
        for target in req.targets {
            let dr = DecisionRequest {
                principal: req.approver,
                action: &approve,
                target,
                channel: req.channel,
                blast_radius: i64::try_from(req.targets.len()).unwrap_or(i64::MAX),
                risk: req.risk,
                local_hour: req.local_hour,
                recent_count: 0,
                approval: ApprovalContext::default(),
            };
            let prepared = match self.prepare(&dr) {
                Ok(p) => p,
                Err(e) => {
                    return self.deny(Vec::new(), "policy evaluation failed".into(), vec![e]);
                }
            };
            let context = approve_context_facts(&dr, req.action.as_str(), own, req.standing);
            let answer = self.query_with(set, &prepared, &context);
            if !answer.errors.is_empty() {
                return failed_closed(self, answer.errors);
            }
            let named = named(&answer);
            if !answer.allow {
                let reason = if named.is_empty() {
                    format!(
                        "no policy lets {} decide `{}` on {}",
                        req.approver.display_name, req.action, target.display_name
                    )
                } else {
                    format!(
                        "{} may not decide `{}` on {}: forbidden by {}",
                        req.approver.display_name,
                        req.action,
                        target.display_name,
                        list(&named)
                    )
                };
                return self.deny(named, reason, Vec::new());
            }
            for p in named {
                if !deciding.contains(&p) {
                    deciding.push(p);
                }
            }
        }
        Decision {
            outcome: Outcome::Auto,
            reason: format!(
                "{} may decide `{}`: permitted by {}",
                req.approver.display_name,
                req.action,
                list(&deciding)
            ),
            deciding,
            gates: Vec::new(),
            errors: Vec::new(),
            policy_set_hash: self.loaded.hash.clone(),
        }
    }
}
