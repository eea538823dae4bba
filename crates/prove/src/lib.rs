//! Proves Steward's policy invariants over a whole policy set, for every request the schema
//! allows, with `cedar-policy-symcc` and the `cvc5` SMT solver (a separate process: the Debian
//! package `cvc5`, or the binary named by the `CVC5` environment variable).
//!
//! Each invariant is a small Cedar property set (permit everything, forbid what must never
//! happen). The enforced set satisfies it when every request the set allows, the property allows
//! too; otherwise the solver produces a concrete counterexample — a request and its entities.

use std::str::FromStr;

use cedar_policy::PolicySet;
use cedar_policy_symcc::solver::LocalSolver;
use cedar_policy_symcc::{CedarSymCompiler, CompiledPolicySet};
use steward_policy::PolicyEngine;

/// One invariant: a property every policy set Steward enforces must have.
#[derive(Debug, Clone, Copy)]
pub struct Invariant {
    /// Short id, e.g. `self-service-own-objects`.
    pub id: &'static str,
    /// What it guarantees, in words.
    pub statement: &'static str,
    cedar: &'static str,
}

/// The invariants of `POLICY-MODEL.md`, proved on every `steward policy prove` and before a
/// standing approval is saved.
pub const INVARIANTS: &[Invariant] = &[
    Invariant {
        id: "self-service-own-objects",
        statement: "self-service touches only the requester's own objects",
        cedar: include_str!("../invariants/self-service-own-objects.cedar"),
    },
    Invariant {
        id: "privileged-second-person",
        statement: "a privileged target is changed only with someone else's approval",
        cedar: include_str!("../invariants/privileged-second-person.cedar"),
    },
    Invariant {
        id: "critical-needs-approval",
        statement: "no critical action runs without a human approval",
        cedar: include_str!("../invariants/critical-needs-approval.cedar"),
    },
    Invariant {
        id: "no-self-approval-on-privileged",
        statement: "nobody approves their own request on a privileged target",
        cedar: include_str!("../invariants/no-self-approval-on-privileged.cedar"),
    },
];

/// A request the policy set allows although an invariant forbids it.
#[derive(Debug, Clone)]
pub struct Violation {
    /// The invariant broken.
    pub invariant: &'static str,
    /// What it guarantees.
    pub statement: &'static str,
    /// The solver's concrete request and entities, as Cedar prints them.
    pub counterexample: String,
}

/// What a proof run found.
#[derive(Debug, Clone, Default)]
pub struct ProofReport {
    /// Request environments (principal type, action, resource type) examined.
    pub environments: usize,
    /// Invariant checks made (environments × invariants).
    pub checks: usize,
    /// Broken invariants, each with a counterexample; empty when all hold.
    pub violations: Vec<Violation>,
}

impl ProofReport {
    /// Every invariant holds.
    pub fn holds(&self) -> bool {
        self.violations.is_empty()
    }
}

/// Why a proof could not be carried out (as opposed to an invariant that does not hold).
#[derive(Debug, thiserror::Error)]
pub enum ProveError {
    /// The solver could not be started.
    #[error(
        "the cvc5 solver could not be started ({0}); install the Debian package `cvc5` or set CVC5 to its path"
    )]
    Solver(String),
    /// The policies or an invariant could not be compiled for the solver.
    #[error("could not compile {what} for the solver: {reason}")]
    Compile {
        /// The policy set or the invariant.
        what: String,
        /// Why.
        reason: String,
    },
    /// The solver failed on a query.
    #[error("the solver failed while checking `{invariant}`: {reason}")]
    Check {
        /// The invariant being checked.
        invariant: &'static str,
        /// Why.
        reason: String,
    },
}

/// Proves every invariant over `engine`'s whole set (standing approvals linked in). A violation
/// is reported once per invariant, with the first counterexample found.
pub async fn prove(engine: &PolicyEngine) -> Result<ProofReport, ProveError> {
    let schema = engine.schema();
    // SymCC takes no template links: each standing approval is written out as its static policy.
    let set = &engine
        .static_policy_set()
        .map_err(|e| ProveError::Compile {
            what: "the policy set".into(),
            reason: e.to_string(),
        })?;
    let properties: Vec<(Invariant, PolicySet)> = INVARIANTS
        .iter()
        .map(|inv| {
            PolicySet::from_str(inv.cedar)
                .map(|p| (*inv, p))
                .map_err(|e| ProveError::Compile {
                    what: format!("invariant `{}`", inv.id),
                    reason: e.to_string(),
                })
        })
        .collect::<Result<_, _>>()?;
    let solver = LocalSolver::cvc5().map_err(|e| ProveError::Solver(e.to_string()))?;
    let mut compiler =
        CedarSymCompiler::new(solver).map_err(|e| ProveError::Solver(e.to_string()))?;
    let mut report = ProofReport::default();
    for env in schema.request_envs() {
        report.environments += 1;
        let enforced =
            CompiledPolicySet::compile(set, &env, schema).map_err(|e| ProveError::Compile {
                what: "the policy set".into(),
                reason: e.to_string(),
            })?;
        for (inv, property) in &properties {
            if report.violations.iter().any(|v| v.invariant == inv.id) {
                continue;
            }
            report.checks += 1;
            let property = CompiledPolicySet::compile(property, &env, schema).map_err(|e| {
                ProveError::Compile {
                    what: format!("invariant `{}`", inv.id),
                    reason: e.to_string(),
                }
            })?;
            let found = compiler
                .check_implies_with_counterexample_opt(&enforced, &property)
                .await
                .map_err(|e| ProveError::Check {
                    invariant: inv.id,
                    reason: e.to_string(),
                })?;
            if let Some(counterexample) = found {
                report.violations.push(Violation {
                    invariant: inv.id,
                    statement: inv.statement,
                    counterexample: readable(&counterexample.to_string()),
                });
            }
        }
    }
    Ok(report)
}

/// The solver's counterexample without the action hierarchy (the same in every one): the
/// request, its context and the people, groups and tenants involved.
fn readable(counterexample: &str) -> String {
    counterexample
        .lines()
        .filter(|l| {
            let t = l.trim_start();
            !(t.starts_with("Action::\"") && t.ends_with(','))
        })
        .collect::<Vec<_>>()
        .join("\n")
}
