//! A simulated Google Workspace speaking the Admin SDK as
//! `shared/reference/google-admin-{directory,reports}_v1-openapi-subset.yaml` describe it:
//! Directory users (get, list, patch: password with change at next login, suspend), sign out,
//! backup verification codes, turning 2-Step Verification off, group members, mobile devices and
//! their actions, and the Reports API's login activity — with Google's error body
//! (`{"error": {"code", "message", "errors": [{"message", "domain", "reason"}], "status"}}`).
//! Calls carry an OAuth 2.0 access token (`token` endpoint: authorization code with PKCE and
//! the client's secret, refresh token, password grant for tests; `/v1/userinfo` says who signed
//! in) whose scopes and the person's admin role both decide.

mod api;
mod oauth;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use chrono::{Duration, SecondsFormat, Utc};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// The demo OAuth client's secret (`seeds/google-demo.json`): Google wants it with every code
/// and refresh, PKCE or not.
pub const DEMO_CLIENT_SECRET: &str = "GOCSPX-steward-demo-secret";

/// The demo organisation's Google Workspace (`seeds/google-demo.json`).
pub fn google_demo_seed() -> Result<Value, serde_json::Error> {
    serde_json::from_str(include_str!("../../seeds/google-demo.json"))
}

/// Who an access or refresh token stands for, and its scopes.
#[derive(Debug, Clone)]
pub(crate) struct Grant {
    pub user: String,
    pub scopes: Vec<String>,
}

#[derive(Debug, Default)]
pub(crate) struct Workspace {
    pub customer: String,
    /// OAuth clients: id and secret (`None`: a public client).
    pub clients: Vec<(String, Option<String>)>,
    /// The users as the API shows them, with what only the simulator knows beside them.
    pub users: Vec<(Value, String, Vec<String>)>,
    pub groups: Vec<Value>,
    pub devices: Vec<Value>,
    pub logins: Vec<Value>,
    /// Backup verification codes by user id.
    pub codes: HashMap<String, Vec<String>>,
    /// When each user was last signed out everywhere.
    pub signed_out: HashMap<String, String>,
    /// Device actions taken: (resourceId, action).
    pub device_actions: Vec<(String, String)>,
    pub access: HashMap<String, Grant>,
    pub refresh: HashMap<String, Grant>,
    /// Codes not redeemed yet: the grant, the PKCE challenge, the redirect URI, and whether
    /// offline access was asked for (`access_type=offline`: a refresh token comes with it).
    pub codes_pending: HashMap<String, (Grant, String, String, bool)>,
}

