//! Every change a run made to the tenant, from the simulator's snapshots before and after, and
//! whether the case's expected reads account for it.
//!
//! A change is attributed to the objects it concerns: the object it sits in (a user, group,
//! device, drive, risky user or subscription) and, for a membership or ownership, the person
//! added or removed; for a drive or device, its owner. A change is *covered* when an expected read
//! names one of those objects.

use std::collections::BTreeSet;

use serde_json::Value;

/// An object of the snapshot: its collection and key.
pub type ObjectKey = (String, String);

/// One changed value.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// JSON pointer into the snapshot.
    pub path: String,
    /// The objects it concerns.
    pub objects: Vec<ObjectKey>,
}

/// Counters that follow from another change (seats consumed follow licence assignments).
fn derived(path: &str) -> bool {
    path.starts_with("/subscribedSkus/") && path.ends_with("/consumedUnits")
}

fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// The changes between two snapshots, each with the objects it concerns.
pub fn changes(before: &Value, after: &Value) -> Vec<Change> {
    let mut out = Vec::new();
    let collections: BTreeSet<&String> = before
        .as_object()
        .into_iter()
        .chain(after.as_object())
        .flat_map(|o| o.keys())
        .collect();
    for collection in collections {
        let b = before.get(collection.as_str()).and_then(Value::as_object);
        let a = after.get(collection.as_str()).and_then(Value::as_object);
        let keys: BTreeSet<&String> = b.into_iter().chain(a).flat_map(|o| o.keys()).collect();
        for key in keys {
            let old = b.and_then(|o| o.get(key.as_str()));
            let new = a.and_then(|o| o.get(key.as_str()));
            if old == new {
                continue;
            }
            let mut objects = vec![(collection.clone(), key.clone())];
            // The object's owner (a drive's person, a device's primary user).
            for v in [old, new].into_iter().flatten() {
                if let Some(user) = v.pointer("/owner/user").and_then(Value::as_str) {
                    objects.push(("users".into(), user.to_owned()));
                }
                if let Some(user) = v.pointer("/properties/userId").and_then(Value::as_str) {
                    objects.push(("users".into(), user.to_owned()));
                }
            }
            if collection == "riskyUsers" {
                objects.push(("users".into(), key.clone()));
            }
            let base = format!("/{}/{}", escape(collection), escape(key));
            let mut paths = Vec::new();
            leaf_changes(
                old.unwrap_or(&Value::Null),
                new.unwrap_or(&Value::Null),
                &base,
                &mut paths,
            );
            for (path, people) in paths {
                if derived(&path) {
                    continue;
                }
                let mut objects = objects.clone();
                objects.extend(people.into_iter().map(|p| ("users".to_owned(), p)));
                objects.dedup();
                out.push(Change { path, objects });
            }
        }
    }
    out
}

/// Walks two values; each differing leaf (or array) becomes a path. An array of strings (members,
/// owners) is compared as a set and names the entries added or removed.
fn leaf_changes(old: &Value, new: &Value, path: &str, out: &mut Vec<(String, Vec<String>)>) {
    if old == new {
        return;
    }
    match (old, new) {
        (Value::Object(o), Value::Object(n)) => {
            let keys: BTreeSet<&String> = o.keys().chain(n.keys()).collect();
            for k in keys {
                leaf_changes(
                    o.get(k.as_str()).unwrap_or(&Value::Null),
                    n.get(k.as_str()).unwrap_or(&Value::Null),
                    &format!("{path}/{}", escape(k)),
                    out,
                );
            }
        }
        (Value::Array(o), Value::Array(n)) if o.iter().chain(n).all(Value::is_string) => {
            let o: BTreeSet<&str> = o.iter().filter_map(Value::as_str).collect();
            let n: BTreeSet<&str> = n.iter().filter_map(Value::as_str).collect();
            let moved: Vec<String> = o
                .symmetric_difference(&n)
                .map(|s| (*s).to_owned())
                .collect();
            if !moved.is_empty() {
                out.push((path.to_owned(), moved));
            }
        }
        _ => out.push((path.to_owned(), Vec::new())),
    }
}

