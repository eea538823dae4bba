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

/// How Microsoft Graph's scopes are written to its identity platform.
const MSGRAPH_SCOPE_PREFIX: &str = "https://graph.microsoft.com/";

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

/// How a platform is asked for a refresh token beside the access token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Offline {
    /// The `offline_access` scope (Microsoft, Okta, most OpenID Connect servers).
    Scope,
    /// `access_type=offline` with `prompt=consent` (Google).
    AccessType,
}

/// Everything one sign-in needs to know about the system it grants access to.
struct Provider {
    /// What is being connected, for people.
    label: String,
    /// The credential id the grant is kept under.
    credential: String,
    /// Whose grant it must be.
    owner: String,
    authorize_url: String,
    token_url: String,
    client_id: String,
    /// The OAuth client's secret, for a platform that wants one with the code (Google).
    client_secret: Option<String>,
    /// The scopes as Steward names them.
    scopes: Vec<String>,
    /// What the platform puts before a scope's name.
    scope_prefix: &'static str,
    offline: Offline,
    /// Who signed in: this URL read with the new access token, and where its answer names
    /// them. `None`: the platform has no such question, and the owner is as declared.
    whoami: Option<(String, &'static str)>,
    /// Kept beside the grant: an imported integration's OAuth client settings (credential id,
    /// scheme, settings).
    client_settings: Option<(String, String, String)>,
}

impl Provider {
    fn scope(&self) -> String {
        let offline = (self.offline == Offline::Scope).then(|| "offline_access".to_owned());
        self.scopes
            .iter()
            .filter(|s| *s != "offline_access")
            .map(|s| format!("{}{s}", self.scope_prefix))
            .chain(offline)
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The credentials revoking this grant forgets.
    fn kept(&self) -> Vec<String> {
        let mut ids = vec![self.credential.clone()];
        ids.extend(self.client_settings.iter().map(|(id, _, _)| id.clone()));
        ids
    }
}

/// The provider of one grant: the system, and whose grant (the administrator's or the employee
/// channel's).
fn provider_of(
    system: ConnectSystem,
    grant: GrantFor,
    tenant: &crate::config::TenantSection,
) -> anyhow::Result<Provider> {
    let employee_owner = |owner: &Option<String>, section: &str| {
        owner.clone().with_context(|| {
            format!(
                "tenant `{}`'s `{section}` names no `employee_owner` (whose grant the employee channel acts with)",
                tenant.id
            )
        })
    };
    match system {
        ConnectSystem::Okta => {
            let okta = tenant.okta.as_ref().with_context(|| {
                format!("tenant `{}` has no `[tenants.okta]` section", tenant.id)
            })?;
            let base = okta.base_url.trim_end_matches('/');
            let (credential, owner) = match grant {
                GrantFor::Admin => (
                    crate::okta_wiring::OKTA_CREDENTIAL,
                    okta.credential_owner.clone(),
                ),
                GrantFor::Employees => (
                    crate::okta_wiring::OKTA_EMPLOYEE_CREDENTIAL,
                    employee_owner(&okta.employee_owner, "[tenants.okta]")?,
                ),
            };
            Ok(Provider {
                label: "Okta".into(),
                credential: credential.into(),
                owner,
                authorize_url: format!("{base}/oauth2/v1/authorize"),
                token_url: format!("{base}/oauth2/v1/token"),
                client_id: okta.client_id.clone(),
                client_secret: None,
                scopes: owned(steward_connectors::okta::SCOPES),
                scope_prefix: "",
                offline: Offline::Scope,
                whoami: Some((format!("{base}/api/v1/users/me"), "/profile/login")),
                client_settings: None,
            })
        }
        ConnectSystem::Google => {
            let google = tenant.google.as_ref().with_context(|| {
                format!("tenant `{}` has no `[tenants.google]` section", tenant.id)
            })?;
            let (credential, owner) = match grant {
                GrantFor::Admin => (
                    crate::google_wiring::GOOGLE_CREDENTIAL,
                    google.credential_owner.clone(),
                ),
                GrantFor::Employees => (
                    crate::google_wiring::GOOGLE_EMPLOYEE_CREDENTIAL,
                    employee_owner(&google.employee_owner, "[tenants.google]")?,
                ),
            };
            // Who signed in comes from OpenID Connect's user info: `openid email` beside the
            // Admin SDK's scopes.
            let mut scopes = owned(steward_connectors::google::SCOPES);
            scopes.extend(["openid".to_owned(), "email".to_owned()]);
            Ok(Provider {
                label: "Google Workspace".into(),
                credential: credential.into(),
                owner,
                authorize_url: google.authorize_url.clone(),
                token_url: google.token_url.clone(),
                client_id: google.client_id.clone(),
                client_secret: google.client_secret()?,
                scopes,
                scope_prefix: "",
                offline: Offline::AccessType,
                whoami: Some((google.userinfo_url.clone(), "/email")),
                client_settings: None,
            })
        }
        ConnectSystem::Msgraph => {
            let (credential, scopes, owner) = match grant {
                GrantFor::Admin => (
                    MSGRAPH_CREDENTIAL,
                    msgraph::SCOPES,
                    tenant.graph.credential_owner.clone(),
                ),
                GrantFor::Employees => (
                    crate::grant::EMPLOYEE_CREDENTIAL,
                    msgraph::EMPLOYEE_SCOPES,
                    employee_owner(&tenant.graph.employee_owner, "[tenants.graph]")?,
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
                label: "Microsoft 365".into(),
                credential: credential.into(),
                owner,
                authorize_url,
                token_url: tenant.graph.token_url.clone(),
                client_id: tenant.graph.client_id.clone(),
                client_secret: None,
                scopes: owned(scopes),
                scope_prefix: MSGRAPH_SCOPE_PREFIX,
                offline: Offline::Scope,
                whoami: Some((
                    format!(
                        "{}/v1.0/me?$select=userPrincipalName,displayName",
                        tenant.graph.base_url.trim_end_matches('/')
                    ),
                    "/userPrincipalName",
                )),
                client_settings: None,
            })
        }
    }
}

fn owned(scopes: &[&str]) -> Vec<String> {
    scopes.iter().map(|s| (*s).to_owned()).collect()
}

/// The provider of an imported integration's OAuth 2.0 grant: the document's authorization
/// code scheme (the one named, else the first), its endpoints made absolute on the API's base
/// URL, and the scopes its operations ask for (or those named).
async fn integration_provider(
    args: &ConnectArgs,
    name: &str,
    tenant: &steward_store::TenantStore,
) -> anyhow::Result<Provider> {
    let row = tenant.integration(name).await.with_context(|| {
        format!("no integration `{name}`: import it first with `steward integrations import`")
    })?;
    let integration: steward_openapi::Integration =
        serde_json::from_value(row.definition).context("the stored integration is unreadable")?;
    let scheme = integration
        .auth
        .iter()
        .filter(|s| matches!(s, steward_openapi::AuthScheme::OAuth2Code { .. }))
        .find(|s| args.scheme.as_deref().is_none_or(|n| s.scheme() == n))
        .with_context(|| match &args.scheme {
            Some(n) => {
                format!("`{name}`'s document has no OAuth 2.0 authorization code scheme `{n}`")
            }
            None => format!("`{name}`'s document has no OAuth 2.0 authorization code scheme"),
        })?;
    let base_url = integration
        .base_url
        .clone()
        .context("the integration has no base URL")?;
    let (authorize_url, token_url) = scheme
        .oauth_endpoints(&base_url)
        .context("not an OAuth 2.0 scheme")?;
    let scopes = if args.scope.is_empty() {
        let mut asked: Vec<String> = integration
            .operations
            .iter()
            .flat_map(|o| o.spec.permissions.iter().cloned())
            .collect();
        asked.sort();
        asked.dedup();
        asked
    } else {
        args.scope.clone()
    };
    let client_id = args.client_id.clone().context(
        "give the OAuth client id registered with the API's authorization server: --client-id",
    )?;
    let client_secret = match &args.client_secret_env {
        Some(var) => Some(
            std::env::var(var)
                .ok()
                .filter(|v| !v.trim().is_empty())
                .with_context(|| format!("the environment variable `{var}` is not set"))?,
        ),
        None => None,
    };
    let owner = args
        .owner
        .clone()
        .context("say whose grant it is with --owner UPN (the person who will sign in)")?;
    let settings = serde_json::to_string(&steward_agent::integrations::OAuthClient {
        client_id: client_id.clone(),
        client_secret: client_secret.clone(),
    })?;
    // Google's own authorization server wants `access_type=offline`; the others the scope.
    let offline = if authorize_url.contains("accounts.google.com") {
        Offline::AccessType
    } else {
        Offline::Scope
    };
    Ok(Provider {
        label: format!("the integration `{name}` ({})", integration.title),
        credential: steward_agent::integrations::secret_id(name),
        owner,
        authorize_url,
        token_url,
        client_id,
        client_secret,
        scopes,
        scope_prefix: "",
        offline,
        whoami: None,
        client_settings: Some((
            steward_agent::integrations::oauth_client_id(name),
            scheme.scheme().to_owned(),
            settings,
        )),
    })
}

/// Runs `steward connect`.
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
    let database = std::env::var(crate::database::DATABASE_ENV)
        .ok()
        .or_else(|| config.database.clone());
    let store = crate::database::open(database.as_deref(), &config.data_dir).await?;
    let tenant_store = store
        .ensure_tenant(&TenantId::new(tenant.id.clone())?, &tenant.name)
        .await?;
    if let (true, Some(name)) = (args.revoke, &args.integration) {
        let kept = [
            steward_agent::integrations::secret_id(name),
            steward_agent::integrations::oauth_client_id(name),
        ];
        return revoke(&store, &tenant_store, &kept).await;
    }
    let provider = match &args.integration {
        Some(name) => integration_provider(&args, name, &tenant_store).await?,
        None => provider_of(args.system, args.grant, tenant)?,
    };
    if args.revoke {
        return revoke(&store, &tenant_store, &provider.kept()).await;
    }
    let expected_owner = provider.owner.clone();
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
        .append_pair("scope", &provider.scope())
        .append_pair("state", &state)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256")
        .append_pair("login_hint", &expected_owner);
    if provider.offline == Offline::AccessType {
        url.query_pairs_mut()
            .append_pair("access_type", "offline")
            .append_pair("prompt", "consent");
    }

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
        "Sign in to {} as the person whose delegated permissions Steward will use for `{}` ({}).\nOpen this address in a browser:\n\n{url}\n\nWaiting for the sign-in (up to {} s)…",
        provider.label, tenant.id, expected_owner, args.timeout_seconds
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
    let scope = provider.scope();
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("client_id", provider.client_id.as_str()),
        ("code", code.as_str()),
        ("redirect_uri", redirect_uri.as_str()),
        ("code_verifier", verifier.as_str()),
    ];
    // Microsoft's identity platform wants the scope again with the code.
    if provider.scope_prefix == MSGRAPH_SCOPE_PREFIX {
        form.push(("scope", scope.as_str()));
    }
    if let Some(secret) = &provider.client_secret {
        form.push(("client_secret", secret.as_str()));
    }
    let answer = http
        .post(&provider.token_url)
        .form(&form)
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
            "the token answer has no refresh token: was offline access consented? (nothing was saved)"
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
    let missing: Vec<&str> = provider
        .scopes
        .iter()
        .map(String::as_str)
        .filter(|s| *s != "offline_access" && !granted.iter().any(|g| g.eq_ignore_ascii_case(s)))
        .collect();

