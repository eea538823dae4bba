//! The web console's server side: sign-in through the (simulated) identity provider with the
//! authorization-code flow, PKCE, state and nonce; sessions in HttpOnly cookies; CSRF on every
//! change; the employee asks only as themselves; the admin views answer IT admins only; live
//! updates as server-sent events.

use std::sync::Arc;

use anyhow::Context as _;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};
use steward_server::{Console, OidcConfig};
use tower::ServiceExt as _;

use super::support::{Harness, upn};

const REDIRECT: &str = "http://127.0.0.1:9/console/callback";

pub(super) struct World {
    pub(super) h: Harness,
    pub(super) app: axum::Router,
    http: reqwest::Client,
}

/// The demo tenant's console, signing in through the simulator with `redirect_uri`.
pub(super) fn console_app(h: &Harness, redirect_uri: &str) -> anyhow::Result<axum::Router> {
    let seed = steward_sim::demo_seed()?;
    let sim = &h.tenant.sim;
    let oidc = OidcConfig {
        authorize_url: format!("{}/{}/oauth2/v2.0/authorize", sim.base_url, sim.tenant_id),
        token_url: sim.token_url(),
        client_id: steward_cli::demo::seed_client_id(&seed).to_owned(),
        redirect_uri: redirect_uri.into(),
        issuer: Some(format!(
            "https://login.microsoftonline.com/{}/v2.0",
            sim.tenant_id
        )),
    };
    let id = h.runtime().config.id.to_string();
    Ok(steward_server::app(steward_server::AppState {
        console: Some(Arc::new(Console::new(oidc, &id, false))),
        ..steward_server::AppState::single(h.tenant.runtime.clone())
    }))
}

pub(super) async fn world() -> anyhow::Result<World> {
    let h = Harness::new().await?;
    let app = console_app(&h, REDIRECT)?;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    Ok(World { h, app, http })
}

impl World {
    pub(super) async fn call(
        &self,
        method: &str,
        path: &str,
        cookie: Option<&str>,
        csrf: Option<&str>,
        body: Option<Value>,
    ) -> anyhow::Result<(StatusCode, axum::http::HeaderMap, Value)> {
        let mut r = Request::builder().method(method).uri(path);
        if let Some(c) = cookie {
            r = r.header("cookie", c);
        }
        if let Some(t) = csrf {
            r = r.header("x-csrf-token", t);
        }
        let request = match body {
            Some(b) => r
                .header("content-type", "application/json")
                .body(Body::from(b.to_string()))?,
            None => r.body(Body::empty())?,
        };
        let response = self.app.clone().oneshot(request).await?;
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 22).await?;
        Ok((
            status,
            headers,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        ))
    }

    /// Signs `local` in and reads `/console/api/me`: the session cookie, who the console says
    /// they are, and the session's CSRF token.
    pub(super) async fn session(
        &self,
        local: &str,
        password: &str,
    ) -> anyhow::Result<(String, Value, String)> {
        let cookie = self.sign_in(local, password).await?;
        let (status, _, me) = self
            .call("GET", "/console/api/me", Some(&cookie), None, None)
            .await?;
        anyhow::ensure!(status == StatusCode::OK, "me: {status} {me}");
        let csrf = me["csrf"].as_str().context("csrf")?.to_owned();
        Ok((cookie, me, csrf))
    }

    /// Signs `local` in through the identity provider's page; the session cookie.
    async fn sign_in(&self, local: &str, password: &str) -> anyhow::Result<String> {
        let (status, headers, _) = self.call("GET", "/console/login", None, None, None).await?;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let to = url::Url::parse(
            headers
                .get("location")
                .and_then(|v| v.to_str().ok())
                .context("location")?,
        )?;
        let params: Vec<(String, String)> = to.query_pairs().into_owned().collect();
        for wanted in ["state", "nonce", "code_challenge"] {
            assert!(
                params.iter().any(|(k, v)| k == wanted && v.len() >= 32),
                "{wanted} missing or short"
            );
        }
        assert!(
            params
                .iter()
                .any(|(k, v)| k == "code_challenge_method" && v == "S256")
        );
        let mut form = params.clone();
        form.push(("login".into(), upn(local)));
        form.push(("passwd".into(), password.into()));
        let mut page = to.clone();
        page.set_query(None);
        let answer = self.http.post(page).form(&form).send().await?;
        let back = url::Url::parse(
            answer
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .context("no redirect back")?,
        )?;
        let query = back.query().context("no query")?.to_owned();
        let (status, headers, _) = self
            .call(
                "GET",
                &format!("/console/callback?{query}"),
                None,
                None,
                None,
            )
            .await?;
        assert_eq!(status, StatusCode::SEE_OTHER, "{query}");
        let cookie = headers
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .context("no session cookie")?;
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
            "{cookie}"
        );
        Ok(cookie.split(';').next().unwrap_or_default().to_owned())
    }
}

