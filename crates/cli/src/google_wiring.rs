//! Connecting a tenant's Google Workspace: `[tenants.google]` in the configuration, and the
//! demo's simulated one. Steward acts in Google with delegated grants only — a Google admin's
//! for IT requests and, when given, a help-desk identity's for the employee channel.

use std::sync::Arc;

use anyhow::Context as _;
use serde::Deserialize;
use steward_agent::TenantRuntime;
use steward_connectors::google::{GoogleClient, GoogleConnector, SCOPES};
use steward_connectors::msgraph::{DelegatedCredential, RetryPolicy, TokenProvider};

/// `[tenants.google]`: the Admin SDK, Google's OAuth endpoints and whose grants to act with.
/// A grant comes from `steward connect --system google [--for employees]` (kept sealed in the
/// store) or, when its variable is set, from the environment.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoogleSection {
    /// `https://admin.googleapis.com` (or a simulator).
    #[serde(default = "default_base")]
    pub base_url: String,
    /// `https://oauth2.googleapis.com/token` (or a simulator's).
    #[serde(default = "default_token")]
    pub token_url: String,
    /// `https://accounts.google.com/o/oauth2/v2/auth` (or a simulator's), where
    /// `steward connect` sends the admin to sign in.
    #[serde(default = "default_authorize")]
    pub authorize_url: String,
    /// `https://openidconnect.googleapis.com/v1/userinfo` (or a simulator's): who signed in.
    #[serde(default = "default_userinfo")]
    pub userinfo_url: String,
    /// Steward's OAuth client id.
    pub client_id: String,
    /// The environment variable holding the OAuth client's secret (Google wants it with every
    /// code and refresh, PKCE or not).
    #[serde(default)]
    pub client_secret_env: Option<String>,
    /// The Google admin whose grant IT requests act with.
    pub credential_owner: String,
    /// The environment variable holding that admin's refresh token (otherwise the grant kept
    /// by `steward connect --system google`).
    #[serde(default)]
    pub refresh_token_env: Option<String>,
    /// The identity whose grant self-service acts with; without it, self-service in Google is
    /// refused.
    #[serde(default)]
    pub employee_owner: Option<String>,
    /// The environment variable holding the employee channel's refresh token (otherwise the
    /// grant kept by `steward connect --system google --for employees`).
    #[serde(default)]
    pub employee_refresh_token_env: Option<String>,
}

/// The id under which the Google admin's grant is kept in the store.
pub const GOOGLE_CREDENTIAL: &str = "google";

/// The id under which the employee channel's Google grant is kept in the store.
pub const GOOGLE_EMPLOYEE_CREDENTIAL: &str = "google-employee";

fn default_base() -> String {
    "https://admin.googleapis.com".into()
}

fn default_token() -> String {
    "https://oauth2.googleapis.com/token".into()
}

fn default_authorize() -> String {
    "https://accounts.google.com/o/oauth2/v2/auth".into()
}

fn default_userinfo() -> String {
    "https://openidconnect.googleapis.com/v1/userinfo".into()
}

impl GoogleSection {
    /// The OAuth client's secret, from its variable (`None` when none is configured).
    pub fn client_secret(&self) -> anyhow::Result<Option<String>> {
        self.client_secret_env
            .as_deref()
            .map(|var| {
                std::env::var(var)
                    .ok()
                    .filter(|v| !v.trim().is_empty())
                    .with_context(|| {
                        format!("the environment variable `{var}` (the Google OAuth client's secret) is not set")
                    })
            })
            .transpose()
    }
}

/// How to reach Google with a grant (everything but the grant itself).
#[derive(Debug, Clone)]
pub struct GoogleEndpoint {
    /// The Admin SDK's base URL.
    pub base_url: String,
    /// The token endpoint.
    pub token_url: String,
    /// Steward's OAuth client id.
    pub client_id: String,
    /// Its secret, if Google wants one for it.
    pub client_secret: Option<String>,
}

/// The connector acting with `owner`'s refresh token; rotated tokens are kept in `kept` when
/// given (the grant came from the store).
pub fn connector(
    http: reqwest::Client,
    endpoint: &GoogleEndpoint,
    owner: &str,
    refresh_token: String,
    kept: Option<(steward_store::TenantStore, &str)>,
    retry: RetryPolicy,
) -> Arc<GoogleConnector> {
    let mut tokens = TokenProvider::new(
        http.clone(),
        endpoint.token_url.clone(),
        endpoint.client_id.clone(),
        SCOPES.iter().map(|s| (*s).to_owned()).collect(),
        DelegatedCredential {
            owner: owner.to_owned(),
            refresh_token,
        },
    )
    .with_bare_scopes()
    .without_offline_scope()
    .with_client_secret(endpoint.client_secret.clone());
    if let Some((store, credential)) = kept {
        tokens = tokens.keeping_tokens_in(Arc::new(steward_agent::StoredToken {
            store,
            owner: owner.to_owned(),
            credential: credential.to_owned(),
        }));
    }
    Arc::new(GoogleConnector::new(GoogleClient::new(
        http,
        &endpoint.base_url,
        Arc::new(tokens),
        retry,
    )))
}

/// Connects `section`'s Workspace to `runtime`.
pub async fn attach(runtime: &TenantRuntime, section: &GoogleSection) -> anyhow::Result<()> {
    for url in [&section.base_url, &section.token_url] {
        url::Url::parse(url).with_context(|| format!("{url:?} is not a URL"))?;
    }
    let http = crate::wiring::http_client()?;
    let endpoint = GoogleEndpoint {
        base_url: section.base_url.clone(),
        token_url: section.token_url.clone(),
        client_id: section.client_id.clone(),
        client_secret: section.client_secret()?,
    };
    let (token, kept) = crate::wiring::grant_token(
        &runtime.store,
        section.refresh_token_env.as_deref(),
        GOOGLE_CREDENTIAL,
        "steward connect --system google",
    )
    .await?;
    let admin = connector(
        http.clone(),
        &endpoint,
        &section.credential_owner,
        token,
        kept.then(|| (runtime.store.clone(), GOOGLE_CREDENTIAL)),
        RetryPolicy::default(),
    );
    runtime.attach_system("google", admin).await?;
    if let Some(owner) = &section.employee_owner {
        let (token, kept) = crate::wiring::grant_token(
            &runtime.store,
            section.employee_refresh_token_env.as_deref(),
            GOOGLE_EMPLOYEE_CREDENTIAL,
            "steward connect --system google --for employees",
        )
        .await?;
        let employee = connector(
            http,
            &endpoint,
            owner,
            token,
            kept.then(|| (runtime.store.clone(), GOOGLE_EMPLOYEE_CREDENTIAL)),
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
        let endpoint = GoogleEndpoint {
            base_url: google.base_url.clone(),
            token_url: google.token_url(),
            client_id: client.to_owned(),
            client_secret: Some(steward_sim::google::DEMO_CLIENT_SECRET.to_owned()),
        };
        let connected = connector(
            http.clone(),
            &endpoint,
            login,
            refresh,
            None,
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
