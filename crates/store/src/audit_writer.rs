//! Group commit for audit appends: one task per process owns appending. Every caller hands it a
//! record and waits; the task takes everything queued at that moment, seals it onto the tenants'
//! chains and commits it in one transaction — one sync to disk shared by every conversation that
//! was waiting — and only then answers each caller. So a record is durable before its caller
//! goes on (an intent before its connector call), while throughput grows with concurrency.
//!
//! The same task signs checkpoints: inside the batch's transaction when a tenant has gained
//! `every` records since its last one, and on a timer for a tenant whose newest records have
//! waited `interval` unsigned.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use steward_audit::{AuditEntry, AuditRecord, CheckpointSigner, GENESIS_HASH};
use steward_domain::TenantId;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use crate::StoreError;
use crate::crypto::{DataKey, is_sealed};
use crate::db::{Db, LockedBegin, chain_scope, on_db};

/// How often checkpoints are signed.
#[derive(Debug, Clone, Copy)]
pub struct CheckpointPolicy {
    /// After this many new records of a tenant.
    pub every: u32,
    /// Or after this long with unsigned records.
    pub interval: Duration,
}

impl Default for CheckpointPolicy {
    fn default() -> Self {
        Self {
            every: 1000,
            interval: Duration::from_secs(60),
        }
    }
}

/// The most records one transaction takes (bounds its size and the wait of the first caller).
const MAX_BATCH: usize = 512;

struct Pending {
    tenant: TenantId,
    /// Its sensitive fields already sealed by the caller.
    entry: AuditEntry,
    reply: oneshot::Sender<Result<i64, StoreError>>,
}

/// What the writer task is asked to do.
enum Message {
    Append(Box<Pending>),
    /// Sign every tenant's head that has unsigned records (before a process exits).
    SignPending(oneshot::Sender<Result<(), StoreError>>),
}

/// The callers' side of the writer.
#[derive(Debug, Clone)]
pub(crate) struct AuditWriter {
    queue: mpsc::UnboundedSender<Message>,
}

impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pending")
            .field("tenant", &self.tenant)
            .finish()
    }
}

impl AuditWriter {
    /// Starts the writer task on the current runtime.
    pub fn start(db: Db, signer: Arc<CheckpointSigner>, policy: CheckpointPolicy) -> Self {
        let (queue, rx) = mpsc::unbounded_channel();
        tokio::spawn(run(db, signer, policy, rx));
        Self { queue }
    }

    /// Appends `entry` to `tenant`'s chain and returns its sequence number once committed.
    /// `entry`'s sensitive fields must already be sealed ([`seal_sensitive`]): that is done by
    /// each caller, in parallel, not by the one writer while it holds the write lock.
    pub async fn append(&self, tenant: TenantId, entry: AuditEntry) -> Result<i64, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send(Message::Append(Box::new(Pending {
                tenant,
                entry,
                reply,
            })))
            .map_err(|_| StoreError::AuditAppend("the audit writer has stopped".into()))?;
        answer
            .await
            .map_err(|_| StoreError::AuditAppend("the audit writer stopped mid-append".into()))?
    }
}

impl AuditWriter {
    /// Signs a checkpoint for every tenant whose newest records this process has not signed yet:
    /// a short-lived process (`steward ask`) calls it before exiting.
    pub async fn sign_pending(&self) -> Result<(), StoreError> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send(Message::SignPending(reply))
            .map_err(|_| StoreError::AuditAppend("the audit writer has stopped".into()))?;
        answer
            .await
            .map_err(|_| StoreError::AuditAppend("the audit writer stopped".into()))?
    }
}

/// Per tenant: records appended by this process since its last checkpoint, and since when.
#[derive(Default)]
struct Unsigned {
    count: u32,
    since: Option<Instant>,
}

