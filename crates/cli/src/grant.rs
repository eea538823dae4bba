//! The employee channel's grant, read from the store on every call: connected with `steward
//! connect --for employees`, it takes effect at the next call; revoked (`steward connect
//! --revoke --for employees`), the next call is refused — in this process and every replica,
//! without a restart. Nothing here ever falls back to the administrator's grant.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use steward_connectors::msgraph::{
    DelegatedCredential, GraphClient, MsGraphConnector, RetryPolicy, TokenProvider,
};
use steward_connectors::{ActionResult, Connector, ConnectorError, Reconciliation, Verification};
use steward_domain::{ActionCall, ActionSpec, Change, Target, TargetKind};
use steward_store::TenantStore;

use steward_agent::StoredToken;

/// The id under which the employee channel's grant is kept in the store.
pub const EMPLOYEE_CREDENTIAL: &str = "msgraph-employee";

/// How to reach Graph with a grant (everything but the grant itself).
#[derive(Clone)]
pub struct GraphEndpoint {
    /// The HTTP client.
    pub http: reqwest::Client,
    /// `https://graph.microsoft.com` or a simulator.
    pub base_url: String,
    /// The tenant's v2.0 token endpoint.
    pub token_url: String,
    /// Steward's application (client) id.
    pub client_id: String,
    /// How throttling and broken connections are retried.
    pub retry: RetryPolicy,
}

/// A connector acting with whatever grant the store holds under [`EMPLOYEE_CREDENTIAL`], rebuilt
/// when a different grant (another owner or other scopes) is connected.
pub struct StoredGrantConnector {
    store: TenantStore,
    endpoint: GraphEndpoint,
    /// The grant last seen (its scopes and owner) and the connector built from it.
    current: Mutex<Option<(String, String, Arc<MsGraphConnector>)>>,
}

impl StoredGrantConnector {
    /// A connector for the grant `store` holds (or will hold) for the employee channel.
    pub fn new(store: TenantStore, endpoint: GraphEndpoint) -> Self {
        Self {
            store,
            endpoint,
            current: Mutex::new(None),
        }
    }

    /// The connector of the grant in force now, or why there is none.
    async fn live(&self) -> Result<Arc<MsGraphConnector>, ConnectorError> {
        let stored = match self.store.credential(EMPLOYEE_CREDENTIAL).await {
            Ok(c) => c,
            Err(steward_store::StoreError::NotFound { .. }) => {
                *self
                    .current
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = None;
                return Err(ConnectorError::Credential {
                    owner: "the employee channel".into(),
                    reason: "no grant is connected for it (or it was revoked): an administrator must connect one with `steward connect --for employees`; Steward never uses an administrator's grant instead".into(),
                });
            }
            Err(e) => {
                return Err(ConnectorError::Credential {
                    owner: "the employee channel".into(),
                    reason: format!("its grant cannot be read from the store: {e}"),
                });
            }
        };
        let mut current = self
            .current
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // The same grant (owner and scopes) keeps its connector: its token provider follows
        // rotations through the store itself, and rebuilding on every rotation would only make
        // replicas refresh, and race, more often.
        let version = stored.scopes.join(" ");
        if let Some((kept_version, owner, connector)) = current.as_ref()
            && *kept_version == version
            && *owner == stored.owner
        {
            return Ok(connector.clone());
        }
        let tokens = TokenProvider::new(
            self.endpoint.http.clone(),
            self.endpoint.token_url.clone(),
            self.endpoint.client_id.clone(),
            stored.scopes.clone(),
            DelegatedCredential {
                owner: stored.owner.clone(),
                refresh_token: stored.refresh_token.to_string(),
            },
        )
        .keeping_tokens_in(Arc::new(StoredToken {
            store: self.store.clone(),
            owner: stored.owner.clone(),
            credential: EMPLOYEE_CREDENTIAL.to_owned(),
        }));
        let connector = Arc::new(MsGraphConnector::new(GraphClient::new(
            self.endpoint.http.clone(),
            self.endpoint.base_url.clone(),
            Arc::new(tokens),
            self.endpoint.retry,
        )));
        *current = Some((version, stored.owner, connector.clone()));
        Ok(connector)
    }
}

#[async_trait]
impl Connector for StoredGrantConnector {
    fn catalog(&self) -> Vec<ActionSpec> {
        steward_connectors::msgraph::catalog()
    }

    fn acting_as(&self) -> (String, Vec<String>) {
        self.current
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .as_ref()
            .map_or_else(
                || ("the employee channel (no grant)".into(), Vec::new()),
                |(_, _, c)| c.acting_as(),
            )
    }

    async fn acting_as_now(&self) -> Result<(String, Vec<String>), ConnectorError> {
        Ok(self.live().await?.acting_as())
    }

    fn resend_after_lost_answer(&self, action: &str) -> bool {
        steward_connectors::msgraph::resends_after_lost_answer(action)
    }

    async fn resolve(&self, kind: TargetKind, key: &str) -> Result<Target, ConnectorError> {
        self.live().await?.resolve(kind, key).await
    }

    async fn execute(
        &self,
        call: &ActionCall,
        idempotency_key: &str,
    ) -> Result<ActionResult, ConnectorError> {
        self.live().await?.execute(call, idempotency_key).await
    }

    async fn preview(&self, call: &ActionCall) -> Result<Vec<Change>, ConnectorError> {
        self.live().await?.preview(call).await
    }

    async fn verify(
        &self,
        call: &ActionCall,
        result: &ActionResult,
    ) -> Result<Verification, ConnectorError> {
        self.live().await?.verify(call, result).await
    }

    async fn reconcile(
        &self,
        call: &ActionCall,
        started: chrono::DateTime<chrono::Utc>,
    ) -> Result<Reconciliation, ConnectorError> {
        self.live().await?.reconcile(call, started).await
    }
}
