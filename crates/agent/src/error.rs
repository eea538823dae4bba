use thiserror::Error;

/// Why the agent could not take a request at all (as opposed to a request it handled by
/// refusing or escalating, which is a normal report).
#[derive(Debug, Error)]
pub enum AgentError {
    /// The requester is not a person in the tenant's directory.
    #[error("`{0}` is not a user of this tenant's directory; nothing was done")]
    UnknownRequester(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] steward_store::StoreError),
    /// The directory could not be reached to identify someone.
    #[error("cannot reach the directory: {0}")]
    Directory(#[from] steward_connectors::ConnectorError),
    /// The conversation state could not be read back.
    #[error("conversation `{0}` has unreadable state: {1}")]
    BadState(String, String),
    /// The request itself is unusable (an empty or over-long message).
    #[error("{0}")]
    BadInput(String),
    /// An approval decision was refused (already decided, bad terms).
    #[error("{0}")]
    Approval(String),
    /// The person has no authority for this (not an approver, approving their own privileged request).
    #[error("{0}")]
    NotAllowed(String),
    /// The policies do not load.
    #[error(transparent)]
    Policy(#[from] steward_policy::PolicyError),
    /// The conversation belongs to someone else.
    #[error("conversation `{0}` belongs to another requester")]
    NotYourConversation(String),
}
