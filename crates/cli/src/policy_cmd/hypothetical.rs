//! The command line's names for a hypothetical request's target, as the policy crate's.

pub use steward_policy::Hypothetical;
use steward_policy::HypotheticalTarget;

use crate::cli::ExplainTarget;

impl From<ExplainTarget> for HypotheticalTarget {
    fn from(t: ExplainTarget) -> Self {
        match t {
            ExplainTarget::Requester => Self::Requester,
            ExplainTarget::Other => Self::Other,
            ExplainTarget::Privileged => Self::Privileged,
            ExplainTarget::Protected => Self::Protected,
            ExplainTarget::Group => Self::Group,
            ExplainTarget::Tenant => Self::Tenant,
            ExplainTarget::OwnDevice => Self::OwnDevice,
            ExplainTarget::Device => Self::Device,
        }
    }
}
