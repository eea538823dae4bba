//! The tools offered to the model each step: a few meta tools (ask, plan, escalate), the
//! directory look-ups, whatever the conversation already used, and the catalog's actions most
//! relevant to what the requester wrote — each with a compact schema.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};
use steward_domain::{ActionSpec, Step};
use steward_llm::ToolDef;

use crate::reasoner::ReasonerInput;

/// Ask the requester a question and wait for the answer.
pub(super) const ASK: &str = "ask_requester";
/// Record findings and the intended steps before acting.
pub(super) const PLAN: &str = "record_plan";
/// Hand the request to the IT team with the findings.
pub(super) const ESCALATE: &str = "escalate_to_it";

/// Actions offered whatever the request: finding and reading people.
const ALWAYS: [&str; 2] = ["entra.user.search", "entra.user.get"];

/// Words people write, mapped to the words of the actions that deal with them.
const SYNONYMS: &[(&str, &str)] = &[
    ("locked", "password signins reset_password"),
    ("lockout", "password signins reset_password"),
    ("login", "password signins"),
    ("log", "signins password"),
    ("sign", "signins revoke_sessions"),
    ("forgot", "password reset_password"),
    (
        "mfa",
        "auth_method delete_auth_method create_tap list_auth_methods",
    ),
    (
        "authenticator",
        "auth_method delete_auth_method create_tap list_auth_methods",
    ),
    ("phone", "auth_method device revoke_sessions"),
    ("laptop", "device"),
    ("stolen", "device remote_lock wipe revoke_sessions"),
    ("lost", "device remote_lock revoke_sessions"),
    ("compliant", "device sync"),
    ("compliance", "device sync"),
    ("office", "auto_reply"),
    ("holiday", "auto_reply"),
    ("vacation", "auto_reply"),
    ("leave", "auto_reply"),
    ("calendar", "calendar share"),
    ("forwarding", "inbox_rules"),
    ("phish", "risk signins inbox_rules revoke_sessions"),
    ("hacked", "risk signins inbox_rules revoke_sessions"),
    (
        "compromised",
        "risk signins inbox_rules revoke_sessions confirm_compromised",
    ),
    ("licence", "license assign_license list_skus"),
    ("license", "license assign_license list_skus"),
    ("team", "teams member group"),
    ("channel", "teams member"),
    ("distribution", "group add_member remove_member"),
    ("access", "group grant sharepoint onedrive"),
    ("site", "sharepoint site"),
    ("file", "onedrive item grant"),
    ("folder", "onedrive item grant"),
    ("starter", "create group add_member assign_license"),
    ("joiner", "create group add_member assign_license"),
    (
        "leaver",
        "disable revoke_sessions remove_member handover_to_manager",
    ),
    (
        "leaving",
        "disable revoke_sessions remove_member handover_to_manager",
    ),
    ("manager", "set_manager"),
    ("department", "update_profile set_manager group"),
    ("disabled", "enable"),
    ("admin", "group"),
];

/// The wire name of an action (`entra.user.get` → `entra__user__get`): both providers allow
/// only `[a-zA-Z0-9_-]` in tool names.
pub(super) fn wire_name(action: &str) -> String {
    action.replace('.', "__")
}

/// The action a wire name means. Names that cannot be an action (a tool the model made up in
/// another shape) become `unknown.tool.NAME`, which the gateway refuses and audits like any
/// call to an action that does not exist.
pub(super) fn action_name(wire: &str) -> String {
    let dotted = wire.replace("__", ".");
    if steward_domain::ActionName::new(dotted.clone()).is_ok() {
        return dotted;
    }
    let mut clean: String = wire
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    if clean.is_empty() {
        clean.push('_');
    }
    format!("unknown.tool.{clean}")
}

/// The tools offered for one step.
pub(super) struct Offered {
    actions: Vec<ActionSpec>,
}

impl Offered {
    /// The tool definitions, meta tools first.
    pub(super) fn definitions(&self) -> Vec<ToolDef> {
        let mut defs = vec![
            ToolDef {
                name: ASK.into(),
                description: "Ask the requester a question (to choose between people, or to confirm before anything destructive) and wait for the answer".into(),
                parameters: json!({"type": "object", "properties": {"question": {"type": "string"}, "options": {"type": "array", "items": {"type": "string"}}}, "required": ["question"]}),
            },
            ToolDef {
                name: PLAN.into(),
                description: "Record what the investigation found and the changes you intend, in order, before making them".into(),
                parameters: json!({"type": "object", "properties": {"findings": {"type": "array", "items": {"type": "string"}}, "steps": {"type": "array", "items": {"type": "string"}}}, "required": ["steps"]}),
            },
            ToolDef {
                name: ESCALATE.into(),
                description: "Hand the request to the IT team, with why and what you found, when you cannot or may not resolve it".into(),
                parameters: json!({"type": "object", "properties": {"reason": {"type": "string"}, "findings": {"type": "array", "items": {"type": "string"}}}, "required": ["reason"]}),
            },
        ];
        defs.extend(self.actions.iter().map(|a| ToolDef {
            name: wire_name(a.name.as_str()),
            description: format!(
                "{}{}",
                a.summary,
                if a.mutating {
                    " (changes something; policy-checked)"
                } else {
                    ""
                }
            ),
            parameters: compact(&a.params_schema),
        }));
        defs
    }
}

