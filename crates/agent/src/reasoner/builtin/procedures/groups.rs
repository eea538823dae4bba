//! Adding and removing people to and from groups.

use serde_json::{Value, json};

use super::super::cursor::{Acted, Cursor, Flow, finding};
use super::super::resolve::{self, GroupRef};
use super::super::understand::{People, Subject};
use super::{capitalise, find_person, hand_over, unresolved};
use crate::reasoner::ReasonerInput;

pub(super) fn membership(
    cursor: &mut Cursor<'_>,
    input: &ReasonerInput<'_>,
    add: bool,
    subject: &Subject,
    group_name: &str,
) -> Flow<()> {
    let Some(person) = find_person(cursor, input, subject)? else {
        return Ok(());
    };
    let group = match resolve::group(cursor, group_name)? {
        Ok(g) => g,
        Err(message) => return unresolved(cursor, "group.unresolved", message),
    };
    let (action, verb, prep) = if add {
        ("entra.group.add_member", "add", "to")
    } else {
        ("entra.group.remove_member", "remove", "from")
    };
    cursor.plan(
        Vec::new(),
        vec![format!(
            "{action} — {verb} {} ({}) {prep} {}",
            person.name, person.upn, group.name
        )],
    )?;
    match cursor.act(
        action,
        json!({"group": group.id, "user": person.upn}),
        &format!("{verb} {} {prep} {}", person.name, group.name),
    )? {
        Acted::Done { verified } => cursor.reply(format!(
            "Done: {} {} {prep} {}{}.",
            if add { "added" } else { "removed" },
            person.name,
            group.name,
            if verified {
                " (checked)"
            } else {
                ", but I couldn't confirm it by reading the group back"
            }
        )),
        Acted::Pending(id) => cursor.reply(format!(
            "That change needs an approval; I've asked an IT admin (approval {id})."
        )),
        Acted::Denied(reason) => hand_over(
            cursor,
            format!(
                "{verb} {} {prep} {} was refused: {reason}",
                person.upn, group.name
            ),
            vec![finding("policy.denied", reason.clone())],
            format!(
                "I can't {verb} {} {prep} {}: {reason}. I've passed the request to the IT team.",
                person.name, group.name
            ),
        ),
        Acted::Failed(error) => hand_over(
            cursor,
            format!(
                "{verb} {} {prep} {} failed: {error}",
                person.upn, group.name
            ),
            vec![finding("action.failed", error.clone())],
            format!(
                "I tried to {verb} {} {prep} {} but it didn't work ({error}). I've passed it to the IT team.",
                person.name, group.name
            ),
        ),
    }
}

/// A person as a group listing shows them.
struct Member {
    upn: String,
    name: String,
}

fn members_of(
    cursor: &mut Cursor<'_>,
    group: &GroupRef,
    purpose: &str,
) -> Flow<Result<Vec<Member>, String>> {
    Ok(
        match cursor.investigate(
            "entra.group.list_members",
            json!({"group": group.id}),
            purpose,
        )? {
            Ok(list) => Ok(list
                .as_array()
                .map(|items| {
                    items
                        .iter()
                        .map(|m| Member {
                            upn: m
                                .get("userPrincipalName")
                                .and_then(Value::as_str)
                                .unwrap_or_default()
                                .to_owned(),
                            name: m
                                .get("displayName")
                                .and_then(Value::as_str)
                                .unwrap_or_default()
                                .to_owned(),
                        })
                        .filter(|m| !m.upn.is_empty())
                        .collect()
                })
                .unwrap_or_default()),
            Err(reason) => Err(reason),
        },
    )
}

