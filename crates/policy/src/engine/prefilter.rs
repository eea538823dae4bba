//! Picks, per request, the policies that can possibly apply, so Cedar evaluates a handful instead
//! of thousands. Exact, not heuristic: a policy is left out only when a condition Cedar would
//! check *first* (its scope, then the leading conjuncts of its `when`/`unless` clauses, in
//! Cedar's own order) is certainly false for this request. Conditions are read from the policy's
//! JSON form once, at load; scanning stops at the first conjunct it does not understand, because
//! that one could raise an evaluation error (which must still fail the decision closed) before a
//! later false conjunct would have been reached. A validated set cannot error on the conjuncts
//! understood here (required attributes, equalities, `in`).
//!
//! Standing approvals (`principal in P … resource in R`) and other policies with an entity in
//! both scopes are found through a hash index on the request's ancestors, not scanned.

use std::collections::{HashMap, HashSet};

use cedar_policy::{Entities, EntityUid, EvalResult, Policy};
use serde_json::Value;
use steward_domain::Layer;

use super::evaluate::Compiled;
use crate::entities::{ContextFacts, Lit};

/// Which request variable a requirement reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Var {
    Principal,
    Resource,
}

/// A value a condition compares with.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Want {
    Lit(Lit),
    Entity(EntityUid),
}

/// One thing that must hold for a policy to apply.
#[derive(Debug, Clone)]
enum Requirement {
    /// `var == uid` (or `!=` when `equal` is false).
    Is {
        var: Var,
        uid: EntityUid,
        equal: bool,
    },
    /// `var in uid` (or not).
    In {
        var: Var,
        uid: EntityUid,
        inside: bool,
    },
    /// `var is Type`.
    Type { var: Var, type_name: String },
    /// `var.attr == value` (or `!=`); a bare boolean attribute is `== true`.
    Attr {
        var: Var,
        attr: String,
        want: Want,
        equal: bool,
    },
    /// `context.path == value` (or `!=`).
    Context {
        path: String,
        want: Lit,
        equal: bool,
    },
    /// `principal == resource` (or `!=`).
    SameEntity { equal: bool },
}

