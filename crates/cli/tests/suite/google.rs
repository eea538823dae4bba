//! Google Workspace beside Microsoft 365: trouble named as Google's is repaired in Google
//! (a temporary password, every session ended), suspensions wait for approval, 2-Step
//! Verification trouble goes to people, and IT's Google changes follow the same policy layers —
//! checked by reading the Google simulator back.

use std::sync::Arc;

use anyhow::Context as _;
use serde_json::json;
use steward_agent::{CallKind, GatewayOutcome};
use steward_connectors::google::{GoogleConnector, SCOPES};
use steward_sim::google::{RunningGoogle, google_demo_seed};

use super::support::{Harness, actions};

const CLIENT: &str = "steward-google.apps.googleusercontent.com";

async fn google_connector(
    google: &RunningGoogle,
    login: &str,
    password: &str,
) -> anyhow::Result<Arc<GoogleConnector>> {
    let refresh = steward_cli::wiring::sim_refresh_token(
        &google.token_url(),
        CLIENT,
        login,
        password,
        &SCOPES.join(" "),
    )
    .await?;
    let endpoint = steward_cli::google_wiring::GoogleEndpoint {
        base_url: google.base_url.clone(),
        token_url: google.token_url(),
        client_id: CLIENT.to_owned(),
        client_secret: Some(steward_sim::google::DEMO_CLIENT_SECRET.to_owned()),
    };
    Ok(steward_cli::google_wiring::connector(
        reqwest::Client::new(),
        &endpoint,
        login,
        refresh,
        None,
        super::support::test_retry(),
    ))
}

async fn with_google() -> anyhow::Result<(Harness, RunningGoogle)> {
    let h = Harness::new().await?;
    let google = RunningGoogle::start(&google_demo_seed()?).await?;
    h.runtime()
        .attach_system(
            "google",
            google_connector(&google, "nestor@larkspur.example", "Demo-Nestor-2026!").await?,
        )
        .await?;
    h.runtime().attach_employee_system(
        "google",
        google_connector(
            &google,
            "steward-svc@larkspur.example",
            "Demo-StewardSvc-2026!",
        )
        .await?,
    );
    Ok((h, google))
}

#[tokio::test]
async fn a_forgotten_gmail_password_is_replaced_in_google_and_sessions_end() -> anyhow::Result<()> {
    let (h, google) = with_google().await?;
    let entra_before = h.user("sam").await?;
    let report = h
        .ask(
            "sam",
            "I can't log in to Gmail, I think I forgot my password",
        )
        .await?;
    assert_eq!(
        actions(&report),
        ["google.user.set_password", "google.user.sign_out"],
        "{}",
        report.reply
    );
    let password = google.password_of("sam@larkspur.example").context("sam")?;
    assert!(report.reply.contains(&password), "{}", report.reply);
    assert_eq!(
        google.user("sam@larkspur.example").context("sam")?["changePasswordAtNextLogin"],
        true
    );
    assert!(google.signed_out_at("sam@larkspur.example").is_some());
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.code == "google.wrong_password"),
        "{:?}",
        report.findings
    );
    // The sign-out cannot be read back in Google, and the report says so rather than claim it.
    assert!(
        report.actions[1]
            .verification
            .as_ref()
            .is_some_and(|v| !v.passed)
    );
    assert_eq!(
        h.user("sam").await?["lastPasswordChangeDateTime"],
        entra_before["lastPasswordChangeDateTime"],
        "Entra untouched"
    );
    for r in h.audit_of(&report).await? {
        assert!(!serde_json::to_string(&r.entry)?.contains(&password));
    }
    Ok(())
}

#[tokio::test]
async fn a_suspended_google_account_waits_and_two_step_trouble_goes_to_people() -> anyhow::Result<()>
{
    let (h, google) = with_google().await?;
    let (report, _) = h
        .awaiting_approval("nina", "I can't sign in to my Google account")
        .await?;
    assert_eq!(actions(&report), ["google.user.unsuspend"]);
    assert_eq!(
        google.user("nina@larkspur.example").context("nina")?["suspended"],
        true
    );
    let felix = h
        .ask(
            "felix",
            "I can't log in to Gmail, it keeps rejecting my 2-step verification code",
        )
        .await?;
    assert!(felix.escalation.is_some(), "{}", felix.reply);
    assert!(
        felix
            .findings
            .iter()
            .any(|f| f.code == "google.second_factor"),
        "{:?}",
        felix.findings
    );
    assert!(actions(&felix).is_empty());
    assert_eq!(
        google.user("felix@larkspur.example").context("felix")?["isEnrolledIn2Sv"],
        true
    );
    Ok(())
}

#[tokio::test]
async fn google_changes_for_others_follow_policy_and_googles_own_roles() -> anyhow::Result<()> {
    let (h, google) = with_google().await?;
    // An employee cannot turn off someone else's 2-Step Verification.
    let denied = h
        .call_action(
            "sam",
            "google.user.turn_off_2sv",
            json!({"user": "felix@larkspur.example"}),
            CallKind::Act,
        )
        .await?;
    assert!(
        matches!(denied, GatewayOutcome::Denied { .. }),
        "{denied:?}"
    );
    // An IT admin can add people to groups, read back from Google.
    let added = h
        .call_action(
            "nestor",
            "google.group.add_member",
            json!({"group": "brand-assets@larkspur.example", "user": "sam@larkspur.example"}),
            CallKind::Act,
        )
        .await?;
    super::support::verified(&added)?;
    assert!(
        google
            .members("brand-assets@larkspur.example")
            .contains(&"sam@larkspur.example".to_owned())
    );
    // Wiping a whole phone always waits for a human.
    let wipe = h
        .call_action(
            "nestor",
            "google.device.wipe",
            json!({"user": "felix@larkspur.example", "device": "AFiQxQ8Qgd-felixpixel"}),
            CallKind::Act,
        )
        .await?;
    assert!(
        matches!(wipe, GatewayOutcome::NeedsApproval { .. }),
        "{wipe:?}"
    );
    assert!(google.device_actions().is_empty());
    // Blocking one is done at once, on the person's own device only.
    let block = h
        .call_action(
            "nestor",
            "google.device.block",
            json!({"user": "felix@larkspur.example", "device": "AFiQxQ8Qgd-felixpixel"}),
            CallKind::Act,
        )
        .await?;
    super::support::verified(&block)?;
    let other = h
        .call_action(
            "nestor",
            "google.device.block",
            json!({"user": "felix@larkspur.example", "device": "AFiQxQ8Qgd-samiphone"}),
            CallKind::Act,
        )
        .await?;
    assert!(matches!(other, GatewayOutcome::Failed { .. }), "{other:?}");
    assert_eq!(
        google.device_actions(),
        vec![("AFiQxQ8Qgd-felixpixel".to_owned(), "block".to_owned())]
    );
    // Google's own roles still apply: a delegated admin cannot suspend a super admin.
    let refused = h
        .call_action(
            "nestor",
            "google.user.suspend",
            json!({"user": "irene@larkspur.example"}),
            CallKind::Act,
        )
        .await?;
    let GatewayOutcome::Failed { error, .. } = refused else {
        anyhow::bail!("expected Google to refuse: {refused:?}");
    };
    assert!(error.contains("Not Authorized"), "{error}");
    assert_eq!(
        google.user("irene@larkspur.example").context("irene")?["suspended"],
        false
    );
    Ok(())
}