impl Workspace {
    fn from_seed(seed: &Value) -> Result<Self, String> {
        let start = Utc::now();
        let text = |v: &Value, k: &str| {
            v.get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let mut w = Self {
            customer: text(seed, "customerId"),
            clients: seed["clients"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|c| {
                    let secret = c
                        .pointer("/x-steward-sim/clientSecret")
                        .and_then(Value::as_str)
                        .map(str::to_owned);
                    (text(c, "clientId"), secret)
                })
                .collect(),
            ..Self::default()
        };
        for u in seed["users"].as_array().ok_or("the seed has no users")? {
            let mut shown = u.clone();
            let sim = shown
                .as_object_mut()
                .and_then(|o| o.remove("x-steward-sim"))
                .unwrap_or(Value::Null);
            shown["kind"] = json!("admin#directory#user");
            shown["customerId"] = json!(w.customer);
            shown["changePasswordAtNextLogin"] = json!(false);
            shown["creationTime"] = json!("2024-01-15T09:00:00.000Z");
            shown["lastLoginTime"] =
                json!((start - Duration::hours(20)).to_rfc3339_opts(SecondsFormat::Millis, true));
            shown["emails"] = json!([{"address": shown["primaryEmail"], "primary": true}]);
            let roles = sim["adminRoles"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default();
            w.users.push((shown, text(&sim, "password"), roles));
        }
        for g in seed["groups"].as_array().into_iter().flatten() {
            w.groups.push(g.clone());
        }
        for d in seed["mobileDevices"].as_array().into_iter().flatten() {
            let mut d = d.clone();
            d["kind"] = json!("admin#directory#mobiledevice");
            w.devices.push(d);
        }
        for (i, l) in seed["logins"].as_array().into_iter().flatten().enumerate() {
            let minutes = l
                .pointer("/x-steward-sim/minutesAgo")
                .and_then(Value::as_i64)
                .unwrap_or(0);
            let time =
                (start - Duration::minutes(minutes)).to_rfc3339_opts(SecondsFormat::Millis, true);
            let email = text(l, "user");
            let profile = w
                .users
                .iter()
                .find(|(u, _, _)| u["primaryEmail"] == email.as_str())
                .map(|(u, _, _)| text(u, "id"))
                .unwrap_or_default();
            let mut parameters = vec![json!({"name": "login_type", "value": "google_password"})];
            if let Some(f) = l.get("failureType").and_then(Value::as_str) {
                parameters.push(json!({"name": "login_failure_type", "value": f}));
            }
            w.logins.push(json!({
                "kind": "admin#reports#activity",
                "id": {"time": time, "uniqueQualifier": format!("{}", 1000 + i), "applicationName": "login", "customerId": w.customer},
                "actor": {"email": email, "profileId": profile, "callerType": "USER"},
                "ipAddress": "203.0.113.9",
                "events": [{"type": "login", "name": text(l, "event"), "parameters": parameters}]
            }));
        }
        Ok(w)
    }

    /// A user's index by id, primary e-mail or alias (the Directory API's `userKey`).
    pub fn user_index(&self, key: &str) -> Option<usize> {
        self.users.iter().position(|(u, _, _)| {
            u["id"] == key
                || u["primaryEmail"]
                    .as_str()
                    .is_some_and(|e| e.eq_ignore_ascii_case(key))
        })
    }
}

pub(crate) struct GoogleState {
    pub workspace: Mutex<Workspace>,
}

impl GoogleState {
    pub(crate) fn with<T>(&self, f: impl FnOnce(&mut Workspace) -> T) -> T {
        let mut w = self
            .workspace
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut w)
    }
}

/// The Google Workspace simulator, serving until dropped.
pub struct RunningGoogle {
    /// `http://127.0.0.1:PORT` (stands for `https://admin.googleapis.com`).
    pub base_url: String,
    state: Arc<GoogleState>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for RunningGoogle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningGoogle")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl Drop for RunningGoogle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl RunningGoogle {
    /// Serves `seed` on an ephemeral loopback port.
    pub async fn start(seed: &Value) -> std::io::Result<Self> {
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let base_url = format!("http://{}", listener.local_addr()?);
        let workspace = Workspace::from_seed(seed)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
        let state = Arc::new(GoogleState {
            workspace: Mutex::new(workspace),
        });
        let router: Router = api::routes()
            .merge(oauth::routes())
            .with_state(state.clone());
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, router).await {
                tracing::error!(error = %e, "Google simulator stopped");
            }
        });
        Ok(Self {
            base_url,
            state,
            task,
        })
    }

    /// The sign-in page (stands for `https://accounts.google.com/o/oauth2/v2/auth`).
    pub fn authorize_url(&self) -> String {
        format!("{}/o/oauth2/v2/auth", self.base_url)
    }

    /// The OpenID Connect user info (stands for
    /// `https://openidconnect.googleapis.com/v1/userinfo`).
    pub fn userinfo_url(&self) -> String {
        format!("{}/v1/userinfo", self.base_url)
    }

    /// The token endpoint (stands for `https://oauth2.googleapis.com/token`).
    pub fn token_url(&self) -> String {
        format!("{}/token", self.base_url)
    }

    /// A user as the Directory API shows it.
    pub fn user(&self, email: &str) -> Option<Value> {
        self.state
            .with(|w| w.user_index(email).map(|i| w.users[i].0.clone()))
    }

    /// A user's password as the simulator keeps it.
    pub fn password_of(&self, email: &str) -> Option<String> {
        self.state
            .with(|w| w.user_index(email).map(|i| w.users[i].1.clone()))
    }

    /// When a user was last signed out everywhere (RFC 3339).
    pub fn signed_out_at(&self, email: &str) -> Option<String> {
        self.state.with(|w| {
            let id = w
                .user_index(email)
                .map(|i| w.users[i].0["id"].as_str().unwrap_or_default().to_owned())?;
            w.signed_out.get(&id).cloned()
        })
    }

    /// A group's member e-mails.
    pub fn members(&self, group: &str) -> Vec<String> {
        self.state.with(|w| {
            w.groups
                .iter()
                .find(|g| g["email"] == group || g["id"] == group)
                .and_then(|g| g["members"].as_array().cloned())
                .unwrap_or_default()
                .iter()
                .filter_map(|m| m["email"].as_str().map(str::to_owned))
                .collect()
        })
    }

    /// Mobile device actions taken: (resourceId, action).
    pub fn device_actions(&self) -> Vec<(String, String)> {
        self.state.with(|w| w.device_actions.clone())
    }
}
