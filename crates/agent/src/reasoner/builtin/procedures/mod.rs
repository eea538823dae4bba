//! The diagnostic and repair procedures of the builtin reasoner.

mod accounts;
mod devices;
mod google;
mod groups;
mod mailbox;
mod okta;
mod security;
mod sign_in;

use serde_json::Value;
use steward_domain::Finding;

use super::cursor::{Acted, Cursor, Flow, finding};
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
        Intent::AutoReply {
            subject,
            on,
            message,
            start,
            end,
        } => mailbox::auto_reply(
            cursor,
            input,
            subject,
            *on,
            message.as_deref(),
            start.as_deref(),
            end.as_deref(),
        ),
        Intent::CalendarShare { owner, with, role } => {
            mailbox::calendar_share(cursor, input, owner, with, role)
        }
        Intent::Forwarding { subject } => mailbox::forwarding(cursor, input, subject),
        Intent::SharedMailbox { mailbox } => mailbox::shared_mailbox(cursor, mailbox),
        // A second factor for Google is Google's 2-Step Verification, not an Entra method.
        Intent::MfaReset { subject } if google::applies(input) => {
            sign_in::google_two_step(cursor, input, subject)
        }
        Intent::MfaReset { subject } => security::mfa_reset(cursor, input, subject),
        Intent::TemporaryAccessPass { subject } => {
            security::temporary_access_pass(cursor, input, subject)
        }
        Intent::SignOutEverywhere { subject } => {
            security::sign_out_everywhere(cursor, input, subject)
        }
        Intent::Compromised { subject } => security::compromised(cursor, input, subject),
        Intent::PrivilegedRole { subject, role } => {
            security::privileged_role(cursor, input, subject, role)
        }
        Intent::LostDevice { subject, kind } => devices::lost(cursor, input, subject, *kind),
        Intent::DeviceCompliance { subject, kind } => {
            devices::compliance(cursor, input, subject, *kind)
        }
        Intent::Licence { subject, product } => {
            accounts::licence(cursor, input, subject, product.as_deref())
        }
        Intent::DepartmentMove {
            person,
            department,
            manager,
        } => accounts::department_move(cursor, input, person, department, manager.as_ref()),
        Intent::Onboarding(starter) => accounts::onboarding(cursor, input, starter),
        Intent::Offboarding { person } => accounts::offboarding(cursor, input, person),
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

/// "you" to the requester, the person's name to anyone else.
fn you_or_name(person: &Person) -> String {
    if person.is_requester {
        "you".into()
    } else {
        person.name.clone()
    }
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

/// One change, with the requester told in plain words how it ended: `done` is the reply when it
/// ran (given whether the read-back confirmed it); a refusal or failure is handed to the IT team
/// with `findings`.
fn change(
    cursor: &mut Cursor<'_>,
    action: &str,
    params: Value,
    purpose: &str,
    findings: Vec<Finding>,
    done: impl FnOnce(bool) -> String,
) -> Flow<()> {
    match cursor.act(action, params, purpose)? {
        Acted::Done { verified } => cursor.reply(done(verified)),
        Acted::Pending(id) => cursor.reply(format!(
            "To {purpose} I need an approval first; I've asked for it (approval {id}) and will tell you when it's decided."
        )),
        Acted::Denied(reason) => {
            let mut findings = findings;
            findings.push(finding("policy.denied", reason.clone()));
            hand_over(
                cursor,
                format!("{action} was refused: {reason}"),
                findings,
                format!("I'm not allowed to {purpose} myself ({reason}), so I've passed it to the IT team with what I found. Nothing was changed."),
            )
        }
        Acted::Failed(error) => {
            let mut findings = findings;
            findings.push(finding("action.failed", error.clone()));
            hand_over(
                cursor,
                format!("{action} failed: {error}"),
                findings,
                format!("I tried to {purpose} but it didn't work ({error}). I've passed it to the IT team."),
            )
        }
    }
}

/// The person a request is about; `None` once the requester has been told nobody clearly
/// matches and the request handed over (or a question to them is pending).
fn find_person(
    cursor: &mut Cursor<'_>,
    input: &ReasonerInput<'_>,
    subject: &super::understand::Subject,
) -> Flow<Option<Person>> {
    match super::resolve::person(cursor, input, subject)? {
        Ok(p) => Ok(Some(p)),
        Err(message) => unresolved(cursor, "person.unresolved", message).map(|()| None),
    }
}

/// A read the procedure cannot go on without: its answer, or `None` once the requester has been
/// told what could not be read (`what`, e.g. "Leo Martins's inbox rules") and it was handed over
/// with the reason as finding `code`.
fn read_or_hand_over(
    cursor: &mut Cursor<'_>,
    read: (&str, Value),
    purpose: &str,
    what: &str,
    code: &str,
) -> Flow<Option<Value>> {
    let (action, params) = read;
    match cursor.investigate(action, params, purpose)? {
        Ok(v) => Ok(Some(v.clone())),
        Err(reason) => hand_over(
            cursor,
            format!("reading {what} failed: {reason}"),
            vec![finding(code, reason.clone())],
            format!(
                "I couldn't read {what} ({reason}), so I've passed this to the IT team. Nothing was changed."
            ),
        )
        .map(|()| None),
    }
}

/// What a procedure of several changes did and did not do, in plain words for the reply.
#[derive(Debug, Default)]
struct Progress {
    done: Vec<String>,
    not_done: Vec<String>,
}

impl Progress {
    /// Records how one change ended.
    fn note(&mut self, acted: Acted, what: impl Into<String>) {
        let what = what.into();
        match acted {
            Acted::Done { .. } => self.done.push(what),
            Acted::Pending(id) => self
                .not_done
                .push(format!("{what} (waiting for approval {id})")),
            Acted::Denied(r) | Acted::Failed(r) => self.not_done.push(format!("{what} ({r})")),
        }
    }

    /// Whatever is not done only waits for an approval.
    fn only_waiting(&self) -> bool {
        self.not_done
            .iter()
            .all(|n| n.contains("waiting for approval"))
    }
}

/// A text field of a read's answer.
fn field(value: &Value, key: &str) -> String {
    value
        .get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// The items of a read's answer (a list, or an object's `value`).
fn items(value: &Value) -> Vec<Value> {
    value
        .as_array()
        .or_else(|| value.get("value").and_then(Value::as_array))
        .cloned()
        .unwrap_or_default()
}
