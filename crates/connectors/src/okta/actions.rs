//! The Okta action catalog. A person is named by their sign-in name (login or e-mail): the
//! gateway resolves it in the tenant's directory for policy, and Okta's `{id}` accepts it as
//! it is, so the same person is linked across both by verified e-mail.

use schemars::JsonSchema;
use serde::Deserialize;
use steward_domain::{ActionSpec, Risk};

use crate::msgraph::actions::{Entry, person, schema_of, specs};

/// One person.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UserParams {
    /// The person's sign-in name (their Okta login or e-mail).
    #[schemars(length(min = 3, max = 256))]
    pub user: String,
}

/// A search of the Okta directory.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SearchParams {
    /// The start of a first name, last name, e-mail or login.
    #[schemars(length(min = 1, max = 100))]
    pub query: String,
    /// At most this many results (default 20).
    #[schemars(range(min = 1, max = 200))]
    pub top: Option<u32>,
}

/// Profile attributes to change (only those given change).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct ProfileParams {
    /// The person's sign-in name.
    #[schemars(length(min = 3, max = 256))]
    pub user: String,
    /// New department.
    #[schemars(length(min = 1, max = 64))]
    pub department: Option<String>,
    /// New title.
    #[schemars(length(min = 1, max = 128))]
    pub title: Option<String>,
    /// New mobile phone number.
    #[schemars(length(min = 3, max = 32))]
    pub mobile_phone: Option<String>,
}

/// A temporary password, optionally signing the person out everywhere at once.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct TempPasswordParams {
    /// The person's sign-in name.
    #[schemars(length(min = 3, max = 256))]
    pub user: String,
    /// Also end every existing session (default true).
    pub revoke_sessions: Option<bool>,
}

/// Removing one enrolled factor, or all of them.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct FactorsParams {
    /// The person's sign-in name.
    #[schemars(length(min = 3, max = 256))]
    pub user: String,
    /// The factor's id (from `okta.factors.list`); without it, every factor is reset.
    #[schemars(length(min = 1, max = 64))]
    pub factor: Option<String>,
}

/// A person and an Okta group.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct GroupParams {
    /// The group's id or exact name.
    #[schemars(length(min = 1, max = 256))]
    pub group: String,
    /// The person's sign-in name.
    #[schemars(length(min = 3, max = 256))]
    pub user: String,
}

/// A person and an Okta application.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AppParams {
    /// The application's id or label (as people see it on their dashboard).
    #[schemars(length(min = 1, max = 256))]
    pub app: String,
    /// The person's sign-in name.
    #[schemars(length(min = 3, max = 256))]
    pub user: String,
}

/// A System Log query about one person.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct LogsParams {
    /// The person's sign-in name (events where they are the actor or the target).
    #[schemars(length(min = 3, max = 256))]
    pub user: String,
    /// Look back this many hours (default 72).
    #[schemars(range(min = 1, max = 720))]
    pub since_hours: Option<u32>,
    /// Only failed events (sign-in failures, lockouts, MFA denials).
    pub failures_only: Option<bool>,
    /// At most this many events (default 100).
    #[schemars(range(min = 1, max = 1000))]
    pub top: Option<u32>,
}

/// The scopes each kind of call needs.
const USERS_READ: &[&str] = &["okta.users.read", "okta.users.manage"];
const USERS_MANAGE: &[&str] = &["okta.users.manage"];

fn lifecycle(
    name: &'static str,
    summary: &'static str,
    risk: Risk,
    undo: Option<&'static str>,
    verification: &'static str,
    call: &'static [&'static str],
) -> Entry {
    Entry {
        name,
        summary,
        schema: schema_of::<UserParams>(),
        mutating: true,
        risk,
        targets: vec![person("user")],
        undo,
        verification,
        calls: call,
        permissions: USERS_MANAGE,
    }
}

