//! One action per operation: its parameters and body gathered into one JSON Schema, its risk
//! read from the method and the path, its authentication from the security requirements.

use serde_json::{Map, Value, json};
use steward_domain::{ActionName, ActionSpec, Risk};

use crate::document::SpecVersion;
use crate::refs::{self, Pointer};
use crate::schema::Converter;
use crate::{Body, ImportError, Operation, Param, ParamPlace, Skipped, naming, security};

/// Methods that become actions; `options` and `trace` describe the transport, not the API.
const METHODS: &[&str] = &["get", "head", "post", "put", "patch", "delete"];

/// The largest schema one action may carry, `$defs` included.
pub const MAX_SCHEMA_BYTES: usize = 2 * 1024 * 1024;

/// The most operations taken from one document.
pub const MAX_OPERATIONS: usize = 5_000;

/// The longest description kept on a parameter.
const MAX_DESCRIPTION: usize = 400;

/// Every operation of the document, in path order.
pub fn all(
    doc: &Value,
    version: SpecVersion,
    system: &str,
) -> Result<(Vec<Operation>, Vec<Skipped>), ImportError> {
    let paths = match doc.get("paths") {
        Some(Value::Object(paths)) => paths,
        Some(_) => {
            return Err(ImportError::Malformed {
                at: "#/paths".into(),
                problem: "`paths` must map paths to operations".into(),
            });
        }
        None => return Ok((Vec::new(), Vec::new())),
    };
    let count: usize = paths
        .values()
        .filter_map(Value::as_object)
        .map(|item| {
            item.keys()
                .filter(|k| METHODS.contains(&k.as_str()))
                .count()
        })
        .sum();
    if count > MAX_OPERATIONS {
        return Err(ImportError::TooManyOperations {
            count,
            limit: MAX_OPERATIONS,
        });
    }
    let mut converter = Converter::new(doc, version);
    let mut operations = Vec::new();
    let mut skipped = Vec::new();
    let mut names = std::collections::BTreeSet::new();
    let root = Pointer::root().child("paths");
    for (path, item) in paths {
        let at = root.child(path);
        let (at, item) = refs::resolve(doc, item, &at)?;
        let Some(item_map) = item.as_object() else {
            return Err(ImportError::Malformed {
                at: at.to_string(),
                problem: "a path item must be an object".into(),
            });
        };
        for (method, op) in item_map {
            if !METHODS.contains(&method.as_str()) {
                if matches!(method.as_str(), "options" | "trace") {
                    skipped.push(Skipped {
                        operation: format!("{} {path}", method.to_ascii_uppercase()),
                        reason: "describes the transport, not the API".into(),
                    });
                }
                continue;
            }
            let op_at = at.child(method);
            if !op.is_object() {
                return Err(ImportError::Malformed {
                    at: op_at.to_string(),
                    problem: "an operation must be an object".into(),
                });
            }
            let built = one(
                doc,
                version,
                &mut converter,
                system,
                path,
                method,
                item,
                op,
                &op_at,
            )?;
            let mut name = built.spec.name.to_string();
            let mut n = 2;
            while names.contains(&name) {
                name = format!("{}_{n}", built.spec.name);
                n += 1;
            }
            names.insert(name.clone());
            let mut built = built;
            built.spec.name = ActionName::new(&name).map_err(|_| ImportError::Malformed {
                at: op_at.to_string(),
                problem: format!("`{name}` is not a usable action name"),
            })?;
            operations.push(built);
        }
    }
    Ok((operations, skipped))
}

fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
}

fn shorten(text: &str, max: usize) -> String {
    let line = text.trim();
    if line.chars().count() <= max {
        return line.to_owned();
    }
    let cut: String = line.chars().take(max).collect();
    format!("{}…", cut.trim_end())
}

