//! The Okta connector: the calls behind each action, their previews, read-backs and the
//! reconciliation of a change whose answer was lost.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use reqwest::Method;
use serde_json::{Value, json};
use steward_domain::{ActionCall, ActionSpec, Change, Target, TargetKind};

use super::actions::{
    AppParams, FactorsParams, GroupParams, LogsParams, ProfileParams, SearchParams,
    TempPasswordParams, UserParams,
};
use super::client::OktaClient;
use crate::msgraph::actions::parse;
use crate::{ActionResult, Connector, ConnectorError, Reconciliation, Verification};

/// Acts in one Okta org with one Okta admin's delegated grant.
pub struct OktaConnector {
    client: OktaClient,
}

fn text(v: &Value, pointer: &str) -> String {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// The status each lifecycle change leaves behind.
fn status_after(action: &str) -> Option<&'static str> {
    Some(match action {
        "okta.user.unlock" | "okta.user.unsuspend" | "okta.user.activate" => "ACTIVE",
        "okta.user.suspend" => "SUSPENDED",
        "okta.user.deactivate" => "DEPROVISIONED",
        "okta.user.reset_password" => "RECOVERY",
        "okta.user.expire_password" | "okta.user.temp_password" => "PASSWORD_EXPIRED",
        _ => return None,
    })
}

/// The lifecycle operation of an action.
fn lifecycle_of(action: &str) -> Option<&'static str> {
    Some(match action {
        "okta.user.unlock" => "unlock",
        "okta.user.suspend" => "suspend",
        "okta.user.unsuspend" => "unsuspend",
        "okta.user.deactivate" => "deactivate",
        "okta.user.activate" => "activate",
        "okta.user.reset_password" => "reset_password",
        "okta.user.expire_password" => "expire_password",
        _ => return None,
    })
}

/// A person's account as Steward reports it: who masters the password, and what it shows.
fn account(user: &Value) -> Value {
    let provider = text(user, "/credentials/provider/type");
    json!({
        "id": user["id"],
        "login": user.pointer("/profile/login"),
        "email": user.pointer("/profile/email"),
        "status": user["status"],
        "statusChanged": user["statusChanged"],
        "passwordChanged": user["passwordChanged"],
        "lastLogin": user["lastLogin"],
        "department": user.pointer("/profile/department"),
        "title": user.pointer("/profile/title"),
        "credentialProvider": provider,
        // Okta holds the password only when it is the provider; AD- or IdP-mastered passwords
        // are changed where they live.
        "mastersPassword": provider == "OKTA",
    })
}

impl OktaConnector {
    /// A connector over `client`.
    pub fn new(client: OktaClient) -> Self {
        Self { client }
    }

    async fn user(&self, key: &str) -> Result<Value, ConnectorError> {
        let url = self.client.url(&["users", key], &[])?;
        Ok(self.client.send(Method::GET, url, None).await?.body)
    }

    async fn group_id(&self, key: &str) -> Result<(String, String), ConnectorError> {
        let url = self.client.url(&["groups"], &[("q", key.to_owned())])?;
        let groups = self.client.get_all(url, 200).await?;
        groups
            .iter()
            .find(|g| g["id"] == key || text(g, "/profile/name").eq_ignore_ascii_case(key))
            .map(|g| (text(g, "/id"), text(g, "/profile/name")))
            .ok_or_else(|| ConnectorError::NotFound {
                platform: "Okta",
                code: "E0000007".into(),
                message: format!("no Okta group is called `{key}`"),
                request_id: None,
            })
    }

    async fn app_id(&self, key: &str) -> Result<(String, String), ConnectorError> {
        let url = self.client.url(&["apps"], &[])?;
        let apps = self.client.get_all(url, 1000).await?;
        apps.iter()
            .find(|a| a["id"] == key || text(a, "/label").eq_ignore_ascii_case(key))
            .map(|a| (text(a, "/id"), text(a, "/label")))
            .ok_or_else(|| ConnectorError::NotFound {
                platform: "Okta",
                code: "E0000007".into(),
                message: format!("no Okta application is called `{key}`"),
                request_id: None,
            })
    }

