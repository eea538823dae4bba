//! The employee channel acts with its own grant: self-service is done with the service identity
//! an administrator connected for it (and audited as such), IT requests with the
//! administrator's grant, and revoking the employee grant stops self-service at the next call —
//! never by falling back to the administrator's grant.

use steward_cli::grant::EMPLOYEE_CREDENTIAL;
use steward_domain::report::TurnStatus;

use super::support::{Harness, upn};

/// The actors Steward's audit trail names for one conversation's calls.
async fn actors(h: &Harness, conversation: &str) -> anyhow::Result<Vec<String>> {
    Ok(h.runtime()
        .store
        .audit_records(Some(conversation))
        .await?
        .into_iter()
        .filter(|r| r.entry.action.is_some())
        .filter_map(|r| r.entry.actor)
        .collect())
}

#[tokio::test]
async fn self_service_acts_with_its_own_grant_and_stops_when_it_is_revoked() -> anyhow::Result<()> {
    let h = Harness::new().await?;
    let report = h
        .ask("adele", "I forgot my password and now I'm locked out")
        .await?;
    assert_eq!(report.status, TurnStatus::Resolved, "{}", report.reply);
    let acted = actors(&h, &report.conversation_id.to_string()).await?;
    assert!(!acted.is_empty());
    assert!(acted.iter().all(|a| *a == upn("steward-svc")), "{acted:?}");

    let admin = h
        .ask(
            "nestor",
            "please remove Leo Martins from the VPN Users group",
        )
        .await?;
    assert_eq!(admin.status, TurnStatus::Resolved, "{}", admin.reply);
    let acted = actors(&h, &admin.conversation_id.to_string()).await?;
    assert!(acted.iter().all(|a| *a == upn("nestor")), "{acted:?}");

    // Revoked: the next self-service request is refused, saying why, and nothing is sent.
    assert!(
        h.runtime()
            .store
            .delete_credential(EMPLOYEE_CREDENTIAL)
            .await?
    );
    let resets_before = h
        .tenant
        .sim
        .requests()
        .await
        .iter()
        .filter(|r| r.path.ends_with("/resetPassword"))
        .count();
    let refused = h.ask("adele", "locked out again, cant log in").await?;
    assert_eq!(refused.status, TurnStatus::Escalated, "{}", refused.reply);
    assert!(
        refused.reply.contains("steward connect --for employees"),
        "{}",
        refused.reply
    );
    let resets_after = h
        .tenant
        .sim
        .requests()
        .await
        .iter()
        .filter(|r| r.path.ends_with("/resetPassword"))
        .count();
    assert_eq!(resets_after, resets_before, "no fallback to another grant");

    // IT requests are unaffected.
    let admin = h
        .ask(
            "hank",
            "request to reset microsoft online services password for maria.chen@larkspur.example",
        )
        .await?;
    assert_eq!(admin.status, TurnStatus::Resolved, "{}", admin.reply);
    Ok(())
}
