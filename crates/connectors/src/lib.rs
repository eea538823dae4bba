//! Clients of the systems Steward acts in, speaking their real wire formats.
//!
//! Each system is a module built from the same template (`client.rs` for HTTP, auth, retries and
//! paging; `actions.rs` for the action catalog with schemas, risk, targets and verification reads;
//! `execute.rs` for the calls). Only the action gateway in `steward-agent` holds a [`Connector`]:
//! reasoners never see one, so every mutating call goes through policy and audit first.

pub mod botframework;
mod connector;
mod error;
mod imported;
pub mod itsm;
pub mod msgraph;
mod routed;
pub mod slack;

pub use connector::{ActionResult, Connector, Reconciliation, Verification};
pub use error::{ConnectorError, TransportError};
pub use imported::{ImportedAuth, ImportedConnector};
pub use routed::SystemRouter;
