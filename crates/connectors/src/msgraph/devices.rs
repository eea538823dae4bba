//! Intune managed devices through Graph: a person's devices, a device's compliance with the
//! policies that fail, and the remote actions (sync, restart, lock, passcode reset, retire,
//! wipe). Intune runs actions asynchronously, so the read-back is the action Intune recorded on
//! the device (`deviceActionResults`, the management state), not the device's own report.

use chrono::{DateTime, Duration, Utc};
use reqwest::Method;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};
use steward_domain::{ActionCall, Change, Risk, Target, TargetKind, TargetParam};

use super::actions::{Entry, UserParams, parse, person, schema_of};
use super::execute::{MsGraphConnector, text, with_query};
use crate::{ActionResult, ConnectorError, Reconciliation};

/// One device.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DeviceParams {
    /// The device's Intune id, or its name (e.g. `LS-LT-1003`).
    #[schemars(length(min = 1, max = 256))]
    pub device: String,
}

/// A factory reset.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct WipeParams {
    /// The device's Intune id, or its name.
    #[schemars(length(min = 1, max = 256))]
    pub device: String,
    /// Keep the user's data on the device (Windows "keep user data" reset; default false).
    pub keep_user_data: Option<bool>,
    /// Keep the enrolment so the device re-enrols itself (default false).
    pub keep_enrollment_data: Option<bool>,
}

fn device(param: &str) -> TargetParam {
    TargetParam {
        param: param.into(),
        kind: TargetKind::Device,
    }
}

const READ: &[&str] = &["DeviceManagementManagedDevices.Read.All"];
const ACT: &[&str] = &[
    "DeviceManagementManagedDevices.Read.All",
    "DeviceManagementManagedDevices.PrivilegedOperations.All",
];

fn remote(
    name: &'static str,
    summary: &'static str,
    verb: &'static str,
    risk: Risk,
    calls: &'static [&'static str],
) -> Entry {
    Entry {
        name,
        summary,
        schema: schema_of::<DeviceParams>(),
        mutating: true,
        risk,
        targets: vec![device("device")],
        undo: None,
        verification: verb,
        calls,
        permissions: ACT,
    }
}

pub(crate) fn entries() -> Vec<Entry> {
    vec![
        Entry {
            name: "intune.device.list_for_user",
            summary: "List a person's Intune-managed devices (name, OS, compliance, last check-in)",
            schema: schema_of::<UserParams>(),
            mutating: false,
            risk: Risk::Medium,
            targets: vec![person("user")],
            undo: None,
            verification: "",
            calls: &["GET /users/{id}/managedDevices"],
            permissions: READ,
        },
        Entry {
            name: "intune.device.get",
            summary: "Read a device and why it is non-compliant (each policy and the settings failing it)",
            schema: schema_of::<DeviceParams>(),
            mutating: false,
            risk: Risk::Medium,
            targets: vec![device("device")],
            undo: None,
            verification: "",
            calls: &[
                "GET /deviceManagement/managedDevices/{id}",
                "GET /deviceManagement/managedDevices/{id}/deviceCompliancePolicyStates",
            ],
            permissions: &[
                "DeviceManagementManagedDevices.Read.All",
                "DeviceManagementConfiguration.Read.All",
            ],
        },
        remote(
            "intune.device.sync",
            "Make a device check in with Intune now (picks up new policies and apps)",
            "Intune records the sync and the device's last check-in moves forward",
            Risk::Low,
            &[
                "GET /deviceManagement/managedDevices/{id}",
                "POST /deviceManagement/managedDevices/{id}/syncDevice",
            ],
        ),
        remote(
            "intune.device.reboot",
            "Restart a device remotely",
            "Intune records the restart as sent",
            Risk::Medium,
            &[
                "GET /deviceManagement/managedDevices/{id}",
                "POST /deviceManagement/managedDevices/{id}/rebootNow",
            ],
        ),
        remote(
            "intune.device.remote_lock",
            "Lock a lost or stolen device's screen remotely",
            "Intune records the lock as sent",
            Risk::Medium,
            &[
                "GET /deviceManagement/managedDevices/{id}",
                "POST /deviceManagement/managedDevices/{id}/remoteLock",
            ],
        ),
        remote(
            "intune.device.reset_passcode",
            "Remove or reset a phone's passcode (iOS, Android) so its owner can get back in",
            "Intune records the passcode reset as sent",
            Risk::High,
            &[
                "GET /deviceManagement/managedDevices/{id}",
                "POST /deviceManagement/managedDevices/{id}/resetPasscode",
            ],
        ),
        remote(
            "intune.device.retire",
            "Retire a device: remove company data, apps and management, leave personal data",
            "the device's management state reads retirePending",
            Risk::High,
            &[
                "GET /deviceManagement/managedDevices/{id}",
                "POST /deviceManagement/managedDevices/{id}/retire",
            ],
        ),
        Entry {
            name: "intune.device.wipe",
            summary: "Factory-reset a device, erasing everything on it (always needs a human's approval)",
            schema: schema_of::<WipeParams>(),
            mutating: true,
            risk: Risk::Critical,
            targets: vec![device("device")],
            undo: None,
            verification: "the device's management state reads wipePending",
            calls: &[
                "GET /deviceManagement/managedDevices/{id}",
                "POST /deviceManagement/managedDevices/{id}/wipe",
            ],
            permissions: &["DeviceManagementManagedDevices.ReadWrite.All"],
        },
    ]
}

