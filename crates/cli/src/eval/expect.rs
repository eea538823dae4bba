//! Checking a case's expected reads against what Graph answers.

use serde_json::Value;

use super::case::ExpectedRead;

/// Whether `item` matches `pattern`: every key of an object pattern matches the item's value
/// (recursively); strings compare without regard to case (sign-in names and e-mails are
/// case-insensitive); anything else compares equal.
pub fn matches(pattern: &Value, item: &Value) -> bool {
    match (pattern, item) {
        (Value::Object(p), Value::Object(i)) => p
            .iter()
            .all(|(k, v)| i.get(k).is_some_and(|found| matches(v, found))),
        (Value::String(p), Value::String(i)) => p.eq_ignore_ascii_case(i),
        (Value::Array(p), Value::Array(i)) => {
            p.len() == i.len() && p.iter().zip(i).all(|(p, i)| matches(p, i))
        }
        _ => pattern == item,
    }
}

/// A collection's items: at `within`, else the answer's `value`, else the answer itself when it
/// is an array.
fn items<'a>(answer: &'a Value, within: Option<&str>) -> &'a [Value] {
    if let Some(pointer) = within {
        return answer
            .pointer(pointer)
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
    }
    answer
        .get("value")
        .and_then(Value::as_array)
        .or_else(|| answer.as_array())
        .map(Vec::as_slice)
        .unwrap_or_default()
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 160 {
        format!("{}…", s.chars().take(160).collect::<String>())
    } else {
        s
    }
}

/// What does not hold of `expected`, given the read's answer after the run (and before it, for
/// `changed`). Empty when everything holds.
pub fn mismatches(expected: &ExpectedRead, before: Option<&Value>, after: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for (pointer, want) in &expected.fields {
        match after.pointer(pointer) {
            Some(found) if matches(want, found) => {}
            Some(found) => out.push(format!(
                "{}: `{pointer}` is {}, expected {}",
                expected.read,
                short(found),
                short(want)
            )),
            None => out.push(format!(
                "{}: `{pointer}` is absent, expected {}",
                expected.read,
                short(want)
            )),
        }
    }
    let found = items(after, expected.within.as_deref());
    for pattern in &expected.includes {
        if !found.iter().any(|i| matches(pattern, i)) {
            out.push(format!(
                "{}: no item matches {}",
                expected.read,
                short(pattern)
            ));
        }
    }
    for pattern in &expected.excludes {
        if found.iter().any(|i| matches(pattern, i)) {
            out.push(format!(
                "{}: an item matches {}, which should be gone",
                expected.read,
                short(pattern)
            ));
        }
    }
    for pointer in &expected.changed {
        let old = before.and_then(|b| b.pointer(pointer));
        let new = after.pointer(pointer);
        if old == new {
            out.push(format!(
                "{}: `{pointer}` did not change ({})",
                expected.read,
                new.map(short).unwrap_or_else(|| "absent".into())
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn fields_includes_excludes_and_changed() -> anyhow::Result<()> {
        let expected: ExpectedRead = serde_json::from_value(json!({
            "read": "/groups/g/members",
            "fields": {"/value/0/userPrincipalName": "LEO@x.example"},
            "includes": [{"userPrincipalName": "leo@x.example"}],
            "excludes": [{"userPrincipalName": "ann@x.example"}],
            "changed": ["/value/0/id"]
        }))?;
        let before = json!({"value": [{"id": "0", "userPrincipalName": "ann@x.example"}]});
        let after = json!({"value": [{"id": "1", "userPrincipalName": "leo@x.example"}]});
        assert!(mismatches(&expected, Some(&before), &after).is_empty());
        let wrong = mismatches(&expected, Some(&before), &before);
        assert_eq!(wrong.len(), 4, "{wrong:?}");
        Ok(())
    }
}
