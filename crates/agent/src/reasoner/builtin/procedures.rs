//! The diagnostic and repair procedures of the builtin reasoner.

use serde_json::{Value, json};
use steward_domain::Finding;

use super::cursor::{Acted, Cursor, Flow, finding};
use super::resolve::{self, Person};
use super::understand::{Intent, Subject};
use crate::reasoner::ReasonerInput;

pub(crate) fn run(cursor: &mut Cursor<'_>, input: &ReasonerInput<'_>, intent: &Intent) -> Flow<()> {
    match intent {
        Intent::SignInTrouble { subject } => sign_in_trouble(cursor, input, subject, false),
        Intent::AccountDisabled { subject } => sign_in_trouble(cursor, input, subject, true),
        Intent::GroupMembership { add, person, group } => {
            group_membership(cursor, input, *add, person, group)
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
                "I'm not able to handle this one myself yet, so I've passed it to the IT team with your message. Nothing has been changed.".into(),
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

fn sign_in_codes(signins: &[Value]) -> Vec<(i64, String, String)> {
    signins
        .iter()
        .filter_map(|s| {
            let code = s.pointer("/status/errorCode").and_then(Value::as_i64)?;
            let when = s
                .get("createdDateTime")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let reason = s
                .pointer("/status/failureReason")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            Some((code, when, reason))
        })
        .collect()
}

/// Forgotten password, locked out, cannot sign in, account disabled: investigate the account and
/// its sign-in log, then repair what was found.
fn sign_in_trouble(
    cursor: &mut Cursor<'_>,
    input: &ReasonerInput<'_>,
    subject: &Subject,
    reported_disabled: bool,
) -> Flow<()> {
    let person = match resolve::person(cursor, input, subject)? {
        Ok(p) => p,
        Err(message) => return unresolved(cursor, "person.unresolved", message),
    };
    let upn = person.upn.clone();
    let user = match cursor.investigate(
        "entra.user.get",
        json!({"user": upn}),
        "check the account's state",
    )? {
        Ok(user) => user.clone(),
        Err(reason) => {
            let findings = vec![finding("account.unreadable", reason.clone())];
            return hand_over(
                cursor,
                format!("could not read {upn}: {reason}"),
                findings,
                format!(
                    "I couldn't look at {} account ({reason}), so I've passed this to the IT team. Nothing was changed.",
                    whose(&person)
                ),
            );
        }
    };
    let mut findings = Vec::new();
    let signins = match cursor.investigate(
        "entra.signins.list",
        json!({"user": upn, "sinceHours": 72}),
        "read recent sign-ins and their error codes",
    )? {
        Ok(list) => list.as_array().cloned().unwrap_or_default(),
        Err(reason) => {
            findings.push(finding(
                "signin.unreadable",
                format!("sign-in logs could not be read: {reason}"),
            ));
            Vec::new()
        }
    };
    let codes = sign_in_codes(&signins);
    let count = |code: i64| codes.iter().filter(|(c, _, _)| *c == code).count();
    let last = |code: i64| {
        codes
            .iter()
            .find(|(c, _, _)| *c == code)
            .map(|(_, w, _)| w.clone())
            .unwrap_or_default()
    };
    let disabled = user.get("accountEnabled") == Some(&json!(false));
    if disabled {
        findings.push(finding(
            "account.disabled",
            format!("{upn} is disabled (accountEnabled = false)"),
        ));
    }
    if count(50057) > 0 {
        findings.push(finding(
            "signin.50057",
            format!(
                "{} sign-in(s) refused because the account is disabled (error 50057), last at {}",
                count(50057),
                last(50057)
            ),
        ));
    }
    if count(50053) > 0 {
        findings.push(finding(
            "signin.50053",
            format!(
                "account locked: {} sign-in(s) failed with error 50053, last at {}",
                count(50053),
                last(50053)
            ),
        ));
    }
    if count(50126) > 0 {
        findings.push(finding(
            "signin.50126",
            format!(
                "{} sign-in(s) with a wrong password (error 50126), last at {}",
                count(50126),
                last(50126)
            ),
        ));
    }
    if count(50055) > 0 {
        findings.push(finding(
            "signin.50055",
            format!(
                "the password has expired (error 50055), last at {}",
                last(50055)
            ),
        ));
    }
    if count(53003) > 0 {
        findings.push(finding(
            "signin.53003",
            format!(
                "sign-in blocked by a conditional access policy (error 53003), last at {}",
                last(53003)
            ),
        ));
        return hand_over(
            cursor,
            "sign-in is blocked by conditional access; changing access policies needs an engineer"
                .into(),
            findings,
            format!(
                "{} sign-ins are being blocked by a conditional access policy, which is not something I should change. I've passed this to the IT team with the details. Nothing was changed.",
                whose(&person)
            ),
        );
    }
    if count(500121) > 0 {
        findings.push(finding(
            "signin.500121",
            format!(
                "multi-factor authentication failed (error 500121), last at {}",
                last(500121)
            ),
        ));
    }

    if disabled {
        return re_enable(cursor, &person, findings);
    }
    if reported_disabled && count(50053) == 0 && count(50126) == 0 {
        // Reported as disabled, but it is not (any more): nothing to change.
        let mut findings = findings;
        findings.push(finding(
            "account.enabled",
            format!("{upn} is enabled (accountEnabled = true)"),
        ));
        cursor.plan(findings, Vec::new())?;
        return cursor.reply(format!(
            "{} account is enabled, so there is nothing for me to re-enable. If you still can't sign in, tell me what you see (the error message or code) and I'll look again.",
            capitalise(&whose(&person))
        ));
    }
    if findings.iter().all(|f| f.code == "signin.unreadable") {
        findings.push(finding(
            "signin.clean",
            format!("no failed sign-ins for {upn} in the last 72 hours and the account is enabled"),
        ));
    }
    let locked = count(50053) > 0;
    cursor.plan(
        findings.clone(),
        vec![
            format!("entra.user.reset_password — give {} a temporary password that must be changed at next sign-in{}", person.name, if locked { " (this also clears the lockout)" } else { "" }),
            format!("entra.user.revoke_sessions — sign {} out of every existing session, so nothing signed in before the reset stays signed in", person.name),
        ],
    )?;
    match cursor.act("entra.user.reset_password", json!({"user": upn}), "reset the password to a temporary one")? {
        Acted::Done { verified } => {
            let revoked = cursor.act("entra.user.revoke_sessions", json!({"user": upn}), "sign out of all sessions after the reset")?;
            let cause = if locked {
                format!("the account was locked after repeated failed sign-ins (error 50053, last at {})", last(50053))
            } else if count(50126) > 0 {
                "recent sign-ins failed with a wrong password".to_owned()
            } else {
                "no lockout in the logs, so a fresh password is the quickest fix".to_owned()
            };
            let revoked_text = match revoked {
                Acted::Done { .. } => "signed out every existing session",
                _ => "could not sign out the existing sessions (IT has the details)",
            };
            let check = if verified { "I checked the change took effect." } else { "I couldn't confirm the change by reading it back, so please tell me if it doesn't work." };
            let text = if person.is_requester {
                format!(
                    "Hi {}, I found the cause: {cause}. I've reset your password to a temporary one and {revoked_text}. {check} Sign in with the temporary password below; you'll be asked to choose a new password straight away.",
                    first_name(&person)
                )
            } else {
                format!("{}: {cause}. I've reset the password to a temporary one (to be changed at next sign-in) and {revoked_text}. {check} Please pass the temporary password below to {} through a trusted channel.", person.name, first_name(&person))
            };
            cursor.reply(text)
        }
        Acted::Denied(reason) => hand_over(
            cursor,
            format!("resetting {upn}'s password was refused: {reason}"),
            findings,
            if person.is_requester {
                format!("I found the cause ({}) but I'm not allowed to reset your password myself: {reason}. I've passed this to the IT team with what I found. Nothing was changed.", describe_cause(locked))
            } else {
                format!("I can't reset {}'s password for you: {reason}. Password resets for other people go through the IT team, so I've passed it on with what I found. Nothing was changed.", person.name)
            },
        ),
        Acted::Pending(id) => cursor.reply(format!("Resetting {} password needs an IT admin's approval first; I've asked for it (approval {id}).", whose(&person))),
        Acted::Failed(error) => hand_over(
            cursor,
            format!("resetting {upn}'s password failed: {error}"),
            findings,
            format!("I tried to reset {} password but it didn't work ({error}). I've passed this to the IT team.", whose(&person)),
        ),
    }
}

fn describe_cause(locked: bool) -> &'static str {
    if locked {
        "your account is locked after too many failed sign-ins"
    } else {
        "your sign-ins are failing"
    }
}

/// A disabled account: re-enable only where policy allows (usually with approval, because
/// accounts are disabled on purpose); otherwise escalate with the findings.
fn re_enable(cursor: &mut Cursor<'_>, person: &Person, findings: Vec<Finding>) -> Flow<()> {
    let upn = person.upn.clone();
    cursor.plan(findings.clone(), vec![format!("entra.user.enable — re-enable {}'s account (accounts are usually disabled on purpose, so policy may ask an IT admin first)", person.name)])?;
    match cursor.act("entra.user.enable", json!({"user": upn}), "re-enable the disabled account")? {
        Acted::Done { verified } => cursor.reply(format!(
            "{} account was disabled by an administrator; it has now been re-enabled{}. You can sign in again with your usual password.",
            capitalise(&whose(person)),
            if verified { " and I checked it took effect" } else { "" }
        )),
        Acted::Pending(id) => cursor.reply(format!(
            "{} account was disabled by an administrator (sign-ins fail with error 50057). Accounts are usually disabled on purpose, so re-enabling it needs an IT admin's approval; I've asked for it (approval {id}) and will let you know.",
            capitalise(&whose(person))
        )),
        Acted::Denied(reason) => hand_over(
            cursor,
            format!("re-enabling {upn} was refused: {reason}"),
            findings,
            format!("{} account is disabled, and I'm not allowed to re-enable it: {reason}. I've passed this to the IT team with what I found.", capitalise(&whose(person))),
        ),
        Acted::Failed(error) => hand_over(
            cursor,
            format!("re-enabling {upn} failed: {error}"),
            findings,
            format!("{} account is disabled and my attempt to re-enable it failed ({error}). I've passed this to the IT team.", capitalise(&whose(person))),
        ),
    }
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().collect::<String>() + chars.as_str())
        .unwrap_or_default()
}

fn group_membership(
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
