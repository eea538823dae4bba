//! Assembling a tenant: policies from its directory, a Graph connector with a delegated
//! credential, the store handle and the agent.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use steward_agent::{TenantConfig, TenantRuntime};
use steward_connectors::Connector;
use steward_connectors::msgraph::{
    self, DelegatedCredential, GraphClient, MsGraphConnector, RetryPolicy, TokenProvider,
};
use steward_policy::{DEFAULT_TENANT_POLICIES, GLOBAL_ORIGIN, GLOBAL_POLICIES, PolicySource};
use steward_store::Store;

/// How often a served tenant's policy directory is checked for changes.
pub const POLICY_POLL: Duration = Duration::from_secs(2);

/// The global layer plus every `*.cedar` file of `dir` (sorted by name).
pub fn policy_sources(dir: Option<&Path>) -> anyhow::Result<Vec<PolicySource>> {
    let mut sources = vec![PolicySource {
        origin: GLOBAL_ORIGIN.into(),
        text: GLOBAL_POLICIES.into(),
        global: true,
    }];
    match dir {
        None => {
            for (name, text) in DEFAULT_TENANT_POLICIES {
                sources.push(PolicySource {
                    origin: format!("builtin:default/{name}"),
                    text: (*text).into(),
                    global: false,
                });
            }
        }
        Some(dir) => {
            let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
                .with_context(|| format!("cannot read the policy directory `{}`", dir.display()))?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "cedar"))
                .collect();
            files.sort();
            if files.is_empty() {
                anyhow::bail!(
                    "the policy directory `{}` holds no .cedar file, so nothing would be permitted",
                    dir.display()
                );
            }
            for file in files {
                let text = std::fs::read_to_string(&file)
                    .with_context(|| format!("cannot read `{}`", file.display()))?;
                sources.push(PolicySource {
                    origin: file.display().to_string(),
                    text,
                    global: false,
                });
            }
        }
    }
    Ok(sources)
}

/// Writes the default tenant policy set into `dir` unless it already holds policies.
pub fn install_default_policies(dir: &Path) -> anyhow::Result<bool> {
    if dir.exists() && std::fs::read_dir(dir)?.next().is_some() {
        return Ok(false);
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create `{}`", dir.display()))?;
    for (name, text) in DEFAULT_TENANT_POLICIES {
        std::fs::write(dir.join(name), text)
            .with_context(|| format!("cannot write `{}`", dir.join(name).display()))?;
    }
    Ok(true)
}

/// How to reach a tenant's Graph.
pub struct GraphSetup {
    /// `https://graph.microsoft.com` or a simulator.
    pub base_url: String,
    /// The tenant's v2.0 token endpoint.
    pub token_url: String,
    /// Steward's application (client) id.
    pub client_id: String,
    /// The person's delegated credential to act with.
    pub credential: DelegatedCredential,
    /// The credential came from the store (`steward connect`): rotated refresh tokens are kept
    /// there too, and reloaded when another replica rotated it first.
    pub kept_in_store: bool,
}

/// The id under which a tenant's Graph credential is kept in the store.
pub const MSGRAPH_CREDENTIAL: &str = "msgraph";

/// A grant's refresh token: from the environment variable `var` when it is set, else the one
/// kept in the store under `credential` (`connect` says how to keep one). Says which.
pub(crate) async fn grant_token(
    store: &steward_store::TenantStore,
    var: Option<&str>,
    credential: &str,
    connect: &str,
) -> anyhow::Result<(String, bool)> {
    if let Some(value) = var
        .and_then(|v| std::env::var(v).ok())
        .filter(|v| !v.trim().is_empty())
    {
        return Ok((value, false));
    }
    let kept = store.credential(credential).await.with_context(|| {
        format!(
            "no `{credential}` grant: set {} or run `{connect}`",
            var.unwrap_or("the refresh token variable")
        )
    })?;
    Ok((kept.refresh_token.to_string(), true))
}

/// A refresh token from a simulator's password grant (`scope` as the platform writes it): the
/// demo's and the tests' stand-in for a person's sign-in. Only simulators accept it here.
pub async fn sim_refresh_token(
    token_url: &str,
    client_id: &str,
    login: &str,
    password: &str,
    scope: &str,
) -> anyhow::Result<String> {
    let answer: serde_json::Value = http_client()?
        .post(token_url)
        .form(&[
            ("grant_type", "password"),
            ("client_id", client_id),
            ("username", login),
            ("password", password),
            ("scope", scope),
        ])
        .send()
        .await?
        .json()
        .await?;
    answer["refresh_token"]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("the simulator refused {login}: {answer}"))
}

