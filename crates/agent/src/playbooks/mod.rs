//! Composite playbooks: onboarding and offboarding built from catalogue actions, every step
//! through the gateway (schema, policy, approval, audit, read-back) exactly as if asked alone.
//! A step that fails or waits does not hide the others: the report says, step by step, what was
//! done, what waits for whom, what failed and what was not attempted.

mod offboard;
mod onboard;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use steward_domain::{ActionCall, ActionName, Channel, ConversationId, Principal};

use crate::gateway::{CallContext, CallKind, GatewayOutcome};
use crate::{AgentError, TenantRuntime};

pub use offboard::Offboarding;
pub use onboard::Onboarding;

/// How one step ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "camelCase")]
pub enum StepStatus {
    /// Done, and the read-back (if any) confirmed it.
    Done {
        /// What the connector reported.
        summary: String,
    },
    /// Done, but the read-back did not confirm it: a human should look.
    Unverified {
        /// What the connector reported.
        summary: String,
        /// What the read-back found.
        detail: String,
    },
    /// Waiting for a human's approval; nothing changed yet.
    AwaitingApproval {
        /// The approval request.
        approval_id: String,
    },
    /// Policy refused it; nothing changed.
    Denied {
        /// Why.
        reason: String,
    },
    /// The call failed; nothing changed, or what did is in the error.
    Failed {
        /// What went wrong.
        error: String,
    },
    /// Not attempted, because an earlier step it needs did not happen.
    NotAttempted {
        /// Why.
        reason: String,
    },
}

impl StepStatus {
    /// Whether the step's change is in effect.
    pub fn done(&self) -> bool {
        matches!(self, Self::Done { .. })
    }
}

/// One step of a playbook run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlaybookStep {
    /// What the step is for, in words.
    pub description: String,
    /// The action it called.
    pub action: String,
    /// How it ended.
    #[serde(flatten)]
    pub status: StepStatus,
}

/// A playbook run, step by step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlaybookReport {
    /// `onboarding` or `offboarding`.
    pub playbook: String,
    /// Who it was about.
    pub subject: String,
    /// The conversation its steps were recorded under (audit records carry it).
    pub conversation_id: String,
    /// Every step, in order.
    pub steps: Vec<PlaybookStep>,
    /// Secrets for the requester only (a new starter's temporary password), shown once.
    pub secrets: Vec<(String, String)>,
    /// What the requester should pass on or do next.
    pub notes: Vec<String>,
}

impl PlaybookReport {
    /// Whether every step was done and verified.
    pub fn complete(&self) -> bool {
        self.steps.iter().all(|s| s.status.done())
    }

    /// The report as text, one line per step.
    pub fn render(&self) -> String {
        let mut out = format!("{} of {}\n", self.playbook, self.subject);
        for step in &self.steps {
            let line = match &step.status {
                StepStatus::Done { summary } => {
                    format!("  done      {}: {summary}", step.description)
                }
                StepStatus::Unverified { summary, detail } => format!(
                    "  UNVERIFIED {}: {summary} (read-back: {detail})",
                    step.description
                ),
                StepStatus::AwaitingApproval { approval_id } => format!(
                    "  waiting   {}: needs approval ({approval_id})",
                    step.description
                ),
                StepStatus::Denied { reason } => {
                    format!("  refused   {}: {reason}", step.description)
                }
                StepStatus::Failed { error } => {
                    format!("  FAILED    {}: {error}", step.description)
                }
                StepStatus::NotAttempted { reason } => {
                    format!("  not done  {}: {reason}", step.description)
                }
            };
            out.push_str(&line);
            out.push('\n');
        }
        let done = self.steps.iter().filter(|s| s.status.done()).count();
        out.push_str(&format!(
            "{done} of {} step(s) done{}\n",
            self.steps.len(),
            if self.complete() {
                ""
            } else {
                "; the rest are listed above with what stopped them"
            }
        ));
        for (label, value) in &self.secrets {
            out.push_str(&format!("{label}: {value}\n"));
        }
        for note in &self.notes {
            out.push_str(&format!("note: {note}\n"));
        }
        out
    }
}