#[expect(
    clippy::too_many_arguments,
    reason = "one operation's context, passed once"
)]
fn one(
    doc: &Value,
    version: SpecVersion,
    converter: &mut Converter<'_>,
    system: &str,
    path: &str,
    method: &str,
    item: &Value,
    op: &Value,
    at: &Pointer,
) -> Result<Operation, ImportError> {
    let label = format!("{} {path}", method.to_ascii_uppercase());
    // Path-level parameters apply unless the operation redefines one (same name and place).
    let mut raw: Vec<(Pointer, &Value)> = Vec::new();
    for (source, base) in [(item, at.parent()), (op, at.clone())] {
        let Some(list) = source.get("parameters") else {
            continue;
        };
        let list = list.as_array().ok_or_else(|| ImportError::Malformed {
            at: base.child("parameters").to_string(),
            problem: "`parameters` must be a list".into(),
        })?;
        for (i, p) in list.iter().enumerate() {
            let (p_at, p) = refs::resolve(doc, p, &base.child("parameters").child(&i.to_string()))?;
            let (name, place) = (text(p, "name"), text(p, "in"));
            let (Some(name), Some(place)) = (name, place) else {
                return Err(ImportError::Malformed {
                    at: p_at.to_string(),
                    problem: "a parameter needs `name` and `in`".into(),
                });
            };
            raw.retain(|(_, q)| !(text(q, "name") == Some(name) && text(q, "in") == Some(place)));
            raw.push((p_at, p));
        }
    }
    let mut properties = Map::new();
    let mut required: Vec<String> = Vec::new();
    let mut params: Vec<Param> = Vec::new();
    let mut form: Vec<(Pointer, &Value)> = Vec::new();
    let mut body: Option<(Value, Body)> = None;
    for (p_at, p) in &raw {
        let name = text(p, "name").unwrap_or_default();
        let place = match text(p, "in").unwrap_or_default() {
            "path" => ParamPlace::Path,
            "query" => ParamPlace::Query,
            "header" => ParamPlace::Header,
            "cookie" => ParamPlace::Cookie,
            "body" if version == SpecVersion::Swagger2 => {
                let schema = p.get("schema").unwrap_or(&Value::Bool(true));
                let converted = converter.convert(schema, &p_at.child("schema"))?;
                let media = consumes(doc, op).unwrap_or_else(|| "application/json".into());
                body = Some((
                    describe(converted, p),
                    Body {
                        key: String::new(),
                        media_type: media,
                        required: p.get("required") == Some(&Value::Bool(true)),
                    },
                ));
                continue;
            }
            "formData" if version == SpecVersion::Swagger2 => {
                form.push((p_at.clone(), p));
                continue;
            }
            other => {
                return Err(ImportError::Malformed {
                    at: p_at.to_string(),
                    problem: format!("`in: {other}` is not a parameter location"),
                });
            }
        };
        // The client sets these itself (OpenAPI 3 says such parameters are ignored).
        if place == ParamPlace::Header
            && ["accept", "content-type", "authorization"]
                .contains(&name.to_ascii_lowercase().as_str())
        {
            continue;
        }
        let schema = param_schema(converter, version, p, p_at)?;
        let key = if properties.contains_key(name) {
            format!("{}_{name}", place.as_str())
        } else {
            name.to_owned()
        };
        let is_required =
            place == ParamPlace::Path || p.get("required") == Some(&Value::Bool(true));
        if is_required {
            required.push(key.clone());
        }
        properties.insert(key.clone(), describe(schema, p));
        params.push(Param {
            key,
            name: name.to_owned(),
            place,
            required: is_required,
        });
    }
    if !form.is_empty() {
        let mut props = Map::new();
        let mut req = Vec::new();
        let mut file = false;
        for (p_at, p) in &form {
            let name = text(p, "name").unwrap_or_default().to_owned();
            file |= text(p, "type") == Some("file");
            if p.get("required") == Some(&Value::Bool(true)) {
                req.push(json!(name));
            }
            let schema = param_schema(converter, version, p, p_at)?;
            props.insert(name, describe(schema, p));
        }
        let media = if file {
            "multipart/form-data"
        } else {
            "application/x-www-form-urlencoded"
        };
        let any_required = !req.is_empty();
        body = Some((
            json!({"type": "object", "properties": props, "required": req}),
            Body {
                key: String::new(),
                media_type: media.into(),
                required: any_required,
            },
        ));
    }
    if version != SpecVersion::Swagger2
        && let Some(request_body) = op.get("requestBody")
    {
        let (rb_at, rb) = refs::resolve(doc, request_body, &at.child("requestBody"))?;
        let content = rb.get("content").and_then(Value::as_object);
        let chosen = content.and_then(|c| {
            let order = |m: &str| {
                let m = m.to_ascii_lowercase();
                if m == "application/json" {
                    0
                } else if m.ends_with("+json") || m.contains("json") {
                    1
                } else if m == "application/x-www-form-urlencoded" {
                    2
                } else if m == "multipart/form-data" {
                    3
                } else {
                    4
                }
            };
            c.iter().min_by_key(|(m, _)| order(m))
        });
        if let Some((media, media_obj)) = chosen {
            let schema = match media_obj.get("schema") {
                Some(s) => {
                    converter.convert(s, &rb_at.child("content").child(media).child("schema"))?
                }
                None => Value::Bool(true),
            };
            body = Some((
                describe(schema, rb),
                Body {
                    key: String::new(),
                    media_type: media.clone(),
                    required: rb.get("required") == Some(&Value::Bool(true)),
                },
            ));
        }
    }
    let body = body.map(|(schema, mut b)| {
        b.key = if properties.contains_key("body") {
            "requestBody".into()
        } else {
            "body".into()
        };
        if b.required {
            required.push(b.key.clone());
        }
        properties.insert(b.key.clone(), schema);
        b
    });
    let mut schema = json!({
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    });
    let defs = converter.defs_reached_from(&schema);
    if !defs.is_empty()
        && let Some(obj) = schema.as_object_mut()
    {
        obj.insert("$defs".into(), json!(defs));
    }
    let schema = usable(schema, &label)?;

    let operation_id = text(op, "operationId");
    let name = format!(
        "{system}.{}.{}",
        naming::resource(path),
        naming::operation(method, path, operation_id)
    );
    let name = ActionName::new(&name).map_err(|_| ImportError::Malformed {
        at: at.to_string(),
        problem: format!("`{name}` is not a usable action name"),
    })?;
    let mutating = !matches!(method, "get" | "head");
    let requirements = security::requirements(doc, op);
    let permissions: Vec<String> = {
        let mut scopes: Vec<String> = requirements
            .iter()
            .flatten()
            .flat_map(|(_, s)| s.iter().cloned())
            .collect();
        scopes.sort();
        scopes.dedup();
        scopes
    };
    let summary = text(op, "summary")
        .or_else(|| text(op, "description").and_then(|d| d.lines().find(|l| !l.trim().is_empty())))
        .map(|s| shorten(s, 200))
        .unwrap_or_else(|| label.clone());
    let spec = ActionSpec {
        name,
        summary,
        params_schema: schema,
        mutating,
        // At least medium: Steward cannot know what an imported read reveals, so rules meant
        // for low-risk directory look-ups (open to everyone) never reach it.
        risk: risk(method, path, operation_id).max(Risk::Medium),
        targets: Vec::new(),
        undo: None,
        verification: if mutating {
            "the API's answer: a 2xx status is success (an imported integration has no read-back of its own)".into()
        } else {
            String::new()
        },
        calls: vec![label],
        permissions,
    };
    Ok(Operation {
        spec,
        method: method.to_ascii_uppercase(),
        path: path.to_owned(),
        params,
        body,
        security: requirements
            .into_iter()
            .map(|alt| alt.into_iter().map(|(name, _)| name).collect())
            .collect(),
    })
}

