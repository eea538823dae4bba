use thiserror::Error;

/// Why a model request gave no usable reply. Every variant means nothing was proposed, so the
/// caller can fall back or escalate knowing no step of the model's is half-taken.
#[derive(Debug, Error)]
pub enum LlmError {
    /// The provider configuration cannot work (bad URL, missing key variable).
    #[error("language-model provider `{provider}` is misconfigured: {reason}")]
    Config {
        /// The provider's name.
        provider: String,
        /// What is wrong.
        reason: String,
    },
    /// The provider could not be reached, or the connection broke, after every retry.
    #[error("language model unreachable at {url}: {reason}")]
    Unreachable {
        /// Where it was asked.
        url: String,
        /// The last transport error.
        reason: String,
    },
    /// No reply within the configured time, after every retry.
    #[error("language model did not answer within {seconds} s (after {attempts} attempts)")]
    Timeout {
        /// The per-attempt limit.
        seconds: u64,
        /// Attempts made.
        attempts: u32,
    },
    /// The provider refused the request (after retries for the retryable statuses).
    #[error("language model refused the request: HTTP {status}: {message}")]
    Status {
        /// HTTP status.
        status: u16,
        /// The provider's error message.
        message: String,
    },
    /// The reply could not be understood (not the provider's format, arguments not JSON, empty).
    #[error("language model reply unusable: {0}")]
    Garbage(String),
}
