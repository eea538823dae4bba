//! `steward serve --config FILE`.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use steward_agent::TenantConfig;
use steward_connectors::msgraph::{DelegatedCredential, RetryPolicy};
use steward_domain::TenantId;

use crate::cli::ServeArgs;
use crate::config::Config;
use crate::wiring::{
    EXPIRY_POLL, GraphSetup, POLICY_POLL, PolicySlot, expire_approvals_periodically, load_policies,
    reconcile_periodically, tenant_runtime, watch_policies,
};

/// The tenant's delegated refresh token: from its environment variable when one is named and
/// set, else the one `steward connect` kept in the store (then `true`: rotations are kept there).
async fn delegated_refresh_token(
    store: &steward_store::Store,
    t: &crate::config::TenantSection,
) -> anyhow::Result<(String, bool)> {
    if let Some(var) = &t.graph.refresh_token_env
        && let Ok(token) = std::env::var(var)
        && !token.is_empty()
    {
        return Ok((token, false));
    }
    let connect = format!(
        "run `steward connect --config … --tenant {}` to sign its administrator in{}",
        t.id,
        t.graph
            .refresh_token_env
            .as_ref()
            .map(|v| format!(", or set `{v}`"))
            .unwrap_or_default()
    );
    let tenant = store
        .ensure_tenant(&TenantId::new(t.id.clone())?, &t.name)
        .await?;
    let kept = match tenant.credential(crate::wiring::MSGRAPH_CREDENTIAL).await {
        Ok(kept) => kept,
        Err(steward_store::StoreError::NotFound { .. }) => {
            anyhow::bail!("tenant `{}` has no delegated credential: {connect}", t.id)
        }
        Err(e) => return Err(e.into()),
    };
    if !kept.owner.eq_ignore_ascii_case(&t.graph.credential_owner) {
        anyhow::bail!(
            "tenant `{}`: the kept credential is {}'s, but the configuration names {} as the owner; {connect}",
            t.id,
            kept.owner,
            t.graph.credential_owner
        );
    }
    Ok((kept.refresh_token.to_string(), true))
}

/// With `employee_refresh_token_env` set and present, the employee channel's grant is kept
/// (sealed) in the store, where the employee channel reads it at each call.
async fn keep_employee_grant_from_env(
    store: &steward_store::Store,
    t: &crate::config::TenantSection,
) -> anyhow::Result<()> {
    let Some(var) = &t.graph.employee_refresh_token_env else {
        return Ok(());
    };
    let Ok(token) = std::env::var(var) else {
        return Ok(());
    };
    let owner = t.graph.employee_owner.as_deref().with_context(|| {
        format!(
            "tenant `{}` sets `employee_refresh_token_env` but names no `employee_owner`",
            t.id
        )
    })?;
    let scopes: Vec<String> = steward_connectors::msgraph::EMPLOYEE_SCOPES
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    store
        .ensure_tenant(&TenantId::new(t.id.clone())?, &t.name)
        .await?
        .put_credential(
            crate::grant::EMPLOYEE_CREDENTIAL,
            owner,
            &scopes,
            token.trim(),
        )
        .await?;
    Ok(())
}

