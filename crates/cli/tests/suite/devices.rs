//! Intune through the gateway: a person's devices and why one is not compliant, remote actions
//! read back from what Intune records, self-service limited to one's own device, and a wipe that
//! always waits for a human.

use serde_json::{Value, json};
use steward_agent::{CallKind, GatewayOutcome};

use super::support::{Harness, USER_ADMIN_ONLY, upn, verified};

/// The demo tenant with Nestor (whose grant Steward acts with) also an Intune Administrator.
async fn harness() -> anyhow::Result<Harness> {
    Harness::with_role("nestor", "Intune Administrator").await
}

async fn device(h: &Harness, name: &str) -> anyhow::Result<Value> {
    let found = h
        .graph(&format!(
            "/v1.0/deviceManagement/managedDevices?$filter=deviceName%20eq%20'{name}'"
        ))
        .await?;
    found["value"]
        .get(0)
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("no device {name}"))
}

#[tokio::test]
async fn a_non_compliant_laptop_is_explained_and_its_owner_can_sync_it() -> anyhow::Result<()> {
    let h = harness().await?;
    let listed = h
        .call_action(
            "nestor",
            "intune.device.list_for_user",
            json!({"user": upn("leo")}),
            CallKind::Investigate,
        )
        .await?;
    let text = verified(&listed)?;
    assert!(
        text.contains("LS-LT-1003 (Windows") && text.contains("noncompliant"),
        "{text}"
    );

    // Leo asks about his own laptop: the failing policy and setting are named.
    let explained = h
        .call_action(
            "leo",
            "intune.device.get",
            json!({"device": "LS-LT-1003"}),
            CallKind::Investigate,
        )
        .await?;
    let text = verified(&explained)?;
    assert!(
        text.contains("failing: Windows 11 baseline: Require BitLocker (is false)"),
        "{text}"
    );

    let before = device(&h, "LS-LT-1003").await?["lastSyncDateTime"].clone();
    let synced = h
        .call_action(
            "leo",
            "intune.device.sync",
            json!({"device": "LS-LT-1003"}),
            CallKind::Act,
        )
        .await?;
    verified(&synced)?;
    let after = device(&h, "LS-LT-1003").await?;
    assert_ne!(after["lastSyncDateTime"], before);
    assert_eq!(after["deviceActionResults"][0]["actionName"], "syncDevice");

    // Someone else's laptop is out of reach for him, and nothing is sent.
    let refused = h
        .call_action(
            "leo",
            "intune.device.remote_lock",
            json!({"device": "LS-LT-1000"}),
            CallKind::Act,
        )
        .await?;
    assert!(
        matches!(refused, GatewayOutcome::Denied { .. }),
        "{refused:?}"
    );
    assert_eq!(
        device(&h, "LS-LT-1000").await?["deviceActionResults"],
        json!([])
    );
    Ok(())
}

#[tokio::test]
async fn retire_is_read_back_a_wipe_waits_and_an_unsupported_action_is_refused_clearly()
-> anyhow::Result<()> {
    let h = harness().await?;
    let retired = h
        .call_action(
            "nestor",
            "intune.device.retire",
            json!({"device": "LS-LT-1004"}),
            CallKind::Act,
        )
        .await?;
    assert!(verified(&retired)?.contains("retiring LS-LT-1004"));
    assert_eq!(
        device(&h, "LS-LT-1004").await?["managementState"],
        "retirePending"
    );

    let wipe = h
        .call_action(
            "nestor",
            "intune.device.wipe",
            json!({"device": "LS-IP-1005"}),
            CallKind::Act,
        )
        .await?;
    assert!(
        matches!(wipe, GatewayOutcome::NeedsApproval { .. }),
        "{wipe:?}"
    );
    assert_eq!(
        device(&h, "LS-IP-1005").await?["managementState"],
        "managed"
    );

    let passcode = h
        .call_action(
            "nestor",
            "intune.device.reset_passcode",
            json!({"device": "LS-LT-1006"}),
            CallKind::Act,
        )
        .await?;
    let GatewayOutcome::Failed { error, .. } = &passcode else {
        anyhow::bail!("a Windows passcode reset went through: {passcode:?}");
    };
    assert!(error.contains("not supported on Windows"), "{error}");

    let unknown = h
        .call_action(
            "nestor",
            "intune.device.reboot",
            json!({"device": "LS-LT-9999"}),
            CallKind::Act,
        )
        .await?;
    let GatewayOutcome::Failed { error, .. } = &unknown else {
        anyhow::bail!("an unknown device was acted on: {unknown:?}");
    };
    assert!(error.contains("no device `LS-LT-9999`"), "{error}");
    Ok(())
}

#[tokio::test]
async fn without_an_intune_role_the_refusal_says_so() -> anyhow::Result<()> {
    let h = Harness::with_only_roles("nestor", USER_ADMIN_ONLY).await?;
    let outcome = h
        .call_action(
            "nestor",
            "intune.device.list_for_user",
            json!({"user": upn("leo")}),
            CallKind::Investigate,
        )
        .await?;
    let GatewayOutcome::Failed { error, .. } = &outcome else {
        anyhow::bail!("expected Intune's refusal: {outcome:?}");
    };
    assert!(error.contains("directory role does not allow"), "{error}");
    Ok(())
}
