//! `steward approvals`: list from the database; decide through the running Steward, which holds
//! the tenant's connection and runs the approved action.

use std::process::ExitCode;

use anyhow::Context as _;
use serde_json::{Value, json};
use steward_store::ApprovalStatus;

use crate::ask::{post, running_server};
use crate::cli::{AlwaysScope, ApprovalsArgs, ApprovalsCommand};
use crate::render;

pub async fn run(args: ApprovalsArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        ApprovalsCommand::List { all, json } => {
            let store =
                crate::database::open_existing(args.database.as_deref(), &args.data_dir).await?;
            let mut items = Vec::new();
            for t in store.tenants().await? {
                let rows = store
                    .tenant(&t)
                    .await?
                    .approvals((!all).then_some(ApprovalStatus::Pending))
                    .await?;
                for r in rows {
                    let payload = steward_audit::redact(&r.payload);
                    items.push(json!({"tenant": t.as_str(), "id": r.id, "status": r.status.as_str(), "requester": r.requester, "action": r.action,
                                      "createdAt": r.created_at, "decidedBy": r.decided_by, "note": r.note, "request": payload}));
                }
            }
            if json {
                println!("{}", serde_json::to_string_pretty(&items)?);
            } else if items.is_empty() {
                println!("no {}approval requests", if all { "" } else { "pending " });
            } else {
                for i in &items {
                    let s = |p: &str| {
                        i.pointer(p)
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_owned()
                    };
                    let targets: Vec<String> = i
                        .pointer("/request/targets")
                        .and_then(Value::as_array)
                        .map(|t| {
                            t.iter()
                                .map(|t| {
                                    t.get("upn")
                                        .and_then(Value::as_str)
                                        .or_else(|| t.get("displayName").and_then(Value::as_str))
                                        .unwrap_or_default()
                                        .to_owned()
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    println!(
                        "{}  [{}] {} asked for {} on {}",
                        s("/id"),
                        s("/status"),
                        s("/requester"),
                        s("/action"),
                        targets.join(", ")
                    );
                    println!("    why: {}", s("/request/purpose"));
                    for c in i
                        .pointer("/request/preview")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                    {
                        let v = |k: &str| {
                            c.get(k)
                                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                                .unwrap_or_default()
                        };
                        println!(
                            "    change: {} {}: {} → {}",
                            v("target"),
                            v("field"),
                            v("current"),
                            v("proposed")
                        );
                    }
                    println!("    policy: {}", s("/request/decision/reason"));
                    println!(
                        "    offered: {}",
                        i.pointer("/request/decisionsOffered")
                            .map(ToString::to_string)
                            .unwrap_or_default()
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        ApprovalsCommand::Approve {
            id,
            approver,
            json,
            always,
            scope,
            max_uses,
            expires_in_hours,
            only,
        } => {
            let body = if !only.is_empty() {
                json!({"as": approver, "only": only})
            } else if always {
                let scope = match scope {
                    AlwaysScope::Requester => "requester",
                    AlwaysScope::Department => "department",
                };
                json!({"as": approver, "always": {"scope": scope, "maxUses": max_uses, "expiresInHours": expires_in_hours}})
            } else {
                json!({"as": approver})
            };
            decide(&args.server, &args.data_dir, &id, body, "approve", json).await
        }
        ApprovalsCommand::Standing { json } => {
            let store =
                crate::database::open_existing(args.database.as_deref(), &args.data_dir).await?;
            let mut items = Vec::new();
            for t in store.tenants().await? {
                for r in store.tenant(&t).await?.all_standing().await? {
                    items.push(json!({"tenant": t.as_str(), "id": r.id, "action": r.action, "scope": r.scope_label, "approver": r.approver,
                                      "expiresAt": r.expires_at, "maxUses": r.max_uses, "uses": r.uses, "revokedAt": r.revoked_at}));
                }
            }
            if json {
                println!("{}", serde_json::to_string_pretty(&items)?);
            } else if items.is_empty() {
                println!("no standing approvals");
            } else {
                for i in &items {
                    let s = |p: &str| {
                        i.get(p)
                            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                            .unwrap_or_default()
                    };
                    let state = if i["revokedAt"].is_null() {
                        String::new()
                    } else {
                        format!(" [revoked {}]", s("revokedAt"))
                    };
                    println!(
                        "{}  {} for {} — {} of {} uses, until {}, approved by {}{state}",
                        s("id"),
                        s("action"),
                        s("scope"),
                        s("uses"),
                        s("maxUses"),
                        s("expiresAt"),
                        s("approver")
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        ApprovalsCommand::Revoke { id, by } => {
            let url = running_server(args.server.as_deref(), &args.data_dir)
                .await?
                .context("revoking takes effect in the running Steward: start `steward demo` (or `steward serve`) and retry")?;
            post(
                &format!("{url}/api/v1/standing/{id}/revoke"),
                &json!({"as": by}),
            )
            .await?;
            println!("standing approval {id} revoked");
            Ok(ExitCode::SUCCESS)
        }
        ApprovalsCommand::AskInfo {
            id,
            approver,
            question,
            json,
        } => {
            decide(
                &args.server,
                &args.data_dir,
                &id,
                json!({"as": approver, "question": question}),
                "ask-info",
                json,
            )
            .await
        }
        ApprovalsCommand::Deny {
            id,
            approver,
            reason,
            json,
        } => {
            decide(
                &args.server,
                &args.data_dir,
                &id,
                json!({"as": approver, "reason": reason}),
                "deny",
                json,
            )
            .await
        }
    }
}

async fn decide(
    server: &Option<String>,
    data_dir: &std::path::Path,
    id: &str,
    body: Value,
    verb: &str,
    as_json: bool,
) -> anyhow::Result<ExitCode> {
    let url = running_server(server.as_deref(), data_dir)
        .await?
        .context("approvals are carried out by the running Steward, which holds the tenant's connection: start `steward demo` (or `steward serve`) and retry")?;
    let answer = post(&format!("{url}/api/v1/approvals/{id}/{verb}"), &body).await?;
    if as_json {
        println!("{}", serde_json::to_string_pretty(&answer)?);
    } else {
        println!(
            "{}",
            answer
                .get("summary")
                .and_then(Value::as_str)
                .unwrap_or_default()
        );
        if let Some(follow_up) = answer
            .get("followUp")
            .cloned()
            .and_then(|f| serde_json::from_value(f).ok())
        {
            println!();
            print!("{}", render::turn(&follow_up));
        }
    }
    Ok(ExitCode::SUCCESS)
}
