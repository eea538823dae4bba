//! Exchange Online through Graph: automatic replies, inbox rules that forward mail outside the
//! organisation (a classic sign of a compromised account), and calendar sharing — each change
//! read back from the mailbox and reconciled the same way after a crash.

use chrono::{DateTime, NaiveDate, Utc};
use reqwest::Method;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};
use steward_domain::{ActionCall, Change, Risk};

use super::actions::{Entry, UserParams, parse, person, schema_of};
use super::execute::{MsGraphConnector, text};
use crate::{ActionResult, ConnectorError, Reconciliation};

/// Who outside the organisation gets an automatic reply.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub(crate) enum ExternalAudience {
    /// Nobody outside.
    None,
    /// Only the mailbox's contacts.
    ContactsOnly,
    /// Everyone.
    All,
}

impl ExternalAudience {
    fn wire(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::ContactsOnly => "contactsOnly",
            Self::All => "all",
        }
    }
}

/// Automatic replies for one mailbox: always on, or between two dates.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct AutoReplyParams {
    /// The mailbox owner's object id or userPrincipalName.
    #[schemars(length(min = 1, max = 256))]
    pub user: String,
    /// The reply colleagues get.
    #[schemars(length(min = 1, max = 4000))]
    pub message: String,
    /// The reply people outside get (default: the same message).
    #[schemars(length(min = 1, max = 4000))]
    pub external_message: Option<String>,
    /// Who outside the organisation gets a reply (default: all).
    pub external_audience: Option<ExternalAudience>,
    /// Start of a scheduled reply: a date (`2026-12-01`) or date-time (`2026-12-01T09:00:00Z`).
    #[schemars(length(min = 10, max = 40))]
    pub start: Option<String>,
    /// End of a scheduled reply (a date counts from its midnight, UTC).
    #[schemars(length(min = 10, max = 40))]
    pub end: Option<String>,
}

/// What a calendar sharee may do.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub(crate) enum CalendarRole {
    /// See free/busy only.
    FreeBusyRead,
    /// Free/busy, subject and location.
    LimitedRead,
    /// Read every non-private event.
    Read,
    /// Read and edit events.
    Write,
    /// A delegate: receives meeting requests, acts on them; no private events.
    DelegateWithoutPrivateEventAccess,
    /// A delegate who also sees private events.
    DelegateWithPrivateEventAccess,
}

impl CalendarRole {
    fn wire(self) -> &'static str {
        match self {
            Self::FreeBusyRead => "freeBusyRead",
            Self::LimitedRead => "limitedRead",
            Self::Read => "read",
            Self::Write => "write",
            Self::DelegateWithoutPrivateEventAccess => "delegateWithoutPrivateEventAccess",
            Self::DelegateWithPrivateEventAccess => "delegateWithPrivateEventAccess",
        }
    }
}

/// Share a calendar with someone (delegate access).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CalendarShareParams {
    /// The calendar owner's object id or userPrincipalName.
    #[schemars(length(min = 1, max = 256))]
    pub user: String,
    /// The e-mail address of the person to share with.
    #[schemars(length(min = 3, max = 256))]
    pub with: String,
    /// What they may do.
    pub role: CalendarRole,
}

/// Stop sharing a calendar with someone.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CalendarUnshareParams {
    /// The calendar owner's object id or userPrincipalName.
    #[schemars(length(min = 1, max = 256))]
    pub user: String,
    /// The e-mail address of the sharee.
    #[schemars(length(min = 3, max = 256))]
    pub with: String,
}

