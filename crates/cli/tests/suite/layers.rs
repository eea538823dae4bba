//! The target and runtime layers of the default set, end to end: who the target is and how often
//! the requester has asked lately both change the outcome.

use steward_domain::report::{ActionStatus, TurnStatus};
use steward_domain::{Layer, Outcome};

use super::support::Harness;

#[tokio::test]
async fn the_fourth_self_service_reset_within_an_hour_waits_for_a_human() -> anyhow::Result<()> {
    let h = Harness::new().await?;
    for round in 1..=3 {
        let report = h.ask("jamal", "please reset my password").await?;
        assert_eq!(
            report.status,
            TurnStatus::Resolved,
            "round {round}: {}",
            report.reply
        );
    }
    let report = h.ask("jamal", "please reset my password").await?;
    assert_eq!(
        report.status,
        TurnStatus::AwaitingApproval,
        "{}",
        report.reply
    );
    let reset = report
        .actions
        .iter()
        .find(|a| a.action == "entra.user.reset_password")
        .expect("a reset was proposed");
    assert_eq!(reset.status, ActionStatus::PendingApproval);
    assert_eq!(reset.decision.outcome, Outcome::Ask);
    let gate = &reset.decision.gates[0];
    assert_eq!(gate.id, "runtime.self-service-repeats-need-approval");
    assert_eq!(gate.layer, Layer::Runtime);

    // The waiting change was not counted: another person's count is untouched, and the audit
    // shows the count each decision saw.
    let report = h.ask("chloe", "please reset my password").await?;
    assert_eq!(report.status, TurnStatus::Resolved, "{}", report.reply);
    let records = h.runtime().store.audit_records(None).await?;
    let counts: Vec<i64> = records
        .iter()
        .filter(|r| {
            r.entry.action.as_deref() == Some("entra.user.reset_password")
                && r.entry.requester.as_deref() == Some(&super::support::upn("jamal"))
                && r.entry.kind == steward_audit::RecordKind::Decision
        })
        .filter_map(|r| r.entry.detail["recentCount"].as_i64())
        .collect();
    assert_eq!(counts, [1, 2, 3, 4]);
    Ok(())
}

#[tokio::test]
async fn a_change_to_the_cfo_waits_for_a_human_even_when_an_it_admin_asks() -> anyhow::Result<()> {
    let h = Harness::new().await?;
    let report = h
        .ask("nestor", "reset the password for Olivia Bennett")
        .await?;
    assert_eq!(
        report.status,
        TurnStatus::AwaitingApproval,
        "{}",
        report.reply
    );
    let reset = &report.actions[0];
    assert_eq!(reset.decision.outcome, Outcome::Ask);
    assert!(
        reset
            .decision
            .gates
            .iter()
            .any(|g| g.id == "target.cfo-changes-need-approval" && g.layer == Layer::Target),
        "{:?}",
        reset.decision
    );
    // A colleague's password is reset without waiting.
    let report = h
        .ask("nestor", "reset the password for Marcus Feld")
        .await?;
    assert_eq!(report.status, TurnStatus::Resolved, "{}", report.reply);
    Ok(())
}
