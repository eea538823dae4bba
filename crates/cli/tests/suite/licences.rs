//! Licences through the gateway, checked by the tenant's end state: seats counted, a licence
//! assigned, none assigned when no seat is free (said so, nothing changed), and an employee's
//! request waiting for an IT admin.

use serde_json::json;
use steward_agent::{CallKind, GatewayOutcome};

use super::support::{Harness, upn};

const E5: &str = "c7df2760-2c81-4ef7-b578-5b5392b571df";

fn holds(user: &serde_json::Value, sku: &str) -> bool {
    user["assignedLicenses"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|l| l["skuId"] == sku)
}

#[tokio::test]
async fn licences_are_assigned_while_seats_last_and_then_refused_with_the_reason()
-> anyhow::Result<()> {
    let h = Harness::new().await?;
    let listed = h
        .call_action(
            "nestor",
            "entra.license.list_skus",
            json!({}),
            CallKind::Investigate,
        )
        .await?;
    let GatewayOutcome::Done { result, .. } = &listed else {
        anyhow::bail!("not listed: {listed:?}");
    };
    assert!(
        result.summary.contains("SPE_E5: 2 of 17 free"),
        "{}",
        result.summary
    );

    // Two E5 seats are free: Adele and Marcus get them.
    for who in ["adele", "marcus"] {
        let done = h
            .call_action(
                "nestor",
                "entra.user.assign_license",
                json!({"user": upn(who), "sku": "SPE_E5"}),
                CallKind::Act,
            )
            .await?;
        let GatewayOutcome::Done { verification, .. } = &done else {
            anyhow::bail!("{who} got no licence: {done:?}");
        };
        assert!(verification.as_ref().is_some_and(|v| v.passed));
        let user = h
            .graph(&format!(
                "/v1.0/users/{}?$select=assignedLicenses",
                upn(who)
            ))
            .await?;
        assert!(holds(&user, E5), "{user}");
    }
    // None left for Sofia: the reason is given and nothing is attempted.
    let refused = h
        .call_action(
            "nestor",
            "entra.user.assign_license",
            json!({"user": upn("sofia"), "sku": "SPE_E5"}),
            CallKind::Act,
        )
        .await?;
    let GatewayOutcome::Failed { error, .. } = &refused else {
        anyhow::bail!("expected no seat: {refused:?}");
    };
    assert!(
        error.contains("no SPE_E5 seats left (17 of 17 in use)"),
        "{error}"
    );
    let sofia = h
        .graph(&format!(
            "/v1.0/users/{}?$select=assignedLicenses",
            upn("sofia")
        ))
        .await?;
    assert!(!holds(&sofia, E5));
    let assigns = h
        .tenant
        .sim
        .requests()
        .await
        .iter()
        .filter(|r| r.path.ends_with("/assignLicense"))
        .count();
    assert_eq!(assigns, 2, "no call for Sofia");

    // Removing Marcus's frees a seat.
    let removed = h
        .call_action(
            "nestor",
            "entra.user.remove_license",
            json!({"user": upn("marcus"), "sku": E5}),
            CallKind::Act,
        )
        .await?;
    assert!(
        matches!(removed, GatewayOutcome::Done { .. }),
        "{removed:?}"
    );
    let skus = h.graph("/v1.0/subscribedSkus").await?;
    let e5 = skus["value"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["skuId"] == E5)
        .cloned()
        .unwrap_or_default();
    assert_eq!(e5["consumedUnits"], 16);

    // An employee asking for a licence waits for an IT admin.
    let asked = h
        .call_action(
            "adele",
            "entra.user.assign_license",
            json!({"user": upn("adele"), "sku": "ENTERPRISEPACK"}),
            CallKind::Act,
        )
        .await?;
    assert!(
        matches!(asked, GatewayOutcome::NeedsApproval { .. }),
        "{asked:?}"
    );
    Ok(())
}
