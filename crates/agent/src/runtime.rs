use std::sync::Arc;

use serde_json::json;
use steward_audit::{AuditEntry, RecordKind};
use steward_connectors::Connector;
use steward_domain::{Principal, TargetKind, TenantId};
use steward_policy::PolicySource;
use steward_store::TenantStore;
use tokio::sync::OnceCell;

use crate::AgentError;
use crate::gateway::Gateway;
use crate::reasoner::{Reasoner, builtin::BuiltinReasoner};

/// What Steward knows about a tenant beyond its directory.
#[derive(Debug, Clone)]
pub struct TenantConfig {
    /// Steward's id for the tenant.
    pub id: TenantId,
    /// Its name.
    pub name: String,
    /// Its default sign-in domain.
    pub domain: String,
    /// The directory group whose members may ask Steward to act on other people (IT admins).
    pub it_admins_group: String,
    /// Sign-in names that are never targets (break-glass accounts, Steward's own identities).
    pub protected_identities: Vec<String>,
    /// The tenant's offset from UTC in minutes, for time-of-day policies.
    pub utc_offset_minutes: i32,
    /// How long an approval request waits for a decision before it expires (and the requester
    /// is told).
    pub approval_ttl: std::time::Duration,
    /// How long a started change is its process's to finish (its connector call, retries
    /// included) before another replica may treat it as in doubt and reconcile it.
    pub intent_lease: std::time::Duration,
}

/// The default [`TenantConfig::intent_lease`]: well above the longest connector call with its
/// retries, so a live call is never reconciled under its maker.
pub const DEFAULT_INTENT_LEASE: std::time::Duration = std::time::Duration::from_secs(300);

/// Everything needed to serve one tenant: its config, store handle, gateway and reasoner.
pub struct TenantRuntime {
    /// The tenant's configuration.
    pub config: TenantConfig,
    /// The tenant's store handle.
    pub store: TenantStore,
    pub(crate) gateway: Gateway,
    /// The connector the gateway holds: the primary system with the accepted integrations.
    pub(crate) router: Arc<steward_connectors::SystemRouter>,
    /// The imported integrations attached to the router, and for which acceptance.
    pub(crate) attached_integrations: crate::integrations::AttachedIntegrations,
    reasoner: std::sync::RwLock<Arc<dyn Reasoner>>,
    ticket_desk: std::sync::RwLock<Option<Arc<dyn steward_connectors::itsm::TicketDesk>>>,
    it_admins_group_id: OnceCell<Option<String>>,
}

impl std::fmt::Debug for TenantRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenantRuntime")
            .field("tenant", &self.config.id)
            .finish()
    }
}

impl TenantRuntime {
    /// Assembles a tenant's runtime with the builtin reasoner: the policy set is built from
    /// `sources` and the tenant's live standing approvals. Fails, naming file, line and policy,
    /// if the policies do not load.
    pub async fn start(
        config: TenantConfig,
        store: TenantStore,
        sources: Vec<PolicySource>,
        connector: Arc<dyn Connector>,
    ) -> Result<Self, AgentError> {
        let links = crate::standing::live_links(&store).await?;
        // Enabled integrations first: the accepted policies name their actions.
        let router = Arc::new(steward_connectors::SystemRouter::new(connector));
        let attached_integrations = crate::integrations::AttachedIntegrations::default();
        crate::integrations::sync_attached(&store, &router, &attached_integrations).await?;
        let accepted = crate::integrations::accepted_policies(&store).await?;
        let (policy, sources) = crate::integrations::engine_with_accepted(
            &router.catalog(),
            &sources,
            accepted,
            &links,
        )
        .map_err(AgentError::Policy)?;
        let gateway = Gateway::new(&config, store.clone(), policy, sources, router.clone());
        Ok(Self {
            config,
            store,
            gateway,
            router,
            attached_integrations,
            reasoner: std::sync::RwLock::new(Arc::new(BuiltinReasoner)),
            ticket_desk: std::sync::RwLock::new(None),
            it_admins_group_id: OnceCell::new(),
        })
    }

    /// Hands the conversations to another reasoner (a language model); conversations already
    /// under way continue with it from their next step. The builtin reasoner stays as the
    /// fallback when it cannot answer before anything has happened.
    pub fn set_reasoner(&self, reasoner: Arc<dyn Reasoner>) {
        *self
            .reasoner
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = reasoner;
    }

