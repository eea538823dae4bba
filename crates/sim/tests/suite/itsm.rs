//! The Jira simulator's answers against `jira-cloud-platform-v3-it-subset.json`: created issues,
//! read issues and ErrorCollection errors have no property or shape Jira's description does not.

use anyhow::Context as _;
use serde_json::{Value, json};
use steward_sim::itsm::{ItsmAccount, RunningItsm};

use super::conformance::conforms_or_empty;
use super::support::reference_text;

fn jira_reference() -> anyhow::Result<Value> {
    Ok(serde_json::from_str(&reference_text(
        "jira-cloud-platform-v3-it-subset.json",
    )?)?)
}

#[tokio::test]
async fn jira_answers_match_the_reference() -> anyhow::Result<()> {
    let reference = jira_reference()?;
    let jira = RunningItsm::start(ItsmAccount {
        user: "bot@example.com".into(),
        secret: "tok".into(),
    })
    .await?;
    let http = reqwest::Client::new();
    let create = |body: Value, secret: &'static str| {
        http.post(format!("{}/rest/api/3/issue", jira.base_url))
            .basic_auth("bot@example.com", Some(secret))
            .json(&body)
            .send()
    };
    let mut problems = Vec::new();
    let good = json!({"fields": {"project": {"key": "IT"}, "issuetype": {"name": "Task"}, "summary": "Printer",
        "description": {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [{"type": "text", "text": "jammed"}]}]},
        "labels": ["steward"]}});
    let r = create(good, "tok").await?;
    assert_eq!(r.status(), 201);
    let created: Value = r.json().await?;
    problems.extend(conforms_or_empty(
        &reference,
        "/rest/api/3/issue",
        "post",
        201,
        &created,
    ));

    let r = create(json!({"fields": {"project": {"key": "IT"}, "issuetype": {"name": "Task"}, "description": "plain"}}), "tok").await?;
    assert_eq!(r.status(), 400);
    let error: Value = r.json().await?;
    assert!(
        error["errors"]["summary"].is_string() && error["errors"]["description"].is_string(),
        "{error}"
    );
    problems.extend(conforms_or_empty(
        &reference,
        "/rest/api/3/issue",
        "post",
        400,
        &error,
    ));

    let r = create(json!({}), "wrong").await?;
    assert_eq!(r.status(), 401);
    let error: Value = r.json().await?;
    problems.extend(conforms_or_empty(
        &reference,
        "/rest/api/3/issue",
        "post",
        401,
        &error,
    ));

    let key = created["key"].as_str().context("key")?;
    let r = http
        .get(format!("{}/rest/api/3/issue/{key}", jira.base_url))
        .basic_auth("bot@example.com", Some("tok"))
        .send()
        .await?;
    assert_eq!(r.status(), 200);
    let issue: Value = r.json().await?;
    assert_eq!(issue["fields"]["summary"], "Printer");
    problems.extend(conforms_or_empty(
        &reference,
        "/rest/api/3/issue/{issueIdOrKey}",
        "get",
        200,
        &issue,
    ));
    assert!(problems.is_empty(), "{problems:#?}");

    // Throttled: 429 with Retry-After, then served again.
    jira.throttle(1);
    let r = create(json!({}), "tok").await?;
    assert_eq!(r.status(), 429);
    assert_eq!(
        r.headers().get("retry-after").and_then(|v| v.to_str().ok()),
        Some("1")
    );
    assert_eq!(create(json!({}), "tok").await?.status(), 400);
    Ok(())
}

#[tokio::test]
async fn jira_intake_answers_match_the_reference() -> anyhow::Result<()> {
    let reference = jira_reference()?;
    let jira = RunningItsm::start(ItsmAccount {
        user: "steward@example.com".into(),
        secret: "tok".into(),
    })
    .await?;
    let key = jira.raise_issue(
        "ana@example.com",
        "steward@example.com",
        "VPN",
        "the VPN drops every hour",
    );
    jira.raise_issue(
        "ana@example.com",
        "bob@example.com",
        "Other",
        "not Steward's",
    );
    let http = reqwest::Client::new();
    let get = |path: String| {
        http.get(format!("{}{path}", jira.base_url))
            .basic_auth("steward@example.com", Some("tok"))
            .send()
    };
    let mut problems = Vec::new();
    let r = get("/rest/api/3/search/jql?jql=project%20%3D%20IT%20AND%20assignee%20%3D%20currentUser()%20AND%20statusCategory%20!%3D%20Done%20ORDER%20BY%20created%20ASC".into()).await?;
    assert_eq!(r.status(), 200);
    let found: Value = r.json().await?;
    assert_eq!(found["issues"].as_array().map(Vec::len), Some(1), "{found}");
    problems.extend(conforms_or_empty(
        &reference,
        "/rest/api/3/search/jql",
        "get",
        200,
        &found,
    ));
    let r = get(format!("/rest/api/3/issue/{key}/transitions")).await?;
    let transitions: Value = r.json().await?;
    problems.extend(conforms_or_empty(
        &reference,
        "/rest/api/3/issue/{issueIdOrKey}/transitions",
        "get",
        200,
        &transitions,
    ));
    let comment = json!({"body": {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [{"type": "text", "text": "internal"}]}]},
                         "properties": [{"key": "sd.public.comment", "value": {"internal": true}}]});
    let r = http
        .post(format!("{}/rest/api/3/issue/{key}/comment", jira.base_url))
        .basic_auth("steward@example.com", Some("tok"))
        .json(&comment)
        .send()
        .await?;
    assert_eq!(r.status(), 201);
    let created: Value = r.json().await?;
    problems.extend(conforms_or_empty(
        &reference,
        "/rest/api/3/issue/{issueIdOrKey}/comment",
        "post",
        201,
        &created,
    ));
    assert_eq!(
        jira.issue_comments(&key),
        vec![(false, "internal".to_owned())]
    );
    // The reporter answers; the comment list shows both, oldest first, as Jira does.
    assert!(jira.comment_as_reporter(&key, "the one in Sales"));
    let r = get(format!("/rest/api/3/issue/{key}/comment?orderBy=created")).await?;
    assert_eq!(r.status(), 200);
    let listed: Value = r.json().await?;
    problems.extend(conforms_or_empty(
        &reference,
        "/rest/api/3/issue/{issueIdOrKey}/comment",
        "get",
        200,
        &listed,
    ));
    assert_eq!(listed["total"], 2);
    assert_eq!(
        listed["comments"][1]["author"]["emailAddress"],
        listed["comments"][1]["updateAuthor"]["emailAddress"]
    );
    let r = http
        .post(format!(
            "{}/rest/api/3/issue/{key}/transitions",
            jira.base_url
        ))
        .basic_auth("steward@example.com", Some("tok"))
        .json(&json!({"transition": {"id": "31"}}))
        .send()
        .await?;
    assert_eq!(r.status(), 204);
    let r = http
        .put(format!("{}/rest/api/3/issue/{key}/assignee", jira.base_url))
        .basic_auth("steward@example.com", Some("tok"))
        .json(&json!({"accountId": null}))
        .send()
        .await?;
    assert_eq!(r.status(), 204);
    let issue = jira.issue(&key).context("issue")?;
    assert_eq!(issue["fields"]["status"]["name"], "Done");
    assert!(issue["fields"]["assignee"].is_null());
    let bad = get("/rest/api/3/search/jql?jql=summary%20~%20vpn".into()).await?;
    assert_eq!(bad.status(), 400);
    assert!(problems.is_empty(), "{problems:#?}");
    Ok(())
}
