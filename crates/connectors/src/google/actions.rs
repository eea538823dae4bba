//! The Google Workspace action catalog. A person is named by their sign-in name, which is their
//! Google primary e-mail: the gateway resolves it in the tenant's directory for policy, and the
//! Directory API's `userKey` takes it as it is.

use schemars::JsonSchema;
use serde::Deserialize;
use steward_domain::{ActionSpec, Risk};

use crate::msgraph::actions::{Entry, person, schema_of, specs};

/// One person.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UserParams {
    /// The person's Google account (their primary e-mail).
    #[schemars(length(min = 3, max = 256))]
    pub user: String,
}

/// A person and a Google group.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct MemberParams {
    /// The group's e-mail address or id.
    #[schemars(length(min = 1, max = 256))]
    pub group: String,
    /// The person's Google account.
    #[schemars(length(min = 3, max = 256))]
    pub user: String,
    /// Their role in the group (default MEMBER).
    pub role: Option<GroupRole>,
}

/// A member's role in a Google group.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub(crate) enum GroupRole {
    /// A member.
    Member,
    /// A manager (moderates).
    Manager,
    /// An owner.
    Owner,
}

/// A person's mobile device.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DeviceParams {
    /// The device owner's Google account.
    #[schemars(length(min = 3, max = 256))]
    pub user: String,
    /// The device's resourceId (from `google.devices.list`).
    #[schemars(length(min = 1, max = 256))]
    pub device: String,
}

/// A login-activity query about one person.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct LoginsParams {
    /// The person's Google account.
    #[schemars(length(min = 3, max = 256))]
    pub user: String,
    /// Look back this many hours (default 72).
    #[schemars(range(min = 1, max = 720))]
    pub since_hours: Option<u32>,
    /// Only failed logins.
    pub failures_only: Option<bool>,
}

const USER: &[&str] = &["https://www.googleapis.com/auth/admin.directory.user"];
const USER_READ: &[&str] = &[
    "https://www.googleapis.com/auth/admin.directory.user.readonly",
    "https://www.googleapis.com/auth/admin.directory.user",
];
const SECURITY: &[&str] = &["https://www.googleapis.com/auth/admin.directory.user.security"];
const MEMBER: &[&str] = &[
    "https://www.googleapis.com/auth/admin.directory.group.member",
    "https://www.googleapis.com/auth/admin.directory.group",
];
const MOBILE: &[&str] = &[
    "https://www.googleapis.com/auth/admin.directory.device.mobile.action",
    "https://www.googleapis.com/auth/admin.directory.device.mobile",
];

#[expect(
    clippy::too_many_arguments,
    reason = "one catalog row, written once per action"
)]
fn entry(
    name: &'static str,
    summary: &'static str,
    schema: serde_json::Value,
    mutating: bool,
    risk: Risk,
    undo: Option<&'static str>,
    verification: &'static str,
    calls: &'static [&'static str],
    permissions: &'static [&'static str],
) -> Entry {
    Entry {
        name,
        summary,
        schema,
        mutating,
        risk,
        targets: vec![person("user")],
        undo,
        verification,
        calls,
        permissions,
    }
}

