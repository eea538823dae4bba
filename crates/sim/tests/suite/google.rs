//! The Google Workspace simulator against the Admin SDK subsets: every route it serves is one
//! the references describe and is called here, each answer checked against the reference's
//! schema; and it refuses as Google does.

use std::collections::BTreeSet;

use anyhow::Context as _;
use reqwest::Method;
use serde_json::{Value, json};
use steward_sim::google::{RunningGoogle, google_demo_seed};

use super::conformance::conforms_or_empty;
use super::support::reference_text;

const CLIENT: &str = "steward-google.apps.googleusercontent.com";
const ALL: &str = "https://www.googleapis.com/auth/admin.directory.user https://www.googleapis.com/auth/admin.directory.user.security https://www.googleapis.com/auth/admin.directory.group.member https://www.googleapis.com/auth/admin.directory.device.mobile.action https://www.googleapis.com/auth/admin.reports.audit.readonly";

fn shape(path: &str) -> String {
    path.split('/')
        .map(|seg| if seg.starts_with('{') { "{}" } else { seg })
        .collect::<Vec<_>>()
        .join("/")
}

async fn token(
    google: &RunningGoogle,
    login: &str,
    password: &str,
    scope: &str,
) -> anyhow::Result<String> {
    let answer: Value = reqwest::Client::new()
        .post(google.token_url())
        .form(&[
            ("grant_type", "password"),
            ("client_id", CLIENT),
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

#[tokio::test]
async fn every_served_route_is_in_the_references_and_answers_as_they_describe() -> anyhow::Result<()>
{
    let directory: Value = yaml_serde::from_str(&reference_text(
        "google-admin-directory_v1-openapi-subset.yaml",
    )?)?;
    let reports: Value = yaml_serde::from_str(&reference_text(
        "google-admin-reports_v1-openapi-subset.yaml",
    )?)?;
    let source = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/google/api.rs"),
    )?;
    let served: BTreeSet<String> = source
        .split('"')
        .filter(|s| s.starts_with("/admin/"))
        .map(shape)
        .collect();
    let described: BTreeSet<String> = directory["paths"]
        .as_object()
        .into_iter()
        .chain(reports["paths"].as_object())
        .flat_map(|p| p.keys())
        .map(|p| shape(p))
        .collect();
    for route in &served {
        assert!(
            described.contains(route),
            "{route} is not in the references"
        );
    }
    let google = RunningGoogle::start(&google_demo_seed()?).await?;
    let bearer = token(&google, "nestor@larkspur.example", "Demo-Nestor-2026!", ALL).await?;
    let http = reqwest::Client::new();
    let calls: Vec<(Method, String, &str, Option<Value>, u16)> = vec![
        (Method::GET, "/admin/directory/v1/users?customer=my_customer&query=email:sam".into(), "/admin/directory/v1/users", None, 200),
        (Method::GET, "/admin/directory/v1/users/sam@larkspur.example".into(), "/admin/directory/v1/users/{userKey}", None, 200),
        (Method::PATCH, "/admin/directory/v1/users/sam@larkspur.example".into(), "/admin/directory/v1/users/{userKey}", Some(json!({"password": "Temp-Pass-42", "changePasswordAtNextLogin": true})), 200),
        (Method::POST, "/admin/directory/v1/users/sam@larkspur.example/signOut".into(), "/admin/directory/v1/users/{userKey}/signOut", None, 204),
        (Method::POST, "/admin/directory/v1/users/felix@larkspur.example/verificationCodes/generate".into(), "/admin/directory/v1/users/{userKey}/verificationCodes/generate", None, 204),
        (Method::GET, "/admin/directory/v1/users/felix@larkspur.example/verificationCodes".into(), "/admin/directory/v1/users/{userKey}/verificationCodes", None, 200),
        (Method::POST, "/admin/directory/v1/users/felix@larkspur.example/twoStepVerification/turnOff".into(), "/admin/directory/v1/users/{userKey}/twoStepVerification/turnOff", None, 204),
        (Method::GET, "/admin/directory/v1/groups/marketing@larkspur.example/members".into(), "/admin/directory/v1/groups/{groupKey}/members", None, 200),
        (Method::POST, "/admin/directory/v1/groups/marketing@larkspur.example/members".into(), "/admin/directory/v1/groups/{groupKey}/members", Some(json!({"email": "nina@larkspur.example", "role": "MEMBER"})), 200),
        (Method::PATCH, "/admin/directory/v1/groups/marketing@larkspur.example/members/nina@larkspur.example".into(), "/admin/directory/v1/groups/{groupKey}/members/{memberKey}", Some(json!({"role": "MANAGER"})), 200),
        (Method::DELETE, "/admin/directory/v1/groups/marketing@larkspur.example/members/nina@larkspur.example".into(), "/admin/directory/v1/groups/{groupKey}/members/{memberKey}", None, 204),
        (Method::GET, "/admin/directory/v1/customer/my_customer/devices/mobile?query=email:felix@larkspur.example".into(), "/admin/directory/v1/customer/{customerId}/devices/mobile", None, 200),
        (Method::POST, "/admin/directory/v1/customer/my_customer/devices/mobile/AFiQxQ8Qgd-felixpixel/action".into(), "/admin/directory/v1/customer/{customerId}/devices/mobile/{resourceId}/action", Some(json!({"action": "block"})), 204),
        (Method::GET, "/admin/reports/v1/activity/users/sam@larkspur.example/applications/login?eventName=login_failure".into(), "/admin/reports/v1/activity/users/{userKey}/applications/{applicationName}", None, 200),
    ];
    let mut called = BTreeSet::new();
    let mut problems = Vec::new();
    for (method, path, reference_path, body, status) in calls {
        let mut r = http
            .request(method.clone(), format!("{}{path}", google.base_url))
            .bearer_auth(&bearer);
        if let Some(b) = body {
            r = r.json(&b);
        }
        let response = r.send().await?;
        let got = response.status().as_u16();
        let text = response.text().await?;
        let answer: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        assert_eq!(got, status, "{method} {path}: {answer}");
        let reference = if reference_path.starts_with("/admin/reports") {
            &reports
        } else {
            &directory
        };
        problems.extend(conforms_or_empty(
            reference,
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
    assert_eq!(
        google.password_of("sam@larkspur.example").as_deref(),
        Some("Temp-Pass-42")
    );
    assert!(google.signed_out_at("sam@larkspur.example").is_some());
    assert_eq!(
        google.user("felix@larkspur.example").context("felix")?["isEnrolledIn2Sv"],
        false
    );
    Ok(())
}

#[tokio::test]
async fn google_refuses_in_its_own_shape() -> anyhow::Result<()> {
    let google = RunningGoogle::start(&google_demo_seed()?).await?;
    let http = reqwest::Client::new();
    let call = |bearer: String, method: Method, path: &'static str, body: Option<Value>| {
        let mut r = http
            .request(method, format!("{}{path}", google.base_url))
            .bearer_auth(bearer);
        if let Some(b) = body {
            r = r.json(&b);
        }
        r.send()
    };
    let r = call(
        "nope".into(),
        Method::GET,
        "/admin/directory/v1/users/sam@larkspur.example",
        None,
    )
    .await?;
    assert_eq!(r.status(), 401);
    let body: Value = r.json().await?;
    assert_eq!(body["error"]["status"], "UNAUTHENTICATED");
    let nestor = token(&google, "nestor@larkspur.example", "Demo-Nestor-2026!", ALL).await?;
    let r = call(
        nestor.clone(),
        Method::PATCH,
        "/admin/directory/v1/users/irene@larkspur.example",
        Some(json!({"suspended": true})),
    )
    .await?;
    assert_eq!(
        r.status(),
        403,
        "a delegated admin cannot suspend a super admin"
    );
    let r = call(
        nestor.clone(),
        Method::GET,
        "/admin/directory/v1/users/nobody@larkspur.example",
        None,
    )
    .await?;
    let body: Value = r.json().await?;
    assert_eq!(
        (
            body["error"]["code"].as_i64(),
            body["error"]["errors"][0]["reason"].as_str()
        ),
        (Some(404), Some("notFound"))
    );
    let reader = token(
        &google,
        "nestor@larkspur.example",
        "Demo-Nestor-2026!",
        "https://www.googleapis.com/auth/admin.directory.user.readonly",
    )
    .await?;
    let r = call(
        reader,
        Method::POST,
        "/admin/directory/v1/users/sam@larkspur.example/signOut",
        None,
    )
    .await?;
    assert_eq!(r.status(), 403, "the token lacks the security scope");
    let sam = token(&google, "sam@larkspur.example", "Demo-Sam-2026!", ALL).await?;
    assert_eq!(
        call(
            sam,
            Method::GET,
            "/admin/directory/v1/users/felix@larkspur.example",
            None
        )
        .await?
        .status(),
        403,
        "not an admin"
    );
    assert!(google.signed_out_at("sam@larkspur.example").is_none());
    Ok(())
}
