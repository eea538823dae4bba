//! Sign-in trouble: forgotten passwords, lockouts, expired passwords, disabled accounts, and
//! trouble with systems Steward is not connected to. Investigate first; act only on evidence or
//! an explicit request; otherwise hand over with what was checked.

use serde_json::{Value, json};
use steward_domain::Finding;

use super::super::cursor::{Acted, Cursor, Flow, finding};
use super::super::resolve::{self, Person};
use super::super::understand::Subject;
use super::{capitalise, first_name, hand_over, unresolved, whose};
use crate::reasoner::ReasonerInput;

/// What the requester said is wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Reported {
    /// Asked for a reset or unlock, or said the password is forgotten, expired or locked.
    ResetAsked,
    /// "Cannot log in" without saying why: only evidence justifies a change.
    CannotSignIn,
    /// Said the account is disabled.
    Disabled,
}

/// What the account and its sign-in log show.
struct Examination {
    person: Person,
    /// Whether the person has a Microsoft 365 (Entra ID) account at all: someone with only an
    /// Okta or Google account is helped there or handed over.
    in_entra: bool,
    disabled: bool,
    findings: Vec<Finding>,
    /// (error code, times seen, last seen)
    codes: Vec<(i64, usize, String)>,
}

impl Examination {
    fn count(&self, code: i64) -> usize {
        self.codes
            .iter()
            .find(|(c, _, _)| *c == code)
            .map_or(0, |(_, n, _)| *n)
    }
    fn last(&self, code: i64) -> String {
        self.codes
            .iter()
            .find(|(c, _, _)| *c == code)
            .map(|(_, _, w)| w.clone())
            .unwrap_or_default()
    }
    fn locked(&self) -> bool {
        self.count(50053) > 0
    }
    /// Whether the log shows a problem that a new password fixes.
    fn password_evidence(&self) -> bool {
        self.locked() || self.count(50126) > 0 || self.count(50055) > 0
    }
}

/// Well-known Entra sign-in error codes and what they mean for people.
const KNOWN_CODES: &[(i64, &str)] = &[
    (50053, "account locked after too many failed sign-ins"),
    (50126, "wrong password"),
    (50055, "password expired"),
    (50057, "account disabled"),
    (500121, "multi-factor authentication failed"),
    (53003, "blocked by a conditional access policy"),
];

