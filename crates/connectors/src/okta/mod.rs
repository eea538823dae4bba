//! Okta (Management API): users, lifecycle, passwords, factors, sessions, groups, app
//! assignments and the System Log, acting with an Okta admin's delegated OAuth 2.0 grant (its
//! `okta.*` scopes) — the same template as `msgraph`: `client.rs` for HTTP, auth, throttling
//! and paging, `actions.rs` for the catalog, `execute.rs` for the calls.

mod actions;
mod client;
mod execute;

pub use client::{OktaClient, OktaResponse};
pub use execute::OktaConnector;

/// The Okta action catalog (metadata only).
pub fn catalog() -> Vec<steward_domain::ActionSpec> {
    actions::catalog()
}

/// The scopes Steward asks an Okta admin to consent to.
pub const SCOPES: &[&str] = &[
    "okta.users.read",
    "okta.users.manage",
    "okta.groups.manage",
    "okta.apps.manage",
    "okta.logs.read",
    "offline_access",
];
