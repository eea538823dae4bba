//! Approvals wait durably and are re-checked with the real approver before running.

use steward_agent::ApprovalDecision;
use steward_domain::report::{ActionStatus, TurnStatus};
use steward_store::ApprovalStatus;

use super::support::{Harness, upn};

#[tokio::test]
async fn a_disabled_account_is_re_enabled_only_after_an_it_admin_approves() -> anyhow::Result<()> {
    let h = Harness::new().await?;
    let report = h.ask("tom", "my account is disabled").await?;
    assert_eq!(
        report.status,
        TurnStatus::AwaitingApproval,
        "{}",
        report.reply
    );
    assert!(report.findings.iter().any(|f| f.code == "account.disabled"));
    assert!(report.findings.iter().any(|f| f.code == "signin.50057"));
    let action = &report.actions[0];
    assert_eq!(action.status, ActionStatus::PendingApproval);
    let id = action.approval_id.expect("approval id");
    assert_eq!(h.user("tom").await?["accountEnabled"], false);

    // Durable: a fresh handle on the same file sees it.
    let pending = h
        .runtime()
        .store
        .approvals(Some(ApprovalStatus::Pending))
        .await?;
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].payload["call"]["action"], "entra.user.enable");
    // Self-describing: what would change, read from the tenant when approval was asked for.
    let preview = &pending[0].payload["preview"][0];
    assert_eq!(preview["target"], upn("tom"));
    assert_eq!(preview["field"], "accountEnabled");
    assert_eq!(preview["current"], false);
    assert_eq!(preview["proposed"], true);
    assert_eq!(
        pending[0].payload["decision"]["deciding"][0]["id"],
        "action.enable-needs-approval"
    );

    // Someone who is not an approver cannot decide it, and it stays pending.
    let refused = h
        .runtime()
        .decide_approval(id, &upn("adele"), ApprovalDecision::ApproveOnce)
        .await;
    assert!(refused.is_err());
    assert_eq!(
        h.runtime().store.approval(id).await?.status,
        ApprovalStatus::Pending
    );
    assert_eq!(h.user("tom").await?["accountEnabled"], false);

    let (summary, follow_up) = h
        .runtime()
        .decide_approval(id, &upn("nestor"), ApprovalDecision::ApproveOnce)
        .await?;
    assert!(summary.contains("executed"), "{summary}");
    assert_eq!(h.user("tom").await?["accountEnabled"], true);
    assert_eq!(
        h.runtime().store.approval(id).await?.status,
        ApprovalStatus::Executed
    );
    assert!(
        follow_up.reply.contains("re-enabled"),
        "{}",
        follow_up.reply
    );
    // Decided once: a second decision is refused.
    assert!(
        h.runtime()
            .decide_approval(id, &upn("hank"), ApprovalDecision::ApproveOnce)
            .await
            .is_err()
    );
    assert!(h.runtime().store.verify_audit().await?.intact());
    Ok(())
}

#[tokio::test]
async fn a_denied_approval_leaves_the_account_alone_and_tells_the_requester() -> anyhow::Result<()>
{
    let h = Harness::new().await?;
    let report = h.ask("tom", "my acount has been deactivated??").await?;
    let id = report.actions[0].approval_id.expect("approval id");
    let (_, follow_up) = h
        .runtime()
        .decide_approval(
            id,
            &upn("hank"),
            ApprovalDecision::Deny {
                reason: "left the company".into(),
            },
        )
        .await?;
    assert_eq!(h.user("tom").await?["accountEnabled"], false);
    assert_eq!(
        h.runtime().store.approval(id).await?.status,
        ApprovalStatus::Denied
    );
    assert_eq!(
        follow_up.status,
        TurnStatus::Escalated,
        "{}",
        follow_up.reply
    );
    assert!(
        follow_up.reply.contains("left the company"),
        "{}",
        follow_up.reply
    );
    Ok(())
}

