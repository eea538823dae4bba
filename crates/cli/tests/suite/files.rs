//! SharePoint and OneDrive through the gateway, each change read back from the item's
//! permissions: an oversharing found and closed by its owner, access granted and removed, a
//! leaver's OneDrive handed to their manager, a site folder's anonymous link removed by IT, and
//! employees kept out of what is not theirs.

use serde_json::{Value, json};
use steward_agent::{CallKind, GatewayOutcome};

use super::support::{Harness, USER_ADMIN_ONLY, upn, verified};

const FINANCE_SITE: &str = "larkspur.sharepoint.com,7f3c2a10-1b2c-4d5e-8f90-a1b2c3d4e5f6,2b1c0d9e-8f7a-4b6c-9d5e-0f1a2b3c4d5e";

/// The demo tenant with Nestor (whose grant Steward acts with) also a SharePoint Administrator.
async fn harness() -> anyhow::Result<Harness> {
    Harness::with_role("nestor", "SharePoint Administrator").await
}

/// The item's permissions as Graph lists them.
async fn permissions(h: &Harness, drive: &str, item: &str) -> anyhow::Result<Vec<Value>> {
    let listed = h
        .graph(&format!("/v1.0/drives/{drive}/items/{item}/permissions"))
        .await?;
    Ok(listed["value"].as_array().cloned().unwrap_or_default())
}

async fn one_drive_of(h: &Harness, who: &str) -> anyhow::Result<String> {
    let drive = h.graph(&format!("/v1.0/users/{}/drive", upn(who))).await?;
    Ok(drive["id"].as_str().unwrap_or_default().to_owned())
}

/// The roles an item's permissions give the person with directory id `id`.
fn roles_of(permissions: &[Value], id: &str) -> Option<Value> {
    permissions
        .iter()
        .find(|p| p.pointer("/grantedToV2/user/id").and_then(Value::as_str) == Some(id))
        .map(|p| p["roles"].clone())
}