/// The Graph operation of each remote action.
fn operation(action: &str) -> Option<&'static str> {
    Some(match action {
        "intune.device.sync" => "syncDevice",
        "intune.device.reboot" => "rebootNow",
        "intune.device.remote_lock" => "remoteLock",
        "intune.device.reset_passcode" => "resetPasscode",
        "intune.device.retire" => "retire",
        "intune.device.wipe" => "wipe",
        _ => return None,
    })
}

fn describe(d: &Value) -> String {
    format!(
        "{} ({} {}, {}, last check-in {})",
        text(d, "deviceName"),
        text(d, "operatingSystem"),
        text(d, "osVersion"),
        text(d, "complianceState"),
        d["lastSyncDateTime"].as_str().unwrap_or("never")
    )
}

/// The device a call names (its parameters checked).
fn device_key(call: &ActionCall) -> Result<String, ConnectorError> {
    let name = call.action.as_str();
    Ok(if name == "intune.device.wipe" {
        parse::<WipeParams>(name, &call.params)?.device
    } else {
        parse::<DeviceParams>(name, &call.params)?.device
    })
}

impl MsGraphConnector {
    /// A device by Intune id or, failing that, by its exact name.
    pub(super) async fn find_device(&self, key: &str) -> Result<Value, ConnectorError> {
        let url = self
            .client
            .url(&["deviceManagement", "managedDevices", key])?;
        match self.client.send(Method::GET, url, None).await {
            Ok(r) => Ok(r.body),
            Err(ConnectorError::NotFound { .. }) => {
                let url = with_query(
                    self.client.url(&["deviceManagement", "managedDevices"])?,
                    &[(
                        "$filter",
                        format!("deviceName eq '{}'", key.replace('\'', "''")),
                    )],
                );
                let (mut found, request_id) = self.client.get_all(url, 2).await?;
                if found.len() == 1 {
                    Ok(found.remove(0))
                } else {
                    Err(ConnectorError::NotFound {
                        platform: "Microsoft Graph",
                        code: "ResourceNotFound".into(),
                        message: if found.is_empty() {
                            format!("Intune manages no device with id or name `{key}`")
                        } else {
                            format!("more than one device is named `{key}`; use its Intune id")
                        },
                        request_id,
                    })
                }
            }
            Err(e) => Err(e),
        }
    }

