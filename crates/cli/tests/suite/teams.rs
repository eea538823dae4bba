//! Teams members and group owners through the gateway, each checked by reading the team or group
//! back: a member added, promoted to owner and removed; a team's last owner kept; an employee's
//! request to join waiting for IT; an owner added and removed; a person's memberships listed.

use serde_json::{Value, json};
use steward_agent::{CallKind, GatewayOutcome};

use super::support::{Harness, upn, verified};

async fn harness() -> anyhow::Result<Harness> {
    Harness::with_role("nestor", "Teams Administrator").await
}

/// The team's members as (sign-in address, roles).
async fn team_roles(h: &Harness, team_id: &str) -> anyhow::Result<Vec<(String, Value)>> {
    let members = h.graph(&format!("/v1.0/teams/{team_id}/members")).await?;
    Ok(members["value"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| {
            (
                m["email"].as_str().unwrap_or_default().to_owned(),
                m["roles"].clone(),
            )
        })
        .collect())
}

#[tokio::test]
async fn a_team_member_is_added_promoted_and_removed_and_the_last_owner_stays() -> anyhow::Result<()>
{
    let h = harness().await?;
    let team = h.group_id("Engineering").await?;
    let felix = upn("felix");
    let add = |owner: bool| json!({"team": "Engineering", "user": felix, "owner": owner});
    let added = h
        .call_action("nestor", "teams.member.add", add(false), CallKind::Act)
        .await?;
    assert!(verified(&added)?.contains("as member"));
    assert!(
        team_roles(&h, &team)
            .await?
            .contains(&(felix.clone(), json!([])))
    );

    let promoted = h
        .call_action("nestor", "teams.member.add", add(true), CallKind::Act)
        .await?;
    assert!(verified(&promoted)?.contains("as owner"));
    assert!(
        team_roles(&h, &team)
            .await?
            .contains(&(felix.clone(), json!(["owner"])))
    );

    let removed = h
        .call_action(
            "nestor",
            "teams.member.remove",
            json!({"team": team, "user": felix}),
            CallKind::Act,
        )
        .await?;
    verified(&removed)?;
    assert!(
        !team_roles(&h, &team)
            .await?
            .iter()
            .any(|(who, _)| *who == felix)
    );

    // Arjun is Engineering's only owner: Teams keeps him.
    let last = h
        .call_action(
            "nestor",
            "teams.member.remove",
            json!({"team": team, "user": upn("arjun")}),
            CallKind::Act,
        )
        .await?;
    let GatewayOutcome::Failed { error, .. } = &last else {
        anyhow::bail!("the last owner was removed: {last:?}");
    };
    assert!(error.contains("last owner"), "{error}");

    // An employee's request to join waits for an IT admin, and nothing changes meanwhile.
    let asked = h
        .call_action(
            "felix",
            "teams.member.add",
            json!({"team": "Project Phoenix", "user": felix}),
            CallKind::Act,
        )
        .await?;
    assert!(
        matches!(asked, GatewayOutcome::NeedsApproval { .. }),
        "{asked:?}"
    );
    let phoenix = h.group_id("Project Phoenix").await?;
    assert!(
        !team_roles(&h, &phoenix)
            .await?
            .iter()
            .any(|(who, _)| *who == felix)
    );
    Ok(())
}

#[tokio::test]
async fn a_group_owner_is_added_and_removed_and_memberships_are_listed() -> anyhow::Result<()> {
    let h = harness().await?;
    let vpn = h.group_id("VPN Users").await?;
    let owners = |v: Value| -> Vec<String> {
        v["value"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|o| o["userPrincipalName"].as_str().map(str::to_owned))
            .collect()
    };
    let params = json!({"group": vpn, "user": upn("lars")});
    let added = h
        .call_action(
            "nestor",
            "entra.group.add_owner",
            params.clone(),
            CallKind::Act,
        )
        .await?;
    assert!(verified(&added)?.contains("made lars@"));
    assert!(owners(h.graph(&format!("/v1.0/groups/{vpn}/owners")).await?).contains(&upn("lars")));

    let removed = h
        .call_action("nestor", "entra.group.remove_owner", params, CallKind::Act)
        .await?;
    verified(&removed)?;
    assert!(!owners(h.graph(&format!("/v1.0/groups/{vpn}/owners")).await?).contains(&upn("lars")));

    let groups = h
        .call_action(
            "nestor",
            "entra.user.list_groups",
            json!({"user": upn("nestor")}),
            CallKind::Investigate,
        )
        .await?;
    let text = verified(&groups)?;
    assert!(
        text.contains("IT Admins") && text.contains("admin roles: User Administrator"),
        "{text}"
    );
    Ok(())
}
