//! Imported integrations: importing a document (saved disabled, with proposed policies),
//! accepting those policies (which enables it), keeping the accepted policies in force beside
//! the operator's files, attaching the enabled integrations to the tenant's connector (so their
//! actions are in the catalog, the policy schema and the gateway), and actions run by hand (the
//! console's "run action" form) through the gateway like every other call.
//!
//! Accepted policies live with their integration in the store, not in the policy directory: a
//! console user accepts without knowing where the operator keeps the files, and every replica
//! reads the same ones.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use steward_audit::{AuditEntry, RecordKind};
use steward_connectors::msgraph::{DelegatedCredential, TokenProvider};
use steward_connectors::{ImportedAuth, ImportedConnector, SystemRouter};
use steward_domain::{ActionCall, ActionName, ActionSpec, Channel, ConversationId};
use steward_openapi::{Integration, proposed_policy};
use steward_policy::{PolicyEngine, PolicyError, PolicySource, StandingLink};
use steward_store::TenantStore;

use crate::gateway::{CallContext, CallKind, GatewayOutcome};
use crate::{AgentError, TenantRuntime};

/// The store id of an integration's secret (kept sealed among the credentials).
pub fn secret_id(integration: &str) -> String {
    format!("integration:{integration}")
}

/// How the policies accepted for an integration are named in the set in force (their
/// "file"): they come from the store, never from the policy directory.
pub const POLICY_ORIGIN_PREFIX: &str = "integration:";

fn is_accepted_policy(source: &PolicySource) -> bool {
    source.origin.starts_with(POLICY_ORIGIN_PREFIX)
}

fn accepted_source(name: &str, policy: &str) -> PolicySource {
    PolicySource {
        origin: format!("{POLICY_ORIGIN_PREFIX}{name}"),
        text: policy.to_owned(),
        global: false,
    }
}

/// The policies of every enabled integration, as policy sources.
pub(crate) async fn accepted_policies(
    store: &TenantStore,
) -> Result<Vec<PolicySource>, AgentError> {
    Ok(store
        .integrations()
        .await?
        .into_iter()
        .filter(|r| r.status == "enabled")
        .map(|r| accepted_source(&r.name, &r.policy))
        .collect())
}

/// Builds the set in force from the operator's sources and the accepted integrations'
/// policies. When the whole does not load, the operator's sources alone must (their error is
/// the answer otherwise), and each integration's policies are then kept only if they still load
/// beside them: one broken integration leaves its own actions unpermitted, never the tenant
/// without policies. Returns the engine and the sources it was built from.
pub(crate) fn engine_with_accepted(
    catalog: &[ActionSpec],
    sources: &[PolicySource],
    accepted: Vec<PolicySource>,
    links: &[StandingLink],
) -> Result<(PolicyEngine, Vec<PolicySource>), PolicyError> {
    let mut all: Vec<PolicySource> = sources
        .iter()
        .filter(|s| !is_accepted_policy(s))
        .cloned()
        .collect();
    let operator_count = all.len();
    all.extend(accepted.iter().cloned());
    match PolicyEngine::with_standing(catalog, &all, links) {
        Ok(engine) => return Ok((engine, all)),
        Err(e) if accepted.is_empty() => return Err(e),
        Err(_) => {}
    }
    all.truncate(operator_count);
    let mut engine = PolicyEngine::with_standing(catalog, &all, links)?;
    for source in accepted {
        all.push(source);
        match PolicyEngine::with_standing(catalog, &all, links) {
            Ok(with) => engine = with,
            Err(e) => {
                let left_out = all.pop();
                tracing::error!(origin = ?left_out.map(|s| s.origin), error = %e,
                    "an accepted integration's policies no longer load beside the tenant's others; its actions stay unpermitted");
            }
        }
    }
    Ok((engine, all))
}

/// The enabled integrations: the acceptance each was attached for (a re-accepted integration
/// is attached again, with its new definition), and why it could not be, if it could not; and
/// the store's integrations as last looked at, so a poll that finds them unchanged (and
/// nothing left to retry) stops after one light query.
#[derive(Debug, Default)]
pub(crate) struct AttachedIntegrations {
    attached: Mutex<BTreeMap<String, (String, Option<String>)>>,
    seen: Mutex<Option<Vec<String>>>,
}

