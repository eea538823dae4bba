//! "Approve Always": standing approvals created from an approval, counted on use, revoked by an
//! IT admin — each step audited as a policy amendment, the policy set rebuilt with the live links.

use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::json;
use steward_audit::{AuditEntry, RecordKind};
use steward_domain::{ActionName, Principal, Target, TargetKind};
use steward_policy::{ScopeEntity, ScopeKind, StandingLink};
use steward_store::{StandingRow, TenantStore, stored_time};

use crate::{AgentError, TenantRuntime};

/// Who and what an "approve always" covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StandingScope {
    /// This requester, on the same target.
    Requester,
    /// Anyone in the requester's department, on people of that department.
    Department,
}

/// The bounds of an "approve always".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StandingTerms {
    /// Who and what.
    pub scope: StandingScope,
    /// How many uses at most.
    pub max_uses: u32,
    /// For how long.
    pub ttl: std::time::Duration,
}

fn kind_name(kind: ScopeKind) -> &'static str {
    match kind {
        ScopeKind::Person => "person",
        ScopeKind::Department => "department",
        ScopeKind::Group => "group",
    }
}

fn kind_of(name: &str) -> Option<ScopeKind> {
    match name {
        "person" => Some(ScopeKind::Person),
        "department" => Some(ScopeKind::Department),
        "group" => Some(ScopeKind::Group),
        _ => None,
    }
}

/// The live links of a tenant, as the policy engine links them (unreadable rows are skipped and
/// logged: they can only ever widen nothing).
pub(crate) async fn live_links(store: &TenantStore) -> Result<Vec<StandingLink>, AgentError> {
    let rows = store.live_standing(Utc::now()).await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            let link = StandingLink {
                action: ActionName::new(r.action.clone()).ok()?,
                principal: ScopeEntity {
                    kind: kind_of(&r.principal.0)?,
                    id: r.principal.1.clone(),
                },
                resource: ScopeEntity {
                    kind: kind_of(&r.resource.0)?,
                    id: r.resource.1.clone(),
                },
                id: r.id.clone(),
            };
            Some(link)
        })
        .collect())
}

/// The scopes of a standing approval for this requester and these targets.
pub(crate) fn scopes(
    scope: StandingScope,
    requester: &Principal,
    targets: &[Target],
) -> Result<(ScopeEntity, ScopeEntity, String), AgentError> {
    match scope {
        StandingScope::Requester => {
            let target = targets
                .iter()
                .find(|t| t.kind == TargetKind::Person)
                .ok_or_else(|| {
                    AgentError::Approval(
                        "a standing approval for one requester needs a person target".into(),
                    )
                })?;
            Ok((
                ScopeEntity {
                    kind: ScopeKind::Person,
                    id: requester.directory_id.clone(),
                },
                ScopeEntity {
                    kind: ScopeKind::Person,
                    id: target.id.clone(),
                },
                format!(
                    "{} on {}",
                    requester.upn,
                    target.upn.as_deref().unwrap_or(&target.display_name)
                ),
            ))
        }
        StandingScope::Department => {
            let department = requester.department.as_deref().ok_or_else(|| {
                AgentError::Approval(format!(
                    "{} has no department to scope the standing approval to",
                    requester.upn
                ))
            })?;
            let id = format!("{}/{department}", requester.tenant);
            let entity = ScopeEntity {
                kind: ScopeKind::Department,
                id,
            };
            Ok((
                entity.clone(),
                entity,
                format!("everyone in {department}, on people in {department}"),
            ))
        }
    }
}

impl TenantRuntime {
    /// Rebuilds the policy set in force from the current sources and the live standing approvals.
    pub(crate) async fn rebuild_policies(&self) -> Result<(), AgentError> {
        self.gateway.rebuild().await
    }

    pub(crate) async fn amend(&self, outcome: &str, detail: serde_json::Value) {
        let mut entry = AuditEntry::new(self.config.id.to_string(), RecordKind::PolicyAmendment);
        entry.outcome = Some(outcome.to_owned());
        entry.detail = detail;
        if let Err(e) = self.store.append_audit(entry).await {
            tracing::error!(error = %e, "could not audit a policy amendment");
        }
    }

