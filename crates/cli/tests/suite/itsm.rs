//! Escalations filed in the tenant's ITSM tool — Jira, ServiceNow, SysAid — against their
//! simulators: the whole hand-over lands in the ticket, the requester is told who has it, and a
//! tool that refuses or is down costs only the ticket (the queue keeps the escalation, the
//! failure is recorded and audited).

use std::sync::Arc;

use anyhow::Context as _;
use serde_json::Value;
use steward_connectors::itsm::{Jira, ServiceNow, SysAid, TicketDesk};
use steward_domain::report::{TurnReport, TurnStatus};
use steward_sim::itsm::{ItsmAccount, RunningItsm};

use super::support::{Harness, upn};

const USER: &str = "steward@larkspur.example";
const SECRET: &str = "itsm-secret-7f3a";

async fn tool() -> anyhow::Result<RunningItsm> {
    Ok(RunningItsm::start(ItsmAccount {
        user: USER.into(),
        secret: SECRET.into(),
    })
    .await?)
}

/// An employee asks for a group Steward may not give them: refused by policy, escalated.
async fn escalate(h: &Harness, desk: Arc<dyn TicketDesk>) -> anyhow::Result<TurnReport> {
    h.runtime().set_ticket_desk(Some(desk));
    let report = h.ask("sam", "please add me to VPN Users").await?;
    assert_eq!(report.status, TurnStatus::Escalated, "{}", report.reply);
    Ok(report)
}

/// The text of an ADF document.
fn adf_text(doc: &Value) -> String {
    doc["content"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|p| p["content"].as_array().cloned().unwrap_or_default())
        .filter_map(|t| t["text"].as_str().map(str::to_owned))
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn an_escalation_becomes_a_jira_issue_with_the_whole_hand_over() -> anyhow::Result<()> {
    let h = Harness::new().await?;
    let jira = tool().await?;
    let desk = Arc::new(Jira::new(&jira.base_url, USER, SECRET, "IT", "Task")?);
    let report = escalate(&h, desk).await?;

    let escalation = report.escalation.as_ref().context("escalated")?;
    let id = escalation.id.clone().context("queued")?;
    let ticket = escalation.ticket.as_ref().context("filed")?;
    assert_eq!(
        (ticket.system.as_str(), ticket.key.as_str()),
        ("jira", "IT-1")
    );
    assert_eq!(ticket.url, format!("{}/browse/IT-1", jira.base_url));
    assert!(report.reply.contains("Jira issue IT-1"), "{}", report.reply);

    let issues = jira.jira_issues();
    assert_eq!(issues.len(), 1);
    let fields = &issues[0]["fields"];
    assert!(
        fields["summary"]
            .as_str()
            .unwrap_or_default()
            .contains("VPN Users")
    );
    assert_eq!(fields["issuetype"]["name"], "Task");
    let labels: Vec<&str> = fields["labels"]
        .as_array()
        .context("labels")?
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        labels.contains(&format!("steward-escalation-{}", &id[..8]).as_str()),
        "{labels:?}"
    );
    let text = adf_text(&fields["description"]);
    for wanted in [
        id.as_str(),
        "> please add me to VPN Users",
        "entra.group.add_member: refused by policy",
        "Suggested next step:",
        "Audit records:",
        &upn("sam"),
    ] {
        assert!(
            text.contains(wanted),
            "the ticket lacks {wanted:?}:\n{text}"
        );
    }

    // The queue knows where it went; the audit trail says so.
    let queued = h.runtime().store.escalation(&id).await?;
    assert_eq!(queued.status, "open");
    assert_eq!(
        queued.ticket.as_ref().and_then(|t| t["key"].as_str()),
        Some("IT-1")
    );
    let records = h.audit_of(&report).await?;
    assert!(
        records
            .iter()
            .any(|r| r.entry.kind.to_string() == "escalation"
                && r.entry.outcome.as_deref() == Some("filed"))
    );
    Ok(())
}

