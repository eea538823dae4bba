//! Builds the Cedar entities and context of one request from Steward's own facts, directly as
//! Cedar's evaluated values: no JSON round trip and no expression to evaluate, because decisions
//! sit on every call's path. The values are Steward's own (strings, booleans, numbers, entity
//! references), so there is nothing to evaluate; the shapes are checked against the schema once,
//! when an engine is built.

use std::collections::{BTreeMap, HashSet};
use std::str::FromStr;
use std::sync::Arc;

use cedar_policy::{EntityId, EntityTypeName, EntityUid};
use cedar_policy_core::ast::{self, PartialValue, Value};
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

/// One attribute value: a scalar the pre-filter can compare, or an entity reference.
enum Attr {
    Lit(Lit),
    Entity(EntityUid),
}

/// An entity's attributes, kept as values so the same list yields the Cedar entity and the
/// pre-filter's facts.
type AttrList = Vec<(&'static str, Attr)>;

fn text(s: &str) -> Attr {
    Attr::Lit(Lit::Str(s.to_owned()))
}

fn boolean(b: bool) -> Attr {
    Attr::Lit(Lit::Bool(b))
}

fn entity(uid: EntityUid, attrs: &AttrList, parents: HashSet<EntityUid>) -> ast::Entity {
    let attrs = attrs.iter().map(|(k, v)| {
        let value = match v {
            Attr::Lit(lit) => value(lit),
            Attr::Entity(uid) => Value::from(ast::EntityUID::from(uid.clone())),
        };
        ((*k).into(), PartialValue::Value(value))
    });
    ast::Entity::new_with_attr_partial_value(
        uid.into(),
        attrs,
        HashSet::new(),
        parents.into_iter().map(ast::EntityUID::from).collect(),
        [],
    )
}

/// The scalar attributes of a list, moved out of it (the Cedar entity is built first).
fn scalars(attrs: AttrList) -> Vec<(&'static str, Lit)> {
    attrs
        .into_iter()
        .filter_map(|(k, v)| match v {
            Attr::Lit(lit) => Some((k, lit)),
            Attr::Entity(_) => None,
        })
        .collect()
}

/// The entities of one request and the scalar attributes of its principal and resource.
pub(crate) struct Built {
    pub entities: Vec<ast::Entity>,
    pub principal_attrs: Vec<(&'static str, Lit)>,
    pub resource_attrs: Vec<(&'static str, Lit)>,
}

/// The entities of one request: the target and the principal (the same entity when a person
/// acts on their own account). Their groups, department and tenant are parents, listed directly
/// (so no transitive closure is needed), and are not entities of their own: no policy can reach
/// an ancestor's attributes, only test membership with `in`.
pub(crate) fn entities(types: &Types, req: &DecisionRequest<'_>) -> Built {
    let p = req.principal;
    let target = req.target;
    let tenant = types.uid(&types.tenant, p.tenant.as_str());
    let mut out: Vec<ast::Entity> = Vec::with_capacity(3);
    let resource_attrs: AttrList;
    let target_uid = types.target(target);
    if target.kind == TargetKind::Tenant {
        // A directory-wide read targets a tenant; its entity has no parents, so a foreign tenant
        // id fails `resource in principal.tenant`.
        resource_attrs = vec![
            ("privileged", boolean(false)),
            ("protected", boolean(false)),
        ];
        out.push(entity(target_uid.clone(), &resource_attrs, HashSet::new()));
    } else {
        // People and devices sit in groups and departments; a group sits in the tenant only
        // (the schema has no nested groups).
        let nested = matches!(target.kind, TargetKind::Person | TargetKind::Device);
        let mut parents = HashSet::from([tenant.clone()]);
        if nested {
            parents.extend(target.department.as_deref().map(|d| types.department(p, d)));
            parents.extend(target.groups.iter().map(|g| types.uid(&types.group, g)));
        }
        // A device sits in its primary user, so "their own device" is `resource in principal`.
        if target.kind == TargetKind::Device
            && let Some(owner) = &target.owner
        {
            parents.insert(types.uid(&types.person, owner));
        }
        let mut a: AttrList = match target.kind {
            TargetKind::Person => vec![
                ("upn", text(target.upn.as_deref().unwrap_or_default())),
                (
                    "department",
                    text(target.department.as_deref().unwrap_or_default()),
                ),
                (
                    "itAdmin",
                    boolean(target.id == p.directory_id && p.it_admin),
                ),
                ("privileged", boolean(target.privileged)),
                ("protected", boolean(target.protected)),
                ("tenant", Attr::Entity(tenant.clone())),
            ],
            _ => vec![
                ("name", text(&target.display_name)),
                ("privileged", boolean(target.privileged)),
                ("protected", boolean(target.protected)),
            ],
        };
        if target.kind == TargetKind::Person
            && let Some(manager) = &target.manager
        {
            a.push(("manager", Attr::Entity(types.uid(&types.person, manager))));
        }
        out.push(entity(target_uid.clone(), &a, parents));
        resource_attrs = a;
    }
    let principal = types.principal(p);
    let resource_attrs = scalars(resource_attrs);
    let principal_attrs = if principal == target_uid {
        resource_attrs.clone()
    } else {
        let mut parents = HashSet::from([tenant.clone()]);
        parents.extend(p.department.as_deref().map(|d| types.department(p, d)));
        let a: AttrList = vec![
            ("upn", text(&p.upn)),
            (
                "department",
                text(p.department.as_deref().unwrap_or_default()),
            ),
            ("itAdmin", boolean(p.it_admin)),
            ("privileged", boolean(p.privileged)),
            ("protected", boolean(false)),
            ("tenant", Attr::Entity(tenant)),
        ];
        out.push(entity(principal, &a, parents));
        scalars(a)
    };
    Built {
        entities: out,
        principal_attrs,
        resource_attrs,
    }
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

fn value(lit: &Lit) -> Value {
    match lit {
        Lit::Bool(b) => Value::from(*b),
        Lit::Long(n) => Value::from(*n),
        Lit::Str(s) => Value::from(s.as_str()),
    }
}

/// The Cedar context of a fact list (`a.b` paths become record `a` with field `b`).
pub(crate) fn to_context(facts: &ContextFacts) -> ast::Context {
    let mut top: BTreeMap<_, Value> = BTreeMap::new();
    let mut records: Vec<(&str, Vec<(&str, Value)>)> = Vec::new();
    for (path, lit) in facts {
        match path.split_once('.') {
            None => {
                top.insert((*path).into(), value(lit));
            }
            Some((record, field)) => {
                let entry = (field, value(lit));
                match records.iter_mut().find(|(r, _)| *r == record) {
                    Some((_, fields)) => fields.push(entry),
                    None => records.push((record, vec![entry])),
                }
            }
        }
    }
    for (record, fields) in records {
        top.insert(record.into(), Value::record(fields, None));
    }
    ast::Context::Value(Arc::new(top))
}
