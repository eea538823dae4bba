//! Steward's audit trail: what happened, in an order nobody can quietly change.
//!
//! Every step of every conversation becomes an [`AuditEntry`]; sealing it with the previous
//! record's hash makes an [`AuditRecord`] of a per-tenant hash chain over a canonical encoding.
//! [`ChainVerifier`] recomputes the chain and names the first record that was edited, deleted,
//! inserted or moved; signed [`Checkpoint`]s of the chain's head also show a chain cut short or
//! rewritten whole. No I/O here: the store persists records, this crate defines and checks them.

mod chain;
mod checkpoint;
mod export;
mod record;
mod redact;

pub use chain::{ChainBreak, ChainVerifier, GENESIS_HASH, VerifyReport, verify_chain};
pub use checkpoint::{
    Checkpoint, CheckpointSigner, KeyError, key_id, parse_public_key, write_owner_only,
};
pub use ed25519_dalek::VerifyingKey;
pub use export::{ExportFormat, OCSF_VERSION, export_line, to_ocsf};
pub use record::{AuditEntry, AuditRecord, RecordKind};
pub use redact::{REDACTED, redact};
