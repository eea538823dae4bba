//! The REST API in-process (`app(state)` driven with `oneshot`, no socket).

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};
use tower::ServiceExt as _;

use super::support::{Harness, upn};

fn app(h: &Harness) -> axum::Router {
    steward_server::app(steward_server::AppState {
        demo_people: Arc::new(h.tenant.people.clone()),
        ..steward_server::AppState::single(h.tenant.runtime.clone())
    })
}

async fn post(h: &Harness, path: &str, body: Body) -> anyhow::Result<(StatusCode, Value)> {
    let request = Request::post(path)
        .header("content-type", "application/json")
        .body(body)?;
    let response = app(h).oneshot(request).await?;
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await?;
    Ok((status, serde_json::from_slice(&bytes)?))
}

#[tokio::test]
async fn ask_answers_a_report_and_bad_input_a_clear_error() -> anyhow::Result<()> {
    let h = Harness::new().await?;
    let (status, report) = post(
        &h,
        "/api/v1/ask",
        Body::from(json!({"as": upn("adele"), "message": "locked out"}).to_string()),
    )
    .await?;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["status"], "resolved");
    assert_eq!(report["channel"], "web");

    let (status, body) = post(&h, "/api/v1/ask", Body::from("{not json")).await?;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], "badRequest");

    let (status, body) = post(
        &h,
        "/api/v1/ask",
        Body::from(json!({"as": "nobody@larkspur.example", "message": "hi"}).to_string()),
    )
    .await?;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("nobody@larkspur.example")
    );

    let (status, body) = post(
        &h,
        "/api/v1/ask",
        Body::from(json!({"as": upn("adele"), "message": "   "}).to_string()),
    )
    .await?;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["code"], "badRequest");

    let (status, body) = post(
        &h,
        "/api/v1/ask",
        Body::from(json!({"as": upn("adele"), "message": "hi", "tenant": "other"}).to_string()),
    )
    .await?;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    Ok(())
}

#[tokio::test]
async fn nobody_continues_someone_elses_conversation() -> anyhow::Result<()> {
    let h = Harness::new().await?;
    let (_, first) = post(
        &h,
        "/api/v1/ask",
        Body::from(json!({"as": upn("nestor"), "message": "add Maria to Finance"}).to_string()),
    )
    .await?;
    assert_eq!(first["status"], "awaitingRequester");
    let body = json!({"as": upn("adele"), "message": "the one in Sales", "conversationId": first["conversationId"]});
    let (status, answer) = post(&h, "/api/v1/ask", Body::from(body.to_string())).await?;
    assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
    assert!(
        !h.member_upns("Finance")
            .await?
            .contains(&upn("maria.lopez"))
    );
    Ok(())
}

#[tokio::test]
async fn an_approval_is_decided_over_the_api_once() -> anyhow::Result<()> {
    let h = Harness::new().await?;
    let (_, report) = post(
        &h,
        "/api/v1/ask",
        Body::from(json!({"as": upn("tom"), "message": "my account is disabled"}).to_string()),
    )
    .await?;
    let id = report["actions"][0]["approvalId"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let (status, body) = post(
        &h,
        &format!("/api/v1/approvals/{id}/deny"),
        Body::from(json!({"as": upn("nestor")}).to_string()),
    )
    .await?;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a denial needs a reason: {body}"
    );
    // Ask for more information first: an empty question is a bad request, a real one reaches
    // the requester, and the request can still be decided.
    let (status, body) = post(
        &h,
        &format!("/api/v1/approvals/{id}/ask-info"),
        Body::from(json!({"as": upn("nestor"), "question": "  "}).to_string()),
    )
    .await?;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) = post(
        &h,
        &format!("/api/v1/approvals/{id}/ask-info"),
        Body::from(json!({"as": upn("nestor"), "question": "Are you back?"}).to_string()),
    )
    .await?;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["followUp"]["status"], "awaitingRequester");
    let (status, body) = post(
        &h,
        &format!("/api/v1/approvals/{id}/approve"),
        Body::from(json!({"as": upn("nestor")}).to_string()),
    )
    .await?;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["followUp"]["status"], "resolved");
    let (status, _) = post(
        &h,
        &format!("/api/v1/approvals/{id}/approve"),
        Body::from(json!({"as": upn("grace")}).to_string()),
    )
    .await?;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _) = post(
        &h,
        "/api/v1/approvals/not-an-id/approve",
        Body::from(json!({"as": upn("grace")}).to_string()),
    )
    .await?;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(h.user("tom").await?["accountEnabled"], true);
    Ok(())
}

async fn get(h: &Harness, path: &str) -> anyhow::Result<(StatusCode, Value)> {
    let response = app(h)
        .oneshot(Request::get(path).body(Body::empty())?)
        .await?;
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await?;
    Ok((status, serde_json::from_slice(&bytes)?))
}

