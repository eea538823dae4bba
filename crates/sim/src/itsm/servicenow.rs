//! ServiceNow Table API on the incident table: create (201, `Location`) and read, with its
//! `{"error": {...}, "status": "failure"}` errors. Fields the table does not have are ignored,
//! as ServiceNow ignores them.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Map, Value, json};

use super::ItsmState;

/// Incident fields kept when sent (a subset of the table's columns).
const FIELDS: &[&str] = &[
    "short_description",
    "description",
    "correlation_id",
    "correlation_display",
    "assignment_group",
    "caller_id",
    "category",
    "urgency",
    "impact",
    "contact_type",
];

pub(super) fn routes() -> Router<Arc<ItsmState>> {
    Router::new()
        .route("/api/now/table/incident", post(create).get(list))
        .route("/api/now/table/incident/{sys_id}", get(read).patch(update))
        .route("/api/now/table/sys_journal_field", get(journal_list))
}

/// A Table API list's `sysparm_query`, `sysparm_limit` and `sysparm_fields`.
fn table_params(
    q: &std::collections::HashMap<String, String>,
) -> (String, usize, Option<Vec<String>>) {
    let query = q.get("sysparm_query").cloned().unwrap_or_default();
    let limit = q
        .get("sysparm_limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(10_000);
    let fields = q
        .get("sysparm_fields")
        .map(|f| f.split(',').map(|s| s.trim().to_owned()).collect());
    (query, limit, fields)
}

/// A `sys_user`'s `user_name` in the simulator: the e-mail's local part.
pub(super) fn user_name(email: &str) -> String {
    email.split('@').next().unwrap_or(email).to_owned()
}

/// One `sys_journal_field` row: a work note or comment on an incident.
#[derive(Debug, Clone)]
pub(crate) struct JournalEntry {
    pub sys_id: String,
    /// The incident's sys_id (`element_id`).
    pub element_id: String,
    /// `work_notes` or `comments` (`element`).
    pub element: String,
    pub value: String,
    /// The writer's `user_name` (`sys_created_by`).
    pub sys_created_by: String,
    pub sys_created_on: String,
}

impl JournalEntry {
    pub(super) fn new(
        r: &super::Records,
        incident: &str,
        element: &str,
        value: &str,
        by: &str,
    ) -> Self {
        let n = r.journal.len() + 1;
        Self {
            sys_id: format!("{:032x}", 0x70_u128 << 120 | n as u128),
            element_id: incident.to_owned(),
            element: element.to_owned(),
            value: value.to_owned(),
            sys_created_by: by.to_owned(),
            sys_created_on: (chrono::Utc::now() + chrono::Duration::milliseconds(n as i64))
                .format("%Y-%m-%d %H:%M:%S")
                .to_string(),
        }
    }

    fn shown(&self) -> Value {
        json!({"sys_id": self.sys_id, "element_id": self.element_id, "element": self.element,
               "name": "incident", "value": self.value, "sys_created_by": self.sys_created_by,
               "sys_created_on": self.sys_created_on})
    }
}

/// The journal table: an incident's entries by `sysparm_query` (`element_id`, `element`,
/// `sys_created_by` …), ordered as asked, limited to `sysparm_fields`.
async fn journal_list(
    State(state): State<Arc<ItsmState>>,
    headers: HeaderMap,
    axum::extract::Query(q): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Response {
    if !state.basic_ok(&headers) {
        return unauthenticated();
    }
    let (query, limit, fields) = table_params(&q);
    let result: Vec<Value> = state.with(|r| {
        r.journal
            .iter()
            .map(JournalEntry::shown)
            .filter(|e| matches(e, &query))
            .take(limit)
            .map(|e| match &fields {
                None => e,
                Some(fields) => Value::Object(
                    fields
                        .iter()
                        .map(|f| (f.clone(), e.get(f).cloned().unwrap_or(json!(""))))
                        .collect(),
                ),
            })
            .collect()
    });
    Json(json!({"result": result})).into_response()
}

/// A new incident raised by `caller` in `group` (as the portal would), returning its number.
pub(super) fn raise(
    r: &mut super::Records,
    caller: &str,
    short: &str,
    description: &str,
    group: &str,
) -> String {
    let user = match r
        .callers
        .iter()
        .find(|(_, e)| e.eq_ignore_ascii_case(caller))
    {
        Some((id, _)) => id.clone(),
        None => {
            let id = format!(
                "{:032x}",
                0x05e7_u128 << 112 | (r.callers.len() as u128 + 1)
            );
            r.callers.push((id.clone(), caller.to_owned()));
            id
        }
    };
    let n = r.incidents.len() + 1;
    let sys_id = format!("{:032x}", 0x5e_u128 << 120 | n as u128);
    let number = format!("INC{:07}", 10_000 + n);
    let created = (chrono::Utc::now() + chrono::Duration::milliseconds(n as i64))
        .format("%Y-%m-%d %H:%M:%S%.3f")
        .to_string();
    r.incidents.push(json!({
        "sys_id": sys_id, "number": number, "short_description": short, "description": description,
        "caller_id": user, "assignment_group": group, "state": "1", "active": "true",
        "sys_created_on": created, "sys_updated_on": created, "contact_type": "self-service",
    }));
    number
}

/// `sysparm_query`'s encoded query: `field=value`, `field!=value`, `field>value` joined by `^`,
/// and `ORDERBYfield` / `ORDERBYDESCfield`.
fn matches(record: &Value, query: &str) -> bool {
    query
        .split('^')
        .filter(|c| !c.is_empty() && !c.starts_with("ORDERBY"))
        .all(|clause| {
            let field_of = |f: &str| {
                record
                    .get(f)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned()
            };
            if let Some((f, v)) = clause.split_once("!=") {
                field_of(f) != v
            } else if let Some((f, v)) = clause.split_once('>') {
                field_of(f).as_str() > v.trim_matches('\'')
            } else if let Some((f, v)) = clause.split_once('=') {
                field_of(f) == v
            } else {
                false
            }
        })
}

async fn list(
    State(state): State<Arc<ItsmState>>,
    headers: HeaderMap,
    axum::extract::Query(q): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Response {
    if !state.basic_ok(&headers) {
        return unauthenticated();
    }
    let (query, limit, fields) = table_params(&q);
    let result = state.with(|r| {
        let mut found: Vec<Value> = r
            .incidents
            .iter()
            .filter(|i| matches(i, &query))
            .cloned()
            .collect();
        if let Some(order) = query.split('^').find_map(|c| c.strip_prefix("ORDERBY")) {
            let (field, desc) = match order.strip_prefix("DESC") {
                Some(f) => (f, true),
                None => (order, false),
            };
            found.sort_by(|a, b| a[field].as_str().cmp(&b[field].as_str()));
            if desc {
                found.reverse();
            }
        }
        found
            .into_iter()
            .take(limit)
            .map(|i| match &fields {
                None => i,
                Some(fields) => {
                    let mut out = Map::new();
                    for f in fields {
                        // Dot-walking a reference: `caller_id.email`.
                        let value = if let Some((reference, attr)) = f.split_once('.') {
                            let id = i[reference].as_str().unwrap_or_default();
                            let caller = r.callers.iter().find(|(u, _)| u == id);
                            match (attr, caller) {
                                ("email", Some((_, e))) => json!(e),
                                ("user_name", Some((_, e))) => json!(user_name(e)),
                                _ => json!(""),
                            }
                        } else {
                            i.get(f).cloned().unwrap_or(json!(""))
                        };
                        out.insert(f.clone(), value);
                    }
                    Value::Object(out)
                }
            })
            .collect::<Vec<_>>()
    });
    Json(json!({"result": result})).into_response()
}

/// Fields an update may set besides the journal (`work_notes`, `comments`).
const UPDATABLE: &[&str] = &[
    "state",
    "close_code",
    "close_notes",
    "assignment_group",
    "assigned_to",
    "urgency",
    "impact",
];

async fn update(
    State(state): State<Arc<ItsmState>>,
    headers: HeaderMap,
    Path(sys_id): Path<String>,
    body: Bytes,
) -> Response {
    if !state.basic_ok(&headers) {
        return unauthenticated();
    }
    let Ok(Value::Object(sent)) = serde_json::from_slice::<Value>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "Exception while reading request",
            "The payload is not valid JSON.",
        );
    };
    if sent.get("state").and_then(Value::as_str) == Some("6")
        && sent
            .get("close_code")
            .is_none_or(|c| c.as_str().is_none_or(str::is_empty))
    {
        return error(
            StatusCode::FORBIDDEN,
            "Operation Failed",
            "Data Policy Exception: The following fields are mandatory: Resolution code",
        );
    }
    let writer = user_name(&state.account.user);
    state.with(|r| {
        let Some(i) = r
            .incidents
            .iter()
            .position(|i| i["sys_id"] == sys_id.as_str())
        else {
            return error(
                StatusCode::NOT_FOUND,
                "No Record found",
                "Record doesn't exist or ACL restricts the record retrieval",
            );
        };
        for kind in ["work_notes", "comments"] {
            if let Some(text) = sent
                .get(kind)
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty())
            {
                let entry = JournalEntry::new(r, &sys_id, kind, text, &writer);
                r.journal.push(entry);
            }
        }
        let now = chrono::Utc::now()
            .format("%Y-%m-%d %H:%M:%S%.3f")
            .to_string();
        if let Some(record) = r.incidents[i].as_object_mut() {
            for (k, v) in &sent {
                if UPDATABLE.contains(&k.as_str()) {
                    record.insert(
                        k.clone(),
                        Value::String(v.as_str().map_or_else(|| v.to_string(), str::to_owned)),
                    );
                }
            }
            if record
                .get("state")
                .and_then(Value::as_str)
                .is_some_and(|s| s == "6" || s == "7")
            {
                record.insert("active".into(), json!("false"));
            }
            record.insert("sys_updated_on".into(), json!(now));
        }
        Json(json!({"result": r.incidents[i]})).into_response()
    })
}

