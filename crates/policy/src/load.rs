use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;

use cedar_policy::{PolicyId, PolicySet, Schema, ValidationMode, Validator};
use miette::Diagnostic;
use sha2::{Digest, Sha256};
use steward_domain::Layer;

use crate::{PolicyError, PolicyProblem};

/// The text of one policy file and where it came from (for error messages and the layer check).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicySource {
    /// The file path, or `builtin:…` for policies shipped inside Steward.
    pub origin: String,
    /// The Cedar text.
    pub text: String,
    /// Whether this source may hold `global` policies (only Steward's own file may).
    pub global: bool,
}

/// A validated set with what the engine needs to explain decisions.
pub(crate) struct LoadedSet {
    pub set: PolicySet,
    pub layers: HashMap<String, Layer>,
    pub hard_approval: HashMap<String, bool>,
    pub hash: String,
}

fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset.min(text.len()))
        .map_or(1, |before| before.matches('\n').count() + 1)
}

fn first_offset(diag: &dyn Diagnostic) -> Option<usize> {
    diag.labels()
        .and_then(|mut labels| labels.next())
        .map(|l| l.offset())
}

fn describe(diag: &dyn Diagnostic) -> String {
    let mut msg = diag.to_string();
    if let Some(help) = diag.help() {
        msg.push_str(&format!(" ({help})"));
    }
    msg
}

/// Parses every source, re-keys each policy by its `@id`, checks the `@layer` annotations and
/// validates the whole set strictly. Any problem rejects the set whole.
/// `catalog` gives the standing-approval templates, added before the one strict validation of
/// the whole set.
pub(crate) fn load(
    sources: &[PolicySource],
    schema: &Schema,
    catalog: &[steward_domain::ActionSpec],
) -> Result<LoadedSet, PolicyError> {
    let mut problems = Vec::new();
    let mut set = PolicySet::new();
    let mut layers = HashMap::new();
    let mut hard_approval = HashMap::new();
    // policy id -> (origin index) to point validation errors at the right file.
    let mut origin_of: BTreeMap<String, usize> = BTreeMap::new();
    let mut hasher = Sha256::new();

    for (index, source) in sources.iter().enumerate() {
        hasher.update(source.origin.as_bytes());
        hasher.update([0]);
        hasher.update(source.text.as_bytes());
        hasher.update([0]);
        let parsed = match PolicySet::from_str(&source.text) {
            Ok(parsed) => parsed,
            Err(errors) => {
                for e in errors.iter() {
                    problems.push(PolicyProblem {
                        origin: source.origin.clone(),
                        line: first_offset(e).map(|o| line_of(&source.text, o)),
                        policy: None,
                        message: describe(e),
                    });
                }
                continue;
            }
        };
        if parsed.templates().next().is_some() {
            problems.push(PolicyProblem {
                origin: source.origin.clone(),
                line: None,
                policy: None,
                message: "templates are reserved for standing approvals and cannot be written in policy files".into(),
            });
        }
        for policy in parsed.policies() {
            // Cedar does not expose a policy's location; the line of its `@id` (or of the
            // policy text itself) points the author at it just as well.
            let line = policy
                .annotation("id")
                .and_then(|id| source.text.find(&format!("@id(\"{id}\")")))
                .or_else(|| source.text.find(&policy.to_string()))
                .map(|offset| line_of(&source.text, offset));
            let mut problem = |policy_id: Option<String>, message: String| {
                problems.push(PolicyProblem {
                    origin: source.origin.clone(),
                    line,
                    policy: policy_id,
                    message,
                });
            };
            let Some(id) = policy.annotation("id").map(str::to_owned) else {
                problem(None, "policy has no `@id(\"…\")` annotation".into());
                continue;
            };
            if id.trim().is_empty() {
                problem(None, "policy has an empty `@id`".into());
                continue;
            }
            let layer = match policy.annotation("layer").map(Layer::parse) {
                None => {
                    problem(Some(id), "policy has no `@layer(\"…\")` annotation".into());
                    continue;
                }
                Some(None) => {
                    problem(
                        Some(id),
                        "`@layer` must be one of global, tenant, target, department, action, runtime"
                            .into(),
                    );
                    continue;
                }
                Some(Some(layer)) => layer,
            };
            if (layer == Layer::Global) != source.global {
                let message = if source.global {
                    "Steward's global file may only hold `@layer(\"global\")` policies"
                } else {
                    "the global layer ships with Steward; a tenant file cannot add to it"
                };
                problem(Some(id), message.into());
                continue;
            }
            if layers.contains_key(&id) {
                problem(Some(id.clone()), format!("duplicate `@id` `{id}`"));
                continue;
            }
            let hard = policy.annotation("approval") == Some("hard");
            if let Err(e) = set.add(policy.new_id(PolicyId::new(&id))) {
                problem(Some(id), e.to_string());
                continue;
            }
            layers.insert(id.clone(), layer);
            hard_approval.insert(id.clone(), hard);
            origin_of.insert(id, index);
        }
    }

    if problems.is_empty() {
        crate::standing::add_templates(&mut set, catalog)?;
        let validation = Validator::new(schema.clone()).validate(&set, ValidationMode::Strict);
        for e in validation.validation_errors() {
            let id = e.policy_id().to_string();
            let source = origin_of.get(&id).and_then(|i| sources.get(*i));
            problems.push(PolicyProblem {
                origin: source.map_or_else(|| "?".into(), |s| s.origin.clone()),
                line: source.and_then(|s| first_offset(e).map(|o| line_of(&s.text, o))),
                policy: Some(id),
                message: describe(e),
            });
        }
    }

    if problems.is_empty() {
        Ok(LoadedSet {
            set,
            layers,
            hard_approval,
            hash: hex::encode(hasher.finalize()),
        })
    } else {
        Err(PolicyError::Rejected(problems))
    }
}

pub(crate) fn parse_schema(text: &str) -> Result<Schema, PolicyError> {
    Schema::from_cedarschema_str(text)
        .map(|(schema, _warnings)| schema)
        .map_err(|e| PolicyError::Schema(describe(&e)))
}
