//! The Okta simulator against `okta-management-it-subset.yaml`: every route it serves is one
//! the reference describes and is called here, each answer checked against the reference's
//! schema for that operation and status; and it authorises, pages, throttles and fails the way
//! Okta does.

use std::collections::BTreeSet;

use anyhow::Context as _;
use reqwest::Method;
use serde_json::{Value, json};
use steward_sim::okta::{RunningOkta, okta_demo_seed};

use super::conformance::conforms_or_empty;
use super::support::reference_text;

const ALL: &str =
    "okta.users.manage okta.groups.manage okta.apps.manage okta.logs.read offline_access";

fn reference() -> anyhow::Result<Value> {
    Ok(yaml_serde::from_str(&reference_text(
        "okta-management-it-subset.yaml",
    )?)?)
}

/// The routes `okta/api.rs` registers, with `{}` for each parameter.
fn served_routes() -> anyhow::Result<BTreeSet<String>> {
    let source = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/okta/api.rs"),
    )?;
    Ok(source
        .split('"')
        .filter(|s| s.starts_with("/api/v1/"))
        .map(shape)
        .collect())
}

fn shape(path: &str) -> String {
    path.split('/')
        .map(|seg| if seg.starts_with('{') { "{}" } else { seg })
        .collect::<Vec<_>>()
        .join("/")
}

/// An access token for `login` with `scope`, through the password grant.
pub(super) async fn token(
    okta: &RunningOkta,
    login: &str,
    password: &str,
    scope: &str,
) -> anyhow::Result<String> {
    let answer: Value = reqwest::Client::new()
        .post(okta.token_url())
        .form(&[
            ("grant_type", "password"),
            ("client_id", "0oa-steward-okta"),
            ("username", login),
            ("password", password),
            ("scope", scope),
        ])
        .send()
        .await?
        .json()
        .await?;
    Ok(answer["access_token"]
        .as_str()
        .with_context(|| format!("{answer}"))?
        .to_owned())
}

struct Caller {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Caller {
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<(u16, reqwest::header::HeaderMap, Value)> {
        let mut r = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            r = r.json(&b);
        }
        let response = r.send().await?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await?;
        Ok((
            status,
            headers,
            serde_json::from_str(&text).unwrap_or(Value::Null),
        ))
    }
}