    async fn group_names(&self, user: &str) -> Result<Vec<String>, ConnectorError> {
        let url = self.client.url(&["users", user, "groups"], &[])?;
        let groups = self.client.get_all(url, 1000).await?;
        Ok(groups.iter().map(|g| text(g, "/profile/name")).collect())
    }

    async fn app_has(&self, app: &str, user_id: &str) -> Result<bool, ConnectorError> {
        let url = self.client.url(&["apps", app, "users"], &[])?;
        Ok(self
            .client
            .get_all(url, 5000)
            .await?
            .iter()
            .any(|u| u["id"] == user_id))
    }

    async fn factors(&self, user: &str) -> Result<Vec<Value>, ConnectorError> {
        let url = self.client.url(&["users", user, "factors"], &[])?;
        Ok(self
            .client
            .send(Method::GET, url, None)
            .await?
            .body
            .as_array()
            .cloned()
            .unwrap_or_default())
    }

    async fn events(
        &self,
        user_id: &str,
        since: DateTime<Utc>,
        failures_only: bool,
        limit: usize,
    ) -> Result<Vec<Value>, ConnectorError> {
        let mut filter = format!("actor.id eq \"{user_id}\" or target.id eq \"{user_id}\"");
        if failures_only {
            filter = format!("(actor.id eq \"{user_id}\") and outcome.result eq \"FAILURE\"");
        }
        let url = self.client.url(
            &["logs"],
            &[
                (
                    "since",
                    since.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                ),
                ("filter", filter),
                ("sortOrder", "DESCENDING".into()),
                ("limit", limit.min(1000).to_string()),
            ],
        )?;
        let mut events = self.client.get_all(url, limit).await?;
        if failures_only {
            // Lockouts are a success for the log, a failure for the person.
            let url = self.client.url(
                &["logs"],
                &[
                    (
                        "since",
                        since.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                    ),
                    (
                        "filter",
                        format!("eventType eq \"user.account.lock\" and actor.id eq \"{user_id}\""),
                    ),
                ],
            )?;
            events.extend(self.client.get_all(url, limit).await?);
        }
        Ok(events
            .into_iter()
            .map(|e| {
                json!({"published": e["published"], "eventType": e["eventType"], "displayMessage": e["displayMessage"],
                       "outcome": e["outcome"], "actor": e.pointer("/actor/alternateId"),
                       "ipAddress": e.pointer("/client/ipAddress")})
            })
            .collect())
    }

