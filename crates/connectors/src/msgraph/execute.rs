//! The Graph connector: target resolution, the calls of each action and their read-backs.

use async_trait::async_trait;
use chrono::{Duration, Utc};
use reqwest::Method;
use serde_json::{Value, json};
use steward_domain::{ActionCall, ActionSpec, Change, Target, TargetKind};

use super::actions::{
    GroupParams, MembershipParams, SearchParams, SignInsParams, UserParams, catalog, parse,
};
use super::{GraphClient, PASSWORD_METHOD_ID};
use crate::{ActionResult, Connector, ConnectorError, Reconciliation, Verification};

const USER_FIELDS: &str = "id,displayName,userPrincipalName,mail,department,jobTitle,accountEnabled,lastPasswordChangeDateTime,signInSessionsValidFromDateTime,assignedLicenses";
const GROUP_FIELDS: &str =
    "id,displayName,mail,mailNickname,description,isAssignableToRole,securityEnabled,groupTypes";

/// Escapes a string for an OData literal (`'` doubles).
fn odata_str(s: &str) -> String {
    s.replace('\'', "''")
}

pub(super) fn with_query(mut url: url::Url, pairs: &[(&str, String)]) -> url::Url {
    {
        let mut q = url.query_pairs_mut();
        for (k, v) in pairs {
            q.append_pair(k, v);
        }
    }
    url
}

