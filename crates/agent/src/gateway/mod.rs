//! The action gateway: the only code path that can change anything outside Steward.

mod audit;
mod bulk;
mod counters;
pub(crate) mod intents;
mod outcome;
mod plan;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};

use chrono::{Timelike, Utc};
use serde_json::{Value, json};
use steward_audit::{AuditEntry, RecordKind, redact};
use steward_connectors::{Connector, ConnectorError, Reconciliation, Verification};
use steward_domain::{
    ActionCall, ActionSpec, ApprovalId, Decision, Outcome, Principal, Target, TargetKind,
};
use steward_policy::{ApprovalContext, DecisionRequest, PolicyEngine, PolicySource};
use steward_store::{IntentStatus, TenantStore};

use crate::runtime::TenantConfig;
use audit::CallAudit;
pub use outcome::{CallContext, CallKind, GatewayOutcome, TurnKeys};
pub use plan::PlannedChange;

/// The employee channel's grant as connected, and its grants in other systems by name.
type EmployeeParts = (
    Option<Arc<dyn Connector>>,
    Vec<(String, Arc<dyn Connector>)>,
);

/// The gateway of one tenant. It alone holds the tenant's connector.
pub struct Gateway {
    tenant: String,
    store: TenantStore,
    /// The policy set in force; replaced whole on reload, read once per decision.
    policy: RwLock<Arc<PolicyEngine>>,
    /// The policy files the set in force was built from (kept to rebuild it when standing
    /// approvals change).
    sources: RwLock<Vec<PolicySource>>,
    /// A candidate set decided beside the enforced one; differences are recorded, never enforced.
    shadow: RwLock<Option<Arc<PolicyEngine>>>,
    connector: Arc<dyn Connector>,
    /// The employee channel's own grant: what self-service acts with (never the administrator's
    /// grant). `None`: none connected, so self-service reads and changes are refused.
    employee: RwLock<Option<Arc<dyn Connector>>>,
    /// The employee channel's grant as connected, and its grants in the other systems: the
    /// employee connector is rebuilt from both whenever either changes.
    employee_parts: RwLock<EmployeeParts>,
    /// The connector's actions; read again when a system is attached (an accepted import).
    catalog: RwLock<HashMap<String, ActionSpec>>,
    protected: HashSet<String>,
    /// The group whose members Steward treats as IT admins: joining it is an elevation, so it is
    /// a privileged target like a role-assignable group.
    it_admins_group: String,
    utc_offset_minutes: i32,
    /// How long a started change is its process's to finish before it counts as in doubt.
    intent_lease: std::time::Duration,
}

fn catalog_of(connector: &dyn Connector) -> HashMap<String, ActionSpec> {
    connector
        .catalog()
        .into_iter()
        .map(|s| (s.name.to_string(), s))
        .collect()
}

fn denial(reason: String, hash: &str) -> Decision {
    Decision {
        outcome: Outcome::Deny,
        deciding: Vec::new(),
        gates: Vec::new(),
        reason,
        errors: Vec::new(),
        policy_set_hash: hash.to_owned(),
    }
}

impl Gateway {
    pub(crate) fn new(
        config: &TenantConfig,
        store: TenantStore,
        policy: PolicyEngine,
        sources: Vec<PolicySource>,
        connector: Arc<dyn Connector>,
    ) -> Self {
        let catalog = RwLock::new(catalog_of(connector.as_ref()));
        Self {
            tenant: config.id.to_string(),
            store,
            policy: RwLock::new(Arc::new(policy)),
            sources: RwLock::new(sources),
            shadow: RwLock::new(None),
            connector,
            employee: RwLock::new(None),
            employee_parts: RwLock::new((None, Vec::new())),
            catalog,
            protected: config
                .protected_identities
                .iter()
                .map(|u| u.to_lowercase())
                .collect(),
            it_admins_group: config.it_admins_group.to_lowercase(),
            utc_offset_minutes: config.utc_offset_minutes,
            intent_lease: config.intent_lease,
        }
    }

