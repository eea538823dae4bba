//! Microsoft Graph v1.0 (Entra ID users, groups, authentication methods, sign-in logs).

pub(crate) mod actions;
mod client;
mod credential;
mod devices;
mod execute;
mod files;
mod licenses;
mod lifecycle;
mod mailbox;
mod methods;
mod reconcile;
mod risk;
mod teams;

pub use client::{GraphClient, RetryPolicy};
pub use credential::{DelegatedCredential, RefreshTokenStore, TokenProvider};
pub use execute::MsGraphConnector;

/// The Graph action catalog (metadata only: schemas, risk, targets; nothing here can act).
pub fn catalog() -> Vec<steward_domain::ActionSpec> {
    actions::catalog()
}

/// Whether a Graph action whose answer was lost must be sent again even when it took effect:
/// its answer carried a secret (a temporary password, a Temporary Access Pass) that only a second
/// call can replace.
pub fn resends_after_lost_answer(action: &str) -> bool {
    matches!(
        action,
        "entra.user.reset_password" | "entra.user.create_tap"
    )
}

/// Graph's well-known id of a user's password authentication method.
pub const PASSWORD_METHOD_ID: &str = "28c10230-6103-485e-b985-444c60001490";

/// The delegated scopes Steward asks for to run the actions of this module.
pub const SCOPES: &[&str] = &[
    "User.Read.All",
    "User.ReadWrite.All",
    "User.EnableDisableAccount.All",
    "User.RevokeSessions.All",
    "UserAuthenticationMethod.ReadWrite.All",
    "GroupMember.ReadWrite.All",
    "Group.Read.All",
    "AuditLog.Read.All",
    "LicenseAssignment.Read.All",
    "LicenseAssignment.ReadWrite.All",
    "IdentityRiskyUser.Read.All",
    "IdentityRiskyUser.ReadWrite.All",
    "MailboxSettings.Read",
    "MailboxSettings.ReadWrite",
    "Calendars.ReadWrite",
    "DeviceManagementManagedDevices.Read.All",
    "DeviceManagementManagedDevices.ReadWrite.All",
    "DeviceManagementManagedDevices.PrivilegedOperations.All",
    "DeviceManagementConfiguration.Read.All",
    "Group.ReadWrite.All",
    "TeamMember.ReadWrite.All",
    "Files.ReadWrite.All",
    "Sites.ReadWrite.All",
];

/// The delegated scopes of the employee channel's own grant: what self-service needs (reading
/// people, repairing one's own sign-in, one's own mailbox, devices and files), nothing that
/// administers others (no account, group, licence or risk changes).
pub const EMPLOYEE_SCOPES: &[&str] = &[
    "User.Read.All",
    "User.RevokeSessions.All",
    "UserAuthenticationMethod.ReadWrite.All",
    "AuditLog.Read.All",
    "Group.Read.All",
    "GroupMember.Read.All",
    "LicenseAssignment.Read.All",
    "MailboxSettings.Read",
    "MailboxSettings.ReadWrite",
    "Calendars.ReadWrite",
    "DeviceManagementManagedDevices.Read.All",
    "DeviceManagementManagedDevices.PrivilegedOperations.All",
    "DeviceManagementConfiguration.Read.All",
    "Files.ReadWrite.All",
    "TeamMember.Read.All",
];
