use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::Utc;
use steward_domain::TenantId;
use tokio::sync::Mutex;

use steward_audit::CheckpointSigner;

use crate::StoreError;
use crate::audit_writer::{AuditWriter, CheckpointPolicy};
use crate::crypto::{DataKey, KeyProvider, MasterKey};
use crate::db::{Db, Location, LockedBegin, on_db};

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
        Self::in_dir(dir)
    }

    /// The defaults with the key `audit-signing.key` in `dir` (the data directory, for a
    /// PostgreSQL store: replicas share the key by sharing that file).
    pub fn in_dir(dir: &Path) -> Self {
        Self {
            signing_key: dir.join("audit-signing.key"),
            checkpoints: CheckpointPolicy::default(),
        }
    }
}

/// The database of one Steward installation.
#[derive(Debug, Clone)]
pub struct Store {
    pub(crate) db: Db,
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
        let location = Location::Sqlite(path.to_path_buf());
        let keys = default_keys(location.sqlite_dir().unwrap_or(Path::new(".")))?;
        Self::connect(&location, audit, keys).await
    }

    /// Opens a store in `data_dir`'s manner: the database at `location` (a SQLite file or a
    /// PostgreSQL URL), the master key from `$STEWARD_MASTER_KEY` or `data_dir/master.key`, the
    /// audit signing key `data_dir/audit-signing.key`. Replicas sharing a PostgreSQL database
    /// must share both keys.
    pub async fn open_at(location: &Location, data_dir: &Path) -> Result<Self, StoreError> {
        let keys = default_keys(data_dir)?;
        Self::connect(location, AuditOptions::in_dir(data_dir), keys).await
    }

    /// Connects to the database at `location` with explicit audit options and key provider, and
    /// applies its backend's migrations.
    pub async fn connect(
        location: &Location,
        audit: AuditOptions,
        keys: Arc<dyn KeyProvider>,
    ) -> Result<Self, StoreError> {
        let db = Db::connect(location).await?;
        let signer = Arc::new(CheckpointSigner::load_or_create(&audit.signing_key)?);
        let writer = AuditWriter::start(db.clone(), signer.clone(), audit.checkpoints);
        Ok(Self {
            db,
            append_lock: Arc::new(Mutex::new(())),
            writer,
            signer,
            keys,
            data_keys: Arc::default(),
        })
    }

    /// Which backend holds this store (`sqlite` or `postgres`).
    pub fn backend(&self) -> &'static str {
        self.db.backend()
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
        on_db!(&self.db, pool => sqlx::query("INSERT INTO tenants (id, name, created_at) VALUES ($1, $2, $3) ON CONFLICT(id) DO UPDATE SET name = excluded.name")
            .bind(id.as_str())
            .bind(name)
            .bind(Utc::now().to_rfc3339())
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        // The first load gives a new tenant its data key; a deleted one stays deleted.
        self.tenant(id).await
    }

    /// The handle of a registered tenant.
    pub async fn tenant(&self, id: &TenantId) -> Result<TenantStore, StoreError> {
        let found: Option<(String,)> = on_db!(&self.db, pool => sqlx::query_as("SELECT id FROM tenants WHERE id = $1")
            .bind(id.as_str())
            .fetch_optional(pool)
            .await)?;
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
        let row = self.stored_key(id).await?;
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

    /// The tenant's stored key row: `None` if it has none yet, `Some(None)` if it was destroyed.
    async fn stored_key(&self, id: &TenantId) -> Result<Option<(Option<String>,)>, StoreError> {
        Ok(
            on_db!(&self.db, pool => sqlx::query_as("SELECT wrapped FROM tenant_keys WHERE tenant = $1")
            .bind(id.as_str())
            .fetch_optional(pool)
            .await)?,
        )
    }

    async fn ensure_key_then_load(&self, id: &TenantId) -> Result<Arc<DataKey>, StoreError> {
        let (_, bytes) = DataKey::generate(id.as_str());
        let wrapped = self.keys.wrap(id.as_str(), &bytes)?;
        on_db!(&self.db, pool => sqlx::query("INSERT INTO tenant_keys (tenant, master_key_id, wrapped, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT(tenant) DO NOTHING")
            .bind(id.as_str())
            .bind(self.keys.key_id())
            .bind(hex::encode(wrapped))
            .bind(Utc::now().to_rfc3339())
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        let row = self.stored_key(id).await?;
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
            db: self.db.clone(),
            tenant: id.clone(),
        }
        .verify_with(key.unwrap_or(&own))
        .await
    }

    /// Re-wraps every tenant's data key with `new` (in one transaction; the data itself is not
    /// touched). Reopen the store with `new` afterwards. Returns how many keys were re-wrapped.
    pub async fn rotate_master_key(&self, new: &dyn KeyProvider) -> Result<usize, StoreError> {
        let now = Utc::now().to_rfc3339();
        on_db!(&self.db, pool => {
            let mut tx = pool.begin_locked(&["steward:tenant-keys".to_owned()]).await?;
            let rows: Vec<(String, String)> = sqlx::query_as(
                "SELECT tenant, wrapped FROM tenant_keys WHERE wrapped IS NOT NULL AND wrapped <> ''",
            )
            .fetch_all(&mut *tx)
            .await?;
            for (tenant, wrapped) in &rows {
                let bytes = unwrap_stored(self.keys.as_ref(), tenant, wrapped)?;
                let rewrapped = new.wrap(tenant, &bytes)?;
                sqlx::query("UPDATE tenant_keys SET wrapped = $1, master_key_id = $2, rotated_at = $3 WHERE tenant = $4")
                    .bind(hex::encode(rewrapped))
                    .bind(new.key_id())
                    .bind(&now)
                    .bind(tenant)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(rows.len())
        })
    }

    /// Deletes a tenant by destroying its data key (crypto-shredding): every value sealed with
    /// it — conversations, approval payloads, sensitive audit fields, here and in any backup —
    /// is unreadable from then on. The audit chain itself stays verifiable (it hashes what is
    /// stored). Operator tools only.
    pub async fn delete_tenant(&self, id: &TenantId) -> Result<(), StoreError> {
        let done = on_db!(&self.db, pool => sqlx::query("UPDATE tenant_keys SET wrapped = NULL, destroyed_at = $1 WHERE tenant = $2")
            .bind(Utc::now().to_rfc3339())
            .bind(id.as_str())
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        if done == 0 {
            return Err(StoreError::UnknownTenant(id.to_string()));
        }
        if let Ok(mut cache) = self.data_keys.lock() {
            cache.remove(id);
        }
        Ok(())
    }

    /// Every tenant (operator tools only: the one cross-tenant read).
    pub async fn tenants(&self) -> Result<Vec<TenantId>, StoreError> {
        let rows: Vec<(String,)> = on_db!(&self.db, pool => sqlx::query_as("SELECT id FROM tenants ORDER BY id")
            .fetch_all(pool)
            .await)?;
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
            db: self.db.clone(),
            tenant,
            append_lock: self.append_lock.clone(),
            writer: self.writer.clone(),
            signer: self.signer.clone(),
            key,
        }
    }

    /// Runs one literal SQL statement, bypassing every rule of the store: for tests that play
    /// an attacker with write access to the database (tampering, forging), never for Steward.
    #[doc(hidden)]
    pub async fn execute_unchecked(&self, sql: &str) -> Result<u64, StoreError> {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        Ok(
            on_db!(&self.db, pool => sqlx::query(sql).execute(pool).await.map(|r| r.rows_affected()))?,
        )
    }

    /// The first column (text) of every row a literal query returns, bypassing the store's
    /// rules: for tests that look at what is stored at rest.
    #[doc(hidden)]
    pub async fn fetch_text_unchecked(&self, sql: &str) -> Result<Vec<String>, StoreError> {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        let rows: Vec<(String,)> =
            on_db!(&self.db, pool => sqlx::query_as(sql).fetch_all(pool).await)?;
        Ok(rows.into_iter().map(|(text,)| text).collect())
    }
}

/// The master key from `$STEWARD_MASTER_KEY`, else `dir/master.key` (created on first use).
fn default_keys(dir: &Path) -> Result<Arc<dyn KeyProvider>, StoreError> {
    Ok(match MasterKey::from_env(MASTER_KEY_ENV)? {
        Some(key) => Arc::new(key),
        None => Arc::new(MasterKey::load_or_create(&dir.join("master.key"))?),
    })
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
    pub(crate) db: Db,
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
