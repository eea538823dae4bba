//! `steward connect --config FILE [--tenant ID]`: an admin connects Steward to a tenant by
//! signing in (OAuth 2.0 authorization code with PKCE and `offline_access`). Steward listens on a
//! loopback address for the browser's return, redeems the code with its verifier, asks Graph who
//! signed in (`GET /me`), and keeps the refresh token sealed under the tenant's key; `serve` then
//! acts with it. The sign-in is audited with whose grant it is and its scopes.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use axum::extract::Query;
use axum::response::Html;
use axum::routing::get;
use base64::Engine as _;
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use steward_audit::{AuditEntry, RecordKind};
use steward_connectors::msgraph;
use steward_domain::TenantId;
use tokio::sync::oneshot;

use crate::cli::{ConnectArgs, ConnectSystem, GrantFor};
use crate::config::Config;
use crate::wiring::{MSGRAPH_CREDENTIAL, http_client};

/// The path the browser comes back to.
const CALLBACK: &str = "/connect/msgraph/callback";

/// What the identity platform sent the browser back with.
#[derive(Debug, Deserialize)]
struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// A PKCE verifier (64 unreserved characters, 256 bits of randomness) and its S256 challenge.
fn pkce() -> (String, String) {
    let verifier = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let challenge =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(&verifier));
    (verifier, challenge)
}

/// Everything one sign-in needs to know about the system it grants access to.
struct Provider {
    /// The credential id the grant is kept under.
    credential: &'static str,
    /// Whose grant it must be.
    owner: String,
    authorize_url: String,
    token_url: String,
    client_id: String,
    /// The scopes as the platform names them (Graph's with its resource URI).
    scopes: &'static [&'static str],
    /// What the platform puts before a scope's name.
    scope_prefix: &'static str,
    /// Who signed in: this URL read with the new access token, and where its answer names them.
    whoami: String,
    whoami_field: &'static str,
}

impl Provider {
    fn scope(&self) -> String {
        self.scopes
            .iter()
            .filter(|s| **s != "offline_access")
            .map(|s| format!("{}{s}", self.scope_prefix))
            .chain(["offline_access".to_owned()])
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// The provider of one grant: the system, and whose grant (the administrator's or the employee
/// channel's).
fn provider_of(
    system: ConnectSystem,
    grant: GrantFor,
    tenant: &crate::config::TenantSection,
) -> anyhow::Result<Provider> {
    if system == ConnectSystem::Okta {
        let okta = tenant
            .okta
            .as_ref()
            .with_context(|| format!("tenant `{}` has no `[tenants.okta]` section", tenant.id))?;
        let base = okta.base_url.trim_end_matches('/');
        let (credential, owner) = match grant {
            GrantFor::Admin => (
                crate::okta_wiring::OKTA_CREDENTIAL,
                okta.credential_owner.clone(),
            ),
            GrantFor::Employees => (
                crate::okta_wiring::OKTA_EMPLOYEE_CREDENTIAL,
                okta.employee_owner.clone().with_context(|| {
                    format!(
                        "tenant `{}`'s `[tenants.okta]` names no `employee_owner`",
                        tenant.id
                    )
                })?,
            ),
        };
        return Ok(Provider {
            credential,
            owner,
            authorize_url: format!("{base}/oauth2/v1/authorize"),
            token_url: format!("{base}/oauth2/v1/token"),
            client_id: okta.client_id.clone(),
            scopes: steward_connectors::okta::SCOPES,
            scope_prefix: "",
            whoami: format!("{base}/api/v1/users/me"),
            whoami_field: "/profile/login",
        });
    }
    let (credential, scopes, owner) = match grant {
        GrantFor::Admin => (
            MSGRAPH_CREDENTIAL,
            msgraph::SCOPES,
            tenant.graph.credential_owner.clone(),
        ),
        GrantFor::Employees => (
            crate::grant::EMPLOYEE_CREDENTIAL,
            msgraph::EMPLOYEE_SCOPES,
            tenant.graph.employee_owner.clone().with_context(|| {
                format!(
                    "tenant `{}` names no `employee_owner` (whose grant the employee channel acts with)",
                    tenant.id
                )
            })?,
        ),
    };
    let authorize_url = tenant
        .graph
        .token_url
        .strip_suffix("/token")
        .map(|base| format!("{base}/authorize"))
        .with_context(|| {
            format!(
                "tenant `{}`: token_url should end in /oauth2/v2.0/token",
                tenant.id
            )
        })?;
    Ok(Provider {
        credential,
        owner,
        authorize_url,
        token_url: tenant.graph.token_url.clone(),
        client_id: tenant.graph.client_id.clone(),
        scopes,
        scope_prefix: "https://graph.microsoft.com/",
        whoami: format!(
            "{}/v1.0/me?$select=userPrincipalName,displayName",
            tenant.graph.base_url.trim_end_matches('/')
        ),
        whoami_field: "/userPrincipalName",
    })
}

pub async fn run(args: ConnectArgs) -> anyhow::Result<ExitCode> {
    let config = Config::load(&args.config)?;
    let tenant = match &args.tenant {
        Some(id) => config
            .tenants
            .iter()
            .find(|t| &t.id == id)
            .with_context(|| format!("`{}` configures no tenant `{id}`", args.config.display()))?,
        None => config
            .tenants
            .first()
            .context("the configuration has no tenant")?,
    };
    let provider = provider_of(args.system, args.grant, tenant)?;
    let credential = provider.credential;
    let scopes = provider.scopes;
    let expected_owner = provider.owner.clone();
    if args.revoke {
        return revoke(&config, tenant, credential).await;
    }
    let authorize_url = provider.authorize_url.clone();

    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port))
        .await
        .with_context(|| format!("cannot listen on 127.0.0.1:{}", args.port))?;
    let redirect_uri = format!("http://{}{CALLBACK}", listener.local_addr()?);
    let (verifier, challenge) = pkce();
    let state = uuid::Uuid::new_v4().simple().to_string();
    let mut url = url::Url::parse(&authorize_url)
        .with_context(|| format!("`{authorize_url}` is not a URL"))?;
    url.query_pairs_mut()
        .append_pair("client_id", &provider.client_id)
        .append_pair("response_type", "code")
        .append_pair("redirect_uri", &redirect_uri)
        .append_pair("response_mode", "query")
        .append_pair("scope", &provider.scope())
        .append_pair("state", &state)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256")
        .append_pair("login_hint", &expected_owner);