/// The schema of a 3.x parameter (`schema`, or the first `content` entry's) or of a 2.0
/// parameter (its own type keywords).
fn param_schema(
    converter: &mut Converter<'_>,
    version: SpecVersion,
    p: &Value,
    at: &Pointer,
) -> Result<Value, ImportError> {
    if version == SpecVersion::Swagger2 {
        let keep = [
            "type",
            "format",
            "items",
            "enum",
            "default",
            "maximum",
            "minimum",
            "exclusiveMaximum",
            "exclusiveMinimum",
            "maxLength",
            "minLength",
            "pattern",
            "maxItems",
            "minItems",
            "uniqueItems",
            "multipleOf",
            "x-nullable",
        ];
        let own: Map<String, Value> = p
            .as_object()
            .map(|m| {
                m.iter()
                    .filter(|(k, _)| keep.contains(&k.as_str()))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            })
            .unwrap_or_default();
        return converter.convert(&Value::Object(own), at);
    }
    if let Some(schema) = p.get("schema") {
        return converter.convert(schema, &at.child("schema"));
    }
    if let Some((media, m)) = p
        .get("content")
        .and_then(Value::as_object)
        .and_then(|c| c.iter().next())
        && let Some(schema) = m.get("schema")
    {
        return converter.convert(schema, &at.child("content").child(media).child("schema"));
    }
    Ok(json!({"type": "string"}))
}

