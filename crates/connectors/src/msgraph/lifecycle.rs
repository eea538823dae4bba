//! A user's life in the directory: creating an account for a new starter (with a temporary
//! password to change at first sign-in, and the manager set) and setting someone's manager.

use reqwest::Method;
use serde_json::json;
use steward_domain::{ActionCall, Change};

use super::actions::{CreateUserParams, ManagerParams, ProfileParams, UserParams, parse};
use super::execute::MsGraphConnector;
use crate::{ActionResult, ConnectorError, Reconciliation, Verification};

/// A temporary password that meets Entra's complexity rules: upper and lower case, digits and a
/// symbol, from 122 random bits.
fn temporary_password() -> String {
    let raw = uuid::Uuid::new_v4().simple().to_string();
    format!(
        "Tmp-{}{}!{}",
        &raw[..6].to_uppercase(),
        &raw[6..14],
        &raw[14..18]
    )
}

impl MsGraphConnector {
    pub(super) async fn create_user(
        &self,
        call: &ActionCall,
        key: &str,
    ) -> Result<ActionResult, ConnectorError> {
        let name = call.action.as_str();
        let p: CreateUserParams = parse(name, &call.params)?;
        let nickname: String = p
            .user_principal_name
            .split('@')
            .next()
            .unwrap_or_default()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '-')
            .collect();
        let password = temporary_password();
        let mut body = json!({
            "accountEnabled": true,
            "displayName": p.display_name,
            "mailNickname": nickname,
            "userPrincipalName": p.user_principal_name,
            "passwordProfile": {"password": password, "forceChangePasswordNextSignIn": true},
        });
        for (field, value) in [
            ("department", &p.department),
            ("jobTitle", &p.job_title),
            ("usageLocation", &p.usage_location),
        ] {
            if let Some(v) = value {
                body[field] = json!(v);
            }
        }
        let url = self.client.url(&["users"])?;
        let created = self
            .client
            .send_as(Method::POST, url, Some(&body), Some(key))
            .await?;
        let id = created.body["id"].as_str().unwrap_or_default().to_owned();
        let mut summary = format!("created {} ({})", p.display_name, p.user_principal_name);
        if let Some(manager) = &p.manager {
            let (m, _) = self.get_user(manager).await?;
            let reference = format!(
                "{}/v1.0/users/{}",
                self.client.base_url(),
                m["id"].as_str().unwrap_or_default()
            );
            let url = self.client.url(&["users", &id, "manager", "$ref"])?;
            self.client
                .send_as(
                    Method::PUT,
                    url,
                    Some(&json!({"@odata.id": reference})),
                    Some(key),
                )
                .await?;
            summary.push_str(&format!(", reporting to {manager}"));
        }
        Ok(ActionResult {
            summary: format!("{summary}; they must change the temporary password at first sign-in"),
            output: json!({"userPrincipalName": p.user_principal_name, "id": id, "temporaryPassword": password}),
            before: None,
            after: Some(
                json!({"userPrincipalName": p.user_principal_name, "accountEnabled": true}),
            ),
            platform_request_id: created.request_id,
        })
    }

    /// The id of `user`'s manager, if one is set.
    async fn manager_id_of(&self, user: &str) -> Result<(String, Option<String>), ConnectorError> {
        let (u, _) = self.get_user(user).await?;
        let id = u["id"].as_str().unwrap_or_default().to_owned();
        let url = self.client.url(&["users", &id, "manager"])?;
        match self.client.send(Method::GET, url, None).await {
            Ok(r) => Ok((id, r.body["id"].as_str().map(str::to_owned))),
            Err(ConnectorError::NotFound { .. }) => Ok((id, None)),
            Err(e) => Err(e),
        }
    }

    pub(super) async fn set_manager(
        &self,
        call: &ActionCall,
        key: &str,
    ) -> Result<ActionResult, ConnectorError> {
        let p: ManagerParams = parse(call.action.as_str(), &call.params)?;
        let (user_id, before) = self.manager_id_of(&p.user).await?;
        let (m, _) = self.get_user(&p.manager).await?;
        let manager_id = m["id"].as_str().unwrap_or_default().to_owned();
        if before.as_deref() == Some(manager_id.as_str()) {
            return Ok(ActionResult {
                summary: format!(
                    "{} already reports to {}; nothing to change",
                    p.user, p.manager
                ),
                output: json!({"changed": false}),
                before: Some(json!({"manager": before})),
                after: Some(json!({"manager": manager_id})),
                platform_request_id: None,
            });
        }
        let reference = format!("{}/v1.0/users/{manager_id}", self.client.base_url());
        let url = self.client.url(&["users", &user_id, "manager", "$ref"])?;
        let r = self
            .client
            .send_as(
                Method::PUT,
                url,
                Some(&json!({"@odata.id": reference})),
                Some(key),
            )
            .await?;
        Ok(ActionResult {
            summary: format!("{} now reports to {}", p.user, p.manager),
            output: json!({"changed": true}),
            before: Some(json!({"manager": before})),
            after: Some(json!({"manager": manager_id})),
            platform_request_id: r.request_id,
        })
    }

    /// The profile fields a call sets, by their Graph names.
    fn profile_fields(p: &ProfileParams) -> serde_json::Map<String, serde_json::Value> {
        [
            ("department", &p.department),
            ("jobTitle", &p.job_title),
            ("officeLocation", &p.office_location),
            ("usageLocation", &p.usage_location),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| (k.to_owned(), json!(v))))
        .collect()
    }

    pub(super) async fn update_profile(
        &self,
        call: &ActionCall,
        key: &str,
    ) -> Result<ActionResult, ConnectorError> {
        let name = call.action.as_str();
        let p: ProfileParams = parse(name, &call.params)?;
        let fields = Self::profile_fields(&p);
        if fields.is_empty() {
            return Err(ConnectorError::BadParams {
                action: name.into(),
                reason: "name at least one field to change".into(),
            });
        }
        let (user, _) = self.get_user(&p.user).await?;
        let id = user["id"].as_str().unwrap_or_default().to_owned();
        let mut url = self.client.url(&["users", &id])?;
        url.query_pairs_mut().append_pair(
            "$select",
            "department,jobTitle,officeLocation,usageLocation",
        );
        let before = self.client.send(Method::GET, url, None).await?.body;
        let before: serde_json::Map<String, serde_json::Value> = fields
            .keys()
            .map(|k| {
                (
                    k.clone(),
                    before.get(k).cloned().unwrap_or(serde_json::Value::Null),
                )
            })
            .collect();
        let url = self.client.url(&["users", &id])?;
        let r = self
            .client
            .send_as(
                Method::PATCH,
                url,
                Some(&serde_json::Value::Object(fields.clone())),
                Some(key),
            )
            .await?;
        let words: Vec<String> = fields
            .iter()
            .map(|(k, v)| {
                format!(
                    "{k} {} → {}",
                    before.get(k).and_then(|b| b.as_str()).unwrap_or("unset"),
                    v.as_str().unwrap_or_default()
                )
            })
            .collect();
        Ok(ActionResult {
            summary: format!("updated {}: {}", p.user, words.join(", ")),
            output: json!({"changed": fields.keys().collect::<Vec<_>>()}),
            before: Some(serde_json::Value::Object(before)),
            after: Some(serde_json::Value::Object(fields)),
            platform_request_id: r.request_id,
        })
    }

    pub(super) async fn remove_manager(
        &self,
        call: &ActionCall,
        key: &str,
    ) -> Result<ActionResult, ConnectorError> {
        let p: UserParams = parse(call.action.as_str(), &call.params)?;
        let (user_id, before) = self.manager_id_of(&p.user).await?;
        if before.is_none() {
            return Ok(ActionResult {
                summary: format!("{} has no manager; nothing to change", p.user),
                output: json!({"changed": false}),
                before: Some(json!({"manager": null})),
                after: Some(json!({"manager": null})),
                platform_request_id: None,
            });
        }
        let url = self.client.url(&["users", &user_id, "manager", "$ref"])?;
        let r = self
            .client
            .send_as(Method::DELETE, url, None, Some(key))
            .await?;
        Ok(ActionResult {
            summary: format!("{} no longer has a manager", p.user),
            output: json!({"changed": true}),
            before: Some(json!({"manager": before})),
            after: Some(json!({"manager": null})),
            platform_request_id: r.request_id,
        })
    }

    pub(super) async fn preview_manager(
        &self,
        call: &ActionCall,
    ) -> Result<Vec<Change>, ConnectorError> {
        let p: ManagerParams = parse(call.action.as_str(), &call.params)?;
        let (_, before) = self.manager_id_of(&p.user).await?;
        Ok(vec![Change {
            target: p.user,
            field: "manager".into(),
            current: json!(before),
            proposed: json!(p.manager),
        }])
    }

    /// Whether the change is in effect: the account exists, or the manager is the one asked for.
    pub(super) async fn lifecycle_state(
        &self,
        call: &ActionCall,
    ) -> Result<Reconciliation, ConnectorError> {
        let name = call.action.as_str();
        if name == "entra.user.create" {
            let p: CreateUserParams = parse(name, &call.params)?;
            return Ok(match self.get_user(&p.user_principal_name).await {
                Ok(_) => Reconciliation::Applied(format!("{} exists", p.user_principal_name)),
                Err(ConnectorError::NotFound { .. }) => {
                    Reconciliation::NotApplied(format!("{} does not exist", p.user_principal_name))
                }
                Err(e) => return Err(e),
            });
        }
        if name == "entra.user.update_profile" {
            let p: ProfileParams = parse(name, &call.params)?;
            let fields = Self::profile_fields(&p);
            let (user, _) = self.get_user(&p.user).await?;
            let mut url = self
                .client
                .url(&["users", user["id"].as_str().unwrap_or_default()])?;
            url.query_pairs_mut().append_pair(
                "$select",
                "department,jobTitle,officeLocation,usageLocation",
            );
            let now = self.client.send(Method::GET, url, None).await?.body;
            let differing: Vec<&String> = fields
                .iter()
                .filter(|(k, v)| now.get(*k) != Some(*v))
                .map(|(k, _)| k)
                .collect();
            return Ok(if differing.is_empty() {
                Reconciliation::Applied(format!("{}'s profile reads the new values", p.user))
            } else {
                Reconciliation::NotApplied(format!("{}'s {:?} still differ", p.user, differing))
            });
        }
        if name == "entra.user.remove_manager" {
            let p: UserParams = parse(name, &call.params)?;
            let (_, now) = self.manager_id_of(&p.user).await?;
            return Ok(match now {
                None => Reconciliation::Applied(format!("{} has no manager", p.user)),
                Some(m) => Reconciliation::NotApplied(format!("{}'s manager reads {m}", p.user)),
            });
        }
        let p: ManagerParams = parse(name, &call.params)?;
        let (_, now) = self.manager_id_of(&p.user).await?;
        let (m, _) = self.get_user(&p.manager).await?;
        let wanted = m["id"].as_str().map(str::to_owned);
        let detail = format!(
            "{}'s manager reads {}",
            p.user,
            now.clone().unwrap_or_else(|| "none".into())
        );
        Ok(Reconciliation::read(now.is_some() && now == wanted, detail))
    }

    pub(super) async fn verify_lifecycle(
        &self,
        call: &ActionCall,
    ) -> Result<Verification, ConnectorError> {
        Ok(self.lifecycle_state(call).await?.into())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn temporary_passwords_are_complex_and_different() {
        let (a, b) = (super::temporary_password(), super::temporary_password());
        assert_ne!(a, b);
        for p in [a, b] {
            assert!(p.len() >= 16);
            assert!(p.chars().any(|c| c.is_ascii_uppercase()));
            assert!(
                p.chars().any(|c| c.is_ascii_lowercase()) || p.chars().any(|c| c.is_ascii_digit())
            );
            assert!(p.contains('!') && p.contains('-'));
        }
    }
}
