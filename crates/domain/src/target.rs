use serde::{Deserialize, Serialize};

/// What kind of directory object an action touches; becomes the Cedar entity type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TargetKind {
    /// A user account.
    Person,
    /// A group (security, Microsoft 365, distribution).
    Group,
    /// A managed device.
    Device,
    /// The tenant as a whole: the target of directory-wide reads such as a search.
    Tenant,
}

/// One object an action touches, resolved from the live directory before the policy decision so
/// that policies judge facts, not what a request claimed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Target {
    /// Person, group or device.
    pub kind: TargetKind,
    /// Directory object id.
    pub id: String,
    /// Human-readable name for previews and audit.
    pub display_name: String,
    /// Sign-in name (people only).
    pub upn: Option<String>,
    /// Department (people only).
    pub department: Option<String>,
    /// Ids of the groups the object is a member of.
    pub groups: Vec<String>,
    /// Holds an admin role, or (for a group) can be assigned roles.
    pub privileged: bool,
    /// A protected identity (break-glass, Steward's own service accounts): never a target.
    pub protected: bool,
    /// Directory id of the person's manager (people only, when one is set), so policies can let a
    /// manager approve changes for their own reports.
    #[serde(default)]
    pub manager: Option<String>,
    /// Directory id of the device's primary user (devices only), so policies can say "their own
    /// device" with `resource in principal`.
    #[serde(default)]
    pub owner: Option<String>,
}
