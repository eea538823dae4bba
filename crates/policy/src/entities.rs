//! Builds the Cedar entities and context of one request from Steward's own facts, directly as
//! Cedar values (no JSON round trip: decisions sit on every call's path).

use std::collections::{HashMap, HashSet};
use std::str::FromStr;

use cedar_policy::{Context, Entity, EntityId, EntityTypeName, EntityUid, RestrictedExpression};
use steward_domain::{Principal, Target, TargetKind};

use crate::DecisionRequest;

/// The schema's entity type names, parsed once per engine.
pub(crate) struct Types {
    tenant: EntityTypeName,
    department: EntityTypeName,
    group: EntityTypeName,
    person: EntityTypeName,
    device: EntityTypeName,
    action: EntityTypeName,
}

impl Types {
    pub fn new() -> Result<Self, String> {
        let parse = |n: &str| EntityTypeName::from_str(n).map_err(|e| e.to_string());
        Ok(Self {
            tenant: parse("Tenant")?,
            department: parse("Department")?,
            group: parse("Group")?,
            person: parse("Person")?,
            device: parse("Device")?,
            action: parse("Action")?,
        })
    }

    fn uid(&self, ty: &EntityTypeName, id: &str) -> EntityUid {
        EntityUid::from_type_name_and_id(ty.clone(), EntityId::new(id))
    }

    fn kind(&self, kind: TargetKind) -> &EntityTypeName {
        match kind {
            TargetKind::Person => &self.person,
            TargetKind::Group => &self.group,
            TargetKind::Device => &self.device,
            TargetKind::Tenant => &self.tenant,
        }
    }

    pub fn principal(&self, p: &Principal) -> EntityUid {
        self.uid(&self.person, &p.directory_id)
    }

    pub fn target(&self, t: &Target) -> EntityUid {
        self.uid(self.kind(t.kind), &t.id)
    }

    pub fn action(&self, name: &str) -> EntityUid {
        self.uid(&self.action, name)
    }

    fn department(&self, p: &Principal, name: &str) -> EntityUid {
        self.uid(&self.department, &format!("{}/{name}", p.tenant))
    }
}

fn string(s: &str) -> RestrictedExpression {
    RestrictedExpression::new_string(s.to_owned())
}

fn flag(b: bool) -> RestrictedExpression {
    RestrictedExpression::new_bool(b)
}

type Attrs = HashMap<String, RestrictedExpression>;

fn attrs<const N: usize>(pairs: [(&str, RestrictedExpression); N]) -> Attrs {
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

fn entity(uid: EntityUid, attrs: Attrs, parents: HashSet<EntityUid>) -> Result<Entity, String> {
    Entity::new(uid, attrs, parents).map_err(|e| e.to_string())
}

/// The entities of one request: tenant, departments, groups, the target and the principal.
pub(crate) fn entities(types: &Types, req: &DecisionRequest<'_>) -> Result<Vec<Entity>, String> {
    let p = req.principal;
    let target = req.target;
    let tenant = types.uid(&types.tenant, p.tenant.as_str());
    let mut out: HashMap<EntityUid, Entity> = HashMap::new();
    let not_special = || attrs([("privileged", flag(false)), ("protected", flag(false))]);
    out.insert(
        tenant.clone(),
        entity(tenant.clone(), not_special(), HashSet::new())?,
    );

    for name in p.department.iter().chain(target.department.iter()) {
        let d = types.department(p, name);
        out.insert(
            d.clone(),
            entity(
                d,
                attrs([("name", string(name))]),
                HashSet::from([tenant.clone()]),
            )?,
        );
    }
    if target.kind == TargetKind::Tenant {
        // A directory-wide read targets a tenant; only a tenant of its own id is added, so a
        // foreign tenant id fails `resource in principal.tenant`.
        let t = types.target(target);
        out.insert(t.clone(), entity(t, not_special(), HashSet::new())?);
    } else {
        // People and devices sit in groups and departments; a group sits in the tenant only
        // (the schema has no nested groups).
        let nested = matches!(target.kind, TargetKind::Person | TargetKind::Device);
        let groups: &[String] = if nested { &target.groups } else { &[] };
        for group in groups {
            let g = types.uid(&types.group, group);
            let a = attrs([
                ("name", string("")),
                ("privileged", flag(false)),
                ("protected", flag(false)),
            ]);
            out.insert(g.clone(), entity(g, a, HashSet::from([tenant.clone()]))?);
        }
        let mut parents = HashSet::from([tenant.clone()]);
        if nested {
            parents.extend(target.department.as_deref().map(|d| types.department(p, d)));
        }
        parents.extend(groups.iter().map(|g| types.uid(&types.group, g)));
        let mut a = match target.kind {
            TargetKind::Person => attrs([
                ("upn", string(target.upn.as_deref().unwrap_or_default())),
                (
                    "department",
                    string(target.department.as_deref().unwrap_or_default()),
                ),
                ("itAdmin", flag(target.id == p.directory_id && p.it_admin)),
                ("privileged", flag(target.privileged)),
                ("protected", flag(target.protected)),
                (
                    "tenant",
                    RestrictedExpression::new_entity_uid(tenant.clone()),
                ),
            ]),
            _ => attrs([
                ("name", string(&target.display_name)),
                ("privileged", flag(target.privileged)),
                ("protected", flag(target.protected)),
            ]),
        };
        if target.kind == TargetKind::Person
            && let Some(manager) = &target.manager
        {
            a.insert(
                "manager".to_owned(),
                RestrictedExpression::new_entity_uid(types.uid(&types.person, manager)),
            );
        }
        let t = types.target(target);
        out.insert(t.clone(), entity(t, a, parents)?);
    }
    let principal = types.principal(p);
    if !out.contains_key(&principal) {
        let mut parents = HashSet::from([tenant.clone()]);
        parents.extend(p.department.as_deref().map(|d| types.department(p, d)));
        let a = attrs([
            ("upn", string(&p.upn)),
            (
                "department",
                string(p.department.as_deref().unwrap_or_default()),
            ),
            ("itAdmin", flag(p.it_admin)),
            ("privileged", flag(p.privileged)),
            ("protected", flag(false)),
            ("tenant", RestrictedExpression::new_entity_uid(tenant)),
        ]);
        out.insert(principal.clone(), entity(principal, a, parents)?);
    }
    Ok(out.into_values().collect())
}

/// One value of the runtime context, as Steward's code computed it. The same list builds the
/// Cedar context and the pre-filter's facts, so the two cannot disagree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Lit {
    Bool(bool),
    Long(i64),
    Str(String),
}

