//! Steward's audit trail: what happened, in an order nobody can quietly change.
//!
//! Every step of every conversation becomes an [`AuditEntry`]; sealing it with the previous
//! record's hash makes an [`AuditRecord`] of a per-tenant hash chain over a canonical encoding.
//! [`verify_chain`] recomputes the chain and names the first record that was edited, deleted,
//! inserted or moved. No I/O here: the store persists records, this crate defines and checks them.

mod chain;
mod record;
mod redact;

pub use chain::{ChainBreak, GENESIS_HASH, VerifyReport, verify_chain};
pub use record::{AuditEntry, AuditRecord, RecordKind};
pub use redact::{REDACTED, redact};
