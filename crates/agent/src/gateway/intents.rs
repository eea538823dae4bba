//! The intent of each change, kept in the store by idempotency key: begun before the connector is
//! called and closed after, so a retried call (a restarted replica, an approval run again) finds
//! the first attempt instead of making the change twice.

use std::sync::LazyLock;

use chrono::Utc;
use serde_json::{Value, json};
use steward_audit::RecordKind;
use steward_connectors::{ActionResult, Verification};
use steward_domain::{ActionCall, Decision, Target};
use steward_store::{IntentRow, IntentStart, IntentStatus};

use super::audit::CallAudit;
use super::{Gateway, GatewayOutcome};

/// This process's name as the owner of the intents it starts: unique per process, so a restarted
/// replica never mistakes a dead predecessor's call for its own.
pub(crate) static PROCESS_OWNER: LazyLock<String> = LazyLock::new(|| {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "steward".into());
    let nonce = uuid::Uuid::new_v4().simple().to_string();
    format!("{host}/{}/{}", std::process::id(), &nonce[..8])
});

/// The call as an intent records it.
pub(crate) fn call_json(call: &ActionCall) -> Value {
    json!({"action": call.action, "params": call.params})
}

impl Gateway {
    /// Begins the intent of `call` under `key`. `Ok(None)`: the caller makes the call now.
    /// `Ok(Some(row))`: the key was used before; the caller must not call again.
    pub(super) async fn begin_intent(
        &self,
        key: &str,
        conversation: &str,
        call: &ActionCall,
    ) -> Result<Option<IntentRow>, String> {
        let lease = chrono::Duration::from_std(self.intent_lease)
            .unwrap_or_else(|_| chrono::Duration::minutes(5));
        match self
            .store
            .begin_intent(
                key,
                conversation,
                &call_json(call),
                &PROCESS_OWNER,
                Utc::now(),
                lease,
            )
            .await
        {
            Ok(IntentStart::New) => Ok(None),
            // Claimed by this process's reconciler just before running it.
            Ok(IntentStart::Existing(row))
                if row.status == IntentStatus::Pending && row.owner == *PROCESS_OWNER =>
            {
                Ok(None)
            }
            Ok(IntentStart::Existing(row)) => Ok(Some(*row)),
            Err(e) => Err(format!("could not record the intent: {e}")),
        }
    }

    /// Closes this process's intent with what the call did. A failure to close it leaves it in
    /// doubt, which a reconciler settles by reading the target: nothing is lost.
    pub(super) async fn finish_intent(&self, key: &str, status: IntentStatus, resolution: Value) {
        match self
            .store
            .finish_intent(key, &PROCESS_OWNER, status, &resolution, Utc::now())
            .await
        {
            Ok(true) => {}
            Ok(false) => tracing::warn!(
                key,
                "the intent was taken over before this process closed it"
            ),
            Err(e) => {
                tracing::error!(key, error = %e, "could not close the intent; a reconciler will settle it")
            }
        }
    }

    /// The answer for a call whose key was used before: what the first attempt did, never a
    /// second call.
    pub(super) async fn earlier_attempt(
        &self,
        mut audit: CallAudit<'_>,
        targets: Vec<Target>,
        decision: Decision,
        row: IntentRow,
    ) -> GatewayOutcome {
        let now = Utc::now();
        let summary = row
            .resolution
            .as_ref()
            .and_then(|r| r.get("summary"))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let detail = json!({"idempotencyKey": row.key, "firstAttempt": row.status.as_str(), "firstAttemptBy": row.owner, "summary": summary});
        match row.status {
            IntentStatus::Done | IntentStatus::Applied => {
                let _ = audit
                    .write(RecordKind::Outcome, &targets, "alreadyDone", detail, None)
                    .await;
                let result = ActionResult {
                    output: Value::Null,
                    summary: if summary.is_empty() {
                        format!("{} was already done", row.action)
                    } else {
                        summary
                    },
                    before: None,
                    after: None,
                    platform_request_id: None,
                };
                GatewayOutcome::Done {
                    result,
                    decision,
                    targets,
                    verification: Some(Verification {
                        passed: true,
                        detail: format!(
                            "done by an earlier attempt under the same key ({})",
                            row.status.as_str()
                        ),
                    }),
                    audit_ids: audit.ids,
                }
            }
            IntentStatus::Pending if row.lease_until > now => {
                let _ = audit
                    .write(
                        RecordKind::Outcome,
                        &targets,
                        "inProgressElsewhere",
                        detail,
                        None,
                    )
                    .await;
                let error = format!(
                    "this change is already being made by another Steward process ({})",
                    row.owner
                );
                audit.fail(Some(decision), targets, error)
            }
            _ => {
                let _ = audit
                    .write(RecordKind::Outcome, &targets, "notRepeated", detail, None)
                    .await;
                let error = format!(
                    "an earlier attempt of this change ended `{}`; it is not repeated blindly",
                    row.status.as_str()
                );
                audit.fail(Some(decision), targets, error)
            }
        }
    }
}
