//! A user's Exchange Online mailbox as Graph shows it: mailbox settings (automatic replies), the
//! inbox's rules and the calendar's sharing permissions.

use chrono::{Duration, Utc};
use serde_json::{Map, Value, json};

use crate::seed::{SeedError, invalid};

/// One mailbox. Settings are kept whole (Graph's `mailboxSettings`); rules and calendar
/// permissions are kept as Graph returns them.
#[derive(Debug, Clone)]
pub(crate) struct Mailbox {
    pub settings: Map<String, Value>,
    pub inbox_rules: Vec<Value>,
    pub calendar_permissions: Vec<Value>,
}

impl Mailbox {
    /// A new mailbox: automatic replies off, the organisation sees free/busy (Exchange's default
    /// "My Organization" sharee, which cannot be removed).
    pub fn new() -> Self {
        let now = Utc::now();
        let stamp = |t: chrono::DateTime<Utc>| json!({"dateTime": format!("{}.0000000", t.format("%Y-%m-%dT%H:%M:%S")), "timeZone": "UTC"});
        let settings = json!({
            "archiveFolder": "",
            "timeZone": "UTC",
            "automaticRepliesSetting": {
                "status": "disabled",
                "externalAudience": "all",
                "internalReplyMessage": "",
                "externalReplyMessage": "",
                "scheduledStartDateTime": stamp(now),
                "scheduledEndDateTime": stamp(now + Duration::days(1)),
            },
            "language": {"locale": "en-US", "displayName": "English (United States)"},
            "workingHours": {
                "daysOfWeek": ["monday", "tuesday", "wednesday", "thursday", "friday"],
                "startTime": "08:00:00.0000000",
                "endTime": "17:00:00.0000000",
                "timeZone": {"name": "UTC"}
            },
            "dateFormat": "yyyy-MM-dd",
            "timeFormat": "HH:mm",
            "delegateMeetingMessageDeliveryOptions": "sendToDelegateOnly",
            "userPurpose": "user",
        });
        Self {
            settings: settings.as_object().cloned().unwrap_or_default(),
            inbox_rules: Vec::new(),
            calendar_permissions: vec![json!({
                "id": "RoleOrganization",
                "isRemovable": false,
                "isInsideOrganization": true,
                "role": "freeBusyRead",
                "allowedRoles": ["none", "freeBusyRead", "limitedRead", "read"],
                "emailAddress": {"name": "My Organization"},
            })],
        }
    }

    /// The mailbox a seed user describes with Graph's own names: `mailboxSettings` (merged over
    /// the defaults), `mailFolders` (the folder with id `inbox` and its `messageRules`) and
    /// `calendar.calendarPermissions`.
    pub fn from_seed(props: &mut Map<String, Value>, upn: &str) -> Result<Self, SeedError> {
        let mut mailbox = Self::new();
        if let Some(Value::Object(settings)) = props.remove("mailboxSettings") {
            for (k, v) in settings {
                mailbox.settings.insert(k, v);
            }
        }
        for folder in props
            .remove("mailFolders")
            .and_then(|f| f.as_array().cloned())
            .unwrap_or_default()
        {
            if !folder["id"]
                .as_str()
                .is_some_and(|id| id.eq_ignore_ascii_case("inbox"))
            {
                return Err(invalid(format!(
                    "user `{upn}`: only the `inbox` mail folder can be seeded"
                )));
            }
            for rule in folder["messageRules"].as_array().into_iter().flatten() {
                if rule["id"].as_str().is_none_or(str::is_empty) {
                    return Err(invalid(format!("user `{upn}`: an inbox rule has no `id`")));
                }
                mailbox.inbox_rules.push(rule.clone());
            }
        }
        if let Some(calendar) = props.remove("calendar") {
            for p in calendar["calendarPermissions"]
                .as_array()
                .into_iter()
                .flatten()
            {
                if p["id"].as_str().is_none_or(str::is_empty) {
                    return Err(invalid(format!(
                        "user `{upn}`: a calendar permission has no `id`"
                    )));
                }
                mailbox.calendar_permissions.push(p.clone());
            }
        }
        Ok(mailbox)
    }
}

impl Default for Mailbox {
    fn default() -> Self {
        Self::new()
    }
}