/// Brings the router in line with the store: attaches every enabled integration not attached
/// for its current acceptance, and detaches those no longer enabled (re-imported, so to be
/// reviewed again). One that cannot be attached (an unreadable definition, an unusable scheme,
/// nobody signed in for it yet) is left out, tried again at the next look, and named in the
/// answer when it first fails; the others are attached regardless. Says whether anything
/// changed.
pub(crate) async fn sync_attached(
    store: &TenantStore,
    router: &SystemRouter,
    attached: &AttachedIntegrations,
) -> Result<(bool, Vec<String>), AgentError> {
    let versions = store.integration_versions().await?;
    let retry = attached
        .attached
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .values()
        .any(|(_, failure)| failure.is_some());
    {
        let mut seen = attached
            .seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if !retry && seen.as_ref() == Some(&versions) {
            return Ok((false, Vec::new()));
        }
        *seen = Some(versions);
    }
    let rows = store.integrations().await?;
    let mut problems = Vec::new();
    let mut wanted = BTreeMap::new();
    let mut dormant = BTreeMap::new();
    let mut changed = false;
    for row in rows {
        if row.status != "enabled" {
            if let Ok(definition) = serde_json::from_value::<Integration>(row.definition) {
                dormant.insert(row.name, definition.actions());
            }
            continue;
        }
        let version = row.accepted.clone().map(|(_, at)| at).unwrap_or_default();
        let current = attached
            .attached
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&row.name)
            .cloned();
        let failed_before = match current {
            Some((v, None)) if v == version => {
                wanted.insert(row.name, (version, None));
                continue;
            }
            Some((v, failure)) if v == version => failure,
            _ => None,
        };
        // Not attached for this acceptance, or it could not be before (tried again at every
        // look: a person may have signed in for it since).
        let actions = serde_json::from_value::<Integration>(row.definition.clone())
            .map(|i| i.actions())
            .unwrap_or_default();
        match connector_for(store, &row.name, row.definition).await {
            Ok(connector) => {
                router.attach(&row.name, Arc::new(connector));
                changed = true;
                wanted.insert(row.name, (version, None));
            }
            Err(reason) => {
                // Reported when it first fails or fails differently, not at every look.
                if failed_before.as_deref() != Some(reason.as_str()) {
                    tracing::error!(integration = %row.name, %reason, "the integration is enabled but cannot be used");
                    problems.push(format!("{}: {reason}", row.name));
                }
                // Known but not callable, like one not enabled: policies naming it still load.
                dormant.insert(row.name.clone(), actions);
                wanted.insert(row.name, (version, Some(reason)));
            }
        }
    }
    let mut map = attached
        .attached
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    for gone in map.keys().filter(|n| !wanted.contains_key(*n)) {
        router.detach(gone);
        changed = true;
    }
    *map = wanted;
    changed |= router.set_dormant(dormant);
    Ok((changed, problems))
}

/// A secret pasted with an import, and the document's scheme it is for (`None`: the first
/// static scheme the operations accept).
#[derive(Debug, Clone)]
pub struct GivenSecret {
    /// The key, token or `user:password`.
    pub value: String,
    /// The security scheme's name in the document.
    pub scheme: Option<String>,
}

/// What an import produced: the integration and the policies Steward proposes for it.
#[derive(Debug, Clone)]
pub struct Imported {
    /// The operations, one action each.
    pub integration: Integration,
    /// The proposed Cedar policies (accepted whole, or not at all).
    pub policy: String,
}

/// What importing `document` as integration `name` would give, saving nothing (a dry run).
pub fn preview(document: &str, name: &str, base_url: Option<&str>) -> Result<Imported, AgentError> {
    let integration = steward_openapi::import(document, name, base_url)
        .map_err(|e| AgentError::BadInput(e.to_string()))?;
    let policy = proposed_policy(&integration);
    Ok(Imported {
        integration,
        policy,
    })
}

