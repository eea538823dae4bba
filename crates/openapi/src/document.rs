//! Reading the document: JSON or YAML into one `serde_json::Value`, its size and depth bounded,
//! and which specification it follows.

use serde_json::Value;

use crate::ImportError;

/// The specification a document follows; decides where definitions, bodies and security
/// schemes are found and how schemas are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum SpecVersion {
    /// Swagger 2.0 (`swagger: "2.0"`).
    Swagger2,
    /// OpenAPI 3.0.x.
    OpenApi30,
    /// OpenAPI 3.1.x (schemas are JSON Schema 2020-12).
    OpenApi31,
}

impl SpecVersion {
    /// As people write it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Swagger2 => "Swagger 2.0",
            Self::OpenApi30 => "OpenAPI 3.0",
            Self::OpenApi31 => "OpenAPI 3.1",
        }
    }
}

/// The most bytes read from one document (the largest reference file is about 0.5 MiB; real
/// vendor documents reach a few MiB).
pub const MAX_DOCUMENT_BYTES: usize = 16 * 1024 * 1024;

/// The deepest nesting accepted. Real documents stay far below it; a deeper one is built to
/// exhaust the stack of whoever walks it.
pub const MAX_DEPTH: usize = 96;

/// Parses JSON (when it starts with `{`) or YAML, then checks depth.
pub fn parse(text: &str) -> Result<Value, ImportError> {
    if text.len() > MAX_DOCUMENT_BYTES {
        return Err(ImportError::TooLarge {
            size: text.len(),
            limit: MAX_DOCUMENT_BYTES,
        });
    }
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    let value: Value = if trimmed.starts_with('{') {
        serde_json::from_str(trimmed).map_err(|e| ImportError::Unreadable(format!("JSON: {e}")))?
    } else {
        yaml_serde::from_str(trimmed).map_err(|e| ImportError::Unreadable(format!("YAML: {e}")))?
    };
    if depth_exceeds(&value, MAX_DEPTH) {
        return Err(ImportError::TooDeep(MAX_DEPTH));
    }
    Ok(value)
}

/// Whether `value` nests deeper than `limit`, without recursion (so the check itself cannot
/// exhaust the stack).
fn depth_exceeds(value: &Value, limit: usize) -> bool {
    let mut stack: Vec<(&Value, usize)> = vec![(value, 1)];
    while let Some((v, depth)) = stack.pop() {
        if depth > limit {
            return true;
        }
        match v {
            Value::Array(items) => stack.extend(items.iter().map(|i| (i, depth + 1))),
            Value::Object(map) => stack.extend(map.values().map(|i| (i, depth + 1))),
            _ => {}
        }
    }
    false
}

/// Which specification the document says it follows.
pub fn version(doc: &Value) -> Result<SpecVersion, ImportError> {
    if !doc.is_object() {
        return Err(ImportError::UnknownVersion(
            "the document is not an object, so it is not an OpenAPI or Swagger document".into(),
        ));
    }
    if let Some(v) = doc.get("openapi") {
        let text = v.as_str().unwrap_or_default();
        return if text.starts_with("3.0.") || text == "3.0" {
            Ok(SpecVersion::OpenApi30)
        } else if text.starts_with("3.1.") || text == "3.1" {
            Ok(SpecVersion::OpenApi31)
        } else {
            Err(ImportError::UnknownVersion(format!(
                "`openapi: {v}` is not a version the importer reads (OpenAPI 3.0 and 3.1, Swagger 2.0)"
            )))
        };
    }
    if let Some(v) = doc.get("swagger") {
        return if v.as_str() == Some("2.0") || v.as_f64() == Some(2.0) {
            Ok(SpecVersion::Swagger2)
        } else {
            Err(ImportError::UnknownVersion(format!(
                "`swagger: {v}` is not a version the importer reads (Swagger 2.0, OpenAPI 3.0 and 3.1)"
            )))
        };
    }
    Err(ImportError::UnknownVersion(
        "the document names neither `openapi` nor `swagger`, so it is not an OpenAPI or Swagger document".into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_told_apart_and_unknown_ones_named() {
        let v = |t: &str| parse(t).and_then(|d| version(&d));
        assert_eq!(v("openapi: 3.0.3\n").ok(), Some(SpecVersion::OpenApi30));
        assert_eq!(
            v("{\"openapi\": \"3.1.0\"}").ok(),
            Some(SpecVersion::OpenApi31)
        );
        assert_eq!(v("swagger: '2.0'\n").ok(), Some(SpecVersion::Swagger2));
        let four = v("openapi: 4.0.0\n")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(four.contains("4.0.0"), "{four}");
        let none = v("info: {}\n")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(none.contains("neither"), "{none}");
        assert!(matches!(
            v("- a\n- b\n"),
            Err(ImportError::UnknownVersion(_))
        ));
        assert!(matches!(v("{nope"), Err(ImportError::Unreadable(_))));
    }

    #[test]
    fn a_document_nested_deeper_than_any_api_is_refused_without_exhausting_the_stack() {
        let deep = format!("{}1{}", "[".repeat(120), "]".repeat(120));
        // serde_json's own recursion limit (128) is above ours, so ours must catch it.
        assert!(matches!(
            parse(&format!("{{\"a\": {deep}}}")),
            Err(ImportError::TooDeep(_))
        ));
        let yaml = format!("a: {deep}\n");
        assert!(parse(&yaml).is_err());
    }
}