#[tokio::test]
async fn an_escalation_becomes_a_servicenow_incident_even_when_throttled() -> anyhow::Result<()> {
    let h = Harness::new().await?;
    let snow = tool().await?;
    snow.throttle(1);
    let desk = Arc::new(ServiceNow::new(
        &snow.base_url,
        USER,
        SECRET,
        Some("8a4dde73c6112278017a6a4baf547aa7".into()),
    )?);
    let report = escalate(&h, desk).await?;
    let escalation = report.escalation.as_ref().context("escalated")?;
    let ticket = escalation.ticket.as_ref().context("filed after the 429")?;
    assert_eq!(ticket.key, "INC0010001");
    assert!(
        report.reply.contains("ServiceNow incident INC0010001"),
        "{}",
        report.reply
    );
    let incidents = snow.incidents();
    assert_eq!(incidents.len(), 1);
    let incident = &incidents[0];
    assert_eq!(
        incident["correlation_id"].as_str(),
        escalation.id.as_deref()
    );
    assert_eq!(incident["correlation_display"], "Steward");
    assert_eq!(
        incident["assignment_group"],
        "8a4dde73c6112278017a6a4baf547aa7"
    );
    assert!(
        incident["short_description"]
            .as_str()
            .unwrap_or_default()
            .chars()
            .count()
            <= 160
    );
    assert!(
        incident["description"]
            .as_str()
            .unwrap_or_default()
            .contains("refused by policy")
    );
    assert!(ticket.url.ends_with(&format!(
        "incident.do?sys_id={}",
        incident["sys_id"].as_str().unwrap_or_default()
    )));
    Ok(())
}

#[tokio::test]
async fn sysaid_service_records_reuse_one_login() -> anyhow::Result<()> {
    let h = Harness::new().await?;
    let sysaid = tool().await?;
    let desk = Arc::new(SysAid::new(&sysaid.base_url, USER, SECRET)?);
    let first = escalate(&h, desk).await?;
    let second = h.ask("leo", "please add me to VPN Users").await?;
    for report in [&first, &second] {
        let ticket = report
            .escalation
            .as_ref()
            .and_then(|e| e.ticket.as_ref())
            .context("filed")?;
        assert_eq!(ticket.system, "sysaid");
        assert!(
            report.reply.contains("SysAid service record"),
            "{}",
            report.reply
        );
    }
    let records = sysaid.service_records();
    assert_eq!(records.len(), 2);
    let title = records[0]["info"]
        .as_array()
        .context("info")?
        .iter()
        .find(|i| i["key"] == "title")
        .context("title")?;
    assert!(
        title["value"]
            .as_str()
            .unwrap_or_default()
            .starts_with("Steward escalation:")
    );
    // SysAid allows two logins in five minutes: the session is kept.
    assert_eq!(sysaid.sysaid_logins(), 1);
    Ok(())
}

#[tokio::test]
async fn a_tool_that_refuses_or_is_down_costs_only_the_ticket() -> anyhow::Result<()> {
    let h = Harness::new().await?;
    let jira = tool().await?;
    let wrong = Arc::new(Jira::new(
        &jira.base_url,
        USER,
        "not-the-token",
        "IT",
        "Task",
    )?);
    let report = escalate(&h, wrong).await?;
    let escalation = report.escalation.as_ref().context("escalated")?;
    assert!(escalation.ticket.is_none());
    let error = escalation
        .filing_error
        .clone()
        .context("the failure is reported")?;
    assert!(
        error.contains("Jira issue") && error.contains("401"),
        "{error}"
    );
    assert!(
        report.reply.contains("could not be filed"),
        "{}",
        report.reply
    );
    let id = escalation.id.clone().context("queued anyway")?;
    let queued = h.runtime().store.escalation(&id).await?;
    assert_eq!(queued.status, "open");
    assert!(
        queued
            .ticket
            .as_ref()
            .and_then(|t| t["error"].as_str())
            .is_some_and(|e| e.contains("authenticated"))
    );
    let records = h.audit_of(&report).await?;
    assert!(
        records
            .iter()
            .any(|r| r.entry.outcome.as_deref() == Some("notFiled"))
    );
    assert!(jira.jira_issues().is_empty());

    // Nobody listening at all.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let down = Arc::new(ServiceNow::new(
        &format!("http://127.0.0.1:{closed}"),
        USER,
        SECRET,
        None,
    )?);
    h.runtime().set_ticket_desk(Some(down));
    let report = h.ask("leo", "please add me to VPN Users").await?;
    let escalation = report.escalation.as_ref().context("escalated")?;
    assert!(escalation.id.is_some());
    let error = escalation.filing_error.clone().context("reported")?;
    assert!(error.contains("could not be reached"), "{error}");
    Ok(())
}
