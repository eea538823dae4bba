//! The two databases a store can live in: an embedded SQLite file (one process, no setup) or a
//! PostgreSQL server (several replicas sharing one database). Every query is written once, in
//! SQL both accept (`$1` placeholders, `ON CONFLICT`, `RETURNING`, text times, 64-bit integers),
//! and [`on_db!`] compiles it once per backend; only taking a write lock differs ([`LockedBegin`]).

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, Postgres, Sqlite, SqlitePool, Transaction};

use crate::StoreError;

/// Where a store keeps its data, as an operator writes it in `--database` or the config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A SQLite file (created with its directory if missing).
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL (`postgres://user@host:5432/db`).
    Postgres(String),
}

impl Location {
    /// A `postgres://` or `postgresql://` URL is a PostgreSQL server; `sqlite://PATH`,
    /// `sqlite:PATH` or a bare path is a SQLite file.
    pub fn parse(text: &str) -> Self {
        let text = text.trim();
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            return Self::Postgres(text.to_owned());
        }
        let path = text
            .strip_prefix("sqlite://")
            .or_else(|| text.strip_prefix("sqlite:"))
            .unwrap_or(text);
        Self::Sqlite(PathBuf::from(path))
    }

    /// How to name it in messages and logs: a URL's password is replaced by `***`.
    pub fn redacted(&self) -> String {
        match self {
            Self::Sqlite(path) => path.display().to_string(),
            Self::Postgres(url) => match url::Url::parse(url) {
                Ok(mut parsed) if parsed.password().is_some() => {
                    // Only fails for URLs that cannot have a password, which this one has.
                    let _ = parsed.set_password(Some("***"));
                    parsed.to_string()
                }
                Ok(parsed) => parsed.to_string(),
                Err(_) => "postgres://(unparsable URL)".to_owned(),
            },
        }
    }

    /// The SQLite file's directory (where keys live beside it by default), if it is one.
    pub fn sqlite_dir(&self) -> Option<&Path> {
        match self {
            Self::Sqlite(path) => Some(
                path.parent()
                    .filter(|p| !p.as_os_str().is_empty())
                    .unwrap_or(Path::new(".")),
            ),
            Self::Postgres(_) => None,
        }
    }
}

/// An open connection pool to one of the two backends.
#[derive(Debug, Clone)]
pub(crate) enum Db {
    /// The embedded file.
    Sqlite(SqlitePool),
    /// The shared server.
    Postgres(PgPool),
}

/// Runs `$body` with `$pool` bound to the backend's own pool type: the body is compiled once per
/// backend, so one query text serves both without a runtime-typed driver.
macro_rules! on_db {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite($pool) => $body,
            $crate::db::Db::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_db;

impl Db {
    /// Connects and brings the schema up to date with the backend's own migrations.
    pub async fn connect(location: &Location) -> Result<Self, StoreError> {
        let open_error = |source| StoreError::Open {
            path: location.redacted(),
            source,
        };
        match location {
            Location::Sqlite(path) => {
                if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    std::fs::create_dir_all(parent).map_err(|e| open_error(sqlx::Error::Io(e)))?;
                }
                let options = SqliteConnectOptions::from_str("sqlite:")
                    .map_err(open_error)?
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
                    .map_err(open_error)?;
                sqlx::migrate!("migrations/sqlite").run(&pool).await?;
                Ok(Self::Sqlite(pool))
            }
            Location::Postgres(url) => {
                let options = PgConnectOptions::from_str(url).map_err(open_error)?;
                let pool = PgPoolOptions::new()
                    .max_connections(8)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(options)
                    .await
                    .map_err(open_error)?;
                // sqlx takes an advisory lock while migrating: replicas starting together apply
                // each migration once.
                sqlx::migrate!("migrations/postgres").run(&pool).await?;
                Ok(Self::Postgres(pool))
            }
        }
    }

    /// Which backend this is, for messages and benchmarks.
    pub fn backend(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Postgres(_) => "postgres",
        }
    }
}

/// Begins a transaction that holds the write locks named by `scopes` until it ends, so two
/// writers (tasks, processes or replicas) that read-then-write the same rows (a chain's head,
/// a conversation's last step, a rate counter) take turns.
pub(crate) trait LockedBegin {
    /// The backend.
    type Backend: sqlx::Database;

    /// SQLite: `BEGIN IMMEDIATE`, the file's one write lock (the scopes need nothing finer).
    /// PostgreSQL: a transaction-scoped advisory lock per scope, taken in sorted order so two
    /// transactions cannot wait for each other.
    async fn begin_locked(
        &self,
        scopes: &[String],
    ) -> Result<Transaction<'static, Self::Backend>, sqlx::Error>;
}

impl LockedBegin for SqlitePool {
    type Backend = Sqlite;

    async fn begin_locked(
        &self,
        _scopes: &[String],
    ) -> Result<Transaction<'static, Sqlite>, sqlx::Error> {
        self.begin_with("BEGIN IMMEDIATE").await
    }
}

impl LockedBegin for PgPool {
    type Backend = Postgres;

    async fn begin_locked(
        &self,
        scopes: &[String],
    ) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
        let mut sorted: Vec<&String> = scopes.iter().collect();
        sorted.sort();
        sorted.dedup();
        let mut tx = self.begin().await?;
        for scope in sorted {
            sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
                .bind(scope.as_str())
                .execute(&mut *tx)
                .await?;
        }
        Ok(tx)
    }
}

/// The lock scope of a tenant's audit chain.
pub(crate) fn chain_scope(tenant: &str) -> String {
    format!("steward:audit:{tenant}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_paths_are_told_apart() {
        assert_eq!(
            Location::parse("postgres://steward@db:5432/steward"),
            Location::Postgres("postgres://steward@db:5432/steward".into())
        );
        assert_eq!(
            Location::parse("sqlite:///var/lib/steward/steward.db"),
            Location::Sqlite("/var/lib/steward/steward.db".into())
        );
        assert_eq!(
            Location::parse("data/steward.db"),
            Location::Sqlite("data/steward.db".into())
        );
    }

    #[test]
    fn a_password_never_reaches_a_message() {
        let shown = Location::parse("postgres://steward:hunter2@db:5432/steward").redacted();
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("***"), "{shown}");
    }
}
