//! Simulators of the ITSM tools Steward files escalations in, on one loopback server (their
//! paths do not overlap): Jira Cloud REST v3 issues, the ServiceNow Table API's incident table,
//! and SysAid's REST API (login with a session cookie, service records). Each checks
//! credentials, validates what it is sent the way the tool does, answers in the tool's own
//! shapes (errors included), and can be told to throttle.

mod jira;
mod servicenow;
mod sysaid;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// The one account each tool accepts.
#[derive(Debug, Clone)]
pub struct ItsmAccount {
    /// User name (an e-mail for Jira).
    pub user: String,
    /// API token or password.
    pub secret: String,
}

#[derive(Default)]
pub(crate) struct Records {
    pub jira: Vec<Value>,
    pub incidents: Vec<Value>,
    /// ServiceNow `sys_user` rows: (sys_id, email).
    pub callers: Vec<(String, String)>,
    /// Incident journal entries (`sys_journal_field`), oldest first.
    pub journal: Vec<servicenow::JournalEntry>,
    pub service_records: Vec<Value>,
    pub sessions: Vec<String>,
    pub logins: u32,
    pub throttle: u32,
    /// Writes (anything but GET) still to answer with 503, as during an outage of the tool.
    pub failing_writes: u32,
}

pub(crate) struct ItsmState {
    pub account: ItsmAccount,
    pub base_url: String,
    pub records: Mutex<Records>,
}

impl ItsmState {
    /// Whether an `Authorization: Basic` header carries the account.
    pub(crate) fn basic_ok(&self, headers: &axum::http::HeaderMap) -> bool {
        let expected = base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", self.account.user, self.account.secret));
        headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Basic "))
            .is_some_and(|v| v.trim() == expected)
    }

    pub(crate) fn with<T>(&self, f: impl FnOnce(&mut Records) -> T) -> T {
        let mut records = self
            .records
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut records)
    }
}

/// The ITSM simulator, serving until dropped.
pub struct RunningItsm {
    /// `http://127.0.0.1:PORT`: the base URL for all three tools.
    pub base_url: String,
    state: Arc<ItsmState>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for RunningItsm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningItsm")
            .field("base_url", &self.base_url)
            .finish()
    }
}

