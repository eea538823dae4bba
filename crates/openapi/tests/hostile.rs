//! Documents built to break an importer — and ordinary mistakes — give a clear error, never a
//! panic, a hang or an import of something else.

use serde_json::json;
use steward_openapi::{ImportError, SpecVersion, import};

fn error_of(text: &str) -> String {
    match import(text, "hostile", None) {
        Ok(i) => format!("imported {} operations", i.operations.len()),
        Err(e) => e.to_string(),
    }
}

fn doc_with_schemas(schemas: serde_json::Value, body_ref: &str) -> String {
    json!({
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "paths": {"/things": {"post": {
            "operationId": "createThing",
            "requestBody": {"content": {"application/json": {"schema": {"$ref": body_ref}}}},
            "responses": {"200": {"description": "ok"}}
        }}},
        "components": {"schemas": schemas}
    })
    .to_string()
}

#[test]
fn reference_cycles_without_a_schema_are_named() {
    let text = doc_with_schemas(
        json!({"A": {"$ref": "#/components/schemas/B"}, "B": {"$ref": "#/components/schemas/A"}}),
        "#/components/schemas/A",
    );
    let e = error_of(&text);
    assert!(
        e.contains("cycle") && e.contains("#/components/schemas/A"),
        "{e}"
    );
    let itself = doc_with_schemas(
        json!({"A": {"$ref": "#/components/schemas/A"}}),
        "#/components/schemas/A",
    );
    assert!(error_of(&itself).contains("cycle"));
}

#[test]
fn a_recursive_schema_is_fine() -> anyhow::Result<()> {
    let text = doc_with_schemas(
        json!({"Tree": {"type": "object", "properties": {"kids": {"type": "array", "items": {"$ref": "#/components/schemas/Tree"}}}}}),
        "#/components/schemas/Tree",
    );
    let i = import(&text, "trees", Some("https://api.example.com"))?;
    let spec = &i.operations[0].spec;
    assert_eq!(spec.name.as_str(), "trees.things.create_thing");
    assert!(
        spec.validate_params(&json!({"body": {"kids": [{"kids": []}]}}))
            .is_ok()
    );
    assert!(
        spec.validate_params(&json!({"body": {"kids": [{"kids": 3}]}}))
            .is_err()
    );
    Ok(())
}

#[test]
fn references_outside_the_document_or_to_nothing_are_refused() {
    for target in [
        "https://evil.example/schema.json",
        "other.yaml#/X",
        "#/components/schemas/Missing",
        "#/nope/nope",
    ] {
        let text = doc_with_schemas(json!({}), target);
        let e = error_of(&text);
        assert!(
            e.contains(target) || e.contains("cannot be followed"),
            "{target}: {e}"
        );
    }
}

#[test]
fn a_schema_that_grows_beyond_the_budget_is_refused() {
    // Wide rather than deep: 6,000 definitions each listing the next with a long description.
    let mut schemas = serde_json::Map::new();
    for i in 0..6_000 {
        schemas.insert(
            format!("S{i}"),
            json!({"type": "object", "description": "x".repeat(400), "properties": {"next": {"$ref": format!("#/components/schemas/S{}", i + 1)}}}),
        );
    }
    schemas.insert("S6000".into(), json!({"type": "string"}));
    let text = doc_with_schemas(
        serde_json::Value::Object(schemas),
        "#/components/schemas/S0",
    );
    let e = error_of(&text);
    assert!(e.contains("larger than"), "{e}");
}

#[test]
fn unknown_versions_and_non_documents_are_refused() {
    assert!(error_of("openapi: 4.0.0\npaths: {}\n").contains("4.0.0"));
    assert!(error_of("swagger: '1.2'\n").contains("1.2"));
    assert!(error_of("just a string").contains("not an object"));
    assert!(error_of("").contains("not"));
    assert!(error_of("{\"openapi\": \"3.0.0\"").contains("JSON"));
    assert!(
        error_of("openapi: 3.0.0\ninfo: {title: t, version: '1'}\npaths: {}\n")
            .contains("no operations")
    );
    assert!(error_of("openapi: 3.0.0\npaths: [1, 2]\n").contains("#/paths"));
    assert!(
        error_of("openapi: 3.0.0\npaths: {/a: {get: 7}}\n").contains("operation must be an object")
    );
    assert!(
        error_of("openapi: 3.0.0\npaths: {/a: {get: {parameters: [{name: x}]}}}\n")
            .contains("`name` and `in`")
    );
}

