//! Exchange Online through the gateway: inbox rules forwarding outside the organisation found and
//! removed, automatic replies set and turned off, calendar delegation shared and unshared — each
//! checked by reading the mailbox back; and without access to the mailbox the refusal names the
//! owner's role, never a broader credential.

use serde_json::{Value, json};
use steward_agent::{CallKind, GatewayOutcome};

use super::support::{Harness, USER_ADMIN_ONLY, upn};

/// The demo tenant with Nestor (whose grant Steward acts with) also an Exchange Administrator,
/// which the simulator counts as access to every mailbox.
async fn harness() -> anyhow::Result<Harness> {
    Harness::with_role("nestor", "Exchange Administrator").await
}

async fn rules_of(h: &Harness, who: &str) -> anyhow::Result<Vec<String>> {
    let rules = h
        .graph(&format!(
            "/v1.0/users/{}/mailFolders/inbox/messageRules",
            upn(who)
        ))
        .await?;
    Ok(rules["value"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["displayName"].as_str().map(str::to_owned))
        .collect())
}

fn done(outcome: &GatewayOutcome) -> anyhow::Result<(&steward_connectors::ActionResult, bool)> {
    match outcome {
        GatewayOutcome::Done {
            result,
            verification,
            ..
        } => Ok((result, verification.as_ref().is_none_or(|v| v.passed))),
        other => anyhow::bail!("not done: {other:?}"),
    }
}

#[tokio::test]
async fn forwarding_outside_the_organisation_is_found_and_removed_and_internal_rules_stay()
-> anyhow::Result<()> {
    let h = harness().await?;
    let listed = h
        .call_action(
            "nestor",
            "exchange.inbox_rules.list",
            json!({"user": upn("ryan")}),
            CallKind::Investigate,
        )
        .await?;
    let (result, _) = done(&listed)?;
    assert!(
        result
            .summary
            .contains("1 forward outside the organisation: \"Invoice\" → ryan.finance@mailbox-relay.example.net"),
        "{}",
        result.summary
    );
    // Olivia's rule forwards to a colleague: not a sign of compromise.
    let olivia = h
        .call_action(
            "nestor",
            "exchange.inbox_rules.list",
            json!({"user": upn("olivia")}),
            CallKind::Investigate,
        )
        .await?;
    assert!(
        done(&olivia)?.0.summary.contains("none forwards outside"),
        "{olivia:?}"
    );

    let removed = h
        .call_action(
            "nestor",
            "exchange.inbox_rules.remove_external_forwarding",
            json!({"user": upn("ryan")}),
            CallKind::Act,
        )
        .await?;
    let (result, verified) = done(&removed)?;
    assert!(verified, "{removed:?}");
    assert!(
        result.summary.contains("removed 1 inbox rule"),
        "{}",
        result.summary
    );
    // The removed rule is kept in the result so a human could recreate it.
    assert_eq!(
        result
            .before
            .as_ref()
            .and_then(|b| b.pointer("/rules/0/rule/displayName")),
        Some(&json!("Invoice"))
    );
    assert_eq!(rules_of(&h, "ryan").await?, vec!["Newsletters to folder"]);
    assert_eq!(rules_of(&h, "olivia").await?, vec!["Board papers to Wendy"]);

    // Running it again finds nothing to do and still verifies.
    let again = h
        .call_action(
            "nestor",
            "exchange.inbox_rules.remove_external_forwarding",
            json!({"user": upn("ryan")}),
            CallKind::Act,
        )
        .await?;
    let (result, verified) = done(&again)?;
    assert!(
        verified && result.summary.contains("nothing to remove"),
        "{again:?}"
    );
    Ok(())
}