#[tokio::test]
async fn every_served_route_is_in_the_reference_and_answers_as_it_describes() -> anyhow::Result<()>
{
    let reference = reference()?;
    let served = served_routes()?;
    let described: BTreeSet<String> = reference["paths"]
        .as_object()
        .context("paths")?
        .keys()
        .map(|p| shape(p))
        .collect();
    for route in &served {
        assert!(described.contains(route), "{route} is not in the reference");
    }
    let okta = RunningOkta::start(&okta_demo_seed()?).await?;
    let c = Caller {
        http: reqwest::Client::new(),
        base: okta.base_url.clone(),
        token: token(&okta, "nestor@larkspur.example", "Demo-Nestor-2026!", ALL).await?,
    };
    let leo = "00u1leoLocked00000001";
    let maria = "00u1mariaChen00000001";
    let calls: Vec<(Method, String, &str, Option<Value>, u16)> = vec![
        (
            Method::GET,
            "/api/v1/users?search=profile.department%20eq%20%22Engineering%22".into(),
            "/api/v1/users",
            None,
            200,
        ),
        (
            Method::GET,
            format!("/api/v1/users/{leo}"),
            "/api/v1/users/{id}",
            None,
            200,
        ),
        (
            Method::POST,
            format!("/api/v1/users/{maria}"),
            "/api/v1/users/{id}",
            Some(json!({"profile": {"title": "Senior Software Engineer"}})),
            200,
        ),
        (
            Method::GET,
            format!("/api/v1/users/{leo}/groups"),
            "/api/v1/users/{id}/groups",
            None,
            200,
        ),
        (
            Method::POST,
            format!("/api/v1/users/{leo}/lifecycle/unlock"),
            "/api/v1/users/{id}/lifecycle/unlock",
            None,
            200,
        ),
        (
            Method::POST,
            "/api/v1/users/00u1fatimaSuspended01/lifecycle/unsuspend".into(),
            "/api/v1/users/{id}/lifecycle/unsuspend",
            None,
            200,
        ),
        (
            Method::POST,
            "/api/v1/users/00u1fatimaSuspended01/lifecycle/suspend".into(),
            "/api/v1/users/{id}/lifecycle/suspend",
            None,
            200,
        ),
        (
            Method::POST,
            format!(
                "/api/v1/users/{maria}/lifecycle/expire_password_with_temp_password?revokeSessions=true"
            ),
            "/api/v1/users/{id}/lifecycle/expire_password_with_temp_password",
            None,
            200,
        ),
        (
            Method::POST,
            format!("/api/v1/users/{maria}/lifecycle/expire_password"),
            "/api/v1/users/{id}/lifecycle/expire_password",
            None,
            200,
        ),
        (
            Method::POST,
            format!("/api/v1/users/{leo}/lifecycle/reset_password?sendEmail=false"),
            "/api/v1/users/{id}/lifecycle/reset_password",
            None,
            200,
        ),
        (
            Method::GET,
            format!("/api/v1/users/{maria}/factors"),
            "/api/v1/users/{userId}/factors",
            None,
            200,
        ),
        (
            Method::DELETE,
            format!("/api/v1/users/{maria}/factors/mbl1mariaSms00000001"),
            "/api/v1/users/{userId}/factors/{factorId}",
            None,
            204,
        ),
        (
            Method::POST,
            format!("/api/v1/users/{leo}/lifecycle/reset_factors"),
            "/api/v1/users/{id}/lifecycle/reset_factors",
            None,
            200,
        ),
        (
            Method::DELETE,
            format!("/api/v1/users/{leo}/sessions"),
            "/api/v1/users/{userId}/sessions",
            None,
            204,
        ),
        (
            Method::GET,
            "/api/v1/groups?q=Eng".into(),
            "/api/v1/groups",
            None,
            200,
        ),
        (
            Method::GET,
            "/api/v1/groups/00g1engineering00001/users".into(),
            "/api/v1/groups/{groupId}/users",
            None,
            200,
        ),
        (
            Method::PUT,
            format!("/api/v1/groups/00g1awsadmins0000001/users/{maria}"),
            "/api/v1/groups/{groupId}/users/{userId}",
            None,
            204,
        ),
        (
            Method::DELETE,
            format!("/api/v1/groups/00g1awsadmins0000001/users/{maria}"),
            "/api/v1/groups/{groupId}/users/{userId}",
            None,
            204,
        ),
        (
            Method::GET,
            "/api/v1/apps?q=Git".into(),
            "/api/v1/apps",
            None,
            200,
        ),
        (
            Method::GET,
            "/api/v1/apps/0oa1aws0000000000001/users".into(),
            "/api/v1/apps/{appId}/users",
            None,
            200,
        ),
        (
            Method::POST,
            "/api/v1/apps/0oa1aws0000000000001/users".into(),
            "/api/v1/apps/{appId}/users",
            Some(json!({"id": maria, "scope": "USER"})),
            200,
        ),
        (
            Method::DELETE,
            format!("/api/v1/apps/0oa1aws0000000000001/users/{maria}"),
            "/api/v1/apps/{appId}/users/{userId}",
            None,
            204,
        ),
        (
            Method::POST,
            "/api/v1/users/00u1emmaManager000001/lifecycle/deactivate".into(),
            "/api/v1/users/{id}/lifecycle/deactivate",
            None,
            200,
        ),
        (
            Method::POST,
            "/api/v1/users/00u1emmaManager000001/lifecycle/activate?sendEmail=false".into(),
            "/api/v1/users/{id}/lifecycle/activate",
            None,
            200,
        ),
        (
            Method::GET,
            "/api/v1/logs?filter=eventType%20eq%20%22user.account.lock%22".into(),
            "/api/v1/logs",
            None,
            200,
        ),
    ];
    let mut called = BTreeSet::new();
    let mut problems = Vec::new();
    for (method, path, reference_path, body, status) in calls {
        let (got, headers, answer) = c.call(method.clone(), &path, body).await?;
        assert_eq!(got, status, "{method} {path}: {answer}");
        assert!(
            headers.contains_key("x-rate-limit-remaining"),
            "{path}: rate-limit headers"
        );
        problems.extend(conforms_or_empty(
            &reference,
            reference_path,
            &method.as_str().to_lowercase(),
            got,
            &answer,
        ));
        called.insert(shape(reference_path));
    }
    assert!(problems.is_empty(), "{problems:#?}");
    let uncalled: Vec<&String> = served.difference(&called).collect();
    assert!(uncalled.is_empty(), "routes no test calls: {uncalled:?}");
    // The changes are in effect and in the System Log, with Nestor as the actor.
    assert_eq!(
        okta.user("leo@larkspur.example").context("leo")?["status"],
        "RECOVERY"
    );
    assert_eq!(okta.factors("maria.chen@larkspur.example").len(), 1);
    assert!(okta.factors("leo@larkspur.example").is_empty());
    assert!(okta.sessions_cleared_at("leo@larkspur.example").is_some());
    let events = okta.log_events();
    assert!(
        events
            .iter()
            .any(|e| e["eventType"] == "user.account.unlock_by_admin"
                && e["actor"]["alternateId"] == "nestor@larkspur.example"
                && e["target"][0]["id"] == leo)
    );
    Ok(())
}

