//! ServiceNow Table API: `POST /api/now/table/incident`, answered `201 Created` with the record
//! under `result` and its address in `Location`; errors as `{"error": {"message", "detail"},
//! "status": "failure"}`.

use async_trait::async_trait;
use serde_json::{Value, json};

use super::http::{self, Answer};
use super::{HandOver, ItsmError, Ticket, TicketDesk, clip};

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
        })
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
}
