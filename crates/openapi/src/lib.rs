//! Turns an API description — OpenAPI 3.0 or 3.1, or Swagger 2.0, as JSON or YAML — into
//! Steward actions, so an admin can connect a SaaS nobody wrote a connector for.
//!
//! Each operation becomes one action, `NAME.<resource>.<operation>`: read-only for GET and
//! HEAD, mutating otherwise, with a risk read from the method and the path, and one JSON Schema
//! (2020-12) for its parameters and body, its references gathered into `$defs`. The document is
//! untrusted input: it is read whole into memory only up to a size and depth, references are
//! followed inside it only, and every failure is an [`ImportError`] that names the place to fix —
//! the importer never panics (it is fuzzed).

mod document;
mod error;
mod naming;
mod operations;
mod policy;
mod refs;
mod schema;
mod security;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use steward_domain::ActionSpec;

pub use document::{MAX_DEPTH, MAX_DOCUMENT_BYTES, SpecVersion};
pub use error::ImportError;
pub use operations::{MAX_OPERATIONS, MAX_SCHEMA_BYTES, risk};
pub use policy::proposed_policy;
pub use security::{AuthScheme, KeyPlace};

/// Where a parameter goes in the HTTP request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ParamPlace {
    /// Substituted into the path template.
    Path,
    /// A query parameter.
    Query,
    /// A request header.
    Header,
    /// A cookie.
    Cookie,
}

impl ParamPlace {
    /// As OpenAPI writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Path => "path",
            Self::Query => "query",
            Self::Header => "header",
            Self::Cookie => "cookie",
        }
    }
}

/// One parameter of an operation: the action's argument `key` goes to `place` as `name`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Param {
    /// The property of the action's arguments that carries it.
    pub key: String,
    /// Its name in the request.
    pub name: String,
    /// Where it goes.
    pub place: ParamPlace,
    /// The operation cannot be called without it.
    pub required: bool,
}

/// An operation's request body: the action's argument `key`, sent as `media_type`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Body {
    /// The property of the action's arguments that carries it (`body`, or `requestBody` when a
    /// parameter is already called `body`).
    pub key: String,
    /// How it is encoded.
    pub media_type: String,
    /// The operation cannot be called without it.
    pub required: bool,
}

/// One imported operation: the action the gateway decides, and how to make the HTTP call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Operation {
    /// The action: name, schema, whether it changes anything, risk.
    pub spec: ActionSpec,
    /// `GET`, `POST` …
    pub method: String,
    /// The path template (`/users/{id}`), relative to the base URL.
    pub path: String,
    /// Its parameters.
    pub params: Vec<Param>,
    /// Its body, if it takes one.
    pub body: Option<Body>,
    /// The security schemes it accepts: any one inner list, all of whose schemes apply.
    pub security: Vec<Vec<String>>,
}

/// Something in the document that did not become an action, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    /// `METHOD /path`.
    pub operation: String,
    /// Why.
    pub reason: String,
}

/// A whole imported API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Integration {
    /// The first part of every action name.
    pub name: String,
    /// The document's `info.title`.
    pub title: String,
    /// The specification it followed.
    pub spec_version: SpecVersion,
    /// Where calls go: given by the admin, else the document's first absolute server.
    pub base_url: Option<String>,
    /// The security schemes the document defines.
    pub auth: Vec<AuthScheme>,
    /// One per operation.
    pub operations: Vec<Operation>,
    /// What was left out.
    pub skipped: Vec<Skipped>,
}

impl Integration {
    /// The actions, for the catalog and the policy schema.
    pub fn actions(&self) -> Vec<ActionSpec> {
        self.operations.iter().map(|o| o.spec.clone()).collect()
    }

    /// The scheme a pasted secret is for: the one `asked` for, else the first static one (API
    /// key, bearer, basic) the operations accept. An OAuth 2.0 scheme is used only when named:
    /// its token normally comes from a person's sign-in, not from a secret pasted once.
    pub fn scheme_for_secret(&self, asked: Option<&str>) -> Result<AuthScheme, ImportError> {
        if let Some(name) = asked {
            let scheme = self
                .auth
                .iter()
                .find(|s| s.scheme() == name)
                .ok_or_else(|| {
                    ImportError::Scheme(format!("the document defines no security scheme `{name}`"))
                })?;
            if let AuthScheme::Unsupported { what, .. } = scheme {
                return Err(ImportError::Scheme(format!(
                    "the scheme `{name}` is {what}, which Steward cannot use"
                )));
            }
            return Ok(scheme.clone());
        }
        let accepted: Vec<&String> = self
            .operations
            .iter()
            .flat_map(|o| o.security.iter().flatten())
            .collect();
        self.auth
            .iter()
            .filter(|s| {
                matches!(
                    s,
                    AuthScheme::ApiKey { .. } | AuthScheme::Bearer { .. } | AuthScheme::Basic { .. }
                )
            })
            .find(|s| accepted.is_empty() || accepted.iter().any(|a| a.as_str() == s.scheme()))
            .cloned()
            .ok_or_else(|| ImportError::Scheme("the document defines no static security scheme (API key, bearer or basic) its operations accept; name the one the secret is for".into()))
    }
}

