use steward_audit::{AuditEntry, AuditRecord, GENESIS_HASH, VerifyReport, verify_chain};

use crate::{StoreError, TenantStore};

impl TenantStore {
    /// Seals `entry` onto the tenant's chain and commits it (synchronously to disk) before
    /// returning its sequence number.
    pub async fn append_audit(&self, mut entry: AuditEntry) -> Result<i64, StoreError> {
        entry.tenant = self.tenant.to_string();
        let _guard = self.append_lock.lock().await;
        // IMMEDIATE takes SQLite's write lock first, so two processes cannot pick the same seq.
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let last: Option<(i64, String)> = sqlx::query_as(
            "SELECT seq, hash FROM audit_records WHERE tenant = ? ORDER BY seq DESC LIMIT 1",
        )
        .bind(self.tenant.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        let (seq, prev) = last.map_or((1, GENESIS_HASH.to_owned()), |(s, h)| (s + 1, h));
        let record = entry.seal(seq, &prev);
        sqlx::query("INSERT INTO audit_records (tenant, seq, kind, time, conversation, entry, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
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
    }

    /// The tenant's records in chain order, optionally only those of one conversation.
    pub async fn audit_records(
        &self,
        conversation: Option<&str>,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        let rows: Vec<(i64, String, String, String)> = match conversation {
            None => {
                sqlx::query_as("SELECT seq, entry, prev_hash, hash FROM audit_records WHERE tenant = ? ORDER BY seq")
                    .bind(self.tenant.as_str())
                    .fetch_all(&self.pool)
                    .await?
            }
            Some(c) => {
                sqlx::query_as("SELECT seq, entry, prev_hash, hash FROM audit_records WHERE tenant = ? AND conversation = ? ORDER BY seq")
                    .bind(self.tenant.as_str())
                    .bind(c)
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        rows.into_iter()
            .map(|(seq, entry, prev_hash, hash)| {
                let entry = serde_json::from_str(&entry).map_err(|e| StoreError::Corrupt {
                    what: "audit record",
                    reason: format!("seq {seq}: {e}"),
                })?;
                Ok(AuditRecord {
                    seq,
                    prev_hash,
                    hash,
                    entry,
                })
            })
            .collect()
    }

    /// Re-reads and re-hashes the whole chain, naming the first broken record. A record whose
    /// stored text no longer parses is reported as the break.
    pub async fn verify_audit(&self) -> Result<VerifyReport, StoreError> {
        let rows: Vec<(i64, String, String, String)> = sqlx::query_as(
            "SELECT seq, entry, prev_hash, hash FROM audit_records WHERE tenant = ? ORDER BY seq",
        )
        .bind(self.tenant.as_str())
        .fetch_all(&self.pool)
        .await?;
        let mut records = Vec::with_capacity(rows.len());
        for (seq, entry, prev_hash, hash) in rows {
            match serde_json::from_str::<steward_audit::AuditEntry>(&entry) {
                Ok(entry) => records.push(AuditRecord {
                    seq,
                    prev_hash,
                    hash,
                    entry,
                }),
                Err(e) => {
                    let mut report = verify_chain(self.tenant.as_str(), &records);
                    if report.first_break.is_none() {
                        report.first_break = Some(steward_audit::ChainBreak {
                            seq,
                            reason: format!("the stored record is unreadable: {e}"),
                        });
                    }
                    return Ok(report);
                }
            }
        }
        Ok(verify_chain(self.tenant.as_str(), &records))
    }
}
