//! Slack end to end, against the Slack Web API simulator: signed Events API requests (the real
//! payload shapes), forged, stale and replayed ones refused, retries dropped, people mapped
//! through `users.info`, and approvals decided with buttons by someone policy lets approve.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use hmac::{Hmac, KeyInit as _, Mac as _};
use serde_json::{Value, json};
use steward_connectors::slack::SlackClient;
use steward_server::SlackChannel;
use steward_sim::slack::{RunningSlack, SlackMessage, SlackUser};
use tower::ServiceExt as _;

use super::support::{Harness, upn};

const SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
const TOKEN: &str = "xoxb-test-1";
const APPROVALS: &str = "C0APPROVALS";

fn person(id: &str, local: &str) -> SlackUser {
    SlackUser {
        id: id.into(),
        email: Some(upn(local)),
        is_bot: false,
        deleted: false,
    }
}

struct World {
    h: Harness,
    slack: RunningSlack,
    app: axum::Router,
}

async fn world() -> anyhow::Result<World> {
    let h = Harness::new().await?;
    let slack = RunningSlack::start(
        TOKEN,
        vec![
            person("W0ADELE", "adele"),
            person("W0TOM", "tom"),
            person("W0NESTOR", "nestor"),
            person("W0SAM", "sam"),
            SlackUser {
                id: "W0STRANGER".into(),
                email: Some("stranger@elsewhere.example".into()),
                is_bot: false,
                deleted: false,
            },
            SlackUser {
                id: "B0BOT".into(),
                email: None,
                is_bot: true,
                deleted: false,
            },
            SlackUser {
                id: "W0NOMAIL".into(),
                email: None,
                is_bot: false,
                deleted: false,
            },
        ],
    )
    .await?;
    let id = h.runtime().config.id.to_string();
    let channel = SlackChannel::new(
        SECRET,
        SlackClient::new(&slack.base_url, TOKEN),
        &id,
        Some(APPROVALS.into()),
    );
    let app = steward_server::app(steward_server::AppState {
        slack: Some(Arc::new(channel)),
        ..steward_server::AppState::single(h.tenant.runtime.clone())
    });
    Ok(World { h, slack, app })
}

fn sign(body: &str, ts: i64) -> anyhow::Result<String> {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes())?;
    mac.update(format!("v0:{ts}:{body}").as_bytes());
    Ok(format!("v0={}", hex::encode(mac.finalize().into_bytes())))
}

impl World {
    async fn send(
        &self,
        path: &str,
        content_type: &str,
        body: String,
        signature: Option<String>,
        ts: i64,
        retry: Option<u32>,
    ) -> anyhow::Result<(StatusCode, Value)> {
        let mut request = Request::post(path)
            .header("content-type", content_type)
            .header("x-slack-request-timestamp", ts.to_string());
        if let Some(s) = signature {
            request = request.header("x-slack-signature", s);
        }
        if let Some(n) = retry {
            request = request
                .header("x-slack-retry-num", n.to_string())
                .header("x-slack-retry-reason", "http_timeout");
        }
        let response = self
            .app
            .clone()
            .oneshot(request.body(Body::from(body))?)
            .await?;
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await?;
        Ok((
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        ))
    }

    /// A correctly signed Events API request, now.
    async fn event(
        &self,
        payload: &Value,
        retry: Option<u32>,
    ) -> anyhow::Result<(StatusCode, Value)> {
        let body = payload.to_string();
        let now = chrono::Utc::now().timestamp();
        self.send(
            "/channels/slack/events",
            "application/json",
            body.clone(),
            Some(sign(&body, now)?),
            now,
            retry,
        )
        .await
    }

    /// A button press, as Slack sends it (form-encoded `payload`).
    async fn press(
        &self,
        user: &str,
        action_id: &str,
        card: &SlackMessage,
    ) -> anyhow::Result<StatusCode> {
        let approval = card.blocks[1]["elements"]
            .as_array()
            .context("buttons")?
            .iter()
            .find(|b| b["action_id"] == action_id)
            .context("button")?["value"]
            .clone();
        let mut payload: Value =
            serde_json::from_str(&reference("interactive-block_actions-button.json")?)?;
        payload["user"]["id"] = json!(user);
        payload["container"] = json!({"type": "message", "message_ts": card.ts, "channel_id": card.channel, "is_ephemeral": false});
        payload["channel"]["id"] = json!(card.channel);
        payload["actions"][0]["action_id"] = json!(action_id);
        payload["actions"][0]["value"] = approval;
        let body: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("payload", &payload.to_string())
            .finish();
        let now = chrono::Utc::now().timestamp();
        let (status, _) = self
            .send(
                "/channels/slack/interactions",
                "application/x-www-form-urlencoded",
                body.clone(),
                Some(sign(&body, now)?),
                now,
                None,
            )
            .await?;
        Ok(status)
    }

