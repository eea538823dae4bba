//! Every Graph route the simulator serves is one the reference describes, and each is called
//! here and its answer checked against the reference's schema for that operation and status
//! (an empty body where the reference declares none). A route added without a call here fails
//! the test.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::{Value, json};

use super::conformance::conforms_or_empty;
use super::support::{Sim, reference, upn};

/// `/users/{user-id}/x` and `/users/{id}/x` both as `/users/{}/x`.
fn shape(path: &str) -> String {
    path.split('/')
        .map(|seg| if seg.starts_with('{') { "{}" } else { seg })
        .collect::<Vec<_>>()
        .join("/")
}

/// The `/v1.0` routes as `graph/mod.rs` registers them.
fn served_routes() -> anyhow::Result<BTreeSet<String>> {
    let source = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/graph/mod.rs"),
    )?;
    Ok(source
        .split('"')
        .filter(|s| s.starts_with("/v1.0/"))
        .map(|s| shape(s.trim_start_matches("/v1.0")))
        .collect())
}

/// The reference path of a served shape.
fn reference_path(reference: &Value, served: &str) -> Option<String> {
    reference["paths"]
        .as_object()?
        .keys()
        .find(|p| shape(p) == served)
        .cloned()
}

const ALL_SCOPES: &str = "User.Read.All User.ReadWrite.All GroupMember.Read.All Group.ReadWrite.All AuditLog.Read.All UserAuthenticationMethod.ReadWrite.All User.RevokeSessions.All IdentityRiskyUser.ReadWrite.All LicenseAssignment.Read.All LicenseAssignment.ReadWrite.All IdentityRiskyUser.Read.All MailboxSettings.Read MailboxSettings.ReadWrite Calendars.ReadWrite DeviceManagementManagedDevices.Read.All DeviceManagementManagedDevices.ReadWrite.All DeviceManagementManagedDevices.PrivilegedOperations.All DeviceManagementConfiguration.Read.All Files.ReadWrite.All Sites.ReadWrite.All Team.ReadBasic.All TeamMember.ReadWrite.All";

