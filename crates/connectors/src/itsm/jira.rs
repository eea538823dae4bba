//! Jira Cloud REST v3: `POST /rest/api/3/issue` (createIssue) with the description in
//! Atlassian Document Format, as `jira-cloud-platform-v3-it-subset.json` describes it.

use async_trait::async_trait;
use serde_json::{Value, json};

use super::http::{self, Answer};
use super::{HandOver, ItsmError, Ticket, TicketDesk, clip};

const SYSTEM: &str = "jira";
/// Jira's limit on a summary.
const SUMMARY_MAX: usize = 255;

/// Files escalations as Jira issues.
pub struct Jira {
    http: reqwest::Client,
    base: String,
    user: String,
    token: String,
    project: String,
    issue_type: String,
}

impl std::fmt::Debug for Jira {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jira")
            .field("base", &self.base)
            .field("project", &self.project)
            .finish_non_exhaustive()
    }
}

impl Jira {
    /// A desk filing in `project` as `user` (an account e-mail) with its API token.
    pub fn new(
        base_url: &str,
        user: &str,
        token: &str,
        project: &str,
        issue_type: &str,
    ) -> Result<Self, ItsmError> {
        Ok(Self {
            http: http::client(SYSTEM)?,
            base: http::base(SYSTEM, base_url)?,
            user: user.to_owned(),
            token: token.to_owned(),
            project: project.to_owned(),
            issue_type: issue_type.to_owned(),
        })
    }
}

/// Plain text as an ADF document: one paragraph per non-empty line.
pub(crate) fn adf(text: &str) -> Value {
    let paragraphs: Vec<Value> = text
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.trim().is_empty())
        .map(|l| json!({"type": "paragraph", "content": [{"type": "text", "text": l}]}))
        .collect();
    json!({"type": "doc", "version": 1, "content": paragraphs})
}

/// Jira's ErrorCollection as one sentence.
fn errors(body: &Value) -> String {
    let mut parts: Vec<String> = body["errorMessages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect();
    if let Some(fields) = body["errors"].as_object() {
        parts.extend(
            fields
                .iter()
                .map(|(k, v)| format!("{k}: {}", v.as_str().unwrap_or_default())),
        );
    }
    if parts.is_empty() {
        "no message".into()
    } else {
        parts.join("; ")
    }
}

#[async_trait]
impl TicketDesk for Jira {
    fn system(&self) -> &'static str {
        SYSTEM
    }

    async fn open(&self, h: &HandOver) -> Result<Ticket, ItsmError> {
        let short: String = h.escalation_id.chars().take(8).collect();
        let body = json!({"fields": {
            "project": {"key": self.project},
            "issuetype": {"name": self.issue_type},
            "summary": clip(&h.summary, SUMMARY_MAX),
            "description": adf(&h.description),
            "labels": ["steward", format!("steward-escalation-{short}")],
        }});
        let url = format!("{}/rest/api/3/issue", self.base);
        let Answer { status, body, .. } = http::send(SYSTEM, || {
            self.http
                .post(&url)
                .basic_auth(&self.user, Some(&self.token))
                .header(reqwest::header::ACCEPT, "application/json")
                .json(&body)
        })
        .await?;
        if status != 201 {
            return Err(ItsmError::Refused {
                system: SYSTEM,
                status,
                message: errors(&body),
            });
        }
        let key = body["key"]
            .as_str()
            .filter(|k| !k.is_empty())
            .ok_or_else(|| ItsmError::Unexpected {
                system: SYSTEM,
                reason: format!("a 201 without an issue key: {body:.200}"),
            })?;
        Ok(Ticket {
            system: SYSTEM,
            key: key.to_owned(),
            url: format!("{}/browse/{key}", self.base),
        })
    }
}
