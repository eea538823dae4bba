use std::fmt;

use serde::{Deserialize, Serialize};

use crate::TenantId;

/// Where a request came from; policies may treat channels differently (e.g. no critical actions
/// from chat), so it is part of every decision's context.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    /// The `steward` command line.
    Cli,
    /// The web console or the demo chat page.
    Web,
    /// Slack.
    Slack,
    /// Microsoft Teams.
    Teams,
    /// An MCP client.
    Mcp,
    /// A ticket taken from the ITSM tool's queue (the caller is the ticket's caller).
    Ticket,
}

impl Channel {
    /// The lower-case name used in policies and audit records.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cli => "cli",
            Self::Web => "web",
            Self::Slack => "slack",
            Self::Teams => "teams",
            Self::Mcp => "mcp",
            Self::Ticket => "ticket",
        }
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The person a request is judged as: the requester, resolved against the live directory.
///
/// Steward itself is never a principal; whatever a reasoner proposes is decided as a request by
/// this person, which is what rules out a confused deputy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Principal {
    /// The tenant the person belongs to.
    pub tenant: TenantId,
    /// The directory object id (Entra `id` / token `oid`).
    pub directory_id: String,
    /// The sign-in name.
    pub upn: String,
    /// The name people know them by.
    pub display_name: String,
    /// Their department as the directory states it, if any.
    pub department: Option<String>,
    /// Member of the tenant's IT administrators group: may ask Steward to act on other people.
    pub it_admin: bool,
    /// Holds a directory admin role.
    pub privileged: bool,
}
