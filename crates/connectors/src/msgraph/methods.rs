//! Authentication methods: list a user's registered sign-in methods, remove one (an MFA reset),
//! and issue a Temporary Access Pass — with their read-backs, previews and crash reconciliation.

use chrono::{DateTime, Utc};
use reqwest::Method;
use serde_json::{Value, json};
use steward_domain::{ActionCall, Change};

use super::actions::{MethodParams, TapParams, UserParams, parse};
use super::execute::MsGraphConnector;
use crate::{ActionResult, ConnectorError, Reconciliation, Verification};

/// The collection a method of this `@odata.type` is deleted through, and a name for people.
fn kind_of(odata_type: &str) -> Option<(&'static str, &'static str)> {
    Some(match odata_type {
        "#microsoft.graph.phoneAuthenticationMethod" => ("phoneMethods", "phone"),
        "#microsoft.graph.microsoftAuthenticatorAuthenticationMethod" => {
            ("microsoftAuthenticatorMethods", "Microsoft Authenticator")
        }
        "#microsoft.graph.fido2AuthenticationMethod" => ("fido2Methods", "security key"),
        "#microsoft.graph.softwareOathAuthenticationMethod" => {
            ("softwareOathMethods", "authenticator app code")
        }
        "#microsoft.graph.temporaryAccessPassAuthenticationMethod" => {
            ("temporaryAccessPassMethods", "Temporary Access Pass")
        }
        _ => return None,
    })
}

/// One method for people: its kind and what identifies it (a device name, a masked number).
fn describe(method: &Value) -> String {
    let t = method["@odata.type"].as_str().unwrap_or_default();
    let kind = match t {
        "#microsoft.graph.passwordAuthenticationMethod" => "password",
        "#microsoft.graph.emailAuthenticationMethod" => "e-mail",
        "#microsoft.graph.windowsHelloForBusinessAuthenticationMethod" => "Windows Hello",
        other => kind_of(other).map_or("other", |(_, k)| k),
    };
    let detail = ["displayName", "phoneNumber", "model"]
        .iter()
        .find_map(|k| method.get(*k).and_then(Value::as_str))
        .map(|d| format!(" ({d})"))
        .unwrap_or_default();
    format!("{kind}{detail}")
}

impl MsGraphConnector {
    /// The user's registered methods (Graph never returns a secret in this list).
    async fn methods_of(
        &self,
        user: &str,
    ) -> Result<(String, Vec<Value>, Option<String>), ConnectorError> {
        let (u, _) = self.get_user(user).await?;
        let id = u["id"].as_str().unwrap_or_default().to_owned();
        let url = self
            .client
            .url(&["users", &id, "authentication", "methods"])?;
        let r = self.client.send(Method::GET, url, None).await?;
        let methods = r.body["value"].as_array().cloned().unwrap_or_default();
        Ok((id, methods, r.request_id))
    }

    pub(super) async fn list_methods(
        &self,
        call: &ActionCall,
    ) -> Result<ActionResult, ConnectorError> {
        let p: UserParams = parse(call.action.as_str(), &call.params)?;
        let (_, methods, request_id) = self.methods_of(&p.user).await?;
        let items: Vec<Value> = methods
            .iter()
            .map(|m| json!({"id": m["id"], "type": m["@odata.type"], "description": describe(m), "createdDateTime": m["createdDateTime"]}))
            .collect();
        let names: Vec<String> = methods.iter().map(describe).collect();
        Ok(ActionResult {
            summary: format!("{} method(s): {}", methods.len(), names.join(", ")),
            output: Value::Array(items),
            before: None,
            after: None,
            platform_request_id: request_id,
        })
    }

    pub(super) async fn delete_method(
        &self,
        call: &ActionCall,
        key: &str,
    ) -> Result<ActionResult, ConnectorError> {
        let name = call.action.as_str();
        let p: MethodParams = parse(name, &call.params)?;
        let (user_id, methods, _) = self.methods_of(&p.user).await?;
        let method = methods
            .iter()
            .find(|m| m["id"] == p.method.as_str())
            .ok_or_else(|| ConnectorError::BadParams {
                action: name.into(),
                reason: format!("{} has no sign-in method `{}`", p.user, p.method),
            })?;
        let (collection, _) = kind_of(method["@odata.type"].as_str().unwrap_or_default())
            .ok_or_else(|| ConnectorError::BadParams {
                action: name.into(),
                reason: format!(
                    "`{}` is a {}, which is not removed this way (a password is reset instead)",
                    p.method,
                    describe(method)
                ),
            })?;
        let url = self
            .client
            .url(&["users", &user_id, "authentication", collection, &p.method])?;
        let r = self
            .client
            .send_as(Method::DELETE, url, None, Some(key))
            .await?;
        Ok(ActionResult {
            summary: format!("removed {}'s {}", p.user, describe(method)),
            output: json!({"removed": p.method}),
            before: Some(json!({"method": describe(method), "id": p.method})),
            after: None,
            platform_request_id: r.request_id,
        })
    }

