//! ServiceNow Table API: `POST /api/now/table/incident`, answered `201 Created` with the record
//! under `result` and its address in `Location`; errors as `{"error": {"message", "detail"},
//! "status": "failure"}`.

use async_trait::async_trait;
use serde_json::{Value, json};

use super::http::{self, Answer};
use super::{CallerReply, HandOver, ItsmError, QueuedTicket, Ticket, TicketDesk, clip};

const SYSTEM: &str = "servicenow";
/// The incident table's default length of `short_description`.
const SHORT_MAX: usize = 160;

/// Files escalations as ServiceNow incidents.
pub struct ServiceNow {
    http: reqwest::Client,
    base: String,
    user: String,
    password: String,
    assignment_group: Option<String>,
    /// The group whose incidents Steward takes as requests (its queue), if any.
    intake_group: Option<String>,
}

impl std::fmt::Debug for ServiceNow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceNow")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl ServiceNow {
    /// A desk filing incidents as `user`, optionally into an assignment group (its sys_id).
    pub fn new(
        base_url: &str,
        user: &str,
        password: &str,
        assignment_group: Option<String>,
    ) -> Result<Self, ItsmError> {
        Ok(Self {
            http: http::client(SYSTEM)?,
            base: http::base(SYSTEM, base_url)?,
            user: user.to_owned(),
            password: password.to_owned(),
            assignment_group,
            intake_group: None,
        })
    }

    /// Takes the incidents assigned to `group` (Steward's queue) as requests; tickets Steward
    /// hands back go to the escalation `assignment_group`.
    #[must_use]
    pub fn taking_from(mut self, group: Option<String>) -> Self {
        self.intake_group = group;
        self
    }

    /// The rows of `table` matching the encoded `query`, with `fields`, at most `limit`.
    async fn list(
        &self,
        table: &str,
        query: &str,
        fields: &str,
        limit: u32,
    ) -> Result<Vec<Value>, ItsmError> {
        let url = format!("{}/api/now/table/{table}", self.base);
        let limit = limit.to_string();
        let Answer { status, body, .. } = http::send(SYSTEM, || {
            self.http
                .get(&url)
                .basic_auth(&self.user, Some(&self.password))
                .header(reqwest::header::ACCEPT, "application/json")
                .query(&[
                    ("sysparm_query", query),
                    ("sysparm_fields", fields),
                    ("sysparm_limit", limit.as_str()),
                ])
        })
        .await?;
        if status != 200 {
            return Err(ItsmError::Refused {
                system: SYSTEM,
                status,
                message: error_message(&body),
            });
        }
        let mut body = body;
        match body.get_mut("result").map(Value::take) {
            Some(Value::Array(rows)) => Ok(rows),
            _ => Err(ItsmError::Unexpected {
                system: SYSTEM,
                reason: "a list without `result`".into(),
            }),
        }
    }

    async fn patch(&self, ticket: &QueuedTicket, record: &Value) -> Result<(), ItsmError> {
        let url = format!("{}/api/now/table/incident/{}", self.base, ticket.id);
        let Answer { status, body, .. } = http::send(SYSTEM, || {
            self.http
                .patch(&url)
                .basic_auth(&self.user, Some(&self.password))
                .header(reqwest::header::ACCEPT, "application/json")
                .json(record)
        })
        .await?;
        if status == 200 {
            Ok(())
        } else {
            Err(ItsmError::Refused {
                system: SYSTEM,
                status,
                message: error_message(&body),
            })
        }
    }
}

fn error_message(body: &Value) -> String {
    let message = body.pointer("/error/message").and_then(Value::as_str);
    let detail = body.pointer("/error/detail").and_then(Value::as_str);
    match (message, detail) {
        (Some(m), Some(d)) if !d.is_empty() => format!("{m} ({d})"),
        (Some(m), _) => m.to_owned(),
        _ => "no message".into(),
    }
}

