//! What the scripted model answers: per conversation (picked by its first user message), one
//! reply per position (the number of assistant turns the request already holds), so the server
//! keeps no session and conversations can run side by side.

use serde::Deserialize;
use serde_json::Value;

/// A whole script.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Script {
    /// Conversations, tried in order; the first whose `match` the first user message contains
    /// (case-insensitive) answers. `*` matches anything.
    pub conversations: Vec<ScriptedConversation>,
}

/// One scripted conversation.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScriptedConversation {
    /// Text the first user message contains, or `*`.
    #[serde(rename = "match")]
    pub pattern: String,
    /// The model's replies, in order; past the end, the last is repeated.
    pub replies: Vec<ScriptedReply>,
}

/// One reply, and the failures served before it the first times it is asked for.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ScriptedReply {
    /// Failures returned, in order, on the first requests for this position.
    #[serde(default)]
    pub failures: Vec<Failure>,
    /// A tool call (wire name and arguments).
    #[serde(default)]
    pub call: Option<ScriptedCall>,
    /// Text (the final answer when there is no call).
    #[serde(default)]
    pub text: Option<String>,
    /// A body that is not the provider's format at all (sent with status 200).
    #[serde(default)]
    pub garbage: Option<String>,
}

/// A tool call the script makes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScriptedCall {
    /// The tool's wire name.
    pub name: String,
    /// Arguments (sent as the provider sends them: a string for OpenAI, an object for Anthropic).
    #[serde(default)]
    pub arguments: Value,
}

/// A failure served instead of a reply.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Failure {
    /// HTTP status (429, 500, 529…), with the provider's error body.
    #[serde(default)]
    pub status: Option<u16>,
    /// `Retry-After` seconds sent with it.
    #[serde(default)]
    pub retry_after: Option<u64>,
    /// Wait this long before answering (to trip the client's timeout).
    #[serde(default)]
    pub delay_ms: Option<u64>,
}

impl Script {
    /// The conversation a first user message belongs to.
    pub(crate) fn conversation(&self, first_user: &str) -> Option<(usize, &ScriptedConversation)> {
        let lower = first_user.to_lowercase();
        self.conversations
            .iter()
            .enumerate()
            .find(|(_, c)| c.pattern == "*" || lower.contains(&c.pattern.to_lowercase()))
    }
}