async fn run(
    db: Db,
    signer: Arc<CheckpointSigner>,
    policy: CheckpointPolicy,
    mut rx: mpsc::UnboundedReceiver<Message>,
) {
    let mut unsigned: HashMap<TenantId, Unsigned> = HashMap::new();
    let tick = (policy.interval / 4).max(Duration::from_millis(50));
    let mut ticker = tokio::time::interval(tick);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            next = rx.recv() => {
                let Some(first) = next else { break };
                let first = match first {
                    Message::Append(p) => p,
                    Message::SignPending(reply) => {
                        let _ = reply.send(sign_all(&db, &signer, &mut unsigned).await);
                        continue;
                    }
                };
                let mut batch = vec![*first];
                let mut then_sign = None;
                while batch.len() < MAX_BATCH {
                    match rx.try_recv() {
                        Ok(Message::Append(p)) => batch.push(*p),
                        Ok(Message::SignPending(reply)) => {
                            then_sign = Some(reply);
                            break;
                        }
                        Err(_) => break,
                    }
                }
                commit(&db, &signer, policy, &mut unsigned, batch).await;
                if let Some(reply) = then_sign {
                    let _ = reply.send(sign_all(&db, &signer, &mut unsigned).await);
                }
            }
            _ = ticker.tick() => {
                let due: Vec<TenantId> = unsigned
                    .iter()
                    .filter(|(_, u)| u.count > 0 && u.since.is_some_and(|s| s.elapsed() >= policy.interval))
                    .map(|(t, _)| t.clone())
                    .collect();
                for tenant in due {
                    match sign_head(&db, &signer, &tenant).await {
                        Ok(()) => { unsigned.remove(&tenant); }
                        Err(e) => tracing::warn!(tenant = %tenant, error = %e, "audit checkpoint not signed; will retry"),
                    }
                }
            }
        }
    }
}

/// Signs the head of every tenant with records this process has not signed.
async fn sign_all(
    db: &Db,
    signer: &CheckpointSigner,
    unsigned: &mut HashMap<TenantId, Unsigned>,
) -> Result<(), StoreError> {
    let due: Vec<TenantId> = unsigned
        .iter()
        .filter(|(_, u)| u.count > 0)
        .map(|(t, _)| t.clone())
        .collect();
    for tenant in due {
        sign_head(db, signer, &tenant).await?;
        unsigned.remove(&tenant);
    }
    Ok(())
}

/// Seals and commits one batch, then answers every caller in it.
async fn commit(
    db: &Db,
    signer: &CheckpointSigner,
    policy: CheckpointPolicy,
    unsigned: &mut HashMap<TenantId, Unsigned>,
    batch: Vec<Pending>,
) {
    let mut counts: HashMap<TenantId, u32> = HashMap::new();
    // Tenants whose head this batch signed.
    let mut signed: Vec<TenantId> = Vec::new();
    let result = async {
        let mut scopes: Vec<String> = batch.iter().map(|p| chain_scope(p.tenant.as_str())).collect();
        scopes.sort_unstable();
        scopes.dedup();
        let mut heads: HashMap<TenantId, (i64, String)> = HashMap::new();
        let mut rows = Vec::with_capacity(batch.len());
        on_db!(db, pool => {
            // Every chain's write lock first, so two processes cannot pick the same seq.
            let mut tx = pool.begin_locked(&scopes).await?;
            for p in &batch {
                let head = match heads.get(&p.tenant) {
                    Some(h) => h.clone(),
                    None => chain_head!(tx, p.tenant.as_str()),
                };
                let mut entry = p.entry.clone();
                entry.tenant = p.tenant.to_string();
                let record = entry.seal(head.0 + 1, &head.1);
                heads.insert(p.tenant.clone(), (record.seq, record.hash.clone()));
                *counts.entry(p.tenant.clone()).or_default() += 1;
                let canonical = record.entry.canonical();
                rows.push((p.tenant.as_str(), record, canonical));
            }
            // Few statements for the whole batch (each is a round trip), each kept below
            // STATEMENT_BYTES.
            for chunk in statement_chunks(&rows) {
                let mut insert = builder_for(
                    pool,
                    "INSERT INTO audit_records (tenant, seq, kind, time, conversation, entry, prev_hash, hash) ",
                );
                insert.push_values(chunk, |mut row, (tenant, record, canonical)| {
                    row.push_bind(*tenant)
                        .push_bind(record.seq)
                        .push_bind(record.entry.kind.as_str())
                        .push_bind(record.entry.time.to_rfc3339())
                        .push_bind(record.entry.conversation.as_deref())
                        .push_bind(canonical.as_str())
                        .push_bind(&record.prev_hash)
                        .push_bind(&record.hash);
                });
                insert.build().execute(&mut *tx).await?;
            }
            for (tenant, (seq, hash)) in &heads {
                let pending = unsigned.get(tenant).map_or(0, |u| u.count);
                if pending + counts.get(tenant).copied().unwrap_or(0) >= policy.every {
                    insert_checkpoint!(tx, signer, tenant, *seq, hash);
                    signed.push(tenant.clone());
                }
            }
            tx.commit().await?;
        });
        Ok::<_, StoreError>(rows.iter().map(|(_, r, _)| r.seq).collect::<Vec<_>>())
    }
    .await;
    match result {
        Ok(seqs) => {
            for (tenant, added) in counts {
                let u = unsigned.entry(tenant.clone()).or_default();
                if signed.contains(&tenant) {
                    *u = Unsigned::default();
                } else {
                    u.count += added;
                    u.since.get_or_insert_with(Instant::now);
                }
            }
            for (p, seq) in batch.into_iter().zip(seqs) {
                let _ = p.reply.send(Ok(seq));
            }
        }
        Err(e) => {
            let message = e.to_string();
            for p in batch {
                let _ = p.reply.send(Err(StoreError::AuditAppend(message.clone())));
            }
        }
    }
}

