use thiserror::Error;

/// Why the store could not do what was asked.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The database file could not be opened or created.
    #[error("cannot open the database `{path}`: {source}")]
    Open {
        /// The path.
        path: String,
        /// The driver's error.
        source: sqlx::Error,
    },
    /// A migration failed.
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A query failed.
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    /// A stored value could not be decoded (a corrupt or foreign row).
    #[error("stored {what} is unreadable: {reason}")]
    Corrupt {
        /// What was being read.
        what: &'static str,
        /// Why it failed.
        reason: String,
    },
    /// The tenant is not known to this store.
    #[error("unknown tenant `{0}`")]
    UnknownTenant(String),
    /// The row does not exist (in this tenant).
    #[error("no {what} `{id}` in this tenant")]
    NotFound {
        /// The kind of row.
        what: &'static str,
        /// The id asked for.
        id: String,
    },
    /// The row is not in a state that allows the change (e.g. an approval already decided).
    #[error("{what} `{id}` is {status}, not {expected}")]
    Conflict {
        /// The kind of row.
        what: &'static str,
        /// Its id.
        id: String,
        /// Its current status.
        status: String,
        /// The status the change needs.
        expected: String,
    },
    /// An audit record could not be committed (the whole batch it was in was rolled back).
    #[error("audit append failed: {0}")]
    AuditAppend(String),
    /// A key could not be used, or sealed data does not open.
    #[error(transparent)]
    Crypto(#[from] crate::crypto::CryptoError),
    /// The tenant was deleted and its data key destroyed: its data can no longer be read.
    #[error("tenant `{0}` was deleted and its data key destroyed; its data cannot be read")]
    TenantDeleted(String),
    /// Verifying the audit chain stopped before it finished (its worker thread failed).
    #[error("audit verification stopped: {0}")]
    VerifyStopped(String),
    /// The audit signing key could not be read or created.
    #[error(transparent)]
    Key(#[from] steward_audit::KeyError),
}
