//! Steward's durable state: tenants, conversations and their steps, approvals that wait for a
//! human, and the audit chain — on SQLite (one file, WAL; the embedded default) or PostgreSQL
//! (several replicas sharing one database), behind one API.
//!
//! Every tenant-owned read or write goes through a [`TenantStore`] handle obtained with
//! [`Store::tenant`]; its queries are bound to that tenant by construction, and there is no
//! cross-tenant API except the operator's [`Store::tenants`].

mod approvals;
mod audit;
mod audit_writer;
mod channel_events;
mod conversations;
mod counters;
mod credentials;
mod crypto;
mod db;
mod error;
mod escalations;
mod integrations;
mod intents;
mod standing;
mod store;
#[doc(hidden)]
pub mod testing;
mod tickets;
mod work;

pub use approvals::{ApprovalRow, ApprovalStatus};
pub use audit_writer::CheckpointPolicy;
pub use conversations::ConversationRow;
pub use counters::Reservation;
pub use credentials::StoredCredential;
pub use crypto::{CryptoError, KeyProvider, MasterKey};
pub use db::Location;
pub use error::StoreError;
pub use escalations::EscalationRow;
pub use integrations::IntegrationRow;
pub use intents::{IntentRow, IntentStart, IntentStatus};
pub use standing::{StandingRow, stored_time};
pub use store::{AuditOptions, Store, TenantStore};
pub use tickets::{OpenTicket, TicketProgress};
pub use work::{Wake, WorkItem, WorkSignal, WorkStatus};