fn error(status: StatusCode, message: &str, detail: &str) -> Response {
    (
        status,
        Json(json!({"error": {"message": message, "detail": detail}, "status": "failure"})),
    )
        .into_response()
}

fn unauthenticated() -> Response {
    error(
        StatusCode::UNAUTHORIZED,
        "User Not Authenticated",
        "Required to provide Auth information",
    )
}

async fn create(State(state): State<Arc<ItsmState>>, headers: HeaderMap, body: Bytes) -> Response {
    if !state.basic_ok(&headers) {
        return unauthenticated();
    }
    let Ok(Value::Object(sent)) = serde_json::from_slice::<Value>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "Exception while reading request",
            "The payload is not valid JSON.",
        );
    };
    let base = state.base_url.clone();
    let record = state.with(|r| {
        let n = r.incidents.len() + 1;
        let sys_id = format!("{:032x}", 0x5e_u128 << 120 | n as u128);
        let mut record: Map<String, Value> = sent
            .into_iter()
            .filter(|(k, _)| FIELDS.contains(&k.as_str()))
            .map(|(k, v)| {
                (
                    k,
                    Value::String(v.as_str().map_or_else(|| v.to_string(), str::to_owned)),
                )
            })
            .collect();
        record.insert("sys_id".into(), json!(sys_id));
        record.insert("number".into(), json!(format!("INC{:07}", 10_000 + n)));
        record.insert("state".into(), json!("1"));
        record.insert("sys_created_by".into(), json!(state.account.user));
        let record = Value::Object(record);
        r.incidents.push(record.clone());
        record
    });
    let mut response = (StatusCode::CREATED, Json(json!({"result": record}))).into_response();
    if let Some(id) = record["sys_id"].as_str()
        && let Ok(location) = HeaderValue::from_str(&format!("{base}/api/now/table/incident/{id}"))
    {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

async fn read(
    State(state): State<Arc<ItsmState>>,
    headers: HeaderMap,
    Path(sys_id): Path<String>,
) -> Response {
    if !state.basic_ok(&headers) {
        return unauthenticated();
    }
    match state.with(|r| {
        r.incidents
            .iter()
            .find(|i| i["sys_id"] == sys_id.as_str())
            .cloned()
    }) {
        Some(record) => Json(json!({"result": record})).into_response(),
        None => error(
            StatusCode::NOT_FOUND,
            "No Record found",
            "Record doesn't exist or ACL restricts the record retrieval",
        ),
    }
}