pub(crate) fn entries() -> Vec<Entry> {
    vec![
        Entry {
            name: "exchange.auto_reply.get",
            summary: "Read a mailbox's automatic replies (on, off or scheduled, and the messages)",
            schema: schema_of::<UserParams>(),
            mutating: false,
            risk: Risk::Low,
            targets: vec![person("user")],
            undo: None,
            verification: "",
            calls: &["GET /users/{id}/mailboxSettings"],
            permissions: &["MailboxSettings.Read", "MailboxSettings.ReadWrite"],
        },
        Entry {
            name: "exchange.auto_reply.set",
            summary: "Turn on automatic replies (out of office) for a mailbox, always or between two dates",
            schema: schema_of::<AutoReplyParams>(),
            mutating: true,
            risk: Risk::Medium,
            targets: vec![person("user")],
            undo: Some("exchange.auto_reply.disable"),
            verification: "automaticRepliesSetting reads the new status and message",
            calls: &[
                "GET /users/{id}/mailboxSettings",
                "PATCH /users/{id}/mailboxSettings",
            ],
            permissions: &["MailboxSettings.ReadWrite"],
        },
        Entry {
            name: "exchange.auto_reply.disable",
            summary: "Turn a mailbox's automatic replies off",
            schema: schema_of::<UserParams>(),
            mutating: true,
            risk: Risk::Low,
            targets: vec![person("user")],
            undo: None,
            verification: "automaticRepliesSetting reads disabled",
            calls: &[
                "GET /users/{id}/mailboxSettings",
                "PATCH /users/{id}/mailboxSettings",
            ],
            permissions: &["MailboxSettings.ReadWrite"],
        },
        Entry {
            name: "exchange.inbox_rules.list",
            summary: "List a mailbox's inbox rules, flagging those that forward or redirect mail outside the organisation",
            schema: schema_of::<UserParams>(),
            mutating: false,
            risk: Risk::Medium,
            targets: vec![person("user")],
            undo: None,
            verification: "",
            calls: &["GET /users/{id}/mailFolders/{id}/messageRules"],
            permissions: &["MailboxSettings.Read"],
        },
        Entry {
            name: "exchange.inbox_rules.remove_external_forwarding",
            summary: "Delete every inbox rule that forwards or redirects mail outside the organisation (after a compromise)",
            schema: schema_of::<UserParams>(),
            mutating: true,
            risk: Risk::High,
            targets: vec![person("user")],
            undo: None,
            verification: "no inbox rule forwards outside the organisation",
            calls: &[
                "GET /users/{id}/mailFolders/{id}/messageRules",
                "DELETE /users/{id}/mailFolders/{id}/messageRules/{id}",
            ],
            permissions: &["MailboxSettings.Read", "MailboxSettings.ReadWrite"],
        },
        Entry {
            name: "exchange.calendar.list_permissions",
            summary: "List who a calendar is shared with and at what level (delegates included)",
            schema: schema_of::<UserParams>(),
            mutating: false,
            risk: Risk::Low,
            targets: vec![person("user")],
            undo: None,
            verification: "",
            calls: &["GET /users/{id}/calendar/calendarPermissions"],
            permissions: &["Calendars.ReadBasic", "Calendars.ReadWrite"],
        },
        Entry {
            name: "exchange.calendar.share",
            summary: "Share a calendar with someone or make them a delegate (changes their level if already shared)",
            schema: schema_of::<CalendarShareParams>(),
            mutating: true,
            risk: Risk::Medium,
            targets: vec![person("user")],
            undo: Some("exchange.calendar.unshare"),
            verification: "the calendar's permissions list the sharee at the role",
            calls: &[
                "GET /users/{id}/calendar/calendarPermissions",
                "POST /users/{id}/calendar/calendarPermissions",
                "PATCH /users/{id}/calendar/calendarPermissions/{id}",
            ],
            permissions: &["Calendars.ReadWrite"],
        },
        Entry {
            name: "exchange.calendar.unshare",
            summary: "Stop sharing a calendar with someone (removes delegate access too)",
            schema: schema_of::<CalendarUnshareParams>(),
            mutating: true,
            risk: Risk::Medium,
            targets: vec![person("user")],
            undo: None,
            verification: "the calendar's permissions no longer list the sharee",
            calls: &[
                "GET /users/{id}/calendar/calendarPermissions",
                "DELETE /users/{id}/calendar/calendarPermissions/{id}",
            ],
            permissions: &["Calendars.ReadWrite"],
        },
    ]
}

