//! Licences: the organisation's subscriptions and their free seats, and assigning or removing a
//! licence — checked against the free seats first (none left: said so, nothing changed), with the
//! user's usage location set first when it is missing and given.

use reqwest::Method;
use serde_json::{Value, json};
use steward_domain::{ActionCall, Change};

use super::actions::{LicenseParams, parse};
use super::execute::MsGraphConnector;
use crate::{ActionResult, ConnectorError, Reconciliation, Verification};

fn free_seats(sku: &Value) -> i64 {
    sku["prepaidUnits"]["enabled"].as_i64().unwrap_or(0)
        - sku["consumedUnits"].as_i64().unwrap_or(0)
}

fn held(user: &Value) -> Vec<String> {
    user["assignedLicenses"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|l| l["skuId"].as_str())
        .map(str::to_owned)
        .collect()
}

impl MsGraphConnector {
    async fn skus(&self) -> Result<(Vec<Value>, Option<String>), ConnectorError> {
        let url = self.client.url(&["subscribedSkus"])?;
        let r = self.client.send(Method::GET, url, None).await?;
        Ok((
            r.body["value"].as_array().cloned().unwrap_or_default(),
            r.request_id,
        ))
    }

    /// The subscription `key` names (its skuId or its part number, e.g. `ENTERPRISEPACK`).
    async fn sku(&self, action: &str, key: &str) -> Result<Value, ConnectorError> {
        let (skus, _) = self.skus().await?;
        skus.into_iter()
            .find(|s| {
                s["skuId"] == key
                    || s["skuPartNumber"]
                        .as_str()
                        .is_some_and(|p| p.eq_ignore_ascii_case(key))
            })
            .ok_or_else(|| ConnectorError::Unmet {
                action: action.into(),
                reason: format!("the organisation has no licence `{key}`"),
            })
    }

    async fn user_with_licenses(&self, user: &str) -> Result<Value, ConnectorError> {
        let url = self.client.url(&["users", user])?;
        let mut url = url;
        url.query_pairs_mut().append_pair(
            "$select",
            "id,userPrincipalName,usageLocation,assignedLicenses",
        );
        Ok(self.client.send(Method::GET, url, None).await?.body)
    }

    pub(super) async fn list_skus(&self) -> Result<ActionResult, ConnectorError> {
        let (skus, request_id) = self.skus().await?;
        let items: Vec<Value> = skus
            .iter()
            .map(|s| json!({"skuId": s["skuId"], "skuPartNumber": s["skuPartNumber"], "total": s["prepaidUnits"]["enabled"], "used": s["consumedUnits"], "free": free_seats(s)}))
            .collect();
        let words: Vec<String> = skus
            .iter()
            .map(|s| {
                format!(
                    "{}: {} of {} free",
                    s["skuPartNumber"].as_str().unwrap_or("?"),
                    free_seats(s),
                    s["prepaidUnits"]["enabled"]
                )
            })
            .collect();
        Ok(ActionResult {
            summary: words.join("; "),
            output: Value::Array(items),
            before: None,
            after: None,
            platform_request_id: request_id,
        })
    }

