use thiserror::Error;

/// Errors raised when a value does not fit Steward's vocabulary (bad names, bad parameters).
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum DomainError {
    /// An action name is not of the form `system.resource.verb`.
    #[error("action name `{0}` is not of the form `system.resource.verb`")]
    BadActionName(String),
    /// Parameters do not match the action's JSON Schema.
    #[error("parameters of `{action}` do not match its schema: {problems}")]
    InvalidParams {
        /// The action whose schema was violated.
        action: String,
        /// Every violation, joined for a human.
        problems: String,
    },
    /// The action's own JSON Schema could not be compiled (a bug in the connector that declares it).
    #[error("the JSON Schema of `{action}` is invalid: {reason}")]
    BadSchema {
        /// The action with the broken schema.
        action: String,
        /// What the schema compiler said.
        reason: String,
    },
    /// A tenant id is empty or has characters that cannot appear in a directory or Cedar id.
    #[error("tenant id `{0}` must be 1-64 characters of a-z, 0-9, `-` or `_`")]
    BadTenantId(String),
}
