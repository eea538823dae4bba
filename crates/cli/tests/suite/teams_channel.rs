//! Microsoft Teams end to end, against the Bot Framework simulator (its own key set, token
//! endpoint and Bot Connector) with the real recorded activity shapes: tokens that are invalid,
//! expired, wrongly addressed, signed by an unknown key or for another service are refused; a
//! person is found by their AAD object id; a channel request is answered privately; approvals
//! are decided with Adaptive Card actions by someone policy lets approve.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};
use steward_connectors::botframework::BotConnector;
use steward_server::TeamsChannel;
use steward_sim::botframework::{RunningBotFramework, SentActivity};
use tower::ServiceExt as _;

use super::support::Harness;

const APP_ID: &str = "eac5e5c6-ab14-4f50-80cb-49213fe51b1a";
const PASSWORD: &str = "bot-password-1";
const ADELE: &str = "944e5981-6f84-59bf-84e3-44cbdd80426a";
const TOM: &str = "805a1618-59d3-57b7-841f-77b2130732bd";
const NESTOR: &str = "817d453f-493c-550d-ba9d-d841725608e0";
const SAM: &str = "9e15fe83-cd94-5c04-b2ce-865b7969f5c7";

struct World {
    h: Harness,
    bf: RunningBotFramework,
    app: axum::Router,
}

async fn world() -> anyhow::Result<World> {
    let h = Harness::new().await?;
    let bf = RunningBotFramework::start(APP_ID, PASSWORD).await?;
    let id = h.runtime().config.id.to_string();
    let teams = TeamsChannel::new(
        APP_ID,
        &bf.metadata_url(),
        BotConnector::new(APP_ID, PASSWORD, &bf.token_url()),
        &id,
    );
    let app = steward_server::app(steward_server::AppState {
        teams: Some(Arc::new(teams)),
        ..steward_server::AppState::single(h.tenant.runtime.clone())
    });
    Ok(World { h, bf, app })
}

/// A recorded activity from `shared/reference/payloads/botframework/`, its body.
fn recorded(file: &str) -> anyhow::Result<Value> {
    let text = super::support::reference_text(&format!("payloads/botframework/{file}"))?;
    let v: Value = serde_json::from_str(&text)?;
    v.get("body").cloned().context("no body")
}

impl World {
    fn service_url(&self) -> String {
        format!("{}/", self.bf.base_url)
    }

    /// The recorded channel mention, from `oid`, saying `text`, in a personal chat or a channel.
    fn message(&self, oid: &str, text: &str, personal: bool) -> anyhow::Result<Value> {
        let mut a = recorded("teams-incoming-message-channel-mention.json")?;
        a["serviceUrl"] = json!(self.service_url());
        a["from"]["aadObjectId"] = json!(oid);
        a["recipient"]["id"] = json!(format!("28:{APP_ID}"));
        a["text"] = json!(format!("<at>Steward</at> {text}"));
        a["id"] = json!(format!(
            "{}",
            uuid::Uuid::new_v4().as_u128() % 10_000_000_000_000
        ));
        if personal {
            a["conversation"] = json!({"conversationType": "personal", "tenantId": "72f988bf-86f1-41af-91ab-2d7cd011db47", "id": format!("a:personal-{oid}")});
        }
        Ok(a)
    }

    async fn post(
        &self,
        activity: &Value,
        token: Option<String>,
    ) -> anyhow::Result<(StatusCode, Value)> {
        let mut request =
            Request::post("/channels/teams/messages").header("content-type", "application/json");
        if let Some(t) = token {
            request = request.header("authorization", format!("Bearer {t}"));
        }
        let response = self
            .app
            .clone()
            .oneshot(request.body(Body::from(activity.to_string()))?)
            .await?;
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await?;
        Ok((
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        ))
    }

    fn good_token(&self) -> String {
        self.bf.token(APP_ID, &self.service_url(), -10, 3600, None)
    }