#[tokio::test]
async fn an_employee_signs_in_and_can_only_ask_as_themselves() -> anyhow::Result<()> {
    let w = world().await?;
    // Not signed in: the page loads, the API refuses.
    assert_eq!(
        w.call("GET", "/console", None, None, None).await?.0,
        StatusCode::OK
    );
    assert_eq!(
        w.call("GET", "/console/api/me", None, None, None).await?.0,
        StatusCode::UNAUTHORIZED
    );

    let (sam, me, csrf) = w.session("sam", "Demo-Sam-2026!").await?;
    assert_eq!(me["upn"], upn("sam"));
    assert_eq!(me["itAdmin"], false);

    // Without the CSRF token, or with another, nothing is asked.
    let ask = json!({"message": "please reset the password of grace@larkspur.example"});
    assert_eq!(
        w.call(
            "POST",
            "/console/api/ask",
            Some(&sam),
            None,
            Some(ask.clone())
        )
        .await?
        .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        w.call(
            "POST",
            "/console/api/ask",
            Some(&sam),
            Some("forged"),
            Some(ask.clone())
        )
        .await?
        .0,
        StatusCode::FORBIDDEN
    );
    // With it, Sam asks — as Sam, whatever the message says; policy keeps him off Grace.
    let before = w.h.user("grace").await?;
    let (status, _, report) = w
        .call(
            "POST",
            "/console/api/ask",
            Some(&sam),
            Some(&csrf),
            Some(ask),
        )
        .await?;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["requester"]["upn"], upn("sam"));
    assert_eq!(report["channel"], "web");
    assert_eq!(
        w.h.user("grace").await?["lastPasswordChangeDateTime"],
        before["lastPasswordChangeDateTime"]
    );

    // The admin views are not his.
    for path in [
        "/console/api/approvals",
        "/console/api/audit",
        "/console/api/escalations",
    ] {
        assert_eq!(
            w.call("GET", path, Some(&sam), None, None).await?.0,
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }
    // A made-up session is nobody; signing out ends the real one.
    assert_eq!(
        w.call(
            "GET",
            "/console/api/me",
            Some("steward_session=0123abcd"),
            None,
            None
        )
        .await?
        .0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        w.call("POST", "/console/logout", Some(&sam), Some(&csrf), None)
            .await?
            .0,
        StatusCode::OK
    );
    assert_eq!(
        w.call("GET", "/console/api/me", Some(&sam), None, None)
            .await?
            .0,
        StatusCode::UNAUTHORIZED
    );
    Ok(())
}

#[tokio::test]
async fn a_failed_or_replayed_sign_in_gets_no_session() -> anyhow::Result<()> {
    let w = world().await?;
    // A callback for a sign-in never started.
    let (status, headers, _) = w
        .call(
            "GET",
            "/console/callback?code=abc&state=never-started",
            None,
            None,
            None,
        )
        .await?;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(headers.get("set-cookie").is_none());
    // The provider's error.
    let (status, _, _) = w
        .call(
            "GET",
            "/console/callback?error=access_denied&error_description=AADSTS50126",
            None,
            None,
            None,
        )
        .await?;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // A locked-out person cannot sign in at the provider: no code comes back.
    let (_, headers, _) = w.call("GET", "/console/login", None, None, None).await?;
    let to = url::Url::parse(
        headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .context("location")?,
    )?;
    let mut form: Vec<(String, String)> = to.query_pairs().into_owned().collect();
    form.push(("login".into(), upn("adele")));
    form.push(("passwd".into(), "Demo-Adele-2026!".into()));
    let mut page = to.clone();
    page.set_query(None);
    let answer = w.http.post(page).form(&form).send().await?;
    assert!(
        answer.headers().get("location").is_none(),
        "no code for a locked account"
    );
    Ok(())
}

