//! `steward actions list [--json]`: the whole action catalogue — what Steward can do, in which
//! system, whether it changes anything, how risky it is, the vendor permission it needs, the vendor
//! calls it makes and whether it can be undone.

use std::process::ExitCode;

use serde_json::json;
use steward_domain::ActionSpec;

use crate::cli::{ActionsArgs, ActionsCommand};

/// Every connector's catalogue, in name order.
fn catalogue() -> Vec<ActionSpec> {
    let mut all = steward_connectors::builtin_catalog();
    all.sort_by(|a, b| a.name.cmp(&b.name));
    all
}

/// Prints the catalogue.
pub fn run(args: ActionsArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        ActionsCommand::List { json } => {
            let all = catalogue();
            if json {
                let items: Vec<_> = all
                    .iter()
                    .map(|a| {
                        json!({
                            "name": a.name,
                            "system": a.system(),
                            "summary": a.summary,
                            "mutating": a.mutating,
                            "risk": a.risk.as_str(),
                            "permissions": a.permissions,
                            "calls": a.calls,
                            "undo": a.undo,
                            "verification": a.verification,
                            "paramsSchema": a.params_schema,
                        })
                    })
                    .collect();
                println!(
                    "{}",
                    serde_json::to_string_pretty(&json!({"actions": items}))?
                );
                return Ok(ExitCode::SUCCESS);
            }
            let width = all.iter().map(|a| a.name.as_str().len()).max().unwrap_or(0);
            let system = all
                .iter()
                .map(|a| a.system().len())
                .max()
                .unwrap_or(6)
                .max(6);
            let undo = all
                .iter()
                .filter_map(|a| a.undo.as_ref().map(|u| u.as_str().len()))
                .max()
                .unwrap_or(4)
                .max(4);
            // An action making several calls lists the permissions they accept together: each
            // call accepts one of them (`--json` has the calls).
            println!(
                "{:<width$}  {:<system$}  {:<6}  {:<8}  {:<undo$}  DELEGATED PERMISSIONS (each call accepts one)",
                "ACTION", "SYSTEM", "KIND", "RISK", "UNDO"
            );
            for a in &all {
                println!(
                    "{:<width$}  {:<system$}  {:<6}  {:<8}  {:<undo$}  {}",
                    a.name.as_str(),
                    a.system(),
                    if a.mutating { "change" } else { "read" },
                    a.risk.as_str(),
                    a.undo.as_ref().map_or("-", |u| u.as_str()),
                    a.permissions.join(", "),
                );
            }
            println!(
                "\n{} actions ({} change something). `--json` adds each one's vendor calls, parameters schema and read-back.",
                all.len(),
                all.iter().filter(|a| a.mutating).count()
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}
