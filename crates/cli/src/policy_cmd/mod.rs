//! `steward policy validate`, `explain`, `test` and `prove`.

mod hypothetical;
mod table;

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use serde_json::json;
use steward_policy::{PolicyEngine, PolicySource};

use crate::cli::{ExplainArgs, PolicyArgs, PolicyCommand};
use crate::wiring::policy_sources;
use hypothetical::Hypothetical;

/// What the policies are loaded against: the catalog, and the accepted integrations' policies
/// that join the tenant's files (none without a store).
pub(crate) struct PolicyContext {
    catalog: Vec<steward_domain::ActionSpec>,
    accepted: Vec<PolicySource>,
}

impl PolicyContext {
    /// The built-in systems, plus — when a store is named — the tenant's imported integrations
    /// as a running Steward knows them (every imported one's actions; the enabled ones' accepted
    /// policies).
    async fn of(args: &PolicyArgs) -> anyhow::Result<Self> {
        let mut catalog = steward_connectors::builtin_catalog();
        let mut accepted = Vec::new();
        if args.data_dir.is_some() || args.database.is_some() {
            let data_dir = args
                .data_dir
                .clone()
                .unwrap_or_else(|| std::path::PathBuf::from("steward-data"));
            let store = crate::database::open_existing(args.database.as_deref(), &data_dir).await?;
            let tenant = crate::integrations_cmd::tenant_of(&store, args.tenant.as_deref()).await?;
            for row in tenant.integrations().await? {
                let integration: steward_openapi::Integration =
                    serde_json::from_value(row.definition).with_context(|| {
                        format!("the stored integration `{}` is unreadable", row.name)
                    })?;
                catalog.extend(integration.actions());
                if row.status == "enabled" {
                    accepted.push(PolicySource {
                        origin: format!(
                            "{}{}",
                            steward_agent::integrations::POLICY_ORIGIN_PREFIX,
                            row.name
                        ),
                        text: row.policy,
                        global: false,
                    });
                }
            }
        }
        Ok(Self { catalog, accepted })
    }

    pub(crate) fn catalog(&self) -> &[steward_domain::ActionSpec] {
        &self.catalog
    }

    /// The engine over `dir`'s files (or the default set) with the accepted policies.
    pub(crate) fn engine(&self, dir: Option<&Path>) -> anyhow::Result<(PolicyEngine, usize)> {
        let mut sources = policy_sources(dir)?;
        sources.extend(self.accepted.iter().cloned());
        let engine = PolicyEngine::new(&self.catalog, &sources).map_err(|e| {
            let hint = if self.accepted.is_empty() && e.to_string().contains("Action::") {
                "\n(if a policy names an imported integration's actions, pass --data-dir or --database so they are known)"
            } else {
                ""
            };
            anyhow::anyhow!("{e}{hint}")
        })?;
        Ok((engine, sources.len()))
    }
}

/// Runs a `steward policy` command.
pub async fn run(args: PolicyArgs) -> anyhow::Result<ExitCode> {
    let ctx = PolicyContext::of(&args).await?;
    match args.command {
        PolicyCommand::Validate { dir, policy_dir } => {
            let (engine, files) = ctx.engine(dir.as_deref().or(policy_dir.as_deref()))?;
            let hash = engine.policy_set_hash();
            println!(
                "{} policies in {files} files are valid (policy set {})",
                engine.policy_count(),
                hash.get(..16).unwrap_or(hash)
            );
            Ok(ExitCode::SUCCESS)
        }
        PolicyCommand::Explain(a) => explain(&ctx, a),
        PolicyCommand::Test { file, policy_dir } => table::run(&ctx, &file, policy_dir.as_deref()),
        PolicyCommand::Prove { dir } => prove(&ctx, dir.as_deref()).await,
    }
}

async fn prove(ctx: &PolicyContext, dir: Option<&Path>) -> anyhow::Result<ExitCode> {
    let (engine, _) = ctx.engine(dir)?;
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

fn explain(ctx: &PolicyContext, a: ExplainArgs) -> anyhow::Result<ExitCode> {
    let (engine, _) = ctx.engine(a.policy_dir.as_deref())?;
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
    let catalog = ctx.catalog();
    let (target, decision) = h.decide(&engine, catalog)?;
    let effect = h.approval_effect(&engine, catalog, &decision)?;
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