#[tokio::test]
async fn okta_refuses_pages_and_throttles_as_okta_does() -> anyhow::Result<()> {
    let reference = reference()?;
    let okta = RunningOkta::start(&okta_demo_seed()?).await?;
    let http = reqwest::Client::new();
    let nestor = Caller {
        http: http.clone(),
        base: okta.base_url.clone(),
        token: token(&okta, "nestor@larkspur.example", "Demo-Nestor-2026!", ALL).await?,
    };

    // No token, a read-only admin, a token without the scope, a non-admin: refused in Okta's shape.
    let anonymous = Caller {
        http: http.clone(),
        base: okta.base_url.clone(),
        token: "nope".into(),
    };
    let (status, _, body) = anonymous.call(Method::GET, "/api/v1/users", None).await?;
    assert_eq!(
        (status, body["errorCode"].as_str()),
        (401, Some("E0000011"))
    );
    let hank = Caller {
        http: http.clone(),
        base: okta.base_url.clone(),
        token: token(&okta, "hank@larkspur.example", "Demo-Hank-2026!", ALL).await?,
    };
    assert_eq!(
        hank.call(Method::GET, "/api/v1/users/00u1leoLocked00000001", None)
            .await?
            .0,
        200
    );
    let (status, _, body) = hank
        .call(
            Method::POST,
            "/api/v1/users/00u1leoLocked00000001/lifecycle/unlock",
            None,
        )
        .await?;
    assert_eq!(
        (status, body["errorCode"].as_str()),
        (403, Some("E0000006"))
    );
    problems_empty(conforms_or_empty(
        &reference,
        "/api/v1/users/{id}/lifecycle/unlock",
        "post",
        status,
        &body,
    ))?;
    let reader = Caller {
        http: http.clone(),
        base: okta.base_url.clone(),
        token: token(
            &okta,
            "nestor@larkspur.example",
            "Demo-Nestor-2026!",
            "okta.users.read",
        )
        .await?,
    };
    assert_eq!(
        reader
            .call(
                Method::POST,
                "/api/v1/users/00u1leoLocked00000001/lifecycle/unlock",
                None
            )
            .await?
            .0,
        403
    );
    let leo = Caller {
        http: http.clone(),
        base: okta.base_url.clone(),
        token: token(
            &okta,
            "maria.chen@larkspur.example",
            "Demo-MariaChen-2026!",
            ALL,
        )
        .await?,
    };
    assert_eq!(leo.call(Method::GET, "/api/v1/users", None).await?.0, 403);
    assert_eq!(
        okta.user("leo@larkspur.example").context("leo")?["status"],
        "LOCKED_OUT",
        "nothing changed"
    );

    // A locked-out person cannot sign in to get a token either.
    let refused: Value = http
        .post(okta.token_url())
        .form(&[
            ("grant_type", "password"),
            ("client_id", "0oa-steward-okta"),
            ("username", "leo@larkspur.example"),
            ("password", "Demo-Leo-2026!"),
            ("scope", ALL),
        ])
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(refused["error"], "invalid_grant");

    // Unlocking someone who is not locked out, and a user nobody has.
    let (status, _, body) = nestor
        .call(
            Method::POST,
            "/api/v1/users/00u1mariaChen00000001/lifecycle/unlock",
            None,
        )
        .await?;
    assert_eq!(
        (status, body["errorCode"].as_str()),
        (403, Some("E0000032"))
    );
    let (status, _, body) = nestor
        .call(Method::GET, "/api/v1/users/nobody@larkspur.example", None)
        .await?;
    assert_eq!(
        (status, body["errorCode"].as_str()),
        (404, Some("E0000007"))
    );

    // Paging: Link rel="next" until the last page.
    let mut seen = Vec::new();
    let mut next = Some(format!("{}/api/v1/users?limit=3", okta.base_url));
    while let Some(url) = next.take() {
        let r = http.get(&url).bearer_auth(&nestor.token).send().await?;
        next = r
            .headers()
            .get_all("link")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|l| l.contains("rel=\"next\""))
            .and_then(|l| l.split(['<', '>']).nth(1))
            .map(str::to_owned);
        let page: Vec<Value> = r.json().await?;
        assert!(page.len() <= 3);
        seen.extend(
            page.into_iter()
                .filter_map(|u| u["id"].as_str().map(str::to_owned)),
        );
    }
    assert_eq!(seen.len(), 9, "{seen:?}");

    // Throttled: 429 E0000047 with the window's reset time, then served again.
    okta.throttle(1);
    let (status, headers, body) = nestor.call(Method::GET, "/api/v1/users", None).await?;
    assert_eq!(
        (status, body["errorCode"].as_str()),
        (429, Some("E0000047"))
    );
    assert_eq!(
        headers
            .get("x-rate-limit-remaining")
            .and_then(|v| v.to_str().ok()),
        Some("0")
    );
    assert!(
        headers
            .get("x-rate-limit-reset")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<i64>().ok())
            .is_some()
    );
    assert_eq!(
        nestor.call(Method::GET, "/api/v1/users", None).await?.0,
        200
    );
    Ok(())
}

fn problems_empty(problems: Vec<String>) -> anyhow::Result<()> {
    anyhow::ensure!(problems.is_empty(), "{problems:#?}");
    Ok(())
}
