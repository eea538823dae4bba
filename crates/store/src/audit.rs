use steward_audit::{
    AuditEntry, AuditRecord, ChainVerifier, Checkpoint, GENESIS_HASH, VerifyReport, VerifyingKey,
};

use crate::db::{LockedBegin, on_db};
use crate::{StoreError, TenantStore};

/// Rows read per query while verifying (bounds memory on long chains).
const VERIFY_PAGE: i64 = 20_000;

impl TenantStore {
    /// Seals `entry` onto the tenant's chain and commits it (synchronously to disk) before
    /// returning its sequence number. Concurrent appends of this process share one transaction
    /// and one sync (group commit).
    pub async fn append_audit(&self, mut entry: AuditEntry) -> Result<i64, StoreError> {
        crate::audit_writer::seal_sensitive(&mut entry, &self.key)?;
        self.writer.append(self.tenant.clone(), entry).await
    }

    /// Like [`append_audit`](Self::append_audit), but in a transaction and a sync of its own:
    /// the naive writer that group commit is measured against (`steward bench audit`). Steward
    /// itself does not use it.
    pub async fn append_audit_unbatched(&self, mut entry: AuditEntry) -> Result<i64, StoreError> {
        entry.tenant = self.tenant.to_string();
        crate::audit_writer::seal_sensitive(&mut entry, &self.key)?;
        let _guard = self.append_lock.lock().await;
        let scope = crate::db::chain_scope(self.tenant.as_str());
        on_db!(&self.db, pool => {
            // The chain's write lock first, so two processes cannot pick the same seq.
            let mut tx = pool.begin_locked(std::slice::from_ref(&scope)).await?;
            let last: Option<(i64, String)> = sqlx::query_as(
                "SELECT seq, hash FROM audit_records WHERE tenant = $1 ORDER BY seq DESC LIMIT 1",
            )
            .bind(self.tenant.as_str())
            .fetch_optional(&mut *tx)
            .await?;
            let (seq, prev) = last.map_or((1, GENESIS_HASH.to_owned()), |(s, h)| (s + 1, h));
            let record = entry.seal(seq, &prev);
            sqlx::query("INSERT INTO audit_records (tenant, seq, kind, time, conversation, entry, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
                .bind(self.tenant.as_str())
                .bind(record.seq)
                .bind(record.entry.kind.as_str())
                .bind(record.entry.time.to_rfc3339())
                .bind(record.entry.conversation.as_deref())
                .bind(record.entry.canonical())
                .bind(&record.prev_hash)
                .bind(&record.hash)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(seq)
        })
    }

    /// A stored row as a record, its sealed fields opened.
    fn record_of(
        &self,
        (seq, entry, prev_hash, hash): (i64, String, String, String),
    ) -> Result<AuditRecord, StoreError> {
        let mut entry = serde_json::from_str(&entry).map_err(|e| StoreError::Corrupt {
            what: "audit record",
            reason: format!("seq {seq}: {e}"),
        })?;
        crate::audit_writer::open_sensitive(&mut entry, &self.key)?;
        Ok(AuditRecord {
            seq,
            prev_hash,
            hash,
            entry,
        })
    }

    /// The sequence number of the tenant's latest record (0 when none): a cheap way for live
    /// views to notice that something happened.
    pub async fn last_audit_seq(&self) -> Result<i64, StoreError> {
        let (seq,): (Option<i64>,) = on_db!(&self.db, pool => sqlx::query_as("SELECT MAX(seq) FROM audit_records WHERE tenant = $1")
            .bind(self.tenant.as_str())
            .fetch_one(pool)
            .await)?;
        Ok(seq.unwrap_or(0))
    }

    /// The tenant's records in chain order, optionally only those of one conversation.
    pub async fn audit_records(
        &self,
        conversation: Option<&str>,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        let rows: Vec<(i64, String, String, String)> = match conversation {
            None => {
                on_db!(&self.db, pool => sqlx::query_as("SELECT seq, entry, prev_hash, hash FROM audit_records WHERE tenant = $1 ORDER BY seq")
                    .bind(self.tenant.as_str())
                    .fetch_all(pool)
                    .await)?
            }
            Some(c) => {
                on_db!(&self.db, pool => sqlx::query_as("SELECT seq, entry, prev_hash, hash FROM audit_records WHERE tenant = $1 AND conversation = $2 ORDER BY seq")
                    .bind(self.tenant.as_str())
                    .bind(c)
                    .fetch_all(pool)
                    .await)?
            }
        };
        rows.into_iter().map(|row| self.record_of(row)).collect()
    }

    /// Up to `limit` records after sequence number `after`, in chain order, optionally only those
    /// written in `[since, until)`: for exports, which page through the chain (and, following it,
    /// ask again from the last sequence number they saw).
    pub async fn audit_records_after(
        &self,
        after: i64,
        since: Option<chrono::DateTime<chrono::Utc>>,
        until: Option<chrono::DateTime<chrono::Utc>>,
        limit: i64,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        // Times are stored as RFC 3339 in UTC with one format, so they compare as text.
        let rows: Vec<(i64, String, String, String)> = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT seq, entry, prev_hash, hash FROM audit_records WHERE tenant = $1 AND seq > $2 AND ($3 IS NULL OR time >= $4) AND ($5 IS NULL OR time < $6) ORDER BY seq LIMIT $7",
        )
        .bind(self.tenant.as_str())
        .bind(after)
        .bind(since.map(|t| t.to_rfc3339()))
        .bind(since.map(|t| t.to_rfc3339()))
        .bind(until.map(|t| t.to_rfc3339()))
        .bind(until.map(|t| t.to_rfc3339()))
        .bind(limit)
        .fetch_all(pool)
        .await)?;
        rows.into_iter().map(|row| self.record_of(row)).collect()
    }

    /// The last sequence number export sink `sink` acknowledged (0 when it has received nothing).
    pub async fn export_cursor(&self, sink: &str) -> Result<i64, StoreError> {
        let row: Option<(i64,)> = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT last_seq FROM audit_export_cursors WHERE tenant = $1 AND sink = $2",
        )
        .bind(self.tenant.as_str())
        .bind(sink)
        .fetch_optional(pool)
        .await)?;
        Ok(row.map_or(0, |(seq,)| seq))
    }

    /// Records that `sink` acknowledged every record up to `seq`.
    pub async fn set_export_cursor(&self, sink: &str, seq: i64) -> Result<(), StoreError> {
        on_db!(&self.db, pool => sqlx::query("INSERT INTO audit_export_cursors (tenant, sink, last_seq, updated_at) VALUES ($1, $2, $3, $4) ON CONFLICT(tenant, sink) DO UPDATE SET last_seq = excluded.last_seq, updated_at = excluded.updated_at")
            .bind(self.tenant.as_str())
            .bind(sink)
            .bind(seq)
            .bind(chrono::Utc::now().to_rfc3339())
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Re-reads and re-hashes the whole chain and checks its checkpoints with this installation's
    /// key, naming the first broken record.
    pub async fn verify_audit(&self) -> Result<VerifyReport, StoreError> {
        let key = self.signer.verifying_key();
        self.verify_audit_with(&key).await
    }

    /// Like [`verify_audit`](Self::verify_audit), with a public key held apart from the
    /// installation (an exported one): a chain rewritten and re-signed with a replaced key fails.
    pub async fn verify_audit_with(&self, key: &VerifyingKey) -> Result<VerifyReport, StoreError> {
        self.chain().verify_with(key).await
    }

    /// The tenant's signed checkpoints, oldest first.
    pub async fn audit_checkpoints(&self) -> Result<Vec<Checkpoint>, StoreError> {
        self.chain().audit_checkpoints().await
    }

    fn chain(&self) -> ChainReader {
        ChainReader {
            db: self.db.clone(),
            tenant: self.tenant.clone(),
        }
    }
}

/// Reads one tenant's chain as stored, without its data key: verification hashes what is stored,
/// so it works for a tenant whose key was destroyed too.
pub(crate) struct ChainReader {
    pub(crate) db: crate::db::Db,
    pub(crate) tenant: steward_domain::TenantId,
}

impl ChainReader {
    /// One page of the chain after `after`, for verification.
    async fn audit_page(
        &self,
        after: i64,
    ) -> Result<Vec<(i64, String, String, String)>, StoreError> {
        Ok(on_db!(&self.db, pool => sqlx::query_as(
            "SELECT seq, entry, prev_hash, hash FROM audit_records WHERE tenant = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        )
        .bind(self.tenant.as_str())
        .bind(after)
        .bind(VERIFY_PAGE)
        .fetch_all(pool)
        .await)?)
    }

    /// The tenant's signed checkpoints, oldest first.
    pub(crate) async fn audit_checkpoints(&self) -> Result<Vec<Checkpoint>, StoreError> {
        let rows: Vec<(i64, String, String, String, String)> = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT seq, head_hash, time, key_id, signature FROM audit_checkpoints WHERE tenant = $1 ORDER BY seq",
        )
        .bind(self.tenant.as_str())
        .fetch_all(pool)
        .await)?;
        rows.into_iter()
            .map(|(seq, head_hash, time, key_id, signature)| {
                let time = chrono::DateTime::parse_from_rfc3339(&time)
                    .map_err(|e| StoreError::Corrupt {
                        what: "audit checkpoint",
                        reason: format!("#{seq}: {e}"),
                    })?
                    .with_timezone(&chrono::Utc);
                Ok(Checkpoint {
                    tenant: self.tenant.to_string(),
                    seq,
                    head_hash,
                    time,
                    key_id,
                    signature,
                })
            })
            .collect()
    }

    /// Re-reads and re-hashes the chain and checks its checkpoints with `key`.
    pub(crate) async fn verify_with(&self, key: &VerifyingKey) -> Result<VerifyReport, StoreError> {
        let checkpoints = self.audit_checkpoints().await?;
        let mut verifier = ChainVerifier::new(self.tenant.as_str(), &checkpoints);
        // Reading the next page overlaps with hashing this one (on a blocking thread).
        let mut rows = self.audit_page(0).await?;
        while let Some(last) = rows.last().map(|r| r.0) {
            let full = rows.len() == VERIFY_PAGE as usize;
            let hashing = tokio::task::spawn_blocking(move || {
                for (seq, entry, prev_hash, hash) in &rows {
                    verifier.push(*seq, prev_hash, hash, entry);
                }
                verifier
            });
            let next = async {
                if full {
                    self.audit_page(last).await
                } else {
                    Ok(Vec::new())
                }
            };
            let (hashed, next) = tokio::join!(hashing, next);
            verifier = hashed.map_err(|e| StoreError::VerifyStopped(e.to_string()))?;
            if verifier.broken() {
                break;
            }
            rows = next?;
        }
        Ok(verifier.finish(&checkpoints, Some(key)))
    }
}
