//! Every response the simulator gives is checked against `msgraph-it-subset.yaml`: no property,
//! type or shape that Graph's own description does not have.

use reqwest::Method;
use serde_json::{Map, Value, json};

use super::support::{Sim, reference, upn};

/// Derived types Graph returns that the subset does not describe (checked by name only).
const KNOWN_OUTSIDE_SUBSET: &[&str] = &["#microsoft.graph.directoryRole"];

struct Checker<'a> {
    schemas: &'a Value,
    errors: Vec<String>,
}

impl Checker<'_> {
    fn resolve<'s>(&'s self, schema: &'s Value) -> &'s Value {
        match schema.get("$ref").and_then(Value::as_str) {
            Some(r) => r
                .rsplit('/')
                .next()
                .and_then(|n| self.schemas.get(n))
                .map_or(schema, |s| self.resolve(s)),
            None => schema,
        }
    }

    /// Properties of an object schema, `allOf` parts merged.
    fn properties(&self, schema: &Value, out: &mut Map<String, Value>, open: &mut bool) {
        let schema = self.resolve(schema);
        if let Some(parts) = schema.get("allOf").and_then(Value::as_array) {
            for p in parts {
                self.properties(p, out, open);
            }
        }
        if let Some(props) = schema.get("properties").and_then(Value::as_object) {
            out.extend(props.clone());
        }
        if schema
            .get("additionalProperties")
            .is_some_and(|a| a != &Value::Bool(false))
        {
            *open = true;
        }
        // A free-form object (Okta's factor `profile`: "specific attributes related to the
        // factor") names no properties and forbids none.
        if schema.get("type").and_then(Value::as_str) == Some("object")
            && [
                "properties",
                "allOf",
                "additionalProperties",
                "anyOf",
                "oneOf",
            ]
            .iter()
            .all(|k| schema.get(k).is_none())
        {
            *open = true;
        }
    }

    fn check(&mut self, value: &Value, schema: &Value, at: &str) {
        let schema = self.resolve(schema).clone();
        if value.is_null() {
            return; // Graph's description marks nearly everything nullable.
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(branches) = schema.get(key).and_then(Value::as_array) {
                let ok = branches.iter().any(|b| {
                    let mut sub = Checker {
                        schemas: self.schemas,
                        errors: Vec::new(),
                    };
                    sub.check(value, b, at);
                    sub.errors.is_empty()
                });
                if !ok {
                    self.errors
                        .push(format!("{at}: matches no branch of {key}"));
                }
                return;
            }
        }
        if let Some(t) = value.get("@odata.type").and_then(Value::as_str) {
            let name = t.trim_start_matches('#');
            if let Some(derived) = self.schemas.get(name) {
                if derived != &schema {
                    let derived = derived.clone();
                    return self.check(value, &derived, at);
                }
            } else if KNOWN_OUTSIDE_SUBSET.contains(&t) {
                return;
            } else {
                self.errors.push(format!(
                    "{at}: @odata.type `{t}` is not a Graph type of the reference"
                ));
                return;
            }
        }
        let mut props = Map::new();
        let mut open = false;
        self.properties(&schema, &mut props, &mut open);
        let ty = schema
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or(if props.is_empty() { "" } else { "object" });
        match (ty, value) {
            ("object", Value::Object(map)) => {
                for (k, v) in map {
                    if k.starts_with("@odata.") {
                        continue;
                    }
                    match props.get(k) {
                        Some(s) => self.check(v, s, &format!("{at}.{k}")),
                        None if open => {}
                        None => self
                            .errors
                            .push(format!("{at}: property `{k}` is not in the reference")),
                    }
                }
            }
            ("array", Value::Array(items)) => {
                if let Some(item) = schema.get("items") {
                    for (i, v) in items.iter().enumerate() {
                        self.check(v, item, &format!("{at}[{i}]"));
                    }
                }
            }
            ("string", Value::String(s)) => {
                if let Some(values) = schema.get("enum").and_then(Value::as_array)
                    && !values.iter().any(|e| e == &json!(s))
                {
                    self.errors
                        .push(format!("{at}: `{s}` is not one of the enum's values"));
                }
            }
            ("boolean", Value::Bool(_)) | ("number", Value::Number(_)) | ("", _) => {}
            ("integer", Value::Number(n)) if n.is_i64() => {}
            (ty, v) => self.errors.push(format!("{at}: expected {ty}, found {v}")),
        }
    }
}