/// `2026-12-01` (midnight UTC) or an RFC 3339 date-time, as Graph's `dateTimeTimeZone` in UTC.
fn graph_time(action: &str, input: &str) -> Result<(DateTime<Utc>, Value), ConnectorError> {
    let at = DateTime::parse_from_rfc3339(input.trim())
        .map(|t| t.with_timezone(&Utc))
        .or_else(|_| {
            NaiveDate::parse_from_str(input.trim(), "%Y-%m-%d")
                .map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
        })
        .map_err(|_| ConnectorError::BadParams {
            action: action.to_owned(),
            reason: format!(
                "`{input}` is not a date (2026-12-01) or date-time (2026-12-01T09:00:00Z)"
            ),
        })?;
    Ok((
        at,
        json!({"dateTime": format!("{}.0000000", at.format("%Y-%m-%dT%H:%M:%S")), "timeZone": "UTC"}),
    ))
}

/// The addresses a rule sends mail on to (forward, forward as attachment, redirect).
fn forward_targets(rule: &Value) -> Vec<String> {
    ["forwardTo", "forwardAsAttachmentTo", "redirectTo"]
        .iter()
        .flat_map(|k| rule["actions"][*k].as_array().cloned().unwrap_or_default())
        .filter_map(|r| r["emailAddress"]["address"].as_str().map(str::to_lowercase))
        .collect()
}

/// The domain of an address, lower-cased.
fn domain_of(address: &str) -> Option<String> {
    address
        .rsplit_once('@')
        .map(|(_, d)| d.trim().to_lowercase())
}

/// The addresses of a rule that leave the organisation: any whose domain is none of the mailbox
/// owner's (sign-in name and primary address).
fn external_targets(rule: &Value, own_domains: &[String]) -> Vec<String> {
    forward_targets(rule)
        .into_iter()
        .filter(|a| domain_of(a).is_none_or(|d| !own_domains.contains(&d)))
        .collect()
}

impl MsGraphConnector {
    async fn mailbox_settings(
        &self,
        user_id: &str,
    ) -> Result<(Value, Option<String>), ConnectorError> {
        let url = self.client.url(&["users", user_id, "mailboxSettings"])?;
        let r = self.client.send(Method::GET, url, None).await?;
        Ok((r.body, r.request_id))
    }

    async fn inbox_rules(
        &self,
        user_id: &str,
    ) -> Result<(Vec<Value>, Option<String>), ConnectorError> {
        let url = self
            .client
            .url(&["users", user_id, "mailFolders", "inbox", "messageRules"])?;
        self.client.get_all(url, 1_000).await
    }

    async fn calendar_permissions(
        &self,
        user_id: &str,
    ) -> Result<(Vec<Value>, Option<String>), ConnectorError> {
        let url = self
            .client
            .url(&["users", user_id, "calendar", "calendarPermissions"])?;
        self.client.get_all(url, 1_000).await
    }

    /// The mailbox owner: id, sign-in name and the domains counted as the organisation's.
    async fn mailbox_owner(
        &self,
        user: &str,
    ) -> Result<(String, String, Vec<String>), ConnectorError> {
        let (u, _) = self.get_user(user).await?;
        let upn = text(&u, "userPrincipalName");
        let mut domains: Vec<String> = [upn.as_str(), u["mail"].as_str().unwrap_or_default()]
            .iter()
            .filter_map(|a| domain_of(a))
            .collect();
        domains.dedup();
        Ok((text(&u, "id"), upn, domains))
    }

    /// The mailbox and the wanted automatic-reply settings of a `set` or `disable` call.
    fn wanted_replies(call: &ActionCall) -> Result<(String, Value), ConnectorError> {
        let name = call.action.as_str();
        if name == "exchange.auto_reply.disable" {
            let p: UserParams = parse(name, &call.params)?;
            return Ok((p.user, json!({"status": "disabled"})));
        }
        let p: AutoReplyParams = parse(name, &call.params)?;
        let mut wanted = json!({
            "status": "alwaysEnabled",
            "externalAudience": p.external_audience.unwrap_or(ExternalAudience::All).wire(),
            "internalReplyMessage": p.message,
            "externalReplyMessage": p.external_message.as_deref().unwrap_or(&p.message),
        });
        match (p.start.as_deref(), p.end.as_deref()) {
            (None, None) => {}
            (start, Some(end)) => {
                let (from, from_wire) = match start {
                    Some(s) => graph_time(name, s)?,
                    None => graph_time(name, &Utc::now().to_rfc3339())?,
                };
                let (to, to_wire) = graph_time(name, end)?;
                if to <= from {
                    return Err(ConnectorError::BadParams {
                        action: name.into(),
                        reason: "the end of the automatic replies must be after their start".into(),
                    });
                }
                wanted["status"] = json!("scheduled");
                wanted["scheduledStartDateTime"] = from_wire;
                wanted["scheduledEndDateTime"] = to_wire;
            }
            (Some(_), None) => {
                return Err(ConnectorError::BadParams {
                    action: name.into(),
                    reason: "scheduled automatic replies need an `end` as well as a `start`".into(),
                });
            }
        }
        Ok((p.user, wanted))
    }