    pub(super) async fn change_license(
        &self,
        call: &ActionCall,
        key: &str,
    ) -> Result<ActionResult, ConnectorError> {
        let name = call.action.as_str();
        let p: LicenseParams = parse(name, &call.params)?;
        let adding = name == "entra.user.assign_license";
        let sku = self.sku(name, &p.sku).await?;
        let sku_id = sku["skuId"].as_str().unwrap_or_default().to_owned();
        let part = sku["skuPartNumber"].as_str().unwrap_or(&sku_id).to_owned();
        let user = self.user_with_licenses(&p.user).await?;
        let user_id = user["id"].as_str().unwrap_or_default().to_owned();
        let who = user["userPrincipalName"]
            .as_str()
            .unwrap_or(&p.user)
            .to_owned();
        let has = held(&user).contains(&sku_id);
        if adding == has {
            return Ok(ActionResult {
                summary: format!(
                    "{who} {} {part}; nothing to change",
                    if has { "already has" } else { "does not have" }
                ),
                output: json!({"changed": false}),
                before: Some(json!({"licensed": has})),
                after: Some(json!({"licensed": has})),
                platform_request_id: None,
            });
        }
        if adding {
            let free = free_seats(&sku);
            if free <= 0 {
                return Err(ConnectorError::Unmet {
                    action: name.into(),
                    reason: format!(
                        "no {part} seats left ({} of {} in use); someone must free one or buy more",
                        sku["consumedUnits"], sku["prepaidUnits"]["enabled"]
                    ),
                });
            }
            if user["usageLocation"].as_str().is_none_or(str::is_empty) {
                let Some(location) = p.usage_location.as_deref() else {
                    return Err(ConnectorError::Unmet {
                        action: name.into(),
                        reason: format!(
                            "{who} has no usage location; a licence needs one (give usageLocation, e.g. \"US\")"
                        ),
                    });
                };
                let url = self.client.url(&["users", &user_id])?;
                self.client
                    .send_as(
                        Method::PATCH,
                        url,
                        Some(&json!({"usageLocation": location})),
                        Some(key),
                    )
                    .await?;
            }
        }
        let body = if adding {
            json!({"addLicenses": [{"skuId": sku_id, "disabledPlans": []}], "removeLicenses": []})
        } else {
            json!({"addLicenses": [], "removeLicenses": [sku_id]})
        };
        let url = self.client.url(&["users", &user_id, "assignLicense"])?;
        let r = self
            .client
            .send_as(Method::POST, url, Some(&body), Some(key))
            .await?;
        Ok(ActionResult {
            summary: if adding {
                format!(
                    "assigned {part} to {who} ({} seat(s) were free)",
                    free_seats(&sku)
                )
            } else {
                format!("removed {part} from {who}")
            },
            output: json!({"changed": true, "skuId": sku_id}),
            before: Some(json!({"licensed": has})),
            after: Some(json!({"licensed": adding})),
            platform_request_id: r.request_id,
        })
    }

    pub(super) async fn preview_license(
        &self,
        call: &ActionCall,
    ) -> Result<Vec<Change>, ConnectorError> {
        let name = call.action.as_str();
        let p: LicenseParams = parse(name, &call.params)?;
        let sku = self.sku(name, &p.sku).await?;
        let user = self.user_with_licenses(&p.user).await?;
        let has = held(&user).contains(&sku["skuId"].as_str().unwrap_or_default().to_owned());
        Ok(vec![Change {
            target: p.user,
            field: format!(
                "licence {} ({} seat(s) free)",
                sku["skuPartNumber"].as_str().unwrap_or("?"),
                free_seats(&sku)
            ),
            current: json!(has),
            proposed: json!(name == "entra.user.assign_license"),
        }])
    }

    pub(super) async fn license_state(
        &self,
        call: &ActionCall,
    ) -> Result<Reconciliation, ConnectorError> {
        let name = call.action.as_str();
        let p: LicenseParams = parse(name, &call.params)?;
        let sku = self.sku(name, &p.sku).await?;
        let user = self.user_with_licenses(&p.user).await?;
        let has = held(&user).contains(&sku["skuId"].as_str().unwrap_or_default().to_owned());
        let detail = format!(
            "{} {} {}",
            p.user,
            if has { "holds" } else { "does not hold" },
            sku["skuPartNumber"].as_str().unwrap_or("?")
        );
        Ok(Reconciliation::read(
            has == (name == "entra.user.assign_license"),
            detail,
        ))
    }

    pub(super) async fn verify_license(
        &self,
        call: &ActionCall,
    ) -> Result<Verification, ConnectorError> {
        Ok(self.license_state(call).await?.into())
    }
}