/// Every Google Workspace action.
pub(crate) fn catalog() -> Vec<ActionSpec> {
    let user = schema_of::<UserParams>;
    let entries = vec![
        entry(
            "google.user.get",
            "Read a person's Google account: suspended or not, 2-Step Verification, last login, org unit",
            user(),
            false,
            Risk::Low,
            None,
            "",
            &["GET /admin/directory/v1/users/{userKey}"],
            USER_READ,
        ),
        entry(
            "google.user.set_password",
            "Give a Google account a temporary password that must be changed at next login",
            user(),
            true,
            Risk::Medium,
            None,
            "changePasswordAtNextLogin reads true",
            &["PATCH /admin/directory/v1/users/{userKey}"],
            USER,
        ),
        entry(
            "google.user.suspend",
            "Suspend a Google account (sign-ins stop; nothing is deleted)",
            user(),
            true,
            Risk::Medium,
            Some("google.user.unsuspend"),
            "suspended reads true",
            &["PATCH /admin/directory/v1/users/{userKey}"],
            USER,
        ),
        entry(
            "google.user.unsuspend",
            "Unsuspend a suspended Google account",
            user(),
            true,
            Risk::Medium,
            Some("google.user.suspend"),
            "suspended reads false",
            &["PATCH /admin/directory/v1/users/{userKey}"],
            USER,
        ),
        entry(
            "google.user.sign_out",
            "Sign a person out of every Google web and device session",
            user(),
            true,
            Risk::Medium,
            None,
            "Google keeps nothing readable about a sign-out: the 204 is all there is",
            &["POST /admin/directory/v1/users/{userKey}/signOut"],
            SECURITY,
        ),
        entry(
            "google.user.backup_codes",
            "Generate new backup verification codes for a person locked out of 2-Step Verification (the old ones stop working)",
            user(),
            true,
            Risk::High,
            None,
            "ten new codes are listed",
            &[
                "POST /admin/directory/v1/users/{userKey}/verificationCodes/generate",
                "GET /admin/directory/v1/users/{userKey}/verificationCodes",
            ],
            SECURITY,
        ),
        entry(
            "google.user.turn_off_2sv",
            "Turn off a person's 2-Step Verification (a lost phone; they enrol again)",
            user(),
            true,
            Risk::High,
            None,
            "isEnrolledIn2Sv reads false",
            &["POST /admin/directory/v1/users/{userKey}/twoStepVerification/turnOff"],
            SECURITY,
        ),
        entry(
            "google.group.add_member",
            "Add a person to a Google group (as member, manager or owner)",
            schema_of::<MemberParams>(),
            true,
            Risk::Medium,
            Some("google.group.remove_member"),
            "the group's members include the person",
            &["POST /admin/directory/v1/groups/{groupKey}/members"],
            MEMBER,
        ),
        entry(
            "google.group.remove_member",
            "Remove a person from a Google group",
            schema_of::<MemberParams>(),
            true,
            Risk::Medium,
            Some("google.group.add_member"),
            "the group's members no longer include the person",
            &["DELETE /admin/directory/v1/groups/{groupKey}/members/{memberKey}"],
            MEMBER,
        ),
        entry(
            "google.devices.list",
            "List a person's mobile devices synced with Google Workspace",
            user(),
            false,
            Risk::Low,
            None,
            "",
            &["GET /admin/directory/v1/customer/{customerId}/devices/mobile"],
            MOBILE,
        ),
        entry(
            "google.device.block",
            "Block a person's mobile device from syncing Google Workspace data",
            schema_of::<DeviceParams>(),
            true,
            Risk::Medium,
            None,
            "the device's status reads BLOCKED",
            &["POST /admin/directory/v1/customer/{customerId}/devices/mobile/{resourceId}/action"],
            MOBILE,
        ),
        entry(
            "google.device.wipe_account",
            "Remove the work account and its data from a person's mobile device (personal data stays)",
            schema_of::<DeviceParams>(),
            true,
            Risk::High,
            None,
            "the device's status reads ACCOUNT_WIPING",
            &["POST /admin/directory/v1/customer/{customerId}/devices/mobile/{resourceId}/action"],
            MOBILE,
        ),
        entry(
            "google.device.wipe",
            "Erase a person's whole mobile device (a lost or stolen phone)",
            schema_of::<DeviceParams>(),
            true,
            Risk::Critical,
            None,
            "the device's status reads WIPING",
            &["POST /admin/directory/v1/customer/{customerId}/devices/mobile/{resourceId}/action"],
            MOBILE,
        ),
        entry(
            "google.logins.list",
            "Read a person's recent Google login activity: failures (wrong password, second factor) and successes",
            schema_of::<LoginsParams>(),
            false,
            Risk::Medium,
            None,
            "",
            &["GET /admin/reports/v1/activity/users/{userKey}/applications/{applicationName}"],
            &["https://www.googleapis.com/auth/admin.reports.audit.readonly"],
        ),
    ];
    specs(entries.into_iter())
}
