//! Delegated permissions: the token's scope and the signed-in person's own role, per target.

use reqwest::Method;
use serde_json::json;
use steward_sim::PASSWORD_METHOD_ID;

use super::support::{Sim, upn};

fn reset_path(id: &str) -> String {
    format!("/v1.0/users/{id}/authentication/methods/{PASSWORD_METHOD_ID}/resetPassword")
}

#[tokio::test]
async fn a_helpdesk_admin_resets_a_non_admin_but_not_a_global_admin() -> anyhow::Result<()> {
    let s = Sim::start().await?;
    let hank = s
        .token(
            "hank",
            "Hank",
            "UserAuthenticationMethod.ReadWrite.All User.Read.All",
        )
        .await?;
    let adele = s.id_of("adele", &hank).await?;
    let grace = s.id_of("grace", &hank).await?;
    let ok = s
        .call(
            Method::POST,
            &reset_path(&adele),
            Some(&hank),
            Some(json!({})),
        )
        .await?;
    assert_eq!(ok.status.as_u16(), 202, "{}", ok.body);
    assert!(ok.location.is_some());
    assert!(ok.body["newPassword"].is_string());
    let refused = s
        .call(
            Method::POST,
            &reset_path(&grace),
            Some(&hank),
            Some(json!({})),
        )
        .await?;
    assert_eq!(refused.status.as_u16(), 403);
    assert_eq!(refused.body["error"]["code"], "Authorization_RequestDenied");
    assert!(refused.body["error"]["innerError"]["request-id"].is_string());
    Ok(())
}

#[tokio::test]
async fn a_helpdesk_admin_cannot_enable_accounts_but_a_user_admin_can() -> anyhow::Result<()> {
    let s = Sim::start().await?;
    let hank = s.token("hank", "Hank", "User.ReadWrite.All").await?;
    let nestor = s.token("nestor", "Nestor", "User.ReadWrite.All").await?;
    let path = format!("/v1.0/users/{}", upn("tom"));
    let refused = s
        .call(
            Method::PATCH,
            &path,
            Some(&hank),
            Some(json!({"accountEnabled": true})),
        )
        .await?;
    assert_eq!(refused.status.as_u16(), 403);
    let done = s
        .call(
            Method::PATCH,
            &path,
            Some(&nestor),
            Some(json!({"accountEnabled": true})),
        )
        .await?;
    assert_eq!(done.status.as_u16(), 204);
    let tom = s
        .get(&format!("{path}?$select=accountEnabled"), &nestor)
        .await?;
    assert_eq!(tom.body["accountEnabled"], true);
    let audits = s
        .get(
            "/v1.0/auditLogs/directoryAudits",
            &s.token("grace", "Grace", "AuditLog.Read.All").await?,
        )
        .await?;
    assert_eq!(
        audits.body["value"][0]["activityDisplayName"],
        "Enable account"
    );
    assert_eq!(
        audits.body["value"][0]["initiatedBy"]["user"]["userPrincipalName"],
        upn("nestor")
    );
    Ok(())
}

#[tokio::test]
async fn a_missing_scope_is_refused_whatever_the_role() -> anyhow::Result<()> {
    let s = Sim::start().await?;
    let grace = s.token("grace", "Grace", "User.Read.All").await?;
    let adele = s.id_of("adele", &grace).await?;
    let refused = s
        .call(
            Method::POST,
            &reset_path(&adele),
            Some(&grace),
            Some(json!({})),
        )
        .await?;
    assert_eq!(refused.status.as_u16(), 403);
    let refused = s.get("/v1.0/auditLogs/signIns", &grace).await?;
    assert_eq!(refused.status.as_u16(), 403);
    Ok(())
}

#[tokio::test]
async fn an_employee_cannot_read_sign_in_logs_or_reset_their_own_password_this_way()
-> anyhow::Result<()> {
    let s = Sim::start().await?;
    let leo = s
        .token(
            "leo",
            "Leo",
            "AuditLog.Read.All UserAuthenticationMethod.ReadWrite.All User.Read.All",
        )
        .await?;
    assert_eq!(
        s.get("/v1.0/auditLogs/signIns", &leo)
            .await?
            .status
            .as_u16(),
        403
    );
    let me = s.id_of("leo", &leo).await?;
    assert_eq!(
        s.call(Method::POST, &reset_path(&me), Some(&leo), Some(json!({})))
            .await?
            .status
            .as_u16(),
        403
    );
    Ok(())
}

async fn sign_in_adele(s: &Sim, password: &str) -> anyhow::Result<serde_json::Value> {
    s.token_request(&[
        ("grant_type", "password"),
        ("client_id", "t"),
        ("username", "adele@larkspur.example"),
        ("password", password),
        ("scope", "User.Read.All"),
    ])
    .await
}

