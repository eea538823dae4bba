//! Onboarding and offboarding playbooks, every step through the gateway, checked by the tenant's
//! end state; a failed step is reported with exactly what was and was not done.

use serde_json::{Value, json};
use steward_agent::playbooks::{Offboarding, Onboarding, StepStatus};
use steward_domain::Channel;

use super::support::{Harness, upn};

/// Nestor with every role offboarding touches.
async fn all_roles() -> anyhow::Result<Harness> {
    Harness::with_roles(
        "nestor",
        &[
            "Authentication Administrator",
            "Exchange Administrator",
            "SharePoint Administrator",
        ],
    )
    .await
}

async fn groups_of(h: &Harness, who: &str) -> anyhow::Result<Vec<String>> {
    let member_of = h
        .graph(&format!("/v1.0/users/{}/memberOf", upn(who)))
        .await?;
    Ok(member_of["value"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| m["@odata.type"] == "#microsoft.graph.group")
        .filter_map(|m| m["displayName"].as_str().map(str::to_owned))
        .collect())
}

async fn root_access(h: &Harness, owner: &str, who: &str) -> anyhow::Result<Option<Value>> {
    let drive = h
        .graph(&format!("/v1.0/users/{}/drive", upn(owner)))
        .await?;
    let permissions = h
        .graph(&format!(
            "/v1.0/drives/{}/items/root/permissions",
            drive["id"].as_str().unwrap_or_default()
        ))
        .await?;
    let id = h.user(who).await?["id"].clone();
    Ok(permissions["value"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p.pointer("/grantedToV2/user/id") == Some(&id))
        .map(|p| p["roles"].clone()))
}

#[tokio::test]
async fn offboarding_closes_every_door_and_the_tenant_shows_it() -> anyhow::Result<()> {
    let h = all_roles().await?;
    let report = h
        .runtime()
        .offboard(
            &upn("nestor"),
            Channel::Cli,
            &Offboarding {
                user: upn("kenji"),
                auto_reply: None,
            },
        )
        .await?;
    assert!(report.complete(), "{}", report.render());
    let actions: Vec<&str> = report.steps.iter().map(|s| s.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "entra.user.disable",
            "entra.user.revoke_sessions",
            "entra.user.delete_auth_method",
            "entra.user.delete_auth_method",
            "entra.user.remove_license",
            "exchange.auto_reply.set",
            "onedrive.drive.handover_to_manager",
            "entra.group.remove_member",
            "entra.group.remove_member",
            "entra.group.remove_member",
        ]
    );

    let kenji = h
        .graph(&format!(
            "/v1.0/users/{}?$select=accountEnabled,assignedLicenses",
            upn("kenji")
        ))
        .await?;
    assert_eq!(kenji["accountEnabled"], false);
    assert_eq!(kenji["assignedLicenses"], json!([]));
    let methods = h
        .graph(&format!(
            "/v1.0/users/{}/authentication/methods",
            upn("kenji")
        ))
        .await?;
    let kinds: Vec<&str> = methods["value"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["@odata.type"].as_str())
        .collect();
    assert_eq!(kinds, ["#microsoft.graph.passwordAuthenticationMethod"]);
    let settings = h
        .graph(&format!("/v1.0/users/{}/mailboxSettings", upn("kenji")))
        .await?;
    assert_eq!(
        settings["automaticRepliesSetting"]["status"],
        "alwaysEnabled"
    );
    assert_eq!(
        root_access(&h, "kenji", "emma").await?,
        Some(json!(["write"]))
    );
    assert!(groups_of(&h, "kenji").await?.is_empty());

    // Every step is in the audit trail, under the playbook's conversation.
    let audits = h.directory_audits().await?;
    assert!(audits.len() >= 8, "{}", audits.len());
    Ok(())
}

#[tokio::test]
async fn a_failed_step_is_reported_and_the_others_still_run() -> anyhow::Result<()> {
    // Without Exchange or SharePoint roles, the mailbox and OneDrive steps fail; the doors that
    // matter most are still closed.
    let h = Harness::with_only_roles(
        "nestor",
        &[
            "User Administrator",
            "Reports Reader",
            "Authentication Administrator",
        ],
    )
    .await?;
    let report = h
        .runtime()
        .offboard(
            &upn("nestor"),
            Channel::Cli,
            &Offboarding {
                user: upn("lars"),
                auto_reply: Some("Lars has left; please write to Emma.".into()),
            },
        )
        .await?;
    assert!(!report.complete());
    let status_of = |action: &str| {
        report
            .steps
            .iter()
            .find(|s| s.action == action)
            .map(|s| s.status.clone())
    };
    assert!(matches!(
        status_of("exchange.auto_reply.set"),
        Some(StepStatus::Failed { .. })
    ));
    assert!(matches!(
        status_of("onedrive.drive.handover_to_manager"),
        Some(StepStatus::Failed { .. })
    ));
    assert!(matches!(
        status_of("entra.user.disable"),
        Some(StepStatus::Done { .. })
    ));
    let text = report.render();
    assert!(text.contains("FAILED    set an automatic reply"), "{text}");
    assert!(text.contains("7 of 9 step(s) done"), "{text}");
    assert!(text.contains("not fully offboarded"), "{text}");
    assert_eq!(h.user("lars").await?["accountEnabled"], false);
    assert!(groups_of(&h, "lars").await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn onboarding_creates_the_account_and_joins_groups_and_licences() -> anyhow::Result<()> {
    let h = Harness::new().await?;
    let plan = Onboarding {
        display_name: "Priya Raman".into(),
        user_principal_name: "priya.raman@larkspur.example".into(),
        department: Some("Engineering".into()),
        job_title: Some("Software Engineer".into()),
        usage_location: Some("GB".into()),
        manager: Some(upn("emma")),
        groups: vec!["Engineering".into(), "VPN Users".into()],
        licences: vec!["ENTERPRISEPACK".into()],
    };
    let report = h
        .runtime()
        .onboard(&upn("nestor"), Channel::Cli, &plan)
        .await?;
    assert!(report.complete(), "{}", report.render());
    assert_eq!(report.secrets.len(), 1, "the temporary password, once");
    let created = h
        .graph("/v1.0/users/priya.raman@larkspur.example?$select=id,department,jobTitle,usageLocation,assignedLicenses")
        .await?;
    assert_eq!(created["department"], "Engineering");
    assert_eq!(created["usageLocation"], "GB");
    assert_eq!(
        created["assignedLicenses"].as_array().map(Vec::len),
        Some(1)
    );
    let manager = h
        .graph("/v1.0/users/priya.raman@larkspur.example/manager")
        .await?;
    assert_eq!(manager["userPrincipalName"], upn("emma"));
    let mut groups = groups_of(&h, "priya.raman").await?;
    groups.sort();
    assert_eq!(groups, ["Engineering", "VPN Users"]);

    // A sign-in name outside the organisation's domains: no account, and nothing after it is
    // attempted.
    let refused = h
        .runtime()
        .onboard(
            &upn("nestor"),
            Channel::Cli,
            &Onboarding {
                user_principal_name: "sam.k@elsewhere.example".into(),
                ..plan
            },
        )
        .await?;
    assert!(
        matches!(refused.steps[0].status, StepStatus::Failed { .. }),
        "{}",
        refused.render()
    );
    assert!(
        refused.steps[1..]
            .iter()
            .all(|s| matches!(s.status, StepStatus::NotAttempted { .. }))
    );
    assert!(
        h.graph("/v1.0/users/sam.k@elsewhere.example")
            .await
            .is_err()
    );
    Ok(())
}
