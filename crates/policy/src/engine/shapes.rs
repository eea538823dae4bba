//! The entities and contexts Steward builds are checked against the schema once, when an engine
//! is built — for every action and every kind of target, as a self-service requester and an IT
//! admin, approved or not — instead of on every decision. Their shape depends only on Steward's
//! code, so one check per shape covers every request; a mismatch stops the engine from loading.

use steward_domain::{ActionName, ActionSpec, Channel, Principal, Target, TargetKind, TenantId};

use super::{ApprovalContext, DecisionRequest, PolicyEngine};
use crate::PolicyError;
use crate::entities::{approve_context_facts, context_facts};
use crate::schema::APPROVE_ACTION;

fn sample_target(kind: TargetKind, with_manager: bool) -> Target {
    Target {
        kind,
        id: "shape-target".into(),
        display_name: "shape".into(),
        upn: (kind == TargetKind::Person).then(|| "shape@example.invalid".into()),
        department: (kind == TargetKind::Person).then(|| "Shape".into()),
        groups: vec!["shape-group".into()],
        privileged: false,
        protected: false,
        manager: with_manager.then(|| "shape-manager".into()),
        owner: None,
    }
}

impl PolicyEngine {
    /// Checks every shape of entities, context and request against the schema.
    pub(super) fn check_shapes(&self, catalog: &[ActionSpec]) -> Result<(), PolicyError> {
        let fail = |e: String| PolicyError::Schema(format!("Steward's own request shape: {e}"));
        let tenant = TenantId::new("shape").map_err(|e| fail(e.to_string()))?;
        let approve = ActionName::new(APPROVE_ACTION).map_err(|e| fail(e.to_string()))?;
        let actions = catalog
            .iter()
            .map(|s| &s.name)
            .chain(std::iter::once(&approve));
        for action in actions {
            for it_admin in [false, true] {
                let principal = Principal {
                    tenant: tenant.clone(),
                    directory_id: "shape-principal".into(),
                    upn: "principal@example.invalid".into(),
                    display_name: "principal".into(),
                    department: Some("Shape".into()),
                    it_admin,
                    privileged: false,
                };
                for (kind, manager) in [
                    (TargetKind::Person, false),
                    (TargetKind::Person, true),
                    (TargetKind::Group, false),
                    (TargetKind::Device, false),
                    (TargetKind::Tenant, false),
                ] {
                    let mut target = sample_target(kind, manager);
                    if kind == TargetKind::Tenant {
                        target.id = "shape".into();
                    }
                    let req = DecisionRequest {
                        principal: &principal,
                        action,
                        target: &target,
                        channel: Channel::Cli,
                        blast_radius: 1,
                        risk: 50,
                        local_hour: 12,
                        recent_count: 1,
                        approval: ApprovalContext::default(),
                    };
                    let p = self
                        .prepare_checked(&req, Some(&self.schema))
                        .map_err(fail)?;
                    let contexts = if action == &approve {
                        vec![approve_context_facts(&req, "entra.user.get", false, false)]
                    } else {
                        vec![
                            context_facts(&req, false, false),
                            context_facts(&req, true, true),
                        ]
                    };
                    for facts in &contexts {
                        self.request_checked(&p, facts, Some(&self.schema))
                            .map_err(fail)?;
                    }
                }
            }
        }
        Ok(())
    }
}
