//! Offboarding: a leaver's access closed in the order that shuts the door first (disable, sign
//! out everywhere, remove sign-in methods), then their licences freed, an automatic reply set,
//! their OneDrive handed to their manager, and their group memberships removed. Every step runs
//! even when an earlier one failed or waits, because each closes a door of its own.

use serde::{Deserialize, Serialize};
use serde_json::json;
use steward_domain::Channel;

use super::{PlaybookReport, Runner};
use crate::{AgentError, TenantRuntime};

/// Who leaves, and what their mailbox should answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Offboarding {
    /// The leaver's sign-in name or object id.
    pub user: String,
    /// The automatic reply (default: a neutral note that the person has left).
    #[serde(default)]
    pub auto_reply: Option<String>,
}

/// Sign-in methods the delete action can remove (the password stays; it dies with the account).
const REMOVABLE_METHODS: &[&str] = &[
    "#microsoft.graph.phoneAuthenticationMethod",
    "#microsoft.graph.microsoftAuthenticatorAuthenticationMethod",
    "#microsoft.graph.fido2AuthenticationMethod",
    "#microsoft.graph.softwareOathAuthenticationMethod",
    "#microsoft.graph.temporaryAccessPassAuthenticationMethod",
];

impl TenantRuntime {
    /// Runs offboarding for `plan.user` as `requester`. Fails only when the requester or the
    /// leaver cannot be identified, before anything is changed; otherwise the report says what
    /// each step did.
    pub async fn offboard(
        &self,
        requester: &str,
        channel: Channel,
        plan: &Offboarding,
    ) -> Result<PlaybookReport, AgentError> {
        let mut run = Runner::new(
            self,
            requester,
            channel,
            format!("offboarding {}", plan.user),
        )
        .await?;
        let user = run
            .read("entra.user.get", json!({"user": plan.user}))
            .await
            .map_err(|e| {
                AgentError::BadInput(format!(
                    "cannot offboard `{}`: {e}; nothing was done",
                    plan.user
                ))
            })?;
        let upn = user["userPrincipalName"]
            .as_str()
            .unwrap_or(&plan.user)
            .to_owned();
        let name = user["displayName"].as_str().unwrap_or(&upn).to_owned();
        let who = json!({"user": upn});

        run.change(format!("disable {upn}"), "entra.user.disable", who.clone())
            .await;
        run.change(
            format!("sign {upn} out everywhere"),
            "entra.user.revoke_sessions",
            who.clone(),
        )
        .await;

        match run.read("entra.user.list_auth_methods", who.clone()).await {
            Ok(methods) => {
                for m in methods.as_array().into_iter().flatten() {
                    let kind = m["type"].as_str().unwrap_or_default();
                    let description = format!(
                        "remove {}",
                        m["description"].as_str().unwrap_or("a sign-in method")
                    );
                    if REMOVABLE_METHODS.contains(&kind) {
                        run.change(
                            description,
                            "entra.user.delete_auth_method",
                            json!({"user": upn, "method": m["id"]}),
                        )
                        .await;
                    }
                }
            }
            Err(e) => run.skip(
                "remove sign-in methods".into(),
                "entra.user.delete_auth_method",
                format!("they could not be listed: {e}"),
            ),
        }

        let licences: Vec<String> = user["assignedLicenses"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|l| l["skuId"].as_str().map(str::to_owned))
            .collect();
        for sku in licences {
            run.change(
                format!("remove licence {sku}"),
                "entra.user.remove_license",
                json!({"user": upn, "sku": sku}),
            )
            .await;
        }

        let reply = plan.auto_reply.clone().unwrap_or_else(|| {
            format!("{name} no longer works here, and this mailbox is not read. Please contact the team instead.")
        });
        run.change(
            "set an automatic reply".into(),
            "exchange.auto_reply.set",
            json!({"user": upn, "message": reply}),
        )
        .await;
        run.change(
            "hand the OneDrive to their manager".into(),
            "onedrive.drive.handover_to_manager",
            who.clone(),
        )
        .await;

        match run.read("entra.user.list_groups", who.clone()).await {
            Ok(memberships) => {
                for g in memberships.as_array().into_iter().flatten() {
                    if g["@odata.type"] != "#microsoft.graph.group" {
                        continue;
                    }
                    let group_name = g["displayName"].as_str().unwrap_or("a group");
                    run.change(
                        format!("remove from {group_name}"),
                        "entra.group.remove_member",
                        json!({"group": g["id"], "user": upn}),
                    )
                    .await;
                }
            }
            Err(e) => run.skip(
                "remove from groups".into(),
                "entra.group.remove_member",
                format!("the memberships could not be listed: {e}"),
            ),
        }

        let mut notes = Vec::new();
        if !run.steps.iter().all(|s| s.status.done()) {
            notes.push(format!(
                "{upn} is not fully offboarded: finish the steps above that are not done (each is in the audit trail under this conversation)"
            ));
        }
        Ok(run.report("offboarding", upn, Vec::new(), notes))
    }
}
