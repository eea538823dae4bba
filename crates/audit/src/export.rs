//! Records as a SIEM takes them: JSON Lines (the record as stored, one per line) or OCSF's API
//! Activity class (6003), which SIEMs map without custom parsing. What OCSF has no attribute for
//! stays under `unmapped`, so nothing of the record is lost.

use serde_json::{Value, json};

use crate::{AuditRecord, RecordKind};

/// The OCSF schema version the events follow.
pub const OCSF_VERSION: &str = "1.1.0";
/// OCSF category "Application Activity".
const CATEGORY_UID: u32 = 6;
/// OCSF class "API Activity".
const CLASS_UID: u32 = 6003;

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// One stored record (sequence, hashes, entry) per line.
    JsonLines,
    /// One OCSF API Activity event per line.
    Ocsf,
}

/// One record as one line of the chosen format (no newline).
pub fn export_line(record: &AuditRecord, format: ExportFormat) -> String {
    match format {
        ExportFormat::JsonLines => serde_json::to_string(record).unwrap_or_default(),
        ExportFormat::Ocsf => to_ocsf(record).to_string(),
    }
}

/// OCSF activity: 1 create, 2 read, 3 update, 4 delete, 99 other (records that are not a call).
fn activity_id(record: &AuditRecord) -> u32 {
    let e = &record.entry;
    let Some(action) = e.action.as_deref() else {
        return 99;
    };
    match e.kind {
        RecordKind::Investigation => 2,
        RecordKind::Intent | RecordKind::Outcome | RecordKind::Verification => {
            let verb = action.rsplit('.').next().unwrap_or_default();
            if verb.starts_with("create") || verb.starts_with("add") || verb.starts_with("assign") {
                1
            } else if verb.starts_with("delete")
                || verb.starts_with("remove")
                || verb.starts_with("wipe")
            {
                4
            } else if verb.starts_with("get") || verb.starts_with("list") || verb == "search" {
                2
            } else {
                3
            }
        }
        _ => 99,
    }
}

/// OCSF status: 1 success, 2 failure, 0 unknown.
fn status(outcome: Option<&str>) -> (u32, &'static str) {
    match outcome {
        Some("executed" | "read" | "verified" | "auto" | "approved" | "reloaded") => (1, "Success"),
        Some("failed" | "unverified" | "deny" | "denied" | "expired") => (2, "Failure"),
        _ => (0, "Unknown"),
    }
}

/// The cloud an action runs in, from its connector prefix.
fn provider(action: Option<&str>) -> &'static str {
    match action.and_then(|a| a.split('.').next()) {
        Some("entra" | "exchange" | "intune" | "sharepoint" | "teams" | "m365") => "Microsoft",
        Some("okta") => "Okta",
        Some("google") => "Google",
        _ => "Steward",
    }
}

/// One record as an OCSF API Activity event.
pub fn to_ocsf(record: &AuditRecord) -> Value {
    let e = &record.entry;
    let activity = activity_id(record);
    let (status_id, status_name) = status(e.outcome.as_deref());
    let resources: Vec<Value> = e.targets.iter().map(|t| json!({ "uid": t })).collect();
    let mut event = json!({
        "category_uid": CATEGORY_UID,
        "class_uid": CLASS_UID,
        "activity_id": activity,
        "type_uid": CLASS_UID * 100 + activity,
        "severity_id": 1,
        "time": e.time.timestamp_millis(),
        "status_id": status_id,
        "status": status_name,
        "metadata": {
            "version": OCSF_VERSION,
            "uid": format!("{}:{}", e.tenant, record.seq),
            "tenant_uid": e.tenant,
            "correlation_uid": e.conversation,
            "product": { "name": "Steward", "vendor_name": "Steward" },
            "event_code": e.kind.as_str(),
        },
        "actor": {
            "user": { "name": e.actor.as_deref().or(e.requester.as_deref()) },
        },
        "api": {
            "operation": e.action.as_deref().unwrap_or(e.kind.as_str()),
            "request": { "uid": e.platform_request_id },
            "service": { "name": provider(e.action.as_deref()) },
        },
        "cloud": { "provider": provider(e.action.as_deref()) },
        "src_endpoint": { "name": e.channel },
        "resources": resources,
        "unmapped": {
            "seq": record.seq,
            "hash": record.hash,
            "prev_hash": record.prev_hash,
            "requester": e.requester,
            "actor_scopes": e.actor_scopes,
            "params": e.params,
            "outcome": e.outcome,
            "detail": e.detail,
        },
    });
    strip_nulls(&mut event);
    event
}

/// Drops null attributes (OCSF omits what is unknown rather than sending null).
fn strip_nulls(v: &mut Value) {
    match v {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            for v in map.values_mut() {
                strip_nulls(v);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(strip_nulls),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AuditEntry, GENESIS_HASH};

    fn record(kind: RecordKind, action: Option<&str>, outcome: Option<&str>) -> AuditRecord {
        let mut e = AuditEntry::new("acme", kind);
        e.action = action.map(str::to_owned);
        e.outcome = outcome.map(str::to_owned);
        e.actor = Some("hank@acme.example".into());
        e.channel = Some("slack".into());
        e.targets = vec!["Person::\"u-1\"".into()];
        e.platform_request_id = Some("req-1".into());
        e.seal(7, GENESIS_HASH)
    }

    #[test]
    fn an_intent_is_an_api_activity_with_its_class_type_and_actor() {
        let r = record(
            RecordKind::Outcome,
            Some("entra.user.reset_password"),
            Some("executed"),
        );
        let e = to_ocsf(&r);
        assert_eq!(e["class_uid"], 6003);
        assert_eq!(e["category_uid"], 6);
        assert_eq!(e["activity_id"], 3);
        assert_eq!(e["type_uid"], 600303);
        assert_eq!(e["status_id"], 1);
        assert_eq!(e["actor"]["user"]["name"], "hank@acme.example");
        assert_eq!(e["api"]["operation"], "entra.user.reset_password");
        assert_eq!(e["api"]["request"]["uid"], "req-1");
        assert_eq!(e["cloud"]["provider"], "Microsoft");
        assert_eq!(e["metadata"]["uid"], "acme:7");
        assert_eq!(e["resources"][0]["uid"], "Person::\"u-1\"");
        assert_eq!(e["unmapped"]["hash"], r.hash.as_str());
        assert_eq!(e["time"], r.entry.time.timestamp_millis());
    }

    #[test]
    fn activities_follow_the_verb_and_unknowns_are_omitted() {
        let add = record(RecordKind::Intent, Some("entra.group.add_member"), None);
        assert_eq!(to_ocsf(&add)["activity_id"], 1);
        let remove = record(RecordKind::Intent, Some("entra.group.remove_member"), None);
        assert_eq!(to_ocsf(&remove)["activity_id"], 4);
        let read = record(RecordKind::Investigation, Some("entra.signins.list"), None);
        assert_eq!(to_ocsf(&read)["activity_id"], 2);
        let reply = record(RecordKind::Reply, None, None);
        let e = to_ocsf(&reply);
        assert_eq!(e["activity_id"], 99);
        assert_eq!(e["status_id"], 0);
        assert!(e["unmapped"].get("outcome").is_none());
        assert!(
            export_line(&reply, ExportFormat::JsonLines).contains("\"seq\":7"),
            "the stored record as one line"
        );
    }
}