/// Imports `document` as integration `name` for `by`: saved disabled (a re-import replaces one
/// of the same name and disables it again, so a changed document is reviewed again) with its
/// secret sealed under the tenant's key. Everything is checked before anything is saved.
pub async fn import(
    store: &TenantStore,
    document: &str,
    name: &str,
    base_url: Option<&str>,
    by: &str,
    secret: Option<GivenSecret>,
) -> Result<Imported, AgentError> {
    let Imported {
        integration,
        policy,
    } = preview(document, name, base_url)?;
    if integration.base_url.is_none() {
        return Err(AgentError::BadInput(
            "the document names no absolute server URL: give the base URL calls go to".into(),
        ));
    }
    let scheme = match &secret {
        Some(given) if given.value.trim().is_empty() => {
            return Err(AgentError::BadInput("the secret is empty".into()));
        }
        Some(given) => Some(
            integration
                .scheme_for_secret(given.scheme.as_deref())
                .map_err(|e| AgentError::BadInput(e.to_string()))?,
        ),
        None => None,
    };
    let definition = serde_json::to_value(&integration)
        .map_err(|e| AgentError::BadInput(format!("the integration cannot be saved: {e}")))?;
    if let (Some(given), Some(scheme)) = (&secret, &scheme) {
        store
            .put_credential(
                &secret_id(name),
                by,
                &[scheme.scheme().to_owned()],
                given.value.trim(),
            )
            .await?;
    }
    store
        .put_integration(name, &definition, &policy, by)
        .await?;
    amend(
        store,
        "integrationImported",
        json!({"integration": name, "by": by, "actions": integration.operations.len(),
               "secret": scheme.map(|s| s.scheme().to_owned())}),
    )
    .await;
    Ok(Imported {
        integration,
        policy,
    })
}

/// Accepts integration `name`'s proposed policies for `by`, which enables it — only if they
/// load whole together with `sources` (the operator's policies in force) and the other accepted
/// integrations', over `catalog` with the integration's own actions. Nothing changes otherwise.
/// Accepting is done once: a second acceptance is a conflict.
pub async fn accept(
    store: &TenantStore,
    name: &str,
    by: &str,
    catalog: Vec<ActionSpec>,
    sources: &[PolicySource],
) -> Result<Integration, AgentError> {
    let row = store.integration(name).await?;
    if row.status != "disabled" {
        return Err(AgentError::BadInput(format!(
            "integration `{name}` is already {}",
            row.status
        )));
    }
    let integration: Integration = serde_json::from_value(row.definition).map_err(|e| {
        AgentError::BadState(
            name.to_owned(),
            format!("the stored integration is unreadable: {e}"),
        )
    })?;
    let own = format!("{name}.");
    let mut actions: BTreeMap<String, ActionSpec> = catalog
        .into_iter()
        .filter(|s| !s.name.as_str().starts_with(&own))
        .map(|s| (s.name.as_str().to_owned(), s))
        .collect();
    let mut candidate: Vec<PolicySource> = sources
        .iter()
        .filter(|s| !is_accepted_policy(s))
        .cloned()
        .collect();
    for other in store.integrations().await? {
        if other.status != "enabled" || other.name == name {
            continue;
        }
        let Ok(definition) = serde_json::from_value::<Integration>(other.definition) else {
            continue;
        };
        for spec in definition.actions() {
            actions.insert(spec.name.as_str().to_owned(), spec);
        }
        candidate.push(accepted_source(&other.name, &other.policy));
    }
    for spec in integration.actions() {
        actions.insert(spec.name.as_str().to_owned(), spec);
    }
    candidate.push(accepted_source(name, &row.policy));
    let catalog: Vec<ActionSpec> = actions.into_values().collect();
    PolicyEngine::new(&catalog, &candidate).map_err(|e| {
        AgentError::BadInput(format!(
            "the proposed policies do not load together with the tenant's others; nothing was changed: {e}"
        ))
    })?;
    store.accept_integration(name, by).await?;
    amend(
        store,
        "integrationAccepted",
        json!({"integration": name, "by": by, "actions": integration.operations.len()}),
    )
    .await;
    Ok(integration)
}

