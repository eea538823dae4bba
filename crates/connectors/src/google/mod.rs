//! Google Workspace (Admin SDK Directory and Reports APIs): accounts, passwords, suspension,
//! sign-out, 2-Step Verification, group members, mobile devices and login activity, acting with a
//! Google admin's delegated OAuth 2.0 grant — the same template as `msgraph` and `okta`.

mod actions;
mod client;
mod execute;

pub use client::GoogleClient;
pub use execute::GoogleConnector;

/// The Google Workspace action catalog (metadata only).
pub fn catalog() -> Vec<steward_domain::ActionSpec> {
    actions::catalog()
}

/// The scopes Steward asks a Google admin to consent to.
pub const SCOPES: &[&str] = &[
    "https://www.googleapis.com/auth/admin.directory.user",
    "https://www.googleapis.com/auth/admin.directory.user.security",
    "https://www.googleapis.com/auth/admin.directory.group.member",
    "https://www.googleapis.com/auth/admin.directory.device.mobile.action",
    "https://www.googleapis.com/auth/admin.reports.audit.readonly",
];
