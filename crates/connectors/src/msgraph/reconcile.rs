//! After a crash: did a Graph change that was started take effect? Answered by reading the
//! target, never by calling again. A state change (enabled, a membership) is in effect when the
//! target is in the wanted state; an event (a password reset, sessions revoked) when its
//! timestamp is no older than the start of the call.

use chrono::{DateTime, Utc};
use serde_json::Value;
use steward_domain::ActionCall;

use super::actions::{MembershipParams, UserParams, parse};
use super::execute::MsGraphConnector;
use crate::{ConnectorError, Reconciliation};

/// Graph keeps these stamps to the second, and clocks differ a little.
const CLOCK_SLACK_SECONDS: i64 = 2;

impl MsGraphConnector {
    pub(super) async fn reconcile_call(
        &self,
        call: &ActionCall,
        started: DateTime<Utc>,
    ) -> Result<Reconciliation, ConnectorError> {
        let name = call.action.as_str();
        if let Some(domain) = super::execute::Domain::of(name) {
            return match domain {
                super::execute::Domain::Mailbox => self.mailbox_state(call).await,
                super::execute::Domain::Devices => self.device_state(call, Some(started)).await,
                super::execute::Domain::Teams => self.teams_state(call).await,
                super::execute::Domain::Files => self.files_state(call).await,
            };
        }
        Ok(match name {
            "entra.user.enable" | "entra.user.disable" => {
                let p: UserParams = parse(name, &call.params)?;
                let want = name == "entra.user.enable";
                let (user, _) = self.get_user(&p.user).await?;
                let got = user.get("accountEnabled").and_then(Value::as_bool);
                let detail = format!(
                    "accountEnabled of {} reads {}",
                    p.user,
                    got.map_or("nothing".into(), |b| b.to_string())
                );
                Reconciliation::read(got == Some(want), detail)
            }
            "entra.user.reset_password" | "entra.user.revoke_sessions" => {
                let p: UserParams = parse(name, &call.params)?;
                let field = if name == "entra.user.reset_password" {
                    "lastPasswordChangeDateTime"
                } else {
                    "signInSessionsValidFromDateTime"
                };
                let (user, _) = self.get_user(&p.user).await?;
                let stamp = user.get(field).and_then(Value::as_str);
                let at = stamp
                    .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                    .map(|t| t.with_timezone(&Utc));
                let detail = format!(
                    "{field} of {} reads {}; the call started {}",
                    p.user,
                    stamp.unwrap_or("nothing"),
                    started.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                );
                Reconciliation::read(
                    at.is_some_and(|t| {
                        t >= started - chrono::Duration::seconds(CLOCK_SLACK_SECONDS)
                    }),
                    detail,
                )
            }
            "entra.group.add_member" | "entra.group.remove_member" => {
                let mut p: MembershipParams = parse(name, &call.params)?;
                let want = name == "entra.group.add_member";
                p.group = self.resolve_group_id(&p.group).await?;
                let (user, _) = self.get_user(&p.user).await?;
                let id = user.get("id").and_then(Value::as_str).unwrap_or_default();
                let is_member = self
                    .group_member_ids(&p.group)
                    .await?
                    .iter()
                    .any(|m| m == id);
                let detail = format!(
                    "{} is {}a member of group {}",
                    p.user,
                    if is_member { "" } else { "not " },
                    p.group
                );
                Reconciliation::read(is_member == want, detail)
            }
            "entra.user.delete_auth_method" | "entra.user.create_tap" => {
                self.method_state(call, Some(started)).await?
            }
            "entra.risk.confirm_compromised" | "entra.risk.dismiss" => {
                self.risk_state(call).await?
            }
            "entra.user.assign_license" | "entra.user.remove_license" => {
                self.license_state(call).await?
            }
            "entra.user.create"
            | "entra.user.set_manager"
            | "entra.user.update_profile"
            | "entra.user.remove_manager" => self.lifecycle_state(call).await?,
            other => Reconciliation::Unknown(format!(
                "`{other}` leaves nothing the Graph connector can read back"
            )),
        })
    }
}