async fn amend(store: &TenantStore, outcome: &str, detail: Value) {
    let mut entry = AuditEntry::new(store.tenant().to_string(), RecordKind::PolicyAmendment);
    entry.outcome = Some(outcome.into());
    entry.detail = detail;
    if let Err(e) = store.append_audit(entry).await {
        tracing::error!(error = %e, outcome, "could not audit the integration change");
    }
}

/// The connector integration `name` (its stored `definition`) is attached with: its pasted
/// secret, or the OAuth 2.0 grant a person's sign-in produced (`steward connect
/// --integration`), exchanged for access tokens as calls need them. Why not, if it cannot be.
pub async fn connector_for(
    store: &TenantStore,
    name: &str,
    definition: Value,
) -> Result<ImportedConnector, String> {
    let integration: Integration = serde_json::from_value(definition)
        .map_err(|e| format!("its stored definition is unreadable ({e})"))?;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(std::time::Duration::from_secs(10))
        .build()
        .map_err(|e| e.to_string())?;
    let scheme_named = |scheme_name: &str| {
        integration
            .auth
            .iter()
            .find(|s| s.scheme() == scheme_name)
            .cloned()
            .ok_or_else(|| {
                format!("its secret is for `{scheme_name}`, a scheme the document does not define")
            })
    };
    let auth = match store.credential(&oauth_client_id(name)).await {
        // A person signed in (`steward connect --integration`): act with their grant.
        Ok(client) => {
            let scheme = scheme_named(client.scopes.first().map_or("", String::as_str))?;
            let base_url = integration.base_url.clone().unwrap_or_default();
            let (_, token_url) = scheme
                .oauth_endpoints(&base_url)
                .ok_or_else(|| format!("`{}` is not an OAuth 2.0 scheme", scheme.scheme()))?;
            let settings: OAuthClient = serde_json::from_str(&client.refresh_token)
                .map_err(|e| format!("its OAuth client settings are unreadable ({e})"))?;
            let grant = match store.credential(&secret_id(name)).await {
                Ok(g) => g,
                Err(steward_store::StoreError::NotFound { .. }) => {
                    return Err(format!(
                        "nobody has signed in for it yet: run `steward connect --integration {name}`"
                    ));
                }
                Err(e) => return Err(e.to_string()),
            };
            let tokens = TokenProvider::new(
                http.clone(),
                token_url,
                settings.client_id,
                Vec::new(),
                DelegatedCredential {
                    owner: grant.owner.clone(),
                    refresh_token: grant.refresh_token.to_string(),
                },
            )
            .with_bare_scopes()
            .without_offline_scope()
            .with_client_secret(settings.client_secret)
            .keeping_tokens_in(Arc::new(crate::StoredToken {
                store: store.clone(),
                owner: grant.owner.clone(),
                credential: secret_id(name),
            }));
            Some(ImportedAuth {
                scheme,
                secret: String::new(),
                owner: grant.owner,
                tokens: Some(Arc::new(tokens)),
            })
        }
        Err(steward_store::StoreError::NotFound { .. }) => {
            match store.credential(&secret_id(name)).await {
                Ok(secret) => Some(ImportedAuth {
                    scheme: scheme_named(secret.scopes.first().map_or("", String::as_str))?,
                    secret: secret.refresh_token.to_string(),
                    owner: secret.owner,
                    tokens: None,
                }),
                Err(steward_store::StoreError::NotFound { .. }) => None,
                Err(e) => return Err(e.to_string()),
            }
        }
        Err(e) => return Err(e.to_string()),
    };
    ImportedConnector::new(http, integration, auth).map_err(|e| e.to_string())
}

/// The store id of an integration's OAuth 2.0 client settings (which scheme, client id and
/// secret), kept sealed beside the grant a person's sign-in produced.
pub fn oauth_client_id(integration: &str) -> String {
    format!("integration:{integration}:client")
}

/// An integration's OAuth 2.0 client, as kept (sealed) under [`oauth_client_id`].
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OAuthClient {
    /// The client id registered with the API's authorization server.
    pub client_id: String,
    /// Its secret, when the server wants one.
    #[serde(default)]
    pub client_secret: Option<String>,
}

