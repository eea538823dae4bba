//! The action catalogue against Microsoft's own API description: every Graph call an action makes
//! exists there with that method, and every permission it names is one the description lists for
//! that call (delegated, work or school accounts).

use std::path::PathBuf;

use anyhow::Context as _;
use serde_json::Value;

fn reference() -> anyhow::Result<Value> {
    const FILE: &str = "msgraph-it-subset.yaml";
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let path = std::env::var_os("STEWARD_REFERENCE_DIR")
        .map(PathBuf::from)
        .into_iter()
        .chain(
            manifest
                .ancestors()
                .map(|a| a.join("shared").join("reference")),
        )
        .map(|dir| dir.join(FILE))
        .find(|p| p.exists())
        .with_context(|| {
            format!("{FILE} not found beside the repository (or STEWARD_REFERENCE_DIR)")
        })?;
    Ok(yaml_serde::from_str(&std::fs::read_to_string(path)?)?)
}

/// `/users/{user-id}/x` and `/users/{id}/x` both as `/users/{}/x`.
fn shape(path: &str) -> String {
    path.split('/')
        .map(|seg| if seg.starts_with('{') { "{}" } else { seg })
        .collect::<Vec<_>>()
        .join("/")
}

#[test]
fn every_graph_call_and_permission_of_the_catalogue_is_in_the_reference() -> anyhow::Result<()> {
    let reference = reference()?;
    let paths = reference["paths"].as_object().context("no paths")?;
    let catalog = steward_connectors::msgraph::catalog();
    assert!(!catalog.is_empty());
    for spec in &catalog {
        assert!(!spec.calls.is_empty(), "{} names no Graph call", spec.name);
        assert!(
            !spec.permissions.is_empty(),
            "{} names no permission",
            spec.name
        );
        for call in &spec.calls {
            let (method, path) = call.split_once(' ').context("`METHOD /path`")?;
            let path = path.split('?').next().unwrap_or(path);
            let op = paths
                .iter()
                .find(|(p, _)| shape(p) == shape(path))
                .and_then(|(_, item)| item.get(method.to_lowercase()))
                .with_context(|| format!("{}: `{call}` is not in the reference", spec.name))?;
            let allowed: Vec<&str> = op["x-ms-permissions"]["DelegatedWork"]["all"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            for permission in &spec.permissions {
                assert!(
                    allowed.contains(&permission.as_str()),
                    "{}: `{permission}` is not a delegated permission of `{call}` ({allowed:?})",
                    spec.name
                );
            }
        }
    }
    Ok(())
}
