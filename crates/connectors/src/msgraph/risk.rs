//! Identity Protection's risky users: list them, confirm one compromised, dismiss their risk —
//! with the read-back of the user's risk state and crash reconciliation.

use reqwest::Method;
use serde_json::{Value, json};
use steward_domain::ActionCall;

use super::actions::{RiskListParams, UserParams, parse};
use super::execute::MsGraphConnector;
use crate::{ActionResult, ConnectorError, Reconciliation, Verification};

/// The risk state each change leaves the user in.
fn wanted_state(action: &str) -> &'static str {
    if action == "entra.risk.confirm_compromised" {
        "confirmedCompromised"
    } else {
        "dismissed"
    }
}

impl MsGraphConnector {
    pub(super) async fn list_risky(
        &self,
        call: &ActionCall,
    ) -> Result<ActionResult, ConnectorError> {
        let p: RiskListParams = parse(call.action.as_str(), &call.params)?;
        let url = self.client.url(&["identityProtection", "riskyUsers"])?;
        let (all, request_id) = self.client.get_all(url, 10_000).await?;
        let at_risk_only = p.at_risk_only.unwrap_or(true);
        let items: Vec<Value> = all
            .into_iter()
            .filter(|r| !at_risk_only || r["riskState"] == "atRisk" || r["riskState"] == "confirmedCompromised")
            .map(|r| json!({"user": r["userPrincipalName"], "id": r["id"], "riskLevel": r["riskLevel"], "riskState": r["riskState"], "riskDetail": r["riskDetail"], "riskLastUpdatedDateTime": r["riskLastUpdatedDateTime"]}))
            .collect();
        let names: Vec<String> = items
            .iter()
            .map(|r| {
                format!(
                    "{} ({} risk, {})",
                    r["user"].as_str().unwrap_or("?"),
                    r["riskLevel"].as_str().unwrap_or("?"),
                    r["riskState"].as_str().unwrap_or("?")
                )
            })
            .collect();
        Ok(ActionResult {
            summary: if items.is_empty() {
                "no risky users".into()
            } else {
                format!("{} risky user(s): {}", items.len(), names.join(", "))
            },
            output: Value::Array(items),
            before: None,
            after: None,
            platform_request_id: request_id,
        })
    }

    /// The user's risk entry, if Identity Protection has one.
    async fn risk_of(&self, user_id: &str) -> Result<Option<Value>, ConnectorError> {
        let url = self
            .client
            .url(&["identityProtection", "riskyUsers", user_id])?;
        match self.client.send(Method::GET, url, None).await {
            Ok(r) => Ok(Some(r.body)),
            Err(ConnectorError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub(super) async fn set_risk(
        &self,
        call: &ActionCall,
        key: &str,
    ) -> Result<ActionResult, ConnectorError> {
        let name = call.action.as_str();
        let p: UserParams = parse(name, &call.params)?;
        let (user, _) = self.get_user(&p.user).await?;
        let id = user["id"].as_str().unwrap_or_default().to_owned();
        let before = self.risk_of(&id).await?;
        let verb = if name == "entra.risk.confirm_compromised" {
            "confirmCompromised"
        } else {
            "dismiss"
        };
        let url = self
            .client
            .url(&["identityProtection", "riskyUsers", verb])?;
        let r = self
            .client
            .send_as(
                Method::POST,
                url,
                Some(&json!({"userIds": [id]})),
                Some(key),
            )
            .await?;
        let who = user["userPrincipalName"].as_str().unwrap_or(&p.user);
        Ok(ActionResult {
            summary: if verb == "dismiss" {
                format!("dismissed {who}'s risk")
            } else {
                format!(
                    "confirmed {who}'s account compromised; risk-based Conditional Access now treats it as high risk"
                )
            },
            output: json!({"riskState": wanted_state(name)}),
            before: Some(
                json!({"riskState": before.as_ref().map(|b| b["riskState"].clone()), "riskLevel": before.as_ref().map(|b| b["riskLevel"].clone())}),
            ),
            after: Some(json!({"riskState": wanted_state(name)})),
            platform_request_id: r.request_id,
        })
    }

    /// Whether the user's risk state is what the change sets.
    pub(super) async fn risk_state(
        &self,
        call: &ActionCall,
    ) -> Result<Reconciliation, ConnectorError> {
        let name = call.action.as_str();
        let p: UserParams = parse(name, &call.params)?;
        let (user, _) = self.get_user(&p.user).await?;
        let id = user["id"].as_str().unwrap_or_default().to_owned();
        let now = self.risk_of(&id).await?;
        let state = now
            .as_ref()
            .and_then(|r| r["riskState"].as_str())
            .unwrap_or("none")
            .to_owned();
        let detail = format!("{}'s risk state reads {state}", p.user);
        Ok(Reconciliation::read(state == wanted_state(name), detail))
    }

    pub(super) async fn preview_risk(
        &self,
        call: &ActionCall,
    ) -> Result<Vec<steward_domain::Change>, ConnectorError> {
        let name = call.action.as_str();
        let p: UserParams = parse(name, &call.params)?;
        let (user, _) = self.get_user(&p.user).await?;
        let id = user["id"].as_str().unwrap_or_default().to_owned();
        let now = self.risk_of(&id).await?;
        Ok(vec![steward_domain::Change {
            target: p.user,
            field: "risk state".into(),
            current: json!(
                now.as_ref()
                    .and_then(|r| r["riskState"].as_str())
                    .unwrap_or("none")
            ),
            proposed: json!(wanted_state(name)),
        }])
    }

    pub(super) async fn verify_risk(
        &self,
        call: &ActionCall,
    ) -> Result<Verification, ConnectorError> {
        Ok(self.risk_state(call).await?.into())
    }
}