    /// The reasoner conversations go to first.
    pub(crate) fn reasoner(&self) -> Arc<dyn Reasoner> {
        self.reasoner
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// The name of the reasoner conversations go to first.
    pub fn reasoner_name(&self) -> String {
        self.reasoner().name()
    }

    /// Files every later escalation in this ITSM tool as well as the queue (`None`: the queue
    /// only).
    pub fn set_ticket_desk(&self, desk: Option<Arc<dyn steward_connectors::itsm::TicketDesk>>) {
        *self
            .ticket_desk
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = desk;
    }

    pub(crate) fn ticket_desk(&self) -> Option<Arc<dyn steward_connectors::itsm::TicketDesk>> {
        self.ticket_desk
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// What the tenant is connected to, for the console: whose delegated grants Steward acts
    /// with (never the tokens), the ticketing tool escalations are filed in, and the reasoner.
    pub async fn integrations(&self) -> serde_json::Value {
        let ((owner, scopes), employee) = self.gateway.grants().await;
        let employee = match employee {
            None => serde_json::Value::Null,
            Some(Ok((owner, scopes))) => json!({"actingAs": owner, "scopes": scopes}),
            Some(Err(e)) => json!({"error": e}),
        };
        json!({
            "microsoftGraph": {"actingAs": owner, "scopes": scopes},
            "employeeChannel": employee,
            "ticketing": self.ticket_desk().map(|d| d.system()),
            "reasoner": self.reasoner_name(),
        })
    }

    /// The actions that can run now (what a reasoner may propose): the catalog without the
    /// built-in systems this tenant has not connected.
    pub fn catalog(&self) -> Vec<steward_domain::ActionSpec> {
        let mut specs = self.router.offered();
        specs.sort_by(|a, b| a.name.cmp(&b.name));
        specs
    }

    /// Connects another system beside the primary one (Okta), acting with its own delegated
    /// grant; its actions become runnable at once (the policy set is rebuilt over the catalog).
    pub async fn attach_system(
        &self,
        system: &str,
        connector: Arc<dyn Connector>,
    ) -> Result<(), AgentError> {
        self.router.attach(system, connector);
        self.gateway.refresh_catalog();
        self.rebuild_policy(&format!("{system} connected")).await?;
        Ok(())
    }

    /// Connects the employee channel's own grant in another system (Okta), which self-service
    /// requests there act with — never the administrator's grant.
    pub fn attach_employee_system(&self, system: &str, connector: Arc<dyn Connector>) {
        self.gateway.attach_employee_system(system, connector);
    }

    /// Validates `sources` whole and, only if they load, swaps them in for every later decision;
    /// the swap is audited as a policy amendment. On any problem the set in force stays and the
    /// error says what is wrong (file, line, policy). The accepted integrations' policies (kept
    /// in the store) are added to `sources`.
    pub async fn reload_policies(
        &self,
        sources: &[PolicySource],
        origin: &str,
    ) -> Result<String, AgentError> {
        self.put_policies(sources, origin, false).await
    }

    /// Builds the set in force again over the current catalog (a system was attached).
    pub(crate) async fn rebuild_policy(&self, origin: &str) -> Result<String, AgentError> {
        let sources = self.gateway.sources();
        self.put_policies(&sources, origin, true).await
    }

    async fn put_policies(
        &self,
        sources: &[PolicySource],
        origin: &str,
        catalog_changed: bool,
    ) -> Result<String, AgentError> {
        let links = crate::standing::live_links(&self.store).await?;
        let accepted = crate::integrations::accepted_policies(&self.store).await?;
        let (engine, sources) = crate::integrations::engine_with_accepted(
            &self.gateway.catalog(),
            sources,
            accepted,
            &links,
        )?;
        let previous = self.gateway.policy().policy_set_hash().to_owned();
        let hash = engine.policy_set_hash().to_owned();
        if hash == previous && !catalog_changed {
            return Ok(hash);
        }
        let count = engine.policy_count();
        self.gateway.replace_policy_and_sources(engine, sources);
        let mut entry = AuditEntry::new(self.config.id.to_string(), RecordKind::PolicyAmendment);
        entry.outcome = Some("reloaded".into());
        entry.detail = json!({"origin": origin, "previousPolicySetHash": previous, "policySetHash": hash, "policies": count});
        if let Err(e) = self.store.append_audit(entry).await {
            tracing::error!(error = %e, "could not audit the policy reload");
        }
        tracing::info!(tenant = %self.config.id, policies = count, hash = %hash, "policy set reloaded");
        Ok(hash)
    }

    /// Runs `sources` as a candidate set beside the enforced one (shadow mode): every request
    /// where the two would decide differently is recorded, and nothing else changes. `None` stops
    /// shadow mode. The candidate is validated whole like any set.
    pub async fn set_shadow_policies(
        &self,
        sources: Option<&[PolicySource]>,
        origin: &str,
    ) -> Result<Option<String>, AgentError> {
        let accepted = crate::integrations::accepted_policies(&self.store).await?;
        let engine = sources
            .map(|s| {
                crate::integrations::engine_with_accepted(&self.gateway.catalog(), s, accepted, &[])
                    .map(|(engine, _)| engine)
            })
            .transpose()?;
        let hash = engine.as_ref().map(|e| e.policy_set_hash().to_owned());
        self.gateway.replace_shadow(engine);
        let mut entry = AuditEntry::new(self.config.id.to_string(), RecordKind::PolicyAmendment);
        entry.outcome = Some(
            if hash.is_some() {
                "shadowStarted"
            } else {
                "shadowStopped"
            }
            .into(),
        );
        entry.detail = json!({"origin": origin, "candidatePolicySetHash": hash});
        if let Err(e) = self.store.append_audit(entry).await {
            tracing::error!(error = %e, "could not audit the shadow policy change");
        }
        Ok(hash)
    }

    /// Connects the employee channel's own grant (`None` disconnects it): from the next call on,
    /// self-service acts with it, and without one self-service is refused.
    pub fn set_employee_connector(&self, connector: Option<Arc<dyn Connector>>) {
        self.gateway.set_employee_connector(connector);
    }

    /// The gateway (for policy explanations and the approval commands).
    pub fn gateway(&self) -> &Gateway {
        &self.gateway
    }

    /// The sign-in name of the directory user with object id `oid` (how Teams names a person:
    /// the AAD object id of the activity's sender), read live.
    pub async fn upn_of_object(&self, oid: &str) -> Result<String, AgentError> {
        let oid = oid.trim();
        if uuid::Uuid::parse_str(oid).is_err() {
            return Err(AgentError::UnknownRequester(oid.to_owned()));
        }
        match self
            .gateway
            .resolve_for_intake(TargetKind::Person, oid)
            .await
        {
            Ok(person) => person
                .upn
                .ok_or_else(|| AgentError::UnknownRequester(oid.to_owned())),
            Err(steward_connectors::ConnectorError::NotFound { .. }) => {
                Err(AgentError::UnknownRequester(oid.to_owned()))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Maps a sign-in name to a directory principal, reading the live directory: whether the
    /// person is an IT admin comes from membership of the configured group, never from the request.
    pub async fn identify(&self, upn: &str) -> Result<Principal, AgentError> {
        let upn = upn.trim();
        if upn.is_empty() || !upn.contains('@') {
            return Err(AgentError::UnknownRequester(upn.to_owned()));
        }
        let person = match self
            .gateway
            .resolve_for_intake(TargetKind::Person, upn)
            .await
        {
            Ok(p) => p,
            Err(steward_connectors::ConnectorError::NotFound { .. }) => {
                return Err(AgentError::UnknownRequester(upn.to_owned()));
            }
            Err(e) => return Err(e.into()),
        };
        let admins = self
            .it_admins_group_id
            .get_or_try_init(|| async {
                match self.gateway.resolve_for_intake(TargetKind::Group, &self.config.it_admins_group).await {
                    Ok(group) => Ok(Some(group.id)),
                    // A tenant without the group has no IT admins: everyone is self-service.
                    Err(steward_connectors::ConnectorError::NotFound { .. }) => {
                        tracing::warn!(group = %self.config.it_admins_group, "the IT admins group does not exist; every requester is treated as self-service");
                        Ok(None)
                    }
                    Err(e) => Err(e),
                }
            })
            .await?;
        Ok(Principal {
            tenant: self.config.id.clone(),
            it_admin: admins.as_ref().is_some_and(|a| person.groups.contains(a)),
            privileged: person.privileged,
            department: person.department,
            display_name: person.display_name,
            upn: person.upn.unwrap_or_else(|| upn.to_owned()),
            directory_id: person.id,
        })
    }
}