#[tokio::test]
async fn a_lockout_shows_as_50053_and_a_reset_clears_it() -> anyhow::Result<()> {
    let s = Sim::start().await?;
    let locked = sign_in_adele(&s, "Demo-Adele-2026!").await?;
    assert_eq!(locked["error_codes"][0], 50053);
    assert!(
        locked["error_description"]
            .as_str()
            .unwrap_or_default()
            .starts_with("AADSTS50053")
    );
    let nestor = s
        .token(
            "nestor",
            "Nestor",
            "UserAuthenticationMethod.ReadWrite.All User.Read.All AuditLog.Read.All",
        )
        .await?;
    let adele = s.id_of("adele", &nestor).await?;
    let reset = s
        .call(
            Method::POST,
            &reset_path(&adele),
            Some(&nestor),
            Some(json!({"newPassword": "Tidal-Harbor-42!"})),
        )
        .await?;
    assert_eq!(reset.status.as_u16(), 202);
    let after = sign_in_adele(&s, "Tidal-Harbor-42!").await?;
    assert_eq!(
        after["error_codes"][0], 50055,
        "must change the temporary password: {after}"
    );
    let logs = s.get("/v1.0/auditLogs/signIns?$filter=userPrincipalName%20eq%20'adele@larkspur.example'%20and%20status/errorCode%20eq%2050055", &nestor).await?;
    assert_eq!(logs.body["value"].as_array().map(Vec::len), Some(1));
    Ok(())
}

#[tokio::test]
async fn revoking_sessions_invalidates_the_persons_refresh_tokens() -> anyhow::Result<()> {
    let s = Sim::start().await?;
    let scope = "https://graph.microsoft.com/User.Read.All";
    let r = s
        .token_request(&[
            ("grant_type", "password"),
            ("client_id", "t"),
            ("username", "leo@larkspur.example"),
            ("password", "Demo-Leo-2026!"),
            ("scope", scope),
        ])
        .await?;
    let refresh = r["refresh_token"].as_str().unwrap_or_default().to_owned();
    let nestor = s
        .token("nestor", "Nestor", "User.RevokeSessions.All User.Read.All")
        .await?;
    let revoked = s
        .call(
            Method::POST,
            &format!("/v1.0/users/{}/revokeSignInSessions", upn("leo")),
            Some(&nestor),
            None,
        )
        .await?;
    assert_eq!(revoked.body["value"], true);
    let again = s
        .token_request(&[
            ("grant_type", "refresh_token"),
            ("client_id", "t"),
            ("refresh_token", refresh.as_str()),
        ])
        .await?;
    assert_eq!(again["error"], "invalid_grant");
    Ok(())
}

#[tokio::test]
async fn sign_in_methods_are_removed_through_their_own_collection_and_a_pass_is_shown_once()
-> anyhow::Result<()> {
    let s = Sim::start().await?;
    // Grace (Global Administrator) manages Tom's methods.
    let grace = s
        .token("grace", "Grace", "UserAuthenticationMethod.ReadWrite.All")
        .await?;
    let path = format!("/v1.0/users/{}/authentication/methods", upn("tom"));
    let methods = s.get(&path, &grace).await?.body["value"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let authenticator = methods
        .iter()
        .find(|m| m["@odata.type"] == "#microsoft.graph.microsoftAuthenticatorAuthenticationMethod")
        .and_then(|m| m["id"].as_str())
        .unwrap_or_default()
        .to_owned();
    let base = format!("/v1.0/users/{}/authentication", upn("tom"));
    // Through the wrong collection, the method is not found.
    let wrong = s
        .call(
            Method::DELETE,
            &format!("{base}/phoneMethods/{authenticator}"),
            Some(&grace),
            None,
        )
        .await?;
    assert_eq!(wrong.status.as_u16(), 404);
    let done = s
        .call(
            Method::DELETE,
            &format!("{base}/microsoftAuthenticatorMethods/{authenticator}"),
            Some(&grace),
            None,
        )
        .await?;
    assert_eq!(done.status.as_u16(), 204);

    let pass = s
        .call(
            Method::POST,
            &format!("{base}/temporaryAccessPassMethods"),
            Some(&grace),
            Some(json!({"lifetimeInMinutes": 60, "isUsableOnce": true})),
        )
        .await?;
    assert_eq!(pass.status.as_u16(), 201);
    assert!(
        pass.body["temporaryAccessPass"]
            .as_str()
            .is_some_and(|p| p.len() >= 8)
    );
    let second = s
        .call(
            Method::POST,
            &format!("{base}/temporaryAccessPassMethods"),
            Some(&grace),
            Some(json!({})),
        )
        .await?;
    assert_eq!(second.status.as_u16(), 400, "one pass at a time");
    let listed = s.get(&path, &grace).await?.body.to_string();
    assert!(!listed.contains(&authenticator));
    let secret = pass.body["temporaryAccessPass"].as_str().unwrap_or("-");
    assert!(!listed.contains(secret), "the pass is never listed");

    // Hank (Helpdesk Administrator) may not manage methods.
    let hank = s
        .token("hank", "Hank", "UserAuthenticationMethod.ReadWrite.All")
        .await?;
    let refused = s
        .call(
            Method::POST,
            &format!(
                "/v1.0/users/{}/authentication/temporaryAccessPassMethods",
                upn("adele")
            ),
            Some(&hank),
            Some(json!({})),
        )
        .await?;
    assert_eq!(refused.status.as_u16(), 403);
    Ok(())
}