pub(super) fn text(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// The Microsoft 365 workloads beyond Entra ID, each in its own module; an action's name says
/// which (`exchange.…`).
#[derive(Debug, Clone, Copy)]
pub(super) enum Domain {
    Mailbox,
    Devices,
    Teams,
    Files,
}

impl Domain {
    pub(super) fn of(action: &str) -> Option<Self> {
        match action.split('.').next() {
            Some("exchange") => Some(Self::Mailbox),
            Some("intune") => Some(Self::Devices),
            Some("teams") => Some(Self::Teams),
            Some("onedrive" | "sharepoint") => Some(Self::Files),
            _ if matches!(
                action,
                "entra.user.list_groups"
                    | "entra.group.list_owners"
                    | "entra.group.add_owner"
                    | "entra.group.remove_owner"
            ) =>
            {
                Some(Self::Teams)
            }
            _ => None,
        }
    }
}

/// Acts in Entra ID through Graph with one delegated credential.
#[derive(Debug, Clone)]
pub struct MsGraphConnector {
    pub(super) client: GraphClient,
}

impl MsGraphConnector {
    /// A connector over a configured client.
    pub fn new(client: GraphClient) -> Self {
        Self { client }
    }

    /// Names what a refusal is about: the delegated permission the action needs that the grant
    /// lacks (consent is missing), or, when the grant has it, the owner's directory role. Never a
    /// reason to try a broader credential.
    async fn why_denied(&self, call: &ActionCall) -> String {
        let needed: Vec<String> = catalog()
            .into_iter()
            .find(|a| a.name == call.action)
            .map(|a| a.permissions)
            .unwrap_or_default();
        let tokens = self.client.tokens();
        let granted = tokens.scopes().await;
        let owner = tokens.owner();
        let has = |p: &String| granted.iter().any(|g| g.eq_ignore_ascii_case(p));
        if needed.is_empty() {
            return format!("(acting with {owner}'s delegated grant)");
        }
        if needed.iter().any(has) {
            let held: Vec<&str> = needed
                .iter()
                .filter(|p| has(p))
                .map(String::as_str)
                .collect();
            format!(
                "{owner}'s grant includes {}, so {owner}'s directory role does not allow `{}` on this object",
                held.join(" and "),
                call.action
            )
        } else {
            format!(
                "`{}` needs the delegated permission {}, which {owner}'s grant does not include: an administrator must consent to it and connect again (`steward connect`)",
                call.action,
                needed.join(" or ")
            )
        }
    }

    /// A group's object id from its id or exact display name.
    pub(super) async fn resolve_group_id(&self, key: &str) -> Result<String, ConnectorError> {
        Ok(self.resolve(TargetKind::Group, key).await?.id)
    }

    /// The id of a person's manager; Graph answers 404 when none is set.
    async fn manager_of(&self, user_id: &str) -> Result<Option<String>, ConnectorError> {
        let url = with_query(
            self.client.url(&["users", user_id, "manager"])?,
            &[("$select", "id".into())],
        );
        match self.client.send(Method::GET, url, None).await {
            Ok(r) => Ok(r.body.get("id").and_then(Value::as_str).map(str::to_owned)),
            Err(ConnectorError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub(super) async fn get_user(
        &self,
        user: &str,
    ) -> Result<(Value, Option<String>), ConnectorError> {
        let url = with_query(
            self.client.url(&["users", user])?,
            &[("$select", USER_FIELDS.into())],
        );
        let r = self.client.send(Method::GET, url, None).await?;
        Ok((r.body, r.request_id))
    }

    pub(super) async fn group_member_ids(
        &self,
        group: &str,
    ) -> Result<Vec<String>, ConnectorError> {
        let url = with_query(
            self.client.url(&["groups", group, "members"])?,
            &[("$select", "id".into()), ("$top", "999".into())],
        );
        let (members, _) = self.client.get_all(url, 100_000).await?;
        Ok(members.iter().map(|m| text(m, "id")).collect())
    }

    async fn search(
        &self,
        collection: &str,
        filter: String,
        select: &str,
        top: u32,
    ) -> Result<ActionResult, ConnectorError> {
        let url = with_query(
            self.client.url(&[collection])?,
            &[
                ("$filter", filter),
                ("$select", select.into()),
                ("$top", top.to_string()),
            ],
        );
        let (items, request_id) = self.client.get_all(url, top as usize).await?;
        let names: Vec<String> = items.iter().map(|i| text(i, "displayName")).collect();
        Ok(ActionResult {
            summary: if names.is_empty() {
                "no match".into()
            } else {
                format!("{} match(es): {}", names.len(), names.join(", "))
            },
            output: Value::Array(items),
            before: None,
            after: None,
            platform_request_id: request_id,
        })
    }

    async fn set_enabled(
        &self,
        user: &str,
        enabled: bool,
        key: &str,
    ) -> Result<ActionResult, ConnectorError> {
        let (before, _) = self.get_user(user).await?;
        let body = json!({"accountEnabled": enabled});
        let r = self
            .client
            .send_as(
                Method::PATCH,
                self.client.url(&["users", user])?,
                Some(&body),
                Some(key),
            )
            .await?;
        Ok(ActionResult {
            output: json!({"accountEnabled": enabled}),
            summary: format!(
                "{} {}",
                if enabled { "enabled" } else { "disabled" },
                text(&before, "userPrincipalName")
            ),
            before: Some(json!({"accountEnabled": before.get("accountEnabled")})),
            after: Some(json!({"accountEnabled": enabled})),
            platform_request_id: r.request_id,
        })
    }

    async fn dispatch(&self, call: &ActionCall, key: &str) -> Result<ActionResult, ConnectorError> {
        let name = call.action.as_str();
        if let Some(domain) = Domain::of(name) {
            return match domain {
                Domain::Mailbox => self.mailbox_execute(call, key).await,
                Domain::Devices => self.devices_execute(call, key).await,
                Domain::Teams => self.teams_execute(call, key).await,
                Domain::Files => self.files_execute(call, key).await,
            };
        }
        match name {
            "entra.user.get" => {
                let p: UserParams = parse(name, &call.params)?;
                let (user, request_id) = self.get_user(&p.user).await?;
                let summary = format!(
                    "{} ({}): account {}, department {}, password last changed {}",
                    text(&user, "displayName"),
                    text(&user, "userPrincipalName"),
                    if user.get("accountEnabled") == Some(&json!(false)) {
                        "disabled"
                    } else {
                        "enabled"
                    },
                    user.get("department")
                        .and_then(Value::as_str)
                        .unwrap_or("none"),
                    user.get("lastPasswordChangeDateTime")
                        .and_then(Value::as_str)
                        .unwrap_or("never"),
                );
                Ok(ActionResult {
                    output: user,
                    summary,
                    before: None,
                    after: None,
                    platform_request_id: request_id,
                })
            }
            "entra.user.search" => {
                let p: SearchParams = parse(name, &call.params)?;
                let q = odata_str(p.query.trim());
                let filter = format!(
                    "startswith(displayName,'{q}') or startswith(givenName,'{q}') or startswith(surname,'{q}') or startswith(userPrincipalName,'{q}') or startswith(mail,'{q}')"
                );
                self.search("users", filter, USER_FIELDS, p.top.unwrap_or(25))
                    .await
            }
            "entra.group.search" => {
                let p: SearchParams = parse(name, &call.params)?;
                let q = odata_str(p.query.trim());
                let filter = format!(
                    "startswith(displayName,'{q}') or mailNickname eq '{q}' or startswith(mail,'{q}')"
                );
                self.search("groups", filter, GROUP_FIELDS, p.top.unwrap_or(25))
                    .await
            }
            "entra.group.list_members" => {
                let p: GroupParams = parse(name, &call.params)?;
                let url = with_query(
                    self.client.url(&["groups", &p.group, "members"])?,
                    &[(
                        "$select",
                        "id,displayName,userPrincipalName,department".into(),
                    )],
                );
                let (items, request_id) = self.client.get_all(url, 10_000).await?;
                let people: Vec<Value> = items
                    .into_iter()
                    .filter(|m| text(m, "@odata.type") == "#microsoft.graph.user")
                    .collect();
                Ok(ActionResult {
                    summary: format!("{} member(s)", people.len()),
                    output: Value::Array(people),
                    before: None,
                    after: None,
                    platform_request_id: request_id,
                })
            }
            "entra.signins.list" => {
                let p: SignInsParams = parse(name, &call.params)?;
                let since = (Utc::now() - Duration::hours(i64::from(p.since_hours.unwrap_or(72))))
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
                let mut filter = format!(
                    "userPrincipalName eq '{}' and createdDateTime ge {since}",
                    odata_str(&p.user)
                );
                if let Some(code) = p.error_code {
                    filter.push_str(&format!(" and status/errorCode eq {code}"));
                }
                let top = p.top.unwrap_or(50);
                let url = with_query(
                    self.client.url(&["auditLogs", "signIns"])?,
                    &[("$filter", filter), ("$top", top.to_string())],
                );
                let (items, request_id) = self.client.get_all(url, top as usize).await?;
                let failures = items
                    .iter()
                    .filter(|s| {
                        s.pointer("/status/errorCode")
                            .and_then(Value::as_i64)
                            .unwrap_or(0)
                            != 0
                    })
                    .count();
                Ok(ActionResult {
                    summary: format!(
                        "{} sign-in(s) in the last {}h, {failures} failed",
                        items.len(),
                        p.since_hours.unwrap_or(72)
                    ),
                    output: Value::Array(items),
                    before: None,
                    after: None,
                    platform_request_id: request_id,
                })
            }
            "entra.user.reset_password" => {
                let p: UserParams = parse(name, &call.params)?;
                let (before, _) = self.get_user(&p.user).await?;
                let id = text(&before, "id");
                let url = self.client.url(&[
                    "users",
                    &id,
                    "authentication",
                    "methods",
                    PASSWORD_METHOD_ID,
                    "resetPassword",
                ])?;
                let r = self
                    .client
                    .send_as(Method::POST, url, Some(&json!({})), Some(key))
                    .await?;
                let password = r
                    .body
                    .get("newPassword")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                Ok(ActionResult {
                    output: json!({"temporaryPassword": password, "operation": r.location}),
                    summary: format!(
                        "reset the password of {}; they must change it at next sign-in",
                        text(&before, "userPrincipalName")
                    ),
                    before: Some(
                        json!({"lastPasswordChangeDateTime": before.get("lastPasswordChangeDateTime")}),
                    ),
                    after: None,
                    platform_request_id: r.request_id,
                })
            }
            "entra.user.revoke_sessions" => {
                let p: UserParams = parse(name, &call.params)?;
                let (before, _) = self.get_user(&p.user).await?;
                let id = text(&before, "id");
                let r = self
                    .client
                    .send_as(
                        Method::POST,
                        self.client.url(&["users", &id, "revokeSignInSessions"])?,
                        None,
                        Some(key),
                    )
                    .await?;
                Ok(ActionResult {
                    output: json!({"value": r.body.get("value")}),
                    summary: format!(
                        "signed {} out of every session",
                        text(&before, "userPrincipalName")
                    ),
                    before: Some(
                        json!({"signInSessionsValidFromDateTime": before.get("signInSessionsValidFromDateTime")}),
                    ),
                    after: None,
                    platform_request_id: r.request_id,
                })
            }
            "entra.user.enable" => {
                let p: UserParams = parse(name, &call.params)?;
                self.set_enabled(&p.user, true, key).await
            }
            "entra.user.disable" => {
                let p: UserParams = parse(name, &call.params)?;
                self.set_enabled(&p.user, false, key).await
            }
            "entra.group.add_member" | "entra.group.remove_member" => {
                let mut p: MembershipParams = parse(name, &call.params)?;
                let adding = name == "entra.group.add_member";
                p.group = self.resolve_group_id(&p.group).await?;
                let (user, _) = self.get_user(&p.user).await?;
                let user_id = text(&user, "id");
                let members = self.group_member_ids(&p.group).await?;
                let was_member = members.contains(&user_id);
                let mut request_id = None;
                if adding && !was_member {
                    let body = json!({"@odata.id": format!("{}/v1.0/directoryObjects/{user_id}", self.client.base_url())});
                    let r = self
                        .client
                        .send_as(
                            Method::POST,
                            self.client.url(&["groups", &p.group, "members", "$ref"])?,
                            Some(&body),
                            Some(key),
                        )
                        .await?;
                    request_id = r.request_id;
                } else if !adding && was_member {
                    let r = self
                        .client
                        .send_as(
                            Method::DELETE,
                            self.client
                                .url(&["groups", &p.group, "members", &user_id, "$ref"])?,
                            None,
                            Some(key),
                        )
                        .await?;
                    request_id = r.request_id;
                }
                let unchanged = adding == was_member;
                let who = text(&user, "userPrincipalName");
                let summary = match (adding, unchanged) {
                    (true, false) => format!("added {who} to the group"),
                    (true, true) => format!("{who} was already a member; nothing to change"),
                    (false, false) => format!("removed {who} from the group"),
                    (false, true) => format!("{who} was not a member; nothing to change"),
                };
                Ok(ActionResult {
                    output: json!({"changed": !unchanged}),
                    summary,
                    before: Some(json!({"member": was_member})),
                    after: Some(json!({"member": adding})),
                    platform_request_id: request_id,
                })
            }
            "entra.user.list_auth_methods" => self.list_methods(call).await,
            "entra.user.delete_auth_method" => self.delete_method(call, key).await,
            "entra.user.create_tap" => self.create_tap(call, key).await,
            "entra.risk.list_users" => self.list_risky(call).await,
            "entra.license.list_skus" => self.list_skus().await,
            "entra.user.create" => self.create_user(call, key).await,
            "entra.user.set_manager" => self.set_manager(call, key).await,
            "entra.user.update_profile" => self.update_profile(call, key).await,
            "entra.user.remove_manager" => self.remove_manager(call, key).await,
            "entra.user.assign_license" | "entra.user.remove_license" => {
                self.change_license(call, key).await
            }
            "entra.risk.confirm_compromised" | "entra.risk.dismiss" => {
                self.set_risk(call, key).await
            }
            other => Err(ConnectorError::UnknownAction(other.to_owned())),
        }
    }
}

#[async_trait]
impl Connector for MsGraphConnector {
    fn catalog(&self) -> Vec<ActionSpec> {
        catalog()
    }

    fn acting_as(&self) -> (String, Vec<String>) {
        (
            self.client.tokens().owner().to_owned(),
            super::SCOPES.iter().map(|s| (*s).to_owned()).collect(),
        )
    }

    async fn resolve(&self, kind: TargetKind, key: &str) -> Result<Target, ConnectorError> {
        match kind {
            TargetKind::Person => {
                let (user, _) = self.get_user(key).await?;
                let id = text(&user, "id");
                let url = with_query(
                    self.client.url(&["users", &id, "memberOf"])?,
                    &[("$select", "id,displayName".into())],
                );
                let (member_of, _) = self.client.get_all(url, 10_000).await?;
                let manager = self.manager_of(&id).await?;
                let kind_of = |m: &Value| text(m, "@odata.type");
                Ok(Target {
                    kind,
                    display_name: text(&user, "displayName"),
                    upn: Some(text(&user, "userPrincipalName")),
                    department: user
                        .get("department")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                    groups: member_of
                        .iter()
                        .filter(|m| kind_of(m) == "#microsoft.graph.group")
                        .map(|m| text(m, "id"))
                        .collect(),
                    privileged: member_of
                        .iter()
                        .any(|m| kind_of(m) == "#microsoft.graph.directoryRole"),
                    protected: false,
                    manager,
                    id,
                    owner: None,
                })
            }
            TargetKind::Group => {
                let group = match self
                    .client
                    .send(
                        Method::GET,
                        with_query(
                            self.client.url(&["groups", key])?,
                            &[("$select", GROUP_FIELDS.into())],
                        ),
                        None,
                    )
                    .await
                {
                    Ok(r) => r.body,
                    Err(ConnectorError::NotFound { .. }) => {
                        let url = with_query(
                            self.client.url(&["groups"])?,
                            &[
                                ("$filter", format!("displayName eq '{}'", odata_str(key))),
                                ("$select", GROUP_FIELDS.into()),
                            ],
                        );
                        let (mut found, request_id) = self.client.get_all(url, 2).await?;
                        if found.len() != 1 {
                            return Err(ConnectorError::NotFound {
                                platform: "Microsoft Graph",
                                code: "Request_ResourceNotFound".into(),
                                message: format!("no single group named `{key}`"),
                                request_id,
                            });
                        }
                        found.remove(0)
                    }
                    Err(e) => return Err(e),
                };
                Ok(Target {
                    kind,
                    id: text(&group, "id"),
                    display_name: text(&group, "displayName"),
                    upn: None,
                    department: None,
                    groups: Vec::new(),
                    privileged: group.get("isAssignableToRole") == Some(&json!(true)),
                    protected: false,
                    manager: None,
                    owner: None,
                })
            }
            TargetKind::Device => self.resolve_device(key).await,
            TargetKind::Tenant => Err(ConnectorError::BadParams {
                action: "resolve".into(),
                reason: format!("{kind:?} targets are not resolved by the Graph connector yet"),
            }),
        }
    }

    async fn execute(
        &self,
        call: &ActionCall,
        idempotency_key: &str,
    ) -> Result<ActionResult, ConnectorError> {
        match self.dispatch(call, idempotency_key).await {
            Err(ConnectorError::Denied {
                platform,
                code,
                message,
                request_id,
            }) => Err(ConnectorError::Denied {
                platform,
                code,
                message: format!("{message} {}", self.why_denied(call).await),
                request_id,
            }),
            other => other,
        }
    }

    async fn preview(&self, call: &ActionCall) -> Result<Vec<Change>, ConnectorError> {
        let name = call.action.as_str();
        let change = |target: &str, field: &str, current: Value, proposed: Value| Change {
            target: target.to_owned(),
            field: field.to_owned(),
            current,
            proposed,
        };
        if let Some(domain) = Domain::of(name) {
            return match domain {
                Domain::Mailbox => self.mailbox_preview(call).await,
                Domain::Devices => self.devices_preview(call).await,
                Domain::Teams => self.teams_preview(call).await,
                Domain::Files => self.files_preview(call).await,
            };
        }
        Ok(match name {
            "entra.user.enable" | "entra.user.disable" => {
                let p: UserParams = parse(name, &call.params)?;
                let (user, _) = self.get_user(&p.user).await?;
                let current = user.get("accountEnabled").cloned().unwrap_or(Value::Null);
                vec![change(
                    &text(&user, "userPrincipalName"),
                    "accountEnabled",
                    current,
                    json!(name == "entra.user.enable"),
                )]
            }
            "entra.user.reset_password" => {
                let p: UserParams = parse(name, &call.params)?;
                let (user, _) = self.get_user(&p.user).await?;
                let last = user
                    .get("lastPasswordChangeDateTime")
                    .and_then(Value::as_str)
                    .unwrap_or("never");
                vec![change(
                    &text(&user, "userPrincipalName"),
                    "password",
                    json!(format!("last changed {last}")),
                    json!("a temporary password, to be changed at next sign-in"),
                )]
            }
            "entra.user.revoke_sessions" => {
                let p: UserParams = parse(name, &call.params)?;
                let (user, _) = self.get_user(&p.user).await?;
                let current = user
                    .get("signInSessionsValidFromDateTime")
                    .cloned()
                    .unwrap_or(Value::Null);
                vec![change(
                    &text(&user, "userPrincipalName"),
                    "signInSessionsValidFromDateTime",
                    current,
                    json!("now: every session signed out"),
                )]
            }
            "entra.group.add_member" | "entra.group.remove_member" => {
                let mut p: MembershipParams = parse(name, &call.params)?;
                p.group = self.resolve_group_id(&p.group).await?;
                let (user, _) = self.get_user(&p.user).await?;
                let is_member = self
                    .group_member_ids(&p.group)
                    .await?
                    .contains(&text(&user, "id"));
                let url = with_query(
                    self.client.url(&["groups", &p.group])?,
                    &[("$select", "displayName".into())],
                );
                let group = self.client.send(Method::GET, url, None).await?.body;
                let field = format!("member of {}", text(&group, "displayName"));
                vec![change(
                    &text(&user, "userPrincipalName"),
                    &field,
                    json!(is_member),
                    json!(name == "entra.group.add_member"),
                )]
            }
            "entra.user.delete_auth_method" | "entra.user.create_tap" => {
                self.preview_method(call).await?
            }
            "entra.risk.confirm_compromised" | "entra.risk.dismiss" => {
                self.preview_risk(call).await?
            }
            "entra.user.assign_license" | "entra.user.remove_license" => {
                self.preview_license(call).await?
            }
            "entra.user.set_manager" => self.preview_manager(call).await?,
            _ => Vec::new(),
        })
    }

    fn resend_after_lost_answer(&self, action: &str) -> bool {
        super::resends_after_lost_answer(action)
    }

    async fn reconcile(
        &self,
        call: &ActionCall,
        started: chrono::DateTime<Utc>,
    ) -> Result<Reconciliation, ConnectorError> {
        self.reconcile_call(call, started).await
    }

    async fn verify(
        &self,
        call: &ActionCall,
        result: &ActionResult,
    ) -> Result<Verification, ConnectorError> {
        let name = call.action.as_str();
        if let Some(domain) = Domain::of(name) {
            if !super::actions::is_mutating(name) {
                return Ok(Verification {
                    passed: true,
                    detail: "read-only; nothing to verify".into(),
                });
            }
            return Ok(match domain {
                Domain::Mailbox => self.mailbox_state(call).await?,
                Domain::Devices => self.device_state(call, None).await?,
                Domain::Teams => self.teams_state(call).await?,
                Domain::Files => self.files_state(call).await?,
            }
            .into());
        }
        let before_text = |key: &str| {
            result
                .before
                .as_ref()
                .and_then(|b| b.get(key))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        match name {
            "entra.user.reset_password" | "entra.user.revoke_sessions" => {
                let p: UserParams = parse(name, &call.params)?;
                let field = if name == "entra.user.reset_password" {
                    "lastPasswordChangeDateTime"
                } else {
                    "signInSessionsValidFromDateTime"
                };
                let mut notes = Vec::new();
                let mut passed = true;
                if let Some(op) = result.output.get("operation").and_then(Value::as_str) {
                    let url = url::Url::parse(op).map_err(|e| ConnectorError::BadParams {
                        action: name.into(),
                        reason: e.to_string(),
                    })?;
                    let status = self.client.send(Method::GET, url, None).await?.body;
                    let s = text(&status, "status");
                    passed &= s == "succeeded";
                    notes.push(format!("reset operation {s}"));
                }
                let (user, _) = self.get_user(&p.user).await?;
                let now = user.get(field).and_then(Value::as_str).map(str::to_owned);
                // Graph keeps these to the second, so a repeat within the same second reads the
                // same value: a stamp from the last minute counts as this change too.
                let moved = now.is_some() && now != before_text(field);
                let fresh = now
                    .as_deref()
                    .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                    .is_some_and(|t| t >= chrono::Utc::now() - chrono::Duration::seconds(60));
                passed &= moved || fresh;
                notes.push(format!(
                    "{field} {} → {}",
                    before_text(field).unwrap_or_else(|| "unset".into()),
                    now.unwrap_or_else(|| "unset".into())
                ));
                Ok(Verification {
                    passed,
                    detail: notes.join("; "),
                })
            }
            "entra.user.enable" | "entra.user.disable" => {
                let p: UserParams = parse(name, &call.params)?;
                let want = name == "entra.user.enable";
                let (user, _) = self.get_user(&p.user).await?;
                let got = user.get("accountEnabled").and_then(Value::as_bool);
                Ok(Verification {
                    passed: got == Some(want),
                    detail: format!(
                        "accountEnabled reads {}",
                        got.map_or("nothing".into(), |b| b.to_string())
                    ),
                })
            }
            "entra.group.add_member" | "entra.group.remove_member" => {
                let mut p: MembershipParams = parse(name, &call.params)?;
                let want = name == "entra.group.add_member";
                p.group = self.resolve_group_id(&p.group).await?;
                let (user, _) = self.get_user(&p.user).await?;
                let is_member = self
                    .group_member_ids(&p.group)
                    .await?
                    .contains(&text(&user, "id"));
                Ok(Verification {
                    passed: is_member == want,
                    detail: format!(
                        "{} is {}a member of the group",
                        text(&user, "userPrincipalName"),
                        if is_member { "" } else { "not " }
                    ),
                })
            }
            "entra.user.delete_auth_method" | "entra.user.create_tap" => {
                self.verify_method(call).await
            }
            "entra.risk.confirm_compromised" | "entra.risk.dismiss" => self.verify_risk(call).await,
            "entra.user.assign_license" | "entra.user.remove_license" => {
                self.verify_license(call).await
            }
            "entra.user.create"
            | "entra.user.set_manager"
            | "entra.user.update_profile"
            | "entra.user.remove_manager" => self.verify_lifecycle(call).await,
            _ => Ok(Verification {
                passed: true,
                detail: "read-only; nothing to verify".into(),
            }),
        }
    }
}
