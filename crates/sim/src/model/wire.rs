//! Replies written the way each provider writes them (shapes of the captures in
//! `shared/reference/llm/`), whole or as server-sent events.

use serde_json::{Value, json};

use super::script::ScriptedReply;

/// Which API was called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Api {
    OpenAi,
    Anthropic,
}

/// A rough token count (4 characters a token), so usage is never zero and grows with the prompt.
pub(crate) fn tokens(text: &str) -> u64 {
    (text.len() as u64).div_ceil(4).max(1)
}

/// The reply as one JSON body.
pub(crate) fn whole(api: Api, reply: &ScriptedReply, position: usize, prompt_tokens: u64) -> Value {
    let text = reply.text.clone().unwrap_or_default();
    let out = tokens(&text)
        + reply
            .call
            .as_ref()
            .map_or(0, |c| tokens(&c.arguments.to_string()) + 5);
    let id = call_id(api, position);
    match api {
        Api::OpenAi => {
            let tool_calls: Option<Vec<Value>> = reply.call.as_ref().map(|c| {
                vec![json!({"id": id, "type": "function", "function": {"name": c.name, "arguments": c.arguments.to_string()}})]
            });
            let finish = if tool_calls.is_some() {
                "tool_calls"
            } else {
                "stop"
            };
            let mut message = json!({"role": "assistant", "content": if text.is_empty() { Value::Null } else { json!(text) }, "refusal": null});
            if let Some(calls) = tool_calls {
                message["tool_calls"] = json!(calls);
            }
            json!({
                "id": format!("chatcmpl-sim{position}"),
                "object": "chat.completion",
                "created": 1_727_346_182,
                "model": "scripted",
                "choices": [{"index": 0, "message": message, "logprobs": null, "finish_reason": finish}],
                "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": out, "total_tokens": prompt_tokens + out},
            })
        }
        Api::Anthropic => {
            let mut content = Vec::new();
            if !text.is_empty() {
                content.push(json!({"type": "text", "text": text}));
            }
            if let Some(c) = &reply.call {
                content.push(
                    json!({"type": "tool_use", "id": id, "name": c.name, "input": c.arguments}),
                );
            }
            json!({
                "id": format!("msg_sim{position}"),
                "type": "message",
                "role": "assistant",
                "model": "scripted",
                "content": content,
                "stop_reason": if reply.call.is_some() { "tool_use" } else { "end_turn" },
                "stop_sequence": null,
                "usage": {"input_tokens": prompt_tokens, "output_tokens": out},
            })
        }
    }
}

fn call_id(api: Api, position: usize) -> String {
    match api {
        Api::OpenAi => format!("call_sim{position:06}"),
        Api::Anthropic => format!("toolu_sim{position:06}"),
    }
}

/// Splits a string into three pieces, as streams deliver arguments in fragments.
fn pieces(s: &str) -> Vec<String> {
    let chars: Vec<char> = s.chars().collect();
    let n = chars.len().div_ceil(3).max(1);
    chars.chunks(n).map(|c| c.iter().collect()).collect()
}

/// The reply as server-sent events (`event:` lines for Anthropic, `data:` only for OpenAI).
pub(crate) fn stream(
    api: Api,
    reply: &ScriptedReply,
    position: usize,
    prompt_tokens: u64,
) -> String {
    let whole = whole(api, reply, position, prompt_tokens);
    let mut out = String::new();
    match api {
        Api::OpenAi => {
            let base = json!({"id": whole["id"], "object": "chat.completion.chunk", "created": whole["created"], "model": "scripted"});
            let mut chunk = |delta: Value, finish: Value| {
                let mut c = base.clone();
                c["choices"] = json!([{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}]);
                out.push_str(&format!("data: {c}\n\n"));
            };
            chunk(json!({"role": "assistant", "content": ""}), Value::Null);
            if let Some(text) = reply.text.as_deref().filter(|t| !t.is_empty()) {
                for p in pieces(text) {
                    chunk(json!({"content": p}), Value::Null);
                }
            }
            if let Some(c) = &reply.call {
                chunk(
                    json!({"tool_calls": [{"index": 0, "id": call_id(api, position), "type": "function", "function": {"name": c.name, "arguments": ""}}]}),
                    Value::Null,
                );
                for p in pieces(&c.arguments.to_string()) {
                    chunk(
                        json!({"tool_calls": [{"index": 0, "function": {"arguments": p}}]}),
                        Value::Null,
                    );
                }
            }
            chunk(json!({}), whole["choices"][0]["finish_reason"].clone());
            let mut last = base.clone();
            last["choices"] = json!([]);
            last["usage"] = whole["usage"].clone();
            out.push_str(&format!("data: {last}\n\ndata: [DONE]\n\n"));
        }
        Api::Anthropic => {
            let mut event = |name: &str, data: Value| {
                out.push_str(&format!("event: {name}\ndata: {data}\n\n"));
            };
            let mut start = whole.clone();
            start["content"] = json!([]);
            start["stop_reason"] = Value::Null;
            start["usage"]["output_tokens"] = json!(1);
            event(
                "message_start",
                json!({"type": "message_start", "message": start}),
            );
            event("ping", json!({"type": "ping"}));
            let blocks = whole["content"].as_array().cloned().unwrap_or_default();
            for (i, block) in blocks.iter().enumerate() {
                if block["type"] == "text" {
                    event(
                        "content_block_start",
                        json!({"type": "content_block_start", "index": i, "content_block": {"type": "text", "text": ""}}),
                    );
                    for p in pieces(block["text"].as_str().unwrap_or_default()) {
                        event(
                            "content_block_delta",
                            json!({"type": "content_block_delta", "index": i, "delta": {"type": "text_delta", "text": p}}),
                        );
                    }
                } else {
                    event(
                        "content_block_start",
                        json!({"type": "content_block_start", "index": i, "content_block": {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}}),
                    );
                    for p in pieces(&block["input"].to_string()) {
                        event(
                            "content_block_delta",
                            json!({"type": "content_block_delta", "index": i, "delta": {"type": "input_json_delta", "partial_json": p}}),
                        );
                    }
                }
                event(
                    "content_block_stop",
                    json!({"type": "content_block_stop", "index": i}),
                );
            }
            event(
                "message_delta",
                json!({"type": "message_delta", "delta": {"stop_reason": whole["stop_reason"], "stop_sequence": null}, "usage": {"output_tokens": whole["usage"]["output_tokens"]}}),
            );
            event("message_stop", json!({"type": "message_stop"}));
        }
    }
    out
}

/// The provider's error body for a status.
pub(crate) fn error_body(api: Api, status: u16) -> Value {
    match api {
        Api::OpenAi => {
            let (kind, message) = if status == 429 {
                (
                    "requests",
                    "Rate limit reached for requests. Please try again later.",
                )
            } else if status == 401 {
                ("invalid_request_error", "Incorrect API key provided.")
            } else {
                (
                    "server_error",
                    "The server had an error while processing your request.",
                )
            };
            json!({"error": {"message": message, "type": kind, "param": null, "code": null}})
        }
        Api::Anthropic => {
            let (kind, message) = match status {
                529 => ("overloaded_error", "Overloaded"),
                429 => ("rate_limit_error", "Rate limited"),
                401 => ("authentication_error", "invalid x-api-key"),
                _ => ("api_error", "Internal server error"),
            };
            json!({"type": "error", "error": {"type": kind, "message": message}})
        }
    }
}
