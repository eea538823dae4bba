//! A simulated Okta org speaking the Okta Management API as
//! `shared/reference/okta-management-it-subset.yaml` describes it: users (search, get, profile
//! update), lifecycle, passwords, factors, sessions, groups, app assignments and the System Log,
//! with Okta's error body (`errorCode`, `errorSummary`, `errorCauses`), its rate-limit headers
//! and 429s, and `Link: rel="next"` paging. Calls are authorised like Okta's: an OAuth 2.0 access
//! token (authorization code with PKCE, issued by `oauth.rs`) carries `okta.*` scopes, and the
//! person it belongs to must hold an admin role that allows the call; every change is written to
//! the System Log with that person as its actor.

mod api;
mod oauth;
mod store;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub(crate) use store::Org;

/// The demo organisation's Okta org (`seeds/okta-demo.json`).
pub fn okta_demo_seed() -> Result<Value, serde_json::Error> {
    serde_json::from_str(include_str!("../../seeds/okta-demo.json"))
}

pub(crate) struct OktaState {
    pub base_url: String,
    pub org: Mutex<Org>,
}

impl OktaState {
    pub(crate) fn with<T>(&self, f: impl FnOnce(&mut Org) -> T) -> T {
        let mut org = self
            .org
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut org)
    }
}

/// The Okta simulator, serving until dropped.
pub struct RunningOkta {
    /// `http://127.0.0.1:PORT` (the org URL).
    pub base_url: String,
    state: Arc<OktaState>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for RunningOkta {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningOkta")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl Drop for RunningOkta {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl RunningOkta {
    /// Serves `seed` on an ephemeral loopback port.
    pub async fn start(seed: &Value) -> std::io::Result<Self> {
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let base_url = format!("http://{}", listener.local_addr()?);
        let org = Org::from_seed(seed, &base_url)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
        let state = Arc::new(OktaState {
            base_url: base_url.clone(),
            org: Mutex::new(org),
        });
        let router: Router = api::routes()
            .merge(oauth::routes())
            .with_state(state.clone());
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, router).await {
                tracing::error!(error = %e, "Okta simulator stopped");
            }
        });
        Ok(Self {
            base_url,
            state,
            task,
        })
    }

    /// The token endpoint of the org authorization server.
    pub fn token_url(&self) -> String {
        format!("{}/oauth2/v1/token", self.base_url)
    }

    /// The authorization endpoint.
    pub fn authorize_url(&self) -> String {
        format!("{}/oauth2/v1/authorize", self.base_url)
    }

    /// A user as the API shows it, by login.
    pub fn user(&self, login: &str) -> Option<Value> {
        self.state
            .with(|o| o.user_by_key(login).map(|u| o.show_user(u)))
    }

    /// A user's factors.
    pub fn factors(&self, login: &str) -> Vec<Value> {
        self.state.with(|o| {
            let Some(id) = o.user_by_key(login).map(|u| u.id.clone()) else {
                return Vec::new();
            };
            o.factors
                .iter()
                .filter(|f| f.user == id)
                .map(|f| f.body.clone())
                .collect()
        })
    }

    /// The System Log, oldest first.
    pub fn log_events(&self) -> Vec<Value> {
        self.state.with(|o| o.logs.clone())
    }

    /// Answers the next `n` API requests with 429 (`E0000047`).
    pub fn throttle(&self, n: u32) {
        self.state.with(|o| o.throttle = n);
    }

    /// A user's password as the simulator keeps it (to check a temporary password works).
    pub fn password_of(&self, login: &str) -> Option<String> {
        self.state
            .with(|o| o.user_by_key(login).map(|u| u.password.clone()))
    }

    /// When the user's sessions were last cleared, if ever (RFC 3339).
    pub fn sessions_cleared_at(&self, login: &str) -> Option<String> {
        self.state.with(|o| {
            o.user_by_key(login)
                .and_then(|u| u.sessions_cleared.clone())
        })
    }
}
