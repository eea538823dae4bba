use std::fmt;

use serde::{Deserialize, Serialize};

/// The three outcomes of a policy decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Permitted without a human.
    Auto,
    /// Permitted once a human approves.
    Ask,
    /// Forbidden, or no policy permits it.
    Deny,
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Auto => "auto",
            Self::Ask => "ask",
            Self::Deny => "deny",
        })
    }
}

/// The six policy layers; each is authored by different people and stored apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Layer {
    /// Ships with Steward; changed only by the operator.
    Global,
    /// Tenant-wide rules.
    Tenant,
    /// Who or what may be acted on.
    Target,
    /// Per-department rules.
    Department,
    /// Per-action rules.
    Action,
    /// Time windows, blast radius, rates, risk, channel.
    Runtime,
}

impl Layer {
    /// Every layer, in evaluation-report order.
    pub const ALL: [Layer; 6] = [
        Self::Global,
        Self::Tenant,
        Self::Target,
        Self::Department,
        Self::Action,
        Self::Runtime,
    ];

    /// The name used in `@layer("…")` annotations.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Global => "global",
            Self::Tenant => "tenant",
            Self::Target => "target",
            Self::Department => "department",
            Self::Action => "action",
            Self::Runtime => "runtime",
        }
    }

    /// Parses an `@layer` annotation value.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.as_str() == s)
    }
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A policy that determined a decision, named the way its author wrote it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DecidingPolicy {
    /// The policy's `@id`.
    pub id: String,
    /// The policy's `@layer`.
    pub layer: Layer,
}

/// A policy decision with everything needed to explain it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Decision {
    /// Auto, ask or deny.
    pub outcome: Outcome,
    /// The policies that determined the outcome (permits for auto/ask, forbids for deny; empty
    /// for a deny means no policy matched).
    pub deciding: Vec<DecidingPolicy>,
    /// For ask: the forbids that approval lifts.
    pub gates: Vec<DecidingPolicy>,
    /// A sentence for people: why this outcome.
    pub reason: String,
    /// Evaluation errors; any error makes the decision a deny (fail closed).
    pub errors: Vec<String>,
    /// Hash of the policy set that decided, so a decision can be tied to the exact rules in force.
    pub policy_set_hash: String,
}
