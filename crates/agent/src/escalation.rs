//! Escalations with full context: when Steward hands a request to a human, the queue gets
//! everything a person needs to take it over without asking again — the requester's messages,
//! what was found, every step tried with its result (and, for this turn, each policy decision),
//! the audit record ids, and a suggested next step.

use serde_json::{Value, json};
use steward_domain::report::TurnReport;
use steward_domain::{Finding, Step};

use crate::Observation;

/// The next step a person should take, from what the findings say.
pub(crate) fn suggested_next_step(findings: &[Finding]) -> &'static str {
    let has = |code: &str| findings.iter().any(|f| f.code.starts_with(code));
    if has("containment") {
        "Review the account's recent sign-ins and mailbox activity for what was accessed, finish any containment step listed as not done, and tell the person how to sign in again."
    } else if has("policy.denied") {
        "Decide whether the refused change should be made: if so, make it yourself or approve it, and tell the requester."
    } else if has("system.not_connected") {
        "Handle the request in the system named in the findings; Steward has no connection to it."
    } else if has("licence.no_seats") {
        "Free a seat (a leaver's licence) or buy more, then assign it or ask Steward again."
    } else if has("licence.not_owned") {
        "Decide whether the organisation should buy this subscription."
    } else if has("playbook.onboard") {
        "Confirm the new starter's details and run `steward playbook onboard` with them."
    } else if has("person.unresolved") || has("group.unresolved") || has("department.unresolved") {
        "Find out with the requester which person or group they meant, then ask Steward again or make the change."
    } else if has("role.requested") {
        "Handle the role request through the privileged-access process; Steward never grants admin roles."
    } else if has("request.unrecognised") {
        "Read the request and handle it; Steward did not recognise what was asked."
    } else if has("action.failed") {
        "Look at the failed step's error, fix the cause, and retry the change."
    } else {
        "Review the findings and finish the request by hand."
    }
}

/// The steps of the conversation so far, each with its result (secrets were never observed).
fn steps(observations: &[Observation]) -> Vec<Value> {
    observations
        .iter()
        .filter_map(|o| match &o.step {
            Step::Investigate { call, purpose } | Step::Act { call, purpose } => Some(json!({
                "kind": if matches!(o.step, Step::Act { .. }) { "change" } else { "read" },
                "action": call.action.as_str(),
                "params": steward_audit::redact(&call.params),
                "purpose": purpose,
                "result": o.result,
            })),
            Step::ActBulk { calls, purpose } => Some(json!({
                "kind": "bulk change",
                "actions": calls.iter().map(|c| json!({"action": c.action.as_str(), "params": steward_audit::redact(&c.params)})).collect::<Vec<_>>(),
                "purpose": purpose,
                "result": o.result,
            })),
            Step::Ask { question, .. } => Some(json!({"kind": "question", "question": question, "result": o.result})),
            _ => None,
        })
        .collect()
}

/// The hand-over bundle for an escalation raised now.
pub(crate) fn bundle(
    id: &str,
    messages: &[String],
    observations: &[Observation],
    report: &TurnReport,
    reason: &str,
    findings: &[Finding],
) -> Value {
    json!({
        "id": id,
        "conversationId": report.conversation_id,
        "requester": report.requester,
        "channel": report.channel,
        "intent": report.intent,
        "reason": reason,
        "findings": findings,
        "transcript": messages,
        "steps": steps(observations),
        "thisTurn": {"investigations": report.investigations, "actions": report.actions},
        "auditIds": report.audit_ids,
        "suggestedNextStep": suggested_next_step(findings),
    })
}

/// One step's result in a few words (for the ticket's text).
fn outcome_words(result: &Value) -> String {
    let text = |k: &str| result[k].as_str().unwrap_or_default().to_owned();
    match result["type"].as_str().unwrap_or_default() {
        "data" | "executed" => text("summary"),
        "denied" => format!("refused by policy: {}", text("reason")),
        "failed" => format!("failed: {}", text("error")),
        "pendingApproval" => "waiting for an approval".into(),
        "answer" => format!(
            "answered: {}",
            result["text"].as_str().unwrap_or("(no answer)")
        ),
        "bulk" => format!(
            "{} results",
            result["results"].as_array().map_or(0, Vec::len)
        ),
        other => other.to_owned(),
    }
}

/// The bundle as a ticket: a one-line summary and a plain-text description a person can act on
/// without opening Steward (which the description still names, with the audit record ids).
pub(crate) fn ticket_text(bundle: &Value) -> (String, String) {
    let s = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    let transcript: Vec<String> = bundle["transcript"]
        .as_array()
        .into_iter()
        .flatten()
        .map(s)
        .collect();
    let first: String = transcript
        .first()
        .map(|m| m.split_whitespace().collect::<Vec<_>>().join(" "))
        .unwrap_or_default();
    let summary = format!(
        "Steward escalation: {}",
        first.chars().take(120).collect::<String>()
    );
    let mut d = String::new();
    let requester = &bundle["requester"];
    d.push_str(&format!(
        "Escalated by Steward (escalation {}) for {} <{}>{} via {}.\n\n",
        s(&bundle["id"]),
        s(&requester["displayName"]),
        s(&requester["upn"]),
        if requester["itAdmin"] == true {
            ", an IT admin,"
        } else {
            ""
        },
        s(&bundle["channel"]),
    ));
    d.push_str(&format!(
        "Why: {}\n\nWhat they wrote:\n",
        s(&bundle["reason"])
    ));
    for m in &transcript {
        d.push_str(&format!("> {m}\n"));
    }
    let findings = bundle["findings"].as_array().cloned().unwrap_or_default();
    if !findings.is_empty() {
        d.push_str("\nFindings:\n");
        for f in &findings {
            d.push_str(&format!("- {}\n", s(&f["detail"])));
        }
    }
    let steps = bundle["steps"].as_array().cloned().unwrap_or_default();
    if !steps.is_empty() {
        d.push_str("\nSteps taken:\n");
        for step in &steps {
            let what = step["action"]
                .as_str()
                .or_else(|| step["question"].as_str())
                .unwrap_or("bulk change");
            d.push_str(&format!(
                "- {} {what}: {}\n",
                s(&step["kind"]),
                outcome_words(&step["result"])
            ));
        }
    }
    d.push_str(&format!(
        "\nSuggested next step: {}\n",
        s(&bundle["suggestedNextStep"])
    ));
    let ids: Vec<String> = bundle["auditIds"]
        .as_array()
        .into_iter()
        .flatten()
        .map(ToString::to_string)
        .collect();
    d.push_str(&format!(
        "Audit records: {}\nSteward conversation: {}\n",
        if ids.is_empty() {
            "none".into()
        } else {
            ids.join(", ")
        },
        s(&bundle["conversationId"])
    ));
    (summary, d)
}
