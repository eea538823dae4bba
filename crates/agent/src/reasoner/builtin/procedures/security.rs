//! Sign-in methods and account security: a new phone, a Temporary Access Pass, signing out
//! everywhere, a suspected compromise, a privileged role asked for.

use serde_json::{Value, json};

use super::super::cursor::{Acted, Cursor, Flow, finding};
use super::super::understand::Subject;
use super::{
    Progress, capitalise, change, field, find_person, first_name, hand_over, items,
    read_or_hand_over, whose, you_or_name,
};
use crate::reasoner::ReasonerInput;

/// Methods tied to a phone: the ones a new or lost phone leaves stale.
fn phone_bound(kind: &str) -> bool {
    [
        "microsoftAuthenticator",
        "phoneAuthentication",
        "softwareOath",
    ]
    .iter()
    .any(|k| kind.contains(k))
}

/// A new phone: remove the sign-in methods bound to the old one, so the next sign-in asks to set
/// up the new phone. Password, security keys and Windows Hello stay.
pub(super) fn mfa_reset(
    cursor: &mut Cursor<'_>,
    input: &ReasonerInput<'_>,
    subject: &Subject,
) -> Flow<()> {
    let Some(person) = find_person(cursor, input, subject)? else {
        return Ok(());
    };
    let upn = person.upn.clone();
    let Some(methods) = read_or_hand_over(
        cursor,
        ("entra.user.list_auth_methods", json!({"user": upn})),
        "see which sign-in methods are registered",
        &format!("{} sign-in methods", whose(&person)),
        "methods.unreadable",
    )?
    else {
        return Ok(());
    };
    let methods = items(&methods);
    let stale: Vec<(String, String)> = methods
        .iter()
        .filter(|m| phone_bound(&field(m, "type")))
        .map(|m| (field(m, "id"), field(m, "description")))
        .filter(|(id, _)| !id.is_empty())
        .collect();
    let findings = vec![finding(
        "methods.registered",
        format!(
            "{upn} has {} sign-in method(s): {}",
            methods.len(),
            methods
                .iter()
                .map(|m| field(m, "description"))
                .collect::<Vec<_>>()
                .join("; ")
        ),
    )];
    if stale.is_empty() {
        cursor.plan(findings, Vec::new())?;
        return cursor.reply(format!(
            "{} account has no phone-based sign-in method registered, so there's nothing to clear: at the next sign-in Microsoft will ask to set up the authenticator on the new phone.",
            capitalise(&whose(&person))
        ));
    }
    cursor.plan(
        findings.clone(),
        stale
            .iter()
            .map(|(_, d)| {
                format!("entra.user.delete_auth_method — remove {d} (bound to the old phone)")
            })
            .collect(),
    )?;
    let mut removed = Vec::new();
    for (id, description) in &stale {
        match cursor.act(
            "entra.user.delete_auth_method",
            json!({"user": upn, "method": id}),
            &format!(
                "remove {description} from {} sign-in methods",
                whose(&person)
            ),
        )? {
            Acted::Done { .. } => removed.push(description.clone()),
            Acted::Pending(approval) => {
                return cursor.reply(format!(
                    "Clearing the old phone from {} sign-in methods needs an IT admin's approval; I've asked for it (approval {approval}).",
                    whose(&person)
                ));
            }
            Acted::Denied(reason) | Acted::Failed(reason) => {
                let mut findings = findings;
                findings.push(finding("methods.not_removed", reason.clone()));
                return hand_over(
                    cursor,
                    format!("removing {description} from {upn} did not happen: {reason}"),
                    findings,
                    format!(
                        "I couldn't clear the old phone from {} sign-in methods ({reason}){}. I've passed this to the IT team.",
                        whose(&person),
                        if removed.is_empty() {
                            String::new()
                        } else {
                            format!("; I had already removed {}", removed.join(", "))
                        }
                    ),
                );
            }
        }
    }
    cursor.reply(format!(
        "Done: I removed {} from {} sign-in methods. The next time {} signs in, Microsoft will ask to set up the Authenticator app on the new phone — have it ready.",
        removed.join(" and "),
        whose(&person),
        if person.is_requester { "you".to_owned() } else { first_name(&person).to_owned() }
    ))
}

/// A Temporary Access Pass: a time-limited code to sign in and register new methods.
pub(super) fn temporary_access_pass(
    cursor: &mut Cursor<'_>,
    input: &ReasonerInput<'_>,
    subject: &Subject,
) -> Flow<()> {
    let Some(person) = find_person(cursor, input, subject)? else {
        return Ok(());
    };
    cursor.plan(
        Vec::new(),
        vec![format!(
            "entra.user.create_tap — a one-time Temporary Access Pass for {}, valid 60 minutes",
            person.name
        )],
    )?;
    let who = you_or_name(&person);
    change(
        cursor,
        "entra.user.create_tap",
        json!({"user": person.upn, "lifetimeMinutes": 60, "usableOnce": true}),
        &format!("create a Temporary Access Pass for {who}"),
        Vec::new(),
        |_| {
            format!(
                "I created a Temporary Access Pass for {who}: it works once, for the next 60 minutes. Use it at the sign-in prompt, then register the Authenticator app or a security key."
            )
        },
    )
}

