use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;
use steward_agent::TenantRuntime;

/// A person the demo page offers to chat as.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DemoPerson {
    /// Sign-in name.
    pub upn: String,
    /// Display name.
    pub display_name: String,
    /// Department.
    pub department: String,
    /// Why they are interesting in the demo.
    pub note: String,
}

/// What every request handler shares.
#[derive(Debug, Clone)]
pub struct AppState {
    /// One runtime per tenant, by tenant id.
    pub tenants: Arc<BTreeMap<String, Arc<TenantRuntime>>>,
    /// The tenant used when a request names none.
    pub default_tenant: String,
    /// People for the demo page (empty outside the demo).
    pub demo_people: Arc<Vec<DemoPerson>>,
    /// Replica mode: requests become work items that any replica sharing the database may run
    /// (`None`: this process answers each request itself).
    pub work: Option<crate::work::WorkConfig>,
    /// The Slack workspace served, if one is connected.
    pub slack: Option<Arc<crate::slack::SlackChannel>>,
    /// The Teams bot served, if one is connected.
    pub teams: Option<Arc<crate::teams::TeamsChannel>>,
    /// The web console (sign-in, sessions, its own API), if configured.
    pub console: Option<Arc<crate::console::Console>>,
}

impl AppState {
    /// One tenant served, as its own default, with no demo people, work queue, channel or
    /// console: set what else is served with struct update syntax.
    pub fn single(runtime: Arc<TenantRuntime>) -> Self {
        let id = runtime.config.id.to_string();
        Self {
            tenants: Arc::new([(id.clone(), runtime)].into_iter().collect()),
            default_tenant: id,
            demo_people: Arc::new(Vec::new()),
            work: None,
            slack: None,
            teams: None,
            console: None,
        }
    }

    pub(crate) fn tenant(&self, id: Option<&str>) -> Result<&Arc<TenantRuntime>, crate::ApiError> {
        let id = id.unwrap_or(&self.default_tenant);
        self.tenants
            .get(id)
            .ok_or_else(|| crate::ApiError::not_found(format!("unknown tenant `{id}`")))
    }
}
