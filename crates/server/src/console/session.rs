//! Console sessions: a random id in an `HttpOnly`, `SameSite=Lax` cookie (`Secure` when the
//! console is served over HTTPS), mapped in memory to who signed in and the session's CSRF token.
//! A state-changing request must echo that token in `X-CSRF-Token`; a cross-site form cannot read
//! it, so cannot forge the request.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use axum::http::header;

/// The cookie's name.
pub(crate) const COOKIE: &str = "steward_session";
/// How long a session lasts without being used.
pub(crate) const IDLE: Duration = Duration::from_secs(8 * 3600);

/// Who a session belongs to.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub upn: String,
    pub csrf: String,
    last_used: Instant,
}

/// A hard-to-guess token: two random UUIDs (244 random bits), hex.
pub(crate) fn token() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// Every live session.
#[derive(Default)]
pub(crate) struct Sessions {
    map: Mutex<HashMap<String, Session>>,
}

impl Sessions {
    /// Starts a session for `upn`; its id.
    pub(crate) fn start(&self, upn: &str) -> String {
        let id = token();
        let mut map = self
            .map
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.retain(|_, s| s.last_used.elapsed() < IDLE);
        map.insert(
            id.clone(),
            Session {
                upn: upn.to_owned(),
                csrf: token(),
                last_used: Instant::now(),
            },
        );
        id
    }

    /// The session a request's cookie names, if live.
    pub(crate) fn of(&self, headers: &HeaderMap) -> Option<Session> {
        let id = cookie(headers)?;
        let mut map = self
            .map
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let session = map.get_mut(&id)?;
        if session.last_used.elapsed() >= IDLE {
            map.remove(&id);
            return None;
        }
        session.last_used = Instant::now();
        Some(session.clone())
    }

    /// Ends the session a request's cookie names.
    pub(crate) fn end(&self, headers: &HeaderMap) {
        if let Some(id) = cookie(headers) {
            self.map
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .remove(&id);
        }
    }
}

fn cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| {
            kv.trim()
                .strip_prefix(&format!("{COOKIE}="))
                .map(str::to_owned)
        })
        .find(|v| !v.is_empty())
}

/// The `Set-Cookie` value for a session id (empty id and zero age: the cookie removed).
pub(crate) fn set_cookie(id: &str, secure: bool) -> String {
    let age = if id.is_empty() { 0 } else { IDLE.as_secs() };
    format!(
        "{COOKIE}={id}; Path=/; HttpOnly; SameSite=Lax; Max-Age={age}{}",
        if secure { "; Secure" } else { "" }
    )
}
