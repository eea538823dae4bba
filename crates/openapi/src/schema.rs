//! Schemas as the document writes them (OpenAPI 3.0's dialect, Swagger 2.0's, or 3.1's JSON
//! Schema) turned into JSON Schema 2020-12 that the gateway validates calls against.
//!
//! A `$ref` to a schema becomes a `$ref` into the action schema's own `$defs`, converted once per
//! document, so recursive types stay finite and a schema referenced from everywhere is written
//! once. Only JSON Schema's own keywords are kept: vendor extensions, `discriminator`, `xml` and
//! examples say nothing a validator can check.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::{Map, Value, json};

use crate::ImportError;
use crate::document::SpecVersion;
use crate::refs::{self, Pointer};

/// Keywords copied as they are (values that are not schemas).
const PLAIN: &[&str] = &[
    "type",
    "format",
    "enum",
    "const",
    "default",
    "title",
    "description",
    "multipleOf",
    "maximum",
    "minimum",
    "maxLength",
    "minLength",
    "pattern",
    "maxItems",
    "minItems",
    "uniqueItems",
    "maxProperties",
    "minProperties",
    "required",
    "readOnly",
    "writeOnly",
    "deprecated",
    "contentEncoding",
    "contentMediaType",
    "maxContains",
    "minContains",
    "dependentRequired",
];

/// Keywords whose value is one schema.
const ONE_SCHEMA: &[&str] = &[
    "not",
    "contains",
    "if",
    "then",
    "else",
    "propertyNames",
    "unevaluatedItems",
    "unevaluatedProperties",
];

/// Keywords whose value is a list of schemas.
const SCHEMA_LISTS: &[&str] = &["allOf", "oneOf", "anyOf", "prefixItems"];

/// Keywords whose value maps names to schemas.
const SCHEMA_MAPS: &[&str] = &["properties", "patternProperties", "dependentSchemas"];

/// Converts a document's schemas, keeping every referenced one converted once.
pub struct Converter<'d> {
    doc: &'d Value,
    version: SpecVersion,
    /// Converted referenced schemas by their `$defs` name.
    defs: HashMap<String, Value>,
    /// A reference's pointer to its `$defs` name.
    names: HashMap<String, String>,
    /// Names given so far (two pointers never share one).
    taken: BTreeSet<String>,
    /// Definitions named but not yet converted: worked off in a loop, not by recursion, so a
    /// long chain of references cannot exhaust the stack.
    pending: Vec<(String, Pointer)>,
}

impl<'d> Converter<'d> {
    /// A converter over `doc`.
    pub fn new(doc: &'d Value, version: SpecVersion) -> Self {
        Self {
            doc,
            version,
            defs: HashMap::new(),
            names: HashMap::new(),
            taken: BTreeSet::new(),
            pending: Vec::new(),
        }
    }

    /// Converts `schema`, found at `at`, and every definition it reaches that is new.
    pub fn convert(&mut self, schema: &Value, at: &Pointer) -> Result<Value, ImportError> {
        let converted = self.convert_one(schema, at)?;
        while let Some((name, pointer)) = self.pending.pop() {
            let Some(target) = pointer.find(self.doc) else {
                continue;
            };
            let def = self.convert_one(target, &pointer)?;
            self.defs.insert(name, def);
        }
        Ok(converted)
    }

    /// Converts one schema; references only get their names here.
    fn convert_one(&mut self, schema: &Value, at: &Pointer) -> Result<Value, ImportError> {
        match schema {
            Value::Bool(_) => Ok(schema.clone()),
            Value::Object(map) => self.convert_object(map, at),
            _ => Err(ImportError::Malformed {
                at: at.to_string(),
                problem: "a schema must be an object".into(),
            }),
        }
    }

