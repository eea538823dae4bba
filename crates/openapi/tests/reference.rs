//! Every API description in `shared/reference/` imports, one test per file, and yields the
//! operations the document has — each with a schema the gateway can compile and the right kind.

use std::path::PathBuf;

use anyhow::{Context as _, bail};
use serde_json::{Value, json};
use steward_domain::Risk;
use steward_openapi::{AuthScheme, Integration, KeyPlace, ParamPlace, SpecVersion, import};

fn reference_dir() -> anyhow::Result<PathBuf> {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    std::env::var_os("STEWARD_REFERENCE_DIR")
        .map(PathBuf::from)
        .into_iter()
        .chain(
            manifest
                .ancestors()
                .map(|a| a.join("shared").join("reference")),
        )
        .chain([PathBuf::from("/work/shared/reference")])
        .find(|d| d.is_dir())
        .context("cannot find shared/reference (set STEWARD_REFERENCE_DIR)")
}

fn read(file: &str) -> anyhow::Result<String> {
    let path = reference_dir()?.join(file);
    std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))
}

/// The operations the document itself lists (methods that become actions), read independently.
fn operations_in(text: &str) -> anyhow::Result<Vec<(String, String)>> {
    let doc: Value = if text.trim_start().starts_with('{') {
        serde_json::from_str(text)?
    } else {
        yaml_serde::from_str(text)?
    };
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().context("paths")? {
        for method in item.as_object().context("path item")?.keys() {
            if ["get", "head", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                ops.push((method.to_uppercase(), path.clone()));
            }
        }
    }
    Ok(ops)
}

/// Imports a reference file and checks what every one of them must satisfy.
fn import_reference(file: &str, name: &str, version: SpecVersion) -> anyhow::Result<Integration> {
    let text = read(file)?;
    let integration = import(&text, name, None).with_context(|| format!("importing {file}"))?;
    assert_eq!(integration.spec_version, version, "{file}");
    let mut expected = operations_in(&text)?;
    let mut got: Vec<(String, String)> = integration
        .operations
        .iter()
        .map(|o| (o.method.clone(), o.path.clone()))
        .collect();
    expected.sort();
    got.sort();
    assert_eq!(got, expected, "{file}: one action per operation");
    let mut names: Vec<&str> = integration
        .operations
        .iter()
        .map(|o| o.spec.name.as_str())
        .collect();
    names.sort_unstable();
    let before = names.len();
    names.dedup();
    assert_eq!(names.len(), before, "{file}: action names are unique");
    for op in &integration.operations {
        let name = op.spec.name.as_str();
        assert!(
            name.starts_with(&format!("{}.", integration.name)),
            "{name}"
        );
        assert_eq!(
            op.spec.mutating,
            !matches!(op.method.as_str(), "GET" | "HEAD"),
            "{name}"
        );
        if !op.spec.mutating {
            assert!(op.spec.risk <= Risk::Medium, "{name} is a read");
        }
        jsonschema::validator_for(&op.spec.params_schema)
            .map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
        // Every path parameter is a required argument.
        for param in op.path.split('/').filter(|s| s.starts_with('{')) {
            let param = param.trim_matches(['{', '}']);
            let p = op
                .params
                .iter()
                .find(|p| p.name == param && p.place == ParamPlace::Path);
            let Some(p) = p else {
                bail!("{name}: path parameter {param} has no argument")
            };
            assert!(
                op.spec.params_schema["required"]
                    .as_array()
                    .is_some_and(|r| r.contains(&json!(p.key))),
                "{name}: {param} is required"
            );
        }
        // Calls without a required argument are refused by the schema.
        if !op.spec.params_schema["required"]
            .as_array()
            .is_none_or(Vec::is_empty)
        {
            assert!(op.spec.validate_params(&json!({})).is_err(), "{name}");
        }
        assert!(
            op.spec
                .validate_params(&json!({"notAParameter": 1}))
                .is_err(),
            "{name}"
        );
    }
    Ok(integration)
}

fn op<'a>(i: &'a Integration, name: &str) -> anyhow::Result<&'a steward_openapi::Operation> {
    i.operations
        .iter()
        .find(|o| o.spec.name.as_str() == name)
        .with_context(|| {
            format!(
                "no {name}; have {:?}",
                i.operations
                    .iter()
                    .map(|o| o.spec.name.as_str())
                    .collect::<Vec<_>>()
            )
        })
}

