//! Slack as a channel: the Events API (`POST /channels/slack/events`) and interactivity
//! (`POST /channels/slack/interactions`). Every request's signature is checked before its body
//! is parsed; events are acknowledged at once and worked on afterwards (Slack wants an answer
//! within three seconds) and retries of an event already seen are acknowledged and dropped. Who
//! wrote is established through `users.info` (the profile e-mail) and looked up in the
//! directory like any requester; someone who cannot be established gets a clear answer and
//! nothing is done. Approvals are posted as cards with buttons; whoever presses one is mapped the
//! same way and their authority is checked by policy.

mod blocks;
mod verify;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use steward_agent::{AgentError, ApprovalDecision, StandingScope, StandingTerms, TenantRuntime};
use steward_connectors::slack::{SlackClient, SlackIdentity};
use steward_domain::report::{TurnReport, TurnStatus};
use steward_domain::{ApprovalId, Channel, ConversationId};

use crate::AppState;

/// One Slack workspace connected to one tenant.
pub struct SlackChannel {
    signing_secret: String,
    client: SlackClient,
    tenant: String,
    approvals_channel: Option<String>,
    /// Where each conversation's replies go.
    threads: Mutex<HashMap<ConversationId, ReplyPlace>>,
    /// A question waiting for its answer, by channel and user.
    waiting: Mutex<HashMap<(String, String), ConversationId>>,
}

/// Where a conversation's replies go: a channel, a thread in it, and the user to show them to
/// alone when the channel is shared.
#[derive(Debug, Clone)]
struct ReplyPlace {
    channel: String,
    thread: Option<String>,
    private: Option<String>,
}

/// A request refused before any work: its status and why.
struct Refused(StatusCode, String);

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        refuse(self.0, &self.1)
    }
}

impl std::fmt::Debug for SlackChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlackChannel")
            .field("tenant", &self.tenant)
            .finish_non_exhaustive()
    }
}

impl SlackChannel {
    /// A workspace whose requests are verified with `signing_secret`, answered through `client`,
    /// and served by tenant `tenant`; approval cards go to `approvals_channel` (else to the
    /// conversation's own channel).
    pub fn new(
        signing_secret: &str,
        client: SlackClient,
        tenant: &str,
        approvals_channel: Option<String>,
    ) -> Self {
        Self {
            signing_secret: signing_secret.to_owned(),
            client,
            tenant: tenant.to_owned(),
            approvals_channel,
            threads: Mutex::new(HashMap::new()),
            waiting: Mutex::new(HashMap::new()),
        }
    }
}

fn refuse(status: StatusCode, message: &str) -> Response {
    (
        status,
        Json(json!({"error": {"code": status.as_u16(), "message": message}})),
    )
        .into_response()
}

/// The signature check shared by both endpoints.
fn verified(slack: &SlackChannel, headers: &HeaderMap, body: &[u8]) -> Result<(), Refused> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    verify::verify(
        &slack.signing_secret,
        header("x-slack-request-timestamp"),
        header("x-slack-signature"),
        body,
        chrono::Utc::now().timestamp(),
    )
    .map_err(|refusal| {
        tracing::warn!(reason = %refusal, "Slack request refused");
        Refused(
            StatusCode::UNAUTHORIZED,
            format!("Slack request refused: {refusal}"),
        )
    })
}

fn channel_of(state: &AppState) -> Result<(Arc<SlackChannel>, Arc<TenantRuntime>), Refused> {
    let slack = state
        .slack
        .clone()
        .ok_or_else(|| Refused(StatusCode::NOT_FOUND, "Slack is not configured".into()))?;
    let runtime = state.tenants.get(&slack.tenant).cloned().ok_or_else(|| {
        Refused(
            StatusCode::NOT_FOUND,
            "the Slack workspace's tenant is not served".into(),
        )
    })?;
    Ok((slack, runtime))
}