/// An HTTP client with sane timeouts and no redirects (token calls must not follow them).
pub fn http_client() -> anyhow::Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .connect_timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .context("cannot build the HTTP client")
}

/// Builds a tenant runtime. Fails (before serving anything) if the policies do not load.
pub async fn tenant_runtime(
    store: &Store,
    config: TenantConfig,
    graph: GraphSetup,
    policy_dir: Option<&Path>,
    retry: RetryPolicy,
) -> anyhow::Result<Arc<TenantRuntime>> {
    let http = http_client()?;
    let scopes = msgraph::SCOPES.iter().map(|s| (*s).to_owned()).collect();
    let tenant_store = store.ensure_tenant(&config.id, &config.name).await?;
    let owner = graph.credential.owner.clone();
    let mut tokens = TokenProvider::new(
        http.clone(),
        graph.token_url.clone(),
        graph.client_id.clone(),
        scopes,
        graph.credential,
    );
    if graph.kept_in_store {
        tokens = tokens.keeping_tokens_in(Arc::new(steward_agent::StoredToken {
            store: tenant_store.clone(),
            owner,
            credential: MSGRAPH_CREDENTIAL.to_owned(),
        }));
    }
    let tokens = Arc::new(tokens);
    let endpoint = crate::grant::GraphEndpoint {
        http: http.clone(),
        base_url: graph.base_url.clone(),
        token_url: graph.token_url.clone(),
        client_id: graph.client_id.clone(),
        retry,
    };
    let connector: Arc<dyn Connector> = Arc::new(MsGraphConnector::new(GraphClient::new(
        http,
        graph.base_url,
        tokens,
        retry,
    )));
    let sources = policy_sources(policy_dir)?;
    let runtime = TenantRuntime::start(config, tenant_store.clone(), sources, connector)
        .await
        .context("the policies do not load; Steward will not start with them")?;
    // Self-service acts with the employee channel's own grant, read from the store at each call.
    runtime.set_employee_connector(Some(Arc::new(crate::grant::StoredGrantConnector::new(
        tenant_store,
        endpoint,
    ))));
    Ok(Arc::new(runtime))
}

/// A fingerprint of the `*.cedar` files of `dir` (names and contents), to notice any change.
fn fingerprint(dir: &Path) -> Option<u64> {
    use std::hash::{Hash as _, Hasher as _};
    let mut files: Vec<(PathBuf, Vec<u8>)> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "cedar"))
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap_or_default();
            (p, bytes)
        })
        .collect();
    files.sort();
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    files.hash(&mut hasher);
    Some(hasher.finish())
}

/// Which policy set a directory feeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicySlot {
    /// The set in force.
    Enforced,
    /// The candidate set of shadow mode.
    Shadow,
}

/// Loads `dir` into `slot` now.
pub async fn load_policies(
    runtime: &TenantRuntime,
    dir: &Path,
    slot: PolicySlot,
) -> anyhow::Result<String> {
    let sources = policy_sources(Some(dir))?;
    let origin = dir.display().to_string();
    // An integration accepted since (`steward integrations accept`) brings its actions and the
    // policy file naming them together: attach it first, so the new file validates.
    if slot == PolicySlot::Enforced {
        for problem in runtime.refresh_integrations().await? {
            eprintln!("an enabled integration could not be attached: {problem}");
        }
    }
    Ok(match slot {
        PolicySlot::Enforced => runtime.reload_policies(&sources, &origin).await?,
        PolicySlot::Shadow => runtime
            .set_shadow_policies(Some(&sources), &origin)
            .await?
            .unwrap_or_default(),
    })
}

