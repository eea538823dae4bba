//! The simulated tenant's state, built from a seed.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use tokio::sync::Mutex;

use crate::faults::Faults;
use crate::seed::{SeedError, invalid, required_str, shift_times};

/// Facts Graph has no property for; visible only through their effects (sign-in errors, roles).
#[derive(Debug, Clone, Default)]
pub(crate) struct SimUser {
    pub password: String,
    pub locked_out: bool,
    pub failed_attempts: u32,
    pub must_change_password: bool,
    pub roles: Vec<String>,
}

/// A user: Graph properties plus relationships and simulator-only facts.
#[derive(Debug, Clone)]
pub(crate) struct User {
    pub props: Map<String, Value>,
    pub manager: Option<String>,
    pub methods: Vec<Value>,
    pub mailbox: crate::mailbox::Mailbox,
    pub sim: SimUser,
}

impl User {
    pub fn id(&self) -> &str {
        self.props
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }
    pub fn upn(&self) -> &str {
        self.props
            .get("userPrincipalName")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }
    pub fn display_name(&self) -> &str {
        self.props
            .get("displayName")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }
    pub fn enabled(&self) -> bool {
        self.props
            .get("accountEnabled")
            .and_then(Value::as_bool)
            .unwrap_or(true)
    }

    /// This user as a directory audit's `targetResources` entry, naming the properties changed.
    pub fn audit_target(&self, modified: &[&str]) -> Value {
        let modified: Vec<Value> = modified
            .iter()
            .map(|p| serde_json::json!({"displayName": p}))
            .collect();
        serde_json::json!({"id": self.id(), "displayName": self.display_name(), "type": "User", "userPrincipalName": self.upn(), "modifiedProperties": modified})
    }
}

/// A group with its members and owners (directory object ids).
#[derive(Debug, Clone)]
pub(crate) struct Group {
    pub props: Map<String, Value>,
    pub members: Vec<String>,
    pub owners: Vec<String>,
}

impl Group {
    pub fn id(&self) -> &str {
        self.props
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }
    pub fn role_assignable(&self) -> bool {
        self.props
            .get("isAssignableToRole")
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }
}

/// An Intune managed device: Graph's properties and its per-policy compliance states.
#[derive(Debug, Clone)]
pub(crate) struct ManagedDevice {
    pub props: Map<String, Value>,
    pub policy_states: Vec<Value>,
}

impl ManagedDevice {
    /// A seeded device; one with no `deviceCompliancePolicyStates` gets its platform's baseline
    /// policy in the device's overall state.
    fn from_seed(mut props: Map<String, Value>) -> Self {
        let policy_states = match props.remove("deviceCompliancePolicyStates") {
            Some(Value::Array(states)) => states,
            _ => {
                let os = props
                    .get("operatingSystem")
                    .unwrap_or(&Value::Null)
                    .as_str()
                    .unwrap_or("Windows")
                    .to_owned();
                let (name, platform) = match os.as_str() {
                    "iOS" | "iPadOS" => ("iOS baseline", "iOS"),
                    "Android" => ("Android baseline", "android"),
                    "macOS" => ("macOS baseline", "macOS"),
                    _ => ("Windows 11 baseline", "windows10AndLater"),
                };
                let state =
                    if props.get("complianceState").unwrap_or(&Value::Null) == "noncompliant" {
                        "nonCompliant"
                    } else {
                        "compliant"
                    };
                let id = format!(
                    "{}-baseline",
                    props
                        .get("id")
                        .unwrap_or(&Value::Null)
                        .as_str()
                        .unwrap_or_default()
                );
                vec![
                    json!({"id": id, "displayName": name, "platformType": platform, "settingCount": 0, "settingStates": [], "state": state, "version": 1}),
                ]
            }
        };
        Self {
            props,
            policy_states,
        }
    }