/// Adds or removes several people at once — named ones, or a whole team — as one bulk job:
/// only those not already (or still) members are changed, each is decided by policy on its own,
/// and whatever needs a human goes to one approval request.
pub(super) fn bulk_membership(
    cursor: &mut Cursor<'_>,
    input: &ReasonerInput<'_>,
    add: bool,
    people: &People,
    group_name: &str,
) -> Flow<()> {
    let group = match resolve::group(cursor, group_name)? {
        Ok(g) => g,
        Err(message) => return unresolved(cursor, "group.unresolved", message),
    };
    let wanted: Vec<Member> = match people {
        People::TeamOf(team) => {
            let team = match resolve::group(cursor, team)? {
                Ok(g) => g,
                Err(message) => return unresolved(cursor, "team.unresolved", message),
            };
            match members_of(cursor, &team, &format!("who is in {}", team.name))? {
                Ok(m) => m,
                Err(reason) => return unresolved(cursor, "team.unreadable", reason),
            }
        }
        People::Named(subjects) => {
            let mut found = Vec::new();
            for subject in subjects {
                match resolve::person(cursor, input, subject)? {
                    Ok(p) => found.push(Member {
                        upn: p.upn,
                        name: p.name,
                    }),
                    Err(message) => return unresolved(cursor, "person.unresolved", message),
                }
            }
            found
        }
    };
    let current = match members_of(cursor, &group, &format!("who is in {} now", group.name))? {
        Ok(m) => m,
        Err(reason) => return unresolved(cursor, "group.unreadable", reason),
    };
    let is_member = |m: &Member| current.iter().any(|c| c.upn.eq_ignore_ascii_case(&m.upn));
    let mut todo: Vec<Member> = Vec::new();
    for m in wanted {
        if is_member(&m) == add || todo.iter().any(|t| t.upn.eq_ignore_ascii_case(&m.upn)) {
            continue;
        }
        todo.push(m);
    }
    let (action, verb, prep, done_word) = if add {
        ("entra.group.add_member", "add", "to", "added")
    } else {
        ("entra.group.remove_member", "remove", "from", "removed")
    };
    if todo.is_empty() {
        return cursor.reply(format!(
            "Nothing to do: {} {}.",
            if add {
                "everyone is already in"
            } else {
                "nobody of them is in"
            },
            group.name
        ));
    }
    let findings = vec![finding(
        "bulk.size",
        format!("{} people to {verb} {prep} {}", todo.len(), group.name),
    )];
    cursor.plan(
        findings,
        todo.iter()
            .map(|m| {
                format!(
                    "{action} — {verb} {} ({}) {prep} {}",
                    m.name, m.upn, group.name
                )
            })
            .collect(),
    )?;
    let params = todo
        .iter()
        .map(|m| json!({"group": group.id, "user": m.upn}))
        .collect();
    let results = cursor.act_bulk(
        action,
        params,
        &format!("{verb} {} people {prep} {}", todo.len(), group.name),
    )?;
    let mut done = Vec::new();
    let mut waiting = None;
    let mut waiting_names = Vec::new();
    // People refused for the same reason are named together, once.
    let mut refused_by_reason: Vec<(&str, Vec<&str>)> = Vec::new();
    for (m, r) in todo.iter().zip(&results) {
        match r {
            Acted::Done { .. } => done.push(m.name.as_str()),
            Acted::Pending(id) => {
                waiting = Some(*id);
                waiting_names.push(m.name.as_str());
            }
            Acted::Denied(reason) | Acted::Failed(reason) => {
                match refused_by_reason.iter_mut().find(|(r, _)| r == reason) {
                    Some((_, names)) => names.push(m.name.as_str()),
                    None => refused_by_reason.push((reason.as_str(), vec![m.name.as_str()])),
                }
            }
        }
    }
    let refused: Vec<String> = refused_by_reason
        .iter()
        .map(|(reason, names)| format!("{} ({reason})", names.join(", ")))
        .collect();
    let mut parts = Vec::new();
    if !done.is_empty() {
        parts.push(format!(
            "{done_word} {} {prep} {}",
            done.join(", "),
            group.name
        ));
    }
    if let Some(id) = waiting {
        parts.push(format!(
            "{} need{} an approval first; I've asked for it as one request (approval {id})",
            waiting_names.join(", "),
            if waiting_names.len() == 1 { "s" } else { "" }
        ));
    }
    if !refused.is_empty() {
        parts.push(format!("I could not {verb} {}", refused.join("; ")));
    }
    let reply = format!("{}.", capitalise(&parts.join("; ")));
    if !refused.is_empty() && done.is_empty() && waiting.is_none() {
        return hand_over(
            cursor,
            format!("bulk {verb} {prep} {} was refused", group.name),
            vec![finding("policy.denied", refused.join("; "))],
            format!("{reply} I've passed the request to the IT team."),
        );
    }
    cursor.reply(reply)
}