    pub(super) async fn mailbox_execute(
        &self,
        call: &ActionCall,
        key: &str,
    ) -> Result<ActionResult, ConnectorError> {
        let name = call.action.as_str();
        match name {
            "exchange.auto_reply.get" => {
                let p: UserParams = parse(name, &call.params)?;
                let (id, upn, _) = self.mailbox_owner(&p.user).await?;
                let (settings, request_id) = self.mailbox_settings(&id).await?;
                let replies = settings["automaticRepliesSetting"].clone();
                let status = replies["status"].as_str().unwrap_or("disabled");
                let summary = match status {
                    "scheduled" => format!(
                        "{upn}'s automatic replies are scheduled from {} to {} (UTC)",
                        replies["scheduledStartDateTime"]["dateTime"]
                            .as_str()
                            .unwrap_or("?"),
                        replies["scheduledEndDateTime"]["dateTime"]
                            .as_str()
                            .unwrap_or("?")
                    ),
                    "alwaysEnabled" => format!("{upn}'s automatic replies are on"),
                    _ => format!("{upn}'s automatic replies are off"),
                };
                Ok(ActionResult {
                    summary,
                    output: replies,
                    before: None,
                    after: None,
                    platform_request_id: request_id,
                })
            }
            "exchange.auto_reply.set" | "exchange.auto_reply.disable" => {
                let (user, wanted) = Self::wanted_replies(call)?;
                let (id, upn, _) = self.mailbox_owner(&user).await?;
                let (before, _) = self.mailbox_settings(&id).await?;
                let url = self.client.url(&["users", &id, "mailboxSettings"])?;
                let r = self
                    .client
                    .send_as(
                        Method::PATCH,
                        url,
                        Some(&json!({"automaticRepliesSetting": wanted})),
                        Some(key),
                    )
                    .await?;
                let summary = match wanted["status"].as_str() {
                    Some("scheduled") => format!(
                        "scheduled {upn}'s automatic replies from {} to {} (UTC)",
                        wanted["scheduledStartDateTime"]["dateTime"]
                            .as_str()
                            .unwrap_or("?"),
                        wanted["scheduledEndDateTime"]["dateTime"]
                            .as_str()
                            .unwrap_or("?")
                    ),
                    Some("alwaysEnabled") => format!("turned {upn}'s automatic replies on"),
                    _ => format!("turned {upn}'s automatic replies off"),
                };
                Ok(ActionResult {
                    summary,
                    output: r.body["automaticRepliesSetting"].clone(),
                    before: Some(before["automaticRepliesSetting"].clone()),
                    after: Some(wanted),
                    platform_request_id: r.request_id,
                })
            }
            "exchange.inbox_rules.list" => {
                let p: UserParams = parse(name, &call.params)?;
                let (id, upn, domains) = self.mailbox_owner(&p.user).await?;
                let (rules, request_id) = self.inbox_rules(&id).await?;
                let flagged: Vec<String> = rules
                    .iter()
                    .filter(|r| !external_targets(r, &domains).is_empty())
                    .map(|r| {
                        format!(
                            "\"{}\" → {}",
                            text(r, "displayName"),
                            external_targets(r, &domains).join(", ")
                        )
                    })
                    .collect();
                let output: Vec<Value> = rules
                    .iter()
                    .map(|r| {
                        json!({
                            "id": r["id"], "displayName": r["displayName"], "isEnabled": r["isEnabled"],
                            "sequence": r["sequence"], "conditions": r["conditions"], "actions": r["actions"],
                            "forwardsOutside": external_targets(r, &domains),
                        })
                    })
                    .collect();
                Ok(ActionResult {
                    summary: if flagged.is_empty() {
                        format!(
                            "{upn} has {} inbox rule(s); none forwards outside the organisation",
                            rules.len()
                        )
                    } else {
                        format!(
                            "{upn} has {} inbox rule(s); {} forward outside the organisation: {}",
                            rules.len(),
                            flagged.len(),
                            flagged.join("; ")
                        )
                    },
                    output: Value::Array(output),
                    before: None,
                    after: None,
                    platform_request_id: request_id,
                })
            }
            "exchange.inbox_rules.remove_external_forwarding" => {
                let p: UserParams = parse(name, &call.params)?;
                let (id, upn, domains) = self.mailbox_owner(&p.user).await?;
                let (rules, _) = self.inbox_rules(&id).await?;
                let doomed: Vec<&Value> = rules
                    .iter()
                    .filter(|r| !external_targets(r, &domains).is_empty())
                    .collect();
                let mut removed = Vec::new();
                let mut request_id = None;
                for rule in &doomed {
                    let rule_id = text(rule, "id");
                    let url = self.client.url(&[
                        "users",
                        &id,
                        "mailFolders",
                        "inbox",
                        "messageRules",
                        &rule_id,
                    ])?;
                    match self
                        .client
                        .send_as(Method::DELETE, url, None, Some(&format!("{key}:{rule_id}")))
                        .await
                    {
                        Ok(r) => request_id = r.request_id.or(request_id),
                        // Already gone (a retried job): the end state is what was asked.
                        Err(ConnectorError::NotFound { .. }) => {}
                        Err(e) => return Err(e),
                    }
                    removed.push(json!({"id": rule_id, "displayName": rule["displayName"], "forwardedTo": external_targets(rule, &domains), "rule": rule}));
                }
                Ok(ActionResult {
                    summary: if removed.is_empty() {
                        format!(
                            "{upn} has no inbox rule forwarding outside the organisation; nothing to remove"
                        )
                    } else {
                        format!(
                            "removed {} inbox rule(s) of {upn} forwarding outside the organisation: {}",
                            removed.len(),
                            removed
                                .iter()
                                .map(|r| format!(
                                    "\"{}\" → {}",
                                    r["displayName"].as_str().unwrap_or("?"),
                                    r["forwardedTo"]
                                        .as_array()
                                        .into_iter()
                                        .flatten()
                                        .filter_map(Value::as_str)
                                        .collect::<Vec<_>>()
                                        .join(", ")
                                ))
                                .collect::<Vec<_>>()
                                .join("; ")
                        )
                    },
                    output: json!({"removed": removed.len()}),
                    // The removed rules are kept whole here so a human can recreate one that was
                    // legitimate.
                    before: Some(json!({"rules": removed})),
                    after: Some(json!({"externalForwardingRules": 0})),
                    platform_request_id: request_id,
                })
            }
            "exchange.calendar.list_permissions" => {
                let p: UserParams = parse(name, &call.params)?;
                let (id, upn, _) = self.mailbox_owner(&p.user).await?;
                let (permissions, request_id) = self.calendar_permissions(&id).await?;
                let names: Vec<String> = permissions
                    .iter()
                    .map(|p| {
                        format!(
                            "{} ({})",
                            p["emailAddress"]["address"]
                                .as_str()
                                .or(p["emailAddress"]["name"].as_str())
                                .unwrap_or("?"),
                            text(p, "role")
                        )
                    })
                    .collect();
                Ok(ActionResult {
                    summary: format!("{upn}'s calendar is shared with: {}", names.join(", ")),
                    output: Value::Array(permissions),
                    before: None,
                    after: None,
                    platform_request_id: request_id,
                })
            }
            "exchange.calendar.share" => {
                let p: CalendarShareParams = parse(name, &call.params)?;
                let (id, upn, _) = self.mailbox_owner(&p.user).await?;
                let (permissions, _) = self.calendar_permissions(&id).await?;
                let existing = find_sharee(&permissions, &p.with);
                let role = p.role.wire();
                let before = existing.map(|e| e["role"].clone());
                let r = match existing {
                    Some(e) if e["role"] == role => None,
                    Some(e) => {
                        let url = self.client.url(&[
                            "users",
                            &id,
                            "calendar",
                            "calendarPermissions",
                            &text(e, "id"),
                        ])?;
                        Some(
                            self.client
                                .send_as(
                                    Method::PATCH,
                                    url,
                                    Some(&json!({"role": role})),
                                    Some(key),
                                )
                                .await?,
                        )
                    }
                    None => {
                        let url =
                            self.client
                                .url(&["users", &id, "calendar", "calendarPermissions"])?;
                        let body =
                            json!({"emailAddress": {"address": p.with.trim()}, "role": role});
                        Some(
                            self.client
                                .send_as(Method::POST, url, Some(&body), Some(key))
                                .await?,
                        )
                    }
                };
                Ok(ActionResult {
                    summary: match (&before, &r) {
                        (Some(_), None) => format!(
                            "{upn}'s calendar was already shared with {} as {role}; nothing to change",
                            p.with
                        ),
                        (Some(old), Some(_)) => format!(
                            "changed {}'s access to {upn}'s calendar from {} to {role}",
                            p.with,
                            old.as_str().unwrap_or("?")
                        ),
                        _ => format!("shared {upn}'s calendar with {} as {role}", p.with),
                    },
                    output: json!({"role": role}),
                    before: Some(json!({"role": before})),
                    after: Some(json!({"role": role})),
                    platform_request_id: r.and_then(|r| r.request_id),
                })
            }
            "exchange.calendar.unshare" => {
                let p: CalendarUnshareParams = parse(name, &call.params)?;
                let (id, upn, _) = self.mailbox_owner(&p.user).await?;
                let (permissions, _) = self.calendar_permissions(&id).await?;
                let Some(existing) = find_sharee(&permissions, &p.with) else {
                    return Ok(ActionResult {
                        summary: format!(
                            "{upn}'s calendar is not shared with {}; nothing to change",
                            p.with
                        ),
                        output: json!({"changed": false}),
                        before: Some(json!({"role": null})),
                        after: Some(json!({"role": null})),
                        platform_request_id: None,
                    });
                };
                let url = self.client.url(&[
                    "users",
                    &id,
                    "calendar",
                    "calendarPermissions",
                    &text(existing, "id"),
                ])?;
                let r = self
                    .client
                    .send_as(Method::DELETE, url, None, Some(key))
                    .await?;
                Ok(ActionResult {
                    summary: format!("stopped sharing {upn}'s calendar with {}", p.with),
                    output: json!({"changed": true}),
                    before: Some(json!({"role": existing["role"]})),
                    after: Some(json!({"role": null})),
                    platform_request_id: r.request_id,
                })
            }
            other => Err(ConnectorError::UnknownAction(other.to_owned())),
        }
    }

