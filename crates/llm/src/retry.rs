//! When a failed request is worth another attempt, and how long to wait first.

use std::time::Duration;

/// Statuses that say "try again later": timeouts, conflicts of load, throttling, server
/// trouble, and Anthropic's 529 "overloaded".
pub(crate) fn retryable(status: u16) -> bool {
    matches!(status, 408 | 409 | 429 | 500 | 502 | 503 | 504 | 529)
}

/// The wait before attempt `attempt + 1`: the provider's `Retry-After` (seconds) when given,
/// otherwise 0.5 s doubling, never more than `cap`.
pub(crate) fn backoff(attempt: u32, retry_after: Option<&str>, cap: Duration) -> Duration {
    let asked = retry_after
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(Duration::from_secs_f64);
    let doubling = Duration::from_millis(500u64.saturating_mul(1u64 << attempt.min(16)));
    asked.unwrap_or(doubling).min(cap)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_obeyed_up_to_the_cap() {
        let cap = Duration::from_secs(5);
        assert_eq!(backoff(0, Some("2"), cap), Duration::from_secs(2));
        assert_eq!(backoff(0, Some("600"), cap), cap);
        assert_eq!(backoff(0, Some("soon"), cap), Duration::from_millis(500));
        assert_eq!(backoff(2, None, cap), Duration::from_secs(2));
        assert_eq!(backoff(30, None, cap), cap);
    }

    #[test]
    fn only_transient_statuses_are_retried() {
        for s in [429, 500, 503, 529] {
            assert!(retryable(s), "{s}");
        }
        for s in [400, 401, 403, 404, 422] {
            assert!(!retryable(s), "{s}");
        }
    }
}
