//! `steward demo`: a simulated tenant, the embedded store, the builtin reasoner, and the web page.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use serde_json::Value;
use steward_agent::{TenantConfig, TenantRuntime};
use steward_connectors::msgraph::{self, DelegatedCredential, RetryPolicy};
use steward_domain::TenantId;
use steward_server::DemoPerson;
use steward_sim::RunningSim;
use steward_store::Store;

use crate::cli::DemoArgs;
use crate::wiring::{
    EXPIRY_POLL, GraphSetup, POLICY_POLL, PolicySlot, RECONCILE_POLL,
    expire_approvals_periodically, http_client, install_default_policies, load_policies,
    reconcile_periodically, tenant_runtime, watch_policies,
};

/// The client id Steward presents to the simulated identity platform when the seed names none.
const DEFAULT_CLIENT_ID: &str = "5e3ce6c0-2b1f-4285-8d4b-75ee78787346";
/// How long the demo's approval requests wait before they expire.
pub const APPROVAL_TTL: std::time::Duration = std::time::Duration::from_secs(24 * 3600);
/// The demo's IT administrators group.
pub const IT_ADMINS_GROUP: &str = "IT Admins";

/// A running simulated tenant wired to Steward.
pub struct DemoTenant {
    /// The simulator (stops when dropped).
    pub sim: RunningSim,
    /// The tenant's runtime.
    pub runtime: Arc<TenantRuntime>,
    /// People offered on the demo page.
    pub people: Vec<DemoPerson>,
    /// Whose delegated credential Steward acts with.
    pub admin: String,
    /// The tenant's policy directory.
    pub policy_dir: PathBuf,
}

fn text<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

fn slug(name: &str) -> String {
    let s: String = name
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let s = s
        .split('-')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    if s.is_empty() {
        "demo".into()
    } else {
        s.chars().take(64).collect()
    }
}

/// Demo convention: accounts whose sign-in name starts with `breakglass` or `steward-svc` are
/// protected identities.
fn is_protected(upn: &str) -> bool {
    let local = upn.split('@').next().unwrap_or_default();
    local.starts_with("breakglass") || local.starts_with("steward-svc")
}

