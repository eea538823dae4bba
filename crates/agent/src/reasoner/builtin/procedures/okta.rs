//! Sign-in trouble for people whose password Okta masters: the same investigation and repairs
//! as for Microsoft 365 (`sign_in.rs`), done in Okta — the account's status, its System Log
//! (failed sign-ins, lockouts, MFA denials), then an unlock or a temporary password. Every
//! plan and reply says the account is Okta's, so nobody wonders why Entra ID was left alone.

use serde_json::{Value, json};
use steward_domain::Finding;

use super::super::cursor::{Acted, Cursor, Flow, finding};
use super::super::resolve::Person;
use super::sign_in::Reported;
use super::{capitalise, first_name, hand_over, whose};
use crate::reasoner::ReasonerInput;

/// A person's Okta account, when Okta holds their password.
pub(super) struct OktaAccount {
    status: String,
    events: Vec<Value>,
}

impl OktaAccount {
    fn count(&self, event_type: &str) -> usize {
        self.events
            .iter()
            .filter(|e| e["eventType"] == event_type)
            .count()
    }

    fn failed_sign_ins(&self) -> usize {
        self.events
            .iter()
            .filter(|e| {
                e["eventType"] == "user.session.start"
                    && e.pointer("/outcome/result") == Some(&json!("FAILURE"))
            })
            .count()
    }

    fn mfa_denials(&self) -> usize {
        self.events
            .iter()
            .filter(|e| {
                let t = e["eventType"].as_str().unwrap_or_default();
                (t.starts_with("user.mfa") || t.contains("auth_via_mfa"))
                    && e.pointer("/outcome/result") == Some(&json!("FAILURE"))
            })
            .count()
    }

    fn last(&self, event_type: &str) -> String {
        self.events
            .iter()
            .find(|e| e["eventType"] == event_type)
            .and_then(|e| e["published"].as_str())
            .unwrap_or_default()
            .to_owned()
    }
}

/// Reads the person's Okta account when Okta is connected. `Some` only when Okta masters their
/// password (its credential provider is Okta itself); the account and the System Log's recent
/// failures are then what the repair goes on. A person Okta does not know, or whose password
/// lives elsewhere (Active Directory, a federated IdP), gets `None` and a finding saying so.
pub(super) fn examine(
    cursor: &mut Cursor<'_>,
    input: &ReasonerInput<'_>,
    person: &Person,
    findings: &mut Vec<Finding>,
) -> Flow<Option<OktaAccount>> {
    if !input.systems.iter().any(|s| s == "okta") {
        return Ok(None);
    }
    let account = match cursor.investigate(
        "okta.user.get",
        json!({"user": person.upn}),
        "see whether Okta masters the account's password",
    )? {
        Ok(a) => a.clone(),
        Err(reason) => {
            let code = if reason.contains("E0000007") {
                "okta.no_account"
            } else {
                "okta.unreadable"
            };
            findings.push(finding(code, format!("Okta: {reason}")));
            return Ok(None);
        }
    };
    let status = account["status"].as_str().unwrap_or_default().to_owned();
    if account["mastersPassword"] != json!(true) {
        findings.push(finding(
            "okta.password_elsewhere",
            format!(
                "{} has an Okta account ({status}) but its password is mastered by {}",
                person.upn,
                account["credentialProvider"]
                    .as_str()
                    .unwrap_or("another directory")
            ),
        ));
        return Ok(None);
    }
    findings.push(finding(
        "okta.masters_password",
        format!(
            "{}'s sign-in is mastered by Okta (credential provider OKTA); Okta status {status}",
            person.upn
        ),
    ));
    let events = match cursor.investigate(
        "okta.logs.list",
        json!({"user": person.upn, "sinceHours": 72, "failuresOnly": true}),
        "read recent Okta sign-in failures, lockouts and MFA denials",
    )? {
        Ok(list) => list.as_array().cloned().unwrap_or_default(),
        Err(reason) => {
            findings.push(finding(
                "okta.log_unreadable",
                format!("the Okta System Log could not be read: {reason}"),
            ));
            Vec::new()
        }
    };
    let account = OktaAccount { status, events };
    if account.count("user.account.lock") > 0 {
        findings.push(finding(
            "okta.locked",
            format!(
                "Okta locked the account after repeated failed sign-ins (last at {})",
                account.last("user.account.lock")
            ),
        ));
    }
    if account.failed_sign_ins() > 0 {
        findings.push(finding(
            "okta.failed_sign_ins",
            format!(
                "{} failed Okta sign-in(s) in the last 72 hours",
                account.failed_sign_ins()
            ),
        ));
    }
    if account.mfa_denials() > 0 {
        findings.push(finding(
            "okta.mfa_denied",
            format!(
                "{} failed or rejected MFA challenge(s) in the last 72 hours",
                account.mfa_denials()
            ),
        ));
    }
    Ok(Some(account))
}

