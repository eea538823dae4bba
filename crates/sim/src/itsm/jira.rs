//! Jira Cloud REST v3: createIssue and getIssue, with its ErrorCollection errors.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Map, Value, json};

use super::ItsmState;

/// The one project, and the issue types it has.
const PROJECT: &str = "IT";
const ISSUE_TYPES: &[&str] = &["Task", "Service Request", "Incident", "Bug"];

pub(super) fn routes() -> Router<Arc<ItsmState>> {
    Router::new()
        .route("/rest/api/3/issue", post(create))
        .route("/rest/api/3/issue/{key}", get(read))
}

fn error(status: StatusCode, messages: &[&str], fields: Map<String, Value>) -> Response {
    (
        status,
        Json(json!({"errorMessages": messages, "errors": fields})),
    )
        .into_response()
}

fn unauthenticated() -> Response {
    error(
        StatusCode::UNAUTHORIZED,
        &["You are not authenticated. Authentication required to perform this operation."],
        Map::new(),
    )
}

async fn create(State(state): State<Arc<ItsmState>>, headers: HeaderMap, body: Bytes) -> Response {
    if !state.basic_ok(&headers) {
        return unauthenticated();
    }
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            &["Unexpected character in the request body."],
            Map::new(),
        );
    };
    let fields = &body["fields"];
    let mut problems = Map::new();
    if fields["project"]["key"].as_str() != Some(PROJECT) && fields["project"]["id"].is_null() {
        problems.insert("project".into(), json!("valid project is required"));
    }
    if !fields["issuetype"]["name"]
        .as_str()
        .is_some_and(|n| ISSUE_TYPES.contains(&n))
    {
        problems.insert("issuetype".into(), json!("valid issue type is required"));
    }
    match fields["summary"].as_str() {
        Some(s) if !s.trim().is_empty() && s.chars().count() <= 255 => {}
        Some(s) if s.chars().count() > 255 => {
            problems.insert(
                "summary".into(),
                json!("Summary must be less than 255 characters."),
            );
        }
        _ => {
            problems.insert(
                "summary".into(),
                json!("You must specify a summary of the issue."),
            );
        }
    }
    let description = &fields["description"];
    if !description.is_null() && (description["type"] != "doc" || description["version"] != 1) {
        problems.insert(
            "description".into(),
            json!(
                "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
            ),
        );
    }
    if fields["labels"]
        .as_array()
        .is_some_and(|l| l.iter().any(|x| x.as_str().is_none_or(|s| s.contains(' '))))
    {
        problems.insert("labels".into(), json!("The label must not contain spaces."));
    }
    if !problems.is_empty() {
        return error(StatusCode::BAD_REQUEST, &[], problems);
    }
    let base = state.base_url.clone();
    let issue = state.with(|r| {
        let n = r.jira.len() + 1;
        let id = (10_000 + n).to_string();
        let key = format!("{PROJECT}-{n}");
        let issue = json!({
            "id": id,
            "key": key,
            "self": format!("{base}/rest/api/3/issue/{id}"),
            "fields": {
                "summary": fields["summary"],
                "description": description,
                "labels": fields["labels"].as_array().cloned().unwrap_or_default(),
                "project": {"key": PROJECT},
                "issuetype": {"name": fields["issuetype"]["name"]},
                "status": {"name": "To Do"},
            },
        });
        r.jira.push(issue.clone());
        issue
    });
    (
        StatusCode::CREATED,
        Json(json!({"id": issue["id"], "key": issue["key"], "self": issue["self"]})),
    )
        .into_response()
}

async fn read(
    State(state): State<Arc<ItsmState>>,
    headers: HeaderMap,
    Path(key): Path<String>,
) -> Response {
    if !state.basic_ok(&headers) {
        return unauthenticated();
    }
    match state.with(|r| {
        r.jira
            .iter()
            .find(|i| i["key"] == key.as_str() || i["id"] == key.as_str())
            .cloned()
    }) {
        Some(issue) => Json(issue).into_response(),
        None => error(
            StatusCode::NOT_FOUND,
            &["Issue does not exist or you do not have permission to see it."],
            Map::new(),
        ),
    }
}
