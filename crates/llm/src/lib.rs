//! Clients of language-model providers for Steward's LLM reasoner.
//!
//! One provider-neutral conversation ([`ChatRequest`]) is encoded into either wire format —
//! OpenAI-compatible chat completions (OpenAI, Azure OpenAI, Ollama, vLLM, llama.cpp server) or
//! Anthropic Messages — and the reply, streamed or not, is decoded back into one
//! [`ModelReply`]. The client never acts on anything: it returns proposed tool calls as data,
//! and a reply is only returned once it is complete, so a dropped stream leaves nothing half-read.

mod anthropic;
mod client;
mod config;
mod error;
mod openai;
mod retry;

pub use client::ModelClient;
pub use config::{ProviderConfig, ProviderKind};
pub use error::LlmError;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A tool the model may call: the name it calls it by, what it is for, and a JSON Schema of its
/// arguments.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolDef {
    /// Wire name (`^[a-zA-Z0-9_-]{1,64}$`, the pattern both providers accept).
    pub name: String,
    /// One line the model reads to choose it.
    pub description: String,
    /// JSON Schema (an object schema) of the arguments.
    pub parameters: Value,
}

/// One entry of the conversation sent to the model, provider-neutral.
#[derive(Debug, Clone, PartialEq)]
pub enum Turn {
    /// Something the requester wrote.
    User(String),
    /// The model's earlier text.
    Assistant(String),
    /// A tool call the model made earlier.
    Call(ToolCall),
    /// What came of the call with this id.
    Result {
        /// The call's id.
        id: String,
        /// The result as text (JSON or a sentence).
        content: String,
    },
}

/// A conversation to continue.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatRequest {
    /// Instructions (never secrets).
    pub system: String,
    /// The conversation so far, oldest first.
    pub turns: Vec<Turn>,
    /// The tools offered this time.
    pub tools: Vec<ToolDef>,
}

/// A tool call proposed by the model.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolCall {
    /// The provider's id for the call (echoed back with its result).
    pub id: String,
    /// The tool's wire name.
    pub name: String,
    /// The arguments (an object).
    pub arguments: Value,
}

/// Tokens a request used, as the provider counted them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Usage {
    /// Prompt (input) tokens.
    pub input: u64,
    /// Completion (output) tokens.
    pub output: u64,
}

impl Usage {
    /// Adds another request's use.
    pub fn add(&mut self, other: Usage) {
        self.input = self.input.saturating_add(other.input);
        self.output = self.output.saturating_add(other.output);
    }
}

/// What the model answered.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ModelReply {
    /// Text, if any.
    pub text: String,
    /// Tool calls, in order.
    pub calls: Vec<ToolCall>,
    /// Tokens used by this request (retries included).
    pub usage: Usage,
}

#[cfg(test)]
mod wire_tests;
