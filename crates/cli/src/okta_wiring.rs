//! Connecting a tenant's Okta org: `[tenants.okta]` in the configuration, and the demo's
//! simulated org. Steward acts in Okta with delegated grants only — an Okta admin's for IT
//! requests and, when given, a help-desk identity's for the employee channel.

use std::sync::Arc;

use anyhow::Context as _;
use serde::Deserialize;
use steward_agent::TenantRuntime;
use steward_connectors::msgraph::{DelegatedCredential, RetryPolicy, TokenProvider};
use steward_connectors::okta::{OktaClient, OktaConnector, SCOPES};

/// `[tenants.okta]`: the org and whose grants to act with (refresh tokens from environment
/// variables; `offline_access` and the `okta.*` scopes consented).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OktaSection {
    /// The org URL (`https://larkspur.okta.com`).
    pub base_url: String,
    /// Steward's OIDC application (client) id in the org.
    pub client_id: String,
    /// The Okta admin whose grant IT requests act with.
    pub credential_owner: String,
    /// The environment variable holding that admin's refresh token.
    pub refresh_token_env: String,
    /// The identity whose grant self-service acts with (a help-desk admin); without it,
    /// self-service in Okta is refused.
    #[serde(default)]
    pub employee_owner: Option<String>,
    /// The environment variable holding the employee channel's refresh token.
    #[serde(default)]
    pub employee_refresh_token_env: Option<String>,
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
    let scopes = SCOPES
        .iter()
        .filter(|s| **s != "offline_access")
        .map(|s| (*s).to_owned())
        .chain(["offline_access".to_owned()])
        .collect();
    let tokens = TokenProvider::new(
        http.clone(),
        format!("{base}/oauth2/v1/token"),
        client_id.to_owned(),
        scopes,
        DelegatedCredential {
            owner: owner.to_owned(),
            refresh_token,
        },
    )
    .with_bare_scopes();
    Arc::new(OktaConnector::new(OktaClient::new(
        http,
        base,
        Arc::new(tokens),
        retry,
    )))
}

fn token_from(var: &str) -> anyhow::Result<String> {
    let value = std::env::var(var).with_context(|| {
        format!("the environment variable `{var}` (an Okta refresh token) is not set")
    })?;
    anyhow::ensure!(
        !value.trim().is_empty(),
        "the environment variable `{var}` is empty"
    );
    Ok(value)
}

/// Connects `section`'s org to `runtime`: its actions become runnable and policy decides them.
pub async fn attach(runtime: &TenantRuntime, section: &OktaSection) -> anyhow::Result<()> {
    url::Url::parse(&section.base_url)
        .with_context(|| format!("`base_url` {:?} is not a URL", section.base_url))?;
    let http = crate::wiring::http_client()?;
    let admin = connector(
        http.clone(),
        &section.base_url,
        &section.client_id,
        &section.credential_owner,
        token_from(&section.refresh_token_env)?,
        RetryPolicy::default(),
    );
    runtime.attach_system("okta", admin).await?;
    if let (Some(owner), Some(var)) = (&section.employee_owner, &section.employee_refresh_token_env)
    {
        let employee = connector(
            http,
            &section.base_url,
            &section.client_id,
            owner,
            token_from(var)?,
            RetryPolicy::default(),
        );
        runtime.attach_employee_system("okta", employee);
    }
    Ok(())
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
    let grant = |login: &'static str, password: &'static str| {
        let http = http.clone();
        let token_url = okta.token_url();
        async move {
            let answer: serde_json::Value = http
                .post(token_url)
                .form(&[
                    ("grant_type", "password"),
                    ("client_id", "0oa-steward-okta"),
                    ("username", login),
                    ("password", password),
                    ("scope", &SCOPES.join(" ")),
                ])
                .send()
                .await?
                .json()
                .await?;
            answer["refresh_token"]
                .as_str()
                .map(str::to_owned)
                .with_context(|| format!("the simulated Okta org refused {login}: {answer}"))
        }
    };
    let admin = grant("nestor@larkspur.example", "Demo-Nestor-2026!").await?;
    let employee = grant("steward-svc@larkspur.example", "Demo-StewardSvc-2026!").await?;
    runtime
        .attach_system(
            "okta",
            connector(
                http.clone(),
                &okta.base_url,
                "0oa-steward-okta",
                "nestor@larkspur.example",
                admin,
                RetryPolicy::default(),
            ),
        )
        .await?;
    runtime.attach_employee_system(
        "okta",
        connector(
            http,
            &okta.base_url,
            "0oa-steward-okta",
            "steward-svc@larkspur.example",
            employee,
            RetryPolicy::default(),
        ),
    );
    Ok(okta)
}
