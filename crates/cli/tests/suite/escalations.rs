//! Escalations with full context: what a person needs to take a request over, queued once,
//! readable from the command line and the API, closed once.

use std::process::Command;

use anyhow::Context as _;
use serde_json::Value;
use steward_domain::Channel;
use steward_domain::report::TurnStatus;

use super::support::{Harness, upn};

#[tokio::test]
async fn a_hand_over_is_queued_with_the_transcript_what_was_tried_and_a_next_step()
-> anyhow::Result<()> {
    let h = Harness::new().await?;
    // An employee asks for a group Steward may not give them: refused by policy, handed over.
    let report = h.ask("sam", "please add me to VPN Users").await?;
    assert_eq!(report.status, TurnStatus::Escalated, "{}", report.reply);
    let id = report
        .escalation
        .as_ref()
        .and_then(|e| e.id.clone())
        .context("the escalation is queued")?;
    assert!(
        report.reply.contains(id.get(..8).unwrap_or_default()),
        "{}",
        report.reply
    );

    let queued = h.runtime().store.escalation(&id).await?;
    assert_eq!(queued.status, "open");
    assert_eq!(queued.requester, upn("sam"));
    let b = &queued.bundle;
    assert_eq!(b["transcript"][0], "please add me to VPN Users");
    assert_eq!(b["requester"]["itAdmin"], false);
    let tried = b["thisTurn"]["actions"].as_array().context("actions")?;
    let add = tried
        .iter()
        .find(|a| a["action"] == "entra.group.add_member")
        .context("the refused change is in the bundle")?;
    assert_eq!(add["status"], "denied");
    assert_eq!(add["decision"]["outcome"], "deny");
    assert!(!add["auditIds"].as_array().context("ids")?.is_empty());
    assert!(
        b["suggestedNextStep"]
            .as_str()
            .unwrap_or_default()
            .contains("refused change")
    );
    assert!(!b["auditIds"].as_array().context("ids")?.is_empty());

    // Only open ones by default; a dry run queues nothing.
    assert_eq!(h.runtime().store.escalations(true).await?.len(), 1);
    let planned = h
        .runtime()
        .handle_dry_run(
            &upn("leo"),
            Channel::Cli,
            "the printer on floor 3 is jammed",
        )
        .await?;
    assert_eq!(planned.status, TurnStatus::Escalated);
    assert!(planned.escalation.as_ref().is_some_and(|e| e.id.is_none()));
    assert_eq!(h.runtime().store.escalations(false).await?.len(), 1);

    assert!(
        h.runtime()
            .store
            .close_escalation(&id, &upn("hank"))
            .await?
    );
    assert!(
        !h.runtime()
            .store
            .close_escalation(&id, &upn("hank"))
            .await?,
        "closed once"
    );
    assert!(h.runtime().store.escalations(true).await?.is_empty());
    assert_eq!(h.runtime().store.escalations(false).await?.len(), 1);
    Ok(())
}

#[test]
fn the_queue_from_the_command_line() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let run = |args: &[&str]| -> anyhow::Result<std::process::Output> {
        Ok(Command::new(env!("CARGO_BIN_EXE_steward"))
            .args(args)
            .arg("--data-dir")
            .arg(dir.path())
            .output()?)
    };
    let asked = run(&[
        "ask",
        "--seed",
        "../sim/seeds/demo.json",
        "--as",
        &upn("lucy"),
        "I need access to the sales@larkspur.example shared mailbox",
    ])?;
    assert_eq!(
        asked.status.code(),
        Some(3),
        "escalated: {}",
        String::from_utf8_lossy(&asked.stderr)
    );
    let listed = run(&["escalations", "list", "--json"])?;
    assert!(
        listed.status.success(),
        "{}",
        String::from_utf8_lossy(&listed.stderr)
    );
    let items: Value = serde_json::from_slice(&listed.stdout)?;
    let first = &items[0];
    assert_eq!(first["requester"], upn("lucy"));
    assert_eq!(first["bundle"]["intent"], "mailbox.shared_access");
    let id = first["id"].as_str().context("id")?.to_owned();
    let shown = run(&["escalations", "show", &id])?;
    let text = String::from_utf8_lossy(&shown.stdout);
    assert!(
        text.contains("next step:") && text.contains("shared mailbox"),
        "{text}"
    );
    let closed = run(&["escalations", "close", &id, "--as", &upn("hank")])?;
    assert!(
        closed.status.success(),
        "{}",
        String::from_utf8_lossy(&closed.stderr)
    );
    let again = run(&["escalations", "close", &id, "--as", &upn("hank")])?;
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already closed"));
    let open = run(&["escalations", "list"])?;
    assert!(String::from_utf8_lossy(&open.stdout).contains("no open escalations"));
    Ok(())
}