/// Seals the record's parameters and detail (the fields that can carry personal data) with the
/// tenant's key before the record is hashed: the chain covers what is stored, so it verifies
/// without the key, and after the key is destroyed.
pub(crate) fn seal_sensitive(entry: &mut AuditEntry, key: &DataKey) -> Result<(), StoreError> {
    for (field, purpose) in [
        (&mut entry.params, "audit.params"),
        (&mut entry.detail, "audit.detail"),
    ] {
        if !field.is_null() {
            *field = serde_json::Value::String(key.seal(&field.to_string(), purpose)?);
        }
    }
    Ok(())
}

/// Opens what [`seal_sensitive`] sealed (records written before encryption are left as they are).
pub(crate) fn open_sensitive(entry: &mut AuditEntry, key: &DataKey) -> Result<(), StoreError> {
    for (field, purpose) in [
        (&mut entry.params, "audit.params"),
        (&mut entry.detail, "audit.detail"),
    ] {
        if let serde_json::Value::String(stored) = field
            && is_sealed(stored)
        {
            let text = key.open(stored, purpose)?;
            *field = serde_json::from_str(&text).map_err(|e| StoreError::Corrupt {
                what: "audit record",
                reason: e.to_string(),
            })?;
        }
    }
    Ok(())
}

/// The most bytes of records one INSERT carries. sqlx 0.9.0 leaves Nagle's algorithm on for
/// PostgreSQL's TCP socket (transact-rs/sqlx#4335, fixed upstream but not yet released) and
/// writes a message in 8 KiB pieces: a longer one waits for the server's delayed ACK, 40 ms a
/// batch (measured here: 45 ms for 27 records, 0.3 ms per 6 KiB statement). So a batch goes out
/// as several statements below 8 KiB each, in the same transaction.
const STATEMENT_BYTES: usize = 6 * 1024;

/// Splits a batch's rows into runs whose records total at most [`STATEMENT_BYTES`] (a record
/// larger than that goes alone).
fn statement_chunks<T>(rows: &[(T, AuditRecord, String)]) -> Vec<&[(T, AuditRecord, String)]> {
    let mut chunks = Vec::new();
    let mut start = 0;
    let mut bytes = 0;
    for (i, (_, _, canonical)) in rows.iter().enumerate() {
        let size = canonical.len() + 256;
        if i > start && bytes + size > STATEMENT_BYTES {
            chunks.push(&rows[start..i]);
            start = i;
            bytes = 0;
        }
        bytes += size;
    }
    if start < rows.len() {
        chunks.push(&rows[start..]);
    }
    chunks
}

