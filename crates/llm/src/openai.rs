//! The OpenAI chat-completions wire format, as OpenAI, Azure OpenAI, Ollama, vLLM and the
//! llama.cpp server speak it — with the tolerances their differences call for.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use crate::{ChatRequest, LlmError, ModelReply, ToolCall, Turn, Usage};

/// The request body. Tool calls are asked one at a time (`parallel_tool_calls: false`): each
/// call is decided by the gateway before the model sees its result.
pub(crate) fn encode(
    req: &ChatRequest,
    model: &str,
    stream: bool,
    max_tokens: Option<u32>,
) -> Value {
    let mut messages = vec![json!({"role": "system", "content": req.system})];
    for turn in &req.turns {
        messages.push(match turn {
            Turn::User(text) => json!({"role": "user", "content": text}),
            Turn::Assistant(text) => json!({"role": "assistant", "content": text}),
            Turn::Call(call) => json!({
                "role": "assistant",
                "content": null,
                "tool_calls": [{
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": call.arguments.to_string()},
                }],
            }),
            Turn::Result { id, content } => {
                json!({"role": "tool", "tool_call_id": id, "content": content})
            }
        });
    }
    let mut body = json!({"model": model, "messages": messages, "stream": stream});
    if !req.tools.is_empty() {
        let tools: Vec<Value> = req
            .tools
            .iter()
            .map(|t| json!({"type": "function", "function": {"name": t.name, "description": t.description, "parameters": t.parameters}}))
            .collect();
        body["tools"] = Value::Array(tools);
        body["tool_choice"] = json!("auto");
        body["parallel_tool_calls"] = json!(false);
    }
    if stream {
        body["stream_options"] = json!({"include_usage": true});
    }
    if let Some(max) = max_tokens {
        body["max_tokens"] = json!(max);
    }
    body
}

/// The error message of an error body: OpenAI's `{"error": {"message"}}` or the flat
/// `{"object": "error", "message"}` older vLLM returns.
pub(crate) fn error_message(body: &Value) -> Option<String> {
    body.pointer("/error/message")
        .or_else(|| body.get("error").filter(|e| e.is_string()))
        .or_else(|| {
            body.get("message")
                .filter(|_| body.get("object").and_then(Value::as_str) == Some("error"))
        })
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// A whole (non-streamed) completion.
pub(crate) fn decode(body: &Value) -> Result<ModelReply, LlmError> {
    if let Some(message) = error_message(body) {
        return Err(LlmError::Garbage(format!(
            "error in a 200 reply: {message}"
        )));
    }
    let message = body
        .pointer("/choices/0/message")
        .ok_or_else(|| LlmError::Garbage("no choices[0].message".into()))?;
    let text = message
        .get("content")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let mut calls = Vec::new();
    for (i, call) in message
        .get("tool_calls")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let name = call
            .pointer("/function/name")
            .or_else(|| call.get("name"))
            .and_then(Value::as_str)
            .ok_or_else(|| LlmError::Garbage("a tool call without a name".into()))?;
        let raw = call
            .pointer("/function/arguments")
            .or_else(|| call.get("arguments"))
            .cloned()
            .unwrap_or(Value::Null);
        calls.push(ToolCall {
            id: call_id(call.get("id"), i),
            name: name.to_owned(),
            arguments: arguments(&raw)?,
        });
    }
    Ok(ModelReply {
        text,
        calls,
        usage: usage(body.get("usage")),
    })
}

/// Some servers send no id or an empty one (llama.cpp before 2025-03): give it a stable one.
fn call_id(id: Option<&Value>, index: usize) -> String {
    id.and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .unwrap_or_else(|| format!("call{index:05}"))
}

/// Arguments arrive as a JSON string (OpenAI), an object (Ollama's native shape), or empty.
fn arguments(raw: &Value) -> Result<Value, LlmError> {
    let value = match raw {
        Value::String(s) if s.trim().is_empty() => Value::Object(Map::new()),
        Value::String(s) => serde_json::from_str(s).map_err(|e| {
            LlmError::Garbage(format!("tool arguments are not JSON ({e}): {s:.200}"))
        })?,
        Value::Null => Value::Object(Map::new()),
        other => other.clone(),
    };
    if value.is_object() {
        Ok(value)
    } else {
        Err(LlmError::Garbage(format!(
            "tool arguments are not an object: {value:.200}"
        )))
    }
}

