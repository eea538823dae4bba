//! One connector in front of several systems, chosen by an action's first name part: the
//! gateway keeps holding exactly one connector while integrations are added beside the primary
//! one (Microsoft Graph) — an imported API once its policies are accepted.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use steward_domain::{ActionCall, ActionSpec, Change, Target, TargetKind};

use crate::{ActionResult, Connector, ConnectorError, Reconciliation, Verification};

/// Routes each call to the system its action belongs to; directory look-ups go to the primary.
pub struct SystemRouter {
    primary: Arc<dyn Connector>,
    /// Systems added beside the primary, by the first part of their action names.
    others: RwLock<BTreeMap<String, Arc<dyn Connector>>>,
}

impl SystemRouter {
    /// A router with only the primary system.
    pub fn new(primary: Arc<dyn Connector>) -> Self {
        Self {
            primary,
            others: RwLock::new(BTreeMap::new()),
        }
    }

    /// Adds (or replaces) the system whose actions start with `system.`.
    pub fn attach(&self, system: &str, connector: Arc<dyn Connector>) {
        self.others
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(system.to_owned(), connector);
    }

    /// The systems attached beside the primary.
    pub fn attached(&self) -> Vec<String> {
        self.others
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .keys()
            .cloned()
            .collect()
    }

    fn for_action(&self, action: &str) -> Arc<dyn Connector> {
        let system = action.split('.').next().unwrap_or_default();
        self.others
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(system)
            .cloned()
            .unwrap_or_else(|| self.primary.clone())
    }
}

#[async_trait]
impl Connector for SystemRouter {
    fn catalog(&self) -> Vec<ActionSpec> {
        let mut all = self.primary.catalog();
        for other in self
            .others
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .values()
        {
            all.extend(other.catalog());
        }
        all
    }

    fn acting_as(&self) -> (String, Vec<String>) {
        self.primary.acting_as()
    }

    async fn acting_as_now(&self) -> Result<(String, Vec<String>), ConnectorError> {
        self.primary.acting_as_now().await
    }

    async fn resolve(&self, kind: TargetKind, key: &str) -> Result<Target, ConnectorError> {
        self.primary.resolve(kind, key).await
    }

    async fn execute(
        &self,
        call: &ActionCall,
        idempotency_key: &str,
    ) -> Result<ActionResult, ConnectorError> {
        self.for_action(call.action.as_str())
            .execute(call, idempotency_key)
            .await
    }

    async fn preview(&self, call: &ActionCall) -> Result<Vec<Change>, ConnectorError> {
        self.for_action(call.action.as_str()).preview(call).await
    }

    async fn verify(
        &self,
        call: &ActionCall,
        result: &ActionResult,
    ) -> Result<Verification, ConnectorError> {
        self.for_action(call.action.as_str())
            .verify(call, result)
            .await
    }

    fn resend_after_lost_answer(&self, action: &str) -> bool {
        self.for_action(action).resend_after_lost_answer(action)
    }

    async fn reconcile(
        &self,
        call: &ActionCall,
        started: chrono::DateTime<chrono::Utc>,
    ) -> Result<Reconciliation, ConnectorError> {
        self.for_action(call.action.as_str())
            .reconcile(call, started)
            .await
    }
}
