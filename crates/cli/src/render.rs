//! Human-readable rendering of reports.

use std::fmt::Write as _;

use steward_domain::report::{ActionStatus, TurnReport};
use steward_domain::{Decision, Outcome};

fn policies(d: &Decision) -> String {
    if d.deciding.is_empty() {
        "no matching policy".into()
    } else {
        d.deciding
            .iter()
            .map(|p| format!("{} ({})", p.id, p.layer))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn ids(ids: &[i64]) -> String {
    ids.iter()
        .map(|i| format!("#{i}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn indent(text: &str, by: &str) -> String {
    text.lines()
        .map(|l| format!("{by}{l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// One turn as text for a terminal.
pub fn turn(r: &TurnReport) -> String {
    let mut s = String::new();
    let mode = if r.requester.it_admin {
        "IT admin"
    } else {
        "self-service"
    };
    let _ = writeln!(
        s,
        "Steward · tenant {} · {} <{}> ({mode}) · conversation {}",
        r.tenant, r.requester.display_name, r.requester.upn, r.conversation_id
    );
    if r.dry_run {
        let _ = writeln!(
            s,
            "DRY RUN: reads ran; every change below was decided by policy and none was made."
        );
    }
    if let Some(intent) = &r.intent {
        let _ = writeln!(s, "Understood as: {intent}");
    }
    if !r.investigations.is_empty() {
        let _ = writeln!(s, "\nInvestigation");
        for i in &r.investigations {
            let mark = if i.decision.outcome == Outcome::Deny {
                "✗"
            } else {
                "✓"
            };
            let _ = writeln!(s, "  {mark} {} {}", i.action, i.params);
            let _ = writeln!(s, "      {}", i.summary);
            let _ = writeln!(
                s,
                "      policy: {} — {}   audit {}",
                i.decision.outcome,
                policies(&i.decision),
                ids(&i.audit_ids)
            );
        }
    }
    if !r.findings.is_empty() {
        let _ = writeln!(s, "\nFindings");
        for f in &r.findings {
            let _ = writeln!(s, "  - {}: {}", f.code, f.detail);
        }
    }
    if !r.plan.is_empty() {
        let _ = writeln!(s, "\nPlan");
        for (n, p) in r.plan.iter().enumerate() {
            let _ = writeln!(s, "  {}. {p}", n + 1);
        }
    }
    if !r.actions.is_empty() {
        let _ = writeln!(s, "\nActions");
        for a in &r.actions {
            let (mark, status) = match a.status {
                ActionStatus::Executed => ("✓", "executed"),
                ActionStatus::Unverified => ("?", "executed, not verified"),
                ActionStatus::Denied => ("✗", "denied"),
                ActionStatus::PendingApproval => ("…", "waiting for approval"),
                ActionStatus::Failed => ("✗", "failed"),
                ActionStatus::Planned => ("○", "planned (dry run: not run)"),
            };
            let targets = a
                .targets
                .iter()
                .map(|t| match &t.upn {
                    Some(u) => format!("{} <{u}>", t.display_name),
                    None => t.display_name.clone(),
                })
                .collect::<Vec<_>>()
                .join(", ");
            let _ = writeln!(s, "  {mark} {} on {targets} — {status}", a.action);
            let _ = writeln!(
                s,
                "      policy: {} — {}",
                a.decision.outcome,
                policies(&a.decision)
            );
            for c in &a.preview {
                let _ = writeln!(
                    s,
                    "      {} {}: {} → {}",
                    c.target, c.field, c.current, c.proposed
                );
            }
            if !a.decision.gates.is_empty() {
                let _ = writeln!(
                    s,
                    "      approval lifts: {}",
                    a.decision
                        .gates
                        .iter()
                        .map(|p| format!("{} ({})", p.id, p.layer))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            if let Some(id) = &a.approval_id {
                let _ = writeln!(
                    s,
                    "      approval request: {id}  (steward approvals approve {id} --as <IT admin>)"
                );
            }
            if let Some(v) = &a.verification {
                let _ = writeln!(
                    s,
                    "      verified: {} — {}",
                    if v.passed { "yes" } else { "NO" },
                    v.detail
                );
            }
            if let Some(e) = &a.error {
                let _ = writeln!(s, "      why: {e}");
            }
            let _ = writeln!(s, "      audit {}", ids(&a.audit_ids));
        }
    }
    if let Some(e) = &r.escalation {
        let _ = writeln!(s, "\nEscalated to the IT team: {}", e.reason);
    }
    if r.dry_run {
        let _ = writeln!(
            s,
            "\nReply {} would get once these changes ran (nothing was changed)",
            r.requester.display_name
        );
    } else {
        let _ = writeln!(s, "\nReply to {}", r.requester.display_name);
    }
    let _ = writeln!(s, "{}", indent(&r.reply, "  "));
    if let Some(q) = &r.question {
        for o in &q.options {
            let _ = writeln!(s, "    • {o}");
        }
        let _ = writeln!(
            s,
            "  (answer with: steward ask --as {} --conversation {} \"<your answer>\")",
            r.requester.upn, r.conversation_id
        );
    }
    let _ = writeln!(
        s,
        "\nStatus: {}   Audit records: {}",
        r.status,
        ids(&r.audit_ids)
    );
    s
}