async fn id_of(h: &Harness, who: &str) -> anyhow::Result<String> {
    Ok(h.user(who).await?["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned())
}

fn anonymous(permissions: &[Value]) -> usize {
    permissions
        .iter()
        .filter(|p| p.pointer("/link/scope").and_then(Value::as_str) == Some("anonymous"))
        .count()
}

#[tokio::test]
async fn an_overshared_file_is_found_and_its_owner_closes_it() -> anyhow::Result<()> {
    let h = harness().await?;
    let drive = one_drive_of(&h, "adele").await?;
    let brief = json!({"owner": upn("adele"), "item": "01ADELEBRIEF"});
    let listed = h
        .call_action(
            "nestor",
            "onedrive.item.list_access",
            brief.clone(),
            CallKind::Investigate,
        )
        .await?;
    let text = verified(&listed)?;
    assert!(
        text.contains("an anyone-with-the-link edit link (write)")
            && text.contains("Felix Moreau (write)")
            && text.contains("Adele Brooks (owner, inherited)")
            && text.contains("1 link(s) open to anyone"),
        "{text}"
    );

    // Adele closes the link herself; Felix keeps his access.
    let closed = h
        .call_action(
            "adele",
            "onedrive.item.remove_anonymous_links",
            brief.clone(),
            CallKind::Act,
        )
        .await?;
    assert!(verified(&closed)?.contains("removed 1 anonymous link"));
    let now = permissions(&h, &drive, "01ADELEBRIEF").await?;
    assert_eq!(anonymous(&now), 0);
    assert_eq!(
        roles_of(&now, &id_of(&h, "felix").await?),
        Some(json!(["write"]))
    );

    // She shares it with the organisation instead.
    let link = h
        .call_action(
            "adele",
            "onedrive.item.create_link",
            json!({"owner": upn("adele"), "item": "01ADELEBRIEF", "type": "view"}),
            CallKind::Act,
        )
        .await?;
    verified(&link)?;
    assert!(
        permissions(&h, &drive, "01ADELEBRIEF")
            .await?
            .iter()
            .any(|p| p.pointer("/link/scope") == Some(&json!("organization")))
    );

    // Felix cannot share Adele's files.
    let refused = h
        .call_action(
            "felix",
            "onedrive.item.grant",
            json!({"owner": upn("adele"), "item": "01ADELEBRIEF", "with": upn("lars"), "role": "read"}),
            CallKind::Act,
        )
        .await?;
    assert!(
        matches!(refused, GatewayOutcome::Denied { .. }),
        "{refused:?}"
    );
    assert_eq!(
        roles_of(
            &permissions(&h, &drive, "01ADELEBRIEF").await?,
            &id_of(&h, "lars").await?
        ),
        None
    );
    Ok(())
}

#[tokio::test]
async fn access_is_granted_and_removed_and_a_leavers_onedrive_goes_to_the_manager()
-> anyhow::Result<()> {
    let h = harness().await?;
    let drive = one_drive_of(&h, "adele").await?;
    let granted = h
        .call_action(
            "nestor",
            "onedrive.item.grant",
            json!({"owner": upn("adele"), "item": "01ADELEBRIEF", "with": upn("lars"), "role": "read"}),
            CallKind::Act,
        )
        .await?;
    verified(&granted)?;
    assert_eq!(
        roles_of(
            &permissions(&h, &drive, "01ADELEBRIEF").await?,
            &id_of(&h, "lars").await?
        ),
        Some(json!(["read"]))
    );
    let revoked = h
        .call_action(
            "nestor",
            "onedrive.item.revoke",
            json!({"owner": upn("adele"), "item": "01ADELEBRIEF", "with": upn("lars")}),
            CallKind::Act,
        )
        .await?;
    verified(&revoked)?;
    assert_eq!(
        roles_of(
            &permissions(&h, &drive, "01ADELEBRIEF").await?,
            &id_of(&h, "lars").await?
        ),
        None
    );

    // Tom has left; Victor, his manager, gets his OneDrive.
    let handed = h
        .call_action(
            "nestor",
            "onedrive.drive.handover_to_manager",
            json!({"user": upn("tom")}),
            CallKind::Act,
        )
        .await?;
    assert!(verified(&handed)?.contains("gave victor@larkspur.example write access to tom@"));
    let toms = one_drive_of(&h, "tom").await?;
    assert_eq!(
        roles_of(
            &permissions(&h, &toms, "root").await?,
            &id_of(&h, "victor").await?
        ),
        Some(json!(["write"]))
    );
    // The file inside is reached through the root.
    let inside = permissions(&h, &toms, "01TOMPIPELINE").await?;
    let victor = json!(id_of(&h, "victor").await?);
    assert!(inside.iter().any(|p| {
        p.pointer("/grantedToV2/user/id") == Some(&victor) && p.get("inheritedFrom").is_some()
    }));
    Ok(())
}

#[tokio::test]
async fn a_site_folders_anonymous_link_is_removed_by_it_and_employees_are_kept_out()
-> anyhow::Result<()> {
    let h = harness().await?;
    let payroll = json!({"site": FINANCE_SITE, "item": "01FINPAYROLL"});
    let listed = h
        .call_action(
            "nestor",
            "sharepoint.site.list_access",
            payroll.clone(),
            CallKind::Investigate,
        )
        .await?;
    let text = verified(&listed)?;
    assert!(
        text.contains("the Finance site")
            && text.contains("Finance Members (write, inherited)")
            && text.contains("anyone-with-the-link view link"),
        "{text}"
    );
    let removed = h
        .call_action(
            "nestor",
            "sharepoint.item.remove_anonymous_links",
            payroll.clone(),
            CallKind::Act,
        )
        .await?;
    verified(&removed)?;
    assert_eq!(
        anonymous(&permissions(&h, "b!financeDocs01", "01FINPAYROLL").await?),
        0
    );

    let refused = h
        .call_action(
            "felix",
            "sharepoint.item.grant",
            json!({"site": FINANCE_SITE, "with": upn("felix"), "role": "write"}),
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
async fn without_a_sharepoint_role_someone_elses_onedrive_is_refused_by_name() -> anyhow::Result<()>
{
    let h = Harness::with_only_roles("nestor", USER_ADMIN_ONLY).await?;
    let outcome = h
        .call_action(
            "nestor",
            "onedrive.item.list_access",
            json!({"owner": upn("adele")}),
            CallKind::Investigate,
        )
        .await?;
    let GatewayOutcome::Failed { error, .. } = &outcome else {
        anyhow::bail!("expected OneDrive's refusal: {outcome:?}");
    };
    assert!(
        error.contains("accessDenied") && error.contains("directory role does not allow"),
        "{error}"
    );
    Ok(())
}