#[tokio::test]
async fn an_it_admin_decides_approvals_and_reads_the_audit_trail() -> anyhow::Result<()> {
    let w = world().await?;
    let waiting = w.h.ask("tom", "my account is disabled").await?;
    let approval = waiting.actions[0]
        .approval_id
        .context("waits for approval")?;
    let (nestor, me, csrf) = w.session("nestor", "Demo-Nestor-2026!").await?;
    assert_eq!(me["itAdmin"], true);

    // Live updates: the first event says how things stand.
    let response = w
        .app
        .clone()
        .oneshot(
            Request::get("/console/events")
                .header("cookie", &nestor)
                .body(Body::empty())?,
        )
        .await?;
    assert_eq!(
        response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("text/event-stream")
    );
    let mut body = response.into_body().into_data_stream();
    let first = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        futures_util::StreamExt::next(&mut body),
    )
    .await?
    .context("an event")??;
    let first = String::from_utf8_lossy(&first).to_string();
    assert!(
        first.contains("event: changed") && first.contains("\"pendingApprovals\":1"),
        "{first}"
    );

    let (_, _, queue) = w
        .call("GET", "/console/api/approvals", Some(&nestor), None, None)
        .await?;
    let items = queue["approvals"].as_array().context("approvals")?;
    assert!(
        items
            .iter()
            .any(|a| a["id"] == approval.to_string() && a["action"] == "entra.user.enable"),
        "{queue}"
    );
    // A change needs the CSRF token.
    let path = format!("/console/api/approvals/{approval}/approve");
    assert_eq!(
        w.call("POST", &path, Some(&nestor), None, None).await?.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(w.h.user("tom").await?["accountEnabled"], false);
    let (status, _, decided) = w
        .call("POST", &path, Some(&nestor), Some(&csrf), None)
        .await?;
    assert_eq!(status, StatusCode::OK, "{decided}");
    assert_eq!(w.h.user("tom").await?["accountEnabled"], true);
    assert_eq!(
        decided["followUp"]["conversationId"],
        json!(waiting.conversation_id)
    );

    let (_, _, audit) = w
        .call("GET", "/console/api/audit", Some(&nestor), None, None)
        .await?;
    assert!(
        audit["records"]
            .as_array()
            .is_some_and(|r| r.iter().any(|x| x["kind"] == "approvalDecided"))
    );
    assert!(audit["verification"].is_object());
    // Filtered: only the kind asked for.
    let (_, _, decided) = w
        .call(
            "GET",
            "/console/api/audit?kind=approvalDecided&requester=tom",
            Some(&nestor),
            None,
            None,
        )
        .await?;
    let records = decided["records"].as_array().context("records")?;
    assert!(
        !records.is_empty() && records.iter().all(|r| r["kind"] == "approvalDecided"),
        "{decided}"
    );
    Ok(())
}