#[tokio::test]
async fn automatic_replies_are_scheduled_then_turned_off_and_read_back() -> anyhow::Result<()> {
    let h = harness().await?;
    let set = h
        .call_action(
            "nestor",
            "exchange.auto_reply.set",
            json!({
                "user": upn("adele"),
                "message": "I'm away until 5 December; Felix covers campaigns.",
                "externalAudience": "contactsOnly",
                "start": "2026-12-01",
                "end": "2026-12-05T17:00:00Z",
            }),
            CallKind::Act,
        )
        .await?;
    let (result, verified) = done(&set)?;
    assert!(verified, "{set:?}");
    assert!(result.summary.contains("scheduled"), "{}", result.summary);
    let settings = h
        .graph(&format!("/v1.0/users/{}/mailboxSettings", upn("adele")))
        .await?;
    let replies = &settings["automaticRepliesSetting"];
    assert_eq!(replies["status"], "scheduled");
    assert_eq!(replies["externalAudience"], "contactsOnly");
    assert_eq!(
        replies["externalReplyMessage"],
        "I'm away until 5 December; Felix covers campaigns."
    );
    assert_eq!(
        replies["scheduledEndDateTime"],
        json!({"dateTime": "2026-12-05T17:00:00.0000000", "timeZone": "UTC"})
    );

    // An end before the start is refused before anything is sent.
    let backwards = h
        .call_action(
            "nestor",
            "exchange.auto_reply.set",
            json!({"user": upn("adele"), "message": "x", "start": "2026-12-05", "end": "2026-12-01"}),
            CallKind::Act,
        )
        .await?;
    let GatewayOutcome::Failed { error, .. } = &backwards else {
        anyhow::bail!("accepted a backwards schedule: {backwards:?}");
    };
    assert!(error.contains("must be after"), "{error}");

    let off = h
        .call_action(
            "nestor",
            "exchange.auto_reply.disable",
            json!({"user": upn("adele")}),
            CallKind::Act,
        )
        .await?;
    assert!(done(&off)?.1, "{off:?}");
    let settings = h
        .graph(&format!("/v1.0/users/{}/mailboxSettings", upn("adele")))
        .await?;
    assert_eq!(settings["automaticRepliesSetting"]["status"], "disabled");

    // Zoe's seeded out-of-office reads as on, for anyone (like the reply itself).
    let zoe = h
        .call_action(
            "adele",
            "exchange.auto_reply.get",
            json!({"user": upn("zoe")}),
            CallKind::Investigate,
        )
        .await?;
    assert!(done(&zoe)?.0.summary.contains("are on"), "{zoe:?}");
    Ok(())
}

#[tokio::test]
async fn a_calendar_delegate_is_added_changed_and_removed() -> anyhow::Result<()> {
    let h = harness().await?;
    let permissions = |v: Value| -> Vec<(String, String)> {
        v["value"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| {
                (
                    p["emailAddress"]["address"]
                        .as_str()
                        .or(p["emailAddress"]["name"].as_str())
                        .unwrap_or_default()
                        .to_owned(),
                    p["role"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect()
    };
    let path = format!("/v1.0/users/{}/calendar/calendarPermissions", upn("adele"));
    for role in ["delegateWithoutPrivateEventAccess", "read"] {
        let shared = h
            .call_action(
                "nestor",
                "exchange.calendar.share",
                json!({"user": upn("adele"), "with": upn("felix"), "role": role}),
                CallKind::Act,
            )
            .await?;
        assert!(done(&shared)?.1, "{shared:?}");
        assert!(
            permissions(h.graph(&path).await?).contains(&(upn("felix"), role.to_owned())),
            "{role}"
        );
    }
    let unshared = h
        .call_action(
            "nestor",
            "exchange.calendar.unshare",
            json!({"user": upn("adele"), "with": upn("felix")}),
            CallKind::Act,
        )
        .await?;
    assert!(done(&unshared)?.1, "{unshared:?}");
    let left = permissions(h.graph(&path).await?);
    assert_eq!(
        left,
        vec![("My Organization".to_owned(), "freeBusyRead".to_owned())]
    );

    // An employee cannot open a colleague's calendar to someone.
    let refused = h
        .call_action(
            "felix",
            "exchange.calendar.share",
            json!({"user": upn("adele"), "with": upn("felix"), "role": "write"}),
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
async fn without_access_to_the_mailbox_the_refusal_names_the_owners_role() -> anyhow::Result<()> {
    // Nestor as a User Administrator only, which opens no one's mailbox.
    let h = Harness::with_only_roles("nestor", USER_ADMIN_ONLY).await?;
    let outcome = h
        .call_action(
            "nestor",
            "exchange.auto_reply.set",
            json!({"user": upn("adele"), "message": "away"}),
            CallKind::Act,
        )
        .await?;
    let GatewayOutcome::Failed { error, .. } = &outcome else {
        anyhow::bail!("expected Exchange's refusal: {outcome:?}");
    };
    assert!(error.contains("ErrorAccessDenied"), "{error}");
    assert!(
        error.contains("grant includes MailboxSettings.ReadWrite")
            && error.contains("directory role"),
        "{error}"
    );
    let settings = h
        .graph(&format!("/v1.0/users/{}/mailboxSettings", upn("adele")))
        .await;
    // Grace (Global Administrator) reads it: still off.
    assert_eq!(settings?["automaticRepliesSetting"]["status"], "disabled");
    Ok(())
}
