//! Steward's policy engine: the hard block in the execution layer.
//!
//! Six layers of Cedar policies (global, shipped with Steward; tenant, target, department, action,
//! runtime, authored per tenant) are validated strictly against a schema generated from the action
//! catalog and evaluated as one set. A decision is one of three outcomes — auto, ask, deny — found
//! with two queries (see `POLICY-MODEL.md`), fails closed on any evaluation error and names its
//! deciding policies by their `@id` and `@layer`. No I/O happens here: callers hand in policy text.

mod engine;
mod entities;
mod error;
mod hypothetical;
mod load;
mod schema;
mod standing;

pub use engine::{ApprovalContext, ApproverRequest, DecisionRequest, PolicyEngine};
pub use error::{PolicyError, PolicyProblem};
pub use hypothetical::{ApprovalEffect, ExplainError, Hypothetical, HypotheticalTarget};
pub use load::PolicySource;
pub use schema::APPROVE_ACTION;
pub use schema::cedar_schema_text;
pub use standing::{ScopeEntity, ScopeKind, StandingLink};

/// The global layer that ships with Steward: tenant isolation, protected identities,
/// self-service limits, privileged targets and critical actions.
pub const GLOBAL_POLICIES: &str = include_str!("../policies/global.cedar");

/// A sensible default tenant policy set (tenant, target, action, department and runtime layers), as
/// `(file name, Cedar text)`: written to a new tenant's policy directory so it can be edited.
pub const DEFAULT_TENANT_POLICIES: &[(&str, &str)] = &[
    (
        "tenant.cedar",
        include_str!("../policies/default-tenant/tenant.cedar"),
    ),
    (
        "target.cedar",
        include_str!("../policies/default-tenant/target.cedar"),
    ),
    (
        "action.cedar",
        include_str!("../policies/default-tenant/action.cedar"),
    ),
    (
        "department.cedar",
        include_str!("../policies/default-tenant/department.cedar"),
    ),
    (
        "runtime.cedar",
        include_str!("../policies/default-tenant/runtime.cedar"),
    ),
];

/// The name the shipped global layer is reported under in errors.
pub const GLOBAL_ORIGIN: &str = "builtin:global.cedar";
