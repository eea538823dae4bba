//! `steward escalations`: the queue of requests handed to the IT team, each with its full
//! hand-over bundle, read from the database (every tenant), and closed once taken care of.

use std::process::ExitCode;

use serde_json::{Value, json};
use steward_store::EscalationRow;

use crate::cli::{EscalationsArgs, EscalationsCommand};

fn text<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

fn as_json(tenant: &str, r: &EscalationRow) -> Value {
    json!({"tenant": tenant, "id": r.id, "status": r.status, "requester": r.requester,
           "conversationId": r.conversation, "createdAt": r.created_at,
           "closedAt": r.closed.as_ref().map(|c| &c.0), "closedBy": r.closed.as_ref().map(|c| &c.1),
           "ticket": r.ticket, "bundle": r.bundle})
}

/// One escalation for people: why, what was found, what was tried, what to do next.
fn render(e: &Value) -> String {
    let b = &e["bundle"];
    let mut out = format!(
        "{}  [{}] from {} ({}), {}\n  reason: {}\n  next step: {}\n",
        text(e, "/id"),
        text(e, "/status"),
        text(e, "/requester"),
        text(b, "/channel"),
        text(e, "/createdAt"),
        text(b, "/reason"),
        text(b, "/suggestedNextStep"),
    );
    match (e["ticket"].pointer("/key"), e["ticket"].pointer("/error")) {
        (Some(key), _) => out.push_str(&format!(
            "  filed: {} {} — {}\n",
            text(e, "/ticket/system"),
            key.as_str().unwrap_or_default(),
            text(e, "/ticket/url")
        )),
        (None, Some(error)) => out.push_str(&format!(
            "  not filed in {}: {}\n",
            text(e, "/ticket/system"),
            error.as_str().unwrap_or_default()
        )),
        _ => {}
    }
    for m in b["transcript"].as_array().into_iter().flatten() {
        out.push_str(&format!("  said: {}\n", m.as_str().unwrap_or_default()));
    }
    for f in b["findings"].as_array().into_iter().flatten() {
        out.push_str(&format!(
            "  found: {} — {}\n",
            text(f, "/code"),
            text(f, "/detail")
        ));
    }
    for a in b
        .pointer("/thisTurn/actions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        out.push_str(&format!(
            "  tried: {} — {} (policy: {})\n",
            text(a, "/action"),
            text(a, "/status"),
            text(a, "/decision/outcome")
        ));
    }
    let ids: Vec<String> = b["auditIds"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|i| format!("#{i}"))
        .collect();
    if !ids.is_empty() {
        out.push_str(&format!("  audit records: {}\n", ids.join(" ")));
    }
    out
}

pub async fn run(args: EscalationsArgs) -> anyhow::Result<ExitCode> {
    let store = crate::database::open_existing(args.database.as_deref(), &args.data_dir).await?;
    match args.command {
        EscalationsCommand::List { all, json } => {
            let mut items = Vec::new();
            for t in store.tenants().await? {
                for r in store.tenant(&t).await?.escalations(!all).await? {
                    items.push(as_json(t.as_str(), &r));
                }
            }
            if json {
                println!("{}", serde_json::to_string_pretty(&items)?);
            } else if items.is_empty() {
                println!("no {}escalations", if all { "" } else { "open " });
            } else {
                for i in &items {
                    print!("{}", render(i));
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        EscalationsCommand::Show { id, json } => {
            for t in store.tenants().await? {
                match store.tenant(&t).await?.escalation(&id).await {
                    Ok(r) => {
                        let item = as_json(t.as_str(), &r);
                        if json {
                            println!("{}", serde_json::to_string_pretty(&item)?);
                        } else {
                            print!("{}", render(&item));
                        }
                        return Ok(ExitCode::SUCCESS);
                    }
                    Err(steward_store::StoreError::NotFound { .. }) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            anyhow::bail!("no escalation `{id}`")
        }
        EscalationsCommand::Close { id, by } => {
            for t in store.tenants().await? {
                let tenant = store.tenant(&t).await?;
                match tenant.escalation(&id).await {
                    Ok(_) => {
                        if tenant.close_escalation(&id, &by).await? {
                            println!("escalation {id} closed by {by}");
                            return Ok(ExitCode::SUCCESS);
                        }
                        anyhow::bail!("escalation `{id}` is already closed");
                    }
                    Err(steward_store::StoreError::NotFound { .. }) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            anyhow::bail!("no escalation `{id}`")
        }
    }
}