/// A new query builder for `pool`'s backend (names the backend for type inference).
fn builder_for<DB: sqlx::Database>(_pool: &sqlx::Pool<DB>, sql: &str) -> sqlx::QueryBuilder<DB> {
    sqlx::QueryBuilder::new(sql.to_owned())
}

/// The sequence number and hash of a tenant's newest record (0 and the genesis hash for an empty
/// chain), read inside transaction `$tx`.
macro_rules! chain_head {
    ($tx:ident, $tenant:expr) => {{
        let last: Option<(i64, String)> = sqlx::query_as(
            "SELECT seq, hash FROM audit_records WHERE tenant = $1 ORDER BY seq DESC LIMIT 1",
        )
        .bind($tenant)
        .fetch_optional(&mut *$tx)
        .await?;
        last.unwrap_or_else(|| (0, GENESIS_HASH.to_owned()))
    }};
}
use chain_head;

/// Signs `$tenant`'s head (`$seq`, `$hash`) and stores the checkpoint inside transaction `$tx`
/// (a second signature of the same head is ignored).
macro_rules! insert_checkpoint {
    ($tx:ident, $signer:expr, $tenant:expr, $seq:expr, $hash:expr) => {{
        let c = $signer.sign($tenant.as_str(), $seq, $hash, Utc::now());
        sqlx::query("INSERT INTO audit_checkpoints (tenant, seq, head_hash, time, key_id, signature) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tenant, seq) DO NOTHING")
            .bind(&c.tenant)
            .bind(c.seq)
            .bind(&c.head_hash)
            .bind(c.time.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
            .bind(&c.key_id)
            .bind(&c.signature)
            .execute(&mut *$tx)
            .await?;
    }};
}
use insert_checkpoint;

/// Signs the current head of `tenant`'s chain in a transaction of its own.
async fn sign_head(
    db: &Db,
    signer: &CheckpointSigner,
    tenant: &TenantId,
) -> Result<(), StoreError> {
    let scope = [chain_scope(tenant.as_str())];
    on_db!(db, pool => {
        let mut tx = pool.begin_locked(&scope).await?;
        let (seq, hash) = chain_head!(tx, tenant.as_str());
        if seq > 0 {
            insert_checkpoint!(tx, signer, tenant, seq, &hash);
        }
        tx.commit().await?;
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(sizes: &[usize]) -> Vec<((), AuditRecord, String)> {
        sizes
            .iter()
            .enumerate()
            .map(|(i, &n)| {
                let record = AuditEntry::new("t", steward_audit::RecordKind::Intent)
                    .seal(i as i64 + 1, GENESIS_HASH);
                ((), record, "x".repeat(n))
            })
            .collect()
    }

    #[test]
    fn statements_stay_below_the_size_limit_and_keep_every_row_in_order() {
        let batch = rows(&[1000; 40]);
        let chunks = statement_chunks(&batch);
        assert!(chunks.len() > 1);
        let mut seqs = Vec::new();
        for chunk in &chunks {
            let bytes: usize = chunk.iter().map(|(_, _, c)| c.len() + 256).sum();
            assert!(bytes <= STATEMENT_BYTES, "{bytes}");
            seqs.extend(chunk.iter().map(|(_, r, _)| r.seq));
        }
        assert_eq!(seqs, (1..=40).collect::<Vec<_>>());
    }

    #[test]
    fn a_record_larger_than_the_limit_goes_alone() {
        let batch = rows(&[100, 50_000, 100]);
        let sizes: Vec<usize> = statement_chunks(&batch).iter().map(|c| c.len()).collect();
        assert_eq!(sizes, vec![1, 1, 1]);
        assert!(statement_chunks(&rows(&[])).is_empty());
    }
}
