//! Every store test runs twice: on a SQLite file in a temporary directory and on the PostgreSQL
//! server at `$STEWARD_TEST_POSTGRES` (default `postgres://postgres@127.0.0.1:5432/test`), in a
//! schema of its own. PostgreSQL being down fails the test: it is never skipped.

use std::sync::Arc;

use anyhow::Context;
use steward_store::{AuditOptions, KeyProvider, Location, MasterKey, Store, testing};

/// Which database a test runs on.
#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// One test's empty database (and the directory for its key files), opened as often as the test
/// likes: each open stands for a process (or a replica) of its own.
pub struct Scratch {
    pub dir: tempfile::TempDir,
    pub location: Location,
}

impl Backend {
    /// A new, empty database for one test.
    pub async fn scratch(self) -> anyhow::Result<Scratch> {
        let dir = tempfile::tempdir()?;
        match self {
            Backend::Sqlite => Ok(Scratch {
                location: Location::Sqlite(dir.path().join("steward.db")),
                dir,
            }),
            Backend::Postgres => {
                let base = testing::test_postgres_url();
                let (_schema, url) = testing::scratch_schema(&base, "steward_t")
                    .await
                    .with_context(|| {
                        format!("the PostgreSQL store tests need a server at {base} (set STEWARD_TEST_POSTGRES to use another)")
                    })?;
                Ok(Scratch {
                    location: Location::Postgres(url),
                    dir,
                })
            }
        }
    }

    /// A scratch database and a store open on it, with the default keys.
    pub async fn open(self) -> anyhow::Result<(Scratch, Store)> {
        let scratch = self.scratch().await?;
        let store = scratch.open().await?;
        Ok((scratch, store))
    }
}

impl Scratch {
    /// Opens the store with the default keys of its directory.
    pub async fn open(&self) -> anyhow::Result<Store> {
        Ok(Store::open_at(&self.location, self.dir.path()).await?)
    }

    /// Opens the store with explicit audit options (the default master key).
    pub async fn open_with(&self, audit: AuditOptions) -> anyhow::Result<Store> {
        let keys: Arc<dyn KeyProvider> = Arc::new(MasterKey::load_or_create(
            &self.dir.path().join("master.key"),
        )?);
        Ok(Store::connect(&self.location, audit, keys).await?)
    }

    /// Opens the store with an explicit master key.
    pub async fn open_with_keys(&self, keys: Arc<dyn KeyProvider>) -> anyhow::Result<Store> {
        Ok(Store::connect(&self.location, AuditOptions::in_dir(self.dir.path()), keys).await?)
    }
}

/// Defines each named `async fn NAME(Backend)` test of the enclosing module twice, as
/// `sqlite::NAME` and `postgres::NAME`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() -> anyhow::Result<()> {
                    super::$name($crate::backends::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() -> anyhow::Result<()> {
                    super::$name($crate::backends::Backend::Postgres).await
                }
            )*
        }
    };
}
