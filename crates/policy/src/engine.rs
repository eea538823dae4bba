use std::collections::HashMap;

use cedar_policy::{ActionConstraint, Entities, EntityUid, PolicySet, Request, Schema};
use cedar_policy_core::ast::{self, EntityUIDEntry};
use steward_domain::{
    ActionName, ActionSpec, Channel, DecidingPolicy, Decision, Outcome, Principal, Target,
};

use crate::entities::{ContextFacts, Types, context_facts, entities, to_context};
use crate::load::{LoadedSet, load, parse_schema};
use crate::schema::{APPROVE_ACTION, cedar_schema_text};
use crate::{PolicyError, PolicySource, StandingLink};

mod approvers;
mod evaluate;
mod prefilter;
mod shapes;
pub use approvers::ApproverRequest;
use evaluate::{Answer, Compiled, authorize};
use prefilter::{Analysed, EntityFacts, Facts, Slice};

/// Whether a human has approved the request, and who: the second query of a decision assumes an
/// approval by someone other than the requester; the re-check before execution uses the real one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ApprovalContext {
    /// A human approved.
    pub granted: bool,
    /// The approver is not the requester.
    pub by_other: bool,
}

/// One question for the engine: may this principal do this action to this one target now?
#[derive(Debug, Clone)]
pub struct DecisionRequest<'a> {
    /// Who asks (the requesting person, never Steward).
    pub principal: &'a Principal,
    /// The action.
    pub action: &'a ActionName,
    /// One target; each target of a job is decided separately.
    pub target: &'a Target,
    /// Where the request came from.
    pub channel: Channel,
    /// How many targets the whole job touches.
    pub blast_radius: i64,
    /// Risk score 0–100.
    pub risk: i64,
    /// Hour of day in the tenant's time zone, 0–23.
    pub local_hour: i64,
    /// How many changes of this action this principal has had in the last hour, this one
    /// included (reserved before the query; 0 for reads, which are not counted).
    pub recent_count: i64,
    /// Approval state.
    pub approval: ApprovalContext,
}

/// A validated six-layer policy set for one tenant, ready to decide.
pub struct PolicyEngine {
    schema: Schema,
    loaded: LoadedSet,
    /// Per action, only the policies whose action scope can match it (exact: Cedar never
    /// evaluates a policy whose scope does not match, so leaving it out changes nothing but time).
    by_action: HashMap<String, Slice>,
    types: Types,
    /// Each action's entity (with its groups as parents), taken from the schema once: a request
    /// carries only its own action's entity.
    action_entities: HashMap<EntityUid, ast::Entity>,
    /// Every policy of the set as a static policy (links written out), made once at load.
    statics: Vec<cedar_policy::Policy>,
    /// Ids of the linked standing approvals.
    standing: std::collections::HashSet<String>,
}

impl std::fmt::Debug for PolicyEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PolicyEngine")
            .field("policies", &self.loaded.layers.len())
            .field("hash", &self.loaded.hash)
            .finish()
    }
}

impl PolicyEngine {
    /// Builds the schema from the catalog, then loads and strictly validates the sources (the
    /// global layer first, then the tenant's files). Any problem rejects the whole set.
    pub fn new(catalog: &[ActionSpec], sources: &[PolicySource]) -> Result<Self, PolicyError> {
        Self::with_standing(catalog, sources, &[])
    }

    /// Like [`new`](Self::new), plus the live standing approvals ("Approve Always") linked from
    /// their action's template.
    pub fn with_standing(
        catalog: &[ActionSpec],
        sources: &[PolicySource],
        links: &[StandingLink],
    ) -> Result<Self, PolicyError> {
        let schema = parse_schema(&cedar_schema_text(catalog))?;
        let mut loaded = load(sources, &schema, catalog)?;
        crate::standing::link_all(&mut loaded.set, &mut loaded.layers, links)?;
        if !links.is_empty() {
            use sha2::Digest as _;
            let mut hasher = sha2::Sha256::new();
            hasher.update(loaded.hash.as_bytes());
            for link in links {
                hasher.update(serde_json::to_string(link).unwrap_or_default().as_bytes());
            }
            loaded.hash = hex::encode(hasher.finalize());
        }
        let standing = links.iter().map(|l| l.id.clone()).collect();
        let statics = static_policies(&loaded.set)?;
        let types = Types::new().map_err(PolicyError::Schema)?;
        let action_entities: HashMap<EntityUid, ast::Entity> = schema
            .action_entities()
            .map_err(|e| PolicyError::Schema(e.to_string()))?
            .iter()
            .map(|e| (e.uid(), e.as_ref().clone()))
            .collect();
        let by_action = slice_by_action(&statics, &action_entities, catalog, &loaded.layers);
        let engine = Self {
            schema,
            loaded,
            by_action,
            types,
            standing,
            action_entities,
            statics,
        };
        engine.check_shapes(catalog)?;
        Ok(engine)
    }