/// The success (or error) schema of an operation, as the reference declares it.
fn response_schema(reference: &Value, path: &str, method: &str, status: u16) -> Value {
    let op = &reference["paths"][path][method]["responses"];
    let key = if status < 300 {
        "2XX"
    } else if status < 500 {
        "4XX"
    } else {
        "5XX"
    };
    let mut response = op
        .get(status.to_string())
        .or_else(|| op.get(key))
        .cloned()
        .unwrap_or(Value::Null);
    if let Some(r) = response.get("$ref").and_then(Value::as_str) {
        let name = r.rsplit('/').next().unwrap_or_default();
        response = reference["components"]["responses"][name].clone();
    }
    response["content"]["application/json"]["schema"].clone()
}

fn conforms(reference: &Value, path: &str, method: &str, status: u16, body: &Value) -> Vec<String> {
    let schema = response_schema(reference, path, method, status);
    assert!(
        !schema.is_null(),
        "the reference has no {method} {path} {status} schema"
    );
    let mut checker = Checker {
        schemas: &reference["components"]["schemas"],
        errors: Vec::new(),
    };
    checker.check(body, &schema, &format!("{method} {path}"));
    checker.errors
}

/// Like [`conforms`], for answers that may have no body: a 204 must be empty, and an operation
/// whose reference response declares no body must send none.
pub(super) fn conforms_or_empty(
    reference: &Value,
    path: &str,
    method: &str,
    status: u16,
    body: &Value,
) -> Vec<String> {
    let schema = response_schema(reference, path, method, status);
    if status == 204 || schema.is_null() {
        return if body.is_null() {
            Vec::new()
        } else {
            vec![format!(
                "{method} {path} {status}: the reference declares no body, the simulator sent {body}"
            )]
        };
    }
    conforms(reference, path, method, status, body)
}

