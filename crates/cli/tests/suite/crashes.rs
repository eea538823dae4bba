//! A Steward that dies mid-call: the change it started is "in doubt" until a reconciler reads the
//! target and records what it found; the approval it was running is run to the end; nothing is
//! done twice — checked in the simulator's own log of change requests. (The death is a task
//! aborted mid-request: its future is dropped as a killed process's would be, and only what it
//! had committed remains.)

use std::time::Duration;

use chrono::Utc;
use serde_json::json;
use steward_agent::ApprovalDecision;
use steward_connectors::Reconciliation;
use steward_store::{ApprovalStatus, IntentStatus};

use super::support::{Harness, upn};

/// Later than any lease: what a reconciler sees once the dead process's lease has run out.
fn after_the_lease() -> chrono::DateTime<Utc> {
    Utc::now() + chrono::Duration::minutes(10)
}

/// Starts approving Tom's re-enable and kills that work while Graph holds the PATCH (held
/// `after` it was applied, or before); returns the approval id.
async fn approve_then_die(h: &Harness, after: bool) -> anyhow::Result<steward_domain::ApprovalId> {
    let (_, id) = h.awaiting_approval("tom", "my account is disabled").await?;
    h.inject_fault(json!({"pathContains": "/v1.0/users/", "method": "PATCH", "count": 1, "delayMs": 30000, "delayAfter": after}))
        .await?;
    let runtime = h.tenant.runtime.clone();
    let work = tokio::spawn(async move {
        runtime
            .decide_approval(id, &upn("nestor"), ApprovalDecision::ApproveOnce)
            .await
    });
    // Wait until Graph has the request, then kill the work mid-call.
    let mut waited = Duration::ZERO;
    while !h
        .tenant
        .sim
        .requests()
        .await
        .iter()
        .any(|r| r.client_request_id.as_deref() == Some(id.to_string().as_str()))
    {
        anyhow::ensure!(
            waited < Duration::from_secs(10),
            "the PATCH never reached Graph"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
        waited += Duration::from_millis(20);
    }
    if after {
        // Give the simulator the moment it needs to apply the change before holding the answer.
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    work.abort();
    let _ = work.await;
    Ok(id)
}

/// Change requests with this key that Graph actually handled (a request dropped before it was
/// handled has status 0).
async fn handled(h: &Harness, key: &str) -> usize {
    h.tenant
        .sim
        .requests()
        .await
        .iter()
        .filter(|r| r.client_request_id.as_deref() == Some(key) && r.status != 0)
        .count()
}

#[tokio::test]
async fn a_change_made_before_the_crash_is_found_made_and_not_made_again() -> anyhow::Result<()> {
    let h = Harness::new().await?;
    let id = approve_then_die(&h, true).await?;
    let key = id.to_string();
    let store = &h.runtime().store;
    assert_eq!(store.approval(id).await?.status, ApprovalStatus::Approved);
    assert_eq!(
        store.intent(&key).await?.map(|i| i.status),
        Some(IntentStatus::Pending)
    );
    assert_eq!(
        h.user("tom").await?["accountEnabled"],
        true,
        "Graph applied it"
    );

    // Within the lease nothing is touched: the call may still be running somewhere.
    let (settled, finished) = h.runtime().reconcile(Utc::now()).await?;
    assert!(settled.is_empty() && finished.is_empty());

    let (settled, finished) = h.runtime().reconcile(after_the_lease()).await?;
    assert_eq!(settled.len(), 1);
    assert!(
        matches!(settled[0].found, Reconciliation::Applied(_)),
        "{:?}",
        settled[0].found
    );
    assert_eq!(
        store.intent(&key).await?.map(|i| i.status),
        Some(IntentStatus::Applied)
    );
    // The approval is finished from what was found, and the requester hears it.
    assert_eq!(finished.len(), 1);
    assert_eq!(store.approval(id).await?.status, ApprovalStatus::Executed);
    assert!(
        finished[0].reply.contains("re-enabled"),
        "{}",
        finished[0].reply
    );
    assert_eq!(handled(&h, &key).await, 1, "the PATCH was made once");

    // Audited: the reconciliation and the refusal to call again; the chain verifies.
    let records = store.audit_records(None).await?;
    assert!(
        records
            .iter()
            .any(|r| r.entry.outcome.as_deref() == Some("reconciled")
                && r.entry.detail["found"] == "applied")
    );
    assert!(
        records
            .iter()
            .any(|r| r.entry.outcome.as_deref() == Some("alreadyDone"))
    );
    assert!(store.verify_audit().await?.intact());

    // Reconciling again finds nothing more to do.
    let (settled, finished) = h.runtime().reconcile(after_the_lease()).await?;
    assert!(settled.is_empty() && finished.is_empty());
    assert_eq!(handled(&h, &key).await, 1);
    Ok(())
}

#[tokio::test]
async fn a_change_the_crash_cut_off_is_found_not_made_and_made_once() -> anyhow::Result<()> {
    let h = Harness::new().await?;
    let id = approve_then_die(&h, false).await?;
    let key = id.to_string();
    assert_eq!(
        h.user("tom").await?["accountEnabled"],
        false,
        "Graph never handled it"
    );
    assert_eq!(handled(&h, &key).await, 0);

    let (settled, finished) = h.runtime().reconcile(after_the_lease()).await?;
    assert!(
        matches!(settled[0].found, Reconciliation::NotApplied(_)),
        "{:?}",
        settled[0].found
    );
    // Not made, so the approved change is made now — once, under the same key.
    assert_eq!(finished.len(), 1);
    let store = &h.runtime().store;
    assert_eq!(store.approval(id).await?.status, ApprovalStatus::Executed);
    assert_eq!(
        store.intent(&key).await?.map(|i| i.status),
        Some(IntentStatus::Done)
    );
    assert_eq!(h.user("tom").await?["accountEnabled"], true);
    assert_eq!(handled(&h, &key).await, 1);
    assert!(store.verify_audit().await?.intact());
    Ok(())
}

#[tokio::test]
async fn a_change_whose_effect_cannot_be_read_is_escalated_never_repeated() -> anyhow::Result<()> {
    let h = Harness::new().await?;
    let store = &h.runtime().store;
    let conversation = steward_domain::ConversationId::new();
    store
        .create_conversation(conversation, &upn("adele"), "cli", &json!({}))
        .await?;
    // A dead process's call of an action the connector cannot read back.
    let call = json!({"action": "entra.user.get", "params": {"user": upn("adele")}});
    store
        .begin_intent(
            "dead-key",
            &conversation.to_string(),
            &call,
            "dead-replica",
            Utc::now(),
            chrono::Duration::minutes(1),
        )
        .await?;
    let (settled, _) = h.runtime().reconcile(after_the_lease()).await?;
    assert!(
        matches!(settled[0].found, Reconciliation::Unknown(_)),
        "{:?}",
        settled[0].found
    );
    assert_eq!(
        store.intent("dead-key").await?.map(|i| i.status),
        Some(IntentStatus::Unknown)
    );
    let records = store.audit_records(Some(&conversation.to_string())).await?;
    assert!(
        records
            .iter()
            .any(|r| r.entry.kind == steward_audit::RecordKind::Escalation
                && r.entry.outcome.as_deref() == Some("inDoubt"))
    );
    let steps = store.steps(conversation).await?;
    assert!(
        steps
            .iter()
            .any(|(kind, body)| kind == "reconciled" && body["found"] == "unknown")
    );
    // Another attempt under that key is refused, not made.
    let again = store
        .begin_intent(
            "dead-key",
            &conversation.to_string(),
            &call,
            "replica-b",
            Utc::now(),
            chrono::Duration::minutes(1),
        )
        .await?;
    assert!(matches!(again, steward_store::IntentStart::Existing(_)));
    Ok(())
}