/// Repairs the Okta account within what was asked.
pub(super) fn repair(
    cursor: &mut Cursor<'_>,
    input: &ReasonerInput<'_>,
    person: &Person,
    mut findings: Vec<Finding>,
    okta: OktaAccount,
    reported: Reported,
) -> Flow<()> {
    let upn = person.upn.clone();
    let owner = capitalise(&whose(person));
    match okta.status.as_str() {
        "SUSPENDED" | "DEPROVISIONED" => {
            let what = if okta.status == "SUSPENDED" {
                "suspended"
            } else {
                "deactivated"
            };
            if okta.status == "SUSPENDED" {
                cursor.plan(findings.clone(), vec![format!("okta.user.unsuspend — unsuspend {}'s Okta account (Okta holds their sign-in; suspensions are deliberate, so policy asks an IT admin first)", person.name)])?;
                return match cursor.act("okta.user.unsuspend", json!({"user": upn}), "unsuspend the Okta account")? {
                    Acted::Done { .. } => cursor.reply(format!("{owner} Okta account was suspended; it is active again and you can sign in with your usual password.")),
                    Acted::Pending(id) => cursor.reply(format!("{owner} sign-in is managed by Okta, and the Okta account is suspended. Suspensions are deliberate, so unsuspending it needs an IT admin's approval; I've asked for it (approval {id}).")),
                    Acted::Denied(reason) | Acted::Failed(reason) => hand_over(cursor, format!("unsuspending {upn} in Okta did not happen: {reason}"), findings, format!("{owner} Okta account is suspended and I couldn't unsuspend it ({reason}). I've passed this to the IT team.")),
                };
            }
            return hand_over(
                cursor,
                format!("{upn}'s Okta account is {what}"),
                findings,
                format!(
                    "{owner} sign-in is managed by Okta, and the Okta account is {what}, which is done on purpose. I've passed this to the IT team. Nothing was changed."
                ),
            );
        }
        _ => {}
    }
    let locked = okta.status == "LOCKED_OUT";
    if reported == Reported::CannotSignIn && !locked && okta.failed_sign_ins() == 0 {
        let reason = if okta.mfa_denials() > 0 {
            "Okta MFA challenges are failing or being rejected; the factors need a person to check them".to_owned()
        } else {
            findings.push(finding(
                "okta.clean",
                format!(
                    "{upn}'s Okta account is {} with no failed sign-ins in the last 72 hours",
                    okta.status
                ),
            ));
            "no cause found in Okta: the account is active and recent sign-ins did not fail"
                .to_owned()
        };
        return hand_over(
            cursor,
            reason.clone(),
            findings,
            format!(
                "{owner} sign-in is managed by Okta. I checked the Okta account: {reason}. A new password wouldn't help, so I haven't changed anything and I've passed this to the IT team."
            ),
        );
    }
    // A lockout with no word of a forgotten or expired password: unlock, keeping the password.
    if locked && !wants_new_password(input) {
        cursor.plan(findings.clone(), vec![format!("okta.user.unlock — unlock {}'s Okta account (Okta masters their password, so Entra ID is not touched; the password stays the same)", person.name)])?;
        return match cursor.act("okta.user.unlock", json!({"user": upn}), "unlock the Okta account")? {
            Acted::Done { verified } => cursor.reply(format!(
                "{}Okta locked {} account after repeated failed sign-ins{}. I've unlocked it{}, so you can sign in again with your current password. If you've forgotten it, tell me and I'll set a temporary one.",
                if person.is_requester { format!("Hi {}, ", first_name(person)) } else { String::new() },
                whose(person),
                last_at(&okta),
                if verified { " and checked it took effect" } else { "" },
            )),
            other => not_done(cursor, other, &upn, "unlock", findings, person),
        };
    }
    cursor.plan(
        findings.clone(),
        vec![format!("okta.user.temp_password — give {} a temporary Okta password to change at next sign-in, ending every session (Okta masters their password, so Entra ID is not touched{})", person.name, if locked { "; this also clears the lockout" } else { "" })],
    )?;
    match cursor.act(
        "okta.user.temp_password",
        json!({"user": upn, "revokeSessions": true}),
        "set a temporary Okta password",
    )? {
        Acted::Done { verified } => {
            let check = if verified {
                "I checked the change took effect."
            } else {
                "I couldn't confirm the change by reading it back, so tell me if it doesn't work."
            };
            let cause = if locked {
                format!(
                    "Okta had locked the account after repeated failed sign-ins{}",
                    last_at(&okta)
                )
            } else {
                "a new password was asked for".to_owned()
            };
            cursor.reply(if person.is_requester {
                format!("Hi {}, your sign-in is managed by Okta: {cause}. I've set a temporary Okta password and signed you out of every Okta session. {check} Sign in with the temporary password below; Okta will ask you to choose a new one straight away.", first_name(person))
            } else {
                format!("{}'s sign-in is managed by Okta: {cause}. I've set a temporary Okta password (to be changed at next sign-in) and ended their Okta sessions. {check} Please pass the temporary password below to {} through a trusted channel.", person.name, first_name(person))
            })
        }
        other => not_done(
            cursor,
            other,
            &upn,
            "set a temporary password for",
            findings,
            person,
        ),
    }
}