    pub fn id(&self) -> &str {
        self.props
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    /// The directory id of the primary user.
    pub fn owner(&self) -> &str {
        self.props
            .get("userId")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    /// The device as Graph answers it.
    pub fn view(&self) -> Value {
        let mut view = Value::Object(self.props.clone());
        view["@odata.type"] = json!("#microsoft.graph.managedDevice");
        if view.get("managementState").is_none() {
            view["managementState"] = json!("managed");
        }
        if view.get("deviceActionResults").is_none() {
            view["deviceActionResults"] = json!([]);
        }
        view
    }
}

/// One simulated Entra tenant.
#[derive(Debug)]
pub struct Tenant {
    pub(crate) tenant_id: String,
    pub(crate) domain: String,
    pub(crate) users: Vec<User>,
    pub(crate) groups: Vec<Group>,
    pub(crate) sign_ins: Vec<Value>,
    pub(crate) directory_audits: Vec<Value>,
    pub(crate) operations: HashMap<String, Value>,
    /// Registered client applications: id, and the redirect URIs they may use (empty: loopback).
    pub(crate) client_apps: Vec<(String, Vec<String>)>,
    /// Identity Protection's risky users (Graph `riskyUser`, keyed by the user's id).
    pub(crate) risky_users: Vec<Value>,
    /// The organisation's licence subscriptions (Graph `subscribedSku`), seats counted live.
    pub(crate) subscribed_skus: Vec<Value>,
    /// Intune managed devices.
    pub(crate) managed_devices: Vec<ManagedDevice>,
    /// SharePoint sites.
    pub(crate) sites: Vec<crate::files::Site>,
    /// Every drive: each person's OneDrive and each site's document library.
    pub(crate) drives: Vec<crate::files::Drive>,
}

impl Tenant {
    /// Builds the tenant from a seed, checking it first against the seed schema and then for
    /// references that a schema cannot express (unknown managers or members, duplicate ids).
    pub fn from_seed(mut seed: Value, now: DateTime<Utc>) -> Result<Self, SeedError> {
        validate_against_schema(&seed)?;
        if let Some(anchor) = seed
            .pointer("/x-steward-sim/timeAnchor")
            .and_then(Value::as_str)
        {
            let anchor = DateTime::parse_from_rfc3339(anchor).map_err(|e| {
                invalid(format!(
                    "`x-steward-sim.timeAnchor` is not a date-time: {e}"
                ))
            })?;
            shift_times(&mut seed, now - anchor.with_timezone(&Utc));
        }
        let org = seed
            .get("organization")
            .and_then(Value::as_object)
            .ok_or_else(|| invalid("no `organization`"))?;
        let tenant_id = required_str(org, "id", "organization")?.to_owned();
        let domain = org
            .get("verifiedDomains")
            .and_then(Value::as_array)
            .and_then(|d| {
                d.iter()
                    .find(|d| d["isDefault"] == json!(true))
                    .or_else(|| d.first())
            })
            .and_then(|d| d["name"].as_str())
            .ok_or_else(|| invalid("`organization.verifiedDomains` names no domain"))?
            .to_owned();

        let mut users = Vec::new();
        let mut drives = Vec::new();
        let mut seen = HashSet::new();
        for raw in seed
            .get("users")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let mut props = raw
                .as_object()
                .cloned()
                .ok_or_else(|| invalid("a user is not an object"))?;
            let id = required_str(&props, "id", "a user")?.to_owned();
            let upn =
                required_str(&props, "userPrincipalName", &format!("user `{id}`"))?.to_lowercase();
            if !seen.insert(id.clone()) || !seen.insert(upn.clone()) {
                return Err(invalid(format!(
                    "user `{upn}` repeats an id or sign-in name"
                )));
            }
            let manager = props
                .remove("manager")
                .and_then(|m| m.get("id").and_then(Value::as_str).map(str::to_owned));
            let methods = props
                .remove("authentication")
                .and_then(|a| a.get("methods").and_then(Value::as_array).cloned())
                .unwrap_or_default();
            let mailbox = crate::mailbox::Mailbox::from_seed(&mut props, &upn)?;
            let seeded_drive = props.remove("drive");
            let display_name = props
                .get("displayName")
                .and_then(Value::as_str)
                .unwrap_or(&upn)
                .to_owned();
            drives.push(crate::files::one_drive(
                seeded_drive.as_ref(),
                &id,
                &upn,
                &display_name,
                &domain,
            )?);
            let sim_raw = props.remove("x-steward-sim").unwrap_or(Value::Null);
            let sim = SimUser {
                password: sim_raw["password"].as_str().unwrap_or_default().to_owned(),
                locked_out: sim_raw["lockedOut"].as_bool().unwrap_or(false),
                failed_attempts: 0,
                must_change_password: false,
                roles: sim_raw["directoryRoles"]
                    .as_array()
                    .map(|r| {
                        r.iter()
                            .filter_map(Value::as_str)
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default(),
            };
            for role in &sim.roles {
                if !crate::roles::is_known_role(role) {
                    return Err(invalid(format!(
                        "user `{upn}` has unknown directory role `{role}`"
                    )));
                }
            }
            users.push(User {
                props,
                manager,
                methods,
                mailbox,
                sim,
            });
        }
        let user_ids: HashSet<String> = users.iter().map(|u| u.id().to_owned()).collect();
        for u in &users {
            if let Some(m) = &u.manager
                && !user_ids.contains(m)
            {
                return Err(invalid(format!(
                    "user `{}` has unknown manager `{m}`",
                    u.upn()
                )));
            }
        }

        let mut groups = Vec::new();
        for raw in seed
            .get("groups")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let mut props = raw
                .as_object()
                .cloned()
                .ok_or_else(|| invalid("a group is not an object"))?;
            let id = required_str(&props, "id", "a group")?.to_owned();
            required_str(&props, "displayName", &format!("group `{id}`"))?;
            if !seen.insert(id.clone()) {
                return Err(invalid(format!("group `{id}` repeats an id")));
            }
            let mut refs = |key: &str| -> Result<Vec<String>, SeedError> {
                let list: Vec<String> = props
                    .remove(key)
                    .and_then(|v| v.as_array().cloned())
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|m| m.get("id").and_then(Value::as_str).map(str::to_owned))
                    .collect();
                if let Some(bad) = list.iter().find(|m| !user_ids.contains(*m)) {
                    return Err(invalid(format!("group `{id}` lists unknown {key} `{bad}`")));
                }
                Ok(list)
            };
            let members = refs("members")?;
            let owners = refs("owners")?;
            groups.push(Group {
                props,
                members,
                owners,
            });
        }

        let subscribed_skus: Vec<Value> = seed
            .get("subscribedSkus")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let (sites, site_drives) = crate::files::sites_from_seed(&seed)?;
        drives.extend(site_drives);
        let mut managed_devices = Vec::new();
        for raw in seed
            .get("managedDevices")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let props = raw
                .as_object()
                .cloned()
                .ok_or_else(|| invalid("a managed device is not an object"))?;
            let device = ManagedDevice::from_seed(props);
            if !device.owner().is_empty() && !user_ids.contains(device.owner()) {
                return Err(invalid(format!(
                    "managed device `{}` names unknown user `{}`",
                    device.id(),
                    device.owner()
                )));
            }
            managed_devices.push(device);
        }
        let risky_users: Vec<Value> = seed
            .get("riskyUsers")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut sign_ins: Vec<Value> = seed
            .get("signIns")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        sign_ins.sort_by(|a, b| {
            b["createdDateTime"]
                .as_str()
                .cmp(&a["createdDateTime"].as_str())
        });
        let client_apps = seed
            .pointer("/x-steward-sim/clientApplications")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|app| {
                let id = app.get("clientId")?.as_str()?.to_owned();
                let uris = app
                    .get("redirectUris")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect();
                Some((id, uris))
            })
            .collect();
        Ok(Self {
            tenant_id,
            domain,
            users,
            groups,
            sign_ins,
            directory_audits: Vec::new(),
            operations: HashMap::new(),
            client_apps,
            risky_users,
            subscribed_skus,
            managed_devices,
            sites,
            drives,
        })
    }

    /// Whether `client_id` is a registered application (a seed that registers none accepts any).
    pub(crate) fn knows_client(&self, client_id: &str) -> bool {
        self.client_apps.is_empty() || self.client_apps.iter().any(|(id, _)| id == client_id)
    }

    /// Whether the authorization endpoint may send a code for `client_id` to `uri`: one of the
    /// application's redirect URIs, or, if it lists none, a loopback `http` address.
    pub(crate) fn accepts_redirect(&self, client_id: &str, uri: &str) -> bool {
        let listed = self
            .client_apps
            .iter()
            .find(|(id, _)| id == client_id)
            .map(|(_, uris)| uris.as_slice())
            .unwrap_or_default();
        if !listed.is_empty() {
            return listed.iter().any(|u| u == uri);
        }
        url::Url::parse(uri).is_ok_and(|u| {
            u.scheme() == "http"
                && matches!(u.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"))
        })
    }

    /// The tenant's directory id (`tid` in tokens).
    pub fn tenant_id(&self) -> &str {
        &self.tenant_id
    }

    /// The default verified domain.
    pub fn domain(&self) -> &str {
        &self.domain
    }

    pub(crate) fn user(&self, key: &str) -> Option<&User> {
        let key = key.to_lowercase();
        self.users
            .iter()
            .find(|u| u.id() == key || u.upn().to_lowercase() == key)
    }

    pub(crate) fn user_mut(&mut self, key: &str) -> Option<&mut User> {
        let key = key.to_lowercase();
        self.users
            .iter_mut()
            .find(|u| u.id() == key || u.upn().to_lowercase() == key)
    }

    pub(crate) fn drive(&self, id: &str) -> Option<&crate::files::Drive> {
        self.drives.iter().find(|d| d.id == id)
    }

    pub(crate) fn drive_mut(&mut self, id: &str) -> Option<&mut crate::files::Drive> {
        self.drives.iter_mut().find(|d| d.id == id)
    }

    pub(crate) fn device(&self, id: &str) -> Option<&ManagedDevice> {
        self.managed_devices.iter().find(|d| d.id() == id)
    }

    pub(crate) fn device_mut(&mut self, id: &str) -> Option<&mut ManagedDevice> {
        self.managed_devices.iter_mut().find(|d| d.id() == id)
    }

    pub(crate) fn group(&self, id: &str) -> Option<&Group> {
        self.groups.iter().find(|g| g.id() == id)
    }

    pub(crate) fn group_mut(&mut self, id: &str) -> Option<&mut Group> {
        self.groups.iter_mut().find(|g| g.id() == id)
    }

    /// Whether a user is a member or owner of a role-assignable group (which raises the bar for
    /// who may reset their credentials).
    pub(crate) fn in_role_assignable_group(&self, user_id: &str) -> bool {
        self.groups.iter().any(|g| {
            g.role_assignable()
                && (g.members.iter().any(|m| m == user_id) || g.owners.iter().any(|o| o == user_id))
        })
    }
}