/// Resolves the person and reads their account and last 72 hours of sign-ins. `Ok(None)` when
/// the procedure already handed over (nobody found, account unreadable).
fn examine(
    cursor: &mut Cursor<'_>,
    input: &ReasonerInput<'_>,
    subject: &Subject,
) -> Flow<Option<Examination>> {
    let person = match resolve::person(cursor, input, subject)? {
        Ok(p) => p,
        Err(message) => return unresolved(cursor, "person.unresolved", message).map(|()| None),
    };
    let upn = person.upn.clone();
    let user = match cursor.investigate(
        "entra.user.get",
        json!({"user": upn}),
        "check the account's state",
    )? {
        Ok(user) => user.clone(),
        // No Microsoft 365 account, but other systems are connected: the account may be
        // theirs alone (an Okta- or Google-only person).
        Err(reason) if reason.contains("there is no person") && !input.systems.is_empty() => {
            return Ok(Some(Examination {
                person,
                in_entra: false,
                disabled: false,
                findings: vec![finding(
                    "account.not_in_entra",
                    format!("{upn} has no Microsoft 365 account"),
                )],
                codes: Vec::new(),
            }));
        }
        Err(reason) => {
            let reply = format!(
                "I couldn't look at {} account ({reason}), so I've passed this to the IT team. Nothing was changed.",
                whose(&person)
            );
            return hand_over(
                cursor,
                format!("could not read {upn}: {reason}"),
                vec![finding("account.unreadable", reason)],
                reply,
            )
            .map(|()| None);
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
    let disabled = user.get("accountEnabled") == Some(&json!(false));
    if disabled {
        findings.push(finding(
            "account.disabled",
            format!("{upn} is disabled (accountEnabled = false)"),
        ));
    }
    // Sign-ins come newest first, so the first time a code is seen is its last occurrence.
    let mut codes: Vec<(i64, usize, String)> = Vec::new();
    for s in &signins {
        let Some(code) = s.pointer("/status/errorCode").and_then(Value::as_i64) else {
            continue;
        };
        if code == 0 {
            continue;
        }
        let when = s
            .get("createdDateTime")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        match codes.iter_mut().find(|(c, _, _)| *c == code) {
            Some(entry) => entry.1 += 1,
            None => codes.push((code, 1, when)),
        }
    }
    for (code, n, last) in &codes {
        let meaning = KNOWN_CODES
            .iter()
            .find(|(c, _)| c == code)
            .map_or("failed sign-in", |(_, m)| *m);
        findings.push(finding(
            &format!("signin.{code}"),
            format!("{n} sign-in(s) failed with error {code} ({meaning}), last at {last}"),
        ));
    }
    Ok(Some(Examination {
        person,
        in_entra: true,
        disabled,
        findings,
        codes,
    }))
}

/// Repairs what the examination shows, within what the requester asked for.
pub(super) fn repair(
    cursor: &mut Cursor<'_>,
    input: &ReasonerInput<'_>,
    subject: &Subject,
    reported: Reported,
) -> Flow<()> {
    let Some(mut exam) = examine(cursor, input, subject)? else {
        return Ok(());
    };
    let person = exam.person.clone();
    let upn = person.upn.clone();
    // Trouble named as Google's is repaired in Google Workspace.
    if super::google::applies(input) {
        return super::google::repair(cursor, &person, exam.findings, reported);
    }
    // Where Okta masters the password, the repair happens there, not in Entra ID.
    if let Some(account) = super::okta::examine(cursor, input, &person, &mut exam.findings)? {
        return super::okta::repair(cursor, input, &person, exam.findings, account, reported);
    }
    if !exam.in_entra {
        let reply = format!(
            "I couldn't find a Microsoft 365 account for {}, and no connected system I can repair masters it, so I've passed this to the IT team. Nothing was changed.",
            person.upn
        );
        return hand_over(
            cursor,
            format!("{upn} has no Microsoft 365 account and no account Steward can repair"),
            exam.findings,
            reply,
        );
    }
    if exam.count(53003) > 0 {
        let reply = format!(
            "{} sign-ins are being blocked by a conditional access policy (error 53003), which is not something I should change. I've passed this to the IT team with the details. Nothing was changed.",
            capitalise(&whose(&person))
        );
        return hand_over(
            cursor,
            "sign-in is blocked by conditional access; access policies need an engineer".into(),
            exam.findings,
            reply,
        );
    }
    if exam.disabled {
        return re_enable(cursor, &person, exam.findings);
    }
    if reported == Reported::Disabled && !exam.password_evidence() {
        exam.findings.push(finding(
            "account.enabled",
            format!("{upn} is enabled (accountEnabled = true)"),
        ));
        cursor.plan(exam.findings, Vec::new())?;
        return cursor.reply(format!(
            "{} account is enabled, so there is nothing for me to re-enable. If you still can't sign in, tell me what you see (the error message or code) and I'll look again.",
            capitalise(&whose(&person))
        ));
    }
    if reported == Reported::CannotSignIn && !exam.password_evidence() {
        let (reason, reply) = if exam.count(500121) > 0 {
            (
                "multi-factor sign-in is failing; resetting MFA methods is not something Steward does yet".to_owned(),
                format!("{} sign-ins are failing at the multi-factor step (error 500121, last at {}). Your password is fine, so I haven't changed it; I've passed this to the IT team to look at your sign-in methods.", capitalise(&whose(&person)), exam.last(500121)),
            )
        } else {
            exam.findings.push(finding(
                "signin.clean",
                format!("{upn} is enabled and has no failed sign-ins in the last 72 hours"),
            ));
            (
                "no cause found in the directory: the account is enabled and recent sign-ins did not fail".to_owned(),
                format!("I checked {} account: it is enabled and has no failed sign-ins in the last 72 hours, so a password reset wouldn't help and I haven't changed anything. I've passed this to the IT team; if you see an error message, reply with it.", whose(&person)),
            )
        };
        return hand_over(cursor, reason, exam.findings, reply);
    }
    if exam.findings.is_empty() {
        exam.findings.push(finding(
            "signin.clean",
            format!("no failed sign-ins for {upn} in the last 72 hours; a reset was asked for"),
        ));
    }
    let locked = exam.locked();
    cursor.plan(
        exam.findings.clone(),
        vec![
            format!("entra.user.reset_password — give {} a temporary password that must be changed at next sign-in{}", person.name, if locked { " (this also clears the lockout)" } else { "" }),
            format!("entra.user.revoke_sessions — sign {} out of every existing session, so nothing signed in before the reset stays signed in", person.name),
        ],
    )?;
    match cursor.act("entra.user.reset_password", json!({"user": upn}), "reset the password to a temporary one")? {
        Acted::Done { verified } => {
            let revoked = cursor.act("entra.user.revoke_sessions", json!({"user": upn}), "sign out of all sessions after the reset")?;
            let cause = if locked {
                format!("the account was locked after repeated failed sign-ins (error 50053, last at {})", exam.last(50053))
            } else if exam.count(50055) > 0 {
                "the password had expired (error 50055)".to_owned()
            } else if exam.count(50126) > 0 {
                "recent sign-ins failed with a wrong password (error 50126)".to_owned()
            } else {
                "nothing is wrong with the account itself, so a fresh password is what was needed".to_owned()
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
                format!(
                    "{}: {cause}. I've reset the password to a temporary one (to be changed at next sign-in) and {revoked_text}. {check} Please pass the temporary password below to {} through a trusted channel.",
                    person.name,
                    first_name(&person)
                )
            };
            cursor.reply(text)
        }
        Acted::Denied(reason) => {
            let reply = if person.is_requester {
                format!("I looked into it but I'm not allowed to reset your password myself: {reason}. I've passed this to the IT team with what I found. Nothing was changed.")
            } else {
                format!("I can't reset {}'s password for you: {reason}. Password resets for other people go through the IT team, so I've passed it on with what I found. Nothing was changed.", person.name)
            };
            hand_over(cursor, format!("resetting {upn}'s password was refused: {reason}"), exam.findings, reply)
        }
        Acted::Pending(id) => cursor.reply(format!("Resetting {} password needs an IT admin's approval first; I've asked for it (approval {id}).", whose(&person))),
        Acted::Failed(error) => hand_over(
            cursor,
            format!("resetting {upn}'s password failed: {error}"),
            exam.findings,
            format!("I tried to reset {} password but it didn't work ({error}). I've passed this to the IT team.", whose(&person)),
        ),
    }
}

/// Google 2-Step Verification trouble: the person is found, and the Google account examined,
/// without touching Entra ID sign-in methods.
pub(super) fn google_two_step(
    cursor: &mut Cursor<'_>,
    input: &ReasonerInput<'_>,
    subject: &Subject,
) -> Flow<()> {
    let person = match resolve::person(cursor, input, subject)? {
        Ok(p) => p,
        Err(message) => return unresolved(cursor, "person.unresolved", message),
    };
    super::google::repair(cursor, &person, Vec::new(), Reported::CannotSignIn)
}

/// A disabled account: re-enable only where policy allows (usually with approval, because
/// accounts are disabled on purpose); otherwise escalate with the findings.
fn re_enable(cursor: &mut Cursor<'_>, person: &Person, findings: Vec<Finding>) -> Flow<()> {
    let upn = person.upn.clone();
    let owner = capitalise(&whose(person));
    cursor.plan(
        findings.clone(),
        vec![format!("entra.user.enable — re-enable {}'s account (accounts are usually disabled on purpose, so policy may ask an IT admin first)", person.name)],
    )?;
    match cursor.act("entra.user.enable", json!({"user": upn}), "re-enable the disabled account")? {
        Acted::Done { verified } => cursor.reply(format!(
            "{owner} account was disabled by an administrator; it has now been re-enabled{}. You can sign in again with your usual password.",
            if verified { " and I checked it took effect" } else { "" }
        )),
        Acted::Pending(id) => cursor.reply(format!(
            "{owner} account was disabled by an administrator (sign-ins fail with error 50057). Accounts are usually disabled on purpose, so re-enabling it needs an IT admin's approval; I've asked for it (approval {id}) and will let you know."
        )),
        Acted::Denied(reason) => hand_over(
            cursor,
            format!("re-enabling {upn} was refused: {reason}"),
            findings,
            format!("{owner} account is disabled, and I'm not allowed to re-enable it: {reason}. I've passed this to the IT team with what I found."),
        ),
        Acted::Failed(error) => hand_over(
            cursor,
            format!("re-enabling {upn} failed: {error}"),
            findings,
            format!("{owner} account is disabled and my attempt to re-enable it failed ({error}). I've passed this to the IT team."),
        ),
    }
}

/// Trouble with a system Steward has no connector for: check the directory account (the usual
/// common cause) and hand over with what was checked.
pub(super) fn other_system(
    cursor: &mut Cursor<'_>,
    input: &ReasonerInput<'_>,
    subject: &Subject,
    system: &str,
) -> Flow<()> {
    let Some(mut exam) = examine(cursor, input, subject)? else {
        return Ok(());
    };
    let label = system.replace('_', " ").to_uppercase();
    exam.findings.push(finding(
        "system.not_connected",
        format!("the request is about {label}, which Steward is not connected to"),
    ));
    let state = if exam.disabled {
        "it is disabled, which may be the cause".to_owned()
    } else if exam.locked() {
        format!(
            "it is locked after failed sign-ins (error 50053, last at {}); if {label} uses your Microsoft sign-in, ask me to reset your password",
            exam.last(50053)
        )
    } else if exam.password_evidence() {
        "recent sign-ins failed with a wrong or expired password; if that is the same password, ask me to reset it".to_owned()
    } else {
        "it is enabled and has no failed sign-ins in the last 72 hours".to_owned()
    };
    let reply = format!(
        "I'm not connected to {label}, so I can't reset or unlock anything there myself. I checked {} Microsoft 365 account: {state}. I've passed this to the IT team with those details. Nothing was changed.",
        whose(&exam.person)
    );
    hand_over(
        cursor,
        format!("sign-in trouble with {label}, which Steward is not connected to"),
        exam.findings,
        reply,
    )
}