    async fn dispatch(&self, call: &ActionCall) -> Result<ActionResult, ConnectorError> {
        let action = call.action.as_str();
        let done = |output: Value, summary: String| ActionResult {
            output,
            summary,
            before: None,
            after: None,
            platform_request_id: None,
        };
        match action {
            "okta.user.get" => {
                let p: UserParams = parse(action, &call.params)?;
                let user = self.user(&p.user).await?;
                Ok(done(
                    account(&user),
                    format!("read the Okta account of {}", p.user),
                ))
            }
            "okta.user.search" => {
                let p: SearchParams = parse(action, &call.params)?;
                let top = p.top.unwrap_or(20) as usize;
                let url = self.client.url(
                    &["users"],
                    &[("q", p.query.clone()), ("limit", top.to_string())],
                )?;
                let users = self.client.get_all(url, top).await?;
                let found: Vec<Value> = users.iter().map(account).collect();
                Ok(done(
                    json!(found),
                    format!("{} Okta account(s) match `{}`", found.len(), p.query),
                ))
            }
            "okta.user.list_groups" => {
                let p: UserParams = parse(action, &call.params)?;
                let names = self.group_names(&p.user).await?;
                Ok(done(
                    json!(names),
                    format!("{} is in {} Okta group(s)", p.user, names.len()),
                ))
            }
            "okta.user.update_profile" => {
                let p: ProfileParams = parse(action, &call.params)?;
                let mut profile = serde_json::Map::new();
                for (k, v) in [
                    ("department", &p.department),
                    ("title", &p.title),
                    ("mobilePhone", &p.mobile_phone),
                ] {
                    if let Some(v) = v {
                        profile.insert(k.into(), json!(v));
                    }
                }
                if profile.is_empty() {
                    return Err(ConnectorError::BadParams {
                        action: action.into(),
                        reason: "name at least one attribute to change".into(),
                    });
                }
                let before = self.user(&p.user).await?;
                let url = self.client.url(&["users", &p.user], &[])?;
                let after = self
                    .client
                    .send(Method::POST, url, Some(&json!({"profile": profile})))
                    .await?
                    .body;
                Ok(ActionResult {
                    output: account(&after),
                    summary: format!("updated the Okta profile of {}", p.user),
                    before: Some(before["profile"].clone()),
                    after: Some(after["profile"].clone()),
                    platform_request_id: None,
                })
            }
            "okta.user.temp_password" => {
                let p: TempPasswordParams = parse(action, &call.params)?;
                let revoke = p.revoke_sessions.unwrap_or(true);
                let url = self.client.url(
                    &[
                        "users",
                        &p.user,
                        "lifecycle",
                        "expire_password_with_temp_password",
                    ],
                    &[("revokeSessions", revoke.to_string())],
                )?;
                let answer = self.client.send(Method::POST, url, None).await?.body;
                let temp = answer["tempPassword"].as_str().ok_or_else(|| {
                    crate::ConnectorError::Transport {
                        platform: "Okta",
                        source: crate::TransportError("the answer carries no tempPassword".into()),
                    }
                })?;
                Ok(done(
                    json!({"temporaryPassword": temp, "sessionsRevoked": revoke}),
                    format!(
                        "gave {} a temporary Okta password, to be changed at next sign-in",
                        p.user
                    ),
                ))
            }
            "okta.factors.list" => {
                let p: UserParams = parse(action, &call.params)?;
                let factors: Vec<Value> = self
                    .factors(&p.user)
                    .await?
                    .iter()
                    .map(|f| json!({"id": f["id"], "factorType": f["factorType"], "provider": f["provider"], "status": f["status"],
                                    "name": f.pointer("/profile/name").or(f.pointer("/profile/phoneNumber"))}))
                    .collect();
                Ok(done(
                    json!(factors),
                    format!("{} has {} Okta factor(s)", p.user, factors.len()),
                ))
            }
            "okta.factors.reset" => {
                let p: FactorsParams = parse(action, &call.params)?;
                match &p.factor {
                    Some(f) => {
                        let url = self.client.url(&["users", &p.user, "factors", f], &[])?;
                        self.client.send(Method::DELETE, url, None).await?;
                        Ok(done(
                            json!({"removed": f}),
                            format!("removed Okta factor {f} of {}", p.user),
                        ))
                    }
                    None => {
                        let url = self
                            .client
                            .url(&["users", &p.user, "lifecycle", "reset_factors"], &[])?;
                        self.client.send(Method::POST, url, None).await?;
                        Ok(done(
                            json!({"removed": "all"}),
                            format!("reset every Okta factor of {}", p.user),
                        ))
                    }
                }
            }
            "okta.sessions.clear" => {
                let p: UserParams = parse(action, &call.params)?;
                let url = self.client.url(&["users", &p.user, "sessions"], &[])?;
                self.client.send(Method::DELETE, url, None).await?;
                Ok(done(
                    json!({"cleared": true}),
                    format!("signed {} out of every Okta session", p.user),
                ))
            }
            "okta.group.add_member" | "okta.group.remove_member" => {
                let p: GroupParams = parse(action, &call.params)?;
                let (gid, name) = self.group_id(&p.group).await?;
                let user = self.user(&p.user).await?;
                let uid = text(&user, "/id");
                let url = self.client.url(&["groups", &gid, "users", &uid], &[])?;
                let add = action == "okta.group.add_member";
                self.client
                    .send(if add { Method::PUT } else { Method::DELETE }, url, None)
                    .await?;
                let verb = if add { "added" } else { "removed" };
                Ok(done(
                    json!({"group": name, "groupId": gid}),
                    format!(
                        "{verb} {} {} Okta group {name}",
                        p.user,
                        if add { "to" } else { "from" }
                    ),
                ))
            }
            "okta.app.assign" | "okta.app.unassign" => {
                let p: AppParams = parse(action, &call.params)?;
                let (aid, label) = self.app_id(&p.app).await?;
                let user = self.user(&p.user).await?;
                let uid = text(&user, "/id");
                if action == "okta.app.assign" {
                    let url = self.client.url(&["apps", &aid], &[])?;
                    let url = url::Url::parse(&format!("{url}/users")).map_err(|e| {
                        ConnectorError::BadParams {
                            action: action.into(),
                            reason: e.to_string(),
                        }
                    })?;
                    self.client
                        .send(
                            Method::POST,
                            url,
                            Some(&json!({"id": uid, "scope": "USER"})),
                        )
                        .await?;
                    Ok(done(
                        json!({"app": label, "appId": aid}),
                        format!("gave {} the Okta application {label}", p.user),
                    ))
                } else {
                    let url = self.client.url(&["apps", &aid, "users", &uid], &[])?;
                    self.client.send(Method::DELETE, url, None).await?;
                    Ok(done(
                        json!({"app": label, "appId": aid}),
                        format!("took the Okta application {label} away from {}", p.user),
                    ))
                }
            }
            "okta.logs.list" => {
                let p: LogsParams = parse(action, &call.params)?;
                let user = self.user(&p.user).await?;
                let since = Utc::now() - Duration::hours(i64::from(p.since_hours.unwrap_or(72)));
                let events = self
                    .events(
                        &text(&user, "/id"),
                        since,
                        p.failures_only.unwrap_or(false),
                        p.top.unwrap_or(100) as usize,
                    )
                    .await?;
                Ok(done(
                    json!(events),
                    format!("{} Okta System Log event(s) for {}", events.len(), p.user),
                ))
            }
            other => {
                let Some(op) = lifecycle_of(other) else {
                    return Err(ConnectorError::UnknownAction(other.to_owned()));
                };
                let p: UserParams = parse(action, &call.params)?;
                let query = match op {
                    "reset_password" | "activate" => vec![("sendEmail", "false".to_owned())],
                    _ => Vec::new(),
                };
                let before = self.user(&p.user).await?;
                let url = self
                    .client
                    .url(&["users", &p.user, "lifecycle", op], &query)?;
                let answer = self.client.send(Method::POST, url, None).await?.body;
                let mut output = json!({"status": status_after(other)});
                if let Some(link) = answer["resetPasswordUrl"].as_str() {
                    // A one-time link to a new password: a secret for its owner only.
                    output["resetPasswordToken"] = json!(link);
                }
                Ok(ActionResult {
                    output,
                    summary: format!("{} {} in Okta", op.replace('_', " "), p.user),
                    before: Some(before["status"].clone()),
                    after: status_after(other).map(|s| json!(s)),
                    platform_request_id: None,
                })
            }
        }
    }

