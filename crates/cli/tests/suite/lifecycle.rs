//! A new starter through the gateway, checked by the tenant's end state: the account created with
//! its manager and a temporary password to change at first sign-in, a licence (its usage location
//! set at creation), and a manager changed later.

use serde_json::json;
use steward_agent::{CallKind, GatewayOutcome};

use super::support::{Harness, upn};

#[tokio::test]
async fn an_it_admin_onboards_a_starter_and_changes_a_manager() -> anyhow::Result<()> {
    let h = Harness::new().await?;
    let created = h
        .call_action(
            "nestor",
            "entra.user.create",
            json!({"displayName": "Priya Newstart", "userPrincipalName": upn("priya.newstart"),
                   "department": "Sales", "jobTitle": "Account Executive", "usageLocation": "US",
                   "manager": upn("hank")}),
            CallKind::Act,
        )
        .await?;
    let GatewayOutcome::Done {
        result,
        verification,
        ..
    } = &created
    else {
        anyhow::bail!("not created: {created:?}");
    };
    assert!(verification.as_ref().is_some_and(|v| v.passed));
    let password = result.output["temporaryPassword"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(password.len() >= 12);
    let audit = serde_json::to_string(&h.runtime().store.audit_records(None).await?)?;
    assert!(
        !audit.contains(&password),
        "the password reached the audit trail"
    );

    let priya = h.user("priya.newstart").await?;
    assert_eq!(priya["userPrincipalName"], upn("priya.newstart"));
    let manager = h
        .graph(&format!("/v1.0/users/{}/manager", upn("priya.newstart")))
        .await?;
    assert_eq!(manager["userPrincipalName"], upn("hank"));
    // The usage location set at creation lets a licence be assigned.
    let licensed = h
        .call_action(
            "nestor",
            "entra.user.assign_license",
            json!({"user": upn("priya.newstart"), "sku": "ENTERPRISEPACK"}),
            CallKind::Act,
        )
        .await?;
    assert!(
        matches!(licensed, GatewayOutcome::Done { .. }),
        "{licensed:?}"
    );

    // The same sign-in name again is refused by the directory, and nothing else is created.
    let again = h
        .call_action(
            "nestor",
            "entra.user.create",
            json!({"displayName": "Priya Again", "userPrincipalName": upn("priya.newstart")}),
            CallKind::Act,
        )
        .await?;
    let GatewayOutcome::Failed { error, .. } = &again else {
        anyhow::bail!("a duplicate was created: {again:?}");
    };
    assert!(error.contains("already exists"), "{error}");

    // A department move: Adele now reports to Nestor.
    let moved = h
        .call_action(
            "nestor",
            "entra.user.set_manager",
            json!({"user": upn("adele"), "manager": upn("nestor")}),
            CallKind::Act,
        )
        .await?;
    let GatewayOutcome::Done { verification, .. } = &moved else {
        anyhow::bail!("manager not set: {moved:?}");
    };
    assert!(verification.as_ref().is_some_and(|v| v.passed));
    let manager = h
        .graph(&format!("/v1.0/users/{}/manager", upn("adele")))
        .await?;
    assert_eq!(manager["userPrincipalName"], upn("nestor"));

    // An employee cannot create accounts.
    let refused = h
        .call_action(
            "adele",
            "entra.user.create",
            json!({"displayName": "Eve", "userPrincipalName": upn("eve")}),
            CallKind::Act,
        )
        .await?;
    assert!(
        matches!(refused, GatewayOutcome::Denied { .. }),
        "{refused:?}"
    );
    Ok(())
}

#[tokio::test]
async fn a_department_move_changes_the_profile_and_the_manager() -> anyhow::Result<()> {
    let h = Harness::new().await?;
    let moved = h
        .call_action(
            "nestor",
            "entra.user.update_profile",
            json!({"user": upn("adele"), "department": "Finance", "jobTitle": "Analyst"}),
            CallKind::Act,
        )
        .await?;
    let GatewayOutcome::Done {
        result,
        verification,
        ..
    } = &moved
    else {
        anyhow::bail!("not moved: {moved:?}");
    };
    assert!(verification.as_ref().is_some_and(|v| v.passed));
    assert!(
        result.summary.contains("department") && result.summary.contains("Finance"),
        "{}",
        result.summary
    );
    let adele = h
        .graph(&format!(
            "/v1.0/users/{}?$select=department,jobTitle",
            upn("adele")
        ))
        .await?;
    assert_eq!(
        (adele["department"].as_str(), adele["jobTitle"].as_str()),
        (Some("Finance"), Some("Analyst"))
    );

    let set = h
        .call_action(
            "nestor",
            "entra.user.set_manager",
            json!({"user": upn("adele"), "manager": upn("nestor")}),
            CallKind::Act,
        )
        .await?;
    assert!(matches!(set, GatewayOutcome::Done { .. }), "{set:?}");
    let removed = h
        .call_action(
            "nestor",
            "entra.user.remove_manager",
            json!({"user": upn("adele")}),
            CallKind::Act,
        )
        .await?;
    let GatewayOutcome::Done { verification, .. } = &removed else {
        anyhow::bail!("manager not removed: {removed:?}");
    };
    assert!(verification.as_ref().is_some_and(|v| v.passed));
    let answer = h
        .tenant
        .sim
        .requests()
        .await
        .iter()
        .filter(|r| r.method == "DELETE" && r.path.ends_with("/manager/$ref"))
        .count();
    assert_eq!(answer, 1);
    // Nothing to change is said, not done.
    let again = h
        .call_action(
            "nestor",
            "entra.user.remove_manager",
            json!({"user": upn("adele")}),
            CallKind::Act,
        )
        .await?;
    let GatewayOutcome::Done { result, .. } = &again else {
        anyhow::bail!("{again:?}");
    };
    assert!(
        result.summary.contains("nothing to change"),
        "{}",
        result.summary
    );
    Ok(())
}
