use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use steward_domain::TenantId;
use tokio::sync::Mutex;

use steward_audit::CheckpointSigner;

use crate::StoreError;
use crate::audit_writer::{AuditWriter, CheckpointPolicy};
use crate::crypto::{DataKey, KeyProvider, MasterKey};

/// The environment variable that may hold the master key (64 hex digits); without it the key is
/// read from (or created in) `master.key` beside the database.
pub const MASTER_KEY_ENV: &str = "STEWARD_MASTER_KEY";

/// How the audit trail of a store is signed.
#[derive(Debug, Clone)]
pub struct AuditOptions {
    /// The installation's checkpoint signing key file (created on first use, owner-only).
    pub signing_key: PathBuf,
    /// How often checkpoints are signed.
    pub checkpoints: CheckpointPolicy,
}

impl AuditOptions {
    /// The defaults for a database file: the key `audit-signing.key` beside it, a checkpoint
    /// every 1,000 records or 60 seconds.
    pub fn beside(database: &Path) -> Self {
        let dir = database
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        Self {
            signing_key: dir.join("audit-signing.key"),
            checkpoints: CheckpointPolicy::default(),
        }
    }
}

/// The database of one Steward installation.
#[derive(Debug, Clone)]
pub struct Store {
    pool: SqlitePool,
    /// Serialises this process's unbatched audit appends (SQLite's write lock serialises processes).
    append_lock: Arc<Mutex<()>>,
    writer: AuditWriter,
    signer: Arc<CheckpointSigner>,
    keys: Arc<dyn KeyProvider>,
    /// Tenants' data keys, unwrapped once per process.
    data_keys: Arc<std::sync::Mutex<HashMap<TenantId, Arc<DataKey>>>>,
}

