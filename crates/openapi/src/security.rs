//! How the API wants to be called: its security schemes, read from `components.securitySchemes`
//! (3.x) or `securityDefinitions` (2.0).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::document::SpecVersion;

/// Where an API key goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyPlace {
    /// A request header.
    Header,
    /// A query parameter.
    Query,
    /// A cookie.
    Cookie,
}

/// One way of authenticating that Steward can use, or why it cannot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum AuthScheme {
    /// A static key (header, query or cookie) — its value is the secret.
    #[serde(rename_all = "camelCase")]
    ApiKey {
        /// The scheme's name in the document.
        scheme: String,
        /// Where the key goes.
        place: KeyPlace,
        /// The header, query parameter or cookie name.
        param: String,
    },
    /// `Authorization: Bearer <token>` — the token is the secret.
    #[serde(rename_all = "camelCase")]
    Bearer {
        /// The scheme's name in the document.
        scheme: String,
    },
    /// HTTP basic — the secret is `user:password`.
    #[serde(rename_all = "camelCase")]
    Basic {
        /// The scheme's name in the document.
        scheme: String,
    },
    /// OAuth 2.0 authorization code: a person signs in and Steward acts with their grant.
    #[serde(rename_all = "camelCase")]
    OAuth2Code {
        /// The scheme's name in the document.
        scheme: String,
        /// The authorization endpoint (possibly relative to the API's base URL).
        authorization_url: String,
        /// The token endpoint (possibly relative).
        token_url: String,
        /// The scopes the document lists.
        scopes: Vec<String>,
    },
    /// A scheme Steward cannot use (client credentials, implicit, OpenID Connect discovery,
    /// mutual TLS …): listed so the admin sees why.
    #[serde(rename_all = "camelCase")]
    Unsupported {
        /// The scheme's name in the document.
        scheme: String,
        /// What it is.
        what: String,
    },
}

impl AuthScheme {
    /// For an OAuth 2.0 authorization code scheme, its authorization and token endpoints made
    /// absolute against the API's `base_url` (documents often write them relative, as Okta's
    /// `/oauth2/v1/token`); `None` for any other scheme.
    pub fn oauth_endpoints(&self, base_url: &str) -> Option<(String, String)> {
        let Self::OAuth2Code {
            authorization_url,
            token_url,
            ..
        } = self
        else {
            return None;
        };
        Some((
            absolute(base_url, authorization_url),
            absolute(base_url, token_url),
        ))
    }

    /// The scheme's name in the document.
    pub fn scheme(&self) -> &str {
        match self {
            Self::ApiKey { scheme, .. }
            | Self::Bearer { scheme }
            | Self::Basic { scheme }
            | Self::OAuth2Code { scheme, .. }
            | Self::Unsupported { scheme, .. } => scheme,
        }
    }
}

/// `endpoint` as an absolute URL: itself when it is one, else on `base_url`'s origin (a path
/// starting with `/`) or under `base_url`.
fn absolute(base_url: &str, endpoint: &str) -> String {
    if endpoint.starts_with("https://") || endpoint.starts_with("http://") {
        return endpoint.to_owned();
    }
    let base = base_url.trim_end_matches('/');
    if let Some(path) = endpoint.strip_prefix('/') {
        let after_scheme = base.find("://").map_or(0, |i| i + 3);
        let origin_end = base[after_scheme..]
            .find('/')
            .map_or(base.len(), |i| after_scheme + i);
        return format!("{}/{path}", &base[..origin_end]);
    }
    format!("{base}/{endpoint}")
}

/// The document's security schemes, in its order.
pub fn schemes(doc: &Value, version: SpecVersion) -> Vec<AuthScheme> {
    let defined = match version {
        SpecVersion::Swagger2 => doc.get("securityDefinitions"),
        _ => doc.pointer("/components/securitySchemes"),
    };
    let Some(Value::Object(defined)) = defined else {
        return Vec::new();
    };
    defined
        .iter()
        .map(|(name, def)| scheme(name, def))
        .collect()
}

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or_default()
}