    /// Proves the invariants over the set as it would be with this standing approval linked in,
    /// before anything is saved; a link that would break one is refused with the solver's
    /// counterexample. Fails closed: if the proof cannot be run, nothing is created.
    pub(crate) async fn prove_standing(
        &self,
        action: &ActionName,
        requester: &Principal,
        targets: &[Target],
        scope: StandingScope,
    ) -> Result<(), AgentError> {
        let (principal, resource, label) = scopes(scope, requester, targets)?;
        let mut links = live_links(&self.store).await?;
        links.push(StandingLink {
            id: "standing-candidate".into(),
            action: action.clone(),
            principal,
            resource,
        });
        let candidate = steward_policy::PolicyEngine::with_standing(
            &self.gateway.catalog(),
            &self.gateway.sources(),
            &links,
        )
        .map_err(AgentError::Policy)?;
        let report = steward_prove::prove(&candidate).await.map_err(|e| {
            AgentError::Approval(format!(
                "\"approve always\" needs the policy invariants proved first, and the proof could not run: {e}"
            ))
        })?;
        if let Some(v) = report.violations.first() {
            self.amend(
                "standingRefused",
                json!({"action": action, "scope": label, "invariant": v.invariant, "counterexample": v.counterexample}),
            )
            .await;
            return Err(AgentError::Approval(format!(
                "\"approve always\" for {label} is refused: with it the policies would no longer guarantee that {} (`{}`). Counterexample, a request that would be allowed:\n{}",
                v.statement, v.invariant, v.counterexample
            )));
        }
        Ok(())
    }

    /// Creates a standing approval (audited) and puts it in force. The terms and scope were
    /// checked by the caller before the approval was recorded.
    pub(crate) async fn create_standing(
        &self,
        action: &ActionName,
        requester: &Principal,
        targets: &[Target],
        approver: &Principal,
        source: &str,
        terms: StandingTerms,
    ) -> Result<String, AgentError> {
        let (principal, resource, label) = scopes(terms.scope, requester, targets)?;
        let now = Utc::now();
        let expires =
            now + chrono::Duration::from_std(terms.ttl).unwrap_or(chrono::Duration::days(1));
        let id = format!("standing-{}", uuid::Uuid::now_v7().simple());
        let row = StandingRow {
            id: id.clone(),
            action: action.to_string(),
            principal: (kind_name(principal.kind).into(), principal.id),
            resource: (kind_name(resource.kind).into(), resource.id),
            scope_label: label.clone(),
            approver: approver.upn.clone(),
            source_approval: source.to_owned(),
            created_at: stored_time(now),
            expires_at: stored_time(expires),
            max_uses: i64::from(terms.max_uses),
            uses: 0,
            revoked_at: None,
        };
        self.store.create_standing(&row).await?;
        self.amend(
            "standingCreated",
            json!({"standingApproval": id, "action": action, "scope": label, "approver": approver.upn, "maxUses": terms.max_uses, "expiresAt": row.expires_at, "sourceApproval": source}),
        )
        .await;
        self.rebuild_policies().await?;
        Ok(id)
    }

    /// Every standing approval of the tenant, live or not.
    pub async fn standing_approvals(&self) -> Result<Vec<StandingRow>, AgentError> {
        Ok(self.store.all_standing().await?)
    }

    /// Ends a standing approval at once; only an IT admin may.
    pub async fn revoke_standing(&self, id: &str, by_upn: &str) -> Result<(), AgentError> {
        let by = self.identify(by_upn).await?;
        if !by.it_admin {
            return Err(AgentError::NotAllowed(format!(
                "{} may not revoke standing approvals (members of `{}` may)",
                by.upn, self.config.it_admins_group
            )));
        }
        self.store.revoke_standing(id, &by.upn, Utc::now()).await?;
        self.amend(
            "standingRevoked",
            json!({"standingApproval": id, "by": by.upn}),
        )
        .await;
        self.rebuild_policies().await
    }
}