#[test]
fn a_yaml_alias_bomb_is_refused_without_expanding_it() {
    // The "billion laughs": nine levels of nine aliases each.
    let mut text = String::from(
        "openapi: 3.0.0\na: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    let names = ["b", "c", "d", "e", "f", "g", "h", "i"];
    let mut prev = "a";
    for n in names {
        let refs = vec![format!("*{prev}"); 9].join(",");
        text.push_str(&format!("{n}: &{n} [{refs}]\n"));
        prev = n;
    }
    text.push_str("paths: {}\n");
    let started = std::time::Instant::now();
    let e = error_of(&text);
    assert!(!e.starts_with("imported"), "{e}");
    // Not a timing assertion on speed: a bomb that expanded would take minutes and gigabytes.
    assert!(
        started.elapsed() < std::time::Duration::from_secs(60),
        "{e}"
    );
}

#[test]
fn deep_nesting_and_too_many_operations_are_refused() {
    let deep = format!(
        "{{\"openapi\": \"3.0.0\", \"x\": {}1{}}}",
        "[".repeat(110),
        "]".repeat(110)
    );
    assert!(matches!(
        import(&deep, "hostile", None),
        Err(ImportError::TooDeep(_))
    ));
    let mut paths = serde_json::Map::new();
    for i in 0..5_001 {
        paths.insert(format!("/p{i}"), json!({"get": {}}));
    }
    let many = json!({"openapi": "3.0.0", "paths": paths}).to_string();
    assert!(matches!(
        import(&many, "hostile", None),
        Err(ImportError::TooManyOperations { .. })
    ));
}

#[test]
fn names_and_base_urls_are_checked() {
    let text = "openapi: 3.0.0\npaths: {/a: {get: {}}}\n";
    for bad in [
        "",
        "a",
        "Okta",
        "okta",
        "entra",
        "with-dash",
        "1abc",
        "x".repeat(40).as_str(),
    ] {
        assert!(
            matches!(import(text, bad, None), Err(ImportError::BadName(_))),
            "{bad}"
        );
    }
    for bad in ["ftp://x", "api.example.com", "https://", "https://x/?a=1"] {
        assert!(
            matches!(
                import(text, "acme", Some(bad)),
                Err(ImportError::BaseUrl(_))
            ),
            "{bad}"
        );
    }
    assert!(
        import(text, "acme", Some("https://api.example.com/v2/"))
            .is_ok_and(|i| i.base_url.as_deref() == Some("https://api.example.com/v2"))
    );
}

#[test]
fn openapi_3_1_schemas_are_json_schema_already() -> anyhow::Result<()> {
    let text = json!({
        "openapi": "3.1.0",
        "info": {"title": "Tickets", "version": "1"},
        "servers": [{"url": "https://{region}.tickets.example/api", "variables": {"region": {"default": "eu"}}}],
        "security": [{"key": []}],
        "components": {
            "securitySchemes": {"key": {"type": "apiKey", "in": "header", "name": "X-Api-Key"}},
            "schemas": {"Ticket": {"type": "object", "required": ["title"], "properties": {
                "title": {"type": "string", "minLength": 1},
                "priority": {"type": ["integer", "null"], "exclusiveMinimum": 0},
                "tags": {"type": "array", "prefixItems": [{"type": "string"}]}
            }}}
        },
        "paths": {
            "/tickets/{id}": {
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
                "get": {"operationId": "getTicket"},
                "patch": {"requestBody": {"required": true, "content": {"application/merge-patch+json": {"schema": {"$ref": "#/components/schemas/Ticket", "description": "changes"}}}}},
                "delete": {}
            }
        }
    })
    .to_string();
    let i = import(&text, "tickets", None)?;
    assert_eq!(i.spec_version, SpecVersion::OpenApi31);
    assert_eq!(
        i.base_url.as_deref(),
        Some("https://eu.tickets.example/api")
    );
    let mut names: Vec<&str> = i.operations.iter().map(|o| o.spec.name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "tickets.tickets.delete_tickets_by_id",
            "tickets.tickets.get_ticket",
            "tickets.tickets.patch_tickets_by_id"
        ]
    );
    let patch = i
        .operations
        .iter()
        .find(|o| o.method == "PATCH")
        .ok_or_else(|| anyhow::anyhow!("PATCH"))?;
    assert_eq!(
        patch.body.as_ref().map(|b| b.media_type.as_str()),
        Some("application/merge-patch+json")
    );
    assert!(
        patch
            .spec
            .validate_params(&json!({"id": "1", "body": {"title": "a", "priority": null}}))
            .is_ok()
    );
    assert!(
        patch
            .spec
            .validate_params(&json!({"id": "1", "body": {"title": "a", "priority": 0}}))
            .is_err()
    );
    assert!(
        patch
            .spec
            .validate_params(&json!({"id": "1", "body": {"title": ""}}))
            .is_err()
    );
    assert_eq!(patch.security, vec![vec!["key".to_owned()]]);
    Ok(())
}
