//! Connecting a tenant's Okta org: `[tenants.okta]` in the configuration, and the demo's
//! simulated org. Steward acts in Okta with delegated grants only — an Okta admin's for IT
//! requests and, when given, a help-desk identity's for the employee channel.

use std::sync::Arc;

use anyhow::Context as _;
use serde::Deserialize;
use steward_agent::TenantRuntime;
use steward_connectors::msgraph::{DelegatedCredential, RetryPolicy, TokenProvider};
use steward_connectors::okta::{OktaClient, OktaConnector, SCOPES};

/// The id under which `steward connect --system okta` keeps the admin's Okta grant.
pub const OKTA_CREDENTIAL: &str = "okta";

/// The id under which it keeps the employee channel's Okta grant.
pub const OKTA_EMPLOYEE_CREDENTIAL: &str = "okta-employee";

/// `[tenants.okta]`: the org and whose grants to act with (refresh tokens kept by
/// `steward connect --system okta`, or from environment variables; `offline_access` and the
/// `okta.*` scopes consented).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OktaSection {
    /// The org URL (`https://larkspur.okta.com`).
    pub base_url: String,
    /// Steward's OIDC application (client) id in the org.
    pub client_id: String,
    /// The Okta admin whose grant IT requests act with.
    pub credential_owner: String,
    /// The environment variable holding that admin's refresh token; without it (or unset),
    /// the grant `steward connect --system okta` kept in the store.
    #[serde(default)]
    pub refresh_token_env: Option<String>,
    /// The identity whose grant self-service acts with (a help-desk admin); without it,
    /// self-service in Okta is refused.
    #[serde(default)]
    pub employee_owner: Option<String>,
    /// The environment variable holding the employee channel's refresh token.
    #[serde(default)]
    pub employee_refresh_token_env: Option<String>,
}

/// The token provider of `owner`'s refresh token at the org's token endpoint.
fn tokens(
    http: reqwest::Client,
    base: &str,
    client_id: &str,
    owner: &str,
    refresh_token: String,
) -> TokenProvider {
    TokenProvider::new(
        http,
        format!("{base}/oauth2/v1/token"),
        client_id.to_owned(),
        // The provider asks for `offline_access` itself.
        SCOPES
            .iter()
            .filter(|s| **s != "offline_access")
            .map(|s| (*s).to_owned())
            .collect(),
        DelegatedCredential {
            owner: owner.to_owned(),
            refresh_token,
        },
    )
    .with_bare_scopes()
}

/// The connector acting with `owner`'s refresh token at the org's token endpoint.
pub fn connector(
    http: reqwest::Client,
    base_url: &str,
    client_id: &str,
    owner: &str,
    refresh_token: String,
    retry: RetryPolicy,
) -> Arc<OktaConnector> {
    let base = base_url.trim_end_matches('/');
    let tokens = tokens(http.clone(), base, client_id, owner, refresh_token);
    Arc::new(OktaConnector::new(OktaClient::new(
        http,
        base,
        Arc::new(tokens),
        retry,
    )))
}

/// Connects `section`'s org to `runtime`: its actions become runnable and policy decides them.
pub async fn attach(runtime: &TenantRuntime, section: &OktaSection) -> anyhow::Result<()> {
    url::Url::parse(&section.base_url)
        .with_context(|| format!("`base_url` {:?} is not a URL", section.base_url))?;
    let http = crate::wiring::http_client()?;
    let (token, kept) = crate::wiring::grant_token(
        &runtime.store,
        section.refresh_token_env.as_deref(),
        OKTA_CREDENTIAL,
        "steward connect --system okta",
    )
    .await?;
    let admin = kept_connector(
        runtime,
        http.clone(),
        section,
        &section.credential_owner,
        token,
        kept.then_some(OKTA_CREDENTIAL),
    );
    runtime.attach_system("okta", admin).await?;
    if let Some(owner) = &section.employee_owner {
        let (token, kept) = crate::wiring::grant_token(
            &runtime.store,
            section.employee_refresh_token_env.as_deref(),
            OKTA_EMPLOYEE_CREDENTIAL,
            "steward connect --system okta --for employees",
        )
        .await?;
        let employee = kept_connector(
            runtime,
            http,
            section,
            owner,
            token,
            kept.then_some(OKTA_EMPLOYEE_CREDENTIAL),
        );
        runtime.attach_employee_system("okta", employee);
    }
    Ok(())
}

/// [`connector`], keeping rotated refresh tokens in the store when the grant came from there.
fn kept_connector(
    runtime: &TenantRuntime,
    http: reqwest::Client,
    section: &OktaSection,
    owner: &str,
    token: String,
    kept: Option<&'static str>,
) -> Arc<OktaConnector> {
    let base = section.base_url.trim_end_matches('/');
    let mut tokens = tokens(http.clone(), base, &section.client_id, owner, token);
    if let Some(credential) = kept {
        tokens = tokens.keeping_tokens_in(Arc::new(steward_agent::StoredToken {
            store: runtime.store.clone(),
            owner: owner.to_owned(),
            credential: credential.to_owned(),
        }));
    }
    Arc::new(OktaConnector::new(OktaClient::new(
        http,
        base,
        Arc::new(tokens),
        RetryPolicy::default(),
    )))
}

/// The demo's simulated Okta org, connected with its admin's and help-desk identity's grants
/// (the simulator's password grant stands in for their sign-ins).
pub async fn attach_demo_org(
    runtime: &TenantRuntime,
) -> anyhow::Result<steward_sim::okta::RunningOkta> {
    let okta = steward_sim::okta::RunningOkta::start(&steward_sim::okta::okta_demo_seed()?)
        .await
        .context("cannot start the simulated Okta org")?;
    let http = crate::wiring::http_client()?;
    let client = "0oa-steward-okta";
    let scope = SCOPES.join(" ");
    for (login, password, employee) in [
        ("nestor@larkspur.example", "Demo-Nestor-2026!", false),
        (
            "steward-svc@larkspur.example",
            "Demo-StewardSvc-2026!",
            true,
        ),
    ] {
        let refresh =
            crate::wiring::sim_refresh_token(&okta.token_url(), client, login, password, &scope)
                .await?;
        let connected = connector(
            http.clone(),
            &okta.base_url,
            client,
            login,
            refresh,
            RetryPolicy::default(),
        );
        if employee {
            runtime.attach_employee_system("okta", connected);
        } else {
            runtime.attach_system("okta", connected).await?;
        }
    }
    Ok(okta)
}
