//! The action catalogue against Microsoft's own API description: every Graph call an action makes
//! exists there with that method and accepts one of the permissions the action names, and every
//! permission named is one the description lists for one of its calls (delegated, work or school
//! accounts).

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
        let mut used = vec![false; spec.permissions.len()];
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
            let mut accepted = false;
            for (i, permission) in spec.permissions.iter().enumerate() {
                if allowed.contains(&permission.as_str()) {
                    used[i] = true;
                    accepted = true;
                }
            }
            assert!(
                accepted,
                "{}: `{call}` accepts none of {:?} ({allowed:?})",
                spec.name, spec.permissions
            );
        }
        for (permission, used) in spec.permissions.iter().zip(used) {
            assert!(
                used,
                "{}: `{permission}` is a delegated permission of none of its calls",
                spec.name
            );
        }
    }
    Ok(())
}