    fn convert_object(
        &mut self,
        map: &Map<String, Value>,
        at: &Pointer,
    ) -> Result<Value, ImportError> {
        if let Some(reference) = map.get("$ref") {
            let name = self.define(reference, at)?;
            let link = json!({ "$ref": format!("#/$defs/{name}") });
            // 3.0 and 2.0 ignore a reference's siblings; 3.1 applies them beside it.
            let siblings: Map<String, Value> = map
                .iter()
                .filter(|(k, _)| k.as_str() != "$ref")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            if self.version != SpecVersion::OpenApi31 || siblings.is_empty() {
                return Ok(link);
            }
            let mut rest = self.convert_object(&siblings, at)?;
            if let Some(obj) = rest.as_object_mut() {
                obj.insert("allOf".into(), json!([link]));
            }
            return Ok(rest);
        }
        let mut out = Map::new();
        for (key, value) in map {
            let here = at.child(key);
            let k = key.as_str();
            if PLAIN.contains(&k) {
                out.insert(key.clone(), value.clone());
            } else if ONE_SCHEMA.contains(&k) {
                out.insert(key.clone(), self.convert_one(value, &here)?);
            } else if SCHEMA_LISTS.contains(&k) {
                let items = value.as_array().ok_or_else(|| ImportError::Malformed {
                    at: here.to_string(),
                    problem: format!("`{k}` must be a list of schemas"),
                })?;
                let mut converted = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    converted.push(self.convert_one(item, &here.child(&i.to_string()))?);
                }
                out.insert(key.clone(), Value::Array(converted));
            } else if SCHEMA_MAPS.contains(&k) {
                let entries = value.as_object().ok_or_else(|| ImportError::Malformed {
                    at: here.to_string(),
                    problem: format!("`{k}` must map names to schemas"),
                })?;
                let mut converted = Map::new();
                for (name, item) in entries {
                    converted.insert(name.clone(), self.convert_one(item, &here.child(name))?);
                }
                out.insert(key.clone(), Value::Object(converted));
            } else if k == "items" {
                // 3.0 and 2.0 allow one schema; a list (draft-4 tuples) becomes prefixItems.
                match value {
                    Value::Array(list) => {
                        let mut converted = Vec::with_capacity(list.len());
                        for (i, item) in list.iter().enumerate() {
                            converted.push(self.convert_one(item, &here.child(&i.to_string()))?);
                        }
                        out.insert("prefixItems".into(), Value::Array(converted));
                    }
                    other => {
                        out.insert(key.clone(), self.convert_one(other, &here)?);
                    }
                }
            } else if k == "additionalProperties" {
                let converted = match value {
                    Value::Bool(_) => value.clone(),
                    other => self.convert_one(other, &here)?,
                };
                out.insert(key.clone(), converted);
            } else if k == "exclusiveMinimum" || k == "exclusiveMaximum" {
                // 3.1: already a number; 2.0 / 3.0: a flag on minimum / maximum, moved below.
                if let Value::Number(_) = value {
                    out.insert(key.clone(), value.clone());
                }
            }
            // Everything else (vendor extensions, discriminator, xml, example, nullable, and
            // keywords that are not JSON Schema) is left out.
        }
        for (flag, bound) in [
            ("exclusiveMinimum", "minimum"),
            ("exclusiveMaximum", "maximum"),
        ] {
            if map.get(flag) == Some(&Value::Bool(true))
                && let Some(limit) = out.remove(bound)
            {
                out.insert(flag.into(), limit);
            }
        }
        if out.get("type").and_then(Value::as_str) == Some("file") {
            out.insert("type".into(), json!("string"));
            out.insert("format".into(), json!("binary"));
        }
        let nullable = map.get("nullable") == Some(&Value::Bool(true))
            || map.get("x-nullable") == Some(&Value::Bool(true));
        if nullable {
            allow_null(&mut out);
        }
        Ok(Value::Object(out))
    }

    /// The `$defs` name of the schema `reference` points at, converting it the first time.
    fn define(&mut self, reference: &Value, at: &Pointer) -> Result<String, ImportError> {
        let written = reference
            .as_str()
            .ok_or_else(|| ImportError::BadReference {
                reference: reference.to_string(),
                at: at.to_string(),
                problem: "a reference must be a string".into(),
            })?;
        // A chain of references with no schema between them (A → B → A) has no meaning.
        let (pointer, _) = refs::follow(self.doc, written, at)?;
        let key = pointer.to_string();
        if let Some(name) = self.names.get(&key) {
            return Ok(name.clone());
        }
        let name = self.fresh_name(&pointer);
        self.names.insert(key, name.clone());
        // Placed before converting, so a schema that refers to itself finds its own name.
        self.defs.insert(name.clone(), Value::Bool(true));
        self.pending.push((name.clone(), pointer));
        Ok(name)
    }

    fn fresh_name(&mut self, pointer: &Pointer) -> String {
        let base: String = pointer
            .last()
            .unwrap_or("schema")
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' || c == '_' || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .take(120)
            .collect();
        let base = if base.is_empty() {
            "schema".into()
        } else {
            base
        };
        let mut name = base.clone();
        let mut n = 2;
        while self.taken.contains(&name) {
            name = format!("{base}_{n}");
            n += 1;
        }
        self.taken.insert(name.clone());
        name
    }

    /// The `$defs` an operation's converted schema needs: every definition it reaches.
    pub fn defs_reached_from(&self, schema: &Value) -> BTreeMap<String, Value> {
        let mut reached = BTreeMap::new();
        let mut pending: Vec<&Value> = vec![schema];
        while let Some(v) = pending.pop() {
            match v {
                Value::Object(map) => {
                    if let Some(name) = map
                        .get("$ref")
                        .and_then(Value::as_str)
                        .and_then(|r| r.strip_prefix("#/$defs/"))
                        && !reached.contains_key(name)
                        && let Some(def) = self.defs.get(name)
                    {
                        reached.insert(name.to_owned(), def.clone());
                        pending.push(def);
                    }
                    pending.extend(map.values());
                }
                Value::Array(items) => pending.extend(items),
                _ => {}
            }
        }
        reached
    }
}