impl Drop for RunningItsm {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl RunningItsm {
    /// Serves on an ephemeral loopback port; every tool accepts `account`.
    pub async fn start(account: ItsmAccount) -> std::io::Result<Self> {
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let base_url = format!("http://{}", listener.local_addr()?);
        let state = Arc::new(ItsmState {
            account,
            base_url: base_url.clone(),
            records: Mutex::new(Records::default()),
        });
        let router = Router::new()
            .merge(jira::routes())
            .merge(servicenow::routes())
            .merge(sysaid::routes())
            .layer(middleware::from_fn_with_state(state.clone(), throttle))
            .with_state(state.clone());
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, router).await {
                tracing::error!(error = %e, "ITSM simulator stopped");
            }
        });
        Ok(Self {
            base_url,
            state,
            task,
        })
    }

    /// The next `n` requests are answered 429 with `Retry-After: 1`.
    pub fn throttle(&self, n: u32) {
        self.state.with(|r| r.throttle = n);
    }

    /// Answers the next `n` writes (anything but GET) with 503 Service Unavailable, as the tool
    /// does during an outage or maintenance; reads still work.
    pub fn fail_writes(&self, n: u32) {
        self.state.with(|r| r.failing_writes = n);
    }

    /// Jira issues created, oldest first (as `GET /rest/api/3/issue/{key}` shows them).
    pub fn jira_issues(&self) -> Vec<Value> {
        self.state.with(|r| r.jira.clone())
    }

    /// ServiceNow incidents created, oldest first.
    pub fn incidents(&self) -> Vec<Value> {
        self.state.with(|r| r.incidents.clone())
    }

    /// Raises a Jira issue as `reporter`, assigned to `assignee` (an e-mail; empty: nobody);
    /// its key.
    pub fn raise_issue(
        &self,
        reporter: &str,
        assignee: &str,
        summary: &str,
        description: &str,
    ) -> String {
        self.state
            .with(|r| jira::raise(r, reporter, assignee, summary, description))
    }

    /// A Jira issue's comments: (visible to the reporter, plain text), oldest first.
    pub fn issue_comments(&self, key: &str) -> Vec<(bool, String)> {
        self.state.with(|r| {
            r.jira
                .iter()
                .find(|i| i["key"] == key)
                .and_then(|i| i["x-comments"].as_array().cloned())
                .unwrap_or_default()
                .iter()
                .map(|c| (c["jsdPublic"] == true, jira::text_of(&c["body"])))
                .collect()
        })
    }

    /// A Jira issue as the API shows it.
    pub fn issue(&self, key: &str) -> Option<Value> {
        self.state
            .with(|r| r.jira.iter().find(|i| i["key"] == key).cloned())
    }

    /// Raises a ServiceNow incident as `caller` (an e-mail; a `sys_user` is made for it) in
    /// `group`, as a person would through the portal; its number.
    pub fn raise_incident(
        &self,
        caller: &str,
        short: &str,
        description: &str,
        group: &str,
    ) -> String {
        self.state
            .with(|r| servicenow::raise(r, caller, short, description, group))
    }

    /// An incident by number, as the Table API shows it.
    pub fn incident(&self, number: &str) -> Option<Value> {
        self.state
            .with(|r| r.incidents.iter().find(|i| i["number"] == number).cloned())
    }

    /// An incident's journal: (`work_notes` or `comments`, text), oldest first.
    pub fn journal(&self, number: &str) -> Vec<(String, String)> {
        self.state.with(|r| {
            let Some(id) = r
                .incidents
                .iter()
                .find(|i| i["number"] == number)
                .and_then(|i| i["sys_id"].as_str())
                .map(str::to_owned)
            else {
                return Vec::new();
            };
            r.journal
                .iter()
                .filter(|e| e.element_id == id)
                .map(|e| (e.element.clone(), e.value.clone()))
                .collect()
        })
    }

    /// The incident's caller adds a comment to it (as through the portal): their answer to a
    /// question asked there. False when there is no such incident.
    pub fn comment_as_caller(&self, number: &str, text: &str) -> bool {
        self.state.with(|r| {
            let Some((id, caller)) = r.incidents.iter().find(|i| i["number"] == number).map(|i| {
                (
                    i["sys_id"].as_str().unwrap_or_default().to_owned(),
                    i["caller_id"].as_str().unwrap_or_default().to_owned(),
                )
            }) else {
                return false;
            };
            let email = r
                .callers
                .iter()
                .find(|(u, _)| *u == caller)
                .map(|(_, e)| e.clone())
                .unwrap_or_default();
            let entry = servicenow::JournalEntry::new(
                r,
                &id,
                "comments",
                text,
                &servicenow::user_name(&email),
            );
            r.journal.push(entry);
            true
        })
    }

    /// The issue's reporter comments on it (as through the portal): their answer to a question
    /// asked there. False when there is no such issue.
    pub fn comment_as_reporter(&self, key: &str, text: &str) -> bool {
        let base = self.base_url.clone();
        self.state
            .with(|r| jira::reporter_comment(r, &base, key, text))
    }

    /// SysAid service records created, oldest first.
    pub fn service_records(&self) -> Vec<Value> {
        self.state.with(|r| r.service_records.clone())
    }

    /// SysAid logins accepted so far.
    pub fn sysaid_logins(&self) -> u32 {
        self.state.with(|r| r.logins)
    }
}

async fn throttle(
    axum::extract::State(state): axum::extract::State<Arc<ItsmState>>,
    request: Request,
    next: Next,
) -> Response {
    let write = request.method() != axum::http::Method::GET;
    let (throttled, unavailable) = state.with(|r| {
        if r.throttle > 0 {
            r.throttle -= 1;
            (true, false)
        } else if write && r.failing_writes > 0 {
            r.failing_writes -= 1;
            (false, true)
        } else {
            (false, false)
        }
    });
    if unavailable {
        return (StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable").into_response();
    }
    if throttled {
        let mut response = (StatusCode::TOO_MANY_REQUESTS, "Too Many Requests").into_response();
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return response;
    }
    next.run(request).await
}
