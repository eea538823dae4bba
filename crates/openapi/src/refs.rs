//! Local references (`#/…` JSON pointers): followed inside the document only — an importer
//! that fetched other files or URLs named by an uploaded document would reach wherever its
//! author liked.

use std::fmt;

use serde_json::Value;

use crate::ImportError;

/// A place in the document, kept as its segments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pointer(Vec<String>);

impl Pointer {
    /// The document itself.
    pub fn root() -> Self {
        Self(Vec::new())
    }

    /// One level down.
    pub fn child(&self, segment: &str) -> Self {
        let mut segments = self.0.clone();
        segments.push(segment.to_owned());
        Self(segments)
    }

    /// One level up (the document itself stays where it is).
    pub fn parent(&self) -> Self {
        let mut segments = self.0.clone();
        segments.pop();
        Self(segments)
    }

    /// The last segment.
    pub fn last(&self) -> Option<&str> {
        self.0.last().map(String::as_str)
    }

    /// What is at this place in `doc`.
    pub fn find<'d>(&self, doc: &'d Value) -> Option<&'d Value> {
        self.0.iter().try_fold(doc, |v, s| match v {
            Value::Object(map) => map.get(s),
            Value::Array(items) => s.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => None,
        })
    }

    fn parse(reference: &str) -> Option<Self> {
        let fragment = reference.strip_prefix('#')?;
        if fragment.is_empty() {
            return Some(Self::root());
        }
        let fragment = fragment.strip_prefix('/')?;
        Some(Self(
            fragment
                .split('/')
                .map(|s| percent_decode(s).replace("~1", "/").replace("~0", "~"))
                .collect(),
        ))
    }
}

impl fmt::Display for Pointer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("#")?;
        for s in &self.0 {
            write!(f, "/{}", s.replace('~', "~0").replace('/', "~1"))?;
        }
        Ok(())
    }
}

/// `%7B` and the like, as a URI fragment may carry them; anything malformed is kept as written.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = s.get(i + 1..i + 3)
            && let Ok(b) = u8::from_str_radix(hex, 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_owned())
}

/// The longest chain of references followed before giving up (real documents use one or two).
const MAX_CHAIN: usize = 32;

/// Follows `reference` (written at `at`), and on through any reference it lands on, to the
/// object that is not itself a reference. Refuses external references, places that do not
/// exist, and chains that come back on themselves.
pub fn follow<'d>(
    doc: &'d Value,
    reference: &str,
    at: &Pointer,
) -> Result<(Pointer, &'d Value), ImportError> {
    let refuse = |problem: String| ImportError::BadReference {
        reference: reference.to_owned(),
        at: at.to_string(),
        problem,
    };
    let mut seen: Vec<String> = Vec::new();
    let mut current = reference.to_owned();
    loop {
        if seen.contains(&current) {
            seen.push(current);
            return Err(refuse(format!(
                "the references form a cycle with no schema in it ({})",
                seen.join(" → ")
            )));
        }
        if seen.len() >= MAX_CHAIN {
            return Err(refuse(format!("more than {MAX_CHAIN} references in a row")));
        }
        let pointer = Pointer::parse(&current).ok_or_else(|| {
            refuse(format!(
                "`{current}` points outside the document; only references within it (`#/…`) are followed"
            ))
        })?;
        let target = pointer
            .find(doc)
            .ok_or_else(|| refuse(format!("nothing is at `{current}`")))?;
        seen.push(current);
        match target.get("$ref") {
            Some(Value::String(next)) => current = next.clone(),
            Some(other) => {
                return Err(refuse(format!(
                    "`{pointer}` holds a reference that is not a string ({other})"
                )));
            }
            None => return Ok((pointer, target)),
        }
    }
}

/// `value` itself, or what its `$ref` leads to; with the place it was found.
pub fn resolve<'d>(
    doc: &'d Value,
    value: &'d Value,
    at: &Pointer,
) -> Result<(Pointer, &'d Value), ImportError> {
    match value.get("$ref") {
        Some(Value::String(reference)) => follow(doc, reference, at),
        Some(other) => Err(ImportError::BadReference {
            reference: other.to_string(),
            at: at.to_string(),
            problem: "a reference must be a string".into(),
        }),
        None => Ok((at.clone(), value)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn escaped_and_percent_encoded_segments_are_found() {
        let doc = json!({"paths": {"/users/{id}": {"get": {"ok": true}}}});
        let p = Pointer::parse("#/paths/~1users~1%7Bid%7D/get");
        assert_eq!(
            p.as_ref().and_then(|p| p.find(&doc)),
            Some(&json!({"ok": true}))
        );
        assert_eq!(
            p.map(|p| p.to_string()).unwrap_or_default(),
            "#/paths/~1users~1{id}/get"
        );
    }
}
