//! Decides one query over the policies the pre-filter picked, with Cedar's own evaluator and
//! Cedar's own authorization rule: a satisfied `forbid` denies (its ids are the reasons);
//! otherwise a satisfied `permit` allows (its ids are the reasons); otherwise the answer is deny
//! with no reason. A policy whose evaluation errors counts as not satisfied and is reported, and
//! the engine fails closed on any report.
//!
//! `cedar_policy::Authorizer` takes a whole `PolicySet`, and building one per query (a map keyed
//! by policy id, and every policy's condition rebuilt at each evaluation) cost more than
//! evaluating the handful of picked policies. Here each policy's condition (principal and
//! resource scope and clauses as one expression, as Cedar forms it, less the action scope that
//! slicing by action already decided) is built once at load and evaluated directly. The
//! property tests compare every outcome and reason with `cedar_policy::Authorizer` over the
//! whole set.

use cedar_policy_core::ast::{self, Effect, Literal, ValueKind};
use cedar_policy_core::entities::Entities;
use cedar_policy_core::evaluator::Evaluator;
use cedar_policy_core::extensions::Extensions;

use steward_domain::Layer;

/// One static policy, ready to evaluate.
#[derive(Clone)]
pub(crate) struct Compiled {
    /// The policy's id.
    pub id: String,
    /// The layer it was authored in (`None` if the set does not know it, which cannot happen for
    /// a loaded set, but costs nothing to carry honestly).
    pub layer: Option<Layer>,
    forbid: bool,
    /// Whether the policy can observe `context.approval` (when no candidate of a request can,
    /// the approved query cannot answer differently and is not asked).
    pub reads_approval: bool,
    /// Principal and resource scope and the conditions, as one expression.
    condition: ast::Expr,
    /// The policy's slot values (empty for a static policy: links are written out at load).
    env: ast::SlotEnv,
}

impl Compiled {
    /// Compiles a static policy.
    pub fn new(policy: &cedar_policy::Policy, layer: Option<Layer>, reads_approval: bool) -> Self {
        let ast: &ast::Policy = policy.as_ref();
        Self {
            id: policy.id().to_string(),
            layer,
            forbid: ast.effect() == Effect::Forbid,
            reads_approval,
            // Cedar's condition less the action scope: a policy is only ever in the slices of
            // actions its action scope matches, so that conjunct is always true here (and
            // cannot error), while evaluating it cost a set built per policy per query.
            condition: ast::Expr::and(
                ast.principal_constraint().as_expr(),
                ast::Expr::and(
                    ast.resource_constraint().as_expr(),
                    ast.non_scope_constraints()
                        .cloned()
                        .unwrap_or_else(|| ast::Expr::val(true)),
                ),
            ),
            env: ast.env().clone(),
        }
    }
}

/// What one query decided.
#[derive(Clone)]
pub(crate) struct Answer<'a> {
    /// Cedar would answer `Allow`.
    pub allow: bool,
    /// The satisfied policies that decided: the forbids when any is satisfied, otherwise the
    /// permits (none when nothing permits).
    pub reasons: Vec<&'a Compiled>,
    /// One line per policy whose evaluation failed.
    pub errors: Vec<String>,
}

/// Evaluates `policies` for one request.
pub(crate) fn authorize<'a>(
    policies: impl IntoIterator<Item = &'a Compiled>,
    request: ast::Request,
    entities: &Entities,
) -> Answer<'a> {
    let evaluator = Evaluator::new(request, entities, Extensions::all_available());
    let mut permits = Vec::new();
    let mut forbids = Vec::new();
    let mut errors = Vec::new();
    for policy in policies {
        let satisfied = evaluator
            .interpret(&policy.condition, &policy.env)
            .map_err(|e| e.to_string())
            .and_then(|v| match v.value {
                ValueKind::Lit(Literal::Bool(b)) => Ok(b),
                other => Err(format!("its condition gave {other}, not a boolean")),
            });
        match satisfied {
            Ok(true) if policy.forbid => forbids.push(policy),
            Ok(true) => permits.push(policy),
            Ok(false) => {}
            Err(e) => errors.push(format!(
                "error while evaluating policy `{}`: {e}",
                policy.id
            )),
        }
    }
    if forbids.is_empty() {
        Answer {
            allow: !permits.is_empty(),
            reasons: permits,
            errors,
        }
    } else {
        Answer {
            allow: false,
            reasons: forbids,
            errors,
        }
    }
}