/// Reloads a tenant's policies when its directory changes (polled every `every`; portable and
/// needs no file-system notification support), and, for the enforced set, brings in the
/// integrations accepted since (their policies are kept in the store). A set that does not load
/// leaves the previous one in force and the error is printed with file, line and policy.
pub fn watch_policies(
    runtime: Arc<TenantRuntime>,
    dir: PathBuf,
    every: Duration,
    slot: PolicySlot,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut last = fingerprint(&dir);
        loop {
            tokio::time::sleep(every).await;
            let now = fingerprint(&dir);
            if now == last {
                // Integrations accepted (or re-imported) elsewhere — the console, another
                // replica, the CLI — bring their policies from the store.
                if slot == PolicySlot::Enforced {
                    match runtime.refresh_integrations().await {
                        Ok(problems) => {
                            for problem in problems {
                                eprintln!(
                                    "an enabled integration could not be attached: {problem}"
                                );
                            }
                        }
                        Err(e) => eprintln!("the integrations could not be refreshed: {e}"),
                    }
                }
                continue;
            }
            last = now;
            let shown = dir.display().to_string();
            let which = if slot == PolicySlot::Shadow {
                "shadow policies"
            } else {
                "policies"
            };
            match load_policies(&runtime, &dir, slot).await {
                Ok(hash) => eprintln!(
                    "{which} reloaded from {shown} (policy set {})",
                    hash.get(..16).unwrap_or(&hash)
                ),
                Err(e) => {
                    eprintln!("{which} in {shown} were NOT reloaded; the previous set stays: {e:#}")
                }
            }
        }
    })
}

/// How often the ITSM tool's queue for Steward is read (tickets as requests).
pub const TICKET_POLL: Duration = Duration::from_secs(30);

/// Takes new tickets from the ITSM tool's queue now and then every `every`
/// (`TenantRuntime::take_tickets`: each claimed once in the store, so replicas polling together
/// never take one twice).
pub fn take_tickets_periodically(
    runtime: Arc<TenantRuntime>,
    every: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match runtime.take_tickets().await {
                Ok(handled) => {
                    for t in handled {
                        tracing::info!(ticket = %t.key, outcome = %t.outcome, "ticket taken as a request");
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, "taking tickets failed; trying again at the next poll")
                }
            }
            tokio::time::sleep(every).await;
        }
    })
}

/// How often pending approvals are checked for expiry.
pub const EXPIRY_POLL: Duration = Duration::from_secs(60);

/// How often changes left in doubt by a dead process are looked for (they become in doubt only
/// once their lease has run out).
pub const RECONCILE_POLL: Duration = Duration::from_secs(15);

/// Settles, now and then every `every`, the changes a dead process left in doubt and the
/// approvals it never finished (`TenantRuntime::reconcile`); every replica runs it, and each
/// change is claimed by one.
pub fn reconcile_periodically(
    runtime: Arc<TenantRuntime>,
    every: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match runtime.reconcile(chrono::Utc::now()).await {
                Ok((settled, finished)) => {
                    for r in settled {
                        eprintln!(
                            "reconciled an in-doubt change ({}, key {}): {:?}",
                            r.action, r.key, r.found
                        );
                    }
                    if !finished.is_empty() {
                        eprintln!(
                            "finished {} approved request(s) after a restart",
                            finished.len()
                        );
                    }
                }
                Err(e) => eprintln!("could not reconcile {}: {e}", runtime.config.id),
            }
            tokio::time::sleep(every).await;
        }
    })
}

/// Expires overdue approval requests of `runtime` every `every`; each expiry tells the requester
/// through their conversation.
pub fn expire_approvals_periodically(
    runtime: Arc<TenantRuntime>,
    every: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(every).await;
            match runtime.expire_approvals(chrono::Utc::now()).await {
                Ok(expired) => {
                    for (id, _) in expired {
                        eprintln!("approval {id} expired; the requester was told");
                    }
                }
                Err(e) => eprintln!("could not expire approvals of {}: {e}", runtime.config.id),
            }
        }
    })
}

/// Makes a language model the tenant's reasoner: checks the provider (its key variable is set,
/// its URL parses) before anything is served, so a misconfiguration stops the start.
pub fn use_model(
    runtime: &TenantRuntime,
    provider: Option<steward_llm::ProviderConfig>,
) -> anyhow::Result<()> {
    let provider = provider.context("the reasoner's provider is not configured")?;
    let client = steward_llm::ModelClient::new(provider)?;
    let reasoner = steward_agent::reasoner::llm::LlmReasoner::new(client);
    runtime.set_reasoner(Arc::new(reasoner));
    Ok(())
}

/// Reads one provider description (a TOML table with the fields of a `[[providers]]` entry).
pub fn load_provider(path: &std::path::Path) -> anyhow::Result<steward_llm::ProviderConfig> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read `{}`", path.display()))?;
    toml::from_str(&text)
        .with_context(|| format!("`{}` is not a valid provider description", path.display()))
}
