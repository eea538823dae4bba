//! Clients of the systems Steward acts in, speaking their real wire formats.
//!
//! Each system is a module built from the same template (`client.rs` for HTTP, auth, retries and
//! paging; `actions.rs` for the action catalog with schemas, risk, targets and verification reads;
//! `execute.rs` for the calls). Only the action gateway in `steward-agent` holds a [`Connector`]:
//! reasoners never see one, so every mutating call goes through policy and audit first.

pub mod botframework;
mod connector;
mod error;
pub mod google;
mod imported;
pub mod itsm;
pub mod msgraph;
pub mod okta;
mod routed;
pub mod slack;

pub use connector::{ActionResult, Connector, Reconciliation, Verification};
pub use error::{ConnectorError, TransportError};
pub use imported::{ImportedAuth, ImportedConnector};
pub use routed::SystemRouter;

/// Every action of Steward's built-in connectors (Microsoft 365, Okta, Google Workspace),
/// connected or not: what
/// policies may name and the Cedar schema is generated from.
pub fn builtin_catalog() -> Vec<steward_domain::ActionSpec> {
    let mut all = msgraph::catalog();
    all.extend(okta::catalog());
    all.extend(google::catalog());
    all
}
