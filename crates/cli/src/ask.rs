//! `steward ask`: through a running Steward, or in-process against a seeded simulator.

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use serde_json::{Value, json};
use steward_connectors::msgraph::RetryPolicy;
use steward_domain::report::{TurnReport, TurnStatus};
use steward_domain::{Channel, ConversationId};
use steward_store::Store;

use crate::cli::AskArgs;
use crate::demo::{read_seed, server_file, start_tenant};
use crate::render;

/// The address of a running Steward, if `--server` says so or a demo recorded one that answers.
pub async fn running_server(
    explicit: Option<&str>,
    data_dir: &Path,
) -> anyhow::Result<Option<String>> {
    if let Some(url) = explicit {
        return Ok(Some(url.trim_end_matches('/').to_owned()));
    }
    let Ok(text) = std::fs::read_to_string(server_file(data_dir)) else {
        return Ok(None);
    };
    let Some(url) = serde_json::from_str::<Value>(&text)
        .ok()
        .and_then(|v| v.get("url").and_then(Value::as_str).map(str::to_owned))
    else {
        return Ok(None);
    };
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()?;
    match client.get(format!("{url}/healthz")).send().await {
        Ok(r) if r.status().is_success() => Ok(Some(url)),
        _ => Ok(None),
    }
}

/// Posts to the API and turns its error body into an error.
pub async fn post(url: &str, body: &Value) -> anyhow::Result<Value> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(300))
        .build()?;
    let response = client
        .post(url)
        .json(body)
        .send()
        .await
        .with_context(|| format!("cannot reach Steward at {url}"))?;
    let status = response.status();
    let value: Value = response
        .json()
        .await
        .context("Steward answered something that is not JSON")?;
    if !status.is_success() {
        let message = value
            .pointer("/error/message")
            .and_then(Value::as_str)
            .unwrap_or("unknown error");
        anyhow::bail!("{message}");
    }
    Ok(value)
}

pub async fn run(args: AskArgs) -> anyhow::Result<ExitCode> {
    let message = args.message.join(" ");
    let conversation: Option<ConversationId> = args
        .conversation
        .as_deref()
        .map(|c| {
            c.parse()
                .map_err(|_| anyhow::anyhow!("`{c}` is not a conversation id"))
        })
        .transpose()?;
    let server = if args.seed.is_some() {
        None
    } else {
        running_server(args.server.as_deref(), &args.data_dir).await?
    };
    let report: TurnReport = match server {
        Some(url) => {
            let body = json!({"as": args.requester, "message": message, "conversationId": conversation, "channel": "cli", "dryRun": args.dry_run});
            serde_json::from_value(post(&format!("{url}/api/v1/ask"), &body).await?)
                .context("unexpected answer from Steward")?
        }
        None => {
            eprintln!(
                "(no running Steward found; running one in-process against a fresh simulated tenant — its changes last only for this command)"
            );
            let seed = read_seed(args.seed.as_deref())?;
            std::fs::create_dir_all(&args.data_dir)?;
            let store = Store::open(&args.data_dir.join("steward.db")).await?;
            let tenant = start_tenant(seed, &store, &args.data_dir, RetryPolicy::default()).await?;
            let report = if args.dry_run {
                tenant
                    .runtime
                    .handle_dry_run(&args.requester, Channel::Cli, &message)
                    .await?
            } else {
                tenant
                    .runtime
                    .handle(&args.requester, Channel::Cli, &message, conversation)
                    .await?
            };
            // This process ends here: sign the records it wrote.
            store.sign_pending_checkpoints().await?;
            report
        }
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", render::turn(&report));
    }
    Ok(match report.status {
        TurnStatus::Resolved
        | TurnStatus::Answered
        | TurnStatus::AwaitingRequester
        | TurnStatus::AwaitingApproval => ExitCode::SUCCESS,
        TurnStatus::Escalated => ExitCode::from(3),
    })
}