    /// Whether `call` is in effect now; `None` when the state cannot tell.
    async fn in_effect(
        &self,
        call: &ActionCall,
        started: DateTime<Utc>,
    ) -> Result<Option<(bool, String)>, ConnectorError> {
        let action = call.action.as_str();
        let user_key = call.params["user"].as_str().unwrap_or_default().to_owned();
        if let Some(expected) = status_after(action) {
            let user = self.user(&user_key).await?;
            let status = text(&user, "/status");
            let mut ok = status == expected;
            if action == "okta.user.temp_password" {
                let changed = DateTime::parse_from_rfc3339(&text(&user, "/passwordChanged"))
                    .map(|t| t.with_timezone(&Utc) >= started - Duration::seconds(5))
                    .unwrap_or(false);
                ok &= changed;
            }
            return Ok(Some((
                ok,
                format!("{user_key}'s Okta status reads {status} (expected {expected})"),
            )));
        }
        match action {
            "okta.factors.reset" => {
                let factors = self.factors(&user_key).await?;
                let ok = match call.params["factor"].as_str() {
                    Some(f) => !factors.iter().any(|x| x["id"] == f),
                    None => factors.is_empty(),
                };
                Ok(Some((
                    ok,
                    format!("{user_key} has {} Okta factor(s) enrolled", factors.len()),
                )))
            }
            "okta.sessions.clear" => {
                let user = self.user(&user_key).await?;
                let uid = text(&user, "/id");
                let url = self.client.url(
                    &["logs"],
                    &[
                        (
                            "since",
                            (started - Duration::seconds(5))
                                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                        ),
                        (
                            "filter",
                            format!(
                                "eventType eq \"user.session.clear\" and target.id eq \"{uid}\""
                            ),
                        ),
                    ],
                )?;
                let found = !self.client.get_all(url, 10).await?.is_empty();
                Ok(Some((
                    found,
                    format!(
                        "the System Log {} a session clear for {user_key} since the call",
                        if found { "records" } else { "has no" }
                    ),
                )))
            }
            "okta.group.add_member" | "okta.group.remove_member" => {
                let (_, name) = self
                    .group_id(call.params["group"].as_str().unwrap_or_default())
                    .await?;
                let member = self
                    .group_names(&user_key)
                    .await?
                    .iter()
                    .any(|g| g.eq_ignore_ascii_case(&name));
                let ok = member == (action == "okta.group.add_member");
                Ok(Some((
                    ok,
                    format!(
                        "{user_key} is {}in Okta group {name}",
                        if member { "" } else { "not " }
                    ),
                )))
            }
            "okta.app.assign" | "okta.app.unassign" => {
                let (aid, label) = self
                    .app_id(call.params["app"].as_str().unwrap_or_default())
                    .await?;
                let uid = text(&self.user(&user_key).await?, "/id");
                let has = self.app_has(&aid, &uid).await?;
                let ok = has == (action == "okta.app.assign");
                Ok(Some((
                    ok,
                    format!(
                        "{user_key} is {}assigned {label}",
                        if has { "" } else { "not " }
                    ),
                )))
            }
            "okta.user.update_profile" => {
                let profile = self.user(&user_key).await?["profile"].clone();
                let ok = [
                    ("department", "department"),
                    ("title", "title"),
                    ("mobilePhone", "mobilePhone"),
                ]
                .iter()
                .all(|(param, attr)| {
                    call.params
                        .get(*param)
                        .is_none_or(|v| profile.get(*attr) == Some(v))
                });
                Ok(Some((
                    ok,
                    format!(
                        "{user_key}'s Okta profile {} the new values",
                        if ok { "reads" } else { "does not read" }
                    ),
                )))
            }
            _ => Ok(None),
        }
    }
}