/// The context as `(path, value)` pairs; a record field's path is `record.field`.
pub(crate) type ContextFacts = Vec<(&'static str, Lit)>;

/// The runtime context, computed by Steward's code (never by a reasoner).
pub(crate) fn context_facts(
    req: &DecisionRequest<'_>,
    granted: bool,
    by_other: bool,
) -> ContextFacts {
    vec![
        ("channel", Lit::Str(req.channel.as_str().to_owned())),
        ("selfService", Lit::Bool(!req.principal.it_admin)),
        ("blastRadius", Lit::Long(req.blast_radius)),
        ("risk", Lit::Long(req.risk)),
        ("localHour", Lit::Long(req.local_hour)),
        ("recentCount", Lit::Long(req.recent_count)),
        ("approval.granted", Lit::Bool(granted)),
        ("approval.byOther", Lit::Bool(by_other)),
    ]
}

/// The context of deciding an approval request: the runtime facts plus what is to be approved.
pub(crate) fn approve_context_facts(
    req: &DecisionRequest<'_>,
    requested_action: &str,
    own_request: bool,
    standing: bool,
) -> ContextFacts {
    let mut facts = context_facts(req, false, false);
    facts.extend([
        ("requestedAction", Lit::Str(requested_action.to_owned())),
        ("ownRequest", Lit::Bool(own_request)),
        ("standing", Lit::Bool(standing)),
    ]);
    facts
}

fn restricted(lit: &Lit) -> RestrictedExpression {
    match lit {
        Lit::Bool(b) => flag(*b),
        Lit::Long(n) => RestrictedExpression::new_long(*n),
        Lit::Str(s) => string(s),
    }
}

/// The Cedar context of a fact list (`a.b` paths become record `a` with field `b`).
pub(crate) fn to_context(facts: &ContextFacts) -> Result<Context, String> {
    let mut top: Vec<(String, RestrictedExpression)> = Vec::new();
    let mut records: Vec<(&str, Vec<(String, RestrictedExpression)>)> = Vec::new();
    for (path, lit) in facts {
        match path.split_once('.') {
            None => top.push(((*path).to_owned(), restricted(lit))),
            Some((record, field)) => {
                let value = (field.to_owned(), restricted(lit));
                match records.iter_mut().find(|(r, _)| *r == record) {
                    Some((_, fields)) => fields.push(value),
                    None => records.push((record, vec![value])),
                }
            }
        }
    }
    for (record, fields) in records {
        let value = RestrictedExpression::new_record(fields).map_err(|e| e.to_string())?;
        top.push((record.to_owned(), value));
    }
    Context::from_pairs(top).map_err(|e| e.to_string())
}