#[tokio::test]
async fn every_served_route_is_in_the_reference_and_answers_as_it_describes() -> anyhow::Result<()>
{
    let reference = reference()?;
    let served = served_routes()?;
    for route in &served {
        // One route serves the DELETE of every method collection the reference lists one by
        // one (`phoneMethods/{id}`, `fido2Methods/{id}`, …).
        let described = if route == "/users/{}/authentication/{}/{}" {
            reference["paths"].as_object().is_some_and(|p| {
                p.keys().any(|k| {
                    k.starts_with("/users/{user-id}/authentication/") && k.ends_with("Method-id}")
                })
            })
        } else {
            reference_path(&reference, route).is_some()
        };
        assert!(
            described,
            "the simulator serves `{route}`, which the reference does not describe"
        );
    }

    let s = Sim::start().await?;
    let grace = s.token("grace", "Grace", ALL_SCOPES).await?;
    let ryan = s.id_of("ryan", &grace).await?;
    let olivia = s.id_of("olivia", &grace).await?;
    let adele = s.id_of("adele", &grace).await?;
    let felix = s.id_of("felix", &grace).await?;
    let leo = s.id_of("leo", &grace).await?;
    let group = |name: &str| {
        let path = format!(
            "/v1.0/groups?$filter=displayName%20eq%20'{}'",
            name.replace(' ', "%20")
        );
        let s = &s;
        let grace = &grace;
        async move {
            anyhow::Ok(
                s.get(&path, grace).await?.body["value"][0]["id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            )
        }
    };
    let engineering = group("Engineering").await?;
    let vpn = group("VPN Users").await?;
    let devices = s
        .get("/v1.0/deviceManagement/managedDevices", &grace)
        .await?;
    let device_of = |name: &str| {
        devices.body["value"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|d| d["deviceName"] == name)
            .and_then(|d| d["id"].as_str())
            .unwrap_or_default()
            .to_owned()
    };
    let (laptop, phone) = (device_of("LS-LT-1003"), device_of("LS-IP-1005"));
    let site = "larkspur.sharepoint.com,7f3c2a10-1b2c-4d5e-8f90-a1b2c3d4e5f6,2b1c0d9e-8f7a-4b6c-9d5e-0f1a2b3c4d5e";
    let adele_drive = "b!adeleOneDrive01";

    let felix_phone = s
        .get(
            &format!("/v1.0/users/{felix}/authentication/methods"),
            &grace,
        )
        .await?
        .body["value"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|m| m["@odata.type"] == "#microsoft.graph.phoneAuthenticationMethod")
        .and_then(|m| m["id"].as_str())
        .unwrap_or_default()
        .to_owned();
    let directory_object = |id: &str| json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/directoryObjects/{id}")});

    // (reference path, method, request path, body)
    let mut calls: Vec<(&str, Method, String, Option<Value>)> = vec![
        (
            "/users",
            Method::POST,
            "/v1.0/users".into(),
            Some(
                json!({"accountEnabled": true, "displayName": "Route Check", "mailNickname": "route.check", "userPrincipalName": "route.check@larkspur.example", "passwordProfile": {"forceChangePasswordNextSignIn": true, "password": "Route-Check-2026!"}}),
            ),
        ),
        (
            "/users/{user-id}",
            Method::PATCH,
            format!("/v1.0/users/{felix}"),
            Some(json!({"jobTitle": "Senior Content Writer"})),
        ),
        (
            "/users/{user-id}/manager/$ref",
            Method::PUT,
            format!("/v1.0/users/{felix}/manager/$ref"),
            Some(json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/users/{adele}")})),
        ),
        (
            "/users/{user-id}/manager/$ref",
            Method::DELETE,
            format!("/v1.0/users/{felix}/manager/$ref"),
            None,
        ),
        (
            "/users/{user-id}/authentication/temporaryAccessPassMethods",
            Method::POST,
            format!("/v1.0/users/{felix}/authentication/temporaryAccessPassMethods"),
            Some(json!({"lifetimeInMinutes": 60, "isUsableOnce": true})),
        ),
        (
            "/users/{user-id}/authentication/phoneMethods/{phoneAuthenticationMethod-id}",
            Method::DELETE,
            format!("/v1.0/users/{felix}/authentication/phoneMethods/{felix_phone}"),
            None,
        ),
        (
            "/users/{user-id}/assignLicense",
            Method::POST,
            format!("/v1.0/users/{felix}/assignLicense"),
            Some(
                json!({"addLicenses": [{"skuId": "6fd2c87f-b296-4371-a2f6-dde7f2e8d2a0", "disabledPlans": []}], "removeLicenses": []}),
            ),
        ),
        (
            "/identityProtection/riskyUsers/confirmCompromised",
            Method::POST,
            "/v1.0/identityProtection/riskyUsers/confirmCompromised".into(),
            Some(json!({"userIds": [felix]})),
        ),
        (
            "/identityProtection/riskyUsers/dismiss",
            Method::POST,
            "/v1.0/identityProtection/riskyUsers/dismiss".into(),
            Some(json!({"userIds": [felix]})),
        ),
        (
            "/groups/{group-id}/members/$ref",
            Method::POST,
            format!("/v1.0/groups/{vpn}/members/$ref"),
            Some(directory_object(&felix)),
        ),
        (
            "/groups/{group-id}/members/{directoryObject-id}/$ref",
            Method::DELETE,
            format!("/v1.0/groups/{vpn}/members/{felix}/$ref"),
            None,
        ),
        ("/me", Method::GET, "/v1.0/me".into(), None),
        (
            "/subscribedSkus",
            Method::GET,
            "/v1.0/subscribedSkus".into(),
            None,
        ),
        (
            "/identityProtection/riskyUsers",
            Method::GET,
            "/v1.0/identityProtection/riskyUsers".into(),
            None,
        ),
        (
            "/identityProtection/riskyUsers/{riskyUser-id}",
            Method::GET,
            format!("/v1.0/identityProtection/riskyUsers/{ryan}"),
            None,
        ),
        (
            "/users/{user-id}/mailboxSettings",
            Method::GET,
            format!("/v1.0/users/{olivia}/mailboxSettings"),
            None,
        ),
        (
            "/users/{user-id}/mailboxSettings",
            Method::PATCH,
            format!("/v1.0/users/{adele}/mailboxSettings"),
            Some(
                json!({"automaticRepliesSetting": {"status": "alwaysEnabled", "internalReplyMessage": "Away"}}),
            ),
        ),
        (
            "/users/{user-id}/mailFolders/{mailFolder-id}/messageRules",
            Method::GET,
            format!("/v1.0/users/{ryan}/mailFolders/inbox/messageRules"),
            None,
        ),
        (
            "/users/{user-id}/mailFolders/{mailFolder-id}/messageRules",
            Method::POST,
            format!("/v1.0/users/{adele}/mailFolders/inbox/messageRules"),
            Some(
                json!({"displayName": "Receipts", "sequence": 1, "isEnabled": true, "conditions": {"subjectContains": ["receipt"]}, "actions": {"markAsRead": true}}),
            ),
        ),
        (
            "/users/{user-id}/mailFolders/{mailFolder-id}/messageRules/{messageRule-id}",
            Method::GET,
            format!("/v1.0/users/{ryan}/mailFolders/inbox/messageRules/AQAAAJ5dZqA="),
            None,
        ),
        (
            "/users/{user-id}/mailFolders/{mailFolder-id}/messageRules/{messageRule-id}",
            Method::DELETE,
            format!("/v1.0/users/{ryan}/mailFolders/inbox/messageRules/AQAAAJ5dZqA="),
            None,
        ),
        (
            "/users/{user-id}/calendar/calendarPermissions",
            Method::GET,
            format!("/v1.0/users/{olivia}/calendar/calendarPermissions"),
            None,
        ),
        (
            "/users/{user-id}/calendar/calendarPermissions",
            Method::POST,
            format!("/v1.0/users/{adele}/calendar/calendarPermissions"),
            Some(json!({"emailAddress": {"address": upn("felix")}, "role": "read"})),
        ),
        (
            "/users/{user-id}/calendar/calendarPermissions/{calendarPermission-id}",
            Method::PATCH,
            format!("/v1.0/users/{olivia}/calendar/calendarPermissions/RoleUser-wendy"),
            Some(json!({"role": "write"})),
        ),
        (
            "/users/{user-id}/calendar/calendarPermissions/{calendarPermission-id}",
            Method::DELETE,
            format!("/v1.0/users/{olivia}/calendar/calendarPermissions/RoleUser-wendy"),
            None,
        ),
        (
            "/deviceManagement/managedDevices",
            Method::GET,
            "/v1.0/deviceManagement/managedDevices?$filter=complianceState%20eq%20'noncompliant'"
                .into(),
            None,
        ),
        (
            "/deviceManagement/managedDevices/{managedDevice-id}",
            Method::GET,
            format!("/v1.0/deviceManagement/managedDevices/{laptop}"),
            None,
        ),
        (
            "/deviceManagement/managedDevices/{managedDevice-id}/deviceCompliancePolicyStates",
            Method::GET,
            format!("/v1.0/deviceManagement/managedDevices/{laptop}/deviceCompliancePolicyStates"),
            None,
        ),
        (
            "/users/{user-id}/managedDevices",
            Method::GET,
            format!("/v1.0/users/{leo}/managedDevices"),
            None,
        ),
    ];
    for op in ["syncDevice", "rebootNow", "remoteLock", "retire"] {
        calls.push((
            match op {
                "syncDevice" => "/deviceManagement/managedDevices/{managedDevice-id}/syncDevice",
                "rebootNow" => "/deviceManagement/managedDevices/{managedDevice-id}/rebootNow",
                "remoteLock" => "/deviceManagement/managedDevices/{managedDevice-id}/remoteLock",
                _ => "/deviceManagement/managedDevices/{managedDevice-id}/retire",
            },
            Method::POST,
            format!("/v1.0/deviceManagement/managedDevices/{laptop}/{op}"),
            None,
        ));
    }
    calls.extend([
        ("/deviceManagement/managedDevices/{managedDevice-id}/resetPasscode", Method::POST, format!("/v1.0/deviceManagement/managedDevices/{phone}/resetPasscode"), None),
        ("/deviceManagement/managedDevices/{managedDevice-id}/wipe", Method::POST, format!("/v1.0/deviceManagement/managedDevices/{phone}/wipe"), Some(json!({"keepUserData": false}))),
        ("/sites/{site-id}", Method::GET, format!("/v1.0/sites/{site}"), None),
        ("/sites/{site-id}/drive", Method::GET, format!("/v1.0/sites/{site}/drive"), None),
        ("/users/{user-id}/drive", Method::GET, format!("/v1.0/users/{adele}/drive"), None),
        ("/drives/{drive-id}/items/{driveItem-id}", Method::GET, format!("/v1.0/drives/{adele_drive}/items/01ADELEBRIEF"), None),
        ("/drives/{drive-id}/items/{driveItem-id}/permissions", Method::GET, format!("/v1.0/drives/{adele_drive}/items/01ADELEBRIEF/permissions"), None),
        ("/drives/{drive-id}/items/{driveItem-id}/permissions/{permission-id}", Method::GET, format!("/v1.0/drives/{adele_drive}/items/01ADELEBRIEF/permissions/9f1c2e7a0b3d4e5f"), None),
        ("/drives/{drive-id}/items/{driveItem-id}/permissions/{permission-id}", Method::DELETE, format!("/v1.0/drives/{adele_drive}/items/01ADELEBRIEF/permissions/9f1c2e7a0b3d4e5f"), None),
        (
            "/drives/{drive-id}/items/{driveItem-id}/invite",
            Method::POST,
            format!("/v1.0/drives/{adele_drive}/items/01ADELEBRIEF/invite"),
            Some(json!({"recipients": [{"email": upn("lars")}], "roles": ["read"], "requireSignIn": true, "sendInvitation": false})),
        ),
        (
            "/drives/{drive-id}/items/{driveItem-id}/createLink",
            Method::POST,
            format!("/v1.0/drives/{adele_drive}/items/01ADELEBRIEF/createLink"),
            Some(json!({"type": "view", "scope": "organization"})),
        ),
        ("/teams/{team-id}", Method::GET, format!("/v1.0/teams/{engineering}"), None),
        ("/teams/{team-id}/members", Method::GET, format!("/v1.0/teams/{engineering}/members"), None),
        (
            "/teams/{team-id}/members",
            Method::POST,
            format!("/v1.0/teams/{engineering}/members"),
            Some(json!({"@odata.type": "#microsoft.graph.aadUserConversationMember", "roles": [], "user@odata.bind": format!("https://graph.microsoft.com/v1.0/users('{felix}')")})),
        ),
        ("/groups/{group-id}/owners", Method::GET, format!("/v1.0/groups/{vpn}/owners"), None),
        (
            "/$batch",
            Method::POST,
            "/v1.0/$batch".into(),
            Some(json!({"requests": [
                {"id": "1", "method": "GET", "url": format!("/users/{leo}?$select=id,displayName")},
                {"id": "2", "method": "PATCH", "url": format!("/users/{leo}"), "headers": {"Content-Type": "application/json"}, "body": {"officeLocation": "Berlin 3F"}, "dependsOn": ["1"]},
            ]})),
        ),
        ("/groups/{group-id}/owners/$ref", Method::POST, format!("/v1.0/groups/{vpn}/owners/$ref"), Some(directory_object(&felix))),
        ("/groups/{group-id}/owners/{directoryObject-id}/$ref", Method::DELETE, format!("/v1.0/groups/{vpn}/owners/{felix}/$ref"), None),
    ]);

    let mut problems = Vec::new();
    let mut exercised = BTreeSet::new();
    for (path, method, request, body) in calls {
        let answer = s.call(method.clone(), &request, Some(&grace), body).await?;
        assert!(
            answer.status.is_success(),
            "{method} {request} -> {}: {}",
            answer.status,
            answer.body
        );
        problems.extend(conforms_or_empty(
            &reference,
            path,
            &method.as_str().to_lowercase(),
            answer.status.as_u16(),
            &answer.body,
        ));
        exercised.insert(shape(path));
    }
    // The membership added above, removed again by its id.
    let members = s
        .get(&format!("/v1.0/teams/{engineering}/members"), &grace)
        .await?;
    let membership = members.body["value"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|m| m["userId"] == felix.as_str())
        .and_then(|m| m["id"].as_str())
        .unwrap_or_default()
        .to_owned();
    let removed = s
        .call(
            Method::DELETE,
            &format!("/v1.0/teams/{engineering}/members/{membership}"),
            Some(&grace),
            None,
        )
        .await?;
    assert_eq!(removed.status.as_u16(), 204, "{}", removed.body);
    exercised.insert(shape("/teams/{team-id}/members/{conversationMember-id}"));

    // Errors of the workloads' own kinds keep Graph's error shape.
    let missing = s
        .get(
            "/v1.0/deviceManagement/managedDevices/no-such-device",
            &grace,
        )
        .await?;
    assert_eq!(missing.status.as_u16(), 404);
    problems.extend(conforms_or_empty(
        &reference,
        "/deviceManagement/managedDevices/{managedDevice-id}",
        "get",
        404,
        &missing.body,
    ));

    assert!(
        problems.is_empty(),
        "answers Graph would not give:\n{}",
        problems.join("\n")
    );
    // The routes `every_response_matches_the_reference` calls are checked there; every other
    // route must be called here.
    exercised.insert("/users/{}/authentication/{}/{}".to_owned());
    let covered_elsewhere: BTreeSet<String> = [
        "/users/{}/memberOf",
        "/users/{}/manager",
        "/users/{}/revokeSignInSessions",
        "/users/{}/authentication/methods",
        "/users/{}/authentication/methods/{}/resetPassword",
        "/users/{}/authentication/operations/{}",
        "/groups",
        "/groups/{}",
        "/groups/{}/members",
        "/auditLogs/signIns",
        "/auditLogs/directoryAudits",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    let missing: Vec<&String> = served
        .iter()
        .filter(|r| !exercised.contains(*r) && !covered_elsewhere.contains(*r))
        .collect();
    assert!(missing.is_empty(), "routes no test calls: {missing:?}");
    Ok(())
}

#[tokio::test]
async fn a_batch_runs_in_order_with_each_answer_its_own_and_a_failed_dependency_is_not_run()
-> anyhow::Result<()> {
    let s = Sim::start().await?;
    let grace = s.token("grace", "Grace", ALL_SCOPES).await?;
    let leo = s.id_of("leo", &grace).await?;
    let batch = json!({"requests": [
        {"id": "a", "method": "GET", "url": "/users/nobody@larkspur.example"},
        {"id": "b", "method": "PATCH", "url": format!("/users/{leo}"), "body": {"jobTitle": "Staff Engineer"}, "dependsOn": ["a"]},
        {"id": "c", "method": "PATCH", "url": format!("/users/{leo}"), "body": {"officeLocation": "Lisbon 1F"}},
        {"id": "d", "method": "GET", "url": format!("/users/{leo}?$select=jobTitle,officeLocation"), "dependsOn": ["c"]},
    ]});
    let answer = s
        .call(Method::POST, "/v1.0/$batch", Some(&grace), Some(batch))
        .await?;
    assert_eq!(answer.status.as_u16(), 200, "{}", answer.body);
    let by_id = |id: &str| {
        answer.body["responses"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|r| r["id"] == id)
            .cloned()
            .unwrap_or_default()
    };
    assert_eq!(by_id("a")["status"], 404);
    assert_eq!(
        by_id("a")["body"]["error"]["code"],
        "Request_ResourceNotFound"
    );
    assert_eq!(by_id("b")["status"], 424, "not run: its dependency failed");
    assert_eq!(by_id("c")["status"], 204);
    assert_eq!(by_id("d")["body"]["officeLocation"], "Lisbon 1F");
    assert_ne!(by_id("d")["body"]["jobTitle"], "Staff Engineer");

    // More than 20, or a dependency on a later request, is refused whole: nothing runs.
    let many: Vec<Value> = (0..21)
        .map(|i| json!({"id": i.to_string(), "method": "PATCH", "url": format!("/users/{leo}"), "body": {"officeLocation": "Nowhere"}}))
        .collect();
    let refused = s
        .call(
            Method::POST,
            "/v1.0/$batch",
            Some(&grace),
            Some(json!({"requests": many})),
        )
        .await?;
    assert_eq!(refused.status.as_u16(), 400);
    let backwards = json!({"requests": [
        {"id": "1", "method": "PATCH", "url": format!("/users/{leo}"), "body": {"officeLocation": "Nowhere"}, "dependsOn": ["2"]},
        {"id": "2", "method": "GET", "url": "/me"},
    ]});
    let refused = s
        .call(Method::POST, "/v1.0/$batch", Some(&grace), Some(backwards))
        .await?;
    assert_eq!(refused.status.as_u16(), 400);
    let now = s
        .get(&format!("/v1.0/users/{leo}?$select=officeLocation"), &grace)
        .await?;
    assert_eq!(now.body["officeLocation"], "Lisbon 1F");
    Ok(())
}
