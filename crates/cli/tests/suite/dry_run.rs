//! `ask --dry-run`: the plan with every change decided by policy and previewed, nothing changed.

use std::process::Command;

use anyhow::Context as _;
use serde_json::Value;
use steward_domain::Channel;
use steward_domain::Outcome;
use steward_domain::report::ActionStatus;

use super::support::{Harness, upn};

#[tokio::test]
async fn a_dry_run_decides_and_previews_every_change_and_makes_none() -> anyhow::Result<()> {
    let h = Harness::new().await?;
    let before = h.user("adele").await?;
    let report = h
        .runtime()
        .handle_dry_run(
            &upn("adele"),
            Channel::Cli,
            "I forgot my password and now I'm locked out",
        )
        .await?;
    assert!(report.dry_run);
    assert_eq!(report.intent.as_deref(), Some("signin.trouble"));
    // The investigation ran for real: the plan rests on the sign-in log.
    assert!(
        report
            .investigations
            .iter()
            .any(|i| i.action == "entra.signins.list")
    );
    let actions: Vec<&str> = report.actions.iter().map(|a| a.action.as_str()).collect();
    assert_eq!(
        actions,
        ["entra.user.reset_password", "entra.user.revoke_sessions"]
    );
    for a in &report.actions {
        assert_eq!(a.status, ActionStatus::Planned, "{a:?}");
        assert_eq!(a.decision.outcome, Outcome::Auto);
        assert!(a.approval_id.is_none());
    }
    // Nothing was written to the tenant, and no secret was made.
    assert_eq!(h.user("adele").await?, before);
    assert!(h.directory_audits().await?.is_empty(), "Graph saw no write");
    assert!(!report.reply.contains("Temporary password for"));
    Ok(())
}

#[tokio::test]
async fn a_dry_run_shows_refusals_and_approvals_as_policy_would_decide_them() -> anyhow::Result<()>
{
    let h = Harness::new().await?;
    // Someone else's password in self-service: refused, as for real.
    let refused = h
        .runtime()
        .handle_dry_run(&upn("leo"), Channel::Cli, "reset Bob's password")
        .await?;
    let reset = refused
        .actions
        .iter()
        .find(|a| a.action == "entra.user.reset_password")
        .context("proposed")?;
    assert_eq!(reset.status, ActionStatus::Denied);
    // A disabled account's re-enable would wait for an approval: the plan says so, and no
    // approval request is created.
    let waiting = h
        .runtime()
        .handle_dry_run(&upn("tom"), Channel::Cli, "my account is disabled")
        .await?;
    let enable = waiting
        .actions
        .iter()
        .find(|a| a.action == "entra.user.enable")
        .context("proposed")?;
    assert_eq!(enable.status, ActionStatus::Planned);
    assert_eq!(enable.decision.outcome, Outcome::Ask);
    assert!(
        enable.preview.iter().any(|c| c.field == "accountEnabled"),
        "{:?}",
        enable.preview
    );
    assert!(h.runtime().approvals(true).await?.is_empty());
    assert_eq!(h.user("tom").await?["accountEnabled"], false);
    Ok(())
}

#[test]
fn the_command_line_prints_the_plan_marked_as_a_dry_run() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let out = Command::new(env!("CARGO_BIN_EXE_steward"))
        .args([
            "ask",
            "--dry-run",
            "--json",
            "--seed",
            "../sim/seeds/demo.json",
            "--data-dir",
        ])
        .arg(dir.path())
        .args([
            "--as",
            &upn("zoe"),
            "I'm back, please turn off my out of office",
        ])
        .output()?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout)?;
    assert_eq!(report["dryRun"], true);
    assert_eq!(
        report["actions"][0]["action"],
        "exchange.auto_reply.disable"
    );
    assert_eq!(report["actions"][0]["status"], "planned");
    Ok(())
}