/// Before deciding, an IT admin sees what would change and may ask the requester a question; the
/// request keeps waiting.
#[tokio::test]
async fn the_queue_shows_previews_and_an_admin_may_ask_for_more_information() -> anyhow::Result<()>
{
    let w = world().await?;
    let waiting = w.h.ask("tom", "my account is disabled").await?;
    let approval = waiting.actions[0].approval_id.context("waits")?;
    let (nestor, _, csrf) = w.session("nestor", "Demo-Nestor-2026!").await?;
    let (_, _, queue) = w
        .call("GET", "/console/api/approvals", Some(&nestor), None, None)
        .await?;
    let item = queue["approvals"]
        .as_array()
        .and_then(|a| a.first())
        .context("one waiting")?;
    let preview = item["request"]["preview"].as_array().context("a preview")?;
    assert!(
        preview.iter().any(|c| c["field"] == "accountEnabled"
            && c["current"] == false
            && c["proposed"] == true),
        "{preview:?}"
    );
    assert_eq!(item["request"]["targets"][0]["displayName"], "Tom Becker");

    let path = format!("/console/api/approvals/{approval}/ask-info");
    let question = json!({"question": "Are you back from leave for good?"});
    assert_eq!(
        w.call("POST", &path, Some(&nestor), None, Some(question.clone()))
            .await?
            .0,
        StatusCode::FORBIDDEN,
        "CSRF"
    );
    let (status, _, asked) = w
        .call("POST", &path, Some(&nestor), Some(&csrf), Some(question))
        .await?;
    assert_eq!(status, StatusCode::OK, "{asked}");
    assert_eq!(
        w.h.user("tom").await?["accountEnabled"],
        false,
        "still waiting"
    );
    let (_, _, queue) = w
        .call("GET", "/console/api/approvals", Some(&nestor), None, None)
        .await?;
    assert!(
        queue["approvals"]
            .as_array()
            .is_some_and(|a| a.iter().any(|x| x["id"] == approval.to_string()))
    );
    Ok(())
}