/// `POST /channels/slack/events`.
pub(crate) async fn events(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (slack, runtime) = match channel_of(&state) {
        Ok(c) => c,
        Err(r) => return r.into_response(),
    };
    if let Err(r) = verified(&slack, &headers, &body) {
        return r.into_response();
    }
    let Ok(payload) = serde_json::from_slice::<Value>(&body) else {
        return refuse(StatusCode::BAD_REQUEST, "the body is not JSON");
    };
    match payload["type"].as_str() {
        Some("url_verification") => {
            let challenge = payload["challenge"].as_str().unwrap_or_default();
            Json(json!({"challenge": challenge})).into_response()
        }
        Some("event_callback") => {
            let event = &payload["event"];
            let Some(event_id) = payload["event_id"].as_str() else {
                return refuse(
                    StatusCode::BAD_REQUEST,
                    "an event_callback without event_id",
                );
            };
            // Remembered in the store, so a retry is dropped by whichever replica gets it; if
            // the store cannot say, Slack is asked to retry later rather than risk a double.
            let first = match runtime.store.first_delivery("slack", event_id).await {
                Ok(f) => f,
                Err(e) => {
                    tracing::error!(error = %e, "cannot record a Slack event");
                    return refuse(StatusCode::SERVICE_UNAVAILABLE, "try again later");
                }
            };
            if !first {
                tracing::info!(event_id, retry = ?headers.get("x-slack-retry-num"), "Slack retry of an event already taken: dropped");
                return StatusCode::OK.into_response();
            }
            let wanted = match event["type"].as_str() {
                Some("app_mention") => true,
                Some("message") => {
                    event["channel_type"] == "im"
                        && event["subtype"].is_null()
                        && event["bot_id"].is_null()
                }
                _ => false,
            };
            if wanted {
                let event = event.clone();
                tokio::spawn(async move { on_message(&slack, &runtime, &event).await });
            }
            StatusCode::OK.into_response()
        }
        Some(other) => {
            tracing::debug!(kind = other, "Slack payload ignored");
            StatusCode::OK.into_response()
        }
        None => refuse(StatusCode::BAD_REQUEST, "a payload without `type`"),
    }
}

/// The text without mentions (`<@W111> reset my password` → `reset my password`).
fn without_mentions(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("<@") {
        out.push_str(&rest[..start]);
        match rest[start..].find('>') {
            Some(end) => rest = &rest[start + end + 1..],
            None => {
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

async fn on_message(slack: &SlackChannel, runtime: &TenantRuntime, event: &Value) {
    let (Some(user), Some(channel)) = (event["user"].as_str(), event["channel"].as_str()) else {
        return;
    };
    let in_thread = event["thread_ts"]
        .as_str()
        .or(event["ts"].as_str())
        .map(str::to_owned);
    // In a direct message the reply goes to the conversation; in a channel, to the thread.
    let thread = if event["channel_type"] == "im" {
        event["thread_ts"].as_str().map(str::to_owned)
    } else {
        in_thread
    };
    let say = |text: String| {
        let thread = thread.clone();
        async move {
            if let Err(e) = slack
                .client
                .post(channel, &text, None, thread.as_deref())
                .await
            {
                tracing::error!(error = %e, "could not answer on Slack");
            }
        }
    };
    let email = match slack.client.identity(user).await {
        Ok(SlackIdentity::Person { email }) => email,
        Ok(SlackIdentity::Unestablished(why)) => {
            say(format!("I can't tell who you are in the directory ({why}), so I haven't done anything. Please contact the IT team.")).await;
            return;
        }
        Err(e) => {
            tracing::error!(error = %e, "Slack users.info failed");
            say("I couldn't check who you are just now, so I haven't done anything. Please try again in a minute.".into()).await;
            return;
        }
    };
    let text = without_mentions(event["text"].as_str().unwrap_or_default());
    if text.is_empty() {
        say("How can I help? Tell me what's wrong in a sentence.".into()).await;
        return;
    }
    let key = (channel.to_owned(), user.to_owned());
    let open = slack
        .waiting
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .remove(&key);
    let report = match runtime.handle(&email, Channel::Slack, &text, open).await {
        Ok(r) => r,
        Err(AgentError::UnknownRequester(_)) => {
            say(format!("Your Slack e-mail ({email}) doesn't match anyone in the directory, so I haven't done anything. Please contact the IT team.")).await;
            return;
        }
        Err(e) => {
            tracing::error!(error = %e, "a Slack request failed");
            say(format!(
                "Something went wrong on my side and I stopped; nothing further was done. ({e})"
            ))
            .await;
            return;
        }
    };
    slack
        .threads
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .insert(
            report.conversation_id,
            ReplyPlace {
                channel: channel.to_owned(),
                thread: thread.clone(),
                private: (event["channel_type"] != "im").then(|| user.to_owned()),
            },
        );
    if report.status == TurnStatus::AwaitingRequester {
        slack
            .waiting
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(key, report.conversation_id);
    }
    let private = (event["channel_type"] != "im").then_some(user);
    deliver(slack, channel, thread.as_deref(), private, &report).await;
}

/// Posts a turn's reply — only to `private` when the channel is shared (a reply may carry a
/// temporary password) — and a card for each change waiting for approval.
async fn deliver(
    slack: &SlackChannel,
    channel: &str,
    thread: Option<&str>,
    private: Option<&str>,
    report: &TurnReport,
) {
    let blocks = blocks::reply(report);
    let posted = match private {
        Some(user) => {
            slack
                .client
                .post_ephemeral(channel, user, &report.reply, Some(&blocks), thread)
                .await
        }
        None => slack
            .client
            .post(channel, &report.reply, Some(&blocks), thread)
            .await
            .map(|_| ()),
    };
    if let Err(e) = posted {
        tracing::error!(error = %e, "could not post a reply on Slack");
    }
    for (text, card) in blocks::approval_cards(report) {
        let (target, target_thread) = match &slack.approvals_channel {
            Some(c) => (c.as_str(), None),
            None => (channel, thread),
        };
        if let Err(e) = slack
            .client
            .post(target, &text, Some(&card), target_thread)
            .await
        {
            tracing::error!(error = %e, "could not post an approval card on Slack");
        }
    }
}

/// `POST /channels/slack/interactions` (`payload=<JSON>`, form-encoded).
pub(crate) async fn interactions(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (slack, runtime) = match channel_of(&state) {
        Ok(c) => c,
        Err(r) => return r.into_response(),
    };
    if let Err(r) = verified(&slack, &headers, &body) {
        return r.into_response();
    }
    let Some(payload) = url::form_urlencoded::parse(&body)
        .find(|(k, _)| k == "payload")
        .and_then(|(_, v)| serde_json::from_str::<Value>(&v).ok())
    else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "no `payload` form field holding JSON",
        );
    };
    if payload["type"] != "block_actions" {
        return StatusCode::OK.into_response();
    }
    let action = &payload["actions"][0];
    let (Some(action_id), Some(value), Some(user)) = (
        action["action_id"].as_str(),
        action["value"].as_str(),
        payload["user"]["id"].as_str(),
    ) else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "a block action without action_id, value or user",
        );
    };
    let decision = match action_id {
        blocks::APPROVE_ONCE => ApprovalDecision::ApproveOnce,
        blocks::APPROVE_ALWAYS => ApprovalDecision::ApproveAlways(StandingTerms {
            scope: StandingScope::Requester,
            max_uses: 5,
            ttl: std::time::Duration::from_secs(7 * 24 * 3600),
        }),
        blocks::DENY => ApprovalDecision::Deny {
            reason: "denied in Slack".into(),
        },
        _ => return StatusCode::OK.into_response(),
    };
    let Ok(id) = value.parse::<uuid::Uuid>() else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "the button's value is not an approval id",
        );
    };
    let card = (
        payload["container"]["channel_id"]
            .as_str()
            .or(payload["channel"]["id"].as_str())
            .map(str::to_owned),
        payload["container"]["message_ts"]
            .as_str()
            .map(str::to_owned),
    );
    let user = user.to_owned();
    tokio::spawn(async move {
        on_decision(&slack, &runtime, &user, ApprovalId(id), decision, card).await
    });
    StatusCode::OK.into_response()
}

