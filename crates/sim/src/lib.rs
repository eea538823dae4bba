//! Faithful local simulators of the vendor APIs Steward talks to.
//!
//! For now: Microsoft Graph v1.0 (users, authentication methods, sign-in sessions, groups, sign-in
//! and directory audit logs) and a Microsoft identity platform v2.0-style token endpoint, with
//! delegated-permission semantics (a call needs the token's scope *and* the signed-in person's own
//! directory role). State comes from a seed file in Graph's own property names; the few facts Graph
//! has no property for (a password, a lockout) sit under `x-steward-sim` keys and show only the way
//! Graph shows them. This crate shares no code or types with Steward's connectors, so a misread wire
//! format cannot hide by being misread the same way on both sides.

mod app;
mod auth;
mod authorize;
pub mod botframework;
mod error;
mod faults;
mod files;
pub mod google;
mod graph;
pub mod itsm;
mod mailbox;
pub mod model;
mod oauth_util;
mod odata;
pub mod okta;
mod roles;
mod seed;
pub mod slack;
mod snapshot;
mod state;

pub use app::{RunningSim, app, start};
pub use faults::LoggedRequest;
pub use seed::{SeedError, demo_seed, load_seed, seed_schema};
pub use state::{SimState, Tenant};

/// The well-known id of the password authentication method in Graph.
pub const PASSWORD_METHOD_ID: &str = "28c10230-6103-485e-b985-444c60001490";
