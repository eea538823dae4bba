//! Steward's replies and approval requests in Block Kit.

use serde_json::{Value, json};
use steward_domain::report::{ActionStatus, TurnReport};

/// Action ids of the approval buttons (the button's value is the approval id).
pub(crate) const APPROVE_ONCE: &str = "steward_approve_once";
/// Approve, and let similar requests run without asking (bounded terms).
pub(crate) const APPROVE_ALWAYS: &str = "steward_approve_always";
/// Refuse.
pub(crate) const DENY: &str = "steward_deny";

/// Slack's limit on a section's text.
const SECTION_MAX: usize = 3000;

fn clip(text: &str) -> String {
    if text.chars().count() <= SECTION_MAX {
        text.to_owned()
    } else {
        let kept: String = text.chars().take(SECTION_MAX - 1).collect();
        format!("{kept}…")
    }
}

/// A turn's reply.
pub(crate) fn reply(report: &TurnReport) -> Value {
    json!([{"type": "section", "text": {"type": "mrkdwn", "text": clip(&report.reply)}}])
}

/// One card per change waiting for approval: what, on whom, why, and the choices.
pub(crate) fn approval_cards(report: &TurnReport) -> Vec<(String, Value)> {
    report
        .actions
        .iter()
        .filter(|a| a.status == ActionStatus::PendingApproval)
        .filter_map(|a| {
            let id = a.approval_id?.to_string();
            let targets: Vec<String> = a.targets.iter().map(|t| t.display_name.clone()).collect();
            let text = format!(
                "*Approval needed* — {} asks for `{}` on {}.\n_Why:_ {}",
                report.requester.display_name,
                a.action,
                if targets.is_empty() { "—".to_owned() } else { targets.join(", ") },
                a.purpose
            );
            let button = |action_id: &str, label: &str, style: Option<&str>| {
                let mut b = json!({"type": "button", "action_id": action_id, "text": {"type": "plain_text", "text": label}, "value": id});
                if let Some(s) = style {
                    b["style"] = json!(s);
                }
                b
            };
            let blocks = json!([
                {"type": "section", "text": {"type": "mrkdwn", "text": clip(&text)}},
                {"type": "actions", "block_id": format!("approval-{id}"), "elements": [
                    button(APPROVE_ONCE, "Approve once", Some("primary")),
                    button(APPROVE_ALWAYS, "Approve always (this person, 5 times, 7 days)", None),
                    button(DENY, "Deny", Some("danger")),
                ]},
            ]);
            Some((format!("Approval needed: {} for {}", a.action, report.requester.display_name), blocks))
        })
        .collect()
}

/// A decided card: the outcome instead of the buttons.
pub(crate) fn decided(text: &str) -> Value {
    json!([{"type": "section", "text": {"type": "mrkdwn", "text": clip(text)}}])
}
