//! Adding and removing people to and from groups.

use serde_json::json;

use super::super::cursor::{Acted, Cursor, Flow, finding};
use super::super::resolve;
use super::super::understand::Subject;
use super::{hand_over, unresolved};
use crate::reasoner::ReasonerInput;

pub(super) fn membership(
    cursor: &mut Cursor<'_>,
    input: &ReasonerInput<'_>,
    add: bool,
    subject: &Subject,
    group_name: &str,
) -> Flow<()> {
    let person = match resolve::person(cursor, input, subject)? {
        Ok(p) => p,
        Err(message) => return unresolved(cursor, "person.unresolved", message),
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