/// Lets `null` through as well (3.0's `nullable`, 2.0's `x-nullable`).
fn allow_null(schema: &mut Map<String, Value>) {
    match schema.get_mut("type") {
        Some(Value::String(t)) => {
            let t = t.clone();
            schema.insert("type".into(), json!([t, "null"]));
        }
        Some(Value::Array(types)) if !types.iter().any(|t| t == "null") => {
            types.push(json!("null"));
        }
        _ => {}
    }
    if let Some(Value::Array(values)) = schema.get_mut("enum")
        && !values.iter().any(Value::is_null)
    {
        values.push(Value::Null);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn convert(doc: &Value, version: SpecVersion, schema: &Value) -> Result<Value, ImportError> {
        let mut c = Converter::new(doc, version);
        let out = c.convert(schema, &Pointer::root().child("s"))?;
        let defs = c.defs_reached_from(&out);
        let mut out = out;
        if let Some(obj) = out.as_object_mut()
            && !defs.is_empty()
        {
            obj.insert("$defs".into(), json!(defs));
        }
        Ok(out)
    }

    #[test]
    fn nullable_formats_enums_and_exclusive_bounds_become_json_schema() -> anyhow::Result<()> {
        let doc = json!({});
        let out = convert(
            &doc,
            SpecVersion::OpenApi30,
            &json!({
                "type": "object",
                "x-okta-tags": ["User"],
                "discriminator": {"propertyName": "kind"},
                "example": {"a": 1},
                "properties": {
                    "when": {"type": "string", "format": "date-time", "nullable": true},
                    "status": {"type": "string", "enum": ["ACTIVE", "SUSPENDED"], "nullable": true},
                    "n": {"type": "integer", "minimum": 0, "exclusiveMinimum": true}
                }
            }),
        )?;
        assert_eq!(
            out,
            json!({
                "type": "object",
                "properties": {
                    "when": {"type": ["string", "null"], "format": "date-time"},
                    "status": {"type": ["string", "null"], "enum": ["ACTIVE", "SUSPENDED", null]},
                    "n": {"type": "integer", "exclusiveMinimum": 0}
                }
            })
        );
        let validator = jsonschema::validator_for(&out)?;
        assert!(validator.is_valid(&json!({"when": null, "status": null, "n": 1})));
        assert!(!validator.is_valid(&json!({"n": 0})));
        assert!(!validator.is_valid(&json!({"status": "GONE"})));
        Ok(())
    }

    #[test]
    fn a_recursive_type_is_one_definition_that_refers_to_itself() -> anyhow::Result<()> {
        let doc = json!({"components": {"schemas": {
            "Node": {"type": "object", "required": ["name"], "properties": {
                "name": {"type": "string"},
                "children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}}
            }}
        }}});
        let out = convert(
            &doc,
            SpecVersion::OpenApi30,
            &json!({"$ref": "#/components/schemas/Node"}),
        )?;
        assert_eq!(out["$ref"], "#/$defs/Node");
        assert_eq!(
            out["$defs"]["Node"]["properties"]["children"]["items"]["$ref"],
            "#/$defs/Node"
        );
        let validator = jsonschema::validator_for(&out)?;
        assert!(validator.is_valid(&json!({"name": "a", "children": [{"name": "b"}]})));
        assert!(!validator.is_valid(&json!({"name": "a", "children": [{"children": []}]})));
        Ok(())
    }

    #[test]
    fn all_of_one_of_and_any_of_are_kept_with_their_references() -> anyhow::Result<()> {
        let doc = json!({"definitions": {
            "Base": {"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]},
            "Pet": {"allOf": [{"$ref": "#/definitions/Base"}, {"type": "object", "properties": {"kind": {"type": "string", "enum": ["cat", "dog"]}}}]},
            "Either": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
            "Any": {"anyOf": [{"$ref": "#/definitions/Pet"}, {"type": "null"}]}
        }});
        let out = convert(
            &doc,
            SpecVersion::Swagger2,
            &json!({"type": "object", "properties": {
                "pet": {"$ref": "#/definitions/Any"},
                "either": {"$ref": "#/definitions/Either"},
                "upload": {"type": "file"}
            }}),
        )?;
        let validator = jsonschema::validator_for(&out)?;
        assert!(validator.is_valid(&json!({"pet": {"id": "1", "kind": "cat"}, "either": 3})));
        assert!(validator.is_valid(&json!({"pet": null})));
        assert!(
            !validator.is_valid(&json!({"pet": {"kind": "cat"}})),
            "Base's required id"
        );
        assert!(!validator.is_valid(&json!({"either": true})));
        assert_eq!(
            out["properties"]["upload"],
            json!({"type": "string", "format": "binary"})
        );
        Ok(())
    }

    #[test]
    fn references_that_only_point_at_each_other_are_refused() {
        let doc = json!({"components": {"schemas": {
            "A": {"$ref": "#/components/schemas/B"},
            "B": {"$ref": "#/components/schemas/A"}
        }}});
        let err = convert(
            &doc,
            SpecVersion::OpenApi30,
            &json!({"$ref": "#/components/schemas/A"}),
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(err.contains("cycle"), "{err}");
        let missing = convert(
            &doc,
            SpecVersion::OpenApi30,
            &json!({"$ref": "#/components/schemas/Nope"}),
        );
        assert!(matches!(missing, Err(ImportError::BadReference { .. })));
        let external = convert(
            &doc,
            SpecVersion::OpenApi30,
            &json!({"$ref": "https://example.com/s.json#/X"}),
        );
        assert!(matches!(external, Err(ImportError::BadReference { .. })));
    }
}