/// Every Okta action.
pub(crate) fn catalog() -> Vec<ActionSpec> {
    let entries = vec![
        Entry {
            name: "okta.user.get",
            summary: "Read a person's Okta account: status (ACTIVE, LOCKED_OUT, SUSPENDED, PASSWORD_EXPIRED …), profile and who masters their password",
            schema: schema_of::<UserParams>(),
            mutating: false,
            risk: Risk::Low,
            targets: vec![person("user")],
            undo: None,
            verification: "",
            calls: &["GET /api/v1/users/{id}"],
            permissions: USERS_READ,
        },
        Entry {
            name: "okta.user.search",
            summary: "Find Okta accounts by the start of a name, e-mail or login",
            schema: schema_of::<SearchParams>(),
            mutating: false,
            risk: Risk::Low,
            targets: Vec::new(),
            undo: None,
            verification: "",
            calls: &["GET /api/v1/users"],
            permissions: USERS_READ,
        },
        Entry {
            name: "okta.user.list_groups",
            summary: "List the Okta groups a person is in",
            schema: schema_of::<UserParams>(),
            mutating: false,
            risk: Risk::Low,
            targets: vec![person("user")],
            undo: None,
            verification: "",
            calls: &["GET /api/v1/users/{id}/groups"],
            permissions: &["okta.groups.read", "okta.groups.manage"],
        },
        Entry {
            name: "okta.user.update_profile",
            summary: "Change a person's Okta profile (department, title, mobile phone)",
            schema: schema_of::<ProfileParams>(),
            mutating: true,
            risk: Risk::Medium,
            targets: vec![person("user")],
            undo: None,
            verification: "the profile reads the new values",
            calls: &["POST /api/v1/users/{id}"],
            permissions: USERS_MANAGE,
        },
        lifecycle(
            "okta.user.unlock",
            "Unlock an Okta account locked after too many failed sign-ins (the password stays the same)",
            Risk::Medium,
            None,
            "the account's status is no longer LOCKED_OUT",
            &["POST /api/v1/users/{id}/lifecycle/unlock"],
        ),
        lifecycle(
            "okta.user.suspend",
            "Suspend an Okta account (sign-ins stop; nothing is deleted)",
            Risk::Medium,
            Some("okta.user.unsuspend"),
            "the account's status reads SUSPENDED",
            &["POST /api/v1/users/{id}/lifecycle/suspend"],
        ),
        lifecycle(
            "okta.user.unsuspend",
            "Unsuspend a suspended Okta account",
            Risk::Medium,
            Some("okta.user.suspend"),
            "the account's status reads ACTIVE",
            &["POST /api/v1/users/{id}/lifecycle/unsuspend"],
        ),
        lifecycle(
            "okta.user.deactivate",
            "Deactivate an Okta account (a leaver: every app assignment and session ends)",
            Risk::High,
            Some("okta.user.activate"),
            "the account's status reads DEPROVISIONED",
            &["POST /api/v1/users/{id}/lifecycle/deactivate"],
        ),
        lifecycle(
            "okta.user.activate",
            "Activate a staged or deactivated Okta account",
            Risk::Medium,
            Some("okta.user.deactivate"),
            "the account's status reads ACTIVE",
            &["POST /api/v1/users/{id}/lifecycle/activate"],
        ),
        lifecycle(
            "okta.user.reset_password",
            "Start an Okta password reset: a one-time reset link the person opens to choose a new password",
            Risk::Medium,
            None,
            "the account's status reads RECOVERY",
            &["POST /api/v1/users/{id}/lifecycle/reset_password"],
        ),
        lifecycle(
            "okta.user.expire_password",
            "Expire an Okta password so the person must choose a new one at next sign-in",
            Risk::Low,
            None,
            "the account's status reads PASSWORD_EXPIRED",
            &["POST /api/v1/users/{id}/lifecycle/expire_password"],
        ),
        Entry {
            name: "okta.user.temp_password",
            summary: "Give an Okta account a temporary password that must be changed at next sign-in (clears a lockout), signing it out everywhere",
            schema: schema_of::<TempPasswordParams>(),
            mutating: true,
            risk: Risk::Medium,
            targets: vec![person("user")],
            undo: None,
            verification: "the account's status reads PASSWORD_EXPIRED and passwordChanged moved forward",
            calls: &["POST /api/v1/users/{id}/lifecycle/expire_password_with_temp_password"],
            permissions: USERS_MANAGE,
        },
        Entry {
            name: "okta.factors.list",
            summary: "List a person's enrolled Okta factors (Okta Verify, SMS, security keys …)",
            schema: schema_of::<UserParams>(),
            mutating: false,
            risk: Risk::Low,
            targets: vec![person("user")],
            undo: None,
            verification: "",
            calls: &["GET /api/v1/users/{userId}/factors"],
            permissions: USERS_READ,
        },
        Entry {
            name: "okta.factors.reset",
            summary: "Reset a person's Okta MFA: remove one enrolled factor, or all of them, so they enrol again (a new phone)",
            schema: schema_of::<FactorsParams>(),
            mutating: true,
            risk: Risk::High,
            targets: vec![person("user")],
            undo: None,
            verification: "the factor (or every factor) is no longer listed",
            calls: &[
                "DELETE /api/v1/users/{userId}/factors/{factorId}",
                "POST /api/v1/users/{id}/lifecycle/reset_factors",
            ],
            permissions: USERS_MANAGE,
        },
        Entry {
            name: "okta.sessions.clear",
            summary: "Sign a person out of every Okta session",
            schema: schema_of::<UserParams>(),
            mutating: true,
            risk: Risk::Medium,
            targets: vec![person("user")],
            undo: None,
            verification: "the System Log records the sessions cleared for the person",
            calls: &["DELETE /api/v1/users/{userId}/sessions"],
            permissions: USERS_MANAGE,
        },
        Entry {
            name: "okta.group.add_member",
            summary: "Add a person to an Okta group",
            schema: schema_of::<GroupParams>(),
            mutating: true,
            risk: Risk::Medium,
            targets: vec![person("user")],
            undo: Some("okta.group.remove_member"),
            verification: "the person's groups include the group",
            calls: &["PUT /api/v1/groups/{groupId}/users/{userId}"],
            permissions: &["okta.groups.manage"],
        },
        Entry {
            name: "okta.group.remove_member",
            summary: "Remove a person from an Okta group",
            schema: schema_of::<GroupParams>(),
            mutating: true,
            risk: Risk::Medium,
            targets: vec![person("user")],
            undo: Some("okta.group.add_member"),
            verification: "the person's groups no longer include the group",
            calls: &["DELETE /api/v1/groups/{groupId}/users/{userId}"],
            permissions: &["okta.groups.manage"],
        },
        Entry {
            name: "okta.app.assign",
            summary: "Give a person an Okta application (it appears on their dashboard)",
            schema: schema_of::<AppParams>(),
            mutating: true,
            risk: Risk::Medium,
            targets: vec![person("user")],
            undo: Some("okta.app.unassign"),
            verification: "the application's users include the person",
            calls: &["POST /api/v1/apps/{appId}/users"],
            permissions: &["okta.apps.manage"],
        },
        Entry {
            name: "okta.app.unassign",
            summary: "Take an Okta application away from a person",
            schema: schema_of::<AppParams>(),
            mutating: true,
            risk: Risk::Medium,
            targets: vec![person("user")],
            undo: Some("okta.app.assign"),
            verification: "the application's users no longer include the person",
            calls: &["DELETE /api/v1/apps/{appId}/users/{userId}"],
            permissions: &["okta.apps.manage"],
        },
        Entry {
            name: "okta.logs.list",
            summary: "Read a person's recent Okta System Log events: sign-ins, failures, lockouts, MFA denials",
            schema: schema_of::<LogsParams>(),
            mutating: false,
            risk: Risk::Medium,
            targets: vec![person("user")],
            undo: None,
            verification: "",
            calls: &["GET /api/v1/logs"],
            permissions: &["okta.logs.read"],
        },
    ];
    specs(entries.into_iter())
}
