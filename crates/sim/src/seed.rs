//! Seed files: a tenant's initial state in Graph's own property names.

use std::path::Path;

use chrono::{DateTime, Duration, Utc};
use serde_json::{Map, Value};
use thiserror::Error;

/// Why a seed file could not be used.
#[derive(Debug, Error)]
pub enum SeedError {
    /// The file could not be read.
    #[error("cannot read seed file `{path}`: {source}")]
    Read {
        /// The path given.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid JSON.
    #[error("seed file `{path}` is not valid JSON: {source}")]
    Json {
        /// The path given.
        path: String,
        /// The parse error (with line and column).
        source: serde_json::Error,
    },
    /// The JSON does not describe a tenant.
    #[error("seed `{origin}` is invalid: {reason}")]
    Invalid {
        /// Where the seed came from.
        origin: String,
        /// What is wrong, naming the offending entry.
        reason: String,
    },
}

const DEMO_SEED: &str = include_str!("../seeds/demo.json");
const SEED_SCHEMA: &str = include_str!("../seeds/seed.schema.json");

/// The built-in demo tenant (Larkspur Labs, ~40 people in 5 departments, with planted problems).
pub fn demo_seed() -> Result<Value, SeedError> {
    serde_json::from_str(DEMO_SEED).map_err(|source| SeedError::Json {
        path: "builtin:demo.json".into(),
        source,
    })
}

/// The JSON Schema that documents the seed format.
pub fn seed_schema() -> &'static str {
    SEED_SCHEMA
}

/// Reads a seed file.
pub fn load_seed(path: &Path) -> Result<Value, SeedError> {
    let text = std::fs::read_to_string(path).map_err(|source| SeedError::Read {
        path: path.display().to_string(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|source| SeedError::Json {
        path: path.display().to_string(),
        source,
    })
}

pub(crate) fn invalid(reason: impl Into<String>) -> SeedError {
    SeedError::Invalid {
        origin: "seed".into(),
        reason: reason.into(),
    }
}

/// Shifts every date-time string in the seed by `delta`, so seeded logs stay recent.
pub(crate) fn shift_times(value: &mut Value, delta: Duration) {
    match value {
        Value::Object(map) => map.values_mut().for_each(|v| shift_times(v, delta)),
        Value::Array(items) => items.iter_mut().for_each(|v| shift_times(v, delta)),
        Value::String(s) => {
            if s.len() >= 20
                && s.ends_with('Z')
                && let Ok(t) = DateTime::parse_from_rfc3339(s)
            {
                *s = (t.with_timezone(&Utc) + delta)
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            }
        }
        _ => {}
    }
}

pub(crate) fn required_str<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    what: &str,
) -> Result<&'a str, SeedError> {
    obj.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| invalid(format!("{what} has no `{key}`")))
}
