use std::fmt;

use thiserror::Error;

/// One precise complaint about a policy file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyProblem {
    /// File path (or `builtin:…`) the policy came from.
    pub origin: String,
    /// 1-based line, when the problem has a location.
    pub line: Option<usize>,
    /// The policy's `@id`, when known.
    pub policy: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for PolicyProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.origin)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(policy) = &self.policy {
            write!(f, " (policy `{policy}`)")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Why a policy set or schema could not be loaded. A set with any problem is rejected whole.
#[derive(Debug, Error)]
pub enum PolicyError {
    /// The generated schema did not parse (a bug in the action catalog).
    #[error("the generated Cedar schema is invalid: {0}")]
    Schema(String),
    /// One or more policy files are malformed, mis-annotated or fail strict validation.
    #[error("policy set rejected:\n{}", .0.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
    Rejected(Vec<PolicyProblem>),
}
