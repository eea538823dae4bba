//! Scratch PostgreSQL schemas for tests and benchmarks (not for Steward itself): each run works
//! in a schema of its own on a shared server, so runs never see each other's rows.

use std::time::{SystemTime, UNIX_EPOCH};

use sqlx::Connection as _;

use crate::{Location, StoreError};

/// The PostgreSQL server tests use unless `$STEWARD_TEST_POSTGRES` names another.
pub const DEFAULT_TEST_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A schema left by a crashed run is dropped by the next run after this long.
const STALE_AFTER_SECS: u64 = 3600;

/// The test server's URL: `$STEWARD_TEST_POSTGRES`, else [`DEFAULT_TEST_POSTGRES`].
pub fn test_postgres_url() -> String {
    std::env::var("STEWARD_TEST_POSTGRES").unwrap_or_else(|_| DEFAULT_TEST_POSTGRES.to_owned())
}

/// Creates an empty schema `<prefix>_<unix seconds>_<random>` on the server at `base` (dropping
/// ones with the same prefix that a crashed run left over an hour ago) and returns its name and
/// a URL whose connections work in it.
pub async fn scratch_schema(base: &str, prefix: &str) -> Result<(String, String), StoreError> {
    let location = Location::Postgres(base.to_owned());
    let open_error = |source| StoreError::Open {
        path: location.redacted(),
        source,
    };
    let mut conn = sqlx::PgConnection::connect(base)
        .await
        .map_err(open_error)?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let old: Vec<(String,)> =
        sqlx::query_as("SELECT nspname::text FROM pg_namespace WHERE starts_with(nspname, $1)")
            .bind(format!("{prefix}_"))
            .fetch_all(&mut conn)
            .await?;
    for (name,) in old {
        let made: Option<u64> = name
            .strip_prefix(&format!("{prefix}_"))
            .and_then(|rest| rest.split('_').next())
            .and_then(|s| s.parse().ok());
        if made.is_some_and(|m| m + STALE_AFTER_SECS < now) {
            // Another run may be dropping it at the same moment.
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP SCHEMA IF EXISTS \"{name}\" CASCADE"
            )))
            .execute(&mut conn)
            .await;
        }
    }
    let schema = format!("{prefix}_{now}_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA \"{schema}\"")))
        .execute(&mut conn)
        .await?;
    let separator = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{separator}options[search_path]={schema}");
    Ok((schema, url))
}

/// Drops a schema made by [`scratch_schema`] and everything in it.
pub async fn drop_schema(base: &str, schema: &str) -> Result<(), StoreError> {
    let location = Location::Postgres(base.to_owned());
    let mut conn = sqlx::PgConnection::connect(base)
        .await
        .map_err(|source| StoreError::Open {
            path: location.redacted(),
            source,
        })?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"
    )))
    .execute(&mut conn)
    .await?;
    Ok(())
}
