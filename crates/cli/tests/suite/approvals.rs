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
    let records = h.audit_of(&report).await?;
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

#[tokio::test]
async fn an_approver_asks_for_more_information_and_the_answer_reaches_the_request()
-> anyhow::Result<()> {
    use steward_domain::Channel;
    let h = Harness::new().await?;
    let report = h.ask("tom", "my account is disabled").await?;
    let id = report.actions[0].approval_id.expect("approval id");
    let conversation = report.conversation_id;

    // Someone who may not decide may not question either.
    assert!(
        h.runtime()
            .ask_for_info(id, &upn("adele"), "why?")
            .await
            .is_err()
    );
    let (_, told) = h
        .runtime()
        .ask_for_info(
            id,
            &upn("nestor"),
            "Are you back from leave, and since when?",
        )
        .await?;
    assert_eq!(told.status, TurnStatus::AwaitingRequester);
    assert!(
        told.reply.contains("Are you back from leave"),
        "{}",
        told.reply
    );
    assert_eq!(
        h.runtime().store.approval(id).await?.status,
        ApprovalStatus::InfoRequested
    );
    // One open question at a time.
    assert!(
        h.runtime()
            .ask_for_info(id, &upn("hank"), "and who is your manager?")
            .await
            .is_err()
    );

    // Tom's next message in the conversation is the answer; nothing runs on it.
    let answered = h
        .runtime()
        .handle(
            &upn("tom"),
            Channel::Cli,
            "Yes, I came back from parental leave on Monday",
            Some(conversation),
        )
        .await?;
    assert_eq!(answered.status, TurnStatus::AwaitingApproval);
    assert!(answered.actions.is_empty());
    assert_eq!(h.user("tom").await?["accountEnabled"], false);
    let row = h.runtime().store.approval(id).await?;
    assert_eq!(row.status, ApprovalStatus::Pending);
    assert_eq!(
        row.payload["infoRequests"][0]["answer"],
        "Yes, I came back from parental leave on Monday"
    );
    assert_eq!(row.payload["infoRequests"][0]["by"], upn("nestor"));
    // The conversation and the audit trail record the exchange.
    let kinds: Vec<String> = h
        .runtime()
        .store
        .steps(conversation)
        .await?
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert!(kinds.contains(&"approverQuestion".to_owned()), "{kinds:?}");
    assert!(kinds.contains(&"requesterAnswer".to_owned()), "{kinds:?}");
    let info: Vec<String> = h
        .runtime()
        .store
        .audit_records(Some(&conversation.to_string()))
        .await?
        .into_iter()
        .filter(|r| r.entry.kind.to_string() == "approvalInfo")
        .filter_map(|r| r.entry.outcome)
        .collect();
    assert_eq!(info, ["asked", "answered"]);

    let (summary, _) = h
        .runtime()
        .decide_approval(id, &upn("nestor"), ApprovalDecision::ApproveOnce)
        .await?;
    assert!(summary.contains("executed"), "{summary}");
    assert_eq!(h.user("tom").await?["accountEnabled"], true);
    Ok(())
}

#[tokio::test]
async fn a_request_waiting_for_the_requesters_answer_still_expires_and_says_so()
-> anyhow::Result<()> {
    let h = Harness::new().await?;
    let report = h.ask("tom", "my account is disabled").await?;
    let id = report.actions[0].approval_id.expect("approval id");
    h.runtime()
        .ask_for_info(id, &upn("nestor"), "Are you back from leave?")
        .await?;
    let later = chrono::Utc::now() + chrono::Duration::days(30);
    let expired = h.runtime().expire_approvals(later).await?;
    assert_eq!(expired.len(), 1);
    assert!(
        expired[0].1.reply.to_lowercase().contains("expired"),
        "{}",
        expired[0].1.reply
    );
    assert_eq!(
        h.runtime().store.approval(id).await?.status,
        ApprovalStatus::Expired
    );
    Ok(())
}