    pub(super) async fn create_tap(
        &self,
        call: &ActionCall,
        key: &str,
    ) -> Result<ActionResult, ConnectorError> {
        let p: TapParams = parse(call.action.as_str(), &call.params)?;
        let (u, _) = self.get_user(&p.user).await?;
        let id = u["id"].as_str().unwrap_or_default().to_owned();
        let url =
            self.client
                .url(&["users", &id, "authentication", "temporaryAccessPassMethods"])?;
        let lifetime = p.lifetime_minutes.unwrap_or(60);
        let body =
            json!({"lifetimeInMinutes": lifetime, "isUsableOnce": p.usable_once.unwrap_or(true)});
        let r = self
            .client
            .send_as(Method::POST, url, Some(&body), Some(key))
            .await?;
        Ok(ActionResult {
            summary: format!(
                "issued a Temporary Access Pass for {} (valid {lifetime} minutes{})",
                p.user,
                if r.body["isUsableOnce"] == true {
                    ", one sign-in"
                } else {
                    ""
                }
            ),
            output: json!({
                "temporaryAccessPass": r.body["temporaryAccessPass"],
                "methodId": r.body["id"],
                "startDateTime": r.body["startDateTime"],
                "lifetimeInMinutes": r.body["lifetimeInMinutes"],
            }),
            before: None,
            after: Some(json!({"temporaryAccessPass": "registered"})),
            platform_request_id: r.request_id,
        })
    }

    pub(super) async fn preview_method(
        &self,
        call: &ActionCall,
    ) -> Result<Vec<Change>, ConnectorError> {
        let name = call.action.as_str();
        if name == "entra.user.create_tap" {
            let p: TapParams = parse(name, &call.params)?;
            let (_, methods, _) = self.methods_of(&p.user).await?;
            let current = methods.iter().any(|m| {
                m["@odata.type"] == "#microsoft.graph.temporaryAccessPassAuthenticationMethod"
            });
            return Ok(vec![Change {
                target: p.user,
                field: "Temporary Access Pass".into(),
                current: json!(if current { "one is registered" } else { "none" }),
                proposed: json!(format!(
                    "a pass valid {} minutes",
                    p.lifetime_minutes.unwrap_or(60)
                )),
            }]);
        }
        let p: MethodParams = parse(name, &call.params)?;
        let (_, methods, _) = self.methods_of(&p.user).await?;
        let current = methods
            .iter()
            .find(|m| m["id"] == p.method.as_str())
            .map_or_else(|| "not registered".to_owned(), describe);
        Ok(vec![Change {
            target: p.user,
            field: "sign-in method".into(),
            current: json!(current),
            proposed: json!("removed"),
        }])
    }

    pub(super) async fn verify_method(
        &self,
        call: &ActionCall,
    ) -> Result<Verification, ConnectorError> {
        Ok(self.method_state(call, None).await?.into())
    }

    /// Whether the method change is in effect; for a pass, one created since `since`.
    pub(super) async fn method_state(
        &self,
        call: &ActionCall,
        since: Option<DateTime<Utc>>,
    ) -> Result<Reconciliation, ConnectorError> {
        let name = call.action.as_str();
        if name == "entra.user.create_tap" {
            let p: TapParams = parse(name, &call.params)?;
            let (_, methods, _) = self.methods_of(&p.user).await?;
            let fresh = methods.iter().find(|m| {
                m["@odata.type"] == "#microsoft.graph.temporaryAccessPassAuthenticationMethod"
                    && m["isUsable"] != false
                    && since.is_none_or(|s| {
                        m["createdDateTime"]
                            .as_str()
                            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                            .is_some_and(|t| t >= s - chrono::Duration::seconds(2))
                    })
            });
            return Ok(match fresh {
                Some(_) => Reconciliation::Applied(format!(
                    "{} has a usable Temporary Access Pass",
                    p.user
                )),
                None => Reconciliation::NotApplied(format!(
                    "{} has no new Temporary Access Pass",
                    p.user
                )),
            });
        }
        let p: MethodParams = parse(name, &call.params)?;
        let (_, methods, _) = self.methods_of(&p.user).await?;
        Ok(if methods.iter().any(|m| m["id"] == p.method.as_str()) {
            Reconciliation::NotApplied(format!("{} still has method {}", p.user, p.method))
        } else {
            Reconciliation::Applied(format!("{} no longer has method {}", p.user, p.method))
        })
    }
}
