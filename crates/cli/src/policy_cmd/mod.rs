//! `steward policy validate`, `explain`, `test` and `prove`.

mod hypothetical;
mod table;

use std::path::Path;
use std::process::ExitCode;

use serde_json::json;
use steward_policy::PolicyEngine;

use crate::cli::{ExplainArgs, PolicyArgs, PolicyCommand};
use crate::wiring::policy_sources;
use hypothetical::Hypothetical;

fn catalog() -> Vec<steward_domain::ActionSpec> {
    steward_connectors::builtin_catalog()
}

fn engine(dir: Option<&Path>) -> anyhow::Result<(PolicyEngine, usize)> {
    let sources = policy_sources(dir)?;
    Ok((PolicyEngine::new(&catalog(), &sources)?, sources.len()))
}

/// Runs a `steward policy` command.
pub async fn run(args: PolicyArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        PolicyCommand::Validate { dir, policy_dir } => {
            let (engine, files) = engine(dir.as_deref().or(policy_dir.as_deref()))?;
            let hash = engine.policy_set_hash();
            println!(
                "{} policies in {files} files are valid (policy set {})",
                engine.policy_count(),
                hash.get(..16).unwrap_or(hash)
            );
            Ok(ExitCode::SUCCESS)
        }
        PolicyCommand::Explain(a) => explain(a),
        PolicyCommand::Test { file, policy_dir } => table::run(&file, policy_dir.as_deref()),
        PolicyCommand::Prove { dir } => prove(dir.as_deref()).await,
    }
}

async fn prove(dir: Option<&Path>) -> anyhow::Result<ExitCode> {
    let (engine, _) = engine(dir)?;
    let report = steward_prove::prove(&engine).await?;
    println!(
        "{} invariant checks over {} request kinds (policy set {})",
        report.checks,
        report.environments,
        engine.policy_set_hash().get(..16).unwrap_or_default()
    );
    for inv in steward_prove::INVARIANTS {
        match report.violations.iter().find(|v| v.invariant == inv.id) {
            None => println!("holds   {}: {}", inv.id, inv.statement),
            Some(v) => {
                println!("BROKEN  {}: {}", inv.id, inv.statement);
                println!("        counterexample (a request the set allows):");
                for line in v.counterexample.lines() {
                    println!("          {line}");
                }
            }
        }
    }
    Ok(if report.holds() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn explain(a: ExplainArgs) -> anyhow::Result<ExitCode> {
    let (engine, _) = engine(a.policy_dir.as_deref())?;
    let h = Hypothetical {
        action: a.action.clone(),
        it_admin: a.it_admin,
        target: a.target.into(),
        department: a.department.clone(),
        channel: a.channel.clone(),
        approved: a.approved,
        blast_radius: a.blast_radius,
        recent_count: a.recent_count,
        local_hour: a.local_hour,
    };
    let catalog = catalog();
    let (target, decision) = h.decide(&engine, &catalog)?;
    let effect = h.approval_effect(&engine, &catalog, &decision)?;
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({
                "action": a.action,
                "target": target,
                "decision": decision,
                "withApproval": effect.by_other,
                "withOwnApproval": effect.by_self,
                "approveAlwaysOffered": effect.always_offered,
                "approveAlwaysRefused": effect.always_refused,
                "standingRule": effect.standing_rule,
            }))?
        );
        return Ok(ExitCode::SUCCESS);
    }
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
    print_approval_effect(&decision, &effect);
    Ok(ExitCode::SUCCESS)
}

fn print_approval_effect(
    decision: &steward_domain::Decision,
    effect: &steward_policy::ApprovalEffect,
) {
    use steward_domain::Outcome;
    let (Some(by_other), Some(by_self)) = (&effect.by_other, &effect.by_self) else {
        if decision.outcome == Outcome::Auto {
            println!("  an approval would change nothing: no approval is needed");
        }
        return;
    };
    let named = |d: &steward_domain::Decision| {
        d.deciding
            .iter()
            .map(|p| format!("{} ({})", p.id, p.layer))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if decision.outcome == Outcome::Deny {
        println!(
            "  an approval would not change this: still {} ({})",
            by_other.outcome,
            if by_other.deciding.is_empty() {
                "no policy permits it".to_owned()
            } else {
                named(by_other)
            }
        );
        return;
    }
    println!(
        "  approved by someone else → {} ({})",
        by_other.outcome,
        named(by_other)
    );
    if by_self.outcome != by_other.outcome {
        println!(
            "  approved by the requester themselves → {} ({})",
            by_self.outcome,
            named(by_self)
        );
    }
    if effect.always_offered {
        println!("  \"approve always\" is offered; it would link, with the chosen scope:");
        for line in effect.standing_rule.iter().flat_map(|r| r.lines()) {
            println!("    {line}");
        }
    } else {
        println!(
            "  \"approve always\" is not offered: {}",
            effect.always_refused.as_deref().unwrap_or_default()
        );
    }
}
