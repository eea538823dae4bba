//! The decoders against the captured provider replies in `shared/reference/llm/`.

use std::path::PathBuf;

use anyhow::Context as _;
use serde_json::{Value, json};

use crate::{ChatRequest, ToolCall, ToolDef, Turn, anthropic, openai};

/// `shared/reference/llm` beside the repository (or `STEWARD_REFERENCE_DIR`); missing is an
/// error, never a skip.
fn reference(file: &str) -> anyhow::Result<String> {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let candidates: Vec<PathBuf> = std::env::var_os("STEWARD_REFERENCE_DIR")
        .map(PathBuf::from)
        .into_iter()
        .chain(
            manifest
                .ancestors()
                .map(|a| a.join("shared").join("reference")),
        )
        .chain([PathBuf::from("/work/shared/reference")])
        .collect();
    let path = candidates
        .iter()
        .map(|d| d.join("llm").join(file))
        .find(|p| p.is_file())
        .with_context(|| format!("cannot find llm/{file}; looked in {candidates:?}"))?;
    Ok(std::fs::read_to_string(path)?)
}

fn body(file: &str) -> anyhow::Result<Value> {
    let v: Value = serde_json::from_str(&reference(file)?)?;
    v.get("body").cloned().context("no body")
}

/// The `data:` payloads of an SSE capture, in order.
fn sse_data(file: &str) -> anyhow::Result<Vec<String>> {
    Ok(reference(file)?
        .lines()
        .filter_map(|l| l.strip_prefix("data: ").or_else(|| l.strip_prefix("data:")))
        .map(str::to_owned)
        .collect())
}

#[test]
fn openai_tool_call_reply_decodes_with_string_arguments_parsed() -> anyhow::Result<()> {
    let reply = openai::decode(&body("openai-response-tool-calls.json")?)?;
    assert_eq!(reply.calls.len(), 1);
    assert_eq!(reply.calls[0].id, "call_abc123");
    assert_eq!(reply.calls[0].name, "get_current_weather");
    assert_eq!(reply.calls[0].arguments, json!({"location": "Boston, MA"}));
    assert_eq!((reply.usage.input, reply.usage.output), (82, 17));
    Ok(())
}

#[test]
fn openai_streams_fold_into_the_same_reply() -> anyhow::Result<()> {
    let mut fold = openai::StreamFold::default();
    for data in sse_data("openai-stream-tool-calls.txt")? {
        fold.feed(&data)?;
    }
    let reply = fold.finish()?;
    assert_eq!(reply.calls.len(), 1);
    assert_eq!(reply.calls[0].name, "get_weather");
    assert_eq!(reply.calls[0].arguments, json!({"city": "New York City"}));
    assert_eq!((reply.usage.input, reply.usage.output), (44, 16));

    let mut fold = openai::StreamFold::default();
    for data in sse_data("openai-stream-parallel-tool-calls.txt")? {
        fold.feed(&data)?;
    }
    let reply = fold.finish()?;
    assert_eq!(reply.calls.len(), 2, "two parallel calls, index 0 and 1");
    assert!(reply.calls.iter().all(|c| c.arguments.is_object()));
    assert_ne!(reply.calls[0].id, reply.calls[1].id);
    Ok(())
}

#[test]
fn ollama_parallel_calls_on_one_index_stay_apart() -> anyhow::Result<()> {
    let mut fold = openai::StreamFold::default();
    for (id, city) in [("call_aaaa1111", "Oslo"), ("call_bbbb2222", "Rome")] {
        let chunk = json!({"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "id": id, "type": "function", "function": {"name": "get_weather", "arguments": {"city": city}}}]}, "finish_reason": null}]});
        fold.feed(&chunk.to_string())?;
    }
    fold.feed("[DONE]")?;
    let reply = fold.finish()?;
    assert_eq!(reply.calls.len(), 2);
    assert_eq!(reply.calls[1].arguments, json!({"city": "Rome"}));
    Ok(())
}

#[test]
fn broken_arguments_are_garbage_not_a_call() {
    let reply = json!({"choices": [{"message": {"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "x", "arguments": "{\"user\": "}}]}}]});
    assert!(matches!(
        openai::decode(&reply),
        Err(crate::LlmError::Garbage(_))
    ));
    let flat_vllm_error = json!({"object": "error", "message": "\"auto\" tool choice requires --enable-auto-tool-choice", "type": "BadRequestError", "param": null, "code": 400});
    assert!(openai::error_message(&flat_vllm_error).is_some_and(|m| m.contains("auto")));
}