/// Words that say nothing about which action is meant (every action is about some user's
/// something).
const STOP_WORDS: &[&str] = &[
    "the", "and", "for", "out", "now", "with", "from", "that", "this", "can", "not", "you", "your",
    "user", "users", "entra", "account", "accounts", "please", "get", "set", "one", "all", "their",
    "them", "its", "has", "have", "was", "are", "new", "any", "who", "what", "when", "but", "our",
    "his", "her", "they", "been", "into", "just", "also", "need", "needs", "want",
];

/// Words of a text, lower-case, at least three letters, stop words left out.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .flat_map(|w| w.split('_'))
        .map(str::to_ascii_lowercase)
        .filter(|w| w.len() >= 3 && !STOP_WORDS.contains(&w.as_str()))
        .collect()
}

/// Two words are the same for our purpose when they share their first five letters (or are
/// equal): "passwords" ~ "password", "devices" ~ "device", "licences" ~ "licence".
fn same_word(a: &str, b: &str) -> bool {
    let stem = |w: &str| w.chars().take(5).collect::<String>();
    a == b || (a.len() >= 4 && b.len() >= 4 && stem(a) == stem(b))
}

/// Chooses the actions to offer: the ones always offered, the ones already used, then the
/// `limit` most relevant by the words of the conversation (and their synonyms).
pub(super) fn offer(catalog: &[ActionSpec], input: &ReasonerInput<'_>, limit: usize) -> Offered {
    let said: Vec<String> = input.messages.iter().flat_map(|m| words(m)).collect();
    // Fragments of action names the words point at ("locked" → `reset_password`).
    let pointed: Vec<&str> = said
        .iter()
        .filter_map(|w| SYNONYMS.iter().find(|(k, _)| same_word(k, w)))
        .flat_map(|(_, v)| v.split_whitespace())
        .collect();
    let used: BTreeSet<&str> = input
        .observations
        .iter()
        .flat_map(|o| match &o.step {
            Step::Investigate { call, .. } | Step::Act { call, .. } => vec![call.action.as_str()],
            Step::ActBulk { calls, .. } => calls.iter().map(|c| c.action.as_str()).collect(),
            _ => Vec::new(),
        })
        .collect();
    let mut scored: Vec<(usize, &ActionSpec)> = catalog
        .iter()
        .filter(|a| !ALWAYS.contains(&a.name.as_str()) && !used.contains(a.name.as_str()))
        .map(|a| {
            let own = words(&format!(
                "{} {}",
                a.name.as_str().replace('.', " "),
                a.summary
            ));
            let by_words = own
                .iter()
                .filter(|w| said.iter().any(|s| same_word(s, w)))
                .count();
            let by_synonyms = pointed
                .iter()
                .filter(|fragment| a.name.as_str().contains(*fragment))
                .count();
            (by_words + 2 * by_synonyms, a)
        })
        .filter(|(score, _)| *score > 0)
        .collect();
    scored.sort_by(|x, y| y.0.cmp(&x.0).then_with(|| x.1.name.cmp(&y.1.name)));
    // Only the actions that match about as well as the best one.
    let best = scored.first().map_or(0, |(score, _)| *score);
    scored.retain(|(score, _)| *score * 2 >= best);
    let mut actions: Vec<ActionSpec> = catalog
        .iter()
        .filter(|a| ALWAYS.contains(&a.name.as_str()) || used.contains(a.name.as_str()))
        .cloned()
        .collect();
    actions.extend(scored.into_iter().take(limit).map(|(_, a)| a.clone()));
    Offered { actions }
}

/// A schema with what the model does not need left out: titles, `$schema`, length limits (the
/// gateway still checks the full schema), descriptions cut to their first sentence, references
/// inlined and one-of-constants turned into enums.
pub(super) fn compact(schema: &Value) -> Value {
    let defs = schema.get("$defs").cloned().unwrap_or(Value::Null);
    shrink(schema, &defs, 0)
}