    /// Waits (up to ten seconds) until the simulator holds `n` messages.
    async fn messages(&self, n: usize) -> anyhow::Result<Vec<SlackMessage>> {
        for _ in 0..200 {
            let m = self.slack.messages();
            if m.len() >= n {
                return Ok(m);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        anyhow::bail!(
            "only {} Slack message(s) after 10 s: {:?}",
            self.slack.messages().len(),
            self.slack.messages()
        )
    }
}

/// A captured payload from `shared/reference/payloads/slack/`.
fn reference(file: &str) -> anyhow::Result<String> {
    super::support::reference_text(&format!("payloads/slack/{file}"))
}

/// The captured direct-message event, from `user` saying `text`.
fn dm(event_id: &str, user: &str, text: &str) -> anyhow::Result<Value> {
    let mut p: Value = serde_json::from_str(&reference("events-event_callback-message_im.json")?)?;
    p["event_id"] = json!(event_id);
    p["event"]["user"] = json!(user);
    p["event"]["text"] = json!(text);
    p["event"]["channel"] = json!(format!("D0{user}"));
    p["event"]
        .as_object_mut()
        .context("event")?
        .remove("thread_ts");
    Ok(p)
}

#[tokio::test]
async fn only_signed_fresh_requests_are_read() -> anyhow::Result<()> {
    let w = world().await?;
    let body = reference("events-url_verification.json")?;
    let now = chrono::Utc::now().timestamp();
    let (status, answer) = w
        .send(
            "/channels/slack/events",
            "application/json",
            body.clone(),
            Some(sign(&body, now)?),
            now,
            None,
        )
        .await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        answer["challenge"],
        "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
    );

    // Forged (another secret's signature), stale (six minutes old, correctly signed), unsigned.
    let forged = format!("v0={}", "0".repeat(64));
    assert_eq!(
        w.send(
            "/channels/slack/events",
            "application/json",
            body.clone(),
            Some(forged),
            now,
            None
        )
        .await?
        .0,
        StatusCode::UNAUTHORIZED
    );
    let old = now - 360;
    assert_eq!(
        w.send(
            "/channels/slack/events",
            "application/json",
            body.clone(),
            Some(sign(&body, old)?),
            old,
            None
        )
        .await?
        .0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        w.send(
            "/channels/slack/events",
            "application/json",
            body.clone(),
            None,
            now,
            None
        )
        .await?
        .0,
        StatusCode::UNAUTHORIZED
    );
    // A body changed after signing.
    let tampered = body.replace("url_verification", "event_callback");
    assert_eq!(
        w.send(
            "/channels/slack/events",
            "application/json",
            tampered,
            Some(sign(&body, now)?),
            now,
            None
        )
        .await?
        .0,
        StatusCode::UNAUTHORIZED
    );
    // Signed but not JSON; far too large.
    let junk = "{not json".to_owned();
    assert_eq!(
        w.send(
            "/channels/slack/events",
            "application/json",
            junk.clone(),
            Some(sign(&junk, now)?),
            now,
            None
        )
        .await?
        .0,
        StatusCode::BAD_REQUEST
    );
    let huge = format!(
        "{{\"type\":\"event_callback\",\"pad\":\"{}\"}}",
        "x".repeat(70_000)
    );
    assert_eq!(
        w.send(
            "/channels/slack/events",
            "application/json",
            huge.clone(),
            Some(sign(&huge, now)?),
            now,
            None
        )
        .await?
        .0,
        StatusCode::PAYLOAD_TOO_LARGE
    );
    assert!(w.slack.messages().is_empty(), "nothing was said");
    Ok(())
}

#[tokio::test]
async fn a_direct_message_is_answered_once_even_when_slack_retries() -> anyhow::Result<()> {
    let w = world().await?;
    let event = dm(
        "Ev0ADELE1",
        "W0ADELE",
        "I forgot my password and now I'm locked out",
    )?;
    let (status, _) = w.event(&event, None).await?;
    assert_eq!(status, StatusCode::OK);
    // Slack retries (it did not see our 200 in time): acknowledged, dropped.
    assert_eq!(w.event(&event, Some(1)).await?.0, StatusCode::OK);
    let messages = w.messages(1).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        w.slack.messages().len(),
        1,
        "one answer: {:?}",
        w.slack.messages()
    );
    let reply = &messages[0];
    assert_eq!(reply.channel, "D0W0ADELE");
    assert!(reply.text.contains("Temporary password"), "{}", reply.text);
    assert_eq!(reply.only_for, None, "a direct message is already private");
    assert_eq!(
        w.h.try_sign_in("adele", "Demo-Adele-2026!").await?,
        Err(50126),
        "the reset happened"
    );
    Ok(())
}

