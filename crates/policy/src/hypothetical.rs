//! A request that has not been made: the facts a policy decision needs, given by hand — for
//! `steward policy explain`, policy test tables and the console's "explain" form.

use serde::Deserialize;
use steward_domain::{
    ActionName, ActionSpec, Channel, Decision, DomainError, Outcome, Principal, Target, TargetKind,
    TenantId,
};
use thiserror::Error;

use crate::{ApprovalContext, DecisionRequest, PolicyEngine};

/// Who or what a hypothetical request acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HypotheticalTarget {
    /// The requester's own account.
    Requester,
    /// Another ordinary person.
    Other,
    /// A person holding an admin role.
    Privileged,
    /// A protected identity (break-glass).
    Protected,
    /// A group.
    Group,
    /// The directory as a whole.
    Tenant,
    /// A device whose primary user is the requester.
    OwnDevice,
    /// A device of someone else.
    Device,
}

/// Why a hypothetical request cannot be decided.
#[derive(Debug, Error)]
pub enum ExplainError {
    /// The action is not in the catalog.
    #[error("`{action}` is not an action Steward offers; known: {known}")]
    UnknownAction {
        /// What was asked.
        action: String,
        /// The catalog's actions.
        known: String,
    },
    /// The channel is not one Steward has.
    #[error("unknown channel `{0}` (cli, web, slack, teams, mcp)")]
    UnknownChannel(String),
    /// A name is malformed.
    #[error(transparent)]
    Domain(#[from] DomainError),
}

/// The facts of a hypothetical request.
#[derive(Debug, Clone)]
pub struct Hypothetical {
    /// The action (`entra.user.reset_password`).
    pub action: String,
    /// The requester is an IT admin.
    pub it_admin: bool,
    /// What it acts on.
    pub target: HypotheticalTarget,
    /// The target's department.
    pub department: Option<String>,
    /// The channel (`cli`, `web`, `slack`, `teams`, `mcp`).
    pub channel: String,
    /// Decided as if someone other than the requester had approved.
    pub approved: bool,
    /// Objects in the job.
    pub blast_radius: i64,
    /// The requester's changes in the rate window before this one.
    pub recent_count: i64,
    /// The tenant's local hour.
    pub local_hour: i64,
}

/// What a human approval would do to a decision.
#[derive(Debug, Clone)]
pub struct ApprovalEffect {
    /// The decision once someone other than the requester approves (when approval matters).
    pub by_other: Option<Decision>,
    /// The decision if the requester approved their own request.
    pub by_self: Option<Decision>,
    /// Whether "approve always" would be offered.
    pub always_offered: bool,
    /// Why not, when it is not.
    pub always_refused: Option<String>,
    /// The rule "approve always" would link.
    pub standing_rule: Option<String>,
}

fn channel(name: &str) -> Result<Channel, ExplainError> {
    Ok(match name {
        "cli" => Channel::Cli,
        "web" => Channel::Web,
        "slack" => Channel::Slack,
        "teams" => Channel::Teams,
        "mcp" => Channel::Mcp,
        "ticket" => Channel::Ticket,
        other => return Err(ExplainError::UnknownChannel(other.to_owned())),
    })
}

impl Hypothetical {
    /// Decides it with `engine`, returning the target as it was described to the engine.
    pub fn decide(
        &self,
        engine: &PolicyEngine,
        catalog: &[ActionSpec],
    ) -> Result<(Target, Decision), ExplainError> {
        let approval = ApprovalContext {
            granted: self.approved,
            by_other: self.approved,
        };
        self.decide_with(engine, catalog, approval)
    }

    /// Decides it as if the approval state were `approval` (to show what an approval changes).
    pub fn decide_with(
        &self,
        engine: &PolicyEngine,
        catalog: &[ActionSpec],
        approval: ApprovalContext,
    ) -> Result<(Target, Decision), ExplainError> {
        let action = ActionName::new(self.action.clone())?;
        let Some(spec) = catalog.iter().find(|s| s.name == action) else {
            return Err(ExplainError::UnknownAction {
                action: self.action.clone(),
                known: catalog
                    .iter()
                    .map(|s| s.name.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        };
        let principal = Principal {
            tenant: TenantId::new("explain")?,
            directory_id: "requester".into(),
            upn: "requester@example.invalid".into(),
            display_name: "the requester".into(),
            department: None,
            it_admin: self.it_admin,
            privileged: false,
        };
        let person = |id: &str, name: &str| Target {
            kind: TargetKind::Person,
            id: id.into(),
            display_name: name.into(),
            upn: Some(format!("{id}@example.invalid")),
            department: self.department.clone(),
            groups: Vec::new(),
            privileged: false,
            protected: false,
            manager: None,
            owner: None,
        };
        let target = match self.target {
            HypotheticalTarget::Requester => person("requester", "the requester"),
            HypotheticalTarget::Other => person("someone", "someone else"),
            HypotheticalTarget::Privileged => Target {
                privileged: true,
                ..person("admin", "an admin-role holder")
            },
            HypotheticalTarget::Protected => Target {
                protected: true,
                ..person("breakglass", "a break-glass account")
            },
            HypotheticalTarget::Group => Target {
                kind: TargetKind::Group,
                upn: None,
                department: None,
                ..person("group", "a group")
            },
            HypotheticalTarget::Tenant => Target {
                kind: TargetKind::Tenant,
                id: "explain".into(),
                upn: None,
                department: None,
                ..person("explain", "the directory")
            },
            HypotheticalTarget::OwnDevice | HypotheticalTarget::Device => Target {
                kind: TargetKind::Device,
                upn: None,
                department: None,
                owner: Some(
                    if matches!(self.target, HypotheticalTarget::OwnDevice) {
                        "requester"
                    } else {
                        "someone"
                    }
                    .into(),
                ),
                ..person("device", "a device")
            },
        };
        let decision = engine.decide(&DecisionRequest {
            principal: &principal,
            action: &action,
            target: &target,
            channel: channel(&self.channel)?,
            blast_radius: self.blast_radius,
            risk: spec.risk.score(),
            local_hour: self.local_hour,
            recent_count: self.recent_count,
            approval,
        });
        Ok((target, decision))
    }

    /// What an approval would change about `decision` (nothing to say when it is automatic or
    /// already approved).
    pub fn approval_effect(
        &self,
        engine: &PolicyEngine,
        catalog: &[ActionSpec],
        decision: &Decision,
    ) -> Result<ApprovalEffect, ExplainError> {
        if decision.outcome == Outcome::Auto || self.approved {
            return Ok(ApprovalEffect {
                by_other: None,
                by_self: None,
                always_offered: false,
                always_refused: None,
                standing_rule: None,
            });
        }
        let approved = |by_other| ApprovalContext {
            granted: true,
            by_other,
        };
        let (_, by_other) = self.decide_with(engine, catalog, approved(true))?;
        let (_, by_self) = self.decide_with(engine, catalog, approved(false))?;
        let always_refused = engine.approve_always_refusal(decision);
        let always_offered = always_refused.is_none();
        let action = ActionName::new(self.action.clone())?;
        Ok(ApprovalEffect {
            by_other: Some(by_other),
            by_self: Some(by_self),
            always_offered,
            always_refused,
            standing_rule: always_offered
                .then(|| engine.standing_template_text(&action))
                .flatten(),
        })
    }
}