/// The employee sees their own requests (and nobody else's); an IT admin's "approve always"
/// shows among the standing approvals, and revoking it there ends it.
#[tokio::test]
async fn my_requests_and_standing_approvals() -> anyhow::Result<()> {
    let w = world().await?;
    w.h.ask("leo", "the printer on floor 3 is jammed").await?;
    let (sam, _, csrf) = w.session("sam", "Demo-Sam-2026!").await?;
    w.call(
        "POST",
        "/console/api/ask",
        Some(&sam),
        Some(&csrf),
        Some(json!({"message": "please set my out of office until monday"})),
    )
    .await?;
    let (status, _, mine) = w
        .call("GET", "/console/api/requests", Some(&sam), None, None)
        .await?;
    assert_eq!(status, StatusCode::OK);
    let listed = mine["requests"].as_array().context("requests")?;
    assert_eq!(listed.len(), 1, "only Sam's own: {mine}");
    assert_eq!(
        listed[0]["message"],
        "please set my out of office until monday"
    );
    assert_eq!(
        w.call("GET", "/console/api/standing", Some(&sam), None, None)
            .await?
            .0,
        StatusCode::FORBIDDEN
    );

    let waiting = w.h.ask("tom", "my account is disabled").await?;
    let approval = waiting.actions[0].approval_id.context("waits")?;
    let (nestor, _, csrf) = w.session("nestor", "Demo-Nestor-2026!").await?;
    // Terms out of bounds are refused and nothing is decided.
    let approve = format!("/console/api/approvals/{approval}/approve");
    let bad = json!({"always": {"scope": "requester", "maxUses": 0, "expiresInHours": 48}});
    assert_eq!(
        w.call("POST", &approve, Some(&nestor), Some(&csrf), Some(bad))
            .await?
            .0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(w.h.user("tom").await?["accountEnabled"], false);
    let terms = json!({"always": {"scope": "requester", "maxUses": 3, "expiresInHours": 48}});
    let (status, _, decided) = w
        .call("POST", &approve, Some(&nestor), Some(&csrf), Some(terms))
        .await?;
    // Approve always may be refused for this action by policy; either way the answer is clear.
    if status != StatusCode::OK {
        assert!(
            decided["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{decided}"
        );
        return Ok(());
    }
    let (_, _, standing) = w
        .call("GET", "/console/api/standing", Some(&nestor), None, None)
        .await?;
    assert_eq!(standing["standingApprovals"][0]["maxUses"], 3, "{standing}");
    let id = standing["standingApprovals"][0]["id"]
        .as_str()
        .context("a standing approval")?
        .to_owned();
    let path = format!("/console/api/standing/{id}/revoke");
    assert_eq!(
        w.call("POST", &path, Some(&nestor), None, None).await?.0,
        StatusCode::FORBIDDEN,
        "CSRF"
    );
    assert_eq!(
        w.call("POST", &path, Some(&nestor), Some(&csrf), None)
            .await?
            .0,
        StatusCode::OK
    );
    let (_, _, standing) = w
        .call("GET", "/console/api/standing", Some(&nestor), None, None)
        .await?;
    assert!(
        standing["standingApprovals"][0]["revokedAt"].is_string(),
        "{standing}"
    );
    Ok(())
}

/// The admin watches conversations as they happen and sees whose grants Steward acts with — never
/// a token.
#[tokio::test]
async fn live_conversations_and_integrations() -> anyhow::Result<()> {
    let w = world().await?;
    w.h.ask("tom", "my account is disabled").await?;
    let nestor = w.sign_in("nestor", "Demo-Nestor-2026!").await?;
    let (status, _, live) = w
        .call(
            "GET",
            "/console/api/conversations",
            Some(&nestor),
            None,
            None,
        )
        .await?;
    assert_eq!(status, StatusCode::OK);
    let first = &live["conversations"][0];
    assert_eq!(first["requester"], upn("tom"));
    assert_eq!(first["status"], "awaitingApproval");
    assert_eq!(first["message"], "my account is disabled");
    assert!(first["steps"].as_u64().unwrap_or(0) >= 1);

    let (status, _, integrations) = w
        .call(
            "GET",
            "/console/api/integrations",
            Some(&nestor),
            None,
            None,
        )
        .await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(integrations["microsoftGraph"]["actingAs"], upn("nestor"));
    assert_eq!(
        integrations["employeeChannel"]["actingAs"],
        upn("steward-svc")
    );
    assert_eq!(integrations["reasoner"], "builtin");
    assert!(
        !integrations.to_string().contains("0.sim."),
        "a refresh token leaked: {integrations}"
    );

    let sam = w.sign_in("sam", "Demo-Sam-2026!").await?;
    for path in ["/console/api/conversations", "/console/api/integrations"] {
        assert_eq!(
            w.call("GET", path, Some(&sam), None, None).await?.0,
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }
    Ok(())
}

/// The "explain" form: how the policies in force decide a request described by hand, and what
/// an approval would change; a bad description is a clear error.
#[tokio::test]
async fn an_admin_explains_a_decision() -> anyhow::Result<()> {
    let w = world().await?;
    let nestor = w.sign_in("nestor", "Demo-Nestor-2026!").await?;
    let (status, _, x) = w
        .call(
            "GET",
            "/console/api/explain?action=entra.user.reset_password&target=other&itAdmin=true",
            Some(&nestor),
            None,
            None,
        )
        .await?;
    assert_eq!(status, StatusCode::OK, "{x}");
    assert_eq!(x["decision"]["outcome"], "auto");
    assert!(
        x["decision"]["deciding"]
            .as_array()
            .is_some_and(|d| !d.is_empty())
    );
    let (_, _, x) = w
        .call(
            "GET",
            "/console/api/explain?action=entra.user.enable&target=requester",
            Some(&nestor),
            None,
            None,
        )
        .await?;
    assert_eq!(x["decision"]["outcome"], "ask", "{x}");
    assert!(x["withApproval"]["outcome"].is_string(), "{x}");
    let (status, _, bad) = w
        .call(
            "GET",
            "/console/api/explain?action=entra.user.teleport&target=other",
            Some(&nestor),
            None,
            None,
        )
        .await?;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        bad["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("not an action")),
        "{bad}"
    );
    let sam = w.sign_in("sam", "Demo-Sam-2026!").await?;
    let (status, _, _) = w
        .call(
            "GET",
            "/console/api/explain?action=entra.user.enable&target=requester",
            Some(&sam),
            None,
            None,
        )
        .await?;
    assert_eq!(status, StatusCode::FORBIDDEN);
    Ok(())
}