impl TenantRuntime {
    /// Brings the attached integrations in line with the store (enabled since, re-accepted, or
    /// disabled again by a re-import) and, when anything changed, rebuilds the policy set over
    /// the new catalog with the accepted policies (the operator's files in force stay the
    /// same). Returns what could not be attached.
    pub async fn refresh_integrations(&self) -> Result<Vec<String>, AgentError> {
        let (changed, problems) =
            sync_attached(&self.store, &self.router, &self.attached_integrations).await?;
        if changed {
            self.gateway.refresh_catalog();
            self.rebuild_policy("integrations changed").await?;
        }
        Ok(problems)
    }

    /// Imports an API document for an IT admin (the console's upload): see [`import`]. `dry_run`
    /// saves nothing.
    pub async fn import_integration(
        &self,
        admin: &str,
        document: &str,
        name: &str,
        base_url: Option<&str>,
        secret: Option<GivenSecret>,
        dry_run: bool,
    ) -> Result<Imported, AgentError> {
        let principal = self.it_admin(admin).await?;
        if dry_run {
            return preview(document, name, base_url);
        }
        import(
            &self.store,
            document,
            name,
            base_url,
            &principal.upn,
            secret,
        )
        .await
    }

    /// Accepts integration `name`'s proposed policies for an IT admin, checked with the
    /// policies in force, and puts them in force at once with its actions. Also returns why it
    /// cannot be used yet, if it cannot (an OAuth 2.0 scheme nobody has signed in for).
    pub async fn accept_integration(
        &self,
        admin: &str,
        name: &str,
    ) -> Result<(Integration, Option<String>), AgentError> {
        let principal = self.it_admin(admin).await?;
        let integration = accept(
            &self.store,
            name,
            &principal.upn,
            self.gateway.catalog(),
            &self.gateway.sources(),
        )
        .await?;
        let problems = self.refresh_integrations().await?;
        let prefix = format!("{name}: ");
        let problem = problems
            .iter()
            .find_map(|p| p.strip_prefix(&prefix).map(str::to_owned));
        Ok((integration, problem))
    }

    async fn it_admin(&self, upn: &str) -> Result<steward_domain::Principal, AgentError> {
        let principal = self.identify(upn).await?;
        if !principal.it_admin {
            return Err(AgentError::NotAllowed(format!(
                "{} is not an IT admin: integrations are managed by IT admins",
                principal.upn
            )));
        }
        Ok(principal)
    }

    /// Runs one action by hand for `requester` (the console's "run action" form): identified,
    /// decided, approved, audited and verified by the gateway exactly like a reasoner's call. A
    /// change that needs an approval comes back as `NeedsApproval`.
    pub async fn run_action(
        &self,
        requester: &str,
        channel: Channel,
        action: &str,
        params: Value,
    ) -> Result<GatewayOutcome, AgentError> {
        let principal = self.identify(requester).await?;
        let name = ActionName::new(action).map_err(|e| AgentError::BadInput(e.to_string()))?;
        let offered = self.router.offered().into_iter().find(|s| s.name == name);
        let kind = match offered {
            Some(spec) if spec.mutating => CallKind::Act,
            Some(_) => CallKind::Investigate,
            None => {
                return Err(AgentError::BadInput(format!(
                    "`{action}` is not an action Steward offers (an imported integration's actions are offered only once its policies are accepted)"
                )));
            }
        };
        let purpose = format!(
            "run by hand by {} from the {}",
            principal.upn,
            channel.as_str()
        );
        // A conversation of its own, so an approval decided later has one to report back to.
        let conversation = ConversationId::new();
        let state = crate::conversation::ConversationState::default();
        self.store
            .create_conversation(
                conversation,
                &principal.upn,
                channel.as_str(),
                &serde_json::to_value(&state)
                    .map_err(|e| AgentError::BadState(conversation.to_string(), e.to_string()))?,
            )
            .await?;
        let ctx = CallContext {
            principal: &principal,
            channel,
            conversation,
            purpose: &purpose,
            blast_radius: None,
            turn: None,
        };
        Ok(self
            .gateway
            .call(
                &ctx,
                &ActionCall {
                    action: name,
                    params,
                },
                kind,
            )
            .await)
    }
}
