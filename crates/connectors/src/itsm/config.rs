//! The ITSM tool a tenant files escalations in, as the configuration describes it. Secrets are
//! never in the file: each names the environment variable holding them.

use std::sync::Arc;

use serde::Deserialize;

use super::{ItsmError, Jira, ServiceNow, SysAid, TicketDesk};

/// `[tenants.itsm]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum ItsmConfig {
    /// Jira Cloud: an issue in `project`, with basic auth (account e-mail and API token).
    Jira {
        /// `https://your-domain.atlassian.net`.
        base_url: String,
        /// The account's e-mail.
        user: String,
        /// The variable holding its API token.
        token_env: String,
        /// The project key (`IT`).
        project: String,
        /// The issue type's name.
        #[serde(default = "default_issue_type")]
        issue_type: String,
        /// Take the project's open issues assigned to Steward's account as requests.
        #[serde(default)]
        intake: bool,
    },
    /// ServiceNow: an incident through the Table API, with basic auth.
    Servicenow {
        /// `https://instance.service-now.com`.
        base_url: String,
        /// The integration user.
        user: String,
        /// The variable holding its password.
        password_env: String,
        /// The assignment group's sys_id, if incidents should land in one (and where tickets
        /// Steward hands back go).
        #[serde(default)]
        assignment_group: Option<String>,
        /// Steward's own assignment group: its active incidents are taken as requests.
        #[serde(default)]
        intake_group: Option<String>,
    },
    /// SysAid: a service record, after a login that gives a session cookie.
    Sysaid {
        /// The account URL (`https://yourcompany.sysaid.com`).
        base_url: String,
        /// The API user.
        user: String,
        /// The variable holding its password.
        password_env: String,
    },
}

fn default_issue_type() -> String {
    "Task".into()
}

fn secret(system: &'static str, var: &str) -> Result<String, ItsmError> {
    std::env::var(var)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| ItsmError::Config {
            system,
            reason: format!("the environment variable `{var}` is not set"),
        })
}

impl ItsmConfig {
    /// The desk described, with its secret read from the environment now (a missing one stops
    /// the start rather than the first escalation).
    pub fn desk(&self) -> Result<Arc<dyn TicketDesk>, ItsmError> {
        Ok(match self {
            Self::Jira {
                base_url,
                user,
                token_env,
                project,
                issue_type,
                intake,
            } => Arc::new(
                Jira::new(
                    base_url,
                    user,
                    &secret("jira", token_env)?,
                    project,
                    issue_type,
                )?
                .taking_assigned(*intake),
            ),
            Self::Servicenow {
                base_url,
                user,
                password_env,
                assignment_group,
                intake_group,
            } => Arc::new(
                ServiceNow::new(
                    base_url,
                    user,
                    &secret("servicenow", password_env)?,
                    assignment_group.clone(),
                )?
                .taking_from(intake_group.clone()),
            ),
            Self::Sysaid {
                base_url,
                user,
                password_env,
            } => Arc::new(SysAid::new(
                base_url,
                user,
                &secret("sysaid", password_env)?,
            )?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_tool_is_described_by_its_kind_and_a_missing_secret_is_named() {
        let jira: ItsmConfig = serde_json::from_value(serde_json::json!({
            "kind": "jira", "base_url": "https://acme.atlassian.net", "user": "bot@acme.example",
            "token_env": "STEWARD_TEST_JIRA_TOKEN_NEVER_SET", "project": "IT"
        }))
        .unwrap();
        assert!(matches!(&jira, ItsmConfig::Jira { issue_type, .. } if issue_type == "Task"));
        let err = jira.desk().err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("STEWARD_TEST_JIRA_TOKEN_NEVER_SET"), "{err}");

        let unknown = serde_json::from_value::<ItsmConfig>(serde_json::json!({
            "kind": "zendesk", "base_url": "https://x"
        }));
        assert!(unknown.is_err());
        let extra = serde_json::from_value::<ItsmConfig>(serde_json::json!({
            "kind": "sysaid", "base_url": "https://x", "user": "u", "password_env": "P", "pasword": "oops"
        }));
        assert!(extra.is_err(), "a misspelt field is refused");
    }
}
