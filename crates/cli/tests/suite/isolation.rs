//! Two tenants in one Steward (one database, one REST API): nothing of one is reachable from the
//! other, by listing, by deciding, or by guessing its ids.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};
use steward_cli::demo::start_tenant;
use steward_connectors::msgraph::RetryPolicy;
use tower::ServiceExt as _;

use super::support::upn;
use super::tenants::small_tenant;

async fn call(
    app: &axum::Router,
    method: &str,
    path: &str,
    body: Value,
) -> anyhow::Result<(StatusCode, Value)> {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json")
        .body(if method == "GET" {
            Body::empty()
        } else {
            Body::from(body.to_string())
        })?;
    let response = app.clone().oneshot(request).await?;
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await?;
    Ok((
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    ))
}

#[tokio::test]
async fn a_tenant_cannot_list_decide_revoke_or_continue_anything_of_another() -> anyhow::Result<()>
{
    let dir = tempfile::tempdir()?;
    let store = steward_store::Store::open(&dir.path().join("steward.db")).await?;
    let retry = RetryPolicy {
        max_attempts: 3,
        max_wait: Duration::from_secs(1),
        default_wait: Duration::from_millis(100),
    };
    let larkspur = start_tenant(steward_sim::demo_seed()?, &store, dir.path(), retry).await?;
    let nordlicht = start_tenant(small_tenant(), &store, dir.path(), retry).await?;
    let (l_id, n_id) = (
        larkspur.runtime.config.id.to_string(),
        nordlicht.runtime.config.id.to_string(),
    );
    assert_ne!(l_id, n_id);
    let app = steward_server::app(steward_server::AppState {
        tenants: Arc::new(
            [
                (l_id.clone(), larkspur.runtime.clone()),
                (n_id.clone(), nordlicht.runtime.clone()),
            ]
            .into_iter()
            .collect(),
        ),
        default_tenant: l_id.clone(),
        demo_people: Arc::new(Vec::new()),
        work: None,
        slack: None,
        teams: None,
        console: None,
    });

    // Larkspur: Tom's request waits for approval.
    let (status, report) = call(
        &app,
        "POST",
        "/api/v1/ask",
        json!({"tenant": l_id, "as": upn("tom"), "message": "my account is disabled"}),
    )
    .await?;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["status"], "awaitingApproval", "{report}");
    let conversation = report["conversationId"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let (_, listed) = call(
        &app,
        "GET",
        &format!("/api/v1/approvals?tenant={l_id}"),
        Value::Null,
    )
    .await?;
    let approval = listed["approvals"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(!approval.is_empty(), "{listed}");

    // Nordlicht does not see it...
    let (status, theirs) = call(
        &app,
        "GET",
        &format!("/api/v1/approvals?tenant={n_id}&status=all"),
        Value::Null,
    )
    .await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(theirs["approvals"], json!([]), "{theirs}");
    // ...cannot decide it by its id, even as its own Global Administrator...
    for verb in ["approve", "deny"] {
        let (status, body) = call(
            &app,
            "POST",
            &format!("/api/v1/approvals/{approval}/{verb}"),
            json!({"tenant": n_id, "as": "admin@nordlicht.example", "reason": "guessing"}),
        )
        .await?;
        assert_eq!(status, StatusCode::NOT_FOUND, "{verb}: {body}");
    }
    let (status, _) = call(
        &app,
        "POST",
        &format!("/api/v1/approvals/{approval}/ask-info"),
        json!({"tenant": n_id, "as": "admin@nordlicht.example", "question": "who?"}),
    )
    .await?;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = call(
        &app,
        "POST",
        &format!("/api/v1/standing/{approval}/revoke"),
        json!({"tenant": n_id, "as": "admin@nordlicht.example"}),
    )
    .await?;
    // Nordlicht has no IT admins group, so its admin is refused before any lookup; either way
    // nothing of Larkspur's is touched or revealed.
    assert!(
        status == StatusCode::NOT_FOUND || status == StatusCode::FORBIDDEN,
        "{status}"
    );
    // ...and it is still pending in Larkspur, untouched.
    let (_, listed) = call(
        &app,
        "GET",
        &format!("/api/v1/approvals?tenant={l_id}"),
        Value::Null,
    )
    .await?;
    assert_eq!(listed["approvals"][0]["id"], approval.as_str());
    assert_eq!(listed["approvals"][0]["status"], "pending");

    // A Larkspur person is nobody in Nordlicht.
    let (status, _) = call(
        &app,
        "POST",
        "/api/v1/ask",
        json!({"tenant": n_id, "as": upn("tom"), "message": "my account is disabled"}),
    )
    .await?;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Continuing Larkspur's conversation from Nordlicht reaches nothing of it.
    let (status, body) = call(&app, "POST", "/api/v1/ask", json!({"tenant": n_id, "as": "petra.klein@nordlicht.example", "message": "any news?", "conversationId": conversation})).await?;
    assert!(
        status == StatusCode::NOT_FOUND
            || (status == StatusCode::OK && !body.to_string().contains("Tom")),
        "{status}: {body}"
    );

    // Each tenant's audit chain holds only its own records, and both verify.
    let (_, l_audit) = call(
        &app,
        "GET",
        &format!("/api/v1/audit/verify?tenant={l_id}"),
        Value::Null,
    )
    .await?;
    let (_, n_audit) = call(
        &app,
        "GET",
        &format!("/api/v1/audit/verify?tenant={n_id}"),
        Value::Null,
    )
    .await?;
    assert_eq!(l_audit["firstBreak"], Value::Null, "{l_audit}");
    assert_eq!(n_audit["firstBreak"], Value::Null, "{n_audit}");
    let l_records = larkspur.runtime.store.audit_records(None).await?;
    let n_records = nordlicht.runtime.store.audit_records(None).await?;
    assert!(l_records.iter().all(|r| r.entry.tenant == l_id));
    assert!(n_records.iter().all(|r| r.entry.tenant == n_id));
    assert!(
        n_records
            .iter()
            .all(|r| r.entry.conversation.as_deref() != Some(conversation.as_str()))
    );
    Ok(())
}