#[test]
fn okta_management_imports_with_its_lifecycle_risks_and_oauth_scopes() -> anyhow::Result<()> {
    let okta = import_reference(
        "okta-management-it-subset.yaml",
        "acme_okta",
        SpecVersion::OpenApi30,
    )?;
    assert_eq!(okta.operations.len(), 54);
    let unlock = op(&okta, "acme_okta.users.unlock_user")?;
    assert_eq!(
        (unlock.method.as_str(), unlock.path.as_str()),
        ("POST", "/api/v1/users/{id}/lifecycle/unlock")
    );
    assert!(unlock.spec.mutating);
    assert_eq!(unlock.spec.risk, Risk::High);
    assert!(
        unlock
            .spec
            .permissions
            .contains(&"okta.users.manage".to_owned())
    );
    assert!(unlock.spec.validate_params(&json!({"id": "00u1"})).is_ok());
    let delete = op(&okta, "acme_okta.users.delete_user")?;
    assert_eq!(delete.spec.risk, Risk::Critical);
    let list = op(&okta, "acme_okta.users.list_users")?;
    assert!(!list.spec.mutating);
    assert_eq!(
        list.spec.risk,
        Risk::Medium,
        "an imported read is never low risk"
    );
    assert!(
        list.spec
            .validate_params(&json!({"search": "profile.email eq \"a@b.c\"", "limit": 20}))
            .is_ok()
    );
    assert!(
        list.spec
            .validate_params(&json!({"limit": "twenty"}))
            .is_err()
    );
    // A profile update's body is the User schema, reached through references.
    let update = op(&okta, "acme_okta.users.update_user")?;
    assert!(
        update
            .body
            .as_ref()
            .is_some_and(|b| b.media_type == "application/json")
    );
    assert!(
        update.spec.params_schema["$defs"]
            .as_object()
            .is_some_and(|d| !d.is_empty())
    );
    assert!(
        update
            .spec
            .validate_params(&json!({"id": "00u1", "body": {"profile": {"title": "Engineer"}}}))
            .is_ok()
    );
    let schemes: Vec<&AuthScheme> = okta.auth.iter().collect();
    assert!(schemes.iter().any(|s| matches!(s, AuthScheme::ApiKey { place: KeyPlace::Header, param, .. } if param == "Authorization")));
    assert!(schemes.iter().any(|s| matches!(s, AuthScheme::OAuth2Code { token_url, scopes, .. } if token_url == "/oauth2/v1/token" && scopes.contains(&"okta.users.manage".to_owned()))));
    assert!(
        unlock
            .security
            .iter()
            .any(|alt| alt == &vec!["oauth2".to_owned()])
    );
    Ok(())
}

#[test]
fn google_directory_imports_with_its_server_and_scopes() -> anyhow::Result<()> {
    let g = import_reference(
        "google-admin-directory_v1-openapi-subset.yaml",
        "gdir",
        SpecVersion::OpenApi30,
    )?;
    assert_eq!(g.operations.len(), 31);
    assert_eq!(g.base_url.as_deref(), Some("https://admin.googleapis.com"));
    let sign_out = op(&g, "gdir.users.directory_users_sign_out")?;
    assert_eq!(sign_out.path, "/admin/directory/v1/users/{userKey}/signOut");
    assert_eq!(sign_out.spec.risk, Risk::High);
    let patch = op(&g, "gdir.users.directory_users_patch")?;
    assert!(
        patch
            .spec
            .validate_params(&json!({"userKey": "a@b.c", "body": {"suspended": true}}))
            .is_ok()
    );
    assert!(
        patch
            .spec
            .validate_params(&json!({"userKey": "a@b.c", "body": {"suspended": "yes"}}))
            .is_err()
    );
    assert!(matches!(
        g.auth.first(),
        Some(AuthScheme::OAuth2Code { .. })
    ));
    Ok(())
}

#[test]
fn google_reports_imports() -> anyhow::Result<()> {
    let r = import_reference(
        "google-admin-reports_v1-openapi-subset.yaml",
        "greports",
        SpecVersion::OpenApi30,
    )?;
    let list = op(&r, "greports.users.reports_activities_list")?;
    assert!(!list.spec.mutating);
    assert!(
        list.spec
            .validate_params(&json!({"userKey": "all", "applicationName": "login"}))
            .is_ok()
    );
    Ok(())
}

