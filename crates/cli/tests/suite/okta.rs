//! Okta beside Microsoft 365: a person whose password Okta masters is repaired in Okta (never
//! in Entra ID), through the gateway with Okta's own delegated grants — the employee channel's
//! for self-service, the administrator's for IT — and checked by reading the Okta simulator
//! back. People Okta does not master keep the Microsoft 365 repair.

use std::sync::Arc;

use anyhow::Context as _;
use serde_json::json;
use steward_agent::CallKind;
use steward_connectors::okta::{OktaConnector, SCOPES};
use steward_sim::okta::{RunningOkta, okta_demo_seed};

use super::support::{Harness, actions};

/// A connector acting with `login`'s Okta grant (a refresh token from the password grant).
pub(super) async fn okta_connector(
    okta: &RunningOkta,
    login: &str,
    password: &str,
) -> anyhow::Result<Arc<OktaConnector>> {
    let refresh = steward_cli::wiring::sim_refresh_token(
        &okta.token_url(),
        "0oa-steward-okta",
        login,
        password,
        &SCOPES.join(" "),
    )
    .await?;
    Ok(steward_cli::okta_wiring::connector(
        reqwest::Client::new(),
        &okta.base_url,
        "0oa-steward-okta",
        login,
        refresh,
        super::support::test_retry(),
    ))
}

/// The demo tenant with Okta connected: Nestor's grant for IT, steward-svc's for self-service.
async fn with_okta() -> anyhow::Result<(Harness, RunningOkta)> {
    let h = Harness::new().await?;
    let okta = RunningOkta::start(&okta_demo_seed()?).await?;
    h.runtime()
        .attach_system(
            "okta",
            okta_connector(&okta, "nestor@larkspur.example", "Demo-Nestor-2026!").await?,
        )
        .await?;
    h.runtime().attach_employee_system(
        "okta",
        okta_connector(
            &okta,
            "steward-svc@larkspur.example",
            "Demo-StewardSvc-2026!",
        )
        .await?,
    );
    Ok((h, okta))
}

fn actor_of_last(okta: &RunningOkta, event_type: &str) -> Option<String> {
    okta.log_events()
        .iter()
        .rev()
        .find(|e| e["eventType"] == event_type)
        .and_then(|e| e["actor"]["alternateId"].as_str().map(str::to_owned))
}

#[tokio::test]
async fn a_lockout_in_okta_is_unlocked_in_okta_with_the_employee_channels_grant()
-> anyhow::Result<()> {
    let (h, okta) = with_okta().await?;
    let entra_before = h.user("leo").await?;
    let report = h.ask("leo", "I'm locked out, I can't sign in").await?;
    assert_eq!(actions(&report), ["okta.user.unlock"], "{}", report.reply);
    assert!(
        report.actions[0]
            .verification
            .as_ref()
            .is_some_and(|v| v.passed),
        "{report:?}"
    );
    assert!(report.reply.contains("Okta"), "{}", report.reply);
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.code == "okta.masters_password"),
        "{:?}",
        report.findings
    );
    assert!(
        report.findings.iter().any(|f| f.code == "okta.locked"),
        "{:?}",
        report.findings
    );
    assert!(
        report
            .plan
            .iter()
            .any(|p| p.contains("okta.user.unlock") && p.contains("Entra ID is not touched")),
        "{:?}",
        report.plan
    );
    // End state: unlocked in Okta by the employee channel's grant; Entra ID untouched.
    assert_eq!(
        okta.user("leo@larkspur.example").context("leo")?["status"],
        "ACTIVE"
    );
    assert_eq!(
        actor_of_last(&okta, "user.account.unlock_by_admin").as_deref(),
        Some("steward-svc@larkspur.example")
    );
    let entra_after = h.user("leo").await?;
    assert_eq!(
        entra_before["lastPasswordChangeDateTime"],
        entra_after["lastPasswordChangeDateTime"]
    );
    // The audit names the Okta action and the policy that allowed it.
    let audit = h.audit_of(&report).await?;
    assert!(
        audit
            .iter()
            .any(|r| r.entry.action.as_deref() == Some("okta.user.unlock")
                && r.entry
                    .detail
                    .to_string()
                    .contains("action.self-service-okta-sign-in-repair")),
        "{audit:#?}"
    );
    // ... and the grant it acted with is the employee channel's Okta grant (its Okta scopes),
    // not its Microsoft Graph grant.
    let unlock = audit
        .iter()
        .rfind(|r| r.entry.action.as_deref() == Some("okta.user.unlock"))
        .context("the unlock's records")?;
    assert!(
        unlock
            .entry
            .actor_scopes
            .iter()
            .any(|s| s.starts_with("okta."))
            && !unlock
                .entry
                .actor_scopes
                .iter()
                .any(|s| s.contains("User.")),
        "{:?}",
        unlock.entry.actor_scopes
    );
    Ok(())
}

