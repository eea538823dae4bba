//! A grant without the permission an action needs: the platform's refusal reaches the requester
//! and the audit trail naming the missing delegated permission, and nothing broader is tried.

use std::time::Duration;

use serde_json::Value;
use steward_agent::TenantConfig;
use steward_cli::wiring::{GraphSetup, install_default_policies, tenant_runtime};
use steward_connectors::msgraph::{self, DelegatedCredential, RetryPolicy};
use steward_domain::{Channel, TenantId};

#[tokio::test]
async fn a_missing_permission_is_named_not_worked_around() -> anyhow::Result<()> {
    let sim = steward_sim::start(steward_sim::demo_seed()?, None).await?;
    // Nestor consented to everything Steward asks for except resetting passwords.
    let scope = msgraph::SCOPES
        .iter()
        .filter(|s| **s != "UserAuthenticationMethod.ReadWrite.All")
        .map(|s| format!("https://graph.microsoft.com/{s}"))
        .chain(["offline_access".to_owned()])
        .collect::<Vec<_>>()
        .join(" ");
    let client_id = "5e3ce6c0-2b1f-4285-8d4b-75ee78787346";
    let tokens: Value = reqwest::Client::new()
        .post(sim.token_url())
        .form(&[
            ("grant_type", "password"),
            ("client_id", client_id),
            ("username", "nestor@larkspur.example"),
            ("password", "Demo-Nestor-2026!"),
            ("scope", scope.as_str()),
        ])
        .send()
        .await?
        .json()
        .await?;
    let refresh_token = tokens["refresh_token"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("no refresh token: {tokens}"))?
        .to_owned();

    let dir = tempfile::tempdir()?;
    let store = steward_store::Store::open(&dir.path().join("steward.db")).await?;
    let policy_dir = dir.path().join("policies/larkspur-labs");
    install_default_policies(&policy_dir)?;
    let config = TenantConfig {
        id: TenantId::new("larkspur-labs")?,
        name: "Larkspur Labs".into(),
        domain: sim.domain.clone(),
        it_admins_group: "IT Admins".into(),
        protected_identities: vec![],
        utc_offset_minutes: 0,
        approval_ttl: Duration::from_secs(3600),
        intent_lease: steward_agent::DEFAULT_INTENT_LEASE,
    };
    let graph = GraphSetup {
        base_url: sim.base_url.clone(),
        token_url: sim.token_url(),
        client_id: client_id.into(),
        credential: DelegatedCredential {
            owner: "nestor@larkspur.example".into(),
            refresh_token,
        },
        kept_in_store: false,
    };
    let runtime = tenant_runtime(
        &store,
        config,
        graph,
        Some(&policy_dir),
        RetryPolicy::default(),
    )
    .await?;
    // An IT admin's request acts with the administrator's grant (self-service would use the
    // employee channel's, which this tenant never connected).
    let report = runtime
        .handle(
            "hank@larkspur.example",
            Channel::Cli,
            "request to reset microsoft online services password for maria.chen@larkspur.example",
            None,
        )
        .await?;
    let text = serde_json::to_string(&report)?;
    assert!(
        text.contains("needs the delegated permission UserAuthenticationMethod.ReadWrite.All"),
        "{text}"
    );
    let failed = runtime
        .store
        .audit_records(None)
        .await?
        .into_iter()
        .find(|r| r.entry.outcome.as_deref() == Some("failed"))
        .ok_or_else(|| anyhow::anyhow!("the refusal was not audited"))?;
    assert!(failed.entry.detail.to_string().contains("steward connect"));
    // Only the one refused call was made: no second attempt with anything else.
    let resets = sim
        .requests()
        .await
        .iter()
        .filter(|r| r.path.ends_with("/resetPassword"))
        .count();
    assert_eq!(resets, 1);
    Ok(())
}