#[async_trait]
impl TicketDesk for ServiceNow {
    fn system(&self) -> &'static str {
        SYSTEM
    }

    async fn open(&self, h: &HandOver) -> Result<Ticket, ItsmError> {
        let mut record = json!({
            "short_description": clip(&h.summary, SHORT_MAX),
            "description": h.description,
            "correlation_id": h.escalation_id,
            "correlation_display": "Steward",
        });
        if let Some(group) = &self.assignment_group {
            record["assignment_group"] = json!(group);
        }
        let url = format!("{}/api/now/table/incident", self.base);
        let Answer { status, body, .. } = http::send(SYSTEM, || {
            self.http
                .post(&url)
                .basic_auth(&self.user, Some(&self.password))
                .header(reqwest::header::ACCEPT, "application/json")
                .json(&record)
        })
        .await?;
        if status != 201 {
            return Err(ItsmError::Refused {
                system: SYSTEM,
                status,
                message: error_message(&body),
            });
        }
        let field = |k: &str| {
            body.pointer(&format!("/result/{k}"))
                .and_then(Value::as_str)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
                .ok_or_else(|| ItsmError::Unexpected {
                    system: SYSTEM,
                    reason: format!("a 201 without result.{k}"),
                })
        };
        let number = field("number")?;
        let sys_id = field("sys_id")?;
        Ok(Ticket {
            system: SYSTEM,
            key: number,
            url: format!("{}/incident.do?sys_id={sys_id}", self.base),
        })
    }

    async fn queued(&self, after: Option<&str>) -> Result<Option<Vec<QueuedTicket>>, ItsmError> {
        let Some(group) = &self.intake_group else {
            return Ok(None);
        };
        let mut query = format!("assignment_group={group}^active=true");
        if let Some(after) = after {
            query.push_str(&format!("^sys_created_on>{after}"));
        }
        query.push_str("^ORDERBYsys_created_on");
        let rows = self
            .list(
                "incident",
                &query,
                "sys_id,number,short_description,description,caller_id.email,caller_id.user_name,sys_created_on",
                50,
            )
            .await?;
        let text = |v: &Value, k: &str| {
            v.get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        Ok(Some(
            rows.iter()
                .filter(|r| !text(r, "sys_id").is_empty())
                .map(|r| QueuedTicket {
                    id: text(r, "sys_id"),
                    key: text(r, "number"),
                    created: text(r, "sys_created_on"),
                    caller_email: text(r, "caller_id.email"),
                    caller_login: text(r, "caller_id.user_name"),
                    summary: text(r, "short_description"),
                    description: text(r, "description"),
                })
                .collect(),
        ))
    }

    async fn caller_replies(&self, ticket: &QueuedTicket) -> Result<Vec<CallerReply>, ItsmError> {
        if ticket.caller_login.is_empty() {
            return Ok(Vec::new());
        }
        // The incident's journal: its customer-visible comments written by the caller.
        let query = format!(
            "element_id={}^element=comments^sys_created_by={}^ORDERBYsys_created_on",
            ticket.id, ticket.caller_login
        );
        Ok(self
            .list(
                "sys_journal_field",
                &query,
                "sys_id,value,sys_created_on",
                100,
            )
            .await?
            .iter()
            .filter_map(|r| {
                Some(CallerReply {
                    id: r["sys_id"].as_str()?.to_owned(),
                    text: r["value"].as_str().unwrap_or_default().to_owned(),
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
        let field = if caller_sees {
            "comments"
        } else {
            "work_notes"
        };
        self.patch(ticket, &json!({ field: text })).await
    }

    async fn settle(
        &self,
        ticket: &QueuedTicket,
        resolved: bool,
        note: &str,
    ) -> Result<(), ItsmError> {
        let record = if resolved {
            json!({"state": "6", "close_code": "Solved (Permanently)", "close_notes": note})
        } else {
            let mut r = json!({"work_notes": note, "assigned_to": ""});
            if let Some(group) = &self.assignment_group {
                r["assignment_group"] = json!(group);
            }
            r
        };
        self.patch(ticket, &record).await
    }
}
