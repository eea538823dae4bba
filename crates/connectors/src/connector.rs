use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use steward_domain::{ActionCall, ActionSpec, Change, Target, TargetKind};

use crate::ConnectorError;

/// What a call returned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActionResult {
    /// The data returned (for investigations) or produced (e.g. a temporary password). May hold
    /// secrets: callers redact before storing or logging.
    pub output: Value,
    /// One sentence for people.
    pub summary: String,
    /// The value before the change, where the connector knows it.
    pub before: Option<Value>,
    /// The value after the change, where the connector knows it.
    pub after: Option<Value>,
    /// The platform's request id, to correlate with its own logs.
    pub platform_request_id: Option<String>,
}

/// The read-back after a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verification {
    /// Whether the post-condition holds.
    pub passed: bool,
    /// What was read and found.
    pub detail: String,
}

/// What a target's state shows about a change whose maker died mid-call (an "in doubt" intent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "found", content = "detail", rename_all = "camelCase")]
pub enum Reconciliation {
    /// The change is in effect (what was read says so).
    Applied(String),
    /// The change is not in effect.
    NotApplied(String),
    /// The target's state cannot tell (the action leaves no readable trace): a human decides.
    Unknown(String),
}

impl Reconciliation {
    /// The finding of a read that tells: in effect when `applied`, not in effect otherwise.
    pub fn read(applied: bool, detail: String) -> Self {
        if applied {
            Self::Applied(detail)
        } else {
            Self::NotApplied(detail)
        }
    }
}

/// A state read as a read-back: the change is verified exactly when it is found in effect.
impl From<Reconciliation> for Verification {
    fn from(found: Reconciliation) -> Self {
        match found {
            Reconciliation::Applied(detail) => Self {
                passed: true,
                detail,
            },
            Reconciliation::NotApplied(detail) | Reconciliation::Unknown(detail) => Self {
                passed: false,
                detail,
            },
        }
    }
}

/// A connected system. Implementations act with one delegated credential, so everything they do
/// is attributable to that person in the platform's own logs.
#[async_trait]
pub trait Connector: Send + Sync {
    /// The actions offered, with schemas, risk, targets and verification.
    fn catalog(&self) -> Vec<ActionSpec>;

    /// Whose delegated credential this connector acts with, and its scopes.
    fn acting_as(&self) -> (String, Vec<String>);

    /// Like [`acting_as`](Self::acting_as), checked against the credential's current state: a
    /// connector whose grant can be revoked or replaced while Steward runs says here, before a
    /// change is committed to, that it has none.
    async fn acting_as_now(&self) -> Result<(String, Vec<String>), ConnectorError> {
        Ok(self.acting_as())
    }

    /// Whose grant a call to `action` acts with, checked now: for a connector in front of
    /// several systems, the grant of the system the action belongs to (an Okta call is made
    /// with the Okta grant, and the audit must say so).
    async fn acting_as_for(&self, action: &str) -> Result<(String, Vec<String>), ConnectorError> {
        let _ = action;
        self.acting_as_now().await
    }

    /// Looks a target up in the live directory (by id or sign-in name / display name).
    async fn resolve(&self, kind: TargetKind, key: &str) -> Result<Target, ConnectorError>;

    /// Looks a target of `action` up (`None`: a requester arriving, for no action yet): for a
    /// connector in front of several systems, the tenant's directory first, then — for someone
    /// it does not know — the system the action belongs to (or, for a requester, any connected
    /// system), so a person with only an Okta or Google account can still be named.
    async fn resolve_for(
        &self,
        action: Option<&str>,
        kind: TargetKind,
        key: &str,
    ) -> Result<Target, ConnectorError> {
        let _ = action;
        self.resolve(kind, key).await
    }

    /// Makes the call. The gateway calls this only after schema, scope, policy, approval and an
    /// audited intent; `idempotency_key` lets a retried job recognise its own earlier attempt.
    async fn execute(
        &self,
        call: &ActionCall,
        idempotency_key: &str,
    ) -> Result<ActionResult, ConnectorError>;

    /// Reads what a change would do (current → proposed) without doing it, for approvers.
    async fn preview(&self, call: &ActionCall) -> Result<Vec<Change>, ConnectorError>;

    /// Reads back the post-condition of a change that just ran.
    async fn verify(
        &self,
        call: &ActionCall,
        result: &ActionResult,
    ) -> Result<Verification, ConnectorError>;

    /// Whether a change whose answer was lost but which took effect must still be sent again:
    /// true for actions whose answer carries something only that answer has (a temporary
    /// password, a Temporary Access Pass), where a second call replaces the lost secret.
    fn resend_after_lost_answer(&self, action: &str) -> bool {
        let _ = action;
        false
    }

    /// Reads whether `call`, started at `started` by a process that died before it heard the
    /// answer, took effect. Never repeats the call. By default nothing can be told.
    async fn reconcile(
        &self,
        call: &ActionCall,
        started: chrono::DateTime<chrono::Utc>,
    ) -> Result<Reconciliation, ConnectorError> {
        let _ = started;
        Ok(Reconciliation::Unknown(format!(
            "`{}` leaves nothing this connector can read back",
            call.action
        )))
    }
}