/// Signs a person out of every session (a lost phone, a shared computer, a suspicion).
pub(super) fn sign_out_everywhere(
    cursor: &mut Cursor<'_>,
    input: &ReasonerInput<'_>,
    subject: &Subject,
) -> Flow<()> {
    let Some(person) = find_person(cursor, input, subject)? else {
        return Ok(());
    };
    cursor.plan(
        Vec::new(),
        vec![format!(
            "entra.user.revoke_sessions — sign {} out of every session and app",
            person.name
        )],
    )?;
    let who = you_or_name(&person);
    change(
        cursor,
        "entra.user.revoke_sessions",
        json!({"user": person.upn}),
        &format!("sign {who} out everywhere"),
        Vec::new(),
        |_| {
            let (subject, owner) = if person.is_requester {
                ("you are", "you")
            } else {
                ("they are", "they")
            };
            format!(
                "Done: {subject} signed out of every session and app. Devices {owner} still have will ask for the password again within a few minutes. If a device was lost or stolen, tell me and I'll lock it."
            )
        },
    )
}

/// A suspected compromise: contain it (sessions, password, forwarding outside, the risk flag),
/// then hand the review to the IT team with everything found.
pub(super) fn compromised(
    cursor: &mut Cursor<'_>,
    input: &ReasonerInput<'_>,
    subject: &Subject,
) -> Flow<()> {
    let Some(person) = find_person(cursor, input, subject)? else {
        return Ok(());
    };
    let upn = person.upn.clone();
    let mut findings = Vec::new();
    let risky = match cursor.investigate(
        "entra.risk.list_users",
        json!({}),
        "see whether Identity Protection flags the account",
    )? {
        Ok(v) => items(v)
            .into_iter()
            .find(|r| field(r, "user").eq_ignore_ascii_case(&upn)),
        Err(_) => None,
    };
    if let Some(r) = &risky {
        findings.push(finding(
            "risk.flagged",
            format!(
                "Identity Protection rates {upn} {} risk ({})",
                field(r, "riskLevel"),
                field(r, "riskState")
            ),
        ));
    }
    let forwarding: Vec<String> = match cursor.investigate(
        "exchange.inbox_rules.list",
        json!({"user": upn}),
        "look for inbox rules forwarding mail outside (a common sign of a takeover)",
    )? {
        Ok(v) => items(v)
            .iter()
            .filter(|r| {
                r.get("forwardsOutside")
                    .and_then(Value::as_array)
                    .is_some_and(|a| !a.is_empty())
            })
            .map(|r| field(r, "displayName"))
            .collect(),
        Err(_) => Vec::new(),
    };
    if !forwarding.is_empty() {
        findings.push(finding(
            "mailbox.external_forwarding",
            format!("inbox rules forwarding outside: {}", forwarding.join(", ")),
        ));
    }
    let mut steps = vec![
        format!(
            "entra.user.revoke_sessions — sign {} out everywhere, so a stolen session stops working",
            person.name
        ),
        format!(
            "entra.user.reset_password — a new temporary password for {}",
            person.name
        ),
    ];
    if !forwarding.is_empty() {
        steps.push("exchange.inbox_rules.remove_external_forwarding — delete the rules sending mail outside".into());
    }
    if risky.is_some() {
        steps.push(
            "entra.risk.confirm_compromised — mark the account compromised in Identity Protection"
                .into(),
        );
    }
    cursor.plan(findings.clone(), steps)?;
    let mut progress = Progress::default();
    let acted = cursor.act(
        "entra.user.revoke_sessions",
        json!({"user": upn}),
        "sign out every session of a possibly compromised account",
    )?;
    progress.note(acted, "signed out every session");
    let acted = cursor.act(
        "entra.user.reset_password",
        json!({"user": upn}),
        "replace a possibly known password",
    )?;
    progress.note(acted, "reset the password");
    if !forwarding.is_empty() {
        let acted = cursor.act(
            "exchange.inbox_rules.remove_external_forwarding",
            json!({"user": upn}),
            "remove forwarding outside the organisation from a possibly compromised mailbox",
        )?;
        progress.note(acted, "removed the forwarding rules");
    }
    if risky.is_some() {
        let acted = cursor.act(
            "entra.risk.confirm_compromised",
            json!({"user": upn}),
            "confirm the compromise in Identity Protection",
        )?;
        progress.note(acted, "confirmed the compromise in Identity Protection");
    }
    let Progress { done, not_done } = progress;
    findings.push(finding(
        "containment.done",
        if done.is_empty() {
            "nothing".into()
        } else {
            done.join("; ")
        },
    ));
    if !not_done.is_empty() {
        findings.push(finding("containment.not_done", not_done.join("; ")));
    }
    let reply = format!(
        "I treated this as a possible account compromise{}. {}{} The IT team has the full details to check what was accessed.",
        if person.is_requester {
            String::new()
        } else {
            format!(" of {}'s account", person.name)
        },
        if done.is_empty() {
            "I couldn't contain it myself. ".to_owned()
        } else {
            format!("I have {}. ", done.join(", "))
        },
        if not_done.is_empty() {
            String::new()
        } else {
            format!("Not done: {}.", not_done.join("; "))
        },
    );
    hand_over(
        cursor,
        format!(
            "suspected compromise of {upn}: contained as far as allowed; needs a security review of what was accessed"
        ),
        findings,
        reply,
    )
}

/// Administrator roles are assigned by people through privileged access processes; Steward never
/// grants them.
pub(super) fn privileged_role(
    cursor: &mut Cursor<'_>,
    input: &ReasonerInput<'_>,
    subject: &Subject,
    role: &str,
) -> Flow<()> {
    let who = match subject {
        Subject::Requester => input.requester.display_name.clone(),
        Subject::Named(n) => n.clone(),
        Subject::Unclear => "someone".into(),
    };
    hand_over(
        cursor,
        format!("{who} asked for an administrator role ({role}); roles are granted by IT through privileged access, never by Steward"),
        vec![finding("role.requested", format!("requested: {role}"))],
        "Administrator roles aren't something I can grant: they go through the IT team's privileged-access approval. I've passed your request on with the details; nothing was changed.".into(),
    )
}
