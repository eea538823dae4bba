//! Rate limits on the public endpoints: one token bucket per endpoint group (the REST API, Slack,
//! Teams), so a flood on one cannot starve the others. Over the limit: `429 Too Many Requests`
//! with `Retry-After`, before the request is read, and nothing is done.

use std::num::NonZeroU32;
use std::sync::Arc;

use axum::Json;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use serde_json::json;

/// Requests per second (and burst) per endpoint group.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// `/api/v1/…`.
    pub api_per_second: u32,
    /// `/channels/slack/…`.
    pub slack_per_second: u32,
    /// `/channels/teams/…`.
    pub teams_per_second: u32,
    /// Requests allowed at once above the rate.
    pub burst: u32,
}

impl Default for Limits {
    /// Well above what one tenant's people send, well below what would hurt the server.
    fn default() -> Self {
        Self {
            api_per_second: 50,
            slack_per_second: 50,
            teams_per_second: 50,
            burst: 100,
        }
    }
}

/// The buckets.
#[derive(Clone)]
pub(crate) struct Buckets {
    api: Arc<DefaultDirectRateLimiter>,
    slack: Arc<DefaultDirectRateLimiter>,
    teams: Arc<DefaultDirectRateLimiter>,
}

fn bucket(per_second: u32, burst: u32) -> Arc<DefaultDirectRateLimiter> {
    let rate = NonZeroU32::new(per_second.max(1)).unwrap_or(NonZeroU32::MIN);
    let burst = NonZeroU32::new(burst.max(1)).unwrap_or(NonZeroU32::MIN);
    Arc::new(RateLimiter::direct(
        Quota::per_second(rate).allow_burst(burst),
    ))
}

impl Buckets {
    pub(crate) fn new(limits: Limits) -> Self {
        Self {
            api: bucket(limits.api_per_second, limits.burst),
            slack: bucket(limits.slack_per_second, limits.burst),
            teams: bucket(limits.teams_per_second, limits.burst),
        }
    }
}

/// The middleware: the bucket of the request's endpoint group decides.
pub(crate) async fn limit(
    axum::extract::State(buckets): axum::extract::State<Buckets>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    let bucket = if path.starts_with("/api/") {
        Some(&buckets.api)
    } else if path.starts_with("/channels/slack/") {
        Some(&buckets.slack)
    } else if path.starts_with("/channels/teams/") {
        Some(&buckets.teams)
    } else {
        None
    };
    if let Some(b) = bucket
        && b.check().is_err()
    {
        let mut response = (
            StatusCode::TOO_MANY_REQUESTS,
            Json(json!({"error": {"code": "tooManyRequests", "message": "too many requests to this endpoint; try again in a second"}})),
        )
            .into_response();
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return response;
    }
    next.run(request).await
}
