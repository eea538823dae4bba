//! SysAid REST API: `POST /api/v1/login` (`user_name`, `password`) sets a `JSESSIONID` cookie that
//! every later call sends; `POST /api/v1/sr?type=incident` with `{"info": [{"key", "value"}]}`
//! creates a service record. Logins are limited (two per five minutes), so the session is kept
//! and a new login made only when the old one is refused.

use async_trait::async_trait;
use serde_json::{Value, json};
use tokio::sync::Mutex;

use super::http::{self, Answer};
use super::{HandOver, ItsmError, Ticket, TicketDesk, clip};

const SYSTEM: &str = "sysaid";
/// A title longer than this is cut.
const TITLE_MAX: usize = 200;

/// Files escalations as SysAid service records.
pub struct SysAid {
    http: reqwest::Client,
    base: String,
    user: String,
    password: String,
    session: Mutex<Option<String>>,
}

impl std::fmt::Debug for SysAid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SysAid")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl SysAid {
    /// A desk logging in as `user`.
    pub fn new(base_url: &str, user: &str, password: &str) -> Result<Self, ItsmError> {
        Ok(Self {
            http: http::client(SYSTEM)?,
            base: http::base(SYSTEM, base_url)?,
            user: user.to_owned(),
            password: password.to_owned(),
            session: Mutex::new(None),
        })
    }

    /// Logs in and returns the `JSESSIONID` cookie's value.
    async fn login(&self) -> Result<String, ItsmError> {
        let url = format!("{}/api/v1/login", self.base);
        let body = json!({"user_name": self.user, "password": self.password});
        let Answer {
            status,
            headers,
            body,
        } = http::send(SYSTEM, || self.http.post(&url).json(&body)).await?;
        if status != 200 {
            return Err(ItsmError::Refused {
                system: SYSTEM,
                status,
                message: message(&body),
            });
        }
        headers
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|c| {
                c.split(';')
                    .next()
                    .and_then(|kv| kv.trim().strip_prefix("JSESSIONID="))
                    .map(str::to_owned)
            })
            .ok_or_else(|| ItsmError::Unexpected {
                system: SYSTEM,
                reason: "the login set no JSESSIONID cookie".into(),
            })
    }

    async fn create(&self, session: &str, info: &Value) -> Result<Answer, ItsmError> {
        let url = format!("{}/api/v1/sr", self.base);
        let cookie = format!("JSESSIONID={session}");
        http::send(SYSTEM, || {
            self.http
                .post(&url)
                .query(&[("type", "incident")])
                .header(reqwest::header::COOKIE, &cookie)
                .json(info)
        })
        .await
    }
}

fn message(body: &Value) -> String {
    body.get("message")
        .or_else(|| body.get("error_msg"))
        .and_then(Value::as_str)
        .unwrap_or("no message")
        .to_owned()
}

#[async_trait]
impl TicketDesk for SysAid {
    fn system(&self) -> &'static str {
        SYSTEM
    }

    async fn open(&self, h: &HandOver) -> Result<Ticket, ItsmError> {
        let info = json!({"info": [
            {"key": "title", "value": clip(&h.summary, TITLE_MAX)},
            {"key": "description", "value": h.description},
        ]});
        let mut session = self.session.lock().await;
        let current = match session.clone() {
            Some(s) => s,
            None => self.login().await?,
        };
        let mut answer = self.create(&current, &info).await?;
        let mut used = current;
        if answer.status == 401 {
            // The session ended: one new login, then once more.
            used = self.login().await?;
            answer = self.create(&used, &info).await?;
        }
        *session = (answer.status != 401).then_some(used);
        if answer.status != 200 && answer.status != 201 {
            return Err(ItsmError::Refused {
                system: SYSTEM,
                status: answer.status,
                message: message(&answer.body),
            });
        }
        let id = match &answer.body["id"] {
            Value::String(s) if !s.is_empty() => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => {
                return Err(ItsmError::Unexpected {
                    system: SYSTEM,
                    reason: format!("no service record id in {:.200}", answer.body),
                });
            }
        };
        Ok(Ticket {
            system: SYSTEM,
            url: format!("{}/SREdit.jsp?id={id}", self.base),
            key: id,
        })
    }
}