/// Puts the parameter's or body's description on its schema (shortened), for people and models.
fn describe(mut schema: Value, source: &Value) -> Value {
    if let (Some(obj), Some(d)) = (schema.as_object_mut(), text(source, "description"))
        && !obj.contains_key("description")
    {
        obj.insert("description".into(), json!(shorten(d, MAX_DESCRIPTION)));
    }
    schema
}

fn consumes(doc: &Value, op: &Value) -> Option<String> {
    let list = op
        .get("consumes")
        .or_else(|| doc.get("consumes"))?
        .as_array()?;
    let media: Vec<&str> = list.iter().filter_map(Value::as_str).collect();
    media
        .iter()
        .find(|m| m.contains("json"))
        .or_else(|| media.first())
        .map(|m| (*m).to_owned())
}

/// Checks the schema compiles as the gateway will compile it. A `pattern` in a regex dialect
/// the validator does not know is dropped (the API still checks it); anything else is an error.
fn usable(schema: Value, label: &str) -> Result<Value, ImportError> {
    let size = serde_json::to_vec(&schema)
        .map(|b| b.len())
        .unwrap_or(usize::MAX);
    if size > MAX_SCHEMA_BYTES {
        return Err(ImportError::SchemaTooLarge {
            operation: label.to_owned(),
            limit: MAX_SCHEMA_BYTES,
        });
    }
    if jsonschema::validator_for(&schema).is_ok() {
        return Ok(schema);
    }
    let mut relaxed = schema;
    strip_patterns(&mut relaxed);
    match jsonschema::validator_for(&relaxed) {
        Ok(_) => Ok(relaxed),
        Err(e) => Err(ImportError::Malformed {
            at: label.to_owned(),
            problem: format!("its parameters do not make a usable JSON Schema: {e}"),
        }),
    }
}

fn strip_patterns(v: &mut Value) {
    let mut pending: Vec<&mut Value> = vec![v];
    while let Some(v) = pending.pop() {
        match v {
            Value::Object(map) => {
                if map.get("pattern").is_some_and(Value::is_string) {
                    map.remove("pattern");
                }
                if map.get("patternProperties").is_some_and(Value::is_object) {
                    map.remove("patternProperties");
                }
                pending.extend(map.values_mut());
            }
            Value::Array(items) => pending.extend(items.iter_mut()),
            _ => {}
        }
    }
}

/// Words in a path or operation id that make a change security-relevant.
const SENSITIVE: &[&str] = &[
    "password",
    "passwords",
    "secret",
    "secrets",
    "token",
    "tokens",
    "credential",
    "credentials",
    "key",
    "keys",
    "mfa",
    "factor",
    "factors",
    "role",
    "roles",
    "admin",
    "admins",
    "permission",
    "permissions",
    "grant",
    "grants",
    "privilege",
    "privileges",
    "policy",
    "policies",
    "session",
    "sessions",
    "lifecycle",
    "suspend",
    "deactivate",
    "disable",
    "lock",
    "unlock",
    "reset",
    "owner",
    "owners",
    "member",
    "members",
    "verification",
    "two",
    "step",
    "2fa",
    "sso",
    "auth",
    "authenticator",
    "authenticators",
    "enrollment",
    "enrollments",
];

