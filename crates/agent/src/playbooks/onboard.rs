//! Onboarding: a new starter's account (with manager and a temporary password), then their
//! groups and licences. Everything after the account needs the account, so when it cannot be
//! created the rest is reported as not attempted.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use steward_domain::Channel;

use super::{PlaybookReport, Runner};
use crate::{AgentError, TenantRuntime};

/// A new starter.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Onboarding {
    /// The name people see, e.g. "Priya Raman".
    pub display_name: String,
    /// The sign-in name, in one of the organisation's domains.
    pub user_principal_name: String,
    /// Department.
    #[serde(default)]
    pub department: Option<String>,
    /// Job title.
    #[serde(default)]
    pub job_title: Option<String>,
    /// Usage location (ISO country code), needed for licences.
    #[serde(default)]
    pub usage_location: Option<String>,
    /// The manager's sign-in name or object id.
    #[serde(default)]
    pub manager: Option<String>,
    /// Groups (and teams) to join: object ids or exact names.
    #[serde(default)]
    pub groups: Vec<String>,
    /// Licences to assign: skuIds or part numbers (e.g. `ENTERPRISEPACK`).
    #[serde(default)]
    pub licences: Vec<String>,
}

impl TenantRuntime {
    /// Runs onboarding as `requester`. Fails only when the requester cannot be identified;
    /// otherwise the report says what each step did, and the temporary password goes to the
    /// requester alone when they may see it (an IT admin).
    pub async fn onboard(
        &self,
        requester: &str,
        channel: Channel,
        plan: &Onboarding,
    ) -> Result<PlaybookReport, AgentError> {
        let upn = plan.user_principal_name.trim().to_lowercase();
        let mut run = Runner::new(self, requester, channel, format!("onboarding {upn}")).await?;
        let mut account = json!({
            "displayName": plan.display_name,
            "userPrincipalName": upn,
        });
        for (key, value) in [
            ("department", &plan.department),
            ("jobTitle", &plan.job_title),
            ("usageLocation", &plan.usage_location),
            ("manager", &plan.manager),
        ] {
            if let Some(v) = value {
                account[key] = json!(v);
            }
        }
        let created = run
            .change(
                format!("create the account {upn}"),
                "entra.user.create",
                account,
            )
            .await;
        let mut secrets = Vec::new();
        let mut notes = Vec::new();
        let Some(created) = created else {
            for group in &plan.groups {
                run.skip(
                    format!("add to {group}"),
                    "entra.group.add_member",
                    "the account was not created".into(),
                );
            }
            for sku in &plan.licences {
                run.skip(
                    format!("assign licence {sku}"),
                    "entra.user.assign_license",
                    "the account was not created".into(),
                );
            }
            return Ok(run.report("onboarding", upn, secrets, notes));
        };
        if let Some(password) = created["temporaryPassword"].as_str()
            && run.principal().it_admin
        {
            secrets.push((
                format!(
                    "Temporary password for {upn} (shown once; to be changed at first sign-in)"
                ),
                password.to_owned(),
            ));
            notes.push(format!(
                "welcome {}: give them their sign-in name {upn} and the temporary password in person or by phone, never by e-mail",
                plan.display_name
            ));
        }
        for group in &plan.groups {
            run.change(
                format!("add to {group}"),
                "entra.group.add_member",
                json!({"group": group, "user": upn}),
            )
            .await;
        }
        for sku in &plan.licences {
            let mut params = json!({"user": upn, "sku": sku});
            if let Some(loc) = &plan.usage_location {
                params["usageLocation"] = Value::String(loc.clone());
            }
            run.change(
                format!("assign licence {sku}"),
                "entra.user.assign_license",
                params,
            )
            .await;
        }
        Ok(run.report("onboarding", upn, secrets, notes))
    }
}
