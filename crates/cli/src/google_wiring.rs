//! Connecting a tenant's Google Workspace: `[tenants.google]` in the configuration, and the
//! demo's simulated one. Steward acts in Google with delegated grants only — a Google admin's
//! for IT requests and, when given, a help-desk identity's for the employee channel.

use std::sync::Arc;

use anyhow::Context as _;
use serde::Deserialize;
use steward_agent::TenantRuntime;
use steward_connectors::google::{GoogleClient, GoogleConnector, SCOPES};
use steward_connectors::msgraph::{DelegatedCredential, RetryPolicy, TokenProvider};

/// `[tenants.google]`: the Admin SDK, the token endpoint and whose grants to act with (refresh
/// tokens from environment variables, the admin scopes consented).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoogleSection {
    /// `https://admin.googleapis.com` (or a simulator).
    #[serde(default = "default_base")]
    pub base_url: String,
    /// `https://oauth2.googleapis.com/token` (or a simulator's).
    #[serde(default = "default_token")]
    pub token_url: String,
    /// Steward's OAuth client id.
    pub client_id: String,
    /// The Google admin whose grant IT requests act with.
    pub credential_owner: String,
    /// The environment variable holding that admin's refresh token.
    pub refresh_token_env: String,
    /// The identity whose grant self-service acts with; without it, self-service in Google is
    /// refused.
    #[serde(default)]
    pub employee_owner: Option<String>,
    /// The environment variable holding the employee channel's refresh token.
    #[serde(default)]
    pub employee_refresh_token_env: Option<String>,
}

fn default_base() -> String {
    "https://admin.googleapis.com".into()
}

fn default_token() -> String {
    "https://oauth2.googleapis.com/token".into()
}

/// The connector acting with `owner`'s refresh token.
pub fn connector(
    http: reqwest::Client,
    base_url: &str,
    token_url: &str,
    client_id: &str,
    owner: &str,
    refresh_token: String,
    retry: RetryPolicy,
) -> Arc<GoogleConnector> {
    let tokens = TokenProvider::new(
        http.clone(),
        token_url.to_owned(),
        client_id.to_owned(),
        SCOPES.iter().map(|s| (*s).to_owned()).collect(),
        DelegatedCredential {
            owner: owner.to_owned(),
            refresh_token,
        },
    )
    .with_bare_scopes();
    Arc::new(GoogleConnector::new(GoogleClient::new(
        http,
        base_url,
        Arc::new(tokens),
        retry,
    )))
}

fn token_from(var: &str) -> anyhow::Result<String> {
    let value = std::env::var(var).with_context(|| {
        format!("the environment variable `{var}` (a Google refresh token) is not set")
    })?;
    anyhow::ensure!(
        !value.trim().is_empty(),
        "the environment variable `{var}` is empty"
    );
    Ok(value)
}

/// Connects `section`'s Workspace to `runtime`.
pub async fn attach(runtime: &TenantRuntime, section: &GoogleSection) -> anyhow::Result<()> {
    for url in [&section.base_url, &section.token_url] {
        url::Url::parse(url).with_context(|| format!("{url:?} is not a URL"))?;
    }
    let http = crate::wiring::http_client()?;
    let admin = connector(
        http.clone(),
        &section.base_url,
        &section.token_url,
        &section.client_id,
        &section.credential_owner,
        token_from(&section.refresh_token_env)?,
        RetryPolicy::default(),
    );
    runtime.attach_system("google", admin).await?;
    if let (Some(owner), Some(var)) = (&section.employee_owner, &section.employee_refresh_token_env)
    {
        let employee = connector(
            http,
            &section.base_url,
            &section.token_url,
            &section.client_id,
            owner,
            token_from(var)?,
            RetryPolicy::default(),
        );
        runtime.attach_employee_system("google", employee);
    }
    Ok(())
}

/// The demo's simulated Google Workspace, connected with its admin's and help-desk identity's
/// grants (the simulator's password grant stands in for their sign-ins).
pub async fn attach_demo_workspace(
    runtime: &TenantRuntime,
) -> anyhow::Result<steward_sim::google::RunningGoogle> {
    let google =
        steward_sim::google::RunningGoogle::start(&steward_sim::google::google_demo_seed()?)
            .await
            .context("cannot start the simulated Google Workspace")?;
    let http = crate::wiring::http_client()?;
    let client = "steward-google.apps.googleusercontent.com";
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
            crate::wiring::sim_refresh_token(&google.token_url(), client, login, password, &scope)
                .await?;
        let connected = connector(
            http.clone(),
            &google.base_url,
            &google.token_url(),
            client,
            login,
            refresh,
            RetryPolicy::default(),
        );
        if employee {
            runtime.attach_employee_system("google", connected);
        } else {
            runtime.attach_system("google", connected).await?;
        }
    }
    Ok(google)
}
