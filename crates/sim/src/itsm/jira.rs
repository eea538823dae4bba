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
        .route("/rest/api/3/search/jql", get(search))
        .route(
            "/rest/api/3/issue/{key}/comment",
            post(comment).get(comments),
        )
        .route(
            "/rest/api/3/issue/{key}/transitions",
            get(transitions).post(transition),
        )
        .route(
            "/rest/api/3/issue/{key}/assignee",
            axum::routing::put(assign),
        )
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
        Some(mut issue) => {
            if let Some(o) = issue.as_object_mut() {
                o.remove("x-comments");
            }
            Json(issue).into_response()
        }
        None => error(
            StatusCode::NOT_FOUND,
            &["Issue does not exist or you do not have permission to see it."],
            Map::new(),
        ),
    }
}

/// The account a Jira issue is raised by or assigned to, as the API shows a user.
fn user(email: &str) -> Value {
    let id = format!(
        "5b10ac8d82e05b22cc7d{:04x}",
        email
            .bytes()
            .fold(0u16, |a, b| a.wrapping_mul(31).wrapping_add(u16::from(b)))
    );
    json!({"accountId": id, "emailAddress": email, "displayName": email.split('@').next().unwrap_or(email), "active": true, "accountType": "atlassian"})
}

fn adf(text: &str) -> Value {
    json!({"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [{"type": "text", "text": text}]}]})
}

/// An issue raised by `reporter` and assigned to `assignee` (an e-mail; empty: unassigned), as a
/// person would through the portal; its key.
pub(super) fn raise(
    r: &mut super::Records,
    reporter: &str,
    assignee: &str,
    summary: &str,
    description: &str,
) -> String {
    let n = r.jira.len() + 1;
    let key = format!("{PROJECT}-{n}");
    let created = (chrono::Utc::now() + chrono::Duration::milliseconds(n as i64))
        .format("%Y-%m-%dT%H:%M:%S%.3f+0000")
        .to_string();
    r.jira.push(json!({
        "id": (10_000 + n).to_string(),
        "key": key,
        "fields": {
            "summary": summary,
            "description": adf(description),
            "project": {"key": PROJECT},
            "issuetype": {"name": "Service Request"},
            "status": {"name": "To Do", "statusCategory": {"key": "new", "name": "To Do"}},
            "reporter": user(reporter),
            "assignee": if assignee.is_empty() { Value::Null } else { user(assignee) },
            "created": created,
            "labels": [],
        },
        "x-comments": [],
    }));
    key
}

/// The plain text of an ADF document.
pub(super) fn text_of(doc: &Value) -> String {
    match doc {
        Value::Object(m) => match m.get("text").and_then(Value::as_str) {
            Some(t) => t.to_owned(),
            None => m.get("content").map(text_of).unwrap_or_default(),
        },
        Value::Array(items) => items.iter().map(text_of).collect::<Vec<_>>().join(""),
        _ => String::new(),
    }
}

/// JQL, the subset Steward's intake writes: `project = X`, `assignee = currentUser()`,
/// `statusCategory != Done`, `created >= "yyyy-MM-dd HH:mm"`, joined by AND, with `ORDER BY created ASC`.
fn jql_matches(issue: &Value, jql: &str, me: &str) -> Result<bool, String> {
    let condition = jql.split(" ORDER BY ").next().unwrap_or_default();
    for clause in condition
        .split(" AND ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        let f = &issue["fields"];
        let ok = if let Some(v) = clause.strip_prefix("project = ") {
            f["project"]["key"] == v.trim_matches('"')
        } else if clause == "assignee = currentUser()" {
            f["assignee"]["emailAddress"]
                .as_str()
                .is_some_and(|a| a.eq_ignore_ascii_case(me))
        } else if clause == "statusCategory != Done" {
            f["status"]["statusCategory"]["key"] != "done"
        } else if let Some(v) = clause.strip_prefix("created >= ") {
            // JQL's date format, to the minute: "yyyy-MM-dd HH:mm".
            let minute = f["created"]
                .as_str()
                .unwrap_or_default()
                .get(..16)
                .unwrap_or_default()
                .replace('T', " ");
            minute.as_str() >= v.trim_matches('"')
        } else {
            return Err(format!("Error in the JQL Query: cannot read `{clause}`"));
        };
        if !ok {
            return Ok(false);
        }
    }
    Ok(true)
}

async fn search(
    State(state): State<Arc<ItsmState>>,
    headers: HeaderMap,
    axum::extract::Query(q): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Response {
    if !state.basic_ok(&headers) {
        return unauthenticated();
    }
    let jql = q.get("jql").cloned().unwrap_or_default();
    let max = q
        .get("maxResults")
        .and_then(|m| m.parse::<usize>().ok())
        .unwrap_or(50);
    let me = state.account.user.clone();
    let found: Result<Vec<Value>, String> = state.with(|r| {
        let mut out = Vec::new();
        for issue in &r.jira {
            if jql_matches(issue, &jql, &me)? {
                let mut shown = issue.clone();
                if let Some(o) = shown.as_object_mut() {
                    o.remove("x-comments");
                }
                out.push(shown);
            }
        }
        out.sort_by(|a, b| {
            a["fields"]["created"]
                .as_str()
                .cmp(&b["fields"]["created"].as_str())
        });
        Ok(out.into_iter().take(max).collect())
    });
    match found {
        Ok(issues) => Json(json!({"issues": issues, "isLast": true})).into_response(),
        Err(e) => error(StatusCode::BAD_REQUEST, &[&e], Map::new()),
    }
}

fn missing() -> Response {
    error(
        StatusCode::NOT_FOUND,
        &["Issue does not exist or you do not have permission to see it."],
        Map::new(),
    )
}

/// The reporter writes a public comment on issue `key` (as through the portal).
pub(super) fn reporter_comment(r: &mut super::Records, base: &str, key: &str, text: &str) -> bool {
    let Some(issue) = r.jira.iter_mut().find(|i| i["key"] == key) else {
        return false;
    };
    let reporter = issue["fields"]["reporter"].clone();
    push_comment(issue, base, reporter, adf(text), true);
    true
}

/// Adds a comment by `author` to `issue` (public to the reporter, or internal) as Jira keeps
/// it — numbered after the issue's, timestamped in order — and returns it.
fn push_comment(issue: &mut Value, base: &str, author: Value, body: Value, public: bool) -> Value {
    let n = issue["x-comments"].as_array().map_or(0, Vec::len) + 1;
    let id = format!("{}{n:03}", issue["id"].as_str().unwrap_or_default());
    let key = issue["key"].as_str().unwrap_or_default().to_owned();
    let now = (chrono::Utc::now() + chrono::Duration::milliseconds(n as i64))
        .format("%Y-%m-%dT%H:%M:%S%.3f+0000")
        .to_string();
    let stored = json!({
        "id": id, "self": format!("{base}/rest/api/3/issue/{key}/comment/{id}"),
        "author": author, "updateAuthor": author, "body": body,
        "created": now, "updated": now, "jsdPublic": public,
    });
    if let Some(list) = issue["x-comments"].as_array_mut() {
        list.push(stored.clone());
    }
    stored
}

/// An issue's comments, oldest first (`orderBy=created`; `-created` newest first), paged.
async fn comments(
    State(state): State<Arc<ItsmState>>,
    headers: HeaderMap,
    Path(key): Path<String>,
    axum::extract::Query(q): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Response {
    if !state.basic_ok(&headers) {
        return unauthenticated();
    }
    let start = q
        .get("startAt")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0);
    let max = q
        .get("maxResults")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(5000);
    state.with(|r| {
        let Some(issue) = r
            .jira
            .iter()
            .find(|i| i["key"] == key.as_str() || i["id"] == key.as_str())
        else {
            return missing();
        };
        let mut all = issue["x-comments"].as_array().cloned().unwrap_or_default();
        if q.get("orderBy").map(String::as_str) == Some("-created") {
            all.reverse();
        }
        let total = all.len();
        let page: Vec<Value> = all.into_iter().skip(start).take(max).collect();
        Json(json!({"comments": page, "startAt": start, "maxResults": max, "total": total}))
            .into_response()
    })
}

async fn comment(
    State(state): State<Arc<ItsmState>>,
    headers: HeaderMap,
    Path(key): Path<String>,
    body: Bytes,
) -> Response {
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
    if body["body"]["type"] != "doc" {
        return error(
            StatusCode::BAD_REQUEST,
            &["Comment body can not be empty!"],
            Map::new(),
        );
    }
    let me = state.account.user.clone();
    let base = state.base_url.clone();
    state.with(|r| {
        let Some(issue) = r
            .jira
            .iter_mut()
            .find(|i| i["key"] == key.as_str() || i["id"] == key.as_str())
        else {
            return missing();
        };
        let internal = body["properties"].as_array().is_some_and(|p| {
            p.iter()
                .any(|x| x["key"] == "sd.public.comment" && x["value"]["internal"] == true)
        });
        let stored = push_comment(issue, &base, user(&me), body["body"].clone(), !internal);
        (StatusCode::CREATED, Json(stored)).into_response()
    })
}

async fn transitions(
    State(state): State<Arc<ItsmState>>,
    headers: HeaderMap,
    Path(key): Path<String>,
) -> Response {
    if !state.basic_ok(&headers) {
        return unauthenticated();
    }
    if !state.with(|r| r.jira.iter().any(|i| i["key"] == key.as_str())) {
        return missing();
    }
    Json(json!({"transitions": [
        {"id": "11", "name": "To Do", "to": {"name": "To Do", "statusCategory": {"key": "new", "name": "To Do"}}, "hasScreen": false, "isAvailable": true},
        {"id": "21", "name": "In Progress", "to": {"name": "In Progress", "statusCategory": {"key": "indeterminate", "name": "In Progress"}}, "hasScreen": false, "isAvailable": true},
        {"id": "31", "name": "Done", "to": {"name": "Done", "statusCategory": {"key": "done", "name": "Done"}}, "hasScreen": false, "isAvailable": true}
    ]}))
    .into_response()
}

async fn transition(
    State(state): State<Arc<ItsmState>>,
    headers: HeaderMap,
    Path(key): Path<String>,
    body: Bytes,
) -> Response {
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
    let status = match body["transition"]["id"].as_str() {
        Some("11") => json!({"name": "To Do", "statusCategory": {"key": "new", "name": "To Do"}}),
        Some("21") => {
            json!({"name": "In Progress", "statusCategory": {"key": "indeterminate", "name": "In Progress"}})
        }
        Some("31") => json!({"name": "Done", "statusCategory": {"key": "done", "name": "Done"}}),
        _ => {
            return error(
                StatusCode::BAD_REQUEST,
                &[
                    "It seems that you have tried to perform a workflow operation (transition) that is not valid for the current state of this issue.",
                ],
                Map::new(),
            );
        }
    };
    state.with(
        |r| match r.jira.iter_mut().find(|i| i["key"] == key.as_str()) {
            Some(issue) => {
                issue["fields"]["status"] = status;
                StatusCode::NO_CONTENT.into_response()
            }
            None => missing(),
        },
    )
}

async fn assign(
    State(state): State<Arc<ItsmState>>,
    headers: HeaderMap,
    Path(key): Path<String>,
    body: Bytes,
) -> Response {
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
    state.with(
        |r| match r.jira.iter_mut().find(|i| i["key"] == key.as_str()) {
            Some(issue) => {
                // `accountId: null` unassigns (back to the team's queue).
                issue["fields"]["assignee"] = match body["accountId"].as_str() {
                    None => Value::Null,
                    Some(id) => json!({"accountId": id}),
                };
                StatusCode::NO_CONTENT.into_response()
            }
            None => missing(),
        },
    )
}