    // Who signed in: the platform says, not the login hint (an imported API has no standard
    // way to say, so its grant's owner is as declared, and the audit says so).
    let owner = match &provider.whoami {
        Some((whoami, field)) => {
            let me: Value = http
                .get(whoami)
                .bearer_auth(access)
                .send()
                .await
                .context("cannot reach the platform to learn who signed in")?
                .json()
                .await
                .context("unreadable answer from the platform's who-am-I")?;
            me.pointer(field)
                .and_then(Value::as_str)
                .context("the platform did not say who signed in (nothing was saved)")?
                .to_owned()
        }
        None => expected_owner.clone(),
    };
    if !owner.eq_ignore_ascii_case(&expected_owner) {
        anyhow::bail!(
            "{owner} signed in, but the configuration names {expected_owner} as the credential's owner; sign in as {expected_owner} or change the configuration (nothing was saved)"
        );
    }

    let credential = provider.credential.as_str();
    if let Some((id, scheme, settings)) = &provider.client_settings {
        tenant_store
            .put_credential(id, &owner, std::slice::from_ref(scheme), settings)
            .await?;
    }
    tenant_store
        .put_credential(credential, &owner, &granted, refresh)
        .await?;
    let mut entry = AuditEntry::new(tenant.id.clone(), RecordKind::CredentialChange);
    entry.actor = Some(owner.clone());
    entry.actor_scopes = granted.clone();
    entry.outcome = Some("credentialConnected".into());
    entry.detail = json!({"credential": credential, "flow": "authorization_code+pkce", "missingScopes": missing,
                          "ownerVerified": provider.whoami.is_some()});
    tenant_store.append_audit(entry).await?;
    store.sign_pending_checkpoints().await?;
    println!(
        "Connected: Steward will act in {} for `{}` with {owner}'s delegated grant ({} scopes), kept sealed in the store.",
        provider.label,
        tenant.id,
        granted.len()
    );
    if provider.whoami.is_none() {
        println!(
            "The API has no standard way to say who signed in: the grant is recorded as {owner}'s, as --owner declared."
        );
    }
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
    store: &steward_store::Store,
    tenant_store: &steward_store::TenantStore,
    credentials: &[String],
) -> anyhow::Result<ExitCode> {
    let Some(credential) = credentials.first() else {
        return Ok(ExitCode::SUCCESS);
    };
    let owner = tenant_store
        .credential(credential)
        .await
        .ok()
        .map(|c| c.owner);
    let mut forgotten = false;
    for id in credentials {
        forgotten |= tenant_store.delete_credential(id).await?;
    }
    if !forgotten {
        println!(
            "Tenant `{}` has no `{credential}` grant kept; nothing to revoke.",
            tenant_store.tenant()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let mut entry = AuditEntry::new(
        tenant_store.tenant().to_string(),
        RecordKind::CredentialChange,
    );
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