#[tokio::test]
async fn every_response_matches_the_reference() -> anyhow::Result<()> {
    let reference = reference()?;
    let s = Sim::start().await?;
    let grace = s.token("grace", "Grace", "User.Read.All GroupMember.Read.All AuditLog.Read.All UserAuthenticationMethod.ReadWrite.All User.RevokeSessions.All").await?;
    let adele = s.id_of("adele", &grace).await?;
    let all_user_props = "id,displayName,givenName,surname,userPrincipalName,mail,department,jobTitle,accountEnabled,usageLocation,officeLocation,businessPhones,mobilePhone,employeeId,createdDateTime,lastPasswordChangeDateTime,signInSessionsValidFromDateTime,assignedLicenses,userType,passwordProfile";
    let finance = s
        .get("/v1.0/groups?$filter=displayName%20eq%20'Finance'", &grace)
        .await?
        .body["value"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();

    let mut problems = Vec::new();
    let mut check = |path: &str, method: &str, status: u16, body: &Value| {
        problems.extend(conforms(&reference, path, method, status, body))
    };

    let a = s.get("/v1.0/users?$top=5", &grace).await?;
    check("/users", "get", a.status.as_u16(), &a.body);
    let a = s
        .get(
            &format!("/v1.0/users/{adele}?$select={all_user_props}"),
            &grace,
        )
        .await?;
    check("/users/{user-id}", "get", a.status.as_u16(), &a.body);
    let a = s
        .get(&format!("/v1.0/users/{}/memberOf", upn("grace")), &grace)
        .await?;
    check(
        "/users/{user-id}/memberOf",
        "get",
        a.status.as_u16(),
        &a.body,
    );
    let a = s
        .get(
            &format!("/v1.0/users/{}/manager?$select=id,displayName", upn("tom")),
            &grace,
        )
        .await?;
    assert_eq!(a.status.as_u16(), 200, "{}", a.body);
    assert_eq!(a.body["displayName"], "Victor Alvarez");
    check(
        "/users/{user-id}/manager",
        "get",
        a.status.as_u16(),
        &a.body,
    );
    let a = s
        .get(&format!("/v1.0/users/{}/manager", upn("nestor")), &grace)
        .await?;
    assert_eq!(a.status.as_u16(), 404, "no manager is a 404, as in Graph");
    check(
        "/users/{user-id}/manager",
        "get",
        a.status.as_u16(),
        &a.body,
    );
    let a = s
        .get(
            &format!("/v1.0/users/{adele}/authentication/methods"),
            &grace,
        )
        .await?;
    check(
        "/users/{user-id}/authentication/methods",
        "get",
        a.status.as_u16(),
        &a.body,
    );
    let a = s
        .get(
            "/v1.0/auditLogs/signIns?$filter=userPrincipalName%20eq%20'adele@larkspur.example'",
            &grace,
        )
        .await?;
    check("/auditLogs/signIns", "get", a.status.as_u16(), &a.body);
    let a = s.get("/v1.0/groups", &grace).await?;
    check("/groups", "get", a.status.as_u16(), &a.body);
    let a = s.get(&format!("/v1.0/groups/{finance}"), &grace).await?;
    check("/groups/{group-id}", "get", a.status.as_u16(), &a.body);
    let a = s
        .get(&format!("/v1.0/groups/{finance}/members"), &grace)
        .await?;
    check(
        "/groups/{group-id}/members",
        "get",
        a.status.as_u16(),
        &a.body,
    );
    let a = s
        .call(
            Method::POST,
            &format!("/v1.0/users/{adele}/revokeSignInSessions"),
            Some(&grace),
            None,
        )
        .await?;
    check(
        "/users/{user-id}/revokeSignInSessions",
        "post",
        a.status.as_u16(),
        &a.body,
    );
    let a = s
        .call(
            Method::POST,
            &format!(
                "/v1.0/users/{adele}/authentication/methods/{}/resetPassword",
                steward_sim::PASSWORD_METHOD_ID
            ),
            Some(&grace),
            Some(json!({})),
        )
        .await?;
    assert_eq!(a.status.as_u16(), 202);
    check(
        "/users/{user-id}/authentication/methods/{authenticationMethod-id}/resetPassword",
        "post",
        202,
        &a.body,
    );
    let op = s
        .get(a.location.as_deref().unwrap_or_default(), &grace)
        .await?;
    check(
        "/users/{user-id}/authentication/operations/{longRunningOperation-id}",
        "get",
        op.status.as_u16(),
        &op.body,
    );
    let a = s.get("/v1.0/auditLogs/directoryAudits", &grace).await?;
    assert!(
        !a.body["value"].as_array().is_none_or(Vec::is_empty),
        "writes are recorded"
    );
    check(
        "/auditLogs/directoryAudits",
        "get",
        a.status.as_u16(),
        &a.body,
    );

    // Errors have Graph's error shape.
    let a = s.get("/v1.0/users/nobody@larkspur.example", &grace).await?;
    assert_eq!(a.status.as_u16(), 404);
    assert_eq!(a.body["error"]["code"], "Request_ResourceNotFound");
    check("/users/{user-id}", "get", 404, &a.body);
    let a = s.get("/v1.0/users?$select=favouriteColour", &grace).await?;
    assert_eq!(a.status.as_u16(), 400);
    check("/users", "get", 400, &a.body);
    let a = s.call(Method::GET, "/v1.0/users", None, None).await?;
    assert_eq!(a.status.as_u16(), 401);
    check("/users", "get", 401, &a.body);

    assert!(
        problems.is_empty(),
        "responses that Graph would not give:\n{}",
        problems.join("\n")
    );
    Ok(())
}

#[tokio::test]
async fn the_checker_catches_an_invented_field() -> anyhow::Result<()> {
    let reference = reference()?;
    let body = json!({"value": [{"id": "1", "displayName": "A", "favouriteColour": "blue"}]});
    let problems = conforms(&reference, "/users", "get", 200, &body);
    assert!(
        problems.iter().any(|p| p.contains("favouriteColour")),
        "{problems:?}"
    );
    let body = json!({"value": [{"id": "1", "accountEnabled": "yes"}]});
    assert!(!conforms(&reference, "/users", "get", 200, &body).is_empty());
    Ok(())
}
