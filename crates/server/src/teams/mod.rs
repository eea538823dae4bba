//! Microsoft Teams as a channel: the Bot Framework activity endpoint
//! (`POST /channels/teams/messages`). Each request's token is validated (see `verify.rs`) before
//! anything in the activity is acted on. Messages (personal chat, or a channel mention) are
//! acknowledged and answered through the Bot Connector at the activity's `serviceUrl`; the
//! sender is the directory user with the activity's AAD object id, read live, and someone who is
//! not gets a clear answer and nothing is done. Approvals are Adaptive Cards: `Action.Execute`
//! is answered in place (the card replaced by the decision), `Action.Submit` by updating the card.

mod cards;
mod verify;

use std::collections::HashMap;
use std::sync::Mutex;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use steward_agent::{AgentError, ApprovalDecision, StandingScope, StandingTerms, TenantRuntime};
use steward_connectors::botframework::{BotConnector, SigningKeys};
use steward_domain::report::{TurnReport, TurnStatus};
use steward_domain::{ApprovalId, Channel, ConversationId};

use crate::AppState;

/// One Teams bot connected to one tenant.
pub struct TeamsChannel {
    app_id: String,
    keys: SigningKeys,
    connector: BotConnector,
    tenant: String,
    /// Where each conversation's later replies go (the activity answered last).
    places: Mutex<HashMap<ConversationId, Value>>,
    /// A question waiting for its answer, by Teams conversation and sender.
    waiting: Mutex<HashMap<(String, String), ConversationId>>,
}

impl std::fmt::Debug for TeamsChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TeamsChannel")
            .field("app_id", &self.app_id)
            .field("tenant", &self.tenant)
            .finish_non_exhaustive()
    }
}

