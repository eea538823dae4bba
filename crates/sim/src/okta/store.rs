//! The org's state: users, factors, groups, apps, the System Log and the grants of the org
//! authorization server.

use std::collections::HashMap;

use chrono::{Duration, SecondsFormat, Utc};
use serde_json::{Value, json};

/// A user, with what the API shows and what only the simulator knows.
#[derive(Debug, Clone)]
pub(crate) struct OktaUser {
    pub id: String,
    pub status: String,
    pub profile: Value,
    pub credentials: Value,
    pub password: String,
    pub roles: Vec<String>,
    pub created: String,
    pub status_changed: String,
    pub last_updated: String,
    pub password_changed: String,
    pub sessions_cleared: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct Factor {
    pub user: String,
    pub body: Value,
}

#[derive(Debug, Clone)]
pub(crate) struct Group {
    pub id: String,
    pub kind: String,
    pub profile: Value,
    pub members: Vec<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct App {
    pub id: String,
    pub body: Value,
    pub users: Vec<String>,
}

/// Who an access or refresh token stands for, and what it may do.
#[derive(Debug, Clone)]
pub(crate) struct Grant {
    pub user: String,
    pub scopes: Vec<String>,
    pub client: String,
}

/// An authorization code waiting to be exchanged.
#[derive(Debug, Clone)]
pub(crate) struct Code {
    pub grant: Grant,
    pub challenge: String,
    pub redirect_uri: String,
}

#[derive(Debug, Default)]
pub(crate) struct Org {
    pub base_url: String,
    pub clients: Vec<(String, Vec<String>)>,
    pub users: Vec<OktaUser>,
    pub factors: Vec<Factor>,
    pub groups: Vec<Group>,
    pub apps: Vec<App>,
    pub logs: Vec<Value>,
    pub access: HashMap<String, Grant>,
    pub refresh: HashMap<String, Grant>,
    pub codes: HashMap<String, Code>,
    pub throttle: u32,
}

pub(crate) fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn text(v: &Value, pointer: &str) -> String {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn ids(v: &Value, key: &str) -> Vec<String> {
    v.get(key)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

impl Org {
    /// The org a seed describes (`seeds/okta-demo.json`'s shape).
    pub fn from_seed(seed: &Value, base_url: &str) -> Result<Self, String> {
        let start = Utc::now();
        let long_ago = (start - Duration::days(400)).to_rfc3339_opts(SecondsFormat::Millis, true);
        let mut org = Self {
            base_url: base_url.to_owned(),
            ..Self::default()
        };
        for c in seed["clients"].as_array().into_iter().flatten() {
            org.clients
                .push((text(c, "/clientId"), ids(c, "redirectUris")));
        }
        for u in seed["users"].as_array().ok_or("the seed has no users")? {
            let id = text(u, "/id");
            if id.is_empty() {
                return Err("a user has no id".into());
            }
            org.users.push(OktaUser {
                id,
                status: text(u, "/status"),
                profile: u["profile"].clone(),
                credentials: u["credentials"].clone(),
                password: text(u, "/x-steward-sim/password"),
                roles: u
                    .pointer("/x-steward-sim/adminRoles")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(Value::as_str)
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default(),
                created: long_ago.clone(),
                status_changed: long_ago.clone(),
                last_updated: long_ago.clone(),
                password_changed: long_ago.clone(),
                sessions_cleared: None,
            });
        }
        for f in seed["factors"].as_array().into_iter().flatten() {
            let mut body = f.clone();
            if let Some(obj) = body.as_object_mut() {
                obj.remove("userId");
                obj.insert("created".into(), json!(long_ago));
                obj.insert("lastUpdated".into(), json!(long_ago));
            }
            org.factors.push(Factor {
                user: text(f, "/userId"),
                body,
            });
        }
        for g in seed["groups"].as_array().into_iter().flatten() {
            org.groups.push(Group {
                id: text(g, "/id"),
                kind: text(g, "/type"),
                profile: g["profile"].clone(),
                members: ids(g, "members"),
            });
        }
        for a in seed["apps"].as_array().into_iter().flatten() {
            let mut body = a.clone();
            if let Some(obj) = body.as_object_mut() {
                obj.remove("users");
            }
            org.apps.push(App {
                id: text(a, "/id"),
                body,
                users: ids(a, "users"),
            });
        }
        let mut seeded: Vec<(i64, Value)> = Vec::new();
        for e in seed["logs"].as_array().into_iter().flatten() {
            let minutes = e
                .pointer("/x-steward-sim/minutesAgo")
                .and_then(Value::as_i64)
                .unwrap_or(0);
            let actor_id = text(e, "/actor");
            let actor = org.users.iter().find(|u| u.id == actor_id).cloned();
            let published =
                (start - Duration::minutes(minutes)).to_rfc3339_opts(SecondsFormat::Millis, true);
            let mut event = org.event(
                actor.as_ref(),
                &text(e, "/eventType"),
                &text(e, "/displayMessage"),
                actor.as_ref(),
                e["outcome"].clone(),
            );
            event["published"] = json!(published);
            seeded.push((minutes, event));
        }
        seeded.sort_by_key(|(m, _)| -m);
        org.logs = seeded.into_iter().map(|(_, e)| e).collect();
        Ok(org)
    }

    /// A user by id, login or e-mail (case-insensitive), as Okta's `{id}` accepts.
    pub fn user_by_key(&self, key: &str) -> Option<&OktaUser> {
        self.users.iter().find(|u| {
            u.id == key
                || text(&u.profile, "/login").eq_ignore_ascii_case(key)
                || text(&u.profile, "/email").eq_ignore_ascii_case(key)
        })
    }

    pub fn user_index(&self, key: &str) -> Option<usize> {
        let id = self.user_by_key(key)?.id.clone();
        self.users.iter().position(|u| u.id == id)
    }

    /// The user as `GET /api/v1/users/{id}` shows it.
    pub fn show_user(&self, u: &OktaUser) -> Value {
        json!({
            "id": u.id,
            "status": u.status,
            "created": u.created,
            "activated": u.created,
            "statusChanged": u.status_changed,
            "lastLogin": null,
            "lastUpdated": u.last_updated,
            "passwordChanged": u.password_changed,
            "type": {"id": "oty1defaultUserType01"},
            "profile": u.profile,
            "credentials": u.credentials,
            "_links": {"self": {"href": format!("{}/api/v1/users/{}", self.base_url, u.id)}}
        })
    }

    /// A group as the API shows it.
    pub fn show_group(&self, g: &Group) -> Value {
        json!({
            "id": g.id,
            "created": "2024-01-01T00:00:00.000Z",
            "lastUpdated": "2024-01-01T00:00:00.000Z",
            "lastMembershipUpdated": now(),
            "objectClass": ["okta:user_group"],
            "type": g.kind,
            "profile": g.profile,
            "_links": {"self": {"href": format!("{}/api/v1/groups/{}", self.base_url, g.id)}}
        })
    }

    /// A System Log event in Okta's shape.
    pub fn event(
        &self,
        actor: Option<&OktaUser>,
        event_type: &str,
        message: &str,
        target: Option<&OktaUser>,
        outcome: Value,
    ) -> Value {
        let who = |u: &OktaUser| {
            json!({"id": u.id, "type": "User", "alternateId": text(&u.profile, "/login"),
                   "displayName": format!("{} {}", text(&u.profile, "/firstName"), text(&u.profile, "/lastName")),
                   "detailEntry": null})
        };
        json!({
            "actor": actor.map_or_else(|| json!({"id": "unknown", "type": "PublicClientApp"}), who),
            "client": {"userAgent": {"rawUserAgent": "Mozilla/5.0", "os": "Mac OS X", "browser": "CHROME"},
                       "zone": null, "device": "Computer", "id": null, "ipAddress": "203.0.113.7"},
            "displayMessage": message,
            "eventType": event_type,
            "outcome": outcome,
            "published": now(),
            "severity": if outcome_failed(event_type) { "WARN" } else { "INFO" },
            "legacyEventType": null,
            "transaction": {"type": "WEB", "id": uuid::Uuid::new_v4().simple().to_string(), "detail": {}},
            "uuid": uuid::Uuid::new_v4().to_string(),
            "version": "0",
            "target": target.map(|t| vec![who(t)]).unwrap_or_default()
        })
    }

    /// Writes an event for a change `actor` made to `target`.
    pub fn log_change(&mut self, actor: &str, event_type: &str, message: &str, target: &str) {
        let actor = self.users.iter().find(|u| u.id == actor).cloned();
        let target = self.users.iter().find(|u| u.id == target).cloned();
        let event = self.event(
            actor.as_ref(),
            event_type,
            message,
            target.as_ref(),
            json!({"result": "SUCCESS", "reason": null}),
        );
        self.logs.push(event);
    }
}

fn outcome_failed(event_type: &str) -> bool {
    event_type.contains("lock") || event_type.contains("deny")
}