fn roles(user: &Value) -> Vec<&str> {
    user.pointer("/x-steward-sim/directoryRoles")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// The person whose delegated credential the demo acts with: the first User Administrator (or
/// else Global Administrator) with a demo password who is not a protected identity.
fn credential_owner(seed: &Value) -> anyhow::Result<(String, String)> {
    let users = seed
        .get("users")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for wanted in ["User Administrator", "Global Administrator"] {
        for u in &users {
            let upn = text(u, "/userPrincipalName");
            let password = text(u, "/x-steward-sim/password");
            if roles(u).contains(&wanted)
                && !password.is_empty()
                && !is_protected(upn)
                && u.get("accountEnabled") != Some(&Value::Bool(false))
            {
                return Ok((upn.to_owned(), password.to_owned()));
            }
        }
    }
    anyhow::bail!(
        "the seed has no enabled User Administrator or Global Administrator with an `x-steward-sim.password` to sign in as"
    )
}

fn demo_people(seed: &Value) -> Vec<DemoPerson> {
    let users = seed
        .get("users")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let groups = seed
        .get("groups")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let admins: Vec<&str> = groups
        .iter()
        .find(|g| text(g, "/displayName") == IT_ADMINS_GROUP)
        .and_then(|g| g.get("members").and_then(Value::as_array))
        .map(|m| {
            m.iter()
                .filter_map(|x| x.get("id").and_then(Value::as_str))
                .collect()
        })
        .unwrap_or_default();
    let mut people: Vec<DemoPerson> = users
        .iter()
        .filter(|u| !is_protected(text(u, "/userPrincipalName")))
        .map(|u| {
            let mut notes = Vec::new();
            if u.pointer("/x-steward-sim/lockedOut") == Some(&Value::Bool(true)) {
                notes.push("locked out".to_owned());
            }
            if u.get("accountEnabled") == Some(&Value::Bool(false)) {
                notes.push("account disabled".to_owned());
            }
            let methods = u
                .pointer("/authentication/methods")
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            if methods <= 1 {
                notes.push("no MFA method".to_owned());
            }
            if admins.contains(&text(u, "/id")) {
                notes.push("IT admin".to_owned());
            }
            DemoPerson {
                upn: text(u, "/userPrincipalName").to_owned(),
                display_name: text(u, "/displayName").to_owned(),
                department: text(u, "/department").to_owned(),
                note: notes.join(", "),
            }
        })
        .collect();
    people.sort_by(|a, b| {
        (a.note.is_empty(), &a.display_name).cmp(&(b.note.is_empty(), &b.display_name))
    });
    people
}

/// Signs `upn` in with the resource-owner password grant against the simulator: the token
/// endpoint's whole answer (access and refresh tokens).
pub async fn password_grant(
    token_url: &str,
    client_id: &str,
    upn: &str,
    password: &str,
    scopes: &[&str],
) -> anyhow::Result<Value> {
    let scope = scopes
        .iter()
        .map(|s| format!("https://graph.microsoft.com/{s}"))
        .chain(["offline_access".to_owned()])
        .collect::<Vec<_>>()
        .join(" ");
    let response = http_client()?
        .post(token_url)
        .form(&[
            ("grant_type", "password"),
            ("client_id", client_id),
            ("username", upn),
            ("password", password),
            ("scope", scope.as_str()),
        ])
        .send()
        .await
        .context("cannot reach the simulated identity platform")?;
    let status = response.status();
    let body: Value = response.json().await.context("unreadable token answer")?;
    if !status.is_success() {
        anyhow::bail!(
            "signing in as {upn} failed: {}",
            text(&body, "/error_description")
        );
    }
    Ok(body)
}

/// Signs the credential owner in once to obtain the refresh token the connector will use.
async fn sign_in(
    token_url: &str,
    client_id: &str,
    upn: &str,
    password: &str,
    scopes: &[&str],
) -> anyhow::Result<String> {
    password_grant(token_url, client_id, upn, password, scopes)
        .await?
        .get("refresh_token")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .context("the token answer has no refresh token")
}

/// The client id a seed registers for Steward (or the default one).
pub fn seed_client_id(seed: &Value) -> &str {
    seed.pointer("/x-steward-sim/clientApplications/0/clientId")
        .and_then(Value::as_str)
        .unwrap_or(DEFAULT_CLIENT_ID)
}

/// The delegated credential a simulated tenant's seed provides: its client id, whose grant
/// Steward acts with, and a fresh refresh token from signing that person in.
pub async fn sim_credential(
    seed: &Value,
    token_url: &str,
) -> anyhow::Result<(String, String, String)> {
    let client_id = seed_client_id(seed).to_owned();
    let (admin, password) = credential_owner(seed)?;
    let refresh_token = sign_in(token_url, &client_id, &admin, &password, msgraph::SCOPES).await?;
    Ok((client_id, admin, refresh_token))
}

/// Starts the simulator for `seed` and wires a tenant to it, saying on stderr what it set up.
pub async fn start_tenant(
    seed: Value,
    store: &Store,
    data_dir: &Path,
    retry: RetryPolicy,
) -> anyhow::Result<DemoTenant> {
    start_tenant_with(seed, store, data_dir, retry, true).await
}

/// [`start_tenant`], silent unless `announce` (a benchmark starts hundreds of tenants).
pub async fn start_tenant_with(
    seed: Value,
    store: &Store,
    data_dir: &Path,
    retry: RetryPolicy,
    announce: bool,
) -> anyhow::Result<DemoTenant> {
    let name = text(&seed, "/organization/displayName").to_owned();
    let people = demo_people(&seed);
    let protected: Vec<String> = seed
        .get("users")
        .and_then(Value::as_array)
        .map(|u| {
            u.iter()
                .map(|u| text(u, "/userPrincipalName").to_owned())
                .filter(|u| is_protected(u))
                .collect()
        })
        .unwrap_or_default();
    // Starting the simulator validates the seed, so its errors come before ours.
    let sim = steward_sim::start(seed.clone(), None)
        .await
        .context("the tenant seed is not usable")?;
    let (client_id, admin, refresh_token) = sim_credential(&seed, &sim.token_url()).await?;
    let id = TenantId::new(slug(&name))?;
    let policy_dir: PathBuf = data_dir.join("policies").join(id.as_str());
    if install_default_policies(&policy_dir)? && announce {
        eprintln!(
            "wrote the default tenant policies to {}",
            policy_dir.display()
        );
    }
    let config = TenantConfig {
        id,
        name,
        domain: sim.domain.clone(),
        it_admins_group: IT_ADMINS_GROUP.into(),
        protected_identities: protected,
        utc_offset_minutes: 0,
        approval_ttl: APPROVAL_TTL,
        intent_lease: steward_agent::DEFAULT_INTENT_LEASE,
    };
    let graph = GraphSetup {
        base_url: sim.base_url.clone(),
        token_url: sim.token_url(),
        client_id,
        credential: DelegatedCredential {
            owner: admin.clone(),
            refresh_token,
        },
        kept_in_store: false,
    };
    let runtime = tenant_runtime(store, config, graph, Some(&policy_dir), retry).await?;
    connect_employee_channel(&seed, &sim.token_url(), &runtime, announce).await?;
    Ok(DemoTenant {
        sim,
        runtime,
        people,
        admin,
        policy_dir,
    })
}

/// The demo's employee channel: Steward's own service identity (`steward-svc…`) signs in with
/// the self-service scopes, and its grant is kept in the store as an administrator would keep it
/// with `steward connect --for employees`. A seed without one leaves the channel unconnected, so
/// self-service is refused with a message saying so.
async fn connect_employee_channel(
    seed: &Value,
    token_url: &str,
    runtime: &steward_agent::TenantRuntime,
    announce: bool,
) -> anyhow::Result<()> {
    let Some((upn, refresh)) = sim_employee_credential(seed, token_url).await? else {
        if !announce {
            return Ok(());
        }
        eprintln!(
            "(the seed has no steward-svc identity: the employee channel has no grant, so self-service requests will be refused)"
        );
        return Ok(());
    };
    let scopes: Vec<String> = msgraph::EMPLOYEE_SCOPES
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    runtime
        .store
        .put_credential(crate::grant::EMPLOYEE_CREDENTIAL, &upn, &scopes, &refresh)
        .await?;
    Ok(())
}

/// Signs the seed's service identity (`steward-svc…`, with a demo password) in with the
/// employee channel's scopes: its sign-in name and refresh token, or `None` without one.
pub async fn sim_employee_credential(
    seed: &Value,
    token_url: &str,
) -> anyhow::Result<Option<(String, String)>> {
    let service = seed
        .get("users")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|u| {
            text(u, "/userPrincipalName").starts_with("steward-svc")
                && !text(u, "/x-steward-sim/password").is_empty()
        });
    let Some(service) = service else {
        return Ok(None);
    };
    let client_id = seed_client_id(seed);
    let upn = text(service, "/userPrincipalName");
    let refresh = sign_in(
        token_url,
        client_id,
        upn,
        text(service, "/x-steward-sim/password"),
        msgraph::EMPLOYEE_SCOPES,
    )
    .await?;
    Ok(Some((upn.to_owned(), refresh)))
}

