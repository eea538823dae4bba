//! Sign-in methods through the gateway, checked by the tenant's end state: an IT admin's MFA reset
//! for someone who lost their phone, a Temporary Access Pass shown once, and the same changes
//! asked for by an employee waiting for an approval.

use serde_json::{Value, json};
use steward_agent::{CallKind, GatewayOutcome};

use super::support::{Harness, USER_ADMIN_ONLY, upn};

/// The demo tenant with Nestor (whose grant Steward acts with) also an Authentication
/// Administrator: the role Entra requires to manage other people's sign-in methods.
async fn harness() -> anyhow::Result<Harness> {
    Harness::with_role("nestor", "Authentication Administrator").await
}

async fn methods_of(h: &Harness, who: &str) -> anyhow::Result<Vec<Value>> {
    let listed = h
        .graph(&format!("/v1.0/users/{}/authentication/methods", upn(who)))
        .await?;
    Ok(listed["value"].as_array().cloned().unwrap_or_default())
}

#[tokio::test]
async fn an_it_admin_resets_mfa_and_issues_a_pass_that_is_shown_once() -> anyhow::Result<()> {
    let h = harness().await?;
    // Investigate first: which methods does Tom have?
    let listed = h
        .call_action(
            "nestor",
            "entra.user.list_auth_methods",
            json!({"user": upn("tom")}),
            CallKind::Investigate,
        )
        .await?;
    let GatewayOutcome::Done { result, .. } = listed else {
        anyhow::bail!("listing was not done: {listed:?}");
    };
    assert!(
        result.summary.contains("Microsoft Authenticator"),
        "{}",
        result.summary
    );
    let authenticator = result
        .output
        .as_array()
        .into_iter()
        .flatten()
        .find(|m| m["type"] == "#microsoft.graph.microsoftAuthenticatorAuthenticationMethod")
        .and_then(|m| m["id"].as_str())
        .ok_or_else(|| anyhow::anyhow!("no Authenticator for Tom"))?
        .to_owned();

    // Tom's new phone: the old Authenticator registration is removed, and the read-back agrees.
    let removed = h
        .call_action(
            "nestor",
            "entra.user.delete_auth_method",
            json!({"user": upn("tom"), "method": authenticator}),
            CallKind::Act,
        )
        .await?;
    let GatewayOutcome::Done { verification, .. } = &removed else {
        anyhow::bail!("the MFA reset did not run: {removed:?}");
    };
    assert!(verification.as_ref().is_some_and(|v| v.passed));
    assert!(
        !methods_of(&h, "tom")
            .await?
            .iter()
            .any(|m| m["id"] == authenticator.as_str()),
        "still registered"
    );

    // A pass to register the new phone: in the answer once, never at rest.
    let issued = h
        .call_action(
            "nestor",
            "entra.user.create_tap",
            json!({"user": upn("tom"), "lifetimeMinutes": 30}),
            CallKind::Act,
        )
        .await?;
    let GatewayOutcome::Done {
        result,
        verification,
        ..
    } = &issued
    else {
        anyhow::bail!("no pass: {issued:?}");
    };
    assert!(verification.as_ref().is_some_and(|v| v.passed));
    let pass = result.output["temporaryAccessPass"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(pass.len() >= 8, "{:?}", result.output);
    let registered = methods_of(&h, "tom").await?;
    let tap = registered
        .iter()
        .find(|m| m["@odata.type"] == "#microsoft.graph.temporaryAccessPassAuthenticationMethod")
        .ok_or_else(|| anyhow::anyhow!("no pass registered"))?;
    assert_eq!(
        tap["temporaryAccessPass"],
        Value::Null,
        "Graph never lists the pass again"
    );
    assert_eq!(tap["lifetimeInMinutes"], 30);
    let audit = serde_json::to_string(&h.runtime().store.audit_records(None).await?)?;
    assert!(!audit.contains(&pass), "the pass reached the audit trail");
    Ok(())
}

#[tokio::test]
async fn an_employee_waits_for_an_it_admin_and_cannot_touch_anyone_else() -> anyhow::Result<()> {
    let h = harness().await?;
    let mine = methods_of(&h, "adele").await?;
    let authenticator = mine
        .iter()
        .find(|m| m["@odata.type"] == "#microsoft.graph.microsoftAuthenticatorAuthenticationMethod")
        .and_then(|m| m["id"].as_str())
        .ok_or_else(|| anyhow::anyhow!("no Authenticator for Adele"))?
        .to_owned();
    // Her own MFA reset needs an IT admin's approval first; nothing changes meanwhile.
    let asked = h
        .call_action(
            "adele",
            "entra.user.delete_auth_method",
            json!({"user": upn("adele"), "method": authenticator}),
            CallKind::Act,
        )
        .await?;
    assert!(
        matches!(asked, GatewayOutcome::NeedsApproval { .. }),
        "{asked:?}"
    );
    assert!(
        methods_of(&h, "adele")
            .await?
            .iter()
            .any(|m| m["id"] == authenticator.as_str())
    );
    // A pass for someone else is refused outright.
    let refused = h
        .call_action(
            "adele",
            "entra.user.create_tap",
            json!({"user": upn("tom")}),
            CallKind::Act,
        )
        .await?;
    assert!(
        matches!(refused, GatewayOutcome::Denied { .. }),
        "{refused:?}"
    );
    assert!(!methods_of(&h, "tom").await?.iter().any(|m| m["@odata.type"] == "#microsoft.graph.temporaryAccessPassAuthenticationMethod"));
    Ok(())
}

#[tokio::test]
async fn without_the_role_the_refusal_says_the_grant_holder_lacks_it() -> anyhow::Result<()> {
    // Nestor as a User Administrator only, which cannot manage sign-in methods.
    let h = Harness::with_only_roles("nestor", USER_ADMIN_ONLY).await?;
    let refused = h
        .call_action(
            "nestor",
            "entra.user.list_auth_methods",
            json!({"user": upn("tom")}),
            CallKind::Investigate,
        )
        .await?;
    let GatewayOutcome::Failed { error, .. } = &refused else {
        anyhow::bail!("expected a refusal: {refused:?}");
    };
    assert!(
        error.contains("nestor@larkspur.example's directory role does not allow"),
        "{error}"
    );
    Ok(())
}
