//! Sign-in trouble with Google Workspace (Gmail, Drive, Docs, Meet), when Google is connected and
//! the request names it: the account's state and its login activity, then a temporary Google
//! password (wrong or forgotten password) with every session ended, an unsuspension only with
//! approval, and 2-Step Verification trouble handed to people (new backup codes open the account
//! to whoever holds them).

use serde_json::{Value, json};
use steward_domain::Finding;

use super::super::cursor::{Acted, Cursor, Flow, finding};
use super::super::resolve::Person;
use super::sign_in::Reported;
use super::{capitalise, first_name, hand_over, whose};
use crate::reasoner::ReasonerInput;

/// Words that say the trouble is with Google Workspace.
const GOOGLE_WORDS: &[&str] = &[
    "google",
    "gmail",
    "g suite",
    "gsuite",
    "google drive",
    "google docs",
    "google meet",
    "workspace account",
];

/// Whether Google is connected and the request is about it.
pub(super) fn applies(input: &ReasonerInput<'_>) -> bool {
    input.systems.iter().any(|s| s == "google")
        && input.messages.iter().any(|m| {
            let m = m.to_lowercase();
            GOOGLE_WORDS.iter().any(|w| m.contains(w))
        })
}

fn count(events: &[Value], failure: &str) -> usize {
    events
        .iter()
        .filter(|e| e["failureType"] == failure)
        .count()
}

/// Repairs the person's Google sign-in within what was asked.
pub(super) fn repair(
    cursor: &mut Cursor<'_>,
    person: &Person,
    mut findings: Vec<Finding>,
    reported: Reported,
) -> Flow<()> {
    let upn = person.upn.clone();
    let owner = capitalise(&whose(person));
    let account = match cursor.investigate(
        "google.user.get",
        json!({"user": upn}),
        "check the Google account",
    )? {
        Ok(a) => a.clone(),
        Err(reason) => {
            findings.push(finding(
                "google.unreadable",
                format!("Google Workspace: {reason}"),
            ));
            return hand_over(
                cursor,
                format!("could not read {upn}'s Google account: {reason}"),
                findings,
                format!(
                    "I couldn't look at {} Google account ({reason}), so I've passed this to the IT team. Nothing was changed.",
                    whose(person)
                ),
            );
        }
    };
    let events = match cursor.investigate(
        "google.logins.list",
        json!({"user": upn, "sinceHours": 72, "failuresOnly": true}),
        "read recent Google login failures",
    )? {
        Ok(list) => list.as_array().cloned().unwrap_or_default(),
        Err(reason) => {
            findings.push(finding(
                "google.logins_unreadable",
                format!("Google login activity could not be read: {reason}"),
            ));
            Vec::new()
        }
    };
    let wrong_password = count(&events, "login_failure_invalid_password");
    let second_factor = count(&events, "login_failure_invalid_second_factor");
    if wrong_password > 0 {
        findings.push(finding(
            "google.wrong_password",
            format!(
                "{wrong_password} Google login(s) failed with a wrong password in the last 72 hours"
            ),
        ));
    }
    if second_factor > 0 {
        findings.push(finding(
            "google.second_factor",
            format!(
                "{second_factor} Google login(s) failed at 2-Step Verification in the last 72 hours"
            ),
        ));
    }
    if account["suspended"] == true {
        findings.push(finding(
            "google.suspended",
            format!(
                "{upn}'s Google account is suspended ({})",
                account["suspensionReason"]
                    .as_str()
                    .unwrap_or("no reason given")
            ),
        ));
        cursor.plan(findings.clone(), vec![format!("google.user.unsuspend — unsuspend {}'s Google account (suspensions are deliberate, so policy asks an IT admin first)", person.name)])?;
        return match cursor.act("google.user.unsuspend", json!({"user": upn}), "unsuspend the Google account")? {
            Acted::Done { .. } => cursor.reply(format!("{owner} Google account was suspended; it is active again, and you can sign in with your usual password.")),
            Acted::Pending(id) => cursor.reply(format!("{owner} Google account is suspended, which is done on purpose, so unsuspending it needs an IT admin's approval; I've asked for it (approval {id}).")),
            Acted::Denied(reason) | Acted::Failed(reason) => hand_over(cursor, format!("unsuspending {upn} in Google did not happen: {reason}"), findings, format!("{owner} Google account is suspended and I couldn't unsuspend it ({reason}). I've passed this to the IT team.")),
        };
    }
    let wants_password = reported == Reported::ResetAsked || wrong_password > 0;
    if !wants_password {
        let reason = if second_factor > 0 {
            "Google's 2-Step Verification is failing; new backup codes or turning it off opens the account, so a person checks who is asking first".to_owned()
        } else {
            findings.push(finding(
                "google.clean",
                format!(
                    "{upn}'s Google account is active with no failed logins in the last 72 hours"
                ),
            ));
            "no cause found in Google: the account is active and recent logins did not fail"
                .to_owned()
        };
        return hand_over(
            cursor,
            reason.clone(),
            findings,
            format!(
                "I checked {} Google account: {reason}. I haven't changed anything and I've passed this to the IT team.",
                whose(person)
            ),
        );
    }
    cursor.plan(
        findings.clone(),
        vec![
            format!("google.user.set_password — give {} a temporary Google password, to be changed at next login", person.name),
            format!("google.user.sign_out — end every Google session of {}", person.name),
        ],
    )?;
    match cursor.act("google.user.set_password", json!({"user": upn}), "set a temporary Google password")? {
        Acted::Done { verified } => {
            let out = cursor.act("google.user.sign_out", json!({"user": upn}), "sign out of every Google session")?;
            let signed_out = matches!(out, Acted::Done { .. });
            let check = if verified { "I checked Google will ask for a new password." } else { "I couldn't confirm it by reading it back, so tell me if it doesn't work." };
            let sessions = if signed_out { " and signed out every Google session" } else { "" };
            cursor.reply(if person.is_requester {
                format!("Hi {}, I've set a temporary Google password{sessions}. {check} Sign in to Google with the password below; it will ask you to choose a new one.", first_name(person))
            } else {
                format!("{} has a temporary Google password now{sessions}. {check} Please pass the password below to {} through a trusted channel.", person.name, first_name(person))
            })
        }
        Acted::Pending(id) => cursor.reply(format!("Setting a temporary Google password for {} needs an IT admin's approval first; I've asked for it (approval {id}).", person.name)),
        Acted::Denied(reason) => hand_over(cursor, format!("Google: setting {upn}'s password was refused: {reason}"), findings, format!("I'm not allowed to set {} Google password myself ({reason}). I've passed this to the IT team with what I found. Nothing was changed.", whose(person))),
        Acted::Failed(error) => hand_over(cursor, format!("Google: setting {upn}'s password failed: {error}"), findings, format!("I tried to set a temporary Google password but it didn't work ({error}). I've passed this to the IT team.")),
    }
}