/// Reads `--seed` or the built-in demo seed.
pub fn read_seed(path: Option<&Path>) -> anyhow::Result<Value> {
    Ok(match path {
        Some(p) => steward_sim::load_seed(p)?,
        None => steward_sim::demo_seed()?,
    })
}

/// The file where a running demo records its address for `steward ask`.
pub fn server_file(data_dir: &Path) -> PathBuf {
    data_dir.join("server.json")
}

/// Runs `steward demo` until Ctrl-C.
pub async fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    let seed = read_seed(args.seed.as_deref())?;
    let seed_for_console = seed.clone();
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("cannot create `{}`", args.data_dir.display()))?;
    let store = Store::open(&args.data_dir.join("steward.db")).await?;
    let tenant = start_tenant(seed, &store, &args.data_dir, RetryPolicy::default()).await?;
    // The demo organisation's engineers sign in through Okta (Leo is locked out there).
    let okta = crate::okta_wiring::attach_demo_org(&tenant.runtime).await?;
    eprintln!(
        "Okta: the simulated org at {} is connected (ask as leo: \"I'm locked out\")",
        okta.base_url
    );
    // Its marketing team works in Google Workspace with Google passwords of their own.
    let google = crate::google_wiring::attach_demo_workspace(&tenant.runtime).await?;
    eprintln!(
        "Google Workspace: the simulated one at {} is connected (ask as sam: \"I can't log in to Gmail\")",
        google.base_url
    );
    if let Some(path) = &args.provider {
        let provider = crate::wiring::load_provider(path)?;
        let name = provider.name.clone();
        crate::wiring::use_model(&tenant.runtime, Some(provider))?;
        eprintln!(
            "reasoning with the language model `{name}` (the offline reasoner takes over if it fails)"
        );
    }
    watch_policies(
        tenant.runtime.clone(),
        tenant.policy_dir.clone(),
        POLICY_POLL,
        PolicySlot::Enforced,
    );
    expire_approvals_periodically(tenant.runtime.clone(), EXPIRY_POLL);
    reconcile_periodically(tenant.runtime.clone(), RECONCILE_POLL);
    if let Some(shadow) = &args.shadow_policy_dir {
        let hash = load_policies(&tenant.runtime, shadow, PolicySlot::Shadow)
            .await
            .context("the shadow policies do not load")?;
        eprintln!(
            "shadow mode: {} decides beside the enforced set (policy set {}); differences are audited as shadowDecision",
            shadow.display(),
            hash.get(..16).unwrap_or(&hash)
        );
        watch_policies(
            tenant.runtime.clone(),
            shadow.clone(),
            POLICY_POLL,
            PolicySlot::Shadow,
        );
    }
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port))
        .await
        .with_context(|| {
            format!(
                "cannot listen on 127.0.0.1:{} (is another Steward running? try --port 0)",
                args.port
            )
        })?;
    let url = format!("http://{}", listener.local_addr()?);
    let tenant_id = tenant.runtime.config.id.to_string();
    let domain = tenant.runtime.config.domain.clone();
    let state = steward_server::AppState {
        demo_people: Arc::new(tenant.people.clone()),
        console: Some(Arc::new(steward_server::Console::new(
            steward_server::OidcConfig {
                authorize_url: format!(
                    "{}/{}/oauth2/v2.0/authorize",
                    tenant.sim.base_url, tenant.sim.tenant_id
                ),
                token_url: tenant.sim.token_url(),
                client_id: seed_client_id(&seed_for_console).to_owned(),
                redirect_uri: format!("{url}/console/callback"),
                issuer: Some(format!(
                    "https://login.microsoftonline.com/{}/v2.0",
                    tenant.sim.tenant_id
                )),
            },
            &tenant_id,
            false,
        ))),
        ..steward_server::AppState::single(tenant.runtime.clone())
    };
    let record = serde_json::json!({"url": url, "pid": std::process::id(), "tenant": tenant_id, "domain": domain});
    std::fs::write(
        server_file(&args.data_dir),
        serde_json::to_vec_pretty(&record)?,
    )?;
    println!(
        "Steward demo is running for {} ({tenant_id}), a simulated Microsoft 365 tenant.",
        tenant.runtime.config.name
    );
    println!();
    println!("  Chat as a demo employee:  {url}/");
    println!("  Console (sign in as a demo person, password Demo-<Name>-2026!): {url}/console");
    println!(
        "  Simulated Graph:          {}/v1.0 (acting with {}'s delegated credential)",
        tenant.sim.base_url, tenant.admin
    );
    println!("  Data:                     {}", args.data_dir.display());
    println!(
        "  Policies (reloaded on change): {}",
        tenant.policy_dir.display()
    );
    println!();
    println!("In another terminal, try:");
    let someone = |note: &str| {
        tenant
            .people
            .iter()
            .find(|p| p.note.contains(note))
            .map(|p| p.upn.clone())
    };
    let fallback = format!("someone@{domain}");
    let locked = someone("locked out").unwrap_or_else(|| fallback.clone());
    println!("  steward ask --as {locked} \"I forgot my password and now I'm locked out\"");
    if let Some(disabled) = someone("account disabled") {
        println!("  steward ask --as {disabled} \"my account is disabled\"");
    }
    // The credential owner is the natural admin to ask as; any IT admin will do.
    let owner_is_admin = tenant
        .people
        .iter()
        .any(|p| p.upn == tenant.admin && p.note.contains("IT admin"));
    if let Some(admin) = if owner_is_admin {
        Some(tenant.admin.clone())
    } else {
        someone("IT admin")
    } {
        println!("  steward ask --as {admin} \"can you add Maria to Finance?\"");
    }
    println!("  steward approvals list");
    println!("  steward audit verify");
    println!("(`cargo run --release --` in place of `steward` when running from the source tree.)");
    println!();
    println!("Press Ctrl-C to stop.");
    let server = axum::serve(listener, steward_server::app(state)).with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    });
    let result = server.await;
    let _ = std::fs::remove_file(server_file(&args.data_dir));
    // Stopping: sign what this process wrote since its last checkpoint.
    if let Err(e) = store.sign_pending_checkpoints().await {
        eprintln!("warning: the audit trail's last records were not signed: {e}");
    }
    result.context("the web server stopped")?;
    Ok(ExitCode::SUCCESS)
}