pub async fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let config = Config::load(&args.config)?;
    let database = std::env::var(crate::database::DATABASE_ENV)
        .ok()
        .or_else(|| config.database.clone());
    let store = crate::database::open(database.as_deref(), &config.data_dir).await?;
    let mut tenants = std::collections::BTreeMap::new();
    for t in &config.tenants {
        let (refresh_token, kept_in_store) = delegated_refresh_token(&store, t).await?;
        keep_employee_grant_from_env(&store, t).await?;
        let tenant_config = TenantConfig {
            id: TenantId::new(t.id.clone())?,
            name: t.name.clone(),
            domain: t.domain.clone(),
            it_admins_group: t.it_admins_group.clone(),
            protected_identities: t.protected_identities.clone(),
            utc_offset_minutes: t.utc_offset_minutes,
            approval_ttl: std::time::Duration::from_secs(t.approval_ttl_hours * 3600),
            intent_lease: std::time::Duration::from_secs(config.intent_lease_seconds),
        };
        let graph = GraphSetup {
            base_url: t.graph.base_url.clone(),
            token_url: t.graph.token_url.clone(),
            client_id: t.graph.client_id.clone(),
            credential: DelegatedCredential {
                owner: t.graph.credential_owner.clone(),
                refresh_token,
            },
            kept_in_store,
        };
        let runtime = tenant_runtime(
            &store,
            tenant_config,
            graph,
            Some(&t.policy_dir),
            RetryPolicy::default(),
        )
        .await
        .with_context(|| format!("tenant `{}`", t.id))?;
        if let Some(name) = &t.reasoner {
            let provider = config.providers.iter().find(|p| &p.name == name);
            crate::wiring::use_model(&runtime, provider.cloned())
                .with_context(|| format!("tenant `{}`", t.id))?;
        }
        if let Some(okta) = &t.okta {
            crate::okta_wiring::attach(&runtime, okta)
                .await
                .with_context(|| format!("tenant `{}`: the Okta connection", t.id))?;
        }
        if let Some(google) = &t.google {
            crate::google_wiring::attach(&runtime, google)
                .await
                .with_context(|| format!("tenant `{}`: the Google Workspace connection", t.id))?;
        }
        if let Some(itsm) = &t.itsm {
            runtime.set_ticket_desk(Some(
                itsm.desk()
                    .with_context(|| format!("tenant `{}`: the ITSM connection", t.id))?,
            ));
            // Tickets in Steward's queue (ServiceNow's `intake_group`) become requests.
            crate::wiring::take_tickets_periodically(runtime.clone(), crate::wiring::TICKET_POLL);
        }
        watch_policies(
            runtime.clone(),
            t.policy_dir.clone(),
            POLICY_POLL,
            PolicySlot::Enforced,
        );
        if let Some(shadow) = &t.shadow_policy_dir {
            load_policies(&runtime, shadow, PolicySlot::Shadow)
                .await
                .with_context(|| format!("tenant `{}`: the shadow policies do not load", t.id))?;
            watch_policies(
                runtime.clone(),
                shadow.clone(),
                POLICY_POLL,
                PolicySlot::Shadow,
            );
        }
        expire_approvals_periodically(runtime.clone(), EXPIRY_POLL);
        reconcile_periodically(
            runtime.clone(),
            std::time::Duration::from_secs(config.reconcile_every_seconds.max(1)),
        );
        tenants.insert(t.id.clone(), runtime);
    }
    let default_tenant = config
        .tenants
        .first()
        .map(|t| t.id.clone())
        .unwrap_or_default();
    let replicas = config.replicas.unwrap_or(store.backend() == "postgres");
    let work = replicas.then(|| {
        let mut work = steward_server::WorkConfig::new(steward_agent::process_owner().to_owned());
        work.lease = std::time::Duration::from_secs(config.work_lease_seconds.max(1));
        work.workers = config.workers.max(1);
        work
    });
    let state = steward_server::AppState {
        tenants: Arc::new(tenants),
        default_tenant,
        demo_people: Arc::new(Vec::new()),
        work,
        slack: slack_channel(&config)?,
        teams: teams_channel(&config)?,
        console: console(&config),
    };
    let workers = steward_server::start_workers(store.clone(), state.clone());
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    println!(
        "Steward is serving {} tenant(s) on http://{}{}",
        config.tenants.len(),
        listener.local_addr()?,
        if workers.is_empty() {
            String::new()
        } else {
            format!(
                " (replica {} with {} workers)",
                steward_agent::process_owner(),
                workers.len()
            )
        }
    );
    axum::serve(listener, steward_server::app(state))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .context("the web server stopped")?;
    for w in workers {
        w.abort();
    }
    // Stopping: sign what this process wrote since its last checkpoint.
    store.sign_pending_checkpoints().await?;
    Ok(ExitCode::SUCCESS)
}

/// The Slack workspace of the tenant that has one, its secrets read now (a missing one stops the
/// start rather than every Slack request).
fn slack_channel(config: &Config) -> anyhow::Result<Option<Arc<steward_server::SlackChannel>>> {
    let Some((tenant, slack)) = config
        .tenants
        .iter()
        .find_map(|t| t.slack.as_ref().map(|s| (t, s)))
    else {
        return Ok(None);
    };
    let secret = |var: &str| secret_env(&tenant.id, "Slack", var);
    let client = steward_connectors::slack::SlackClient::new(
        &slack.api_base_url,
        &secret(&slack.bot_token_env)?,
    );
    Ok(Some(Arc::new(steward_server::SlackChannel::new(
        &secret(&slack.signing_secret_env)?,
        client,
        &tenant.id,
        slack.approvals_channel.clone(),
    ))))
}

/// The Teams bot of the tenant that has one, its password read now.
fn teams_channel(config: &Config) -> anyhow::Result<Option<Arc<steward_server::TeamsChannel>>> {
    let Some((tenant, teams)) = config
        .tenants
        .iter()
        .find_map(|t| t.teams.as_ref().map(|s| (t, s)))
    else {
        return Ok(None);
    };
    let password = secret_env(&tenant.id, "Teams", &teams.app_password_env)?;
    let connector = steward_connectors::botframework::BotConnector::new(
        &teams.app_id,
        &password,
        &teams.token_url,
    );
    Ok(Some(Arc::new(steward_server::TeamsChannel::new(
        &teams.app_id,
        &teams.openid_metadata_url,
        connector,
        &tenant.id,
    ))))
}

/// The console of the tenant that has one.
fn console(config: &Config) -> Option<Arc<steward_server::Console>> {
    let (tenant, c) = config
        .tenants
        .iter()
        .find_map(|t| t.console.as_ref().map(|c| (t, c)))?;
    let public = c.public_url.trim_end_matches('/');
    Some(Arc::new(steward_server::Console::new(
        steward_server::OidcConfig {
            authorize_url: c.authorize_url.clone(),
            token_url: c.token_url.clone(),
            client_id: c.client_id.clone(),
            redirect_uri: format!("{public}/console/callback"),
            issuer: c.issuer.clone(),
        },
        &tenant.id,
        public.starts_with("https://"),
    )))
}

/// A secret from the environment variable the configuration names; unset or empty stops the
/// start, naming the tenant, the channel and the variable.
fn secret_env(tenant: &str, what: &str, var: &str) -> anyhow::Result<String> {
    std::env::var(var)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .with_context(|| format!("tenant `{tenant}`: the {what} variable `{var}` is not set"))
}
