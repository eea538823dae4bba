//! The conversation as the model sees it, rebuilt from the requester's messages and the
//! observations on every step: each earlier step becomes a tool call with its result, so the
//! history is always consistent (one result per call) whatever the model did before.

use serde_json::{Value, json};
use steward_domain::Step;
use steward_llm::{ToolCall, Turn};

use super::tools::{self, ASK, ESCALATE, PLAN};
use crate::ObservedResult;
use crate::reasoner::ReasonerInput;

/// A tool result longer than this is cut (a large directory read must not crowd out the
/// conversation).
const MAX_RESULT_CHARS: usize = 6000;

/// The rebuilt conversation.
pub(super) struct Transcript {
    /// The turns to send.
    pub turns: Vec<Turn>,
    finished: bool,
}

impl Transcript {
    /// Rebuilds the conversation. Messages that answered a question appear as that question's
    /// result; any other message after the first follows the reply it answered.
    pub fn of(input: &ReasonerInput<'_>) -> Self {
        let mut answers = input.observations.iter().filter_map(|o| match &o.result {
            ObservedResult::Answer { text: Some(t) } => Some(t.as_str()),
            _ => None,
        });
        let mut next_answer = answers.next();
        let mut follow_ups = Vec::new();
        for m in input.messages.iter().skip(1) {
            if next_answer == Some(m.as_str()) {
                next_answer = answers.next();
            } else {
                follow_ups.push(m.as_str());
            }
        }
        let mut follow_ups = follow_ups.into_iter();
        let mut turns = Vec::new();
        if let Some(first) = input.messages.first() {
            turns.push(Turn::User(first.clone()));
        }
        let mut ended_on_reply = false;
        for (i, o) in input.observations.iter().enumerate() {
            ended_on_reply = false;
            let id = format!("c{i:08}");
            match &o.step {
                Step::Reply { text } => {
                    turns.push(Turn::Assistant(text.clone()));
                    match follow_ups.next() {
                        Some(m) => turns.push(Turn::User(m.to_owned())),
                        None => ended_on_reply = true,
                    }
                    continue;
                }
                Step::Done => continue,
                step => {
                    let (name, arguments) = as_call(step);
                    turns.push(Turn::Call(ToolCall {
                        id: id.clone(),
                        name,
                        arguments,
                    }));
                    turns.push(Turn::Result {
                        id,
                        content: render(&o.result),
                    });
                }
            }
        }
        let mut finished = ended_on_reply;
        for m in follow_ups {
            turns.push(Turn::User(m.to_owned()));
            finished = false;
        }
        Self { turns, finished }
    }

    /// The model gave its final answer and nothing was said since.
    pub fn finished(&self) -> bool {
        self.finished
    }
}

/// A step as the tool call that proposes it.
fn as_call(step: &Step) -> (String, Value) {
    match step {
        Step::Investigate { call, .. } | Step::Act { call, .. } => {
            (tools::wire_name(call.action.as_str()), call.params.clone())
        }
        Step::ActBulk { calls, .. } => {
            let name = calls.first().map_or_else(
                || "bulk".to_owned(),
                |c| tools::wire_name(c.action.as_str()),
            );
            let params: Vec<&Value> = calls.iter().map(|c| &c.params).collect();
            (name, json!({"each": params}))
        }
        Step::Plan { findings, steps } => {
            let findings: Vec<&str> = findings.iter().map(|f| f.detail.as_str()).collect();
            (
                PLAN.to_owned(),
                json!({"findings": findings, "steps": steps}),
            )
        }
        Step::Ask { question, options } => (
            ASK.to_owned(),
            json!({"question": question, "options": options}),
        ),
        Step::Escalate { reason, findings } => {
            let findings: Vec<&str> = findings.iter().map(|f| f.detail.as_str()).collect();
            (
                ESCALATE.to_owned(),
                json!({"reason": reason, "findings": findings}),
            )
        }
        Step::Reply { .. } | Step::Done => (String::new(), Value::Null),
    }
}

/// A result as the text the model reads (already redacted: observations never hold secrets).
fn render(result: &ObservedResult) -> String {
    let text = match result {
        ObservedResult::Data { summary, data } => {
            json!({"summary": summary, "data": data}).to_string()
        }
        ObservedResult::Executed { summary, verified } => {
            json!({"done": summary, "verifiedByReadBack": verified}).to_string()
        }
        ObservedResult::Denied { reason } => {
            format!(
                "REFUSED by policy, nothing was changed: {reason}. Do not try another way; tell the requester or escalate."
            )
        }
        ObservedResult::PendingApproval { approval_id } => {
            format!("Waiting for a human's approval (request {approval_id}); nothing has run yet.")
        }
        ObservedResult::Failed { error } => format!("FAILED: {error}"),
        ObservedResult::Bulk { results } => {
            let each: Vec<String> = results.iter().map(render).collect();
            json!({"each": each}).to_string()
        }
        ObservedResult::Answer { text } => match text {
            Some(t) => format!("The requester answered: {t}"),
            None => "No answer yet.".into(),
        },
        ObservedResult::Noted => "Noted.".into(),
    };
    if text.chars().count() > MAX_RESULT_CHARS {
        let cut: String = text.chars().take(MAX_RESULT_CHARS).collect();
        format!("{cut}… (cut)")
    } else {
        text
    }
}
