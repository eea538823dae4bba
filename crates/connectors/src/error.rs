use thiserror::Error;

/// Why a call to a connected system failed, classified so the agent can adapt (a denial is an
/// observation that makes the reasoner try another method or escalate).
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ConnectorError {
    /// The platform refused: the delegated credential's scopes or its owner's role do not allow it.
    #[error("{platform} refused the call ({code}): {message}")]
    Denied {
        /// The system.
        platform: &'static str,
        /// The platform's error code, e.g. `Authorization_RequestDenied`.
        code: String,
        /// The platform's message.
        message: String,
        /// The platform's request id.
        request_id: Option<String>,
    },
    /// The object does not exist.
    #[error("{platform} has no such object ({code}): {message}")]
    NotFound {
        /// The system.
        platform: &'static str,
        /// The platform's error code.
        code: String,
        /// The platform's message.
        message: String,
        /// The platform's request id.
        request_id: Option<String>,
    },
    /// The platform rejected the request as malformed or conflicting.
    #[error("{platform} rejected the request ({status} {code}): {message}")]
    Rejected {
        /// The system.
        platform: &'static str,
        /// HTTP status.
        status: u16,
        /// The platform's error code.
        code: String,
        /// The platform's message.
        message: String,
        /// The platform's request id.
        request_id: Option<String>,
    },
    /// Still throttled or unavailable after the retries allowed.
    #[error(
        "{platform} is still throttling or unavailable after {attempts} attempts (last status {status})"
    )]
    Unavailable {
        /// The system.
        platform: &'static str,
        /// Attempts made.
        attempts: u32,
        /// The last status.
        status: u16,
    },
    /// The delegated credential could not be used (expired, revoked, sign-in error).
    #[error("the delegated credential of `{owner}` cannot be used: {reason}")]
    Credential {
        /// Whose credential.
        owner: String,
        /// What the identity platform said.
        reason: String,
    },
    /// Network failure or an answer that is not what the wire format promises.
    #[error("{platform} transport error: {source}")]
    Transport {
        /// The system.
        platform: &'static str,
        /// What failed.
        #[source]
        source: TransportError,
    },
    /// The action is not one this connector offers.
    #[error("`{0}` is not an action of this connector")]
    UnknownAction(String),
    /// Parameters passed the schema but cannot be used (a bug in a caller).
    #[error("bad parameters for `{action}`: {reason}")]
    BadParams {
        /// The action.
        action: String,
        /// What is wrong.
        reason: String,
    },
    /// What the change needs is not there (no licence seats left, no usage location): nothing
    /// was changed, and a person has to act first.
    #[error("`{action}` cannot be done now: {reason}")]
    Unmet {
        /// The action.
        action: String,
        /// What is missing, in words an admin can act on.
        reason: String,
    },
}

/// The text of a transport failure (kept as text so errors stay `Clone`).
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("{0}")]
pub struct TransportError(pub String);

impl ConnectorError {
    /// The platform's request id, for correlation with its own logs.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Self::Denied { request_id, .. }
            | Self::NotFound { request_id, .. }
            | Self::Rejected { request_id, .. } => request_id.as_deref(),
            _ => None,
        }
    }
}