    // The one request we wait for: the browser's return.
    let (tx, rx) = oneshot::channel::<Callback>();
    let tx = std::sync::Arc::new(std::sync::Mutex::new(Some(tx)));
    let app = axum::Router::new().route(
        CALLBACK,
        get(move |Query(back): Query<Callback>| {
            let tx = tx.clone();
            async move {
                let ok = back.error.is_none();
                if let Some(tx) = tx.lock().ok().and_then(|mut t| t.take()) {
                    let _ = tx.send(back);
                }
                Html(if ok {
                    "<!doctype html><title>Steward</title><p>Signed in. You can close this window and return to the terminal.</p>"
                } else {
                    "<!doctype html><title>Steward</title><p>The sign-in did not complete; see the terminal.</p>"
                })
            }
        }),
    );
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    println!(
        "Sign in as the administrator whose delegated permissions Steward will use for `{}` ({}).\nOpen this address in a browser:\n\n{url}\n\nWaiting for the sign-in (up to {} s)…",
        tenant.id, expected_owner, args.timeout_seconds
    );
    let back = tokio::time::timeout(Duration::from_secs(args.timeout_seconds), rx).await;
    server.abort();
    let back = back
        .context("no sign-in arrived in time; run `steward connect` again")?
        .context("the sign-in listener stopped")?;
    if back.state.as_deref() != Some(state.as_str()) {
        anyhow::bail!(
            "the sign-in came back with a different `state`; it was not this request's (nothing was saved)"
        );
    }
    if let Some(error) = back.error {
        anyhow::bail!(
            "the sign-in failed: {error}: {} (nothing was saved)",
            back.error_description.unwrap_or_default()
        );
    }
    let code = back
        .code
        .context("the sign-in came back without a code (nothing was saved)")?;

