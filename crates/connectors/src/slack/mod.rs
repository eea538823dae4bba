//! The Slack Web API calls Steward's Slack channel makes, as `slack-web-api-subset.swagger2.json`
//! describes them: `users.info` (who wrote, by their profile e-mail), `chat.postMessage` and
//! `chat.update` (replies and approval cards in Block Kit). Every answer is `{"ok": true, …}` or
//! `{"ok": false, "error": "code"}`; 429 carries `Retry-After`.

use std::time::Duration;

use serde_json::{Value, json};
use thiserror::Error;

/// Attempts per call (429 and 5xx are retried).
const ATTEMPTS: u32 = 3;
/// Longest wait between attempts.
const MAX_WAIT: Duration = Duration::from_secs(5);

/// Why a Slack call failed.
#[derive(Debug, Error)]
pub enum SlackError {
    /// Slack answered `ok: false` with this error code (`user_not_found`, `channel_not_found`,
    /// `invalid_auth`, …).
    #[error("Slack refused {method}: {code}")]
    Api {
        /// The method called.
        method: &'static str,
        /// Slack's error code.
        code: String,
    },
    /// Slack could not be reached, or kept throttling, after retries.
    #[error("Slack could not be reached for {method}: {reason}")]
    Unreachable {
        /// The method called.
        method: &'static str,
        /// The last error.
        reason: String,
    },
}

/// Who a Slack user is, as far as Steward may rely on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SlackIdentity {
    /// A person with this profile e-mail.
    Person {
        /// The e-mail.
        email: String,
    },
    /// A bot, a deactivated account, or a profile without an e-mail: nobody Steward acts for.
    Unestablished(String),
}

/// A Slack Web API client with the app's bot token.
#[derive(Clone)]
pub struct SlackClient {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl std::fmt::Debug for SlackClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlackClient")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl SlackClient {
    /// A client of `base_url` (`https://slack.com/api`) with the bot token (`xoxb-…`).
    pub fn new(base_url: &str, token: &str) -> Self {
        Self {
            http: reqwest::Client::new(),
            base: base_url.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
        }
    }

    async fn call(
        &self,
        method: &'static str,
        get: Option<&[(&str, &str)]>,
        body: Option<&Value>,
    ) -> Result<Value, SlackError> {
        let url = format!("{}/{method}", self.base);
        let mut last = String::new();
        for attempt in 0..ATTEMPTS {
            let request = match (get, body) {
                (Some(query), _) => self.http.get(&url).query(query),
                (None, Some(body)) => self.http.post(&url).json(body),
                (None, None) => self.http.post(&url),
            };
            let sent = request
                .bearer_auth(&self.token)
                .timeout(Duration::from_secs(15))
                .send()
                .await;
            let response = match sent {
                Ok(r) => r,
                Err(e) => {
                    last = e.to_string();
                    tokio::time::sleep(Duration::from_millis(300 << attempt)).await;
                    continue;
                }
            };
            let status = response.status().as_u16();
            if status == 429 || status >= 500 {
                let wait = response
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map_or(Duration::from_millis(300 << attempt), Duration::from_secs)
                    .min(MAX_WAIT);
                last = format!("HTTP {status}");
                if attempt + 1 < ATTEMPTS {
                    tokio::time::sleep(wait).await;
                }
                continue;
            }
            let answer: Value = response.json().await.map_err(|e| SlackError::Unreachable {
                method,
                reason: format!("the answer is not JSON: {e}"),
            })?;
            if answer["ok"] == true {
                return Ok(answer);
            }
            return Err(SlackError::Api {
                method,
                code: answer["error"]
                    .as_str()
                    .unwrap_or("unknown_error")
                    .to_owned(),
            });
        }
        Err(SlackError::Unreachable {
            method,
            reason: format!("{last} after {ATTEMPTS} attempts"),
        })
    }

    /// Who `user` is: a person with a profile e-mail, or someone Steward must not act for.
    pub async fn identity(&self, user: &str) -> Result<SlackIdentity, SlackError> {
        let answer = match self.call("users.info", Some(&[("user", user)]), None).await {
            Err(SlackError::Api { code, .. })
                if code == "user_not_found" || code == "user_not_visible" =>
            {
                return Ok(SlackIdentity::Unestablished(format!(
                    "Slack does not know the user ({code})"
                )));
            }
            other => other?,
        };
        let u = &answer["user"];
        if u["deleted"] == true {
            return Ok(SlackIdentity::Unestablished(
                "the Slack account is deactivated".into(),
            ));
        }
        if u["is_bot"] == true || u["is_app_user"] == true {
            return Ok(SlackIdentity::Unestablished("the sender is a bot".into()));
        }
        match u.pointer("/profile/email").and_then(Value::as_str).map(str::trim) {
            Some(email) if email.contains('@') => Ok(SlackIdentity::Person {
                email: email.to_lowercase(),
            }),
            _ => Ok(SlackIdentity::Unestablished(
                "the Slack profile shows no e-mail address (the app needs the users:read.email scope)".into(),
            )),
        }
    }

    /// Posts a message (in a thread when `thread_ts` is given); its `ts`.
    pub async fn post(
        &self,
        channel: &str,
        text: &str,
        blocks: Option<&Value>,
        thread_ts: Option<&str>,
    ) -> Result<String, SlackError> {
        let mut body = json!({"channel": channel, "text": text});
        if let Some(b) = blocks {
            body["blocks"] = b.clone();
        }
        if let Some(t) = thread_ts {
            body["thread_ts"] = json!(t);
        }
        let answer = self.call("chat.postMessage", None, Some(&body)).await?;
        Ok(answer["ts"].as_str().unwrap_or_default().to_owned())
    }

    /// Posts a message only `user` sees, in a channel (a reply that may carry a temporary
    /// password never goes to a whole channel).
    pub async fn post_ephemeral(
        &self,
        channel: &str,
        user: &str,
        text: &str,
        blocks: Option<&Value>,
        thread_ts: Option<&str>,
    ) -> Result<(), SlackError> {
        let mut body = json!({"channel": channel, "user": user, "text": text});
        if let Some(b) = blocks {
            body["blocks"] = b.clone();
        }
        if let Some(t) = thread_ts {
            body["thread_ts"] = json!(t);
        }
        self.call("chat.postEphemeral", None, Some(&body))
            .await
            .map(|_| ())
    }

    /// Replaces a message's text and blocks.
    pub async fn update(
        &self,
        channel: &str,
        ts: &str,
        text: &str,
        blocks: Option<&Value>,
    ) -> Result<(), SlackError> {
        let mut body = json!({"channel": channel, "ts": ts, "text": text});
        if let Some(b) = blocks {
            body["blocks"] = b.clone();
        }
        self.call("chat.update", None, Some(&body))
            .await
            .map(|_| ())
    }
}
