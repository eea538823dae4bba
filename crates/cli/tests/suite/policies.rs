//! Policies change while Steward runs: a new set is validated whole and swapped in atomically;
//! a broken one leaves the old set in force.

use std::time::Duration;

use steward_cli::wiring::{PolicySlot, load_policies, policy_sources, watch_policies};
use steward_domain::report::{ActionStatus, TurnStatus};

use super::support::Harness;

async fn wait_for<F: Fn() -> bool>(what: &str, check: F) -> anyhow::Result<()> {
    for _ in 0..100 {
        if check() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    anyhow::bail!("timed out waiting for {what}")
}

#[tokio::test]
async fn a_broken_set_leaves_the_old_one_and_a_valid_one_takes_effect() -> anyhow::Result<()> {
    let h = Harness::new().await?;
    let dir = h.tenant.policy_dir.clone();
    let before = h.runtime().gateway().policy().policy_set_hash().to_owned();

    // A syntax error: refused whole, with file and line; the old set stays.
    std::fs::write(
        dir.join("zz-broken.cedar"),
        "@id(\"tenant.x\")\n@layer(\"tenant\")\npermit (principal, action, resource\n",
    )?;
    let err = h
        .runtime()
        .reload_policies(&policy_sources(Some(&dir))?, "test")
        .await
        .expect_err("broken set refused");
    assert!(err.to_string().contains("zz-broken.cedar:"), "{err}");
    assert_eq!(h.runtime().gateway().policy().policy_set_hash(), before);
    std::fs::remove_file(dir.join("zz-broken.cedar"))?;

    // Without the approval path for re-enabling, the same request is now denied.
    let action = std::fs::read_to_string(dir.join("action.cedar"))?;
    let start = action
        .find("@id(\"action.enable-needs-approval\")")
        .expect("policy present");
    let end = start + action[start..].find("};").expect("policy end") + 2;
    std::fs::write(
        dir.join("action.cedar"),
        format!("{}{}", &action[..start], &action[end..]),
    )?;
    let hash = h
        .runtime()
        .reload_policies(&policy_sources(Some(&dir))?, "test")
        .await?;
    assert_ne!(hash, before);
    let report = h.ask("tom", "my account is disabled").await?;
    assert_eq!(report.status, TurnStatus::Escalated, "{}", report.reply);
    assert_eq!(report.actions[0].status, ActionStatus::Denied);
    assert_eq!(report.actions[0].decision.policy_set_hash, hash);
    let records = h.runtime().store.audit_records(None).await?;
    assert!(
        records
            .iter()
            .any(|r| r.entry.kind.to_string() == "policyAmendment")
    );
    assert!(h.runtime().store.verify_audit().await?.intact());
    Ok(())
}

#[tokio::test]
async fn the_watcher_reloads_on_change_and_keeps_the_old_set_on_error() -> anyhow::Result<()> {
    let h = Harness::new().await?;
    let dir = h.tenant.policy_dir.clone();
    let runtime = h.tenant.runtime.clone();
    let watcher = watch_policies(
        runtime.clone(),
        dir.clone(),
        Duration::from_millis(50),
        PolicySlot::Enforced,
    );
    let before = runtime.gateway().policy().policy_set_hash().to_owned();
    let count = runtime.gateway().policy().policy_count();

    std::fs::write(
        dir.join("extra.cedar"),
        "@id(\"runtime.broken\")\n@layer(\"runtime\")\nforbid (principal, action, resource) when { context.nonsense };\n",
    )?;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        runtime.gateway().policy().policy_set_hash(),
        before,
        "an invalid set is never loaded"
    );

    std::fs::write(
        dir.join("extra.cedar"),
        "// Nothing after 22:00.\n@id(\"runtime.quiet-hours\")\n@layer(\"runtime\")\nforbid (principal, action in Action::\"mutating\", resource) when { context.localHour >= 22 };\n",
    )?;
    wait_for("the reload", || {
        runtime.gateway().policy().policy_set_hash() != before
    })
    .await?;
    assert_eq!(runtime.gateway().policy().policy_count(), count + 1);
    watcher.abort();
    Ok(())
}

#[tokio::test]
async fn shadow_mode_records_differences_without_changing_decisions() -> anyhow::Result<()> {
    let h = Harness::new().await?;
    let dir = h.tenant.policy_dir.clone();
    // The candidate: the default set, but re-enabling accounts is no longer possible at all.
    let candidate = tempfile::tempdir()?;
    for entry in std::fs::read_dir(&dir)? {
        let path = entry?.path();
        let text = std::fs::read_to_string(&path)?
            .replace("when { context.approval.granted };", "when { false };");
        std::fs::write(
            candidate.path().join(path.file_name().unwrap_or_default()),
            text,
        )?;
    }
    let started = load_policies(h.runtime(), candidate.path(), PolicySlot::Shadow).await?;
    assert!(!started.is_empty());

    let report = h.ask("tom", "my account is disabled").await?;
    assert_eq!(
        report.status,
        TurnStatus::AwaitingApproval,
        "the enforced set still decides"
    );
    let records = h.audit_of(&report).await?;
    let shadow: Vec<_> = records
        .iter()
        .filter(|r| r.entry.kind.to_string() == "shadowDecision")
        .collect();
    assert_eq!(shadow.len(), 1, "exactly the one decision that differs");
    assert_eq!(shadow[0].entry.action.as_deref(), Some("entra.user.enable"));
    assert_eq!(shadow[0].entry.outcome.as_deref(), Some("deny"));
    assert_eq!(shadow[0].entry.detail["enforced"]["outcome"], "ask");

    // A request both sets decide alike leaves no shadow record.
    let report = h.ask("adele", "I'm locked out").await?;
    let records = h.audit_of(&report).await?;
    assert!(
        records
            .iter()
            .all(|r| r.entry.kind.to_string() != "shadowDecision")
    );

    // A broken candidate is refused and shadow mode keeps the previous candidate.
    std::fs::write(candidate.path().join("broken.cedar"), "permit (")?;
    assert!(
        load_policies(h.runtime(), candidate.path(), PolicySlot::Shadow)
            .await
            .is_err()
    );
    assert_eq!(
        h.runtime()
            .gateway()
            .shadow_policy()
            .map(|p| p.policy_set_hash().to_owned()),
        Some(started)
    );
    Ok(())
}
