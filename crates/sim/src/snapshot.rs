//! The whole tenant's state as one JSON document, so a benchmark can tell every change a run made
//! (`steward eval` diffs the snapshot before and after each case).
//!
//! Objects are keyed by their directory id (devices, drives and sites by their own ids), so a
//! change shows as a path naming the object it touched. Records of what happened — sign-in logs,
//! directory audits, long-running operations — are left out: they are history, not state.
//! Simulator-only facts appear under `x-steward-sim` with the password reduced to a fingerprint
//! (a reset shows as a change, the password itself never leaves the simulator).

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::files::DriveOwner;
use crate::state::{SimState, Tenant};

impl SimState {
    /// The tenant's state now (see the module documentation for its shape).
    pub async fn snapshot(&self) -> Value {
        self.tenant.lock().await.snapshot()
    }
}

fn fingerprint(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

fn keyed<'a>(items: impl Iterator<Item = (&'a str, Value)>) -> Value {
    Value::Object(
        items
            .map(|(k, v)| (k.to_owned(), v))
            .collect::<Map<String, Value>>(),
    )
}

impl Tenant {
    fn snapshot(&self) -> Value {
        let users = keyed(self.users.iter().map(|u| {
            let methods: Vec<Value> = u
                .methods
                .iter()
                .map(|m| {
                    // A Temporary Access Pass's secret is shown once, never kept in a snapshot.
                    let mut m = m.clone();
                    if let Some(o) = m.as_object_mut() {
                        o.remove("temporaryAccessPass");
                    }
                    m
                })
                .collect();
            (
                u.id(),
                json!({
                    "properties": u.props,
                    "manager": u.manager,
                    "authenticationMethods": methods,
                    "mailboxSettings": u.mailbox.settings,
                    "inboxRules": u.mailbox.inbox_rules,
                    "calendarPermissions": u.mailbox.calendar_permissions,
                    "x-steward-sim": {
                        "password": fingerprint(&u.sim.password),
                        "lockedOut": u.sim.locked_out,
                        "mustChangePassword": u.sim.must_change_password,
                        "directoryRoles": u.sim.roles,
                    },
                }),
            )
        }));
        let groups = keyed(self.groups.iter().map(|g| {
            (
                g.id(),
                json!({"properties": g.props, "members": g.members, "owners": g.owners}),
            )
        }));
        let devices = keyed(self.managed_devices.iter().map(|d| {
            let id = d
                .props
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or_default();
            (
                id,
                json!({"properties": d.props, "deviceCompliancePolicyStates": d.policy_states}),
            )
        }));
        let drives = keyed(self.drives.iter().map(|d| {
            let owner = match &d.owner {
                DriveOwner::User(id) => json!({"user": id}),
                DriveOwner::Site(id) => json!({"site": id}),
            };
            let items = keyed(d.items.iter().map(|i| {
                (
                    i.id(),
                    json!({"properties": i.props, "permissions": i.permissions}),
                )
            }));
            (d.id.as_str(), json!({"owner": owner, "items": items}))
        }));
        let risky = keyed(self.risky_users.iter().map(|r| {
            (
                r.get("id").and_then(Value::as_str).unwrap_or_default(),
                r.clone(),
            )
        }));
        let skus = keyed(self.subscribed_skus.iter().map(|s| {
            (
                s.get("skuId").and_then(Value::as_str).unwrap_or_default(),
                s.clone(),
            )
        }));
        json!({
            "users": users,
            "groups": groups,
            "managedDevices": devices,
            "drives": drives,
            "riskyUsers": risky,
            "subscribedSkus": skus,
        })
    }
}