#[tokio::test]
async fn approve_always_list_and_revoke_over_the_api() -> anyhow::Result<()> {
    let h = Harness::new().await?;
    let (_, report) = post(
        &h,
        "/api/v1/ask",
        Body::from(json!({"as": upn("tom"), "message": "my account is disabled"}).to_string()),
    )
    .await?;
    let id = report["actions"][0]["approvalId"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let bad = json!({"as": upn("nestor"), "always": {"scope": "department", "maxUses": 0, "expiresInHours": 1}});
    let (status, _) = post(
        &h,
        &format!("/api/v1/approvals/{id}/approve"),
        Body::from(bad.to_string()),
    )
    .await?;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let always = json!({"as": upn("nestor"), "always": {"scope": "department", "maxUses": 3, "expiresInHours": 24}});
    let (status, body) = post(
        &h,
        &format!("/api/v1/approvals/{id}/approve"),
        Body::from(always.to_string()),
    )
    .await?;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, listed) = get(&h, "/api/v1/standing").await?;
    let standing = &listed["standingApprovals"][0];
    assert_eq!(standing["action"], "entra.user.enable");
    assert_eq!(standing["maxUses"], 3);
    let link = standing["id"].as_str().unwrap_or_default().to_owned();
    let (status, _) = post(
        &h,
        &format!("/api/v1/standing/{link}/revoke"),
        Body::from(json!({"as": upn("adele")}).to_string()),
    )
    .await?;
    assert_eq!(status, StatusCode::FORBIDDEN, "an employee cannot revoke");
    let (status, _) = post(
        &h,
        &format!("/api/v1/standing/{link}/revoke"),
        Body::from(json!({"as": upn("nestor")}).to_string()),
    )
    .await?;
    assert_eq!(status, StatusCode::OK);
    let (_, listed) = get(&h, "/api/v1/standing").await?;
    assert!(listed["standingApprovals"][0]["revokedAt"].is_string());
    Ok(())
}

#[tokio::test]
async fn a_bulk_request_is_approved_for_some_targets_over_the_api() -> anyhow::Result<()> {
    let h = Harness::new().await?;
    let (_, report) = post(
        &h,
        "/api/v1/ask",
        Body::from(
            json!({"as": upn("nestor"), "message": "give the whole Finance team access to VPN Users"})
                .to_string(),
        ),
    )
    .await?;
    let id = report["actions"][0]["approvalId"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let (status, _) = post(
        &h,
        &format!("/api/v1/approvals/{id}/approve"),
        Body::from(json!({"as": upn("hank"), "only": []}).to_string()),
    )
    .await?;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, body) = post(
        &h,
        &format!("/api/v1/approvals/{id}/approve"),
        Body::from(json!({"as": upn("hank"), "only": [upn("daniel")]}).to_string()),
    )
    .await?;
    assert_eq!(status, StatusCode::OK, "{body}");
    let members = h.member_upns("VPN Users").await?;
    assert!(members.contains(&upn("daniel")));
    assert!(!members.contains(&upn("marcus")));
    Ok(())
}

#[tokio::test]
async fn the_escalation_queue_is_served_with_each_bundle() -> anyhow::Result<()> {
    let h = Harness::new().await?;
    let (status, report) = post(
        &h,
        "/api/v1/ask",
        Body::from(
            json!({"as": upn("leo"), "message": "the printer on floor 3 is jammed"}).to_string(),
        ),
    )
    .await?;
    assert_eq!(status, StatusCode::OK, "{report}");
    let id = report["escalation"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(!id.is_empty(), "{report}");
    let get = |path: String| {
        let app = app(&h);
        async move {
            let response = app.oneshot(Request::get(path).body(Body::empty())?).await?;
            let status = response.status();
            let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await?;
            anyhow::Ok((status, serde_json::from_slice::<Value>(&bytes)?))
        }
    };
    let (status, list) = get("/api/v1/escalations".into()).await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["escalations"][0]["id"], id.as_str());
    let (status, one) = get(format!("/api/v1/escalations/{id}")).await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        one["bundle"]["transcript"][0],
        "the printer on floor 3 is jammed"
    );
    assert_eq!(one["bundle"]["findings"][0]["code"], "request.unrecognised");
    let (status, _) = get("/api/v1/escalations/nope".into()).await?;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = get("/api/v1/escalations?status=closed-ish".into()).await?;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    Ok(())
}

/// Each endpoint group has its own bucket: a flood on the API gets 429 with `Retry-After`, and
/// neither the health check nor the channels are starved by it.
#[tokio::test]
async fn a_flood_is_refused_with_429_per_endpoint_group() -> anyhow::Result<()> {
    let h = Harness::new().await?;
    let router = steward_server::app_with_limits(
        steward_server::AppState::single(h.tenant.runtime.clone()),
        steward_server::Limits {
            api_per_second: 1,
            slack_per_second: 1,
            teams_per_second: 1,
            burst: 2,
        },
    );
    let get = |path: &str| Request::get(path).body(Body::empty());
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(
            router
                .clone()
                .oneshot(get("/api/v1/approvals")?)
                .await?
                .status(),
        );
    }
    assert_eq!(&statuses[..2], [StatusCode::OK, StatusCode::OK]);
    let refused = router.clone().oneshot(get("/api/v1/approvals")?).await?;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        refused
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("1")
    );
    assert_eq!(
        router.clone().oneshot(get("/healthz")?).await?.status(),
        StatusCode::OK
    );
    // Slack has its own bucket (not configured here: 404, not 429).
    let slack = router
        .clone()
        .oneshot(Request::post("/channels/slack/events").body(Body::from("{}"))?)
        .await?;
    assert_eq!(slack.status(), StatusCode::NOT_FOUND);
    Ok(())
}
