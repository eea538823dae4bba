//! Where the commands find the store: `--database` (or `$STEWARD_DATABASE_URL`) names a
//! PostgreSQL server or a SQLite file; without it, the SQLite file `steward.db` in the data
//! directory. Key files (master key, audit signing key) always live in the data directory.

use std::path::Path;

use anyhow::Context as _;
use steward_store::{Location, Store};

/// The environment variable that may name the database (a URL can carry a password, which is
/// better kept out of command lines and config files).
pub const DATABASE_ENV: &str = "STEWARD_DATABASE_URL";

/// The database named by `database`, else `data_dir/steward.db`.
pub fn location(database: Option<&str>, data_dir: &Path) -> Location {
    match database.filter(|d| !d.trim().is_empty()) {
        Some(d) => Location::parse(d),
        None => Location::Sqlite(data_dir.join("steward.db")),
    }
}

/// Opens (creating if needed) the store for a long-running command.
pub async fn open(database: Option<&str>, data_dir: &Path) -> anyhow::Result<Store> {
    let location = location(database, data_dir);
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create `{}`", data_dir.display()))?;
    Store::open_at(&location, data_dir)
        .await
        .with_context(|| format!("cannot open the database `{}`", location.redacted()))
}

/// Opens an existing store for an operator tool: a missing SQLite file is an error, not a new
/// empty database.
pub async fn open_existing(database: Option<&str>, data_dir: &Path) -> anyhow::Result<Store> {
    let location = location(database, data_dir);
    if let Location::Sqlite(path) = &location
        && !path.exists()
    {
        anyhow::bail!(
            "no Steward database at `{}` (run `steward demo` first, or pass --data-dir or --database)",
            path.display()
        );
    }
    Store::open_at(&location, data_dir)
        .await
        .with_context(|| format!("cannot open the database `{}`", location.redacted()))
}
