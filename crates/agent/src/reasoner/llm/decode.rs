//! The model's reply as a step. Only the first tool call counts (calls are taken one at a
//! time, each decided before the next is proposed); whether a call investigates or acts is the
//! catalog's say, never the model's.

use serde_json::Value;
use steward_domain::{ActionCall, ActionName, ActionSpec, Finding, Step};
use steward_llm::ModelReply;

use super::tools::{ASK, ESCALATE, PLAN, action_name};
use crate::reasoner::ReasonerError;

/// Longest purpose taken from the model's narration (shown to approvers).
const MAX_PURPOSE_CHARS: usize = 300;

/// The step a reply proposes.
pub(super) fn step(reply: &ModelReply, catalog: &[ActionSpec]) -> Result<Step, ReasonerError> {
    let Some(call) = reply.calls.first() else {
        let text = reply.text.trim();
        if text.is_empty() {
            return Err(ReasonerError::Unusable(
                "an empty reply (no text, no tool call)".into(),
            ));
        }
        return Ok(Step::Reply {
            text: text.to_owned(),
        });
    };
    let args = &call.arguments;
    match call.name.as_str() {
        ASK => Ok(Step::Ask {
            question: text_field(args, "question", ASK)?,
            options: strings(args, "options"),
        }),
        PLAN => Ok(Step::Plan {
            findings: findings(args),
            steps: strings(args, "steps"),
        }),
        ESCALATE => Ok(Step::Escalate {
            reason: text_field(args, "reason", ESCALATE)?,
            findings: findings(args),
        }),
        wire => {
            let name = action_name(wire);
            let action = ActionName::new(name.clone())
                .map_err(|e| ReasonerError::Unusable(format!("tool `{wire}`: {e}")))?;
            let spec = catalog.iter().find(|a| a.name == action);
            let narration: String = reply.text.trim().chars().take(MAX_PURPOSE_CHARS).collect();
            let purpose = if narration.is_empty() {
                spec.map_or_else(
                    || format!("proposed by the language model: {name}"),
                    |s| s.summary.clone(),
                )
            } else {
                narration
            };
            let call = ActionCall {
                action,
                params: args.clone(),
            };
            // An action the catalog does not know is treated as a change: the gateway refuses
            // and audits it either way, and the record must not call it a harmless read.
            Ok(if spec.is_some_and(|s| !s.mutating) {
                Step::Investigate { call, purpose }
            } else {
                Step::Act { call, purpose }
            })
        }
    }
}

fn text_field(args: &Value, key: &str, tool: &str) -> Result<String, ReasonerError> {
    args.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| ReasonerError::Unusable(format!("`{tool}` without `{key}`")))
}

fn strings(args: &Value, key: &str) -> Vec<String> {
    args.get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect()
}

fn findings(args: &Value) -> Vec<Finding> {
    strings(args, "findings")
        .into_iter()
        .map(|detail| Finding {
            code: "model.finding".into(),
            detail,
        })
        .collect()
}