    /// The policy set in force now (a snapshot: a reload does not change it under a caller).
    pub fn policy(&self) -> Arc<PolicyEngine> {
        self.policy
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// The policy files in force.
    pub(crate) fn sources(&self) -> Vec<PolicySource> {
        self.sources
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Puts a new set in force together with the files it was built from.
    pub(crate) fn replace_policy_and_sources(
        &self,
        engine: PolicyEngine,
        sources: Vec<PolicySource>,
    ) {
        *self
            .sources
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = sources;
        self.replace_policy(engine);
    }

    /// The candidate set running in shadow mode, if any.
    pub fn shadow_policy(&self) -> Option<Arc<PolicyEngine>> {
        self.shadow
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Starts (or, with `None`, stops) shadow mode.
    pub(crate) fn replace_shadow(&self, engine: Option<PolicyEngine>) {
        *self
            .shadow
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = engine.map(Arc::new);
    }

    /// Puts a new, already validated policy set in force for every later decision.
    pub(crate) fn replace_policy(&self, engine: PolicyEngine) {
        *self
            .policy
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(engine);
    }

    /// Connects (or, with `None`, disconnects) the employee channel's own grant.
    pub(crate) fn set_employee_connector(&self, connector: Option<Arc<dyn Connector>>) {
        let mut parts = self
            .employee_parts
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        parts.0 = connector;
        self.rebuild_employee(&parts);
    }

    /// Connects the employee channel's own grant in another system (Okta).
    pub(crate) fn attach_employee_system(&self, system: &str, connector: Arc<dyn Connector>) {
        let mut parts = self
            .employee_parts
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        parts.1.retain(|(s, _)| s != system);
        parts.1.push((system.to_owned(), connector));
        self.rebuild_employee(&parts);
    }

    fn rebuild_employee(&self, parts: &EmployeeParts) {
        let built: Option<Arc<dyn Connector>> = parts.0.clone().map(|base| {
            let router = steward_connectors::SystemRouter::new(base);
            for (system, connector) in &parts.1 {
                router.attach(system, connector.clone());
            }
            Arc::new(router) as Arc<dyn Connector>
        });
        *self
            .employee
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = built;
    }

    /// Whose grant a call acts with. An IT admin's request, and anything a human approved (once
    /// or through a standing approval), acts with the administrator's grant; every other
    /// request — self-service — with the employee channel's own grant, or not at all.
    fn acting_for(
        &self,
        ctx: &CallContext<'_>,
        decision: &Decision,
        approved: bool,
    ) -> Result<Arc<dyn Connector>, String> {
        if ctx.principal.it_admin || approved || self.policy().standing_link_of(decision).is_some()
        {
            return Ok(self.connector.clone());
        }
        self.employee
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
            .ok_or_else(|| {
                "the employee channel has no grant of its own, so Steward cannot act on self-service requests: an administrator must connect one (`steward connect --for employees`); Steward never uses an administrator's grant instead".to_owned()
            })
    }

    /// The connected system (for reconciling changes left in doubt).
    pub(crate) fn connector(&self) -> &dyn Connector {
        self.connector.as_ref()
    }

    /// One action of the catalog.
    pub(crate) fn spec(&self, action: &steward_domain::ActionName) -> Option<ActionSpec> {
        self.catalog
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(action.as_str())
            .cloned()
    }

    /// Reads the connector's catalog again (after a system was attached to it).
    pub(crate) fn refresh_catalog(&self) {
        *self
            .catalog
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) =
            catalog_of(self.connector.as_ref());
    }

    /// The action catalog.
    pub fn catalog(&self) -> Vec<ActionSpec> {
        let mut specs: Vec<ActionSpec> = self
            .catalog
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .values()
            .cloned()
            .collect();
        specs.sort_by(|a, b| a.name.cmp(&b.name));
        specs
    }

    /// A directory read made while identifying a caller (intake), before any conversation.
    /// Whose delegated grants the gateway acts with: the administrator's, and the employee
    /// channel's when connected (read now; `Err` text when it cannot be read).
    pub(crate) async fn grants(
        &self,
    ) -> (
        (String, Vec<String>),
        Option<Result<(String, Vec<String>), String>>,
    ) {
        let admin = self.connector.acting_as();
        let employee = self
            .employee
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        let employee = match employee {
            Some(c) => Some(c.acting_as_now().await.map_err(|e| e.to_string())),
            None => None,
        };
        (admin, employee)
    }

    pub(crate) async fn resolve_for_intake(
        &self,
        kind: TargetKind,
        key: &str,
    ) -> Result<Target, ConnectorError> {
        self.connector
            .resolve_for(None, kind, key)
            .await
            .map(|t| self.mark_protected(t))
    }

    fn mark_protected(&self, mut target: Target) -> Target {
        if target
            .upn
            .as_ref()
            .is_some_and(|u| self.protected.contains(&u.to_lowercase()))
        {
            target.protected = true;
        }
        if target.kind == TargetKind::Group
            && target.display_name.to_lowercase() == self.it_admins_group
        {
            target.privileged = true;
        }
        target
    }

    /// The hour of day in the tenant's time zone.
    pub(crate) fn local_hour(&self) -> i64 {
        let local = Utc::now() + chrono::Duration::minutes(i64::from(self.utc_offset_minutes));
        i64::from(local.hour())
    }

    /// The targets read again from the directory (a manager or a role may have changed since
    /// they were captured); a target that can no longer be read keeps its captured facts.
    pub(crate) async fn refresh_targets(&self, targets: &[Target]) -> Vec<Target> {
        let mut fresh = Vec::with_capacity(targets.len());
        for t in targets {
            if t.kind == TargetKind::Tenant {
                fresh.push(t.clone());
                continue;
            }
            match self.connector.resolve(t.kind, &t.id).await {
                Ok(r) => fresh.push(self.mark_protected(r)),
                Err(_) => fresh.push(t.clone()),
            }
        }
        fresh
    }

    /// Steps 1–2: schema and targets.
    async fn prepare(&self, call: &ActionCall) -> Result<(ActionSpec, Vec<Target>), String> {
        let spec = self
            .spec(&call.action)
            .ok_or_else(|| format!("`{}` is not an action Steward offers", call.action))?;
        spec.validate_params(&call.params)
            .map_err(|e| e.to_string())?;
        let mut targets = Vec::new();
        for tp in &spec.targets {
            let key = call
                .params
                .get(&tp.param)
                .and_then(Value::as_str)
                .ok_or_else(|| format!("`{}` names no `{}`", call.action, tp.param))?;
            let target = self
                .connector
                .resolve_for(Some(call.action.as_str()), tp.kind, key)
                .await
                .map_err(|e| match e {
                    ConnectorError::NotFound { .. } => format!(
                        "there is no {} `{key}` in the directory",
                        kind_name(tp.kind).to_lowercase()
                    ),
                    other => other.to_string(),
                })?;
            targets.push(self.mark_protected(target));
        }
        if targets.is_empty() {
            targets.push(Target {
                kind: TargetKind::Tenant,
                id: self.tenant.clone(),
                display_name: format!("the {} directory", self.tenant),
                upn: None,
                department: None,
                groups: Vec::new(),
                privileged: false,
                protected: false,
                manager: None,
                owner: None,
            });
        }
        Ok((spec, targets))
    }

    /// Steps 3–4 with the policy set in force.
    fn decide(
        &self,
        ctx: &CallContext<'_>,
        spec: &ActionSpec,
        targets: &[Target],
        approval: ApprovalContext,
        recent_count: i64,
    ) -> Decision {
        self.decide_with(&self.policy(), ctx, spec, targets, approval, recent_count)
    }

    /// Steps 3–4: the self-service scope and the policy decision over every target.
    fn decide_with(
        &self,
        policy: &PolicyEngine,
        ctx: &CallContext<'_>,
        spec: &ActionSpec,
        targets: &[Target],
        approval: ApprovalContext,
        recent_count: i64,
    ) -> Decision {
        let base = DecisionRequest {
            principal: ctx.principal,
            action: &spec.name,
            target: &targets[0],
            channel: ctx.channel,
            blast_radius: ctx
                .blast_radius
                .unwrap_or_else(|| i64::try_from(targets.len()).unwrap_or(i64::MAX)),
            risk: spec.risk.score(),
            local_hour: self.local_hour(),
            recent_count,
            approval,
        };
        let decision = policy.decide_all(&base, targets);
        // Backstop in code, whatever the policies say: self-service never changes another
        // person, and never reads another person's private data.
        let foreign = targets
            .iter()
            .find(|t| t.kind == TargetKind::Person && t.id != ctx.principal.directory_id);
        let public_read = !spec.mutating && spec.risk == steward_domain::Risk::Low;
        if !ctx.principal.it_admin
            && decision.outcome != Outcome::Deny
            && !public_read
            && let Some(t) = foreign
        {
            return denial(
                format!(
                    "self-service may only act on the requester's own account, and {} is someone else",
                    t.display_name
                ),
                policy.policy_set_hash(),
            );
        }
        if targets.iter().any(|t| t.protected) && spec.mutating && decision.outcome != Outcome::Deny
        {
            return denial(
                "a protected identity is never a target".into(),
                policy.policy_set_hash(),
            );
        }
        decision
    }

    /// Runs one call through all eight steps. Never panics and never calls the connector's
    /// mutating entry point unless the decision is auto and the intent is committed.
    pub async fn call(
        &self,
        ctx: &CallContext<'_>,
        call: &ActionCall,
        kind: CallKind,
    ) -> GatewayOutcome {
        let mut audit = CallAudit::new(self, ctx, call);
        // Self-service is recorded from its first record as the employee channel's grant's.
        if !ctx.principal.it_admin {
            let employee = self
                .employee
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .clone();
            let actor = match employee {
                Some(c) => c.acting_as_for(call.action.as_str()).await.ok(),
                None => None,
            };
            audit.act_as(
                actor.unwrap_or_else(|| ("the employee channel (no grant)".into(), Vec::new())),
            );
        }
        let (spec, targets) = match self.prepare(call).await {
            Ok(p) => p,
            Err(error) => return audit.invalid(error).await,
        };
        // The set the decision is made with: a standing approval's last use rebuilds the set in
        // force, and whether a human's standing approval decided must still be known after.
        let deciding_set = self.policy();
        let decision = match self
            .decide_recorded(&mut audit, ctx, &spec, &targets, kind)
            .await
        {
            Ok(d) => d,
            Err((decision, error)) => return audit.fail(Some(*decision), targets, error),
        };
        let approved_standing = deciding_set.standing_link_of(&decision).is_some();
        match decision.outcome {
            Outcome::Deny => GatewayOutcome::Denied {
                decision,
                targets,
                audit_ids: audit.ids,
            },
            Outcome::Ask => {
                let approval_id = ctx
                    .turn
                    .map_or_else(ApprovalId::new, |t| ApprovalId(t.next_id(call)));
                let preview = match self.connector.preview(call).await {
                    Ok(changes) => changes,
                    Err(e) => {
                        tracing::warn!(error = %e, action = %call.action, "could not read the preview of a change");
                        Vec::new()
                    }
                };
                let policy = self.policy();
                let refused = policy.approve_always_refusal(&decision);
                let rule = policy.standing_template_text(&spec.name);
                let request = crate::approvals::ApprovalRequest::new(
                    approval_id,
                    ctx,
                    call,
                    &spec,
                    &targets,
                    &decision,
                    preview,
                )
                .approve_always(refused, rule);
                let payload = serde_json::to_value(&request).unwrap_or(Value::Null);
                if let Err(e) = self
                    .store
                    .create_approval(
                        approval_id,
                        ctx.conversation,
                        &ctx.principal.upn,
                        call.action.as_str(),
                        &payload,
                    )
                    .await
                {
                    let error = format!("could not persist the approval request: {e}");
                    return audit.fail(Some(decision), targets, error);
                }
                let detail = json!({"approvalId": approval_id, "reason": decision.reason});
                let _ = audit
                    .write(
                        RecordKind::ApprovalRequested,
                        &targets,
                        "pending",
                        detail,
                        None,
                    )
                    .await;
                GatewayOutcome::NeedsApproval {
                    approval_id,
                    decision,
                    targets,
                    audit_ids: audit.ids,
                }
            }
            Outcome::Auto => {
                let key = ctx
                    .turn
                    .map_or_else(|| uuid::Uuid::now_v7().to_string(), |t| t.next_key(call));
                self.execute(audit, &spec, targets, decision, &key, approved_standing)
                    .await
            }
        }
    }

    /// Steps 3–4 of one call, recorded: the rate counters reserved, the decision made (with a
    /// standing approval's use counted), the decision audited and the shadow set consulted. An
    /// `Err` carries the decision that could not be recorded: it must not be acted on.
    async fn decide_recorded(
        &self,
        audit: &mut CallAudit<'_>,
        ctx: &CallContext<'_>,
        spec: &ActionSpec,
        targets: &[Target],
        kind: CallKind,
    ) -> Result<Decision, (Box<Decision>, String)> {
        let (decision, counted) = if kind == CallKind::Investigate && spec.mutating {
            let reason = format!(
                "`{}` changes things and cannot be run as an investigation",
                spec.name
            );
            (
                denial(reason, self.policy().policy_set_hash()),
                counters::Counted::default(),
            )
        } else {
            match self.reserve(ctx, spec, targets).await {
                Ok(counted) => (
                    self.decide(
                        ctx,
                        spec,
                        targets,
                        ApprovalContext::default(),
                        counted.count,
                    ),
                    counted,
                ),
                Err(reason) => (
                    denial(reason, self.policy().policy_set_hash()),
                    counters::Counted::default(),
                ),
            }
        };
        let decision = self
            .count_standing_use(audit, ctx, spec, targets, decision, counted.count)
            .await;
        let detail =
            json!({"decision": decision, "purpose": ctx.purpose, "recentCount": counted.count});
        let recent_count = counted.count;
        if decision.outcome != Outcome::Auto {
            self.release(counted).await;
        }
        if let Err(error) = audit.decision(targets, &decision, detail).await {
            return Err((Box::new(decision), error));
        }
        self.shadow_decide(audit, ctx, spec, targets, &decision, recent_count)
            .await;
        Ok(decision)
    }

    /// Rebuilds the set in force from its files and the live standing approvals.
    pub(crate) async fn rebuild(&self) -> Result<(), crate::AgentError> {
        let links = crate::standing::live_links(&self.store).await?;
        let engine = PolicyEngine::with_standing(&self.catalog(), &self.sources(), &links)
            .map_err(crate::AgentError::Policy)?;
        self.replace_policy(engine);
        Ok(())
    }

    /// A decision made automatic by a standing approval counts one use of it, atomically, before
    /// anything runs. If the approval was revoked, expired or used up meanwhile, the set is rebuilt
    /// and the call decided again; if the use cannot be counted, the call is denied.
    async fn count_standing_use(
        &self,
        audit: &mut CallAudit<'_>,
        ctx: &CallContext<'_>,
        spec: &ActionSpec,
        targets: &[Target],
        decision: Decision,
        recent_count: i64,
    ) -> Decision {
        if decision.outcome != Outcome::Auto {
            return decision;
        }
        let Some(link) = self.policy().standing_link_of(&decision) else {
            return decision;
        };
        match self.store.use_standing(&link, Utc::now()).await {
            Ok(Some(left)) => {
                let _ = audit
                    .write(
                        RecordKind::PolicyAmendment,
                        targets,
                        "standingUsed",
                        json!({"standingApproval": link, "usesLeft": left}),
                        None,
                    )
                    .await;
                // A link that is now used up leaves the set.
                if left == 0
                    && let Err(e) = self.rebuild().await
                {
                    tracing::error!(error = %e, "could not rebuild the policy set after a standing approval was used up");
                }
                decision
            }
            Ok(None) => match self.rebuild().await {
                Ok(()) => self.decide(ctx, spec, targets, ApprovalContext::default(), recent_count),
                Err(e) => denial(
                    format!(
                        "the standing approval `{link}` is no longer live and the policy set could not be rebuilt: {e}"
                    ),
                    self.policy().policy_set_hash(),
                ),
            },
            Err(e) => denial(
                format!("could not count a use of the standing approval `{link}`: {e}"),
                self.policy().policy_set_hash(),
            ),
        }
    }

    /// Shadow mode: decides the call with the candidate set too and records a difference; the
    /// enforced decision is never affected.
    async fn shadow_decide(
        &self,
        audit: &mut CallAudit<'_>,
        ctx: &CallContext<'_>,
        spec: &ActionSpec,
        targets: &[Target],
        enforced: &Decision,
        recent_count: i64,
    ) {
        let Some(shadow) = self.shadow_policy() else {
            return;
        };
        let candidate = self.decide_with(
            &shadow,
            ctx,
            spec,
            targets,
            ApprovalContext::default(),
            recent_count,
        );
        if candidate.outcome == enforced.outcome && candidate.deciding == enforced.deciding {
            return;
        }
        tracing::info!(action = %spec.name, enforced = %enforced.outcome, candidate = %candidate.outcome, "shadow policy set decides differently");
        let detail = json!({"enforced": enforced, "candidate": candidate});
        let _ = audit
            .write(
                RecordKind::ShadowDecision,
                targets,
                &candidate.outcome.to_string(),
                detail,
                None,
            )
            .await;
    }

    /// Steps 6–8 for an approved request: decide again with the real approver and fresh targets
    /// immediately before executing. `key` is the change's idempotency key (the approval's id, or
    /// id and item for a bulk job's item), so running the approval again finds the first run.
    /// Whether the requester's own approval would let `call` run, judged now with fresh
    /// targets and nothing recorded or counted: asked before a self-approval is recorded, so
    /// one that could not make the change run is refused and the request stays pending for
    /// someone else.
    pub(crate) async fn own_approval_suffices(
        &self,
        ctx: &CallContext<'_>,
        call: &ActionCall,
    ) -> Result<(), String> {
        let (spec, targets) = self.prepare(call).await?;
        if targets.iter().any(|t| t.privileged) {
            return Err("nobody approves their own request on a privileged target".into());
        }
        let decision = self.decide(
            ctx,
            &spec,
            &targets,
            ApprovalContext {
                granted: true,
                by_other: false,
            },
            0,
        );
        if decision.outcome == Outcome::Auto {
            Ok(())
        } else {
            Err(decision.reason)
        }
    }

    pub(crate) async fn call_approved(
        &self,
        ctx: &CallContext<'_>,
        call: &ActionCall,
        approver: &Principal,
        approval_id: ApprovalId,
        key: &str,
    ) -> GatewayOutcome {
        let mut audit = CallAudit::new(self, ctx, call);
        let (spec, targets) = match self.prepare(call).await {
            Ok(p) => p,
            Err(error) => {
                return audit.fail(None, Vec::new(), error);
            }
        };
        let by_other = approver.directory_id != ctx.principal.directory_id;
        // Fresh counters too: the approved change is counted against its requester now.
        let counted = match self.reserve(ctx, &spec, &targets).await {
            Ok(c) => c,
            Err(error) => return audit.fail(None, targets, error),
        };
        let mut decision = self.decide(
            ctx,
            &spec,
            &targets,
            ApprovalContext {
                granted: true,
                by_other,
            },
            counted.count,
        );
        if !by_other && targets.iter().any(|t| t.privileged) && decision.outcome != Outcome::Deny {
            decision = denial(
                "nobody approves their own request on a privileged target".into(),
                self.policy().policy_set_hash(),
            );
        }
        let detail = json!({"decision": decision, "approvalId": approval_id, "approver": approver.upn, "recheck": true, "recentCount": counted.count});
        if decision.outcome != Outcome::Auto {
            self.release(counted).await;
        }
        if let Err(error) = audit.decision(&targets, &decision, detail).await {
            return audit.fail(Some(decision), targets, error);
        }
        if decision.outcome != Outcome::Auto {
            return GatewayOutcome::Denied {
                decision,
                targets,
                audit_ids: audit.ids,
            };
        }
        self.execute(audit, &spec, targets, decision, key, true)
            .await
    }

    /// Step 7, with a lost answer settled. A change whose connection broke mid-call may or may
    /// not have been made, so the target is read before anything else: found in effect, the
    /// change counts as made (unless its answer carried a secret, which only a second call can
    /// replace); found not in effect, it is sent once more under the same key; unreadable, the
    /// call fails as in doubt for a human, never sent blind a second time.
    async fn call_connector(
        &self,
        connector: &dyn Connector,
        call: &ActionCall,
        key: &str,
        mutating: bool,
    ) -> Result<steward_connectors::ActionResult, ConnectorError> {
        let started = Utc::now();
        let (lost, platform) = match connector.execute(call, key).await {
            Err(e @ ConnectorError::Transport { platform, .. }) if mutating => (e, platform),
            other => return other,
        };
        tracing::warn!(action = %call.action, error = %lost, "a change's answer was lost; reading the target to settle it");
        let found = connector.reconcile(call, started).await;
        match found {
            Ok(Reconciliation::Applied(detail))
                if !self
                    .connector
                    .resend_after_lost_answer(call.action.as_str()) =>
            {
                Ok(steward_connectors::ActionResult {
                    summary: format!(
                        "the answer was lost on the way back, but the target shows the change in effect ({detail})"
                    ),
                    output: json!({"settledByReading": true}),
                    before: None,
                    after: None,
                    platform_request_id: None,
                })
            }
            Ok(Reconciliation::Applied(_) | Reconciliation::NotApplied(_)) => {
                connector.execute(call, key).await
            }
            Ok(Reconciliation::Unknown(detail)) => Err(ConnectorError::Transport {
                platform,
                source: steward_connectors::TransportError(format!(
                    "{lost}; whether the change was made cannot be read back ({detail}): in doubt, a human must check before it is tried again"
                )),
            }),
            Err(e) => Err(ConnectorError::Transport {
                platform,
                source: steward_connectors::TransportError(format!(
                    "{lost}; reading the target to settle it failed too ({e}): in doubt, a human must check before it is tried again"
                )),
            }),
        }
    }

    /// Steps 6–8: intent, call, outcome and read-back.
    async fn execute(
        &self,
        mut audit: CallAudit<'_>,
        spec: &ActionSpec,
        targets: Vec<Target>,
        decision: Decision,
        key: &str,
        approved: bool,
    ) -> GatewayOutcome {
        let (ctx, call) = (audit.ctx(), audit.call());
        let connector = match self.acting_for(ctx, &decision, approved) {
            Ok(c) => c,
            Err(error) => return audit.fail(Some(decision), targets, error),
        };
        match connector.acting_as_for(call.action.as_str()).await {
            Ok(actor) => audit.act_as(actor),
            Err(e) => return audit.fail(Some(decision), targets, e.to_string()),
        }
        if spec.mutating {
            // Step 6: the intent is committed before the connector is called — in the intents
            // table by key (a second attempt finds it) and in the audit trail; if either cannot be
            // written, nothing runs.
            match self
                .begin_intent(key, &ctx.conversation.to_string(), call)
                .await
            {
                Ok(None) => {}
                Ok(Some(earlier)) => {
                    return self
                        .earlier_attempt(audit, targets, decision, earlier)
                        .await;
                }
                Err(error) => return audit.fail(Some(decision), targets, error),
            }
            let detail = json!({"idempotencyKey": key, "purpose": ctx.purpose, "owner": *intents::PROCESS_OWNER});
            if let Err(error) = audit
                .write(RecordKind::Intent, &targets, "intent", detail, None)
                .await
            {
                self.finish_intent(
                    key,
                    IntentStatus::Failed,
                    json!({"error": "not started: the intent could not be audited"}),
                )
                .await;
                return audit.fail(Some(decision), targets, error);
            }
        }
        // Step 7.
        let result = match self
            .call_connector(connector.as_ref(), call, key, spec.mutating)
            .await
        {
            Ok(r) => r,
            Err(e) => {
                if spec.mutating {
                    self.finish_intent(
                        key,
                        IntentStatus::Failed,
                        json!({"error": e.to_string(), "requestId": e.request_id()}),
                    )
                    .await;
                }
                let kind = if spec.mutating {
                    RecordKind::Outcome
                } else {
                    RecordKind::Investigation
                };
                let request_id = e.request_id().map(str::to_owned);
                let _ = audit
                    .write(
                        kind,
                        &targets,
                        "failed",
                        json!({"error": e.to_string()}),
                        request_id,
                    )
                    .await;
                return audit.fail(Some(decision), targets, e.to_string());
            }
        };
        if !spec.mutating {
            let detail = json!({"summary": result.summary});
            let _ = audit
                .write(
                    RecordKind::Investigation,
                    &targets,
                    "read",
                    detail,
                    result.platform_request_id.clone(),
                )
                .await;
            return GatewayOutcome::Done {
                result,
                decision,
                targets,
                verification: None,
                audit_ids: audit.ids,
            };
        }
        // Step 8: outcome, then the read-back.
        self.finish_intent(
            key,
            IntentStatus::Done,
            json!({"summary": result.summary, "requestId": result.platform_request_id}),
        )
        .await;
        let detail = json!({"summary": result.summary, "before": result.before, "after": result.after, "output": result.output});
        let _ = audit
            .write(
                RecordKind::Outcome,
                &targets,
                "executed",
                detail,
                result.platform_request_id.clone(),
            )
            .await;
        let verification = match connector.verify(call, &result).await {
            Ok(v) => v,
            Err(e) => Verification {
                passed: false,
                detail: format!("could not read the result back: {e}"),
            },
        };
        let outcome = if verification.passed {
            "verified"
        } else {
            "unverified"
        };
        let _ = audit
            .write(
                RecordKind::Verification,
                &targets,
                outcome,
                json!({"detail": verification.detail}),
                None,
            )
            .await;
        GatewayOutcome::Done {
            result,
            decision,
            targets,
            verification: Some(verification),
            audit_ids: audit.ids,
        }
    }

    /// Writes a record that is not about a call (request received, reply, escalation).
    pub(crate) async fn note(
        &self,
        ctx: &CallContext<'_>,
        kind: RecordKind,
        outcome: &str,
        detail: Value,
    ) -> Option<i64> {
        let mut entry = AuditEntry::new(self.tenant.clone(), kind);
        entry.conversation = Some(ctx.conversation.to_string());
        entry.requester = Some(ctx.principal.upn.clone());
        entry.channel = Some(ctx.channel.to_string());
        entry.outcome = Some(outcome.to_owned());
        entry.detail = redact(&detail);
        match self.store.append_audit(entry).await {
            Ok(id) => Some(id),
            Err(e) => {
                tracing::error!(error = %e, "audit append failed");
                None
            }
        }
    }
}

pub(crate) fn kind_name(kind: TargetKind) -> &'static str {
    match kind {
        TargetKind::Person => "Person",
        TargetKind::Group => "Group",
        TargetKind::Device => "Device",
        TargetKind::Tenant => "Tenant",
    }
}