    async fn sent(&self, n: usize) -> anyhow::Result<Vec<SentActivity>> {
        for _ in 0..200 {
            let s = self.bf.activities();
            if s.len() >= n {
                return Ok(s);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        anyhow::bail!(
            "only {} activities sent: {:?}",
            self.bf.activities().len(),
            self.bf.activities()
        )
    }
}

#[tokio::test]
async fn only_valid_tokens_for_this_bot_and_service_are_accepted() -> anyhow::Result<()> {
    let w = world().await?;
    let a = w.message(ADELE, "I forgot my password and now I'm locked out", true)?;
    let service = w.service_url();
    let cases = [
        ("none", None),
        ("not a JWT", Some("abc.def".to_owned())),
        (
            "expired",
            Some(w.bf.token(APP_ID, &service, -7200, -3600, None)),
        ),
        (
            "not yet valid",
            Some(w.bf.token(APP_ID, &service, 3600, 7200, None)),
        ),
        (
            "another bot",
            Some(w.bf.token(
                "00000000-0000-0000-0000-000000000000",
                &service,
                -10,
                3600,
                None,
            )),
        ),
        (
            "another service",
            Some(w.bf.token(
                APP_ID,
                "https://smba.trafficmanager.net/amer/",
                -10,
                3600,
                None,
            )),
        ),
        (
            "unknown key",
            Some(w.bf.token(APP_ID, &service, -10, 3600, Some("not-a-published-key"))),
        ),
    ];
    for (label, token) in cases {
        let (status, body) = w.post(&a, token).await?;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{label}: {body}");
    }
    // A valid token whose signature was then altered.
    let good = w.good_token();
    let (signed, signature) = good.rsplit_once('.').context("a JWT")?;
    let mut bytes = signature.as_bytes().to_vec();
    bytes[10] = if bytes[10] == b'Q' { b'R' } else { b'Q' };
    let forged = format!("{signed}.{}", String::from_utf8(bytes)?);
    assert_eq!(w.post(&a, Some(forged)).await?.0, StatusCode::UNAUTHORIZED);
    // A body that is not an activity, with a good token.
    let response = w
        .app
        .clone()
        .oneshot(
            Request::post("/channels/teams/messages")
                .header("authorization", format!("Bearer {good}"))
                .body(Body::from("{nope"))?,
        )
        .await?;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(w.bf.activities().is_empty(), "nothing was answered");
    assert_eq!(
        w.h.try_sign_in("adele", "Demo-Adele-2026!").await?,
        Err(50053),
        "nothing was done"
    );
    Ok(())
}

#[tokio::test]
async fn a_personal_chat_is_answered_through_the_bot_connector() -> anyhow::Result<()> {
    let w = world().await?;
    let a = w.message(ADELE, "I forgot my password and now I'm locked out", true)?;
    let (status, _) = w.post(&a, Some(w.good_token())).await?;
    assert_eq!(status, StatusCode::OK);
    let sent = w.sent(1).await?;
    let reply = &sent[0];
    assert_eq!(reply.how, "reply");
    assert_eq!(
        reply.conversation,
        a["conversation"]["id"].as_str().unwrap_or_default()
    );
    assert_eq!(reply.activity.as_deref(), a["id"].as_str());
    assert_eq!(reply.body["type"], "message");
    assert_eq!(reply.body["recipient"]["aadObjectId"], ADELE);
    assert!(
        reply.body["text"]
            .as_str()
            .unwrap_or_default()
            .contains("Temporary password"),
        "{}",
        reply.body
    );
    assert_eq!(
        w.h.try_sign_in("adele", "Demo-Adele-2026!").await?,
        Err(50126),
        "the reset happened"
    );
    Ok(())
}

#[tokio::test]
async fn a_channel_mention_is_answered_privately_and_strangers_get_nothing_done()
-> anyhow::Result<()> {
    let w = world().await?;
    let a = w.message(ADELE, "locked out again, cant log in", false)?;
    assert_eq!(w.post(&a, Some(w.good_token())).await?.0, StatusCode::OK);
    let sent = w.sent(3).await?;
    let create = sent
        .iter()
        .find(|s| s.how == "create")
        .context("a personal chat is opened")?;
    let private = sent
        .iter()
        .find(|s| s.how == "send")
        .context("the answer goes there")?;
    assert_eq!(private.conversation, create.id);
    assert!(
        private.body["text"]
            .as_str()
            .unwrap_or_default()
            .contains("Temporary password")
    );
    let public = sent
        .iter()
        .find(|s| s.how == "reply")
        .context("the channel is told")?;
    assert!(
        !public.body["text"]
            .as_str()
            .unwrap_or_default()
            .contains("password"),
        "{}",
        public.body
    );

    // Someone not in the directory.
    let before = w.h.tenant.sim.state.snapshot().await;
    let stranger = w.message(
        "11111111-2222-3333-4444-555555555555",
        "reset grace's password",
        true,
    )?;
    assert_eq!(
        w.post(&stranger, Some(w.good_token())).await?.0,
        StatusCode::OK
    );
    let sent = w.sent(4).await?;
    assert!(
        sent[3].body["text"]
            .as_str()
            .unwrap_or_default()
            .contains("haven't done anything")
    );
    assert_eq!(before, w.h.tenant.sim.state.snapshot().await);
    Ok(())
}

#[tokio::test]
async fn approvals_are_decided_with_adaptive_card_actions() -> anyhow::Result<()> {
    let w = world().await?;
    let a = w.message(TOM, "my account is disabled", true)?;
    assert_eq!(w.post(&a, Some(w.good_token())).await?.0, StatusCode::OK);
    let sent = w.sent(1).await?;
    let card = &sent[0].body["attachments"][0];
    assert_eq!(
        card["contentType"],
        "application/vnd.microsoft.card.adaptive"
    );
    let actions = card["content"]["actions"].as_array().context("actions")?;
    assert_eq!(actions.len(), 3);
    assert!(
        actions
            .iter()
            .all(|x| x["type"] == "Action.Execute" && x["fallback"]["type"] == "Action.Submit")
    );
    let approve = actions[0]["data"].clone();

    // Action.Execute by Sam, who may not approve: answered in place, nothing done.
    let mut invoke = recorded("teams-incoming-invoke-action-submit-msteams-invoke.json")?;
    invoke["type"] = json!("invoke");
    invoke["name"] = json!("adaptiveCard/action");
    invoke["serviceUrl"] = json!(w.service_url());
    invoke["from"]["aadObjectId"] = json!(SAM);
    invoke["value"] = json!({"action": {"type": "Action.Execute", "verb": "approve_once", "data": approve}, "trigger": "manual"});
    let (status, answer) = w.post(&invoke, Some(w.good_token())).await?;
    assert_eq!(status, StatusCode::OK);
    assert!(
        answer["value"].to_string().contains("Not decided"),
        "{answer}"
    );
    assert_eq!(w.h.user("tom").await?["accountEnabled"], false);

    // Action.Submit (the fallback) by Nestor, an IT admin: the card is updated, Tom hears.
    let mut submit = recorded("teams-incoming-message-action-submit-value.json")?;
    submit["serviceUrl"] = json!(w.service_url());
    submit["from"]["aadObjectId"] = json!(NESTOR);
    submit["value"] = approve;
    submit["replyToId"] = json!(sent[0].id);
    submit["conversation"] = a["conversation"].clone();
    assert_eq!(
        w.post(&submit, Some(w.good_token())).await?.0,
        StatusCode::OK
    );
    let sent = w.sent(3).await?;
    assert_eq!(w.h.user("tom").await?["accountEnabled"], true);
    let update = sent
        .iter()
        .find(|s| s.how == "update")
        .context("the card is updated")?;
    assert_eq!(update.activity.as_deref(), Some(sent[0].id.as_str()));
    assert!(update.body.to_string().contains("nestor@larkspur.example"));
    assert!(
        sent.iter().filter(|s| s.how == "reply").count() >= 2,
        "Tom hears the result"
    );
    Ok(())
}