/// Systems whose names an import may not take: Steward's own and its built-in connectors'.
pub const RESERVED_NAMES: &[&str] = &[
    "steward",
    "entra",
    "exchange",
    "intune",
    "teams",
    "onedrive",
    "sharepoint",
    "okta",
    "google",
    "identity",
    "msgraph",
    "directory",
];

/// Checks an integration name: it becomes the first part of every action name and a Cedar
/// namespace of sorts, so it must be short, lower-case and not a built-in system.
pub fn check_name(name: &str) -> Result<(), ImportError> {
    let ok = (2..=32).contains(&name.len())
        && name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !RESERVED_NAMES.contains(&name);
    if ok {
        Ok(())
    } else {
        Err(ImportError::BadName(name.to_owned()))
    }
}

/// Imports `text` as integration `name`. `base_url` overrides the document's servers.
pub fn import(text: &str, name: &str, base_url: Option<&str>) -> Result<Integration, ImportError> {
    check_name(name)?;
    let doc = document::parse(text)?;
    let version = document::version(&doc)?;
    let title = doc
        .pointer("/info/title")
        .and_then(Value::as_str)
        .unwrap_or(name)
        .to_owned();
    let base_url = match base_url {
        Some(given) => Some(checked_base_url(given)?),
        None => document_base_url(&doc, version),
    };
    let (operations, skipped) = operations::all(&doc, version, name)?;
    if operations.is_empty() {
        let why = if skipped.is_empty() {
            " (its `paths` list none)".to_owned()
        } else {
            format!(" ({} left out: {})", skipped.len(), skipped[0].reason)
        };
        return Err(ImportError::NoOperations(why));
    }
    Ok(Integration {
        name: name.to_owned(),
        title,
        spec_version: version,
        base_url,
        auth: security::schemes(&doc, version),
        operations,
        skipped,
    })
}

/// An absolute `http(s)` URL without a query or fragment, its trailing `/` dropped.
pub fn checked_base_url(given: &str) -> Result<String, ImportError> {
    let trimmed = given.trim().trim_end_matches('/');
    let scheme_ok = trimmed.starts_with("https://") || trimmed.starts_with("http://");
    let host = trimmed.split("://").nth(1).unwrap_or_default();
    if !scheme_ok || host.is_empty() || host.starts_with('/') || trimmed.contains(['?', '#', ' ']) {
        return Err(ImportError::BaseUrl(format!(
            "`{given}` is not a usable base URL: give an absolute http(s) URL without a query, such as https://api.example.com/v1"
        )));
    }
    Ok(trimmed.to_owned())
}

/// The document's own base URL: 3.x's first server with its variables at their defaults, or
/// 2.0's scheme, host and base path; `None` when it names none that is absolute.
fn document_base_url(doc: &Value, version: SpecVersion) -> Option<String> {
    let url = if version == SpecVersion::Swagger2 {
        let host = doc.get("host")?.as_str()?;
        let scheme = doc
            .get("schemes")
            .and_then(Value::as_array)
            .and_then(|s| {
                s.iter()
                    .filter_map(Value::as_str)
                    .find(|s| *s == "https")
                    .or_else(|| s.first().and_then(Value::as_str))
            })
            .unwrap_or("https");
        let base = doc.get("basePath").and_then(Value::as_str).unwrap_or("");
        format!("{scheme}://{host}{base}")
    } else {
        let server = doc.get("servers")?.as_array()?.first()?;
        let mut url = server.get("url")?.as_str()?.to_owned();
        if let Some(vars) = server.get("variables").and_then(Value::as_object) {
            for (name, var) in vars {
                if let Some(default) = var.get("default").and_then(Value::as_str) {
                    url = url.replace(&format!("{{{name}}}"), default);
                }
            }
        }
        url
    };
    checked_base_url(&url).ok()
}
