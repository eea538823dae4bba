//! Identity Protection through the gateway: an IT admin (whose grant holds a security role)
//! finds the risky users, confirms one compromised at once, and cannot dismiss risk alone.

use serde_json::json;
use steward_agent::{CallKind, GatewayOutcome};

use super::support::{Harness, upn};

/// The demo tenant with Nestor (whose grant Steward acts with) also a Security Operator.
async fn harness() -> anyhow::Result<Harness> {
    Harness::with_role("nestor", "Security Operator").await
}

#[tokio::test]
async fn a_risky_user_is_found_and_confirmed_compromised_but_never_dismissed_alone()
-> anyhow::Result<()> {
    let h = harness().await?;
    let listed = h
        .call_action(
            "nestor",
            "entra.risk.list_users",
            json!({}),
            CallKind::Investigate,
        )
        .await?;
    let GatewayOutcome::Done { result, .. } = &listed else {
        anyhow::bail!("not listed: {listed:?}");
    };
    assert!(result.summary.contains(&upn("ryan")), "{}", result.summary);

    let confirmed = h
        .call_action(
            "nestor",
            "entra.risk.confirm_compromised",
            json!({"user": upn("ryan")}),
            CallKind::Act,
        )
        .await?;
    let GatewayOutcome::Done { verification, .. } = &confirmed else {
        anyhow::bail!("not confirmed: {confirmed:?}");
    };
    assert!(verification.as_ref().is_some_and(|v| v.passed));
    let ryan_id = h.user("ryan").await?["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let state = h
        .graph(&format!("/v1.0/identityProtection/riskyUsers/{ryan_id}"))
        .await?;
    assert_eq!(state["riskState"], "confirmedCompromised");
    assert_eq!(state["riskDetail"], "adminConfirmedUserCompromised");

    // Dismissing waits for someone else's approval, and nothing changes meanwhile.
    let dismissed = h
        .call_action(
            "nestor",
            "entra.risk.dismiss",
            json!({"user": upn("ryan")}),
            CallKind::Act,
        )
        .await?;
    assert!(
        matches!(dismissed, GatewayOutcome::NeedsApproval { .. }),
        "{dismissed:?}"
    );
    let state = h
        .graph(&format!("/v1.0/identityProtection/riskyUsers/{ryan_id}"))
        .await?;
    assert_eq!(state["riskState"], "confirmedCompromised");
    Ok(())
}