impl TeamsChannel {
    /// The bot `app_id` (tokens must be addressed to it), validating with the keys found
    /// through `metadata_url`, answering through `connector`, serving tenant `tenant`.
    pub fn new(app_id: &str, metadata_url: &str, connector: BotConnector, tenant: &str) -> Self {
        Self {
            app_id: app_id.to_owned(),
            keys: SigningKeys::new(metadata_url),
            connector,
            tenant: tenant.to_owned(),
            places: Mutex::new(HashMap::new()),
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

/// `POST /channels/teams/messages`.
pub(crate) async fn messages(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(teams) = state.teams.clone() else {
        return refuse(StatusCode::NOT_FOUND, "Teams is not configured");
    };
    let Some(runtime) = state.tenants.get(&teams.tenant).cloned() else {
        return refuse(
            StatusCode::NOT_FOUND,
            "the Teams bot's tenant is not served",
        );
    };
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if authorization.is_none() {
        return refuse(
            StatusCode::UNAUTHORIZED,
            "Teams request refused: no bearer token",
        );
    }
    // The body is read only as far as the token check needs (`serviceUrl`, `channelId`); it is
    // acted on only after the token holds.
    let Ok(activity) = serde_json::from_slice::<Value>(&body) else {
        return refuse(StatusCode::BAD_REQUEST, "the body is not a JSON activity");
    };
    if let Err(reason) = verify::verify(&teams.keys, &teams.app_id, authorization, &activity).await
    {
        tracing::warn!(reason = %reason, "Teams request refused");
        return refuse(
            StatusCode::UNAUTHORIZED,
            &format!("Teams request refused: {reason}"),
        );
    }
    match activity["type"].as_str() {
        Some("message") if activity["value"]["steward"].is_string() => {
            // Action.Submit on an approval card.
            tokio::spawn(async move {
                let outcome = decide(&teams, &runtime, &activity, &activity["value"]).await;
                let text = outcome.unwrap_or_else(|e| format!("Not decided: {e}"));
                if let (Some(card), Some(service)) = (
                    activity["replyToId"].as_str(),
                    activity["serviceUrl"].as_str(),
                ) {
                    let mut updated = cards::message(&activity, &text, vec![cards::decided(&text)]);
                    updated["id"] = json!(card);
                    if let Err(e) = teams
                        .connector
                        .update(
                            service,
                            activity["conversation"]["id"].as_str().unwrap_or_default(),
                            card,
                            &updated,
                        )
                        .await
                    {
                        tracing::error!(error = %e, "could not update an approval card in Teams");
                    }
                }
            });
            StatusCode::OK.into_response()
        }
        Some("message") => {
            tokio::spawn(async move { on_message(&teams, &runtime, &activity).await });
            StatusCode::OK.into_response()
        }
        Some("invoke") => {
            // Action.Execute (`adaptiveCard/action`) or a Teams invoke Action.Submit: answered
            // in this response, the card replaced by the decision.
            let data = if activity["name"] == "adaptiveCard/action" {
                activity["value"]["action"]["data"].clone()
            } else {
                activity["value"].clone()
            };
            if !data["steward"].is_string() {
                return Json(json!({"statusCode": 200, "type": "application/vnd.microsoft.activity.message", "value": "Nothing to do."})).into_response();
            }
            let text = decide(&teams, &runtime, &activity, &data)
                .await
                .unwrap_or_else(|e| format!("Not decided: {e}"));
            Json(json!({"statusCode": 200, "type": "application/vnd.microsoft.card.adaptive", "value": cards::decided(&text)["content"]})).into_response()
        }
        _ => StatusCode::OK.into_response(),
    }
}

/// The text without Teams' `<at>…</at>` mentions.
fn without_mentions(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("<at>") {
        out.push_str(&rest[..start]);
        rest = rest[start..]
            .find("</at>")
            .map_or("", |end| &rest[start + end + 5..]);
    }
    out.push_str(rest);
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

async fn answer(teams: &TeamsChannel, incoming: &Value, text: &str, attachments: Vec<Value>) {
    let (Some(service), Some(conversation), Some(id)) = (
        incoming["serviceUrl"].as_str(),
        incoming["conversation"]["id"].as_str(),
        incoming["id"].as_str(),
    ) else {
        return;
    };
    let reply = cards::message(incoming, text, attachments);
    if let Err(e) = teams
        .connector
        .reply(service, conversation, id, &reply)
        .await
    {
        tracing::error!(error = %e, "could not answer in Teams");
    }
}

async fn on_message(teams: &TeamsChannel, runtime: &TenantRuntime, activity: &Value) {
    let Some(oid) = activity["from"]["aadObjectId"].as_str() else {
        answer(teams, activity, "I can't tell who you are in the directory (Teams sent no Azure AD object id), so I haven't done anything.", Vec::new()).await;
        return;
    };
    let upn = match runtime.upn_of_object(oid).await {
        Ok(u) => u,
        Err(AgentError::UnknownRequester(_)) => {
            answer(teams, activity, "You aren't in this organisation's directory, so I haven't done anything. Please contact the IT team.", Vec::new()).await;
            return;
        }
        Err(e) => {
            tracing::error!(error = %e, "could not look up a Teams sender");
            answer(teams, activity, "I couldn't check who you are just now, so I haven't done anything. Please try again in a minute.", Vec::new()).await;
            return;
        }
    };
    let text = without_mentions(activity["text"].as_str().unwrap_or_default());
    if text.is_empty() {
        answer(
            teams,
            activity,
            "How can I help? Tell me what's wrong in a sentence.",
            Vec::new(),
        )
        .await;
        return;
    }
    let key = (
        activity["conversation"]["id"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        oid.to_owned(),
    );
    let open = teams
        .waiting
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .remove(&key);
    let report = match runtime.handle(&upn, Channel::Teams, &text, open).await {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "a Teams request failed");
            answer(
                teams,
                activity,
                &format!(
                    "Something went wrong on my side and I stopped; nothing further was done. ({e})"
                ),
                Vec::new(),
            )
            .await;
            return;
        }
    };
    if report.status == TurnStatus::AwaitingRequester {
        teams
            .waiting
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(key, report.conversation_id);
    }
    teams
        .places
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .insert(report.conversation_id, activity.clone());
    deliver(teams, activity, &report).await;
}

/// Posts a turn's reply and its approval cards. In a channel or group chat the reply (which may
/// carry a temporary password) goes to a personal chat with the requester; the channel is told
/// so and gets the approval cards, for the approvers among its members.
async fn deliver(teams: &TeamsChannel, incoming: &Value, report: &TurnReport) {
    let shared = incoming["conversation"]["isGroup"] == true
        || incoming["conversation"]["conversationType"]
            .as_str()
            .is_some_and(|t| t != "personal");
    if !shared {
        answer(teams, incoming, &report.reply, cards::approvals(report)).await;
        return;
    }
    let service = incoming["serviceUrl"].as_str().unwrap_or_default();
    let tenant = incoming["conversation"]["tenantId"]
        .as_str()
        .or(incoming["channelData"]["tenant"]["id"].as_str())
        .unwrap_or_default();
    let private = match teams
        .connector
        .create_conversation(service, &incoming["recipient"], &incoming["from"], tenant)
        .await
    {
        Ok(id) => id,
        Err(e) => {
            tracing::error!(error = %e, "could not open a personal chat in Teams");
            answer(
                teams,
                incoming,
                "I couldn't open a private chat with you to answer; please message me directly.",
                Vec::new(),
            )
            .await;
            return;
        }
    };
    let mut message = cards::message(incoming, &report.reply, Vec::new());
    message["conversation"] = json!({"id": private});
    if let Some(m) = message.as_object_mut() {
        m.remove("replyToId");
    }
    match teams.connector.send(service, &private, &message).await {
        Ok(_) => {
            answer(
                teams,
                incoming,
                "I've answered you in a private chat.",
                cards::approvals(report),
            )
            .await;
        }
        Err(e) => tracing::error!(error = %e, "could not answer in a personal Teams chat"),
    }
}

/// Decides an approval from a card's data as the activity's sender; what to show on the card.
async fn decide(
    teams: &TeamsChannel,
    runtime: &TenantRuntime,
    activity: &Value,
    data: &Value,
) -> Result<String, String> {
    let id = data["approvalId"]
        .as_str()
        .and_then(|s| uuid::Uuid::parse_str(s).ok())
        .ok_or("the card names no approval")?;
    let decision = match data["steward"].as_str() {
        Some(cards::APPROVE_ONCE) => ApprovalDecision::ApproveOnce,
        Some(cards::APPROVE_ALWAYS) => ApprovalDecision::ApproveAlways(StandingTerms {
            scope: StandingScope::Requester,
            max_uses: 5,
            ttl: std::time::Duration::from_secs(7 * 24 * 3600),
        }),
        Some(cards::DENY) => ApprovalDecision::Deny {
            reason: "denied in Teams".into(),
        },
        _ => return Err("unknown choice".into()),
    };
    let oid = activity["from"]["aadObjectId"]
        .as_str()
        .ok_or("Teams sent no Azure AD object id")?;
    let approver = runtime
        .upn_of_object(oid)
        .await
        .map_err(|e| e.to_string())?;
    let (summary, follow_up) = runtime
        .decide_approval(ApprovalId(id), &approver, decision)
        .await
        .map_err(|e| e.to_string())?;
    let place = teams
        .places
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .get(&follow_up.conversation_id)
        .cloned();
    if let Some(incoming) = place {
        deliver(teams, &incoming, &follow_up).await;
    }
    Ok(format!("Decided by {approver}: {summary}"))
}