impl Store {
    /// Opens (creating if needed) the SQLite file and applies migrations, with the default audit
    /// options ([`AuditOptions::beside`] the file).
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        Self::open_with(path, AuditOptions::beside(path)).await
    }

    /// Opens the SQLite file with explicit audit options and the default master key
    /// (`$STEWARD_MASTER_KEY`, else `master.key` beside the file, created on first use).
    pub async fn open_with(path: &Path, audit: AuditOptions) -> Result<Self, StoreError> {
        let keys: Arc<dyn KeyProvider> = match MasterKey::from_env(MASTER_KEY_ENV)? {
            Some(key) => Arc::new(key),
            None => {
                let dir = path
                    .parent()
                    .filter(|p| !p.as_os_str().is_empty())
                    .unwrap_or(Path::new("."));
                Arc::new(MasterKey::load_or_create(&dir.join("master.key"))?)
            }
        };
        Self::open_with_keys(path, audit, keys).await
    }

    /// Opens the SQLite file with explicit audit options and key provider.
    pub async fn open_with_keys(
        path: &Path,
        audit: AuditOptions,
        keys: Arc<dyn KeyProvider>,
    ) -> Result<Self, StoreError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| StoreError::Open {
                path: path.display().to_string(),
                source: sqlx::Error::Io(e),
            })?;
        }
        let options = SqliteConnectOptions::from_str("sqlite:")
            .map_err(|source| StoreError::Open {
                path: path.display().to_string(),
                source,
            })?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // An intent record must be on disk before the connector is called.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(|source| StoreError::Open {
                path: path.display().to_string(),
                source,
            })?;
        sqlx::migrate!("migrations/sqlite").run(&pool).await?;
        let signer = Arc::new(CheckpointSigner::load_or_create(&audit.signing_key)?);
        let writer = AuditWriter::start(pool.clone(), signer.clone(), audit.checkpoints);
        Ok(Self {
            pool,
            append_lock: Arc::new(Mutex::new(())),
            writer,
            signer,
            keys,
            data_keys: Arc::default(),
        })
    }

    /// Signs a checkpoint of every chain this process appended to since its last one. Call it
    /// before a process exits, so a short run's records are covered too.
    pub async fn sign_pending_checkpoints(&self) -> Result<(), StoreError> {
        self.writer.sign_pending().await
    }

    /// The public key that verifies this installation's audit checkpoints (64 hex digits), for
    /// an auditor to keep apart from the installation.
    pub fn audit_public_key(&self) -> String {
        self.signer.public_key_hex()
    }

    /// Registers a tenant (idempotent; the name is updated) and gives it a data key on first
    /// registration. A deleted tenant stays deleted: its id cannot be registered again.
    pub async fn ensure_tenant(
        &self,
        id: &TenantId,
        name: &str,
    ) -> Result<TenantStore, StoreError> {
        sqlx::query("INSERT INTO tenants (id, name, created_at) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET name = excluded.name")
            .bind(id.as_str())
            .bind(name)
            .bind(Utc::now().to_rfc3339())
            .execute(&self.pool)
            .await?;
        // The first load gives a new tenant its data key; a deleted one stays deleted.
        self.tenant(id).await
    }

    /// The handle of a registered tenant.
    pub async fn tenant(&self, id: &TenantId) -> Result<TenantStore, StoreError> {
        let found: Option<(String,)> = sqlx::query_as("SELECT id FROM tenants WHERE id = ?")
            .bind(id.as_str())
            .fetch_optional(&self.pool)
            .await?;
        if found.is_none() {
            return Err(StoreError::UnknownTenant(id.to_string()));
        }
        let key = self.data_key(id).await?;
        Ok(self.handle(id.clone(), key))
    }

    /// The tenant's data key, unwrapped with the master key (once per process).
    async fn data_key(&self, id: &TenantId) -> Result<Arc<DataKey>, StoreError> {
        if let Some(key) = self.data_keys.lock().ok().and_then(|m| m.get(id).cloned()) {
            return Ok(key);
        }
        let row: Option<(Option<String>,)> =
            sqlx::query_as("SELECT wrapped FROM tenant_keys WHERE tenant = ?")
                .bind(id.as_str())
                .fetch_optional(&self.pool)
                .await?;
        let wrapped = match row {
            Some((Some(w),)) if !w.is_empty() => w,
            Some(_) => return Err(StoreError::TenantDeleted(id.to_string())),
            // A new tenant, or one registered before encryption existed (its older rows stay
            // readable as they were stored): give it its key now.
            None => return Box::pin(self.ensure_key_then_load(id)).await,
        };
        let bytes = unwrap_stored(self.keys.as_ref(), id.as_str(), &wrapped)?;
        let key = Arc::new(DataKey::from_bytes(id.as_str(), &bytes));
        if let Ok(mut cache) = self.data_keys.lock() {
            cache.insert(id.clone(), key.clone());
        }
        Ok(key)
    }

    async fn ensure_key_then_load(&self, id: &TenantId) -> Result<Arc<DataKey>, StoreError> {
        let (_, bytes) = DataKey::generate(id.as_str());
        let wrapped = self.keys.wrap(id.as_str(), &bytes)?;
        sqlx::query("INSERT INTO tenant_keys (tenant, master_key_id, wrapped, created_at) VALUES (?, ?, ?, ?) ON CONFLICT(tenant) DO NOTHING")
            .bind(id.as_str())
            .bind(self.keys.key_id())
            .bind(hex::encode(wrapped))
            .bind(Utc::now().to_rfc3339())
            .execute(&self.pool)
            .await?;
        let row: Option<(Option<String>,)> =
            sqlx::query_as("SELECT wrapped FROM tenant_keys WHERE tenant = ?")
                .bind(id.as_str())
                .fetch_optional(&self.pool)
                .await?;
        match row {
            Some((Some(_),)) => Box::pin(self.data_key(id)).await,
            _ => Err(StoreError::TenantDeleted(id.to_string())),
        }
    }

    /// Verifies a tenant's audit chain and checkpoints (with `key`, or this installation's), also
    /// for a deleted tenant: the chain hashes what is stored, so no data key is needed. Operator
    /// tools only.
    pub async fn verify_audit_of(
        &self,
        id: &TenantId,
        key: Option<&steward_audit::VerifyingKey>,
    ) -> Result<steward_audit::VerifyReport, StoreError> {
        let own = self.signer.verifying_key();
        crate::audit::ChainReader {
            pool: self.pool.clone(),
            tenant: id.clone(),
        }
        .verify_with(key.unwrap_or(&own))
        .await
    }

    /// Re-wraps every tenant's data key with `new` (in one transaction; the data itself is not
    /// touched). Reopen the store with `new` afterwards. Returns how many keys were re-wrapped.
    pub async fn rotate_master_key(&self, new: &dyn KeyProvider) -> Result<usize, StoreError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT tenant, wrapped FROM tenant_keys WHERE wrapped IS NOT NULL AND wrapped <> ''",
        )
        .fetch_all(&mut *tx)
        .await?;
        let now = Utc::now().to_rfc3339();
        for (tenant, wrapped) in &rows {
            let bytes = unwrap_stored(self.keys.as_ref(), tenant, wrapped)?;
            let rewrapped = new.wrap(tenant, &bytes)?;
            sqlx::query("UPDATE tenant_keys SET wrapped = ?, master_key_id = ?, rotated_at = ? WHERE tenant = ?")
                .bind(hex::encode(rewrapped))
                .bind(new.key_id())
                .bind(&now)
                .bind(tenant)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(rows.len())
    }

    /// Deletes a tenant by destroying its data key (crypto-shredding): every value sealed with
    /// it — conversations, approval payloads, sensitive audit fields, here and in any backup —
    /// is unreadable from then on. The audit chain itself stays verifiable (it hashes what is
    /// stored). Operator tools only.
    pub async fn delete_tenant(&self, id: &TenantId) -> Result<(), StoreError> {
        let done =
            sqlx::query("UPDATE tenant_keys SET wrapped = NULL, destroyed_at = ? WHERE tenant = ?")
                .bind(Utc::now().to_rfc3339())
                .bind(id.as_str())
                .execute(&self.pool)
                .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::UnknownTenant(id.to_string()));
        }
        if let Ok(mut cache) = self.data_keys.lock() {
            cache.remove(id);
        }
        Ok(())
    }

    /// Every tenant (operator tools only: the one cross-tenant read).
    pub async fn tenants(&self) -> Result<Vec<TenantId>, StoreError> {
        let rows: Vec<(String,)> = sqlx::query_as("SELECT id FROM tenants ORDER BY id")
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter()
            .map(|(id,)| {
                TenantId::new(id).map_err(|e| StoreError::Corrupt {
                    what: "tenant id",
                    reason: e.to_string(),
                })
            })
            .collect()
    }

    fn handle(&self, tenant: TenantId, key: Arc<DataKey>) -> TenantStore {
        TenantStore {
            pool: self.pool.clone(),
            tenant,
            append_lock: self.append_lock.clone(),
            writer: self.writer.clone(),
            signer: self.signer.clone(),
            key,
        }
    }

    /// The underlying pool, for the store's own tests of tamper detection.
    #[doc(hidden)]
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