/// The objects an expected read names: `/users/{id or sign-in name}…`, `/groups/{id}…`,
/// `/teams/{id}…`, `/deviceManagement/managedDevices/{id}…`, `/drives/{id}…`,
/// `/sites/{id}…` (its library), `/identityProtection/riskyUsers/{id}…`, `/subscribedSkus`.
pub fn named_objects(read: &str, snapshot: &Value) -> Vec<ObjectKey> {
    let path = read.split('?').next().unwrap_or_default();
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    let key = |i: usize| parts.get(i).map(|s| (*s).to_owned()).unwrap_or_default();
    match parts.first().copied() {
        Some("users") => user_id(snapshot, &key(1))
            .map(|id| {
                vec![
                    ("users".to_owned(), id.clone()),
                    ("riskyUsers".to_owned(), id),
                ]
            })
            .unwrap_or_default(),
        Some("me") => Vec::new(),
        Some("groups" | "teams") => vec![("groups".into(), key(1))],
        Some("deviceManagement") if parts.get(1) == Some(&"managedDevices") => {
            vec![("managedDevices".into(), key(2))]
        }
        Some("drives") => vec![("drives".into(), key(1))],
        Some("sites") => site_drive(snapshot, &key(1))
            .map(|d| vec![("drives".to_owned(), d)])
            .unwrap_or_default(),
        Some("identityProtection") => vec![("riskyUsers".into(), key(2)), ("users".into(), key(2))],
        Some("subscribedSkus") => snapshot
            .get("subscribedSkus")
            .and_then(Value::as_object)
            .map(|o| {
                o.keys()
                    .map(|k| ("subscribedSkus".to_owned(), k.clone()))
                    .collect()
            })
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// The objects a read's answer holds (its `id`, or each item's in `value`), in whichever
/// collection of the snapshot has them.
pub fn returned_objects(answer: &Value, snapshot: &Value) -> Vec<ObjectKey> {
    let ids: Vec<&str> = answer
        .get("value")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i.get("id").and_then(Value::as_str))
                .collect()
        })
        .unwrap_or_else(|| {
            answer
                .get("id")
                .and_then(Value::as_str)
                .into_iter()
                .collect()
        });
    let Some(collections) = snapshot.as_object() else {
        return Vec::new();
    };
    ids.iter()
        .flat_map(|id| {
            collections
                .iter()
                .filter(|(_, objects)| objects.get(*id).is_some())
                .map(|(name, _)| (name.clone(), (*id).to_owned()))
        })
        .collect()
}

/// A user's id from their id or sign-in name (as Graph accepts either in `/users/{key}`).
fn user_id(snapshot: &Value, key: &str) -> Option<String> {
    let key = key.to_lowercase();
    snapshot
        .get("users")
        .and_then(Value::as_object)?
        .iter()
        .find(|(id, u)| {
            id.to_lowercase() == key
                || u.pointer("/properties/userPrincipalName")
                    .and_then(Value::as_str)
                    .is_some_and(|upn| upn.to_lowercase() == key)
        })
        .map(|(id, _)| id.clone())
}

fn site_drive(snapshot: &Value, site: &str) -> Option<String> {
    snapshot
        .get("drives")
        .and_then(Value::as_object)?
        .iter()
        .find(|(_, d)| d.pointer("/owner/site").and_then(Value::as_str) == Some(site))
        .map(|(id, _)| id.clone())
}

/// The changes no expected read accounts for.
pub fn uncovered<'a>(changes: &'a [Change], covered: &[ObjectKey]) -> Vec<&'a Change> {
    changes
        .iter()
        .filter(|c| !c.objects.iter().any(|o| covered.contains(o)))
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn snapshot(enabled: bool, members: &[&str]) -> Value {
        json!({
            "users": {
                "u1": {"properties": {"userPrincipalName": "Leo@x.example", "accountEnabled": enabled}},
                "u2": {"properties": {"userPrincipalName": "ann@x.example", "accountEnabled": true}},
            },
            "groups": {"g1": {"properties": {"displayName": "VPN"}, "members": members}},
            "subscribedSkus": {"s1": {"consumedUnits": members.len()}},
        })
    }

    #[test]
    fn no_change_no_entries() {
        let s = snapshot(true, &["u1"]);
        assert!(changes(&s, &s).is_empty());
    }

    #[test]
    fn a_property_change_names_its_user() {
        let found = changes(&snapshot(false, &[]), &snapshot(true, &[]));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].path, "/users/u1/properties/accountEnabled");
        let covered = named_objects(
            "/users/leo@x.example?$select=accountEnabled",
            &snapshot(true, &[]),
        );
        assert!(uncovered(&found, &covered).is_empty());
        let other = named_objects("/users/ann@x.example", &snapshot(true, &[]));
        assert_eq!(uncovered(&found, &other).len(), 1);
    }

    #[test]
    fn a_membership_names_the_group_and_the_person_and_seats_are_derived() {
        let found = changes(&snapshot(true, &["u2"]), &snapshot(true, &["u2", "u1"]));
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].objects.contains(&("users".into(), "u1".into())));
        assert!(found[0].objects.contains(&("groups".into(), "g1".into())));
        let by_person = named_objects("/users/u1/memberOf", &snapshot(true, &[]));
        assert!(uncovered(&found, &by_person).is_empty());
        let by_group = named_objects("/groups/g1/members", &snapshot(true, &[]));
        assert!(uncovered(&found, &by_group).is_empty());
        let bystander = named_objects("/users/u2", &snapshot(true, &[]));
        assert_eq!(uncovered(&found, &bystander).len(), 1);
    }
}
