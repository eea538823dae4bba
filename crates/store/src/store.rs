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
}

impl Store {
    /// Opens (creating if needed) the SQLite file and applies migrations, with the default audit
    /// options ([`AuditOptions::beside`] the file).
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        Self::open_with(path, AuditOptions::beside(path)).await
    }

    /// Opens the SQLite file with explicit audit options.
    pub async fn open_with(path: &Path, audit: AuditOptions) -> Result<Self, StoreError> {
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

    /// Registers a tenant (idempotent; the name is updated).
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
        Ok(self.handle(id.clone()))
    }

    /// The handle of a registered tenant.
    pub async fn tenant(&self, id: &TenantId) -> Result<TenantStore, StoreError> {
        let found: Option<(String,)> = sqlx::query_as("SELECT id FROM tenants WHERE id = ?")
            .bind(id.as_str())
            .fetch_optional(&self.pool)
            .await?;
        match found {
            Some(_) => Ok(self.handle(id.clone())),
            None => Err(StoreError::UnknownTenant(id.to_string())),
        }
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

    fn handle(&self, tenant: TenantId) -> TenantStore {
        TenantStore {
            pool: self.pool.clone(),
            tenant,
            append_lock: self.append_lock.clone(),
            writer: self.writer.clone(),
            signer: self.signer.clone(),
        }
    }

    /// The underlying pool, for the store's own tests of tamper detection.
    #[doc(hidden)]
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

/// Every read and write of one tenant's data.
#[derive(Debug, Clone)]
pub struct TenantStore {
    pub(crate) pool: SqlitePool,
    pub(crate) tenant: TenantId,
    pub(crate) append_lock: Arc<Mutex<()>>,
    pub(crate) writer: AuditWriter,
    pub(crate) signer: Arc<CheckpointSigner>,
}

impl TenantStore {
    /// The tenant this handle is bound to.
    pub fn tenant(&self) -> &TenantId {
        &self.tenant
    }
}