#[tokio::test]
async fn a_forgotten_okta_password_gets_a_temporary_one_only_its_owner_sees() -> anyhow::Result<()>
{
    let (h, okta) = with_okta().await?;
    let report = h
        .ask("maria.chen", "I forgot my password, can you reset it?")
        .await?;
    assert_eq!(
        actions(&report),
        ["okta.user.temp_password"],
        "{}",
        report.reply
    );
    let password = okta
        .password_of("maria.chen@larkspur.example")
        .context("maria")?;
    assert!(
        report.reply.contains(&password),
        "the temporary password reaches its owner: {}",
        report.reply
    );
    let user = okta.user("maria.chen@larkspur.example").context("maria")?;
    assert_eq!(user["status"], "PASSWORD_EXPIRED");
    assert!(
        okta.sessions_cleared_at("maria.chen@larkspur.example")
            .is_some()
    );
    // Never in the audit trail.
    for r in h.audit_of(&report).await? {
        assert!(!serde_json::to_string(&r.entry)?.contains(&password));
    }
    Ok(())
}

#[tokio::test]
async fn people_okta_does_not_master_keep_the_microsoft_365_repair() -> anyhow::Result<()> {
    let (h, okta) = with_okta().await?;
    // Kenji's Okta password comes from Active Directory; Adele has no Okta account.
    for (who, code) in [
        ("kenji", "okta.password_elsewhere"),
        ("adele", "okta.no_account"),
    ] {
        let report = h.ask(who, "I forgot my password").await?;
        assert!(
            report.findings.iter().any(|f| f.code == code),
            "{who}: {:?}",
            report.findings
        );
        assert!(
            actions(&report).iter().all(|a| !a.starts_with("okta.")),
            "{who}: {:?}",
            actions(&report)
        );
        assert!(
            actions(&report).contains(&"entra.user.reset_password".to_owned()),
            "{who}: {}",
            report.reply
        );
    }
    assert_eq!(
        okta.user("kenji@larkspur.example").context("kenji")?["status"],
        "ACTIVE"
    );
    Ok(())
}

#[tokio::test]
async fn okta_changes_for_others_follow_the_same_policy_layers() -> anyhow::Result<()> {
    let (h, okta) = with_okta().await?;
    // An employee cannot reset someone else's Okta MFA or give them an app.
    let refused = h
        .call_action(
            "sam",
            "okta.factors.reset",
            json!({"user": "maria.chen@larkspur.example"}),
            CallKind::Act,
        )
        .await?;
    assert!(
        matches!(refused, steward_agent::GatewayOutcome::Denied { .. }),
        "{refused:?}"
    );
    assert_eq!(okta.factors("maria.chen@larkspur.example").len(), 2);
    // An IT admin can, acting with his own Okta grant.
    let reset = h
        .call_action(
            "nestor",
            "okta.factors.reset",
            json!({"user": "maria.chen@larkspur.example", "factor": "mbl1mariaSms00000001"}),
            CallKind::Act,
        )
        .await?;
    super::support::verified(&reset)?;
    assert_eq!(okta.factors("maria.chen@larkspur.example").len(), 1);
    assert_eq!(
        actor_of_last(&okta, "user.mfa.factor.deactivate").as_deref(),
        Some("nestor@larkspur.example")
    );
    let added = h
        .call_action(
            "nestor",
            "okta.app.assign",
            json!({"user": "maria.chen@larkspur.example", "app": "AWS"}),
            CallKind::Act,
        )
        .await?;
    super::support::verified(&added)?;
    // Finance people's app access waits for an approval even for IT (the department layer).
    let finance = h
        .call_action(
            "nestor",
            "okta.group.add_member",
            json!({"user": "olivia@larkspur.example", "group": "Engineering"}),
            CallKind::Act,
        )
        .await?;
    assert!(
        matches!(
            finance,
            steward_agent::GatewayOutcome::NeedsApproval { .. }
                | steward_agent::GatewayOutcome::Denied { .. }
        ),
        "{finance:?}"
    );
    // Throttled by Okta: waited out, then done once.
    okta.throttle(1);
    let cleared = h
        .call_action(
            "nestor",
            "okta.sessions.clear",
            json!({"user": "emma@larkspur.example"}),
            CallKind::Act,
        )
        .await?;
    super::support::verified(&cleared)?;
    assert!(okta.sessions_cleared_at("emma@larkspur.example").is_some());
    Ok(())
}

