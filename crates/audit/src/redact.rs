use serde_json::Value;

/// What a secret is replaced with in audit records and reports.
pub const REDACTED: &str = "[redacted]";

fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    [
        "password",
        "secret",
        "token",
        "temporaryaccesspass",
        "passcode",
        "code_verifier",
    ]
    .iter()
    .any(|s| k.contains(s))
}

/// Replaces every value under a secret-looking key (passwords, tokens, passes), at any depth, so
/// that secrets never enter the audit trail or a log.
pub fn redact(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = if is_secret_key(k) && !v.is_null() && !v.is_boolean() {
                        Value::String(REDACTED.into())
                    } else {
                        redact(v)
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(redact).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secrets_are_redacted_at_any_depth() {
        let v = json!({"user": "a", "newPassword": "S3cret!", "nested": [{"accessToken": "x"}], "forceChangePasswordNextSignIn": true});
        let r = redact(&v);
        assert_eq!(r["user"], "a");
        assert_eq!(r["newPassword"], REDACTED);
        assert_eq!(r["nested"][0]["accessToken"], REDACTED);
        assert_eq!(r["forceChangePasswordNextSignIn"], true);
    }
}