    // Redeem the code with the verifier only this process knows.
    let http = http_client()?;
    let answer = http
        .post(&provider.token_url)
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", provider.client_id.as_str()),
            ("code", code.as_str()),
            ("redirect_uri", redirect_uri.as_str()),
            ("code_verifier", verifier.as_str()),
            ("scope", provider.scope().as_str()),
        ])
        .send()
        .await
        .context("cannot reach the token endpoint")?;
    let status = answer.status();
    let tokens: Value = answer.json().await.context("unreadable token answer")?;
    if !status.is_success() {
        anyhow::bail!(
            "redeeming the sign-in failed: {}: {} (nothing was saved)",
            tokens["error"].as_str().unwrap_or("error"),
            tokens["error_description"].as_str().unwrap_or_default()
        );
    }
    let (Some(access), Some(refresh)) = (
        tokens["access_token"].as_str(),
        tokens["refresh_token"].as_str(),
    ) else {
        anyhow::bail!(
            "the token answer has no refresh token: was `offline_access` consented? (nothing was saved)"
        );
    };
    let granted: Vec<String> = tokens["scope"]
        .as_str()
        .unwrap_or_default()
        .split_whitespace()
        .map(|s| {
            s.strip_prefix(provider.scope_prefix)
                .unwrap_or(s)
                .to_owned()
        })
        .filter(|s| s != "offline_access")
        .collect();
    let missing: Vec<&str> = scopes
        .iter()
        .copied()
        .filter(|s| *s != "offline_access" && !granted.iter().any(|g| g.eq_ignore_ascii_case(s)))
        .collect();

    // Who signed in: the platform says, not the login hint.
    let me: Value = http
        .get(&provider.whoami)
        .bearer_auth(access)
        .send()
        .await
        .context("cannot reach the platform to learn who signed in")?
        .json()
        .await
        .context("unreadable answer from the platform's who-am-I")?;
    let owner = me
        .pointer(provider.whoami_field)
        .and_then(Value::as_str)
        .context("the platform did not say who signed in (nothing was saved)")?
        .to_owned();
    if !owner.eq_ignore_ascii_case(&expected_owner) {
        anyhow::bail!(
            "{owner} signed in, but the configuration names {expected_owner} as the credential's owner; sign in as {expected_owner} or change the configuration (nothing was saved)"
        );
    }

    let database = std::env::var(crate::database::DATABASE_ENV)
        .ok()
        .or_else(|| config.database.clone());
    let store = crate::database::open(database.as_deref(), &config.data_dir).await?;
    let tenant_store = store
        .ensure_tenant(&TenantId::new(tenant.id.clone())?, &tenant.name)
        .await?;
    tenant_store
        .put_credential(credential, &owner, &granted, refresh)
        .await?;
    let mut entry = AuditEntry::new(tenant.id.clone(), RecordKind::CredentialChange);
    entry.actor = Some(owner.clone());
    entry.actor_scopes = granted.clone();
    entry.outcome = Some("credentialConnected".into());
    entry.detail = json!({"credential": credential, "flow": "authorization_code+pkce", "missingScopes": missing});
    tenant_store.append_audit(entry).await?;
    store.sign_pending_checkpoints().await?;
    println!(
        "Connected: Steward will act in `{}` with {owner}'s delegated grant ({} scopes), kept sealed in the store.",
        tenant.id,
        granted.len()
    );
    if !missing.is_empty() {
        println!(
            "Not granted: {}. The actions that need them will be refused, naming the missing permission.",
            missing.join(", ")
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `--revoke`: forgets the kept grant (audited); every Steward sharing the store stops using it
/// at its next call.
async fn revoke(
    config: &Config,
    tenant: &crate::config::TenantSection,
    credential: &str,
) -> anyhow::Result<ExitCode> {
    let database = std::env::var(crate::database::DATABASE_ENV)
        .ok()
        .or_else(|| config.database.clone());
    let store = crate::database::open(database.as_deref(), &config.data_dir).await?;
    let tenant_store = store
        .ensure_tenant(&TenantId::new(tenant.id.clone())?, &tenant.name)
        .await?;
    let owner = tenant_store
        .credential(credential)
        .await
        .ok()
        .map(|c| c.owner);
    if !tenant_store.delete_credential(credential).await? {
        println!(
            "Tenant `{}` has no `{credential}` grant kept; nothing to revoke.",
            tenant.id
        );
        return Ok(ExitCode::SUCCESS);
    }
    let mut entry = AuditEntry::new(tenant.id.clone(), RecordKind::CredentialChange);
    entry.actor = owner.clone();
    entry.outcome = Some("credentialRevoked".into());
    entry.detail = json!({"credential": credential});
    tenant_store.append_audit(entry).await?;
    store.sign_pending_checkpoints().await?;
    println!(
        "Revoked: the `{credential}` grant{} is gone; Steward stops acting with it at its next call.",
        owner.map(|o| format!(" ({o}'s)")).unwrap_or_default()
    );
    Ok(ExitCode::SUCCESS)
}