#[async_trait]
impl Connector for OktaConnector {
    fn catalog(&self) -> Vec<ActionSpec> {
        super::catalog()
    }

    fn acting_as(&self) -> (String, Vec<String>) {
        (
            self.client.tokens().owner().to_owned(),
            super::SCOPES.iter().map(|s| (*s).to_owned()).collect(),
        )
    }

    async fn resolve(&self, kind: TargetKind, key: &str) -> Result<Target, ConnectorError> {
        // People are resolved in the tenant's directory first; Okta answers only for someone
        // the directory does not know (an Okta-only account), by login or e-mail.
        if kind != TargetKind::Person {
            return Err(ConnectorError::NotFound {
                platform: "Okta",
                code: "E0000007".into(),
                message: format!("`{key}` is resolved in the tenant's directory, not in Okta"),
                request_id: None,
            });
        }
        let user = self.user(key).await?;
        let name = format!(
            "{} {}",
            text(&user, "/profile/firstName"),
            text(&user, "/profile/lastName")
        );
        let department = text(&user, "/profile/department");
        Ok(Target {
            kind: TargetKind::Person,
            id: text(&user, "/id"),
            display_name: if name.trim().is_empty() {
                text(&user, "/profile/login")
            } else {
                name.trim().to_owned()
            },
            upn: Some(text(&user, "/profile/login")),
            department: (!department.is_empty()).then_some(department),
            groups: Vec::new(),
            // The management API Steward uses does not say whether someone holds an Okta admin
            // role, so an Okta-only person is treated as privileged: changes to them need the
            // second person that privileged targets need.
            privileged: true,
            protected: false,
            manager: None,
            owner: None,
        })
    }

