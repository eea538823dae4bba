//! `steward policy validate` and `steward policy explain`.

use std::process::ExitCode;

use serde_json::json;
use steward_domain::{ActionName, Channel, Principal, Target, TargetKind, TenantId};
use steward_policy::{ApprovalContext, DecisionRequest, PolicyEngine};

use crate::cli::{ExplainArgs, ExplainTarget, PolicyArgs, PolicyCommand};
use crate::wiring::policy_sources;

fn catalog() -> Vec<steward_domain::ActionSpec> {
    steward_connectors::msgraph::catalog()
}

pub fn run(args: PolicyArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        PolicyCommand::Validate { policy_dir } => {
            let sources = policy_sources(policy_dir.as_deref())?;
            let engine = PolicyEngine::new(&catalog(), &sources)?;
            println!(
                "{} policies in {} files are valid (policy set {})",
                engine.policy_count(),
                sources.len(),
                &engine.policy_set_hash()[..16]
            );
            Ok(ExitCode::SUCCESS)
        }
        PolicyCommand::Explain(a) => explain(a),
    }
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

fn explain(a: ExplainArgs) -> anyhow::Result<ExitCode> {
    let catalog = catalog();
    let action = ActionName::new(a.action.clone())?;
    let Some(spec) = catalog.iter().find(|s| s.name == action) else {
        anyhow::bail!(
            "`{}` is not an action Steward offers; known: {}",
            a.action,
            catalog
                .iter()
                .map(|s| s.name.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    };
    let engine = PolicyEngine::new(&catalog, &policy_sources(a.policy_dir.as_deref())?)?;
    let tenant = TenantId::new("explain")?;
    let principal = Principal {
        tenant,
        directory_id: "requester".into(),
        upn: "requester@example.invalid".into(),
        display_name: "the requester".into(),
        department: None,
        it_admin: a.it_admin,
        privileged: false,
    };
    let person = |id: &str, name: &str| Target {
        kind: TargetKind::Person,
        id: id.into(),
        display_name: name.into(),
        upn: Some(format!("{id}@example.invalid")),
        department: a.department.clone(),
        groups: Vec::new(),
        privileged: false,
        protected: false,
    };
    let target = match a.target {
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
    };
    let decision = engine.decide(&DecisionRequest {
        principal: &principal,
        action: &action,
        target: &target,
        channel: channel(&a.channel)?,
        blast_radius: a.blast_radius,
        risk: spec.risk.score(),
        local_hour: 12,
        approval: ApprovalContext {
            granted: a.approved,
            by_other: a.approved,
        },
    });
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(
                &json!({"action": a.action, "target": target, "decision": decision})
            )?
        );
    } else {
        println!(
            "{} by {} on {} → {}",
            a.action,
            if a.it_admin {
                "an IT admin"
            } else {
                "an employee (self-service)"
            },
            target.display_name,
            decision.outcome
        );
        for p in &decision.deciding {
            println!("  deciding: {} ({})", p.id, p.layer);
        }
        for p in &decision.gates {
            println!("  approval lifts: {} ({})", p.id, p.layer);
        }
        println!("  {}", decision.reason);
        for e in &decision.errors {
            println!("  error: {e}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
