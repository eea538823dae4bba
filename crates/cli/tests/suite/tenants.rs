//! Steward on a tenant other than the demo: nothing about Larkspur Labs is built in.

use serde_json::{Value, json};
use steward_domain::Channel;
use steward_domain::report::{ActionStatus, TurnStatus};

use super::support::Harness;

/// A second, small tenant (Nordlicht GmbH) with nothing in common with the demo.
pub fn small_tenant() -> Value {
    let user = |id: &str, upn: &str, name: &str, extra: Value| {
        let mut u = json!({"id": id, "userPrincipalName": upn, "displayName": name, "accountEnabled": true, "department": "Operations"});
        if let (Some(u), Some(extra)) = (u.as_object_mut(), extra.as_object()) {
            u.extend(extra.clone());
        }
        u
    };
    json!({
        "organization": {"id": "0b5c5d8e-1111-4c1e-9c53-000000000001", "displayName": "Nordlicht GmbH",
                         "verifiedDomains": [{"name": "nordlicht.example", "isDefault": true}]},
        "users": [
            user("u-1", "admin@nordlicht.example", "Ada Admin", json!({"x-steward-sim": {"password": "Adm1n-Pass!", "directoryRoles": ["Global Administrator"]}})),
            user("u-2", "jonas.weber@nordlicht.example", "Jonas Weber", json!({"x-steward-sim": {"password": "Jonas-Pass-1!", "lockedOut": true}})),
            user("u-3", "petra.klein@nordlicht.example", "Petra Klein", json!({"x-steward-sim": {"password": "Petra-Pass-1!"}})),
            // The employee channel's own identity, as the tenant's admin would create it.
            user("u-4", "steward-svc@nordlicht.example", "Steward Service", json!({"x-steward-sim": {"password": "Svc-Pass-2026!", "directoryRoles": ["Helpdesk Administrator", "Reports Reader"]}})),
        ],
        "signIns": [
            {"id": "s-1", "createdDateTime": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
             "userPrincipalName": "jonas.weber@nordlicht.example", "userId": "u-2",
             "status": {"errorCode": 50053, "failureReason": "Account is locked."}}
        ]
    })
}

#[tokio::test]
async fn a_tenant_without_an_it_admins_group_is_all_self_service_and_still_works()
-> anyhow::Result<()> {
    let h = Harness::with_seed(small_tenant(), "admin@nordlicht.example", "Adm1n-Pass!").await?;
    assert_eq!(h.runtime().config.id.as_str(), "nordlicht-gmbh");
    let report = h
        .runtime()
        .handle(
            "jonas.weber@nordlicht.example",
            Channel::Web,
            "Passwort vergessen, Konto gesperrt",
            None,
        )
        .await?;
    assert_eq!(report.status, TurnStatus::Resolved, "{}", report.reply);
    assert!(report.findings.iter().any(|f| f.code == "signin.50053"));
    let jonas = h
        .graph("/v1.0/users/jonas.weber@nordlicht.example?$select=lastPasswordChangeDateTime")
        .await?;
    assert!(jonas["lastPasswordChangeDateTime"].is_string());

    // Without an IT admins group nobody may act on someone else.
    let report = h
        .runtime()
        .handle(
            "petra.klein@nordlicht.example",
            Channel::Web,
            "reset the password for jonas.weber@nordlicht.example",
            None,
        )
        .await?;
    assert_eq!(report.status, TurnStatus::Escalated);
    assert!(
        report
            .actions
            .iter()
            .all(|a| a.status == ActionStatus::Denied)
    );
    Ok(())
}