    pub(super) async fn mailbox_preview(
        &self,
        call: &ActionCall,
    ) -> Result<Vec<Change>, ConnectorError> {
        let name = call.action.as_str();
        let change = |target: &str, field: &str, current: Value, proposed: Value| Change {
            target: target.to_owned(),
            field: field.to_owned(),
            current,
            proposed,
        };
        Ok(match name {
            "exchange.auto_reply.set" | "exchange.auto_reply.disable" => {
                let (user, wanted) = Self::wanted_replies(call)?;
                let (id, upn, _) = self.mailbox_owner(&user).await?;
                let (settings, _) = self.mailbox_settings(&id).await?;
                vec![change(
                    &upn,
                    "automatic replies",
                    settings["automaticRepliesSetting"].clone(),
                    wanted,
                )]
            }
            "exchange.inbox_rules.remove_external_forwarding" => {
                let p: UserParams = parse(name, &call.params)?;
                let (id, upn, domains) = self.mailbox_owner(&p.user).await?;
                let (rules, _) = self.inbox_rules(&id).await?;
                rules
                    .iter()
                    .filter(|r| !external_targets(r, &domains).is_empty())
                    .map(|r| {
                        change(
                            &upn,
                            &format!("inbox rule \"{}\"", text(r, "displayName")),
                            json!(format!(
                                "forwards to {}",
                                external_targets(r, &domains).join(", ")
                            )),
                            json!("deleted"),
                        )
                    })
                    .collect()
            }
            "exchange.calendar.share" | "exchange.calendar.unshare" => {
                let user = call.params["user"].as_str().unwrap_or_default().to_owned();
                let with = call.params["with"].as_str().unwrap_or_default().to_owned();
                let (id, upn, _) = self.mailbox_owner(&user).await?;
                let (permissions, _) = self.calendar_permissions(&id).await?;
                let current = find_sharee(&permissions, &with).map(|e| e["role"].clone());
                let proposed = if name == "exchange.calendar.share" {
                    let p: CalendarShareParams = parse(name, &call.params)?;
                    json!(p.role.wire())
                } else {
                    json!("not shared")
                };
                vec![change(
                    &upn,
                    &format!("calendar access of {with}"),
                    current.unwrap_or_else(|| json!("not shared")),
                    proposed,
                )]
            }
            _ => Vec::new(),
        })
    }