#[test]
fn jira_cloud_imports_with_issue_bodies() -> anyhow::Result<()> {
    let j = import_reference(
        "jira-cloud-platform-v3-it-subset.json",
        "jira_it",
        SpecVersion::OpenApi30,
    )?;
    assert_eq!(j.operations.len(), 17);
    let create = op(&j, "jira_it.issue.create_issue")?;
    assert_eq!(create.spec.risk, Risk::Medium);
    assert!(create.body.as_ref().is_some_and(|b| b.required));
    assert!(
        create
            .spec
            .validate_params(&json!({"body": {"fields": {"summary": "x"}}}))
            .is_ok()
    );
    assert!(
        create.spec.validate_params(&json!({})).is_err(),
        "the body is required"
    );
    Ok(())
}

#[test]
fn microsoft_graph_imports_with_recursive_types() -> anyhow::Result<()> {
    let g = import_reference(
        "msgraph-it-subset.yaml",
        "graph_copy",
        SpecVersion::OpenApi30,
    )?;
    assert_eq!(g.operations.len(), 105);
    assert_eq!(
        g.base_url.as_deref(),
        Some("https://graph.microsoft.com/v1.0")
    );
    let wipe = g
        .operations
        .iter()
        .find(|o| o.path.ends_with("/wipe"))
        .context("the wipe operation")?;
    assert_eq!(wipe.spec.risk, Risk::Critical);
    Ok(())
}

#[test]
fn slack_web_api_swagger2_imports_with_form_bodies() -> anyhow::Result<()> {
    let s = import_reference(
        "slack-web-api-subset.swagger2.json",
        "slack_copy",
        SpecVersion::Swagger2,
    )?;
    assert_eq!(s.base_url.as_deref(), Some("https://slack.com/api"));
    let post = s
        .operations
        .iter()
        .find(|o| o.path == "/chat.postMessage")
        .context("chat.postMessage")?;
    assert!(post.spec.mutating);
    assert!(!post.params.is_empty() || post.body.is_some());
    Ok(())
}

#[test]
fn bot_framework_connector_swagger2_imports_with_json_bodies() -> anyhow::Result<()> {
    let b = import_reference(
        "botframework-connector-api-subset.swagger2.json",
        "botconn",
        SpecVersion::Swagger2,
    )?;
    let reply = b
        .operations
        .iter()
        .find(|o| o.method == "POST" && o.path.ends_with("/activities/{activityId}"))
        .context("ReplyToActivity")?;
    assert!(
        reply
            .body
            .as_ref()
            .is_some_and(|b| b.media_type.contains("json"))
    );
    assert!(reply.spec.validate_params(&json!({"conversationId": "c", "activityId": "a", "activityBody": {"type": "message", "text": "hi"}})).is_ok()
        || reply.spec.validate_params(&json!({"conversationId": "c", "activityId": "a", "body": {"type": "message", "text": "hi"}})).is_ok());
    Ok(())
}

#[test]
fn every_other_file_in_the_reference_folder_is_refused_clearly_or_imported() -> anyhow::Result<()> {
    let dir = reference_dir()?;
    let mut files = Vec::new();
    for sub in [
        "",
        "payloads/slack",
        "payloads/botframework",
        "llm",
        "tickets",
    ] {
        for entry in std::fs::read_dir(dir.join(sub))? {
            let path = entry?.path();
            if path.is_file() {
                files.push(path);
            }
        }
    }
    assert!(files.len() > 30, "{files:?}");
    let mut documents = 0;
    for path in files {
        let text = std::fs::read_to_string(&path)?;
        let is_document = text.contains("\"openapi\"")
            || text.contains("\"swagger\"")
            || text.starts_with("openapi:")
            || text.starts_with("swagger:");
        match import(&text, "probe", None) {
            Ok(i) => {
                assert!(is_document, "{} is not an API description", path.display());
                assert!(!i.operations.is_empty(), "{}", path.display());
                documents += 1;
            }
            // Payloads, captures and notes are not API descriptions: refused as such, by kind.
            Err(e) => assert!(
                !is_document
                    && matches!(
                        e,
                        steward_openapi::ImportError::UnknownVersion(_)
                            | steward_openapi::ImportError::Unreadable(_)
                    ),
                "{}: {e}",
                path.display()
            ),
        }
    }
    assert_eq!(documents, 7, "the seven API descriptions import");
    Ok(())
}