/// What a request's entities say, computed once per decision (both queries share it).
pub(crate) struct EntityFacts {
    principal_above: HashSet<EntityUid>,
    resource_above: HashSet<EntityUid>,
    /// The principal's and the resource's scalar attributes, from the same values their Cedar
    /// entities were built from.
    principal_attrs: Vec<(&'static str, Lit)>,
    resource_attrs: Vec<(&'static str, Lit)>,
}

impl EntityFacts {
    pub fn new(
        principal: &EntityUid,
        resource: &EntityUid,
        entities: &Entities,
        principal_attrs: Vec<(&'static str, Lit)>,
        resource_attrs: Vec<(&'static str, Lit)>,
    ) -> Self {
        let above = |uid: &EntityUid| -> HashSet<EntityUid> {
            let mut set: HashSet<EntityUid> = entities
                .ancestors(uid)
                .map(|a| a.cloned().collect())
                .unwrap_or_default();
            set.insert(uid.clone());
            set
        };
        Self {
            principal_above: above(principal),
            resource_above: above(resource),
            principal_attrs,
            resource_attrs,
        }
    }
}

/// The facts of one query the requirements are checked against.
pub(crate) struct Facts<'a> {
    pub principal: &'a EntityUid,
    pub resource: &'a EntityUid,
    pub entities: &'a Entities,
    pub context: &'a ContextFacts,
    known: &'a EntityFacts,
}

impl<'a> Facts<'a> {
    pub fn new(
        principal: &'a EntityUid,
        resource: &'a EntityUid,
        entities: &'a Entities,
        context: &'a ContextFacts,
        known: &'a EntityFacts,
    ) -> Self {
        Self {
            principal,
            resource,
            entities,
            context,
            known,
        }
    }

    fn attr(&self, var: Var, name: &str) -> Option<&Lit> {
        let attrs = match var {
            Var::Principal => &self.known.principal_attrs,
            Var::Resource => &self.known.resource_attrs,
        };
        attrs.iter().find(|(k, _)| *k == name).map(|(_, v)| v)
    }

    fn context(&self, path: &str) -> Option<&Lit> {
        self.context
            .iter()
            .find(|(p, _)| *p == path)
            .map(|(_, v)| v)
    }

    fn uid(&self, var: Var) -> &EntityUid {
        match var {
            Var::Principal => self.principal,
            Var::Resource => self.resource,
        }
    }

    fn above(&self, var: Var) -> &HashSet<EntityUid> {
        match var {
            Var::Principal => &self.known.principal_above,
            Var::Resource => &self.known.resource_above,
        }
    }

    /// `Some(true/false)` when the requirement is decided by the facts, `None` when unknown
    /// (an unknown requirement never excludes a policy).
    fn holds(&self, r: &Requirement) -> Option<bool> {
        match r {
            Requirement::Is { var, uid, equal } => Some((self.uid(*var) == uid) == *equal),
            Requirement::In { var, uid, inside } => Some(self.above(*var).contains(uid) == *inside),
            Requirement::Type { var, type_name } => {
                Some(self.uid(*var).type_name().to_string() == *type_name)
            }
            Requirement::SameEntity { equal } => Some((self.principal == self.resource) == *equal),
            Requirement::Context { path, want, equal } => {
                self.context(path).map(|v| (v == want) == *equal)
            }
            Requirement::Attr {
                var,
                attr,
                want,
                equal,
            } => match want {
                Want::Lit(w) => {
                    let value = self.attr(*var, attr)?;
                    if std::mem::discriminant(value) != std::mem::discriminant(w) {
                        return None;
                    }
                    Some((value == w) == *equal)
                }
                Want::Entity(w) => {
                    let value = self.entities.get(self.uid(*var))?.attr(attr)?.ok()?;
                    match value {
                        EvalResult::EntityUid(u) => Some((&u == w) == *equal),
                        _ => None,
                    }
                }
            },
        }
    }
}

/// The policies of one action, ready to be filtered per request.
#[derive(Default)]
pub(crate) struct Slice {
    policies: Vec<(Compiled, Vec<Requirement>)>,
    /// Policies with no entity in their scope (checked one by one).
    scan: Vec<usize>,
    /// Policies with an entity in the principal scope and one in the resource scope, by the
    /// principal's entity, then the resource's (two levels, so a probe borrows both keys).
    by_pair: HashMap<EntityUid, HashMap<EntityUid, Vec<usize>>>,
    /// Policies with an entity in the principal scope only.
    by_principal: HashMap<EntityUid, Vec<usize>>,
    /// Policies with an entity in the resource scope only.
    by_resource: HashMap<EntityUid, Vec<usize>>,
    /// Other policies that require an attribute or context value to equal a string
    /// (`resource.department == "Finance"`), by where the value is read, then the value.
    by_value: Vec<(Source, HashMap<String, Vec<usize>>)>,
}

/// Where an indexed string value is read: an attribute of the principal or the resource, or a
/// context field.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Source {
    Attr(Var, String),
    Context(String),
}

/// The first requirement of a policy that pins a string value, if any: where it is read, and
/// the value.
fn value_key(requirements: &[Requirement]) -> Option<(Source, String)> {
    requirements.iter().find_map(|r| match r {
        Requirement::Attr {
            var,
            attr,
            want: Want::Lit(Lit::Str(value)),
            equal: true,
        } => Some((Source::Attr(*var, attr.clone()), value.clone())),
        Requirement::Context {
            path,
            want: Lit::Str(value),
            equal: true,
        } => Some((Source::Context(path.clone()), value.clone())),
        _ => None,
    })
}

/// A policy read once at load, ready to be added to the slice of every action it can match.
#[derive(Clone)]
pub(crate) struct Analysed {
    compiled: Compiled,
    requirements: Vec<Requirement>,
}

impl Analysed {
    /// Reads a static policy authored in `layer`: what it requires first, and whether it can
    /// observe the approval state.
    pub fn new(policy: &Policy, layer: Option<Layer>) -> Self {
        let json = policy.to_json().ok();
        let requirements = json.as_ref().map(requirements).unwrap_or_default();
        // A policy whose JSON form is unavailable is assumed to read everything.
        let reads_approval = json
            .as_ref()
            .is_none_or(|j| reads_context_field(j, APPROVAL_FIELD));
        Self {
            compiled: Compiled::new(policy, layer, reads_approval),
            requirements,
        }
    }
}

/// The context record that holds the approval state.
const APPROVAL_FIELD: &str = "approval";

/// Whether a policy can observe `context.<field>`: it reads that field, or uses `context` any
/// other way than reading a different field (`context has …`, `context == …`). Conservative:
/// anything not recognised as a read of another field counts.
fn reads_context_field(json: &Value, field: &str) -> bool {
    match json {
        Value::Object(map) => {
            if let Some(dot) = map.get(".")
                && dot
                    .get("left")
                    .and_then(|l| l.get("Var"))
                    .and_then(Value::as_str)
                    == Some("context")
            {
                return dot
                    .get("attr")
                    .and_then(Value::as_str)
                    .is_none_or(|a| a == field);
            }
            if map.get("Var").and_then(Value::as_str) == Some("context") {
                return true;
            }
            map.values().any(|v| reads_context_field(v, field))
        }
        Value::Array(items) => items.iter().any(|v| reads_context_field(v, field)),
        _ => false,
    }
}

impl Slice {
    /// Adds a policy.
    pub fn add(&mut self, policy: Analysed) {
        let Analysed {
            compiled,
            requirements,
        } = policy;
        // An entity the principal (or resource) must be or be in, from the scope or a leading
        // `in` condition: the policy is found through the request's ancestors, not scanned.
        let scope_uid = |var: Var| {
            requirements.iter().find_map(|r| match r {
                Requirement::Is {
                    var: v,
                    uid,
                    equal: true,
                }
                | Requirement::In {
                    var: v,
                    uid,
                    inside: true,
                } if *v == var => Some(uid.clone()),
                _ => None,
            })
        };
        let index = self.policies.len();
        match (scope_uid(Var::Principal), scope_uid(Var::Resource)) {
            (Some(p), Some(r)) => self
                .by_pair
                .entry(p)
                .or_default()
                .entry(r)
                .or_default()
                .push(index),
            (Some(p), None) => self.by_principal.entry(p).or_default().push(index),
            (None, Some(r)) => self.by_resource.entry(r).or_default().push(index),
            (None, None) => match value_key(&requirements) {
                Some((source, value)) => {
                    let at = match self.by_value.iter().position(|(s, _)| *s == source) {
                        Some(at) => at,
                        None => {
                            self.by_value.push((source, HashMap::new()));
                            self.by_value.len() - 1
                        }
                    };
                    if let Some((_, values)) = self.by_value.get_mut(at) {
                        values.entry(value).or_default().push(index);
                    }
                }
                None => self.scan.push(index),
            },
        }
        self.policies.push((compiled, requirements));
    }

    /// The policies Cedar evaluates for this request: every policy not certainly inapplicable,
    /// in the order they were added.
    pub fn for_request(&self, facts: &Facts<'_>) -> Vec<&Compiled> {
        let mut picked: Vec<usize> = Vec::new();
        let applies = |i: usize| {
            self.policies
                .get(i)
                .is_some_and(|(_, reqs)| reqs.iter().all(|r| facts.holds(r) != Some(false)))
        };
        let mut take =
            |hits: &Vec<usize>| picked.extend(hits.iter().copied().filter(|i| applies(*i)));
        take(&self.scan);
        for p in &facts.known.principal_above {
            if let Some(hits) = self.by_principal.get(p) {
                take(hits);
            }
            if let Some(pairs) = self.by_pair.get(p) {
                for r in &facts.known.resource_above {
                    if let Some(hits) = pairs.get(r) {
                        take(hits);
                    }
                }
            }
        }
        for r in &facts.known.resource_above {
            if let Some(hits) = self.by_resource.get(r) {
                take(hits);
            }
        }
        for (source, values) in &self.by_value {
            let value = match source {
                Source::Attr(var, name) => facts.attr(*var, name),
                Source::Context(path) => facts.context(path),
            };
            if let Some(Lit::Str(v)) = value
                && let Some(hits) = values.get(v.as_str())
            {
                take(hits);
            }
        }
        picked.sort_unstable();
        picked.dedup();
        picked
            .into_iter()
            .filter_map(|i| self.policies.get(i).map(|(p, _)| p))
            .collect()
    }
}

fn entity_of(v: &Value) -> Option<EntityUid> {
    let e = v.get("__entity").unwrap_or(v);
    EntityUid::from_json(serde_json::json!({"__entity": e})).ok()
}

fn scope(json: &Value, var: Var, out: &mut Vec<Requirement>) {
    let Some(s) = json.get(match var {
        Var::Principal => "principal",
        Var::Resource => "resource",
    }) else {
        return;
    };
    let entity = s.get("entity").and_then(entity_of);
    match s.get("op").and_then(Value::as_str) {
        Some("==") => out.extend(entity.map(|uid| Requirement::Is {
            var,
            uid,
            equal: true,
        })),
        Some("in") => out.extend(entity.map(|uid| Requirement::In {
            var,
            uid,
            inside: true,
        })),
        Some("is") => {
            if let Some(t) = s.get("entity_type").and_then(Value::as_str) {
                out.push(Requirement::Type {
                    var,
                    type_name: t.to_owned(),
                });
            }
            if let Some(uid) = s
                .get("in")
                .and_then(|i| i.get("entity"))
                .and_then(entity_of)
            {
                out.push(Requirement::In {
                    var,
                    uid,
                    inside: true,
                });
            }
        }
        _ => {}
    }
}

/// The requirements Cedar checks first, in its order: scope, then the leading conjuncts of the
/// conditions up to the first one not understood.
fn requirements(json: &Value) -> Vec<Requirement> {
    let mut out = Vec::new();
    scope(json, Var::Principal, &mut out);
    scope(json, Var::Resource, &mut out);
    let conditions = json
        .get("conditions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for c in &conditions {
        let Some(body) = c.get("body") else { break };
        let positive = c.get("kind").and_then(Value::as_str) != Some("unless");
        let mut conjuncts = Vec::new();
        if positive {
            flatten_and(body, &mut conjuncts);
        } else {
            conjuncts.push(body);
        }
        for conjunct in conjuncts {
            match atom(conjunct, positive) {
                Some(r) => out.push(r),
                None => return out,
            }
        }
    }
    out
}

fn flatten_and<'v>(e: &'v Value, out: &mut Vec<&'v Value>) {
    match e.get("&&") {
        Some(and) => {
            if let (Some(l), Some(r)) = (and.get("left"), and.get("right")) {
                flatten_and(l, out);
                flatten_and(r, out);
            }
        }
        None => out.push(e),
    }
}

fn var_of(e: &Value) -> Option<Var> {
    match e.get("Var").and_then(Value::as_str) {
        Some("principal") => Some(Var::Principal),
        Some("resource") => Some(Var::Resource),
        _ => None,
    }
}

/// `context.a` or `context.a.b` as `a` / `a.b`.
fn context_path(e: &Value) -> Option<String> {
    let dot = e.get(".")?;
    let attr = dot.get("attr")?.as_str()?;
    let left = dot.get("left")?;
    if left.get("Var").and_then(Value::as_str) == Some("context") {
        return Some(attr.to_owned());
    }
    context_path(left).map(|p| format!("{p}.{attr}"))
}

/// `principal.attr` / `resource.attr` (one level: deeper paths could reach a missing entity).
fn var_attr(e: &Value) -> Option<(Var, String)> {
    let dot = e.get(".")?;
    Some((
        var_of(dot.get("left")?)?,
        dot.get("attr")?.as_str()?.to_owned(),
    ))
}

fn literal(e: &Value) -> Option<Want> {
    let v = e.get("Value")?;
    Some(match v {
        Value::Bool(b) => Want::Lit(Lit::Bool(*b)),
        Value::String(s) => Want::Lit(Lit::Str(s.clone())),
        Value::Number(n) => Want::Lit(Lit::Long(n.as_i64()?)),
        Value::Object(_) => Want::Entity(entity_of(v)?),
        _ => return None,
    })
}

fn compare(left: &Value, right: &Value, equal: bool) -> Option<Requirement> {
    if let (Some(a), Some(b)) = (var_of(left), var_of(right)) {
        return (a != b).then_some(Requirement::SameEntity { equal });
    }
    let (side, value) = match (literal(left), literal(right)) {
        (None, Some(v)) => (left, v),
        (Some(v), None) => (right, v),
        _ => return None,
    };
    if let Some(var) = var_of(side) {
        return match value {
            Want::Entity(uid) => Some(Requirement::Is { var, uid, equal }),
            Want::Lit(_) => None,
        };
    }
    if let Some((var, attr)) = var_attr(side) {
        return Some(Requirement::Attr {
            var,
            attr,
            want: value,
            equal,
        });
    }
    let path = context_path(side)?;
    match value {
        Want::Lit(want) => Some(Requirement::Context { path, want, equal }),
        Want::Entity(_) => None,
    }
}

/// One conjunct as a requirement (`positive` false for an `unless` body, which must be false).
fn atom(e: &Value, positive: bool) -> Option<Requirement> {
    if let Some(not) = e.get("!") {
        return atom(not.get("arg")?, !positive);
    }
    if let Some(eq) = e.get("==") {
        return compare(eq.get("left")?, eq.get("right")?, positive);
    }
    if let Some(ne) = e.get("!=") {
        return compare(ne.get("left")?, ne.get("right")?, !positive);
    }
    if let Some(inside) = e.get("in") {
        let var = var_of(inside.get("left")?)?;
        let Want::Entity(uid) = literal(inside.get("right")?)? else {
            return None;
        };
        return Some(Requirement::In {
            var,
            uid,
            inside: positive,
        });
    }
    if let Some((var, attr)) = var_attr(e) {
        return Some(Requirement::Attr {
            var,
            attr,
            want: Want::Lit(Lit::Bool(true)),
            equal: positive,
        });
    }
    let path = context_path(e)?;
    Some(Requirement::Context {
        path,
        want: Lit::Bool(true),
        equal: positive,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reads(condition: &str) -> bool {
        let text = format!("permit (principal, action, resource) when {{ {condition} }};");
        let policy = Policy::parse(None, text).unwrap_or_else(|e| panic!("{condition}: {e}"));
        let json = policy
            .to_json()
            .unwrap_or_else(|e| panic!("{condition}: {e}"));
        reads_context_field(&json, APPROVAL_FIELD)
    }

    #[test]
    fn every_way_of_observing_the_approval_state_counts() {
        assert!(reads("context.approval.granted"));
        assert!(reads("!context.approval.byOther"));
        assert!(reads("context[\"approval\"][\"granted\"]"));
        assert!(reads("context has approval"));
        assert!(reads("context == {}"));
        assert!(reads("principal.itAdmin || context.approval.granted"));
        assert!(!reads(
            "context.channel == \"web\" && context.recentCount > 3"
        ));
        assert!(!reads("principal.itAdmin"));
    }
}