    /// Whether the mailbox is in the state the change sets (the read-back and the crash check).
    pub(super) async fn mailbox_state(
        &self,
        call: &ActionCall,
    ) -> Result<Reconciliation, ConnectorError> {
        let name = call.action.as_str();
        let user = call.params["user"].as_str().unwrap_or_default().to_owned();
        let (id, upn, domains) = self.mailbox_owner(&user).await?;
        Ok(match name {
            "exchange.auto_reply.set" | "exchange.auto_reply.disable" => {
                let (_, wanted) = Self::wanted_replies(call)?;
                let (settings, _) = self.mailbox_settings(&id).await?;
                let now = &settings["automaticRepliesSetting"];
                let same = wanted
                    .as_object()
                    .into_iter()
                    .flatten()
                    .all(|(k, v)| same_setting(k, v, &now[k.as_str()]));
                let detail = format!(
                    "{upn}'s automatic replies read {}",
                    now["status"].as_str().unwrap_or("nothing")
                );
                Reconciliation::read(same, detail)
            }
            "exchange.inbox_rules.remove_external_forwarding" => {
                let (rules, _) = self.inbox_rules(&id).await?;
                let left: Vec<String> = rules
                    .iter()
                    .filter(|r| !external_targets(r, &domains).is_empty())
                    .map(|r| text(r, "displayName"))
                    .collect();
                if left.is_empty() {
                    Reconciliation::Applied(format!(
                        "no inbox rule of {upn} forwards outside the organisation"
                    ))
                } else {
                    Reconciliation::NotApplied(format!(
                        "inbox rule(s) of {upn} still forwarding outside: {}",
                        left.join(", ")
                    ))
                }
            }
            "exchange.calendar.share" | "exchange.calendar.unshare" => {
                let with = call.params["with"].as_str().unwrap_or_default().to_owned();
                let (permissions, _) = self.calendar_permissions(&id).await?;
                let role = find_sharee(&permissions, &with)
                    .and_then(|e| e["role"].as_str().map(str::to_owned));
                let wanted = if name == "exchange.calendar.share" {
                    let p: CalendarShareParams = parse(name, &call.params)?;
                    Some(p.role.wire().to_owned())
                } else {
                    None
                };
                let detail = format!(
                    "{upn}'s calendar access of {with} reads {}",
                    role.as_deref().unwrap_or("not shared")
                );
                Reconciliation::read(role == wanted, detail)
            }
            other => Reconciliation::Unknown(format!(
                "`{other}` leaves nothing the Graph connector can read back"
            )),
        })
    }
}

/// Two settings are the same; a scheduled time compares as an instant (Exchange may write more
/// fractional digits than were sent).
fn same_setting(key: &str, wanted: &Value, now: &Value) -> bool {
    if key.starts_with("scheduled") {
        let at = |v: &Value| {
            v["dateTime"]
                .as_str()
                .and_then(|t| chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%.f").ok())
        };
        return at(wanted).is_some() && at(wanted) == at(now);
    }
    wanted == now
}

/// The calendar permission of one sharee, by e-mail address.
fn find_sharee<'a>(permissions: &'a [Value], address: &str) -> Option<&'a Value> {
    let address = address.trim();
    permissions.iter().find(|p| {
        p["emailAddress"]["address"]
            .as_str()
            .is_some_and(|a| a.eq_ignore_ascii_case(address))
    })
}
