//! The Anthropic Messages wire format.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::{ChatRequest, LlmError, ModelReply, ToolCall, Turn, Usage};

/// Anthropic requires an output limit on every request.
const DEFAULT_MAX_TOKENS: u32 = 1024;

/// The request body. Roles must alternate, so consecutive turns of one role are merged into
/// one message of several content blocks.
pub(crate) fn encode(
    req: &ChatRequest,
    model: &str,
    stream: bool,
    max_tokens: Option<u32>,
) -> Value {
    let mut messages: Vec<(String, Vec<Value>)> = Vec::new();
    for turn in &req.turns {
        let (role, block) = match turn {
            Turn::User(text) => ("user", json!({"type": "text", "text": text})),
            Turn::Assistant(text) => ("assistant", json!({"type": "text", "text": text})),
            Turn::Call(call) => (
                "assistant",
                json!({"type": "tool_use", "id": call.id, "name": call.name, "input": call.arguments}),
            ),
            Turn::Result { id, content } => (
                "user",
                json!({"type": "tool_result", "tool_use_id": id, "content": content}),
            ),
        };
        match messages.last_mut() {
            Some((last, blocks)) if last == role => blocks.push(block),
            _ => messages.push((role.to_owned(), vec![block])),
        }
    }
    let messages: Vec<Value> = messages
        .into_iter()
        .map(|(role, content)| json!({"role": role, "content": content}))
        .collect();
    let mut body = json!({
        "model": model,
        "max_tokens": max_tokens.unwrap_or(DEFAULT_MAX_TOKENS),
        "system": req.system,
        "messages": messages,
    });
    if stream {
        body["stream"] = json!(true);
    }
    if !req.tools.is_empty() {
        let tools: Vec<Value> = req
            .tools
            .iter()
            .map(|t| json!({"name": t.name, "description": t.description, "input_schema": t.parameters}))
            .collect();
        body["tools"] = Value::Array(tools);
    }
    body
}

/// `{"type": "error", "error": {"type", "message"}}`.
pub(crate) fn error_message(body: &Value) -> Option<String> {
    let error = body.get("error")?;
    let kind = error.get("type").and_then(Value::as_str).unwrap_or("error");
    let message = error
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or_default();
    Some(format!("{kind}: {message}"))
}

/// A whole (non-streamed) message.
pub(crate) fn decode(body: &Value) -> Result<ModelReply, LlmError> {
    if let Some(message) = error_message(body) {
        return Err(LlmError::Garbage(format!(
            "error in a 200 reply: {message}"
        )));
    }
    let content = body
        .get("content")
        .and_then(Value::as_array)
        .ok_or_else(|| LlmError::Garbage("no content array".into()))?;
    let mut reply = ModelReply {
        usage: usage(body.get("usage")),
        ..ModelReply::default()
    };
    for block in content {
        match block.get("type").and_then(Value::as_str) {
            Some("text") => {
                reply.text.push_str(
                    block
                        .get("text")
                        .and_then(Value::as_str)
                        .unwrap_or_default(),
                );
            }
            Some("tool_use") => reply
                .calls
                .push(tool_use(block, block.get("input").cloned())?),
            _ => {}
        }
    }
    Ok(reply)
}

fn tool_use(block: &Value, input: Option<Value>) -> Result<ToolCall, LlmError> {
    let field = |k: &str| {
        block
            .get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| LlmError::Garbage(format!("a tool_use block without `{k}`")))
    };
    let arguments = input.unwrap_or_else(|| Value::Object(Map::new()));
    if !arguments.is_object() {
        return Err(LlmError::Garbage(format!(
            "tool input is not an object: {arguments:.200}"
        )));
    }
    Ok(ToolCall {
        id: field("id")?,
        name: field("name")?,
        arguments,
    })
}

fn usage(u: Option<&Value>) -> Usage {
    let field = |k: &str| {
        u.and_then(|u| u.get(k))
            .and_then(Value::as_u64)
            .unwrap_or(0)
    };
    Usage {
        input: field("input_tokens"),
        output: field("output_tokens"),
    }
}

/// One content block being streamed.
struct PartialBlock {
    start: Value,
    text: String,
    json: String,
}

/// Folds Messages stream events into one reply.
#[derive(Default)]
pub(crate) struct StreamFold {
    blocks: BTreeMap<u64, PartialBlock>,
    usage: Usage,
    stopped: bool,
}

impl StreamFold {
    /// One event's data (the event name is repeated as `type` inside it).
    pub(crate) fn feed(&mut self, data: &str) -> Result<(), LlmError> {
        let event: Value = serde_json::from_str(data).map_err(|e| {
            LlmError::Garbage(format!("stream event is not JSON ({e}): {data:.200}"))
        })?;
        let index = event.get("index").and_then(Value::as_u64).unwrap_or(0);
        match event.get("type").and_then(Value::as_str) {
            Some("error") => {
                let message = error_message(&event).unwrap_or_else(|| "error".into());
                let status = if message.starts_with("overloaded_error") {
                    529
                } else {
                    500
                };
                return Err(LlmError::Status { status, message });
            }
            Some("message_start") => {
                self.usage = usage(event.pointer("/message/usage"));
            }
            Some("content_block_start") => {
                let start = event.get("content_block").cloned().unwrap_or(Value::Null);
                let text = start
                    .get("text")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                self.blocks.insert(
                    index,
                    PartialBlock {
                        start,
                        text,
                        json: String::new(),
                    },
                );
            }
            Some("content_block_delta") => {
                let block = self.blocks.get_mut(&index).ok_or_else(|| {
                    LlmError::Garbage(format!("a delta for block {index}, never started"))
                })?;
                let delta = event.get("delta").unwrap_or(&Value::Null);
                if let Some(t) = delta.get("text").and_then(Value::as_str) {
                    block.text.push_str(t);
                }
                if let Some(j) = delta.get("partial_json").and_then(Value::as_str) {
                    block.json.push_str(j);
                }
            }
            Some("message_delta") => {
                if let Some(out) = event
                    .pointer("/usage/output_tokens")
                    .and_then(Value::as_u64)
                {
                    self.usage.output = out;
                }
            }
            Some("message_stop") => self.stopped = true,
            _ => {}
        }
        Ok(())
    }

    /// The reply, once `message_stop` arrived.
    pub(crate) fn finish(self) -> Result<ModelReply, LlmError> {
        if !self.stopped {
            return Err(LlmError::Garbage(
                "the stream ended before message_stop".into(),
            ));
        }
        let mut reply = ModelReply {
            usage: self.usage,
            ..ModelReply::default()
        };
        for block in self.blocks.into_values() {
            match block.start.get("type").and_then(Value::as_str) {
                Some("text") => reply.text.push_str(&block.text),
                Some("tool_use") => {
                    let input = if block.json.trim().is_empty() {
                        block.start.get("input").cloned()
                    } else {
                        Some(serde_json::from_str(&block.json).map_err(|e| {
                            LlmError::Garbage(format!(
                                "tool input is not JSON ({e}): {:.200}",
                                block.json
                            ))
                        })?)
                    };
                    reply.calls.push(tool_use(&block.start, input)?);
                }
                _ => {}
            }
        }
        Ok(reply)
    }
}