    /// The schema the set was validated against, for analysis that looks at every request at
    /// once, such as proving invariants.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// The whole set with every template link written out as the static policy it stands for
    /// (same id, same meaning): for analysers that do not take template links, such as SymCC.
    pub fn static_policy_set(&self) -> Result<PolicySet, PolicyError> {
        PolicySet::from_policies(self.statics.iter().cloned()).map_err(|e| {
            PolicyError::Rejected(vec![crate::PolicyProblem {
                origin: "policy set".into(),
                line: None,
                policy: None,
                message: e.to_string(),
            }])
        })
    }

    /// The Cedar template an "approve always" of `action` links (its slots filled with the chosen
    /// scope: who, and which objects), so an approver sees the rule before creating it. `None`
    /// for an action that has none (reads).
    pub fn standing_template_text(&self, action: &ActionName) -> Option<String> {
        let id = cedar_policy::PolicyId::new(crate::standing::template_id(action));
        self.loaded.set.template(&id).map(|t| {
            t.to_string()
                .lines()
                .filter(|l| !l.trim_start().starts_with('@'))
                .collect::<Vec<_>>()
                .join("\n")
        })
    }

    /// Hash of the policy text in force, recorded with every decision.
    pub fn policy_set_hash(&self) -> &str {
        &self.loaded.hash
    }

    /// The standing approval that made this decision automatic, if one did (its use must be
    /// counted before the action runs).
    pub fn standing_link_of(&self, decision: &Decision) -> Option<String> {
        decision
            .deciding
            .iter()
            .find(|p| self.standing.contains(&p.id))
            .map(|p| p.id.clone())
    }

    /// Number of policies in force.
    pub fn policy_count(&self) -> usize {
        self.loaded.layers.len()
    }

    /// Whether any deciding policy of this decision forbids "approve always" (`@approval("hard")`).
    pub fn is_hard_approval(&self, decision: &Decision) -> bool {
        decision.deciding.iter().chain(&decision.gates).any(|p| {
            self.loaded
                .hard_approval
                .get(&p.id)
                .copied()
                .unwrap_or(false)
        })
    }

    /// Why "approve always" cannot be offered for a decision that asks for approval, or `None`
    /// when it can. A standing approval is a permit and never passes a `forbid`: when approval is
    /// needed because a forbid is lifted by approval (a gate), a standing approval would not spare
    /// the next request its approval, so it is not offered; nor for a hard approval.
    pub fn approve_always_refusal(&self, decision: &Decision) -> Option<String> {
        if decision.outcome != Outcome::Ask {
            return Some("only a request that waits for approval can be approved always".into());
        }
        if self.is_hard_approval(decision) {
            return Some("this always needs a fresh approval (`@approval(\"hard\")`)".into());
        }
        if !decision.gates.is_empty() {
            return Some(format!(
                "{} forbid{} this without a fresh approval each time, and a standing approval never passes a forbid",
                list(&decision.gates),
                if decision.gates.len() == 1 { "s" } else { "" }
            ));
        }
        None
    }

    /// Decides a job's action over all its targets: each target is decided separately and the
    /// strictest outcome wins (deny over ask over auto).
    pub fn decide_all(&self, base: &DecisionRequest<'_>, targets: &[Target]) -> Decision {
        let mut combined: Option<Decision> = None;
        for target in targets {
            let request = DecisionRequest {
                target,
                ..base.clone()
            };
            let decision = self.decide(&request);
            combined = Some(match combined {
                None => decision,
                Some(prev) => merge(prev, decision),
            });
        }
        combined.unwrap_or_else(|| {
            self.deny(
                Vec::new(),
                format!(
                    "`{}` names no target, and Steward only acts on resolved targets",
                    base.action
                ),
                Vec::new(),
            )
        })
    }