fn validate_against_schema(seed: &Value) -> Result<(), SeedError> {
    let schema: Value = serde_json::from_str(crate::seed::seed_schema())
        .map_err(|e| invalid(format!("the built-in seed schema is broken: {e}")))?;
    let validator = jsonschema::validator_for(&schema)
        .map_err(|e| invalid(format!("the built-in seed schema is broken: {e}")))?;
    let problems: Vec<String> = validator
        .iter_errors(seed)
        .take(5)
        .map(|e| format!("at `{}`: {e}", e.instance_path()))
        .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(invalid(problems.join("; ")))
    }
}

/// The whole simulator: one tenant, the token signing key, issued refresh tokens and injected
/// faults.
#[derive(Debug)]
pub struct SimState {
    pub(crate) tenant: Mutex<Tenant>,
    pub(crate) signing_key: Vec<u8>,
    pub(crate) refresh_tokens: Mutex<HashMap<String, (String, String)>>,
    pub(crate) codes: Mutex<crate::authorize::Codes>,
    pub(crate) faults: Mutex<Faults>,
    pub(crate) requests: Mutex<Vec<crate::faults::LoggedRequest>>,
    pub(crate) base_url: std::sync::OnceLock<String>,
}

impl SimState {
    /// A simulator over `tenant` with a fresh random signing key.
    pub fn new(tenant: Tenant) -> Self {
        let signing_key: Vec<u8> = (0..32).map(|_| rand::random::<u8>()).collect();
        Self {
            tenant: Mutex::new(tenant),
            signing_key,
            refresh_tokens: Mutex::new(HashMap::new()),
            codes: Mutex::new(HashMap::new()),
            faults: Mutex::new(Faults::default()),
            requests: Mutex::new(Vec::new()),
            base_url: std::sync::OnceLock::new(),
        }
    }

    pub(crate) fn base(&self) -> &str {
        self.base_url
            .get()
            .map_or("http://127.0.0.1", String::as_str)
    }
}
