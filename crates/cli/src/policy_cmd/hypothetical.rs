//! A request that has not been made: the facts a policy decision needs, given by hand.

use steward_domain::{
    ActionName, ActionSpec, Channel, Decision, Principal, Target, TargetKind, TenantId,
};
use steward_policy::{ApprovalContext, DecisionRequest, PolicyEngine};

use crate::cli::ExplainTarget;

/// The facts of a hypothetical request.
pub struct Hypothetical {
    pub action: String,
    pub it_admin: bool,
    pub target: ExplainTarget,
    pub department: Option<String>,
    pub channel: String,
    pub approved: bool,
    pub blast_radius: i64,
    pub recent_count: i64,
    pub local_hour: i64,
}

fn channel(name: &str) -> anyhow::Result<Channel> {
    Ok(match name {
        "cli" => Channel::Cli,
        "web" => Channel::Web,
        "slack" => Channel::Slack,
        "teams" => Channel::Teams,
        "mcp" => Channel::Mcp,
        other => anyhow::bail!("unknown channel `{other}` (cli, web, slack, teams, mcp)"),
    })
}

impl Hypothetical {
    /// Decides it with `engine`, returning the target as it was described to the engine.
    pub fn decide(
        &self,
        engine: &PolicyEngine,
        catalog: &[ActionSpec],
    ) -> anyhow::Result<(Target, Decision)> {
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
    ) -> anyhow::Result<(Target, Decision)> {
        let action = ActionName::new(self.action.clone())?;
        let Some(spec) = catalog.iter().find(|s| s.name == action) else {
            anyhow::bail!(
                "`{}` is not an action Steward offers; known: {}",
                self.action,
                catalog
                    .iter()
                    .map(|s| s.name.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
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
            ExplainTarget::Requester => person("requester", "the requester"),
            ExplainTarget::Other => person("someone", "someone else"),
            ExplainTarget::Privileged => Target {
                privileged: true,
                ..person("admin", "an admin-role holder")
            },
            ExplainTarget::Protected => Target {
                protected: true,
                ..person("breakglass", "a break-glass account")
            },
            ExplainTarget::Group => Target {
                kind: TargetKind::Group,
                upn: None,
                department: None,
                ..person("group", "a group")
            },
            ExplainTarget::Tenant => Target {
                kind: TargetKind::Tenant,
                id: "explain".into(),
                upn: None,
                department: None,
                ..person("explain", "the directory")
            },
            ExplainTarget::OwnDevice | ExplainTarget::Device => Target {
                kind: TargetKind::Device,
                upn: None,
                department: None,
                owner: Some(
                    if matches!(self.target, ExplainTarget::OwnDevice) {
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
}