async fn on_decision(
    slack: &SlackChannel,
    runtime: &TenantRuntime,
    user: &str,
    id: ApprovalId,
    decision: ApprovalDecision,
    card: (Option<String>, Option<String>),
) {
    let note = |text: String| {
        let card = card.clone();
        async move {
            if let (Some(channel), Some(ts)) = (&card.0, &card.1)
                && let Err(e) = slack.client.post(channel, &text, None, Some(ts)).await
            {
                tracing::error!(error = %e, "could not answer an approver on Slack");
            }
        }
    };
    let email = match slack.client.identity(user).await {
        Ok(SlackIdentity::Person { email }) => email,
        Ok(SlackIdentity::Unestablished(why)) => {
            note(format!(
                "I can't tell who pressed that ({why}); nothing was decided."
            ))
            .await;
            return;
        }
        Err(e) => {
            note(format!(
                "I couldn't check who pressed that ({e}); nothing was decided."
            ))
            .await;
            return;
        }
    };
    match runtime.decide_approval(id, &email, decision).await {
        Ok((summary, follow_up)) => {
            if let (Some(channel), Some(ts)) = (&card.0, &card.1) {
                let text = format!("Decided by {email}: {summary}");
                if let Err(e) = slack
                    .client
                    .update(channel, ts, &text, Some(&blocks::decided(&text)))
                    .await
                {
                    tracing::error!(error = %e, "could not update an approval card on Slack");
                }
            }
            let place = slack
                .threads
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .get(&follow_up.conversation_id)
                .cloned();
            if let Some(p) = place {
                deliver(
                    slack,
                    &p.channel,
                    p.thread.as_deref(),
                    p.private.as_deref(),
                    &follow_up,
                )
                .await;
            }
        }
        Err(e) => note(format!("Not decided: {e}")).await,
    }
}
