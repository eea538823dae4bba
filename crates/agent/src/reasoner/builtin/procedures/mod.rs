//! The diagnostic and repair procedures of the builtin reasoner.

mod groups;
mod sign_in;

use steward_domain::Finding;

use super::cursor::{Cursor, Flow, finding};
use super::resolve::Person;
use super::understand::Intent;
use crate::reasoner::ReasonerInput;
use sign_in::Reported;

pub(crate) fn run(cursor: &mut Cursor<'_>, input: &ReasonerInput<'_>, intent: &Intent) -> Flow<()> {
    match intent {
        Intent::SignInTrouble { subject, explicit } => {
            let reported = if *explicit {
                Reported::ResetAsked
            } else {
                Reported::CannotSignIn
            };
            sign_in::repair(cursor, input, subject, reported)
        }
        Intent::AccountDisabled { subject } => {
            sign_in::repair(cursor, input, subject, Reported::Disabled)
        }
        Intent::OtherSystem { system, subject } => {
            sign_in::other_system(cursor, input, subject, system)
        }
        Intent::GroupMembership { add, person, group } => {
            groups::membership(cursor, input, *add, person, group)
        }
        Intent::BulkMembership { add, people, group } => {
            groups::bulk_membership(cursor, input, *add, people, group)
        }
        Intent::Unknown => {
            let message = input.messages.first().cloned().unwrap_or_default();
            let findings = vec![finding(
                "request.unrecognised",
                format!(
                    "request as written: \"{}\"",
                    message.chars().take(300).collect::<String>()
                ),
            )];
            cursor.escalate(
                "Steward does not know how to handle this request yet".into(),
                findings,
            )?;
            cursor.reply(
                "I'm not able to handle this one myself yet, so I've passed it to the IT team with your message. Nothing has been changed."
                    .into(),
            )
        }
    }
}

fn first_name(person: &Person) -> &str {
    person
        .name
        .split_whitespace()
        .next()
        .unwrap_or(&person.name)
}

fn whose(person: &Person) -> String {
    if person.is_requester {
        "your".into()
    } else {
        format!("{}'s", person.name)
    }
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().collect::<String>() + chars.as_str())
        .unwrap_or_default()
}

/// Nobody (or nothing) clearly matches what the request names: say so and hand over.
fn unresolved(cursor: &mut Cursor<'_>, code: &str, message: String) -> Flow<()> {
    let reply = format!(
        "I couldn't go on: {message}. I've passed this to the IT team; nothing was changed."
    );
    hand_over(cursor, message.clone(), vec![finding(code, message)], reply)
}

/// Stops with an escalation and a plain-words reply.
fn hand_over(
    cursor: &mut Cursor<'_>,
    reason: String,
    findings: Vec<Finding>,
    reply: String,
) -> Flow<()> {
    cursor.escalate(reason, findings)?;
    cursor.reply(reply)
}
