//! Bulk jobs: one request, many targets — decided per target, one approval for the whole job,
//! and only the approved targets changed.

use steward_agent::ApprovalDecision;
use steward_domain::Outcome;
use steward_domain::report::{ActionStatus, TurnStatus};
use steward_store::ApprovalStatus;

use super::support::{Harness, upn};

#[tokio::test]
async fn a_whole_team_is_one_approval_and_only_the_approved_people_are_added() -> anyhow::Result<()>
{
    let h = Harness::new().await?;
    let report = h
        .ask("nestor", "give the whole Finance team access to VPN Users")
        .await?;
    assert_eq!(
        report.status,
        TurnStatus::AwaitingApproval,
        "{}",
        report.reply
    );
    // Seven Finance people, each decided on its own, all waiting for the same approval.
    assert_eq!(report.actions.len(), 7, "{:?}", report.actions);
    let ids: Vec<_> = report.actions.iter().map(|a| a.approval_id).collect();
    assert!(
        ids.iter().all(|id| id.is_some() && *id == ids[0]),
        "{ids:?}"
    );
    assert!(
        report.actions.iter().all(
            |a| a.status == ActionStatus::PendingApproval && a.decision.outcome == Outcome::Ask
        )
    );
    let id = ids[0].expect("approval id");
    let row = h.runtime().store.approval(id).await?;
    let items = row.payload["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(items.len(), 7);
    // The full target list and the job's size: seven people and the group.
    assert_eq!(row.payload["blastRadius"], 8);
    assert_eq!(row.payload["targets"].as_array().map(Vec::len), Some(8));
    let offered = row.payload["decisionsOffered"].clone();
    assert!(
        offered
            .as_array()
            .is_some_and(|d| d.iter().any(|x| x == "approveSelected")
                && !d.iter().any(|x| x == "approveAlways")),
        "{offered}"
    );
    for upn_ in [upn("marcus"), upn("sofia"), upn("olivia")] {
        assert!(!h.member_upns("VPN Users").await?.contains(&upn_));
    }

    // A choice naming someone outside the job is refused and nothing is recorded.
    let wrong = h
        .runtime()
        .decide_approval(
            id,
            &upn("hank"),
            ApprovalDecision::ApproveSelected(vec![upn("bob")]),
        )
        .await;
    assert!(wrong.is_err());
    assert_eq!(
        h.runtime().store.approval(id).await?.status,
        ApprovalStatus::Pending
    );

    let (summary, follow_up) = h
        .runtime()
        .decide_approval(
            id,
            &upn("hank"),
            ApprovalDecision::ApproveSelected(vec![upn("marcus"), "Sofia Marchetti".into()]),
        )
        .await?;
    assert!(summary.contains("2 of 7"), "{summary}");
    let members = h.member_upns("VPN Users").await?;
    assert!(members.contains(&upn("marcus")) && members.contains(&upn("sofia")));
    for other in ["olivia", "daniel", "hannah", "ryan", "wendy"] {
        assert!(!members.contains(&upn(other)), "{other} was not approved");
    }
    assert_eq!(
        h.runtime().store.approval(id).await?.status,
        ApprovalStatus::Executed
    );
    assert_eq!(
        follow_up
            .actions
            .iter()
            .filter(|a| a.status == ActionStatus::Executed)
            .count(),
        2
    );
    // The requester hears who was added and, once, who was not approved.
    assert!(
        follow_up.reply.contains("Marcus Feld") && follow_up.reply.contains("Sofia Marchetti"),
        "{}",
        follow_up.reply
    );
    assert_eq!(
        follow_up.reply.matches("did not approve").count(),
        1,
        "{}",
        follow_up.reply
    );
    assert!(h.runtime().store.verify_audit().await?.intact());
    Ok(())
}

#[tokio::test]
async fn a_small_team_change_that_policy_allows_runs_for_everyone_not_yet_in() -> anyhow::Result<()>
{
    let h = Harness::new().await?;
    let report = h
        .ask("nestor", "please add everyone in Sales to Project Phoenix")
        .await?;
    assert_eq!(report.status, TurnStatus::Resolved, "{}", report.reply);
    // Victor is already in Project Phoenix: seven changes, not eight.
    assert_eq!(report.actions.len(), 7);
    assert!(
        report
            .actions
            .iter()
            .all(|a| a.status == ActionStatus::Executed)
    );
    let members = h.member_upns("Project Phoenix").await?;
    for p in [
        "maria.lopez",
        "jamal",
        "chloe",
        "ben",
        "tom",
        "lucy",
        "diego",
        "victor",
    ] {
        assert!(members.contains(&upn(p)), "{p}");
    }
    Ok(())
}

#[tokio::test]
async fn a_job_over_ten_objects_waits_for_a_human_as_one_request() -> anyhow::Result<()> {
    let h = Harness::new().await?;
    let report = h
        .ask("nestor", "add everyone in All Staff to Project Phoenix")
        .await?;
    assert_eq!(
        report.status,
        TurnStatus::AwaitingApproval,
        "{}",
        report.reply
    );
    assert!(report.actions.len() > 10);
    // The runtime layer's blast-radius rule asks for every item, as one request.
    let first = &report.actions[0];
    assert!(
        first
            .decision
            .gates
            .iter()
            .any(|g| g.id == "runtime.bulk-changes-need-approval"),
        "{:?}",
        first.decision
    );
    let id = first.approval_id.expect("approval id");
    assert!(report.actions.iter().all(|a| a.approval_id == Some(id)));
    let (summary, _) = h
        .runtime()
        .decide_approval(
            id,
            &upn("hank"),
            ApprovalDecision::Deny {
                reason: "too broad; ask the project lead".into(),
            },
        )
        .await?;
    assert!(summary.contains("declined"), "{summary}");
    assert_eq!(h.member_upns("Project Phoenix").await?.len(), 5);
    Ok(())
}
