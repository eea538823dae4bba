//! The platform's own record of every write (`auditLogs/directoryAudits`), attributed to the
//! person whose delegated token acted — how an admin checks attribution in the real console.

use chrono::Utc;
use serde_json::{Value, json};

use crate::auth::Caller;
use crate::state::Tenant;

/// Appends a directory audit entry for a successful write.
pub(crate) fn record_directory_audit(
    tenant: &mut Tenant,
    caller: &Caller,
    category: &str,
    activity: &str,
    target: Value,
) {
    let entry = json!({
        "id": format!("Directory_{}", uuid::Uuid::new_v4()),
        "category": category,
        "correlationId": uuid::Uuid::new_v4().to_string(),
        "result": "success",
        "resultReason": "",
        "activityDisplayName": activity,
        "activityDateTime": Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "loggedByService": "Core Directory",
        "operationType": "Update",
        "initiatedBy": {
            "app": null,
            "user": {
                "id": caller.oid,
                "displayName": caller.display_name,
                "userPrincipalName": caller.upn,
                "ipAddress": "127.0.0.1",
            },
        },
        "targetResources": [target],
        "additionalDetails": [],
    });
    tenant.directory_audits.insert(0, entry);
}