#[tokio::test]
async fn without_okta_its_actions_are_named_in_policy_but_not_offered() -> anyhow::Result<()> {
    let h = Harness::new().await?;
    assert!(
        h.runtime()
            .catalog()
            .iter()
            .all(|s| !s.name.as_str().starts_with("okta."))
    );
    let outcome = h
        .call_action(
            "nestor",
            "okta.user.unlock",
            json!({"user": "leo@larkspur.example"}),
            CallKind::Act,
        )
        .await?;
    let steward_agent::GatewayOutcome::Failed { error, .. } = outcome else {
        anyhow::bail!("expected a failure: {outcome:?}");
    };
    assert!(error.contains("Okta is not connected"), "{error}");
    // A lockout is then repaired in Microsoft 365 as before.
    let report = h.ask("leo", "I'm locked out").await?;
    assert!(
        actions(&report).iter().all(|a| !a.starts_with("okta.")),
        "{:?}",
        actions(&report)
    );
    Ok(())
}

/// Someone with only an Okta account (a contractor: no Microsoft 365 account) is still a person
/// Steward knows: identified through Okta by their login, their trouble examined and repaired
/// in Okta — and, since Okta's management API does not say who holds an admin role there, their
/// account is treated as privileged, so the change waits for an IT admin.
#[tokio::test]
async fn a_person_with_only_an_okta_account_is_helped_in_okta() -> anyhow::Result<()> {
    let (h, okta) = with_okta().await?;
    // Nobody by that name in Microsoft 365.
    assert!(h.user("rosa.diaz").await.is_err());
    let report = h.ask("rosa.diaz", "I'm locked out of my account").await?;
    let codes: Vec<&str> = report.findings.iter().map(|f| f.code.as_str()).collect();
    assert!(
        codes.contains(&"account.not_in_entra") && codes.contains(&"okta.locked"),
        "{codes:?}"
    );
    assert_eq!(
        report.status,
        steward_domain::report::TurnStatus::AwaitingApproval,
        "{}",
        report.reply
    );
    let unlock = report
        .actions
        .iter()
        .find(|a| a.action == "okta.user.unlock")
        .context("an unlock proposed")?;
    assert!(
        unlock
            .decision
            .reason
            .contains("global.privileged-needs-other-approver"),
        "{}",
        unlock.decision.reason
    );
    assert_eq!(
        okta.user("rosa.diaz@larkspur.example").context("rosa")?["status"],
        "LOCKED_OUT"
    );
    // An IT admin approves: unlocked in Okta.
    let id = unlock.approval_id.context("approval id")?;
    h.runtime()
        .decide_approval(
            id,
            "nestor@larkspur.example",
            steward_agent::ApprovalDecision::ApproveOnce,
        )
        .await?;
    assert_eq!(
        okta.user("rosa.diaz@larkspur.example").context("rosa")?["status"],
        "ACTIVE"
    );
    // Someone in neither directory is still nobody.
    assert!(h.ask("nobody.at.all", "I'm locked out").await.is_err());
    Ok(())
}
