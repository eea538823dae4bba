//! Action names for operations: `NAME.<resource>.<operation>`, three lower-case parts, as the
//! catalog and Cedar require.

/// Path segments that say nothing about the resource (`/api/v1/…`, `/rest/api/3/…`).
fn is_noise(segment: &str) -> bool {
    let s = segment.to_ascii_lowercase();
    s.is_empty()
        || s == "api"
        || s == "rest"
        || (s.starts_with('v') && s[1..].chars().next().is_some_and(|c| c.is_ascii_digit()))
        || s.chars().all(|c| c.is_ascii_digit() || c == '.')
}

fn is_param(segment: &str) -> bool {
    segment.starts_with('{') && segment.ends_with('}')
}

/// `lowerCamel`, `Pascal`, `kebab-case` or `dotted.names` as `snake_case` (at most `max` bytes).
pub fn snake(text: &str, max: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_alphanumeric() {
            if c.is_ascii_uppercase() && i > 0 {
                let prev = chars[i - 1];
                let next_lower = chars.get(i + 1).is_some_and(char::is_ascii_lowercase);
                if prev.is_ascii_lowercase()
                    || prev.is_ascii_digit()
                    || (prev.is_ascii_uppercase() && next_lower)
                {
                    out.push('_');
                }
            }
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    let mut s: String = out.trim_matches('_').to_owned();
    while s.contains("__") {
        s = s.replace("__", "_");
    }
    if s.len() > max {
        s.truncate(max);
        s = s.trim_end_matches('_').to_owned();
    }
    s
}

/// The resource part: the literal segment just before the first parameter, else the last one.
pub fn resource(path: &str) -> String {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let first_param = segments.iter().position(|s| is_param(s));
    // The literal just before the first parameter, or the last one when there is none.
    let chosen = segments[..first_param.unwrap_or(segments.len())]
        .iter()
        .rfind(|s| !is_noise(s) && !is_param(s));
    let name = chosen.map(|s| snake(s, 40)).unwrap_or_default();
    if name.is_empty() { "root".into() } else { name }
}

/// The operation part: the operationId, or the method with the path's literal segments.
pub fn operation(method: &str, path: &str, operation_id: Option<&str>) -> String {
    if let Some(id) = operation_id {
        let name = snake(id, 64);
        if !name.is_empty() {
            return name;
        }
    }
    let literals: Vec<&str> = path
        .split('/')
        .filter(|s| !s.is_empty() && !is_param(s) && !is_noise(s))
        .collect();
    let by_params = if path.split('/').any(is_param) {
        "_by_id"
    } else {
        ""
    };
    snake(
        &format!(
            "{}_{}{by_params}",
            method.to_ascii_lowercase(),
            literals.join("_")
        ),
        64,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_like_the_vendor_wrote_them() {
        assert_eq!(snake("listUsers", 64), "list_users");
        assert_eq!(snake("getAPIKey", 64), "get_api_key");
        assert_eq!(
            snake("directory.users.signOut", 64),
            "directory_users_sign_out"
        );
        assert_eq!(snake("chat.postMessage", 64), "chat_post_message");
        assert_eq!(snake("__Weird--Name__", 64), "weird_name");
        assert_eq!(snake("ünïcode", 64), "n_code");
        assert_eq!(resource("/api/v1/users/{id}/lifecycle/unlock"), "users");
        assert_eq!(
            resource("/admin/directory/v1/users/{userKey}/signOut"),
            "users"
        );
        assert_eq!(
            resource("/rest/api/3/issue/{issueIdOrKey}/comment"),
            "issue"
        );
        assert_eq!(resource("/chat.postMessage"), "chat_post_message");
        assert_eq!(resource("/"), "root");
        assert_eq!(
            operation("POST", "/api/v1/users/{id}/lifecycle/unlock", None),
            "post_users_lifecycle_unlock_by_id"
        );
        assert_eq!(operation("GET", "/x", Some("  ")), "get_x");
    }
}