/// Runs the steps of one playbook for one requester, recording each.
pub(crate) struct Runner<'a> {
    runtime: &'a TenantRuntime,
    principal: Principal,
    channel: Channel,
    conversation: ConversationId,
    purpose: String,
    pub steps: Vec<PlaybookStep>,
}

impl<'a> Runner<'a> {
    pub async fn new(
        runtime: &'a TenantRuntime,
        requester: &str,
        channel: Channel,
        purpose: String,
    ) -> Result<Self, AgentError> {
        let principal = runtime.identify(requester).await?;
        Ok(Self {
            runtime,
            principal,
            channel,
            conversation: ConversationId::new(),
            purpose,
            steps: Vec::new(),
        })
    }

    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    /// Calls one action through the gateway; the outcome (with the result, when it ran).
    async fn call(&self, action: &str, params: Value, kind: CallKind) -> GatewayOutcome {
        let ctx = CallContext {
            principal: &self.principal,
            channel: self.channel,
            conversation: self.conversation,
            purpose: &self.purpose,
            blast_radius: None,
            turn: None,
        };
        let call = match ActionName::new(action) {
            Ok(name) => ActionCall {
                action: name,
                params,
            },
            Err(e) => {
                return GatewayOutcome::Failed {
                    decision: None,
                    targets: Vec::new(),
                    error: e.to_string(),
                    audit_ids: Vec::new(),
                };
            }
        };
        self.runtime.gateway().call(&ctx, &call, kind).await
    }

    /// A read the playbook needs (who someone is, their methods): its output, or why not.
    pub async fn read(&self, action: &str, params: Value) -> Result<Value, String> {
        match self.call(action, params, CallKind::Investigate).await {
            GatewayOutcome::Done { result, .. } => Ok(result.output),
            GatewayOutcome::Denied { decision, .. } => Err(decision.reason),
            GatewayOutcome::NeedsApproval { .. } => Err("the read needs an approval".into()),
            GatewayOutcome::Failed { error, .. } => Err(error),
        }
    }

    /// Runs one change and records the step; the result's output when it was done.
    pub async fn change(
        &mut self,
        description: String,
        action: &str,
        params: Value,
    ) -> Option<Value> {
        let outcome = self.call(action, params, CallKind::Act).await;
        let (status, output) = match outcome {
            GatewayOutcome::Done {
                result,
                verification,
                ..
            } => match verification {
                Some(v) if !v.passed => (
                    StepStatus::Unverified {
                        summary: result.summary,
                        detail: v.detail,
                    },
                    Some(result.output),
                ),
                _ => (
                    StepStatus::Done {
                        summary: result.summary,
                    },
                    Some(result.output),
                ),
            },
            GatewayOutcome::NeedsApproval { approval_id, .. } => (
                StepStatus::AwaitingApproval {
                    approval_id: approval_id.to_string(),
                },
                None,
            ),
            GatewayOutcome::Denied { decision, .. } => (
                StepStatus::Denied {
                    reason: decision.reason,
                },
                None,
            ),
            GatewayOutcome::Failed { error, .. } => (StepStatus::Failed { error }, None),
        };
        self.steps.push(PlaybookStep {
            description,
            action: action.to_owned(),
            status,
        });
        output
    }

    /// Records a step that was not attempted.
    pub fn skip(&mut self, description: String, action: &str, reason: String) {
        self.steps.push(PlaybookStep {
            description,
            action: action.to_owned(),
            status: StepStatus::NotAttempted { reason },
        });
    }

    pub fn report(
        self,
        playbook: &str,
        subject: String,
        secrets: Vec<(String, String)>,
        notes: Vec<String>,
    ) -> PlaybookReport {
        PlaybookReport {
            playbook: playbook.into(),
            subject,
            conversation_id: self.conversation.to_string(),
            steps: self.steps,
            secrets,
            notes,
        }
    }
}
