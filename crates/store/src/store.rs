use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use steward_domain::TenantId;
use tokio::sync::Mutex;

use crate::StoreError;

/// The database of one Steward installation.
#[derive(Debug, Clone)]
pub struct Store {
    pool: SqlitePool,
    /// Serialises audit appends of this process (SQLite's write lock serialises processes).
    append_lock: Arc<Mutex<()>>,
}

impl Store {
    /// Opens (creating if needed) the SQLite file and applies migrations.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
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
        Ok(Self {
            pool,
            append_lock: Arc::new(Mutex::new(())),
        })
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
}

impl TenantStore {
    /// The tenant this handle is bound to.
    pub fn tenant(&self) -> &TenantId {
        &self.tenant
    }
}
