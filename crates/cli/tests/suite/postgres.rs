//! Steward end to end with its store on PostgreSQL: a request resolved, one approved by an IT
//! admin, and the binary's operator tools (`--database URL`) reading the same database.

use std::process::Command;

use steward_agent::ApprovalDecision;
use steward_domain::report::{ActionStatus, TurnStatus};
use steward_store::ApprovalStatus;

use super::support::{Harness, upn};

#[tokio::test]
async fn requests_and_approvals_run_on_postgres_and_the_tools_verify_it() -> anyhow::Result<()> {
    let (h, url) = Harness::on_postgres().await?;
    assert_eq!(h.store.backend(), "postgres");

    let report = h.ask("adele", "I'm locked out").await?;
    assert_eq!(report.status, TurnStatus::Resolved, "{}", report.reply);

    let (report, id) = h.awaiting_approval("tom", "my account is disabled").await?;
    h.runtime()
        .decide_approval(id, &upn("nestor"), ApprovalDecision::ApproveOnce)
        .await?;
    assert_eq!(
        h.runtime().store.approval(id).await?.status,
        ApprovalStatus::Executed
    );
    assert_eq!(h.user("tom").await?["accountEnabled"], true);
    assert!(
        report.actions[0].status == ActionStatus::PendingApproval,
        "{:?}",
        report.actions[0].status
    );
    h.store.sign_pending_checkpoints().await?;

    let data = h.data_dir().to_string_lossy().into_owned();
    let steward = || Command::new(env!("CARGO_BIN_EXE_steward"));
    let verify = steward()
        .args(["audit", "verify", "--data-dir", &data, "--database", &url])
        .output()?;
    let text = String::from_utf8_lossy(&verify.stdout);
    assert!(
        verify.status.success() && text.contains("intact"),
        "{text}{}",
        String::from_utf8_lossy(&verify.stderr)
    );

    let export = steward()
        .args(["audit", "export", "--format", "ocsf", "--data-dir", &data])
        .env("STEWARD_DATABASE_URL", &url)
        .output()?;
    assert!(
        export.status.success(),
        "{}",
        String::from_utf8_lossy(&export.stderr)
    );
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&export.stdout)
        .lines()
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    let stored = h.runtime().store.audit_records(None).await?;
    assert_eq!(lines.len(), stored.len());
    assert!(lines.iter().all(|l| l["class_uid"] == 6003));

    let approvals = steward()
        .args([
            "approvals",
            "list",
            "--all",
            "--json",
            "--data-dir",
            &data,
            "--database",
            &url,
        ])
        .output()?;
    let listed: serde_json::Value = serde_json::from_slice(&approvals.stdout)?;
    assert!(listed.to_string().contains(&id.to_string()), "{listed}");

    // Tampering with the PostgreSQL rows is caught like tampering with the file.
    h.store
        .execute_unchecked(
            "UPDATE audit_records SET entry = replace(entry, 'adele@', 'eve@') WHERE seq = 2",
        )
        .await?;
    let verify = steward()
        .args(["audit", "verify", "--data-dir", &data, "--database", &url])
        .output()?;
    assert_eq!(verify.status.code(), Some(1));
    Ok(())
}
