//! Filing an escalation in the tenant's ITSM tool, once: the queue already holds it, so a tool
//! that is down or refuses only costs the ticket, and the failure is kept on the escalation,
//! audited and told to the requester.

use serde_json::json;
use steward_audit::RecordKind;
use steward_connectors::itsm::HandOver;
use steward_domain::report::TicketView;

use crate::TenantRuntime;
use crate::gateway::CallContext;

/// What came of filing.
pub(crate) enum Filed {
    /// No ITSM tool is configured.
    NotConfigured,
    /// Filed (now or by an earlier run of the same turn).
    Ticket(TicketView),
    /// The tool could not take it: which tool, and why.
    Failed(&'static str, String),
}

/// How a person names a record of `system`.
pub(crate) fn record_name(system: &str) -> &'static str {
    match system {
        "jira" => "Jira issue",
        "servicenow" => "ServiceNow incident",
        "sysaid" => "SysAid service record",
        _ => "ticket",
    }
}

impl TenantRuntime {
    /// Files the queued escalation `id` (its `bundle`) in the ITSM tool, unless it already was.
    pub(crate) async fn file_escalation(
        &self,
        ctx: &CallContext<'_>,
        id: &str,
        bundle: &serde_json::Value,
    ) -> Filed {
        let Some(desk) = self.ticket_desk() else {
            return Filed::NotConfigured;
        };
        if let Ok(row) = self.store.escalation(id).await
            && let Some(t) = row.ticket
            && let (Some(system), Some(key), Some(url)) =
                (t["system"].as_str(), t["key"].as_str(), t["url"].as_str())
        {
            return Filed::Ticket(TicketView {
                system: system.to_owned(),
                key: key.to_owned(),
                url: url.to_owned(),
            });
        }
        let (summary, description) = crate::escalation::ticket_text(bundle);
        let hand_over = HandOver {
            escalation_id: id.to_owned(),
            summary,
            description,
            requester: ctx.principal.upn.clone(),
        };
        match desk.open(&hand_over).await {
            Ok(ticket) => {
                let view = TicketView {
                    system: ticket.system.to_owned(),
                    key: ticket.key,
                    url: ticket.url,
                };
                let recorded = json!({"system": view.system, "key": view.key, "url": view.url});
                if let Err(e) = self.store.set_escalation_ticket(id, &recorded).await {
                    tracing::error!(error = %e, escalation = id, "could not record the ticket an escalation was filed as");
                }
                self.gateway
                    .note(
                        ctx,
                        RecordKind::Escalation,
                        "filed",
                        json!({"escalation": id, "ticket": recorded}),
                    )
                    .await;
                Filed::Ticket(view)
            }
            Err(e) => {
                let system = desk.system();
                tracing::warn!(error = %e, escalation = id, system, "could not file an escalation");
                let recorded = json!({"system": system, "error": e.to_string()});
                if let Err(e) = self.store.set_escalation_ticket(id, &recorded).await {
                    tracing::error!(error = %e, escalation = id, "could not record a filing failure");
                }
                self.gateway
                    .note(
                        ctx,
                        RecordKind::Escalation,
                        "notFiled",
                        json!({"escalation": id, "system": system, "error": e.to_string()}),
                    )
                    .await;
                Filed::Failed(system, e.to_string())
            }
        }
    }
}
