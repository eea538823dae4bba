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
    /// Built-in systems Steward has connectors for, connected or not: their actions are always
    /// in the catalog (so a policy may name them before the system is connected), and a call
    /// to one not connected is refused with a reason.
    builtin: Vec<(&'static str, &'static str, Vec<ActionSpec>)>,
    /// Imported integrations not enabled (not accepted yet, or re-imported and to be reviewed
    /// again): their actions stay in the catalog so a policy naming them still loads, but they
    /// are never offered and a call to one is refused.
    dormant: RwLock<BTreeMap<String, Vec<ActionSpec>>>,
}

impl SystemRouter {
    /// A router with the primary system, knowing Steward's other built-in systems.
    pub fn new(primary: Arc<dyn Connector>) -> Self {
        Self {
            primary,
            others: RwLock::new(BTreeMap::new()),
            builtin: vec![
                ("okta", "Okta", crate::okta::catalog()),
                ("google", "Google Workspace", crate::google::catalog()),
            ],
            dormant: RwLock::new(BTreeMap::new()),
        }
    }

    /// The actions that can run now: the catalog without the built-in systems not attached
    /// (what reasoners are offered). One pass, one lock.
    pub fn offered(&self) -> Vec<ActionSpec> {
        let others = self
            .others
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut all = self.primary.catalog();
        for other in others.values() {
            all.extend(other.catalog());
        }
        all
    }

    /// Adds (or replaces) the system whose actions start with `system.`.
    pub fn attach(&self, system: &str, connector: Arc<dyn Connector>) {
        self.others
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(system.to_owned(), connector);
    }

    /// Removes the system whose actions start with `system.` (an integration no longer
    /// enabled): its actions leave the catalog and a call to one goes nowhere.
    pub fn detach(&self, system: &str) {
        self.others
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(system);
    }

    /// Puts `systems` (imported integrations not enabled, by name, with their actions) in the
    /// place of the dormant ones known before; says whether that changed anything.
    pub fn set_dormant(&self, systems: BTreeMap<String, Vec<ActionSpec>>) -> bool {
        let mut dormant = self
            .dormant
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let same = dormant.len() == systems.len()
            && dormant.iter().zip(&systems).all(|((a, x), (b, y))| {
                a == b && x.len() == y.len() && x.iter().zip(y).all(|(p, q)| p.name == q.name)
            });
        *dormant = systems;
        !same
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
        if let Some(connected) = self
            .others
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(system)
            .cloned()
        {
            return connected;
        }
        if self
            .dormant
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .contains_key(system)
        {
            return Arc::new(NotConnected(format!(
                "the integration `{system}` is imported but not enabled: an IT admin has to accept its policies first"
            )));
        }
        match self.builtin.iter().find(|(s, _, _)| *s == system) {
            Some((_, label, _)) => Arc::new(NotConnected(format!(
                "{label} is not connected for this tenant or channel: an administrator has to connect it first"
            ))),
            None => self.primary.clone(),
        }
    }
}

/// A built-in system this tenant (or this channel) has no grant for, or an integration not
/// enabled: every call is refused with the reason.
struct NotConnected(String);

impl NotConnected {
    fn refuse(&self, action: &str) -> ConnectorError {
        ConnectorError::Unmet {
            action: action.to_owned(),
            reason: self.0.clone(),
        }
    }
}

#[async_trait]
impl Connector for NotConnected {
    fn catalog(&self) -> Vec<ActionSpec> {
        Vec::new()
    }

    fn acting_as(&self) -> (String, Vec<String>) {
        ("nobody (not connected)".into(), Vec::new())
    }

    async fn resolve(&self, _kind: TargetKind, key: &str) -> Result<Target, ConnectorError> {
        Err(self.refuse(key))
    }

    async fn execute(&self, call: &ActionCall, _key: &str) -> Result<ActionResult, ConnectorError> {
        Err(self.refuse(call.action.as_str()))
    }

    async fn preview(&self, call: &ActionCall) -> Result<Vec<Change>, ConnectorError> {
        Err(self.refuse(call.action.as_str()))
    }

    async fn verify(
        &self,
        call: &ActionCall,
        _result: &ActionResult,
    ) -> Result<Verification, ConnectorError> {
        Err(self.refuse(call.action.as_str()))
    }
}

#[async_trait]
impl Connector for SystemRouter {
    fn catalog(&self) -> Vec<ActionSpec> {
        let mut all = self.primary.catalog();
        let others = self
            .others
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for (system, _, specs) in &self.builtin {
            if !others.contains_key(*system) {
                all.extend(specs.iter().cloned());
            }
        }
        for other in others.values() {
            all.extend(other.catalog());
        }
        let dormant = self
            .dormant
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for (system, specs) in dormant.iter() {
            if !others.contains_key(system) {
                all.extend(specs.iter().cloned());
            }
        }
        all
    }

    fn acting_as(&self) -> (String, Vec<String>) {
        self.primary.acting_as()
    }

    async fn acting_as_now(&self) -> Result<(String, Vec<String>), ConnectorError> {
        self.primary.acting_as_now().await
    }

    async fn acting_as_for(&self, action: &str) -> Result<(String, Vec<String>), ConnectorError> {
        self.for_action(action).acting_as_for(action).await
    }

    async fn resolve(&self, kind: TargetKind, key: &str) -> Result<Target, ConnectorError> {
        self.primary.resolve(kind, key).await
    }

    async fn resolve_for(
        &self,
        action: Option<&str>,
        kind: TargetKind,
        key: &str,
    ) -> Result<Target, ConnectorError> {
        let not_found = match self.primary.resolve(kind, key).await {
            Err(e @ ConnectorError::NotFound { .. }) if kind == TargetKind::Person => e,
            other => return other,
        };
        let others: Vec<Arc<dyn Connector>> = {
            let attached = self
                .others
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            match action {
                Some(a) => attached
                    .get(a.split('.').next().unwrap_or_default())
                    .cloned()
                    .into_iter()
                    .collect(),
                None => attached.values().cloned().collect(),
            }
        };
        for other in others {
            if let Ok(found) = other.resolve(kind, key).await {
                return Ok(found);
            }
        }
        Err(not_found)
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