    /// Decides one target with the two queries of the policy model.
    pub fn decide(&self, req: &DecisionRequest<'_>) -> Decision {
        let Some(set) = self.by_action.get(req.action.as_str()) else {
            return self.deny(
                Vec::new(),
                format!("`{}` is not a known action", req.action),
                Vec::new(),
            );
        };
        if !(0..=100).contains(&req.risk)
            || !(0..=23).contains(&req.local_hour)
            || req.blast_radius < 0
            || req.recent_count < 0
        {
            return self.deny(
                Vec::new(),
                "the runtime context is out of range (risk 0-100, hour 0-23, blast radius and recent count >= 0)"
                    .into(),
                Vec::new(),
            );
        }
        let prepared = match self.prepare(req) {
            Ok(p) => p,
            Err(e) => return self.deny(Vec::new(), "policy evaluation failed".into(), vec![e]),
        };
        if req.approval.granted {
            let context = context_facts(req, true, req.approval.by_other);
            let answer = self.query_with(set, &prepared, &context);
            return self.decision_of_one_query(req, answer, true);
        }
        let unapproved = context_facts(req, false, false);
        let picked = self.pick(set, &prepared, &unapproved);
        let first = self.evaluate(&picked, &prepared, &unapproved);
        if !first.errors.is_empty() {
            return failed_closed(self, first.errors);
        }
        if first.allow {
            return self.decision_of_one_query(req, first, false);
        }
        // The same request as if someone other than the requester had approved it. When no
        // policy that could apply to either query can observe the approval state, the two
        // queries pick the same policies and evaluate them alike, so the first answer stands.
        let approved = context_facts(req, true, true);
        let picked_approved = self.pick(set, &prepared, &approved);
        let second = if picked
            .iter()
            .chain(&picked_approved)
            .any(|c| c.reads_approval)
        {
            self.evaluate(&picked_approved, &prepared, &approved)
        } else {
            first.clone()
        };
        if !second.errors.is_empty() {
            return failed_closed(self, second.errors);
        }
        if second.allow {
            let deciding = named(&second);
            let gates = named(&first);
            let reason = format!(
                "`{}` on {} needs approval: permitted by {} once a human approves{}",
                req.action,
                req.target.display_name,
                list(&deciding),
                if gates.is_empty() {
                    String::new()
                } else {
                    format!(" (approval lifts {})", list(&gates))
                }
            );
            return Decision {
                outcome: Outcome::Ask,
                deciding,
                gates,
                reason,
                errors: Vec::new(),
                policy_set_hash: self.loaded.hash.clone(),
            };
        }
        let mut deciding = named(&second);
        if deciding.is_empty() {
            deciding = named(&first);
        }
        let reason = deny_reason(req, &deciding);
        self.deny(deciding, reason, Vec::new())
    }

    fn decision_of_one_query(
        &self,
        req: &DecisionRequest<'_>,
        answer: Answer<'_>,
        approved: bool,
    ) -> Decision {
        if !answer.errors.is_empty() {
            return failed_closed(self, answer.errors);
        }
        let deciding = named(&answer);
        if answer.allow {
            let reason = format!(
                "`{}` on {} permitted by {}{}",
                req.action,
                req.target.display_name,
                list(&deciding),
                if approved {
                    " with the approval given"
                } else {
                    ""
                }
            );
            Decision {
                outcome: Outcome::Auto,
                deciding,
                gates: Vec::new(),
                reason,
                errors: Vec::new(),
                policy_set_hash: self.loaded.hash.clone(),
            }
        } else {
            let reason = deny_reason(req, &deciding);
            self.deny(deciding, reason, Vec::new())
        }
    }

    fn deny(&self, deciding: Vec<DecidingPolicy>, reason: String, errors: Vec<String>) -> Decision {
        Decision {
            outcome: Outcome::Deny,
            deciding,
            gates: Vec::new(),
            reason,
            errors,
            policy_set_hash: self.loaded.hash.clone(),
        }
    }

    /// The entities and the fixed parts of one request, built once per decision. Their shape is
    /// fixed by Steward's code and type-checked against the schema when the engine is built
    /// ([`check_shapes`](Self::check_shapes)), not on every request.
    fn prepare(&self, req: &DecisionRequest<'_>) -> Result<Prepared, String> {
        self.prepare_checked(req, None)
    }