/// A tenant's data key from its stored (hex) wrapped form.
fn unwrap_stored(
    keys: &dyn KeyProvider,
    tenant: &str,
    stored: &str,
) -> Result<zeroize::Zeroizing<[u8; 32]>, StoreError> {
    let wrapped = hex::decode(stored).map_err(|e| StoreError::Corrupt {
        what: "tenant key",
        reason: e.to_string(),
    })?;
    Ok(keys.unwrap(tenant, &wrapped)?)
}

/// Every read and write of one tenant's data.
#[derive(Debug, Clone)]
pub struct TenantStore {
    pub(crate) pool: SqlitePool,
    pub(crate) tenant: TenantId,
    pub(crate) append_lock: Arc<Mutex<()>>,
    pub(crate) writer: AuditWriter,
    pub(crate) signer: Arc<CheckpointSigner>,
    pub(crate) key: Arc<DataKey>,
}

impl TenantStore {
    /// Seals a JSON value for a sensitive column with the tenant's data key.
    pub(crate) fn seal_json(
        &self,
        value: &serde_json::Value,
        purpose: &str,
    ) -> Result<String, StoreError> {
        Ok(self.key.seal(&value.to_string(), purpose)?)
    }

    /// Opens a sensitive column sealed by [`seal_json`](Self::seal_json) (or stored in the clear
    /// before encryption existed).
    pub(crate) fn open_json(
        &self,
        stored: &str,
        purpose: &str,
        what: &'static str,
    ) -> Result<serde_json::Value, StoreError> {
        let text = self.key.open(stored, purpose)?;
        serde_json::from_str(&text).map_err(|e| StoreError::Corrupt {
            what,
            reason: e.to_string(),
        })
    }

    /// The tenant this handle is bound to.
    pub fn tenant(&self) -> &TenantId {
        &self.tenant
    }
}