/// Words naming something whose loss is hard to undo.
const DESTRUCTIVE: &[&str] = &[
    "wipe",
    "purge",
    "destroy",
    "erase",
    "delete",
    "remove",
    "retire",
    "terminate",
];

/// Entities whose deletion removes a person's, a team's or the whole organisation's access.
const ENTITIES: &[&str] = &[
    "user",
    "users",
    "account",
    "accounts",
    "tenant",
    "tenants",
    "org",
    "orgs",
    "organization",
    "organizations",
    "organisation",
    "organisations",
    "group",
    "groups",
    "customer",
    "customers",
    "domain",
    "domains",
    "app",
    "apps",
    "application",
    "applications",
    "device",
    "devices",
    "project",
    "projects",
    "repository",
    "repositories",
    "site",
    "sites",
    "workspace",
    "workspaces",
    "team",
    "teams",
];

/// Risk from the method and the words of the path and operation id: reads are low (medium when
/// they read secrets), changes medium (high when security-relevant), deletions high (critical
/// when they delete a person, group, app or organisation itself, or wipe).
pub fn risk(method: &str, path: &str, operation_id: Option<&str>) -> Risk {
    let mut words: Vec<String> = Vec::new();
    for part in path
        .split(|c: char| !c.is_ascii_alphanumeric())
        .chain(operation_id)
    {
        words.extend(naming::snake(part, 200).split('_').map(str::to_owned));
    }
    let has = |list: &[&str]| words.iter().any(|w| list.contains(&w.as_str()));
    let last_literal = path
        .split('/')
        .rev()
        .find(|s| !(s.is_empty() || (s.starts_with('{') && s.ends_with('}'))))
        .map(|s| naming::snake(s, 100))
        .unwrap_or_default();
    let ends_in_param = path.trim_end_matches('/').ends_with('}');
    match method {
        "get" | "head" => {
            if has(&[
                "secret",
                "secrets",
                "password",
                "passwords",
                "credential",
                "credentials",
                "token",
                "tokens",
                "key",
                "keys",
            ]) {
                Risk::Medium
            } else {
                Risk::Low
            }
        }
        "delete" => {
            if has(&["wipe", "purge", "destroy", "erase"])
                || (ends_in_param && ENTITIES.contains(&last_literal.as_str()))
            {
                Risk::Critical
            } else {
                Risk::High
            }
        }
        _ => {
            if ["wipe", "purge", "destroy", "erase"]
                .iter()
                .any(|w| last_literal.contains(w))
            {
                Risk::Critical
            } else if has(SENSITIVE) || has(DESTRUCTIVE) {
                Risk::High
            } else {
                Risk::Medium
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn risk_follows_the_method_and_what_the_path_touches() {
        assert_eq!(risk("get", "/api/v1/users", Some("listUsers")), Risk::Low);
        assert_eq!(risk("get", "/api/v1/apiTokens", None), Risk::Medium);
        assert_eq!(
            risk("post", "/rest/api/3/issue", Some("createIssue")),
            Risk::Medium
        );
        assert_eq!(
            risk(
                "post",
                "/api/v1/users/{id}/lifecycle/unlock",
                Some("unlockUser")
            ),
            Risk::High
        );
        assert_eq!(
            risk("delete", "/api/v1/users/{id}", Some("deleteUser")),
            Risk::Critical
        );
        assert_eq!(
            risk("delete", "/api/v1/users/{userId}/sessions", None),
            Risk::High
        );
        assert_eq!(
            risk("post", "/deviceManagement/managedDevices/{id}/wipe", None),
            Risk::Critical
        );
        assert_eq!(
            risk("patch", "/tickets/{id}", Some("updateTicket")),
            Risk::Medium
        );
    }
}