    async fn execute(
        &self,
        call: &ActionCall,
        _idempotency_key: &str,
    ) -> Result<ActionResult, ConnectorError> {
        self.dispatch(call).await
    }

    async fn preview(&self, call: &ActionCall) -> Result<Vec<Change>, ConnectorError> {
        let user_key = call.params["user"].as_str().unwrap_or_default().to_owned();
        let user = self.user(&user_key).await?;
        let current = json!(text(&user, "/status"));
        let (field, proposed) = match call.call_field() {
            Some(f) => f,
            None => ("okta".into(), json!(call.action.as_str())),
        };
        Ok(vec![Change {
            target: format!("{user_key} (Okta)"),
            field,
            current,
            proposed,
        }])
    }

    async fn verify(
        &self,
        call: &ActionCall,
        result: &ActionResult,
    ) -> Result<Verification, ConnectorError> {
        let _ = result;
        let started = Utc::now() - Duration::minutes(2);
        Ok(match self.in_effect(call, started).await? {
            Some((passed, detail)) => Verification { passed, detail },
            None => Verification {
                passed: true,
                detail: "a read, nothing to read back".into(),
            },
        })
    }

    fn resend_after_lost_answer(&self, action: &str) -> bool {
        // The temporary password and the reset link are only in the lost answer.
        matches!(
            action,
            "okta.user.temp_password" | "okta.user.reset_password"
        )
    }

    async fn reconcile(
        &self,
        call: &ActionCall,
        started: DateTime<Utc>,
    ) -> Result<Reconciliation, ConnectorError> {
        Ok(match self.in_effect(call, started).await? {
            Some((applied, detail)) => Reconciliation::read(applied, detail),
            None => Reconciliation::Unknown(format!(
                "`{}` leaves nothing Okta can read back",
                call.action
            )),
        })
    }
}

/// What field a change proposes to set, for approvers' previews.
trait CallField {
    fn call_field(&self) -> Option<(String, Value)>;
}

impl CallField for ActionCall {
    fn call_field(&self) -> Option<(String, Value)> {
        let action = self.action.as_str();
        if let Some(status) = status_after(action) {
            return Some(("status".into(), json!(status)));
        }
        Some(match action {
            "okta.factors.reset" => (
                "factors".into(),
                json!(
                    self.params
                        .get("factor")
                        .map_or("none enrolled".into(), |f| format!("without {f}"))
                ),
            ),
            "okta.sessions.clear" => ("sessions".into(), json!("none")),
            "okta.group.add_member" => (
                "groups".into(),
                json!(format!(
                    "+ {}",
                    self.params["group"].as_str().unwrap_or_default()
                )),
            ),
            "okta.group.remove_member" => (
                "groups".into(),
                json!(format!(
                    "- {}",
                    self.params["group"].as_str().unwrap_or_default()
                )),
            ),
            "okta.app.assign" => (
                "apps".into(),
                json!(format!(
                    "+ {}",
                    self.params["app"].as_str().unwrap_or_default()
                )),
            ),
            "okta.app.unassign" => (
                "apps".into(),
                json!(format!(
                    "- {}",
                    self.params["app"].as_str().unwrap_or_default()
                )),
            ),
            "okta.user.update_profile" => ("profile".into(), self.params.clone()),
            _ => return None,
        })
    }
}