fn shrink(v: &Value, defs: &Value, depth: usize) -> Value {
    let Value::Object(map) = v else {
        return v.clone();
    };
    if let Some(target) = map.get("$ref").and_then(Value::as_str)
        && depth < 6
        && let Some(def) = target.strip_prefix("#/$defs/").and_then(|n| defs.get(n))
    {
        return shrink(def, defs, depth + 1);
    }
    // A choice of constants is an enum.
    if let Some(Value::Array(choices)) = map.get("oneOf")
        && let Some(consts) = choices
            .iter()
            .map(|c| c.get("const").cloned())
            .collect::<Option<Vec<_>>>()
    {
        return json!({"type": "string", "enum": consts});
    }
    // "X or null" is just X (leave it out for null).
    if let Some(Value::Array(choices)) = map.get("anyOf")
        && choices.len() == 2
        && let Some(other) = choices
            .iter()
            .find(|c| c.get("type") != Some(&json!("null")))
    {
        return shrink(other, defs, depth + 1);
    }
    let mut out = Map::new();
    for (k, val) in map {
        match k.as_str() {
            "$schema" | "title" | "$defs" | "minLength" | "maxLength" | "examples" => {}
            "description" => {
                if depth > 0 || !map.contains_key("properties") {
                    let text = val.as_str().unwrap_or_default();
                    let first = text
                        .split(". ")
                        .next()
                        .unwrap_or(text)
                        .trim_end_matches('.');
                    out.insert(k.clone(), json!(first));
                }
            }
            "type" => {
                // ["string", "null"] → "string".
                let t = match val {
                    Value::Array(ts) => ts
                        .iter()
                        .find(|t| *t != "null")
                        .cloned()
                        .unwrap_or(Value::Null),
                    other => other.clone(),
                };
                out.insert(k.clone(), t);
            }
            "properties" => {
                let props: Map<String, Value> = val
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(name, p)| (name.clone(), shrink(p, defs, depth + 1)))
                    .collect();
                out.insert(k.clone(), Value::Object(props));
            }
            _ => {
                let inner = match val {
                    Value::Object(_) => shrink(val, defs, depth + 1),
                    Value::Array(items) => {
                        Value::Array(items.iter().map(|i| shrink(i, defs, depth + 1)).collect())
                    }
                    other => other.clone(),
                };
                out.insert(k.clone(), inner);
            }
        }
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use steward_domain::{Principal, TenantId};

    use super::*;

    fn offered(message: &str) -> Vec<String> {
        let requester = Principal {
            tenant: TenantId::new("t").unwrap_or_else(|_| unreachable!()),
            directory_id: "1".into(),
            upn: "ada@contoso.example".into(),
            display_name: "Ada".into(),
            department: None,
            it_admin: true,
            privileged: false,
        };
        let messages = vec![message.to_owned()];
        let input = ReasonerInput {
            requester: &requester,
            domain: "contoso.example",
            messages: &messages,
            observations: &[],
            systems: &[],
            catalog: &[],
        };
        offer(&steward_connectors::msgraph::catalog(), &input, 10)
            .definitions()
            .into_iter()
            .map(|d| d.name)
            .collect()
    }

    #[test]
    fn the_tools_offered_fit_the_request() {
        for (message, wanted, unwanted) in [
            (
                "I forgot my password and now I'm locked out",
                "entra__user__reset_password",
                "intune__device__wipe",
            ),
            (
                "lost my phone on the train, sign me out everywhere",
                "entra__user__revoke_sessions",
                "exchange__auto_reply__set",
            ),
            (
                "set my out of office until monday",
                "exchange__auto_reply__set",
                "entra__user__reset_password",
            ),
            (
                "add Bob to the marketing distribution list",
                "entra__group__add_member",
                "intune__device__wipe",
            ),
            (
                "my laptop says it is not compliant",
                "intune__device__sync",
                "entra__user__disable",
            ),
        ] {
            let tools = offered(message);
            assert!(tools.contains(&wanted.to_owned()), "{message}: {tools:?}");
            assert!(
                !tools.contains(&unwanted.to_owned()),
                "{message}: {tools:?}"
            );
            assert!(tools.len() <= 15, "{message}: {tools:?}");
            assert!(tools.iter().all(|t| {
                t.len() <= 64
                    && t.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            }));
        }
    }

    #[test]
    fn schemas_are_compact_and_still_say_what_is_required() {
        let catalog = steward_connectors::msgraph::catalog();
        let spec = catalog
            .iter()
            .find(|a| a.name.as_str() == "exchange.auto_reply.set")
            .unwrap_or_else(|| unreachable!());
        let full = spec.params_schema.to_string().len();
        let small = compact(&spec.params_schema);
        assert!(small.to_string().len() * 2 < full, "{small}");
        assert_eq!(small["required"], json!(["user", "message"]));
        assert_eq!(
            small["properties"]["externalAudience"]["enum"],
            json!(["none", "contactsOnly", "all"])
        );
        assert_eq!(small["properties"]["start"]["type"], "string");
        assert!(small.get("$defs").is_none() && small.get("title").is_none());
    }

    #[test]
    fn names_map_both_ways_and_made_up_tools_stay_unknown() {
        assert_eq!(
            wire_name("entra.user.reset_password"),
            "entra__user__reset_password"
        );
        assert_eq!(
            action_name("entra__user__reset_password"),
            "entra.user.reset_password"
        );
        assert_eq!(action_name("shell_exec"), "unknown.tool.shell_exec");
        assert_eq!(action_name("Run-Command!"), "unknown.tool.run_command_");
    }
}
