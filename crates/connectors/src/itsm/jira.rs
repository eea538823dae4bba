//! Jira Cloud REST v3: `POST /rest/api/3/issue` (createIssue) with the description in
//! Atlassian Document Format, as `jira-cloud-platform-v3-it-subset.json` describes it.

use async_trait::async_trait;
use serde_json::{Value, json};

use super::http::{self, Answer};
use super::{CallerReply, HandOver, ItsmError, QueuedTicket, Ticket, TicketDesk, clip};

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
    /// Whether issues assigned to Steward's account are taken as requests.
    intake: bool,
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
            intake: false,
        })
    }

    /// Takes the project's open issues assigned to Steward's account as requests; handing one
    /// back unassigns it (the team's queue).
    #[must_use]
    pub fn taking_assigned(mut self, intake: bool) -> Self {
        self.intake = intake;
        self
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Answer, ItsmError> {
        let url = format!("{}{path}", self.base);
        http::send(SYSTEM, || {
            let mut r = self
                .http
                .request(method.clone(), &url)
                .basic_auth(&self.user, Some(&self.token))
                .header(reqwest::header::ACCEPT, "application/json");
            if let Some(b) = body {
                r = r.json(b);
            }
            r
        })
        .await
    }

    fn refused(status: u16, body: &Value) -> ItsmError {
        let mut messages: Vec<String> = body["errorMessages"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|m| m.as_str().map(str::to_owned))
            .collect();
        if let Some(errors) = body["errors"].as_object() {
            messages.extend(
                errors
                    .iter()
                    .map(|(k, v)| format!("{k}: {}", v.as_str().unwrap_or_default())),
            );
        }
        ItsmError::Refused {
            system: SYSTEM,
            status,
            message: if messages.is_empty() {
                "no message".into()
            } else {
                messages.join("; ")
            },
        }
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

    async fn queued(&self, after: Option<&str>) -> Result<Option<Vec<QueuedTicket>>, ItsmError> {
        if !self.intake {
            return Ok(None);
        }
        let mut jql = format!(
            "project = {} AND assignee = currentUser() AND statusCategory != Done",
            self.project
        );
        // JQL compares dates to the minute: from the cursor's minute on (tickets already
        // taken in that minute are known to the store and skipped).
        if let Some(minute) = after.and_then(|a| a.get(..16)) {
            jql.push_str(&format!(" AND created >= \"{}\"", minute.replace('T', " ")));
        }
        jql.push_str(" ORDER BY created ASC");
        let url = format!("{}/rest/api/3/search/jql", self.base);
        let Answer { status, body, .. } = http::send(SYSTEM, || {
            self.http
                .get(&url)
                .basic_auth(&self.user, Some(&self.token))
                .header(reqwest::header::ACCEPT, "application/json")
                .query(&[
                    ("jql", jql.as_str()),
                    ("fields", "summary,description,reporter,created"),
                    ("maxResults", "50"),
                ])
        })
        .await?;
        if status != 200 {
            return Err(Self::refused(status, &body));
        }
        let issues = body["issues"]
            .as_array()
            .ok_or_else(|| ItsmError::Unexpected {
                system: SYSTEM,
                reason: "a search answer without `issues`".into(),
            })?;
        let text = |v: &Value, p: &str| {
            v.pointer(p)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        Ok(Some(
            issues
                .iter()
                .map(|i| QueuedTicket {
                    id: text(i, "/id"),
                    key: text(i, "/key"),
                    created: text(i, "/fields/created"),
                    caller_email: text(i, "/fields/reporter/emailAddress"),
                    caller_login: text(i, "/fields/reporter/accountId"),
                    summary: text(i, "/fields/summary"),
                    description: plain_text(&i["fields"]["description"]),
                })
                .collect(),
        ))
    }

    async fn caller_replies(&self, ticket: &QueuedTicket) -> Result<Vec<CallerReply>, ItsmError> {
        if ticket.caller_login.is_empty() {
            return Ok(Vec::new());
        }
        let Answer { status, body, .. } = self
            .call(
                reqwest::Method::GET,
                &format!(
                    "/rest/api/3/issue/{}/comment?orderBy=created&maxResults=100",
                    ticket.key
                ),
                None,
            )
            .await?;
        if status != 200 {
            return Err(Self::refused(status, &body));
        }
        Ok(body["comments"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|c| c.pointer("/author/accountId") == Some(&json!(ticket.caller_login)))
            .filter_map(|c| {
                Some(CallerReply {
                    id: c["id"].as_str()?.to_owned(),
                    text: plain_text(&c["body"]),
                })
            })
            .collect())
    }

    async fn note(
        &self,
        ticket: &QueuedTicket,
        text: &str,
        caller_sees: bool,
    ) -> Result<(), ItsmError> {
        let mut body = json!({"body": adf_text(text)});
        if !caller_sees {
            // Jira Service Management's internal comment: only agents see it.
            body["properties"] = json!([{"key": "sd.public.comment", "value": {"internal": true}}]);
        }
        let Answer { status, body, .. } = self
            .call(
                reqwest::Method::POST,
                &format!("/rest/api/3/issue/{}/comment", ticket.key),
                Some(&body),
            )
            .await?;
        if status == 201 {
            Ok(())
        } else {
            Err(Self::refused(status, &body))
        }
    }

    async fn settle(
        &self,
        ticket: &QueuedTicket,
        resolved: bool,
        note: &str,
    ) -> Result<(), ItsmError> {
        if !resolved {
            self.note(ticket, note, false).await?;
            let Answer { status, body, .. } = self
                .call(
                    reqwest::Method::PUT,
                    &format!("/rest/api/3/issue/{}/assignee", ticket.key),
                    Some(&json!({"accountId": null})),
                )
                .await?;
            return if status == 204 {
                Ok(())
            } else {
                Err(Self::refused(status, &body))
            };
        }
        let Answer { status, body, .. } = self
            .call(
                reqwest::Method::GET,
                &format!("/rest/api/3/issue/{}/transitions", ticket.key),
                None,
            )
            .await?;
        if status != 200 {
            return Err(Self::refused(status, &body));
        }
        let done = body["transitions"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|t| t.pointer("/to/statusCategory/key") == Some(&json!("done")))
            .and_then(|t| t["id"].as_str())
            .ok_or_else(|| ItsmError::Unexpected {
                system: SYSTEM,
                reason: format!("{} has no transition to a done status", ticket.key),
            })?
            .to_owned();
        let Answer { status, body, .. } = self
            .call(
                reqwest::Method::POST,
                &format!("/rest/api/3/issue/{}/transitions", ticket.key),
                Some(&json!({"transition": {"id": done}})),
            )
            .await?;
        if status == 204 {
            Ok(())
        } else {
            Err(Self::refused(status, &body))
        }
    }
}

/// One paragraph of Atlassian Document Format per line of `text`.
fn adf_text(text: &str) -> Value {
    let paragraphs: Vec<Value> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| json!({"type": "paragraph", "content": [{"type": "text", "text": l}]}))
        .collect();
    json!({"type": "doc", "version": 1, "content": paragraphs})
}

/// The plain text of an Atlassian Document Format value (or a plain string).
fn plain_text(doc: &Value) -> String {
    match doc {
        Value::String(s) => s.clone(),
        Value::Object(m) => match m.get("text").and_then(Value::as_str) {
            Some(t) => t.to_owned(),
            None => {
                let inner = m.get("content").map(plain_text).unwrap_or_default();
                if m.get("type").and_then(Value::as_str) == Some("paragraph") {
                    format!("{inner}\n")
                } else {
                    inner
                }
            }
        },
        Value::Array(items) => items.iter().map(plain_text).collect::<Vec<_>>().join(""),
        _ => String::new(),
    }
}