#[tokio::test]
async fn someone_who_cannot_be_established_gets_a_clear_answer_and_nothing_is_done()
-> anyhow::Result<()> {
    let w = world().await?;
    let before = w.h.tenant.sim.state.snapshot().await;
    for (i, user) in ["B0BOT", "W0NOMAIL", "W0STRANGER", "W0NOBODY"]
        .iter()
        .enumerate()
    {
        let (status, _) = w
            .event(
                &dm(
                    &format!("Ev0X{i}"),
                    user,
                    "reset the password of grace please",
                )?,
                None,
            )
            .await?;
        assert_eq!(status, StatusCode::OK);
    }
    let messages = w.messages(4).await?;
    for m in &messages {
        assert!(m.text.contains("haven't done anything"), "{}", m.text);
    }
    assert!(
        messages
            .iter()
            .any(|m| m.text.contains("doesn't match anyone"))
    );
    assert!(messages.iter().any(|m| m.text.contains("bot")));
    assert_eq!(before, w.h.tenant.sim.state.snapshot().await);
    Ok(())
}

#[tokio::test]
async fn a_channel_mention_is_answered_to_the_asker_alone() -> anyhow::Result<()> {
    let w = world().await?;
    let mut event: Value =
        serde_json::from_str(&reference("events-event_callback-app_mention.json")?)?;
    event["event"]["user"] = json!("W0ADELE");
    event["event"]["text"] = json!("<@W111> locked out again, cant log in");
    let (status, _) = w.event(&event, None).await?;
    assert_eq!(status, StatusCode::OK);
    let messages = w.messages(1).await?;
    assert_eq!(messages[0].channel, "C111");
    assert_eq!(
        messages[0].only_for.as_deref(),
        Some("W0ADELE"),
        "a temporary password never goes to a channel"
    );
    assert_eq!(messages[0].thread_ts.as_deref(), Some("1595926230.009600"));
    Ok(())
}

#[tokio::test]
async fn an_approval_is_decided_with_a_button_by_someone_policy_lets_approve() -> anyhow::Result<()>
{
    let w = world().await?;
    let (status, _) = w
        .event(&dm("Ev0TOM1", "W0TOM", "my account is disabled")?, None)
        .await?;
    assert_eq!(status, StatusCode::OK);
    let messages = w.messages(2).await?;
    let card = messages
        .iter()
        .find(|m| m.channel == APPROVALS)
        .context("an approval card")?
        .clone();
    let buttons: Vec<&str> = card.blocks[1]["elements"]
        .as_array()
        .context("buttons")?
        .iter()
        .filter_map(|b| b["action_id"].as_str())
        .collect();
    assert_eq!(
        buttons,
        [
            "steward_approve_once",
            "steward_approve_always",
            "steward_deny"
        ]
    );
    assert!(card.text.contains("entra.user.enable"), "{}", card.text);

    // Sam may not approve: nothing happens, and the card says why.
    assert_eq!(
        w.press("W0SAM", "steward_approve_once", &card).await?,
        StatusCode::OK
    );
    let after = w.messages(3).await?;
    assert!(
        after
            .iter()
            .any(|m| m.thread_ts.as_deref() == Some(card.ts.as_str())
                && m.text.starts_with("Not decided")),
        "{after:?}"
    );
    assert_eq!(w.h.user("tom").await?["accountEnabled"], false);

    // Nestor, an IT admin, may.
    assert_eq!(
        w.press("W0NESTOR", "steward_approve_once", &card).await?,
        StatusCode::OK
    );
    let after = w.messages(4).await?;
    assert_eq!(w.h.user("tom").await?["accountEnabled"], true);
    let updated = after.iter().find(|m| m.ts == card.ts).context("the card")?;
    assert_eq!(updated.updates, 1);
    assert!(updated.text.contains(&upn("nestor")), "{}", updated.text);
    assert!(
        after
            .iter()
            .any(|m| m.channel == "D0W0TOM" && m.ts != messages[0].ts),
        "Tom hears the result: {after:?}"
    );
    Ok(())
}

/// The event ids seen are kept in the store: a retry that reaches another replica (another
/// channel over the same store) is dropped too.
#[tokio::test]
async fn a_retry_reaching_another_replica_is_dropped() -> anyhow::Result<()> {
    let mut w = world().await?;
    let event = dm(
        "Ev0REPLICA",
        "W0ADELE",
        "I forgot my password and now I'm locked out",
    )?;
    assert_eq!(w.event(&event, None).await?.0, StatusCode::OK);
    w.messages(1).await?;
    let id = w.h.runtime().config.id.to_string();
    let other = SlackChannel::new(
        SECRET,
        SlackClient::new(&w.slack.base_url, TOKEN),
        &id,
        None,
    );
    w.app = steward_server::app(steward_server::AppState {
        slack: Some(Arc::new(other)),
        ..steward_server::AppState::single(w.h.tenant.runtime.clone())
    });
    assert_eq!(w.event(&event, Some(1)).await?.0, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(
        w.slack.messages().len(),
        1,
        "answered once: {:?}",
        w.slack.messages()
    );
    Ok(())
}
