//! "Approve Always": standing approvals as template-linked policies. Each mutating action has a
//! template `permit (principal in ?principal, action == A, resource in ?resource)`; a standing
//! approval links it to a principal scope and a resource scope. A link is a `permit`, so it can
//! widen what needs approval but never pass a `forbid`. Times and use counts live beside it (Cedar
//! templates cannot hold them): an expired or used-up link is simply not linked.

use std::collections::HashMap;

use cedar_policy::{EntityId, EntityTypeName, EntityUid, PolicyId, PolicySet, SlotId, Template};
use serde::{Deserialize, Serialize};
use steward_domain::{ActionName, ActionSpec, Layer};

use crate::{PolicyError, PolicyProblem};

/// What a scope names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScopeKind {
    /// One person.
    Person,
    /// Everyone in a department (id `tenant/Department name`).
    Department,
    /// The members of a group.
    Group,
}

/// One side of a standing approval's scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeEntity {
    /// Person, department or group.
    pub kind: ScopeKind,
    /// Its id (a directory object id, or `tenant/name` for a department).
    pub id: String,
}

/// A live standing approval, as the engine links it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StandingLink {
    /// The link's policy id (reported as a deciding policy of the `action` layer).
    pub id: String,
    /// The action it permits.
    pub action: ActionName,
    /// Who may have it done without asking.
    pub principal: ScopeEntity,
    /// To what.
    pub resource: ScopeEntity,
}

pub(crate) fn template_id(action: &ActionName) -> String {
    format!("standing.{action}")
}

fn uid(e: &ScopeEntity) -> Result<EntityUid, String> {
    let ty = match e.kind {
        ScopeKind::Person => "Person",
        ScopeKind::Department => "Department",
        ScopeKind::Group => "Group",
    };
    let ty: EntityTypeName = ty
        .parse()
        .map_err(|e: cedar_policy::ParseErrors| e.to_string())?;
    Ok(EntityUid::from_type_name_and_id(ty, EntityId::new(&e.id)))
}

fn problem(policy: Option<String>, message: String) -> PolicyError {
    PolicyError::Rejected(vec![PolicyProblem {
        origin: "standing approvals".into(),
        line: None,
        policy,
        message,
    }])
}

/// Adds one template per mutating action to `set`.
pub(crate) fn add_templates(
    set: &mut PolicySet,
    catalog: &[ActionSpec],
) -> Result<(), PolicyError> {
    for spec in catalog.iter().filter(|s| s.mutating) {
        let id = template_id(&spec.name);
        let text = format!(
            "@id(\"{id}\")\n@layer(\"action\")\npermit (principal in ?principal, action == Action::\"{}\", resource in ?resource);",
            spec.name
        );
        let template = Template::parse(Some(PolicyId::new(&id)), text)
            .map_err(|e| PolicyError::Schema(e.to_string()))?;
        set.add_template(template)
            .map_err(|e| PolicyError::Schema(e.to_string()))?;
    }
    Ok(())
}

/// Links every standing approval into `set`, recording each link's layer.
pub(crate) fn link_all(
    set: &mut PolicySet,
    layers: &mut HashMap<String, Layer>,
    links: &[StandingLink],
) -> Result<(), PolicyError> {
    for link in links {
        if layers.contains_key(&link.id) {
            return Err(problem(
                Some(link.id.clone()),
                "a standing approval's id clashes with a policy id".into(),
            ));
        }
        let values = HashMap::from([
            (
                SlotId::principal(),
                uid(&link.principal).map_err(|e| problem(Some(link.id.clone()), e))?,
            ),
            (
                SlotId::resource(),
                uid(&link.resource).map_err(|e| problem(Some(link.id.clone()), e))?,
            ),
        ]);
        set.link(
            PolicyId::new(template_id(&link.action)),
            PolicyId::new(&link.id),
            values,
        )
        .map_err(|e| problem(Some(link.id.clone()), e.to_string()))?;
        layers.insert(link.id.clone(), Layer::Action);
    }
    Ok(())
}