/// Whether the requester asked for a new password (forgotten, expired, a reset), rather than
/// only saying they are locked out.
fn wants_new_password(input: &ReasonerInput<'_>) -> bool {
    input.messages.iter().any(|m| {
        let m = m.to_lowercase();
        [
            "forgot",
            "forgotten",
            "reset",
            "new password",
            "expired",
            "remember",
            "temporary password",
            "change my password",
        ]
        .iter()
        .any(|w| m.contains(w))
    })
}

fn last_at(okta: &OktaAccount) -> String {
    let at = okta.last("user.account.lock");
    if at.is_empty() {
        String::new()
    } else {
        format!(" (at {at})")
    }
}

fn not_done(
    cursor: &mut Cursor<'_>,
    acted: Acted,
    upn: &str,
    verb: &str,
    findings: Vec<Finding>,
    person: &Person,
) -> Flow<()> {
    match acted {
        Acted::Pending(id) => cursor.reply(format!("That change to {} Okta account needs an IT admin's approval first; I've asked for it (approval {id}).", whose(person))),
        Acted::Denied(reason) => hand_over(cursor, format!("Okta: {verb} {upn} was refused: {reason}"), findings, format!("{} sign-in is managed by Okta, and I'm not allowed to {verb} the account myself ({reason}). I've passed this to the IT team with what I found. Nothing was changed.", capitalise(&whose(person)))),
        Acted::Failed(error) => hand_over(cursor, format!("Okta: {verb} {upn} failed: {error}"), findings, format!("I tried to {verb} {} Okta account but it didn't work ({error}). I've passed this to the IT team.", whose(person))),
        Acted::Done { .. } => Ok(()),
    }
}