fn scopes_of(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_object)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

fn scheme(name: &str, def: &Value) -> AuthScheme {
    let scheme = name.to_owned();
    let unsupported = |what: String| AuthScheme::Unsupported {
        scheme: name.to_owned(),
        what,
    };
    match text(def, "type") {
        "apiKey" => {
            let place = match text(def, "in") {
                "header" => KeyPlace::Header,
                "query" => KeyPlace::Query,
                "cookie" => KeyPlace::Cookie,
                other => return unsupported(format!("an API key in `{other}`")),
            };
            let param = text(def, "name");
            if param.is_empty() {
                return unsupported("an API key with no name".into());
            }
            AuthScheme::ApiKey {
                scheme,
                place,
                param: param.to_owned(),
            }
        }
        "http" => match text(def, "scheme").to_ascii_lowercase().as_str() {
            "bearer" => AuthScheme::Bearer { scheme },
            "basic" => AuthScheme::Basic { scheme },
            other => unsupported(format!("HTTP `{other}` authentication")),
        },
        "basic" => AuthScheme::Basic { scheme },
        "oauth2" => {
            // 3.x: flows.authorizationCode; 2.0: flow = accessCode.
            if let Some(code) = def.pointer("/flows/authorizationCode") {
                return AuthScheme::OAuth2Code {
                    scheme,
                    authorization_url: text(code, "authorizationUrl").to_owned(),
                    token_url: text(code, "tokenUrl").to_owned(),
                    scopes: scopes_of(code.get("scopes")),
                };
            }
            if text(def, "flow") == "accessCode" {
                return AuthScheme::OAuth2Code {
                    scheme,
                    authorization_url: text(def, "authorizationUrl").to_owned(),
                    token_url: text(def, "tokenUrl").to_owned(),
                    scopes: scopes_of(def.get("scopes")),
                };
            }
            let flows: Vec<String> = def
                .get("flows")
                .and_then(Value::as_object)
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_else(|| vec![text(def, "flow").to_owned()]);
            unsupported(format!(
                "OAuth 2.0 without the authorization-code flow ({}); Steward acts only with a person's delegated grant",
                flows.join(", ")
            ))
        }
        "openIdConnect" => unsupported("OpenID Connect discovery".into()),
        "mutualTLS" => unsupported("mutual TLS".into()),
        other => unsupported(format!("`{other}`")),
    }
}

/// The scheme names an operation accepts, each alternative a list that must all be satisfied,
/// with the OAuth scopes each asks for: the operation's own `security`, else the document's.
pub fn requirements(doc: &Value, operation: &Value) -> Vec<Vec<(String, Vec<String>)>> {
    let Some(Value::Array(alternatives)) =
        operation.get("security").or_else(|| doc.get("security"))
    else {
        return Vec::new();
    };
    alternatives
        .iter()
        .filter_map(Value::as_object)
        .map(|alt| {
            alt.iter()
                .map(|(name, scopes)| {
                    let scopes = scopes
                        .as_array()
                        .map(|s| {
                            s.iter()
                                .filter_map(Value::as_str)
                                .map(str::to_owned)
                                .collect()
                        })
                        .unwrap_or_default();
                    (name.clone(), scopes)
                })
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_oauth_endpoints_are_made_absolute_on_the_api_origin() {
        let scheme = AuthScheme::OAuth2Code {
            scheme: "oauth2".into(),
            authorization_url: "/oauth2/v1/authorize".into(),
            token_url: "https://login.example.com/token".into(),
            scopes: vec![],
        };
        assert_eq!(
            scheme.oauth_endpoints("https://acme.okta.com/api/v1/"),
            Some((
                "https://acme.okta.com/oauth2/v1/authorize".into(),
                "https://login.example.com/token".into()
            ))
        );
        assert_eq!(
            absolute("http://127.0.0.1:8080", "oauth/token"),
            "http://127.0.0.1:8080/oauth/token"
        );
        assert_eq!(
            AuthScheme::Bearer { scheme: "b".into() }.oauth_endpoints("https://x.example"),
            None
        );
    }
}