    fn prepare_checked(
        &self,
        req: &DecisionRequest<'_>,
        schema: Option<&Schema>,
    ) -> Result<Prepared, String> {
        let built = entities(&self.types, req);
        let mut list = built.entities;
        let action = self.types.action(req.action.as_str());
        let action_entity = self
            .action_entities
            .get(&action)
            .ok_or_else(|| format!("`{}` is not in the schema", req.action))?;
        list.push(action_entity.clone());
        let entities = match schema {
            // At load: type-checked against the schema, and the hierarchy checked to list every
            // ancestor directly (which is what lets requests skip the closure below).
            Some(schema) => {
                flat(
                    list.clone(),
                    cedar_policy_core::entities::TCComputation::EnforceAlreadyComputed,
                )?;
                Entities::from_entities(
                    list.into_iter().map(cedar_policy::Entity::from),
                    Some(schema),
                )
                .map_err(|e| format!("entities: {e}"))?
            }
            None => flat(
                list,
                cedar_policy_core::entities::TCComputation::AssumeAlreadyComputed,
            )?,
        };
        let principal = self.types.principal(req.principal);
        let resource = self.types.target(req.target);
        let known = EntityFacts::new(
            &principal,
            &resource,
            &entities,
            built.principal_attrs,
            built.resource_attrs,
        );
        Ok(Prepared {
            principal,
            action,
            resource,
            entities,
            known,
        })
    }

    /// The Cedar request of one query, checked against `schema` when one is given (at load).
    fn request_checked(
        &self,
        p: &Prepared,
        facts: &ContextFacts,
        schema: Option<&Schema>,
    ) -> Result<Request, String> {
        Request::new(
            p.principal.clone(),
            p.action.clone(),
            p.resource.clone(),
            to_context(facts).into(),
            schema,
        )
        .map_err(|e| format!("request: {e}"))
    }

    /// The policies of `slice` that can apply to one query.
    fn pick<'s>(
        &self,
        slice: &'s Slice,
        p: &Prepared,
        context: &ContextFacts,
    ) -> Vec<&'s Compiled> {
        slice.for_request(&Facts::new(
            &p.principal,
            &p.resource,
            &p.entities,
            context,
            &p.known,
        ))
    }

    /// Evaluates one query over the picked policies.
    fn evaluate<'s>(
        &self,
        picked: &[&'s Compiled],
        p: &Prepared,
        context: &ContextFacts,
    ) -> Answer<'s> {
        let known = |uid: &EntityUid| EntityUIDEntry::known(uid.clone().into(), None);
        let request = ast::Request::new_unchecked(
            known(&p.principal),
            known(&p.action),
            known(&p.resource),
            Some(to_context(context)),
        );
        authorize(picked.iter().copied(), request, p.entities.as_ref())
    }

    /// One query over the policies of `slice` that can apply to this request.
    fn query_with<'s>(&self, slice: &'s Slice, p: &Prepared, context: &ContextFacts) -> Answer<'s> {
        self.evaluate(&self.pick(slice, p, context), p, context)
    }

    /// The bare Cedar request and entities of `req` (its first query) and the policy set: for
    /// measuring Steward's overhead against `cedar_policy::Authorizer` alone.
    pub fn bare_cedar_parts(
        &self,
        req: &DecisionRequest<'_>,
    ) -> Result<(Request, Entities, &PolicySet), String> {
        let p = self.prepare(req)?;
        let facts = context_facts(req, req.approval.granted, req.approval.by_other);
        let request = self.request_checked(&p, &facts, None)?;
        Ok((request, p.entities, &self.loaded.set))
    }
}

/// Entities whose parents already list every ancestor (a person's groups, department and tenant;
/// an action's groups from the schema), so Cedar need not compute a transitive closure per request.
fn flat(
    list: Vec<ast::Entity>,
    tc: cedar_policy_core::entities::TCComputation,
) -> Result<Entities, String> {
    cedar_policy_core::entities::Entities::from_entities(
        list,
        None::<&cedar_policy_core::entities::NoEntitiesSchema>,
        tc,
        cedar_policy_core::extensions::Extensions::all_available(),
    )
    .map(Entities::from)
    .map_err(|e| format!("entities: {e}"))
}

struct Prepared {
    principal: EntityUid,
    action: EntityUid,
    resource: EntityUid,
    entities: Entities,
    known: EntityFacts,
}

/// Every policy of `set` as a static policy: a template link is written out as the policy it
/// stands for (same id, same meaning), for evaluators and analysers that take static policies.
fn static_policies(set: &PolicySet) -> Result<Vec<cedar_policy::Policy>, PolicyError> {
    let failed = |id: &str, message: String| {
        PolicyError::Rejected(vec![crate::PolicyProblem {
            origin: "policy set".into(),
            line: None,
            policy: Some(id.to_owned()),
            message,
        }])
    };
    let mut out = Vec::new();
    for policy in set.policies() {
        let id = policy.id().to_string();
        let (Some(template_id), Some(values)) = (policy.template_id(), policy.template_links())
        else {
            out.push(policy.clone());
            continue;
        };
        let Some(template) = set.template(template_id) else {
            return Err(failed(&id, "its template is missing".into()));
        };
        let mut text = template.to_string();
        for (slot, uid) in values {
            text = text.replace(&slot.to_string(), &uid.to_string());
        }
        let linked = cedar_policy::Policy::parse(Some(policy.id().clone()), text)
            .map_err(|e| failed(&id, e.to_string()))?;
        out.push(linked);
    }
    Ok(out)
}