#[tokio::test]
async fn an_expired_approval_is_never_a_silent_deny() -> anyhow::Result<()> {
    let h = Harness::new().await?;
    let report = h.ask("tom", "my account is disabled").await?;
    let id = report.actions[0].approval_id.expect("approval id");

    // Not yet due: nothing happens.
    assert!(
        h.runtime()
            .expire_approvals(chrono::Utc::now())
            .await?
            .is_empty()
    );
    // A day and a bit later it expires, once, and Tom is told.
    let later = chrono::Utc::now() + chrono::Duration::hours(25);
    let expired = h.runtime().expire_approvals(later).await?;
    assert_eq!(expired.len(), 1);
    let (expired_id, follow_up) = &expired[0];
    assert_eq!(*expired_id, id);
    assert_eq!(
        follow_up.status,
        TurnStatus::Escalated,
        "{}",
        follow_up.reply
    );
    assert!(follow_up.reply.contains("expired"), "{}", follow_up.reply);
    assert_eq!(
        h.runtime().store.approval(id).await?.status,
        ApprovalStatus::Expired
    );
    assert!(
        h.runtime().expire_approvals(later).await?.is_empty(),
        "expired once"
    );
    // The conversation records it, and a late approval is refused.
    let steps = h.runtime().store.steps(report.conversation_id).await?;
    assert!(steps.iter().any(|(_, body)| {
        body["reply"]
            .as_str()
            .is_some_and(|r| r.contains("expired"))
    }));
    assert!(
        h.runtime()
            .decide_approval(id, &upn("nestor"), ApprovalDecision::ApproveOnce)
            .await
            .is_err()
    );
    assert_eq!(h.user("tom").await?["accountEnabled"], false);
    let records = h
        .runtime()
        .store
        .audit_records(Some(&report.conversation_id.to_string()))
        .await?;
    assert!(
        records
            .iter()
            .any(|r| r.entry.kind.to_string() == "approvalDecided"
                && r.entry.outcome.as_deref() == Some("expired"))
    );
    Ok(())
}

#[tokio::test]
async fn a_pending_approval_survives_a_restart_of_steward() -> anyhow::Result<()> {
    let h = Harness::new().await?;
    let report = h.ask("tom", "my account is disabled").await?;
    let id = report.actions[0].approval_id.expect("approval id");
    let h = h.restart().await?;
    let pending = h
        .runtime()
        .store
        .approvals(Some(ApprovalStatus::Pending))
        .await?;
    assert_eq!(pending.iter().map(|a| a.id).collect::<Vec<_>>(), vec![id]);
    assert_eq!(h.user("tom").await?["accountEnabled"], false);
    let (summary, follow_up) = h
        .runtime()
        .decide_approval(id, &upn("nestor"), ApprovalDecision::ApproveOnce)
        .await?;
    assert!(summary.contains("executed"), "{summary}");
    assert_eq!(
        follow_up.conversation_id, report.conversation_id,
        "the same conversation continues"
    );
    assert_eq!(h.user("tom").await?["accountEnabled"], true);
    assert!(h.runtime().store.verify_audit().await?.intact());
    Ok(())
}

#[tokio::test]
async fn who_may_approve_is_policy_a_manager_approves_once_for_their_own_report()
-> anyhow::Result<()> {
    use steward_agent::{StandingScope, StandingTerms};
    let h = Harness::new().await?;
    let report = h.ask("tom", "my account is disabled").await?;
    let id = report.actions[0].approval_id.expect("approval id");

    // Olivia manages people, but not Tom: no policy lets her decide.
    let refused = h
        .runtime()
        .decide_approval(id, &upn("olivia"), ApprovalDecision::ApproveOnce)
        .await;
    let message = format!("{:?}", refused.err());
    assert!(message.contains("not an approver"), "{message}");

    // Victor is Tom's manager (read live from Graph): he may approve once, not always.
    let always = h
        .runtime()
        .decide_approval(
            id,
            &upn("victor"),
            ApprovalDecision::ApproveAlways(StandingTerms {
                scope: StandingScope::Requester,
                max_uses: 3,
                ttl: std::time::Duration::from_secs(3600),
            }),
        )
        .await;
    assert!(always.is_err(), "approve always stays with IT");
    assert_eq!(
        h.runtime().store.approval(id).await?.status,
        ApprovalStatus::Pending
    );
    assert_eq!(h.user("tom").await?["accountEnabled"], false);

    let (summary, _) = h
        .runtime()
        .decide_approval(id, &upn("victor"), ApprovalDecision::ApproveOnce)
        .await?;
    assert!(summary.contains("executed"), "{summary}");
    assert_eq!(h.user("tom").await?["accountEnabled"], true);
    let row = h.runtime().store.approval(id).await?;
    assert_eq!(row.decided_by.as_deref(), Some(upn("victor").as_str()));
    Ok(())
}
