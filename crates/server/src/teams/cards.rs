//! Teams messages and Adaptive Cards for approvals: each choice is an `Action.Execute` (the
//! Universal Actions model, answered in place) with an `Action.Submit` fallback for clients
//! without it; both carry the approval id and the choice in `data`.

use serde_json::{Value, json};
use steward_domain::report::{ActionStatus, TurnReport};

/// The choices, as `data.steward`.
pub(crate) const APPROVE_ONCE: &str = "approve_once";
/// Approve, and let similar requests run without asking (bounded terms).
pub(crate) const APPROVE_ALWAYS: &str = "approve_always";
/// Refuse.
pub(crate) const DENY: &str = "deny";

/// A message activity answering `incoming`.
pub(crate) fn message(incoming: &Value, text: &str, attachments: Vec<Value>) -> Value {
    let mut m = json!({
        "type": "message",
        "text": text,
        "textFormat": "plain",
        "from": incoming["recipient"],
        "recipient": incoming["from"],
        "conversation": incoming["conversation"],
        "replyToId": incoming["id"],
    });
    if !attachments.is_empty() {
        m["attachmentLayout"] = json!("list");
        m["attachments"] = Value::Array(attachments);
    }
    m
}

fn card(body: Vec<Value>, actions: Vec<Value>) -> Value {
    json!({
        "contentType": "application/vnd.microsoft.card.adaptive",
        "content": {
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "type": "AdaptiveCard",
            "version": "1.4",
            "body": body,
            "actions": actions,
        },
    })
}

/// One card per change waiting for approval.
pub(crate) fn approvals(report: &TurnReport) -> Vec<Value> {
    report
        .actions
        .iter()
        .filter(|a| a.status == ActionStatus::PendingApproval)
        .filter_map(|a| {
            let id = a.approval_id?.to_string();
            let targets: Vec<String> = a.targets.iter().map(|t| t.display_name.clone()).collect();
            let choice = |verb: &str, title: &str| {
                let data = json!({"steward": verb, "approvalId": id});
                json!({"type": "Action.Execute", "title": title, "verb": verb, "data": data,
                       "fallback": {"type": "Action.Submit", "title": title, "data": data}})
            };
            Some(card(
                vec![
                    json!({"type": "TextBlock", "text": "Approval needed", "weight": "Bolder", "wrap": true}),
                    json!({"type": "TextBlock", "wrap": true, "text": format!(
                        "{} asks for {} on {}. Why: {}",
                        report.requester.display_name,
                        a.action,
                        if targets.is_empty() { "—".to_owned() } else { targets.join(", ") },
                        a.purpose
                    )}),
                ],
                vec![
                    choice(APPROVE_ONCE, "Approve once"),
                    choice(APPROVE_ALWAYS, "Approve always (this person, 5 times, 7 days)"),
                    choice(DENY, "Deny"),
                ],
            ))
        })
        .collect()
}

/// A decided card: the outcome, no buttons.
pub(crate) fn decided(text: &str) -> Value {
    card(
        vec![json!({"type": "TextBlock", "text": text, "wrap": true})],
        Vec::new(),
    )
}