#[test]
fn openai_error_429_body_gives_its_message() -> anyhow::Result<()> {
    let capture: Value = serde_json::from_str(&reference("openai-error-429.json")?)?;
    let message = openai::error_message(&capture["body"]).context("no message")?;
    assert!(!message.is_empty());
    Ok(())
}

#[test]
fn anthropic_tool_use_reply_decodes() -> anyhow::Result<()> {
    let reply = anthropic::decode(&body("anthropic-response-tool-use.json")?)?;
    assert_eq!(reply.calls.len(), 1);
    assert_eq!(reply.calls[0].name, "get_weather");
    assert_eq!(reply.calls[0].arguments["location"], "San Francisco, CA");
    assert!(reply.text.starts_with("I'll get the weather"));
    assert_eq!((reply.usage.input, reply.usage.output), (701, 93));
    Ok(())
}

#[test]
fn anthropic_stream_folds_text_and_partial_json() -> anyhow::Result<()> {
    let mut fold = anthropic::StreamFold::default();
    for data in sse_data("anthropic-stream-tool-use.txt")? {
        fold.feed(&data)?;
    }
    let reply = fold.finish()?;
    assert_eq!(reply.calls.len(), 1);
    assert_eq!(reply.calls[0].id, "toolu_01NRLabsLyVHZPKxbKvkfSMn");
    assert_eq!(reply.calls[0].arguments, json!({"location": "Paris"}));
    assert_eq!(
        reply.text,
        "I'll check the current weather in Paris for you."
    );
    assert_eq!((reply.usage.input, reply.usage.output), (377, 65));
    Ok(())
}

#[test]
fn anthropic_overloaded_stream_error_is_a_retryable_status() -> anyhow::Result<()> {
    let capture: Value = serde_json::from_str(&reference("anthropic-error-overloaded.json")?)?;
    let text = capture.to_string();
    assert!(text.contains("overloaded_error"));
    let mut fold = anthropic::StreamFold::default();
    let err =
        fold.feed(r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#);
    assert!(matches!(
        err,
        Err(crate::LlmError::Status { status: 529, .. })
    ));
    Ok(())
}

/// The encoders write what the captured requests show: OpenAI arguments as a string and tool
/// results as `role: tool`; Anthropic tool results inside a user message, roles alternating.
#[test]
fn requests_follow_the_captured_shapes() -> anyhow::Result<()> {
    let req = ChatRequest {
        system: "You are Steward.".into(),
        turns: vec![
            Turn::User("I am locked out".into()),
            Turn::Call(ToolCall {
                id: "c00000001".into(),
                name: "entra__user__get".into(),
                arguments: json!({"user": "ada@contoso.com"}),
            }),
            Turn::Result {
                id: "c00000001".into(),
                content: "{\"accountEnabled\":true}".into(),
            },
        ],
        tools: vec![ToolDef {
            name: "entra__user__get".into(),
            description: "Read a user".into(),
            parameters: json!({"type": "object", "properties": {"user": {"type": "string"}}}),
        }],
    };
    let o = openai::encode(&req, "gpt-4o-mini", false, None);
    let captured = body("openai-request-tool-result.json")?;
    assert!(captured["messages"][1]["tool_calls"][0]["function"]["arguments"].is_string());
    assert!(o["messages"][2]["tool_calls"][0]["function"]["arguments"].is_string());
    assert_eq!(o["messages"][3]["role"], "tool");
    assert_eq!(o["messages"][3]["tool_call_id"], "c00000001");
    assert_eq!(o["tools"][0]["type"], "function");

    let a = anthropic::encode(&req, "claude", true, None);
    let captured = body("anthropic-request-tool-result.json")?;
    assert!(captured["max_tokens"].is_u64());
    assert!(a["max_tokens"].is_u64());
    assert_eq!(a["system"], "You are Steward.");
    let roles: Vec<&str> = a["messages"]
        .as_array()
        .context("messages")?
        .iter()
        .filter_map(|m| m["role"].as_str())
        .collect();
    assert_eq!(roles, ["user", "assistant", "user"]);
    assert_eq!(a["messages"][2]["content"][0]["type"], "tool_result");
    assert_eq!(a["tools"][0]["input_schema"]["type"], "object");
    Ok(())
}