/// Splits the set by action: a policy goes to the slice of every catalog action its action scope
/// matches, exactly as Cedar matches it (the action itself, or any of its ancestors in the
/// schema's action hierarchy: `readOnly`/`mutating`, its risk group). Because each slice holds
/// only policies whose action scope is satisfied, the compiled conditions leave the action scope
/// out. Within an action, the pre-filter then picks per request.
fn slice_by_action(
    policies: &[cedar_policy::Policy],
    actions: &HashMap<EntityUid, ast::Entity>,
    catalog: &[ActionSpec],
    layers: &HashMap<String, steward_domain::Layer>,
) -> HashMap<String, Slice> {
    let analysed: Vec<(Analysed, ActionConstraint)> = policies
        .iter()
        .map(|policy| {
            let layer = layers.get(policy.id().to_string().as_str()).copied();
            (Analysed::new(policy, layer), policy.action_constraint())
        })
        .collect();
    let names = catalog
        .iter()
        .map(|spec| spec.name.as_str())
        .chain(std::iter::once(APPROVE_ACTION));
    let mut slices = HashMap::new();
    for name in names {
        let Some(entity) = actions
            .iter()
            .find(|(uid, _)| uid.id().unescaped() == name)
            .map(|(_, e)| e)
        else {
            // Not in the schema: no slice, so every request for it is denied.
            continue;
        };
        let applies = |uid: &EntityUid| {
            let uid: &ast::EntityUID = uid.as_ref();
            entity.uid() == uid || entity.is_descendant_of(uid)
        };
        let mut slice = Slice::default();
        for (policy, constraint) in &analysed {
            let matches = match constraint {
                ActionConstraint::Any => true,
                ActionConstraint::Eq(uid) => applies(uid),
                ActionConstraint::In(uids) => uids.iter().any(applies),
            };
            if matches {
                slice.add(policy.clone());
            }
        }
        slices.insert(name.to_owned(), slice);
    }
    slices
}

/// The deciding policies of an answer, by layer then id.
fn named(answer: &Answer<'_>) -> Vec<DecidingPolicy> {
    let mut named: Vec<DecidingPolicy> = answer
        .reasons
        .iter()
        .filter_map(|c| {
            c.layer.map(|layer| DecidingPolicy {
                id: c.id.clone(),
                layer,
            })
        })
        .collect();
    named.sort_by(|a, b| (a.layer, &a.id).cmp(&(b.layer, &b.id)));
    named
}

/// A decision that could not be evaluated: deny, with the errors.
fn failed_closed(engine: &PolicyEngine, errors: Vec<String>) -> Decision {
    engine.deny(
        Vec::new(),
        "policy evaluation failed; failing closed".into(),
        errors,
    )
}

fn list(policies: &[DecidingPolicy]) -> String {
    policies
        .iter()
        .map(|p| format!("`{}` ({})", p.id, p.layer))
        .collect::<Vec<_>>()
        .join(", ")
}

fn deny_reason(req: &DecisionRequest<'_>, deciding: &[DecidingPolicy]) -> String {
    if deciding.is_empty() {
        format!(
            "no policy permits `{}` on {}; it needs a human",
            req.action, req.target.display_name
        )
    } else {
        format!(
            "`{}` on {} is forbidden by {}",
            req.action,
            req.target.display_name,
            list(deciding)
        )
    }
}

fn merge(a: Decision, b: Decision) -> Decision {
    let rank = |o: Outcome| match o {
        Outcome::Auto => 0,
        Outcome::Ask => 1,
        Outcome::Deny => 2,
    };
    let (mut keep, other) = if rank(b.outcome) > rank(a.outcome) {
        (b, a)
    } else {
        (a, b)
    };
    if keep.outcome == other.outcome {
        for p in other.deciding {
            if !keep.deciding.contains(&p) {
                keep.deciding.push(p);
            }
        }
        for p in other.gates {
            if !keep.gates.contains(&p) {
                keep.gates.push(p);
            }
        }
        if keep.reason != other.reason {
            keep.reason = format!("{}; {}", keep.reason, other.reason);
        }
    }
    keep.errors.extend(other.errors);
    if !keep.errors.is_empty() {
        keep.outcome = Outcome::Deny;
    }
    keep
}
