//! The console's Integrations section (IT admins): upload an API description to import it as a
//! new integration (a dry run first, if asked), read what it would do and the policies Steward
//! proposes, and accept them — which enables it at once, on this replica and, within seconds,
//! on the others. Nothing here can run an action; that is the "run action" form's job, through
//! the gateway.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use steward_agent::AgentError;
use steward_agent::integrations::GivenSecret;
use steward_openapi::{AuthScheme, Integration};

use super::{admin, problem};
use crate::AppState;

/// The largest upload: the importer's own limit, doubled for JSON string escaping.
pub(crate) const MAX_UPLOAD_BYTES: usize = 2 * steward_openapi::MAX_DOCUMENT_BYTES + 64 * 1024;

/// What the upload form sends: the document's text and where calls go.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct ImportBody {
    name: String,
    document: String,
    base_url: Option<String>,
    secret: Option<String>,
    scheme: Option<String>,
    #[serde(default)]
    dry_run: bool,
}

/// An agent error as the console answers it.
fn refused(e: &AgentError) -> Response {
    let status = match e {
        AgentError::BadInput(_) | AgentError::Policy(_) => StatusCode::BAD_REQUEST,
        AgentError::NotAllowed(_) | AgentError::UnknownRequester(_) => StatusCode::FORBIDDEN,
        AgentError::Store(steward_store::StoreError::NotFound { .. }) => StatusCode::NOT_FOUND,
        AgentError::Store(steward_store::StoreError::Conflict { .. }) => StatusCode::CONFLICT,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    problem(status, &e.to_string())
}

/// An integration as the console shows it: its actions and how it authenticates.
fn described(integration: &Integration) -> Value {
    let actions: Vec<Value> = integration
        .operations
        .iter()
        .map(|o| {
            json!({"name": o.spec.name, "method": o.method, "path": o.path,
                   "mutating": o.spec.mutating, "risk": o.spec.risk, "summary": o.spec.summary})
        })
        .collect();
    let auth: Vec<Value> = integration
        .auth
        .iter()
        .map(|s| {
            let kind = match s {
                AuthScheme::ApiKey { .. } => "apiKey",
                AuthScheme::Bearer { .. } => "bearer",
                AuthScheme::Basic { .. } => "basic",
                AuthScheme::OAuth2Code { .. } => "oauth2AuthorizationCode",
                AuthScheme::Unsupported { .. } => "unsupported",
            };
            json!({"scheme": s.scheme(), "kind": kind})
        })
        .collect();
    json!({"name": integration.name, "title": integration.title,
           "specVersion": integration.spec_version.label(), "baseUrl": integration.base_url,
           "actions": actions, "authentication": auth, "skipped": integration.skipped})
}

/// `GET /console/api/integrations/imported`: every imported integration and its status.
pub(crate) async fn list(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let (runtime, _) = match admin(&state, &headers, false).await {
        Ok(c) => c,
        Err(r) => return r.into_response(),
    };
    let rows = match runtime.store.integrations().await {
        Ok(r) => r,
        Err(e) => return refused(&e.into()),
    };
    let listed: Vec<Value> = rows
        .into_iter()
        .map(|r| {
            json!({"name": r.name, "status": r.status,
                   "actions": r.definition["operations"].as_array().map_or(0, Vec::len),
                   "importedBy": r.imported.0, "importedAt": r.imported.1,
                   "acceptedBy": r.accepted.as_ref().map(|a| &a.0),
                   "acceptedAt": r.accepted.as_ref().map(|a| &a.1)})
        })
        .collect();
    Json(json!({"integrations": listed})).into_response()
}

/// `GET /console/api/integrations/imported/{name}`: its actions and proposed policies.
pub(crate) async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> Response {
    let (runtime, _) = match admin(&state, &headers, false).await {
        Ok(c) => c,
        Err(r) => return r.into_response(),
    };
    let row = match runtime.store.integration(&name).await {
        Ok(r) => r,
        Err(e) => return refused(&e.into()),
    };
    let integration: Integration = match serde_json::from_value(row.definition) {
        Ok(i) => i,
        Err(e) => {
            return problem(
                StatusCode::INTERNAL_SERVER_ERROR,
                &format!("the stored integration is unreadable: {e}"),
            );
        }
    };
    let mut shown = described(&integration);
    shown["status"] = json!(row.status);
    shown["proposedPolicy"] = json!(row.policy);
    Json(shown).into_response()
}

/// `POST /console/api/integrations/import`: imports an uploaded document (saved disabled), or
/// with `dryRun` only says what it would create.
pub(crate) async fn import(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(body): Json<ImportBody>,
) -> Response {
    let (runtime, session) = match admin(&state, &headers, true).await {
        Ok(c) => c,
        Err(r) => return r.into_response(),
    };
    let secret = body
        .secret
        .filter(|s| !s.is_empty())
        .map(|value| GivenSecret {
            value,
            scheme: body.scheme.filter(|s| !s.is_empty()),
        });
    let base_url = body.base_url.as_deref().filter(|u| !u.trim().is_empty());
    match runtime
        .import_integration(
            &session.upn,
            &body.document,
            body.name.trim(),
            base_url,
            secret,
            body.dry_run,
        )
        .await
    {
        Ok(imported) => {
            let mut shown = described(&imported.integration);
            shown["status"] = json!(if body.dry_run { "dryRun" } else { "disabled" });
            shown["proposedPolicy"] = json!(imported.policy);
            Json(shown).into_response()
        }
        Err(e) => refused(&e),
    }
}

/// `POST /console/api/integrations/imported/{name}/accept`: accepts the proposed policies as
/// they are, which enables the integration.
pub(crate) async fn accept(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> Response {
    let (runtime, session) = match admin(&state, &headers, true).await {
        Ok(c) => c,
        Err(r) => return r.into_response(),
    };
    match runtime.accept_integration(&session.upn, &name).await {
        Ok((integration, problem)) => Json(json!({"name": name, "status": "enabled",
                                       "acceptedBy": session.upn,
                                       "actions": integration.operations.len(),
                                       "notUsableYet": problem}))
        .into_response(),
        Err(e) => refused(&e),
    }
}

/// What the chat sends with an attached API document.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct ChatImportBody {
    message: String,
    file_name: String,
    document: String,
}

/// The integration name an admin gave in the chat (`… as jiraops`, `call it jiraops`, `named
/// jiraops`), else one made from the file's name.
fn name_from(message: &str, file_name: &str) -> String {
    let words: Vec<&str> = message.split_whitespace().collect();
    let lower: Vec<String> = words.iter().map(|w| w.to_ascii_lowercase()).collect();
    let given = (0..words.len()).find_map(|i| {
        let next = words.get(i + 1).copied();
        match lower[i].as_str() {
            "as" | "named" => next,
            "call" if lower.get(i + 1).is_some_and(|w| w == "it") => words.get(i + 2).copied(),
            _ => None,
        }
    });
    let raw = given.unwrap_or_else(|| {
        file_name
            .rsplit(['/', '\\'])
            .next()
            .unwrap_or(file_name)
            .split('.')
            .next()
            .unwrap_or("api")
    });
    let mut name = String::new();
    for c in raw.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_alphanumeric() {
            name.push(c);
        } else if !name.ends_with('_') && !name.is_empty() {
            name.push('_');
        }
    }
    let mut name = name.trim_end_matches('_').to_owned();
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        name.insert_str(0, "api_");
    }
    name.truncate(32);
    name.trim_end_matches('_').to_owned()
}