fn usage(u: Option<&Value>) -> Usage {
    let field = |k: &str| {
        u.and_then(|u| u.get(k))
            .and_then(Value::as_u64)
            .unwrap_or(0)
    };
    Usage {
        input: field("prompt_tokens"),
        output: field("completion_tokens"),
    }
}

#[derive(Default)]
struct PartialCall {
    id: String,
    name: String,
    arguments: String,
}

/// Folds `chat.completion.chunk` events into one reply.
#[derive(Default)]
pub(crate) struct StreamFold {
    text: String,
    calls: Vec<PartialCall>,
    by_index: HashMap<u64, usize>,
    usage: Usage,
    done: bool,
}

impl StreamFold {
    /// One event's data. `[DONE]` ends the stream.
    pub(crate) fn feed(&mut self, data: &str) -> Result<(), LlmError> {
        if data.trim() == "[DONE]" {
            self.done = true;
            return Ok(());
        }
        let chunk: Value = serde_json::from_str(data).map_err(|e| {
            LlmError::Garbage(format!("stream chunk is not JSON ({e}): {data:.200}"))
        })?;
        if let Some(message) = error_message(&chunk) {
            return Err(LlmError::Status {
                status: 500,
                message,
            });
        }
        if let Some(u) = chunk.get("usage").filter(|u| u.is_object()) {
            self.usage = usage(Some(u));
        }
        let Some(delta) = chunk.pointer("/choices/0/delta") else {
            return Ok(());
        };
        if let Some(t) = delta.get("content").and_then(Value::as_str) {
            self.text.push_str(t);
        }
        for call in delta
            .get("tool_calls")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            self.feed_call(call);
        }
        Ok(())
    }

    fn feed_call(&mut self, call: &Value) {
        let index = call.get("index").and_then(Value::as_u64);
        // llama.cpp once sent the id inside `function`.
        let id = call
            .get("id")
            .or_else(|| call.pointer("/function/id"))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty());
        let existing = index.and_then(|i| self.by_index.get(&i).copied());
        // Ollama sent parallel calls all with index 0 (or none): a new id is a new call.
        let slot = match existing {
            Some(slot)
                if id.is_none_or(|id| {
                    self.calls[slot].id.is_empty() || self.calls[slot].id == id
                }) =>
            {
                slot
            }
            _ if index.is_none() && id.is_none() && !self.calls.is_empty() => self.calls.len() - 1,
            _ => {
                self.calls.push(PartialCall::default());
                let slot = self.calls.len() - 1;
                if let Some(i) = index {
                    self.by_index.insert(i, slot);
                }
                slot
            }
        };
        let partial = &mut self.calls[slot];
        if let Some(id) = id {
            partial.id = id.to_owned();
        }
        // The name comes whole (llama.cpp repeated it on every chunk: keep the first).
        if let Some(name) = call.pointer("/function/name").and_then(Value::as_str)
            && partial.name.is_empty()
        {
            partial.name = name.to_owned();
        }
        match call.pointer("/function/arguments") {
            Some(Value::String(piece)) => partial.arguments.push_str(piece),
            Some(obj @ Value::Object(_)) => partial.arguments = obj.to_string(),
            _ => {}
        }
    }

    /// The reply, once the stream ended.
    pub(crate) fn finish(self) -> Result<ModelReply, LlmError> {
        if !self.done && self.text.is_empty() && self.calls.is_empty() {
            return Err(LlmError::Garbage("the stream ended without a reply".into()));
        }
        let mut calls = Vec::with_capacity(self.calls.len());
        for (i, c) in self.calls.into_iter().enumerate() {
            if c.name.is_empty() {
                return Err(LlmError::Garbage(
                    "a streamed tool call without a name".into(),
                ));
            }
            calls.push(ToolCall {
                id: call_id(Some(&Value::String(c.id)), i),
                name: c.name,
                arguments: arguments(&Value::String(c.arguments))?,
            });
        }
        Ok(ModelReply {
            text: self.text,
            calls,
            usage: self.usage,
        })
    }
}
