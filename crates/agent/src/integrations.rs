//! Imported integrations at run time: the enabled ones attached to the tenant's connector (so
//! their actions are in the catalog, the policy schema and the gateway), and actions run by
//! hand (the console's "run action" form) through the gateway like every other call.

use std::sync::Arc;

use serde_json::Value;
use steward_connectors::{ImportedAuth, ImportedConnector, SystemRouter};
use steward_domain::{ActionCall, ActionName, Channel, ConversationId};
use steward_openapi::Integration;
use steward_store::TenantStore;

use crate::gateway::{CallContext, CallKind, GatewayOutcome};
use crate::{AgentError, TenantRuntime};

/// The store id of an integration's secret (kept sealed among the credentials).
pub fn secret_id(integration: &str) -> String {
    format!("integration:{integration}")
}

/// Attaches every enabled integration of the tenant that is not attached yet. One that cannot
/// be attached (an unreadable definition, no base URL, an unusable scheme) is left out and
/// named in the answer; the others are attached regardless.
pub(crate) async fn attach_enabled(
    store: &TenantStore,
    router: &SystemRouter,
) -> Result<Vec<String>, AgentError> {
    let attached = router.attached();
    let mut problems = Vec::new();
    for row in store.integrations().await? {
        if row.status != "enabled" || attached.contains(&row.name) {
            continue;
        }
        match connector_for(store, &row.name, row.definition).await {
            Ok(connector) => router.attach(&row.name, Arc::new(connector)),
            Err(reason) => {
                tracing::error!(integration = %row.name, %reason, "the integration is enabled but cannot be used");
                problems.push(format!("{}: {reason}", row.name));
            }
        }
    }
    Ok(problems)
}

async fn connector_for(
    store: &TenantStore,
    name: &str,
    definition: Value,
) -> Result<ImportedConnector, String> {
    let integration: Integration = serde_json::from_value(definition)
        .map_err(|e| format!("its stored definition is unreadable ({e})"))?;
    let auth = match store.credential(&secret_id(name)).await {
        Ok(secret) => {
            let scheme_name = secret.scopes.first().cloned().unwrap_or_default();
            let scheme = integration
                .auth
                .iter()
                .find(|s| s.scheme() == scheme_name)
                .cloned()
                .ok_or_else(|| {
                    format!(
                        "its secret is for `{scheme_name}`, a scheme the document does not define"
                    )
                })?;
            Some(ImportedAuth {
                scheme,
                secret: secret.refresh_token.to_string(),
                owner: secret.owner,
            })
        }
        Err(steward_store::StoreError::NotFound { .. }) => None,
        Err(e) => return Err(e.to_string()),
    };
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(std::time::Duration::from_secs(10))
        .build()
        .map_err(|e| e.to_string())?;
    ImportedConnector::new(http, integration, auth).map_err(|e| e.to_string())
}

impl TenantRuntime {
    /// Attaches integrations enabled since the last look, then rebuilds the policy set over the
    /// grown catalog (the policy files in force stay the same). Returns what could not be
    /// attached.
    pub async fn refresh_integrations(&self) -> Result<Vec<String>, AgentError> {
        let before = self.router.attached().len();
        let problems = attach_enabled(&self.store, &self.router).await?;
        if self.router.attached().len() != before {
            self.gateway.refresh_catalog();
            self.rebuild_policy("integration enabled").await?;
        }
        Ok(problems)
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
        let kind = match self.gateway.spec(&name) {
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