/// The first http(s) address in the message: where the API's calls go.
fn base_url_from(message: &str) -> Option<String> {
    message
        .split_whitespace()
        .find(|w| w.starts_with("https://") || w.starts_with("http://"))
        .map(|w| {
            w.trim_end_matches(['.', ',', ';', ')', '>', '"', '\''])
                .to_owned()
        })
}

/// `POST /console/api/ask/attachment`: an IT admin hands Steward an API description in the
/// chat ("connect this as jiraops at https://…"). It is imported like an upload — saved
/// disabled, with the policies Steward proposes — and the answer says what it would do; nothing
/// can use it until an IT admin accepts those policies.
pub(crate) async fn chat_import(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(body): Json<ChatImportBody>,
) -> Response {
    let (runtime, session) = match admin(&state, &headers, true).await {
        Ok(c) => c,
        Err(r) => return r.into_response(),
    };
    let name = name_from(&body.message, &body.file_name);
    let base_url = base_url_from(&body.message);
    match runtime
        .import_integration(
            &session.upn,
            &body.document,
            &name,
            base_url.as_deref(),
            None,
            false,
        )
        .await
    {
        Ok(imported) => {
            let i = &imported.integration;
            let changes = i.operations.iter().filter(|o| o.spec.mutating).count();
            let reply = format!(
                "I read “{}” ({}): {} actions — {} reads and {changes} changes — calling {}. I saved it as `{name}`, disabled: nothing can use it until an IT admin accepts the policies I propose (reads for IT admins in the console; every change approved by another person). Review and accept them below or in Integrations. If the API needs a key or token, import the document there again with it; never paste a secret in the chat.",
                i.title,
                i.spec_version.label(),
                i.operations.len(),
                i.operations.len() - changes,
                i.base_url.as_deref().unwrap_or("(no address)"),
            );
            let mut shown = described(i);
            shown["status"] = json!("disabled");
            shown["proposedPolicy"] = json!(imported.policy);
            Json(json!({"reply": reply, "status": "answered", "integration": shown}))
                .into_response()
        }
        Err(e) => Json(json!({
            "reply": format!("I could not import `{}` as an integration: {e}. Nothing was saved.", body.file_name),
            "status": "answered",
        }))
        .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_name_and_address_come_from_the_chat_or_the_file() {
        assert_eq!(
            name_from("please connect this as jiraops", "x.json"),
            "jiraops"
        );
        assert_eq!(
            name_from("hook this up", "Snipe-IT OpenAPI v6.yaml"),
            "snipe_it_openapi_v6"
        );
        assert_eq!(name_from("add it", "2024 spec.json"), "api_2024_spec");
        assert_eq!(
            name_from(
                "connect it at https://x.example, call it `Assets`",
                "a.json"
            ),
            "assets"
        );
        assert_eq!(
            base_url_from("connect it at https://snipe.example.com/api/v1."),
            Some("https://snipe.example.com/api/v1".into())
        );
        assert_eq!(base_url_from("no address here"), None);
    }
}