    /// The device as a policy target: it sits in its primary user, so a policy can say "their
    /// own device" with `resource in principal`.
    pub(super) async fn resolve_device(&self, key: &str) -> Result<Target, ConnectorError> {
        let d = self.find_device(key).await?;
        Ok(Target {
            kind: TargetKind::Device,
            id: text(&d, "id"),
            display_name: text(&d, "deviceName"),
            upn: None,
            department: None,
            groups: Vec::new(),
            privileged: false,
            protected: false,
            manager: None,
            owner: d["userId"]
                .as_str()
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
        })
    }

    pub(super) async fn devices_execute(
        &self,
        call: &ActionCall,
        key: &str,
    ) -> Result<ActionResult, ConnectorError> {
        let name = call.action.as_str();
        if name == "intune.device.list_for_user" {
            let p: UserParams = parse(name, &call.params)?;
            let (user, _) = self.get_user(&p.user).await?;
            let url = self
                .client
                .url(&["users", &text(&user, "id"), "managedDevices"])?;
            let (devices, request_id) = self.client.get_all(url, 1_000).await?;
            let listed: Vec<String> = devices.iter().map(describe).collect();
            return Ok(ActionResult {
                summary: if listed.is_empty() {
                    format!(
                        "{} has no Intune-managed device",
                        text(&user, "userPrincipalName")
                    )
                } else {
                    format!(
                        "{} device(s) of {}: {}",
                        listed.len(),
                        text(&user, "userPrincipalName"),
                        listed.join("; ")
                    )
                },
                output: Value::Array(devices),
                before: None,
                after: None,
                platform_request_id: request_id,
            });
        }
        let d = self.find_device(&device_key(call)?).await?;
        let id = text(&d, "id");
        if name == "intune.device.get" {
            let url = self.client.url(&[
                "deviceManagement",
                "managedDevices",
                &id,
                "deviceCompliancePolicyStates",
            ])?;
            let (states, request_id) = self.client.get_all(url, 1_000).await?;
            let failing: Vec<String> = states
                .iter()
                .filter(|s| !matches!(s["state"].as_str(), Some("compliant" | "notApplicable")))
                .map(|s| {
                    let settings: Vec<String> = s["settingStates"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter(|x| x["state"] != "compliant" && x["state"] != "notApplicable")
                        .map(|x| {
                            format!(
                                "{} (is {})",
                                x["settingName"]
                                    .as_str()
                                    .or(x["setting"].as_str())
                                    .unwrap_or("?"),
                                x["currentValue"].as_str().unwrap_or("unknown")
                            )
                        })
                        .collect();
                    if settings.is_empty() {
                        format!("{} ({})", text(s, "displayName"), text(s, "state"))
                    } else {
                        format!("{}: {}", text(s, "displayName"), settings.join(", "))
                    }
                })
                .collect();
            let mut summary = describe(&d);
            if !failing.is_empty() {
                summary.push_str(&format!("; failing: {}", failing.join("; ")));
            }
            return Ok(ActionResult {
                summary,
                output: json!({"device": d, "compliancePolicyStates": states}),
                before: None,
                after: None,
                platform_request_id: request_id,
            });
        }
        let Some(op) = operation(name) else {
            return Err(ConnectorError::UnknownAction(name.to_owned()));
        };
        let body = if name == "intune.device.wipe" {
            let p: WipeParams = parse(name, &call.params)?;
            Some(json!({
                "keepUserData": p.keep_user_data.unwrap_or(false),
                "keepEnrollmentData": p.keep_enrollment_data.unwrap_or(false),
            }))
        } else {
            None
        };
        let url = self
            .client
            .url(&["deviceManagement", "managedDevices", &id, op])?;
        let r = self
            .client
            .send_as(Method::POST, url, body.as_ref(), Some(key))
            .await?;
        let device_name = text(&d, "deviceName");
        let owner = d["userPrincipalName"].as_str().unwrap_or("no one");
        Ok(ActionResult {
            summary: match op {
                "syncDevice" => {
                    format!("asked {device_name} ({owner}) to check in with Intune now")
                }
                "rebootNow" => format!("sent a restart to {device_name} ({owner})"),
                "remoteLock" => format!("sent a remote lock to {device_name} ({owner})"),
                "resetPasscode" => format!("sent a passcode reset to {device_name} ({owner})"),
                "retire" => format!(
                    "retiring {device_name} ({owner}): company data and management are being removed"
                ),
                _ => format!(
                    "wiping {device_name} ({owner}): the device is being reset to factory settings"
                ),
            },
            output: json!({"device": id, "action": op}),
            before: Some(json!({
                "managementState": d.get("managementState").cloned().unwrap_or(json!("managed")),
                "lastSyncDateTime": d["lastSyncDateTime"],
            })),
            after: None,
            platform_request_id: r.request_id,
        })
    }

    pub(super) async fn devices_preview(
        &self,
        call: &ActionCall,
    ) -> Result<Vec<Change>, ConnectorError> {
        let name = call.action.as_str();
        let Some(op) = operation(name) else {
            return Ok(Vec::new());
        };
        let d = self.find_device(&device_key(call)?).await?;
        let owner = d["userPrincipalName"].as_str().unwrap_or("no one");
        let (field, current, proposed) = match op {
            "retire" | "wipe" => (
                "management".to_owned(),
                d.get("managementState")
                    .cloned()
                    .unwrap_or(json!("managed")),
                json!(if op == "wipe" {
                    "wiped: everything on the device erased"
                } else {
                    "retired: company data removed, no longer managed"
                }),
            ),
            _ => (
                "remote action".to_owned(),
                json!(format!(
                    "last check-in {}",
                    d["lastSyncDateTime"].as_str().unwrap_or("never")
                )),
                json!(op),
            ),
        };
        Ok(vec![Change {
            target: format!("{} ({owner})", text(&d, "deviceName")),
            field,
            current,
            proposed,
        }])
    }

    /// Whether Intune holds the action: for retire and wipe the management state; for the others
    /// the action's entry in `deviceActionResults`, started no earlier than `since`.
    pub(super) async fn device_state(
        &self,
        call: &ActionCall,
        since: Option<DateTime<Utc>>,
    ) -> Result<Reconciliation, ConnectorError> {
        let name = call.action.as_str();
        let Some(op) = operation(name) else {
            return Ok(Reconciliation::Unknown(format!(
                "`{name}` leaves nothing the Graph connector can read back"
            )));
        };
        let d = self.find_device(&device_key(call)?).await?;
        let device_name = text(&d, "deviceName");
        let state = d["managementState"]
            .as_str()
            .unwrap_or("managed")
            .to_owned();
        if op == "retire" || op == "wipe" {
            let wanted: &[&str] = if op == "retire" {
                &["retirePending", "retireIssued"]
            } else {
                &["wipePending", "wipeIssued"]
            };
            let detail = format!("{device_name}'s management state reads {state}");
            return Ok(Reconciliation::read(
                wanted.contains(&state.as_str()),
                detail,
            ));
        }
        let since =
            since.unwrap_or_else(|| Utc::now() - Duration::minutes(2)) - Duration::seconds(2);
        let entry = d["deviceActionResults"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|r| r["actionName"] == op)
            .cloned();
        let started = entry
            .as_ref()
            .and_then(|e| e["startDateTime"].as_str())
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&Utc));
        let detail = match &entry {
            Some(e) => format!(
                "Intune lists {op} on {device_name} as {} since {}",
                e["actionState"].as_str().unwrap_or("?"),
                e["startDateTime"].as_str().unwrap_or("?")
            ),
            None => format!("Intune lists no {op} on {device_name}"),
        };
        let failed = entry.as_ref().is_some_and(|e| {
            matches!(
                e["actionState"].as_str(),
                Some("failed" | "canceled" | "notSupported")
            )
        });
        Ok(Reconciliation::read(
            started.is_some_and(|t| t >= since) && !failed,
            detail,
        ))
    }
}
