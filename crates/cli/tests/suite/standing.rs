//! "Approve Always": a bounded, visible, revocable standing rule.

use std::time::Duration;

use steward_agent::{ApprovalDecision, StandingScope, StandingTerms};
use steward_domain::report::{ActionStatus, TurnStatus};

use super::support::{Harness, upn};

fn department_always(max_uses: u32) -> ApprovalDecision {
    ApprovalDecision::ApproveAlways(StandingTerms {
        scope: StandingScope::Department,
        max_uses,
        ttl: Duration::from_secs(3600),
    })
}

#[tokio::test]
async fn approve_always_for_a_department_survives_a_restart_then_revoke() -> anyhow::Result<()> {
    let h = Harness::new().await?;
    // Tom (Sales) asks; an IT admin approves always for Sales.
    let report = h.ask("tom", "my account is disabled").await?;
    assert_eq!(report.status, TurnStatus::AwaitingApproval);
    let pending = h
        .runtime()
        .store
        .approval(report.actions[0].approval_id.expect("id"))
        .await?;
    assert!(
        pending.payload["decisionsOffered"]
            .as_array()
            .is_some_and(|d| d.iter().any(|x| x == "approveAlways"))
    );
    // The rule it would create is shown before it is created.
    assert_eq!(
        pending.payload["standingRule"],
        r#"permit (principal in ?principal, action == Action::"entra.user.enable", resource in ?resource);"#
    );
    // The request waits through a restart of Steward (same data directory).
    let h = h.restart().await?;
    let still = h.runtime().store.approval(pending.id).await?;
    assert_eq!(still.status, steward_store::ApprovalStatus::Pending);
    let (summary, _) = h
        .runtime()
        .decide_approval(pending.id, &upn("nestor"), department_always(5))
        .await?;
    assert!(summary.contains("executed"), "{summary}");
    assert_eq!(h.user("tom").await?["accountEnabled"], true);
    let standing = h.runtime().standing_approvals().await?;
    assert_eq!(standing.len(), 1);
    assert!(
        standing[0].scope_label.contains("Sales"),
        "{}",
        standing[0].scope_label
    );

    // The next similar request in Sales runs without asking.
    h.disable("chloe").await?;
    let report = h.ask("chloe", "my account has been disabled").await?;
    assert_eq!(report.status, TurnStatus::Resolved, "{}", report.reply);
    assert_eq!(report.actions[0].decision.deciding[0].id, standing[0].id);
    assert_eq!(h.user("chloe").await?["accountEnabled"], true);
    assert_eq!(h.runtime().standing_approvals().await?[0].uses, 1);

    // One in another department still asks.
    h.disable("mei").await?;
    let report = h.ask("mei", "my account is disabled").await?;
    assert_eq!(
        report.status,
        TurnStatus::AwaitingApproval,
        "{}",
        report.reply
    );
    assert_eq!(report.actions[0].status, ActionStatus::PendingApproval);

    // Only an IT admin revokes; after revocation Sales asks again.
    assert!(
        h.runtime()
            .revoke_standing(&standing[0].id, &upn("adele"))
            .await
            .is_err()
    );
    h.runtime()
        .revoke_standing(&standing[0].id, &upn("nestor"))
        .await?;
    h.disable("diego").await?;
    let report = h.ask("diego", "my account is disabled").await?;
    assert_eq!(
        report.status,
        TurnStatus::AwaitingApproval,
        "{}",
        report.reply
    );

    let amendments: Vec<String> = h
        .runtime()
        .store
        .audit_records(None)
        .await?
        .into_iter()
        .filter(|r| r.entry.kind.to_string() == "policyAmendment")
        .filter_map(|r| r.entry.outcome)
        .collect();
    for expected in ["standingCreated", "standingUsed", "standingRevoked"] {
        assert!(
            amendments.iter().any(|a| a == expected),
            "{expected} missing from {amendments:?}"
        );
    }
    assert!(h.runtime().store.verify_audit().await?.intact());
    Ok(())
}

#[tokio::test]
async fn a_standing_approval_ends_when_its_uses_run_out_and_survives_a_restart()
-> anyhow::Result<()> {
    let h = Harness::new().await?;
    let report = h.ask("tom", "my account is disabled").await?;
    let id = report.actions[0].approval_id.expect("id");
    h.runtime()
        .decide_approval(id, &upn("nestor"), department_always(1))
        .await?;
    let h = h.restart().await?;
    // Persisted and linked again after the restart: one use left.
    h.disable("chloe").await?;
    let chloe = h.ask("chloe", "my account is disabled").await?;
    assert_eq!(chloe.status, TurnStatus::Resolved, "{}", chloe.reply);
    // Used up: the next one asks.
    h.disable("diego").await?;
    assert_eq!(
        h.ask("diego", "my account is disabled").await?.status,
        TurnStatus::AwaitingApproval
    );
    Ok(())
}

#[tokio::test]
async fn approve_always_is_refused_without_a_scope_it_can_name() -> anyhow::Result<()> {
    // Tom has a department; a person with none cannot get a department-wide rule. Here: a bad
    // request (zero uses) is refused and the approval stays pending.
    let h = Harness::new().await?;
    let report = h.ask("tom", "my account is disabled").await?;
    let id = report.actions[0].approval_id.expect("id");
    assert!(
        h.runtime()
            .decide_approval(id, &upn("nestor"), department_always(0))
            .await
            .is_err()
    );
    assert_eq!(
        h.runtime().store.approval(id).await?.status,
        steward_store::ApprovalStatus::Pending
    );
    assert!(h.runtime().standing_approvals().await?.is_empty());
    assert_eq!(h.user("tom").await?["accountEnabled"], false);
    Ok(())
}

#[tokio::test]
async fn approve_always_is_not_offered_where_a_forbid_needs_a_fresh_approval_each_time()
-> anyhow::Result<()> {
    let h = Harness::new().await?;
    // Finance access changes are gated by a department-layer forbid: a standing approval (a
    // permit) could never spare the next request its approval, so it is not offered.
    let report = h
        .ask("nestor", "please add Marcus Feld to the VPN Users group")
        .await?;
    assert_eq!(
        report.status,
        TurnStatus::AwaitingApproval,
        "{}",
        report.reply
    );
    let id = report.actions[0].approval_id.expect("id");
    let pending = h.runtime().store.approval(id).await?;
    let offered = pending.payload["decisionsOffered"].clone();
    assert_eq!(
        offered,
        serde_json::json!(["approveOnce", "deny", "askForInfo"])
    );
    assert!(
        pending.payload["approveAlwaysRefused"]
            .as_str()
            .is_some_and(|r| r.contains("department.finance-access-changes-need-approval")),
        "{}",
        pending.payload
    );
    let refused = h
        .runtime()
        .decide_approval(id, &upn("hank"), department_always(5))
        .await;
    assert!(refused.is_err());
    assert!(h.runtime().standing_approvals().await?.is_empty());
    Ok(())
}
