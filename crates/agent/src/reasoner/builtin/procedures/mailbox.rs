//! Mailbox procedures: automatic replies, calendar sharing, forwarding outside the
//! organisation, shared mailboxes.

use serde_json::{Value, json};

use super::super::cursor::{Cursor, Flow, finding};
use super::super::understand::Subject;
use super::{
    capitalise, change, field, find_person, first_name, hand_over, items, read_or_hand_over, whose,
};
use crate::reasoner::ReasonerInput;

/// The reply colleagues get when the requester gave no text of their own.
fn default_message(name: &str, end: Option<&str>) -> String {
    match end {
        Some(end) => format!(
            "Thank you for your message. I'm out of the office until {end} with limited access to e-mail, and will reply when I'm back. — {name}"
        ),
        None => format!(
            "Thank you for your message. I'm out of the office with limited access to e-mail, and will reply when I'm back. — {name}"
        ),
    }
}

/// Turns automatic replies on (always, or between two dates) or off, after reading how they
/// stand now.
pub(super) fn auto_reply(
    cursor: &mut Cursor<'_>,
    input: &ReasonerInput<'_>,
    subject: &Subject,
    on: bool,
    message: Option<&str>,
    start: Option<&str>,
    end: Option<&str>,
) -> Flow<()> {
    let Some(person) = find_person(cursor, input, subject)? else {
        return Ok(());
    };
    let upn = person.upn.clone();
    let Some(settings) = read_or_hand_over(
        cursor,
        ("exchange.auto_reply.get", json!({"user": upn})),
        "read how the automatic replies stand now",
        &format!("{} automatic replies", whose(&person)),
        "mailbox.unreadable",
    )?
    else {
        return Ok(());
    };
    let now = field(&settings, "status");
    let findings = vec![finding(
        "mailbox.auto_reply",
        format!(
            "{upn}'s automatic replies are {}",
            if now.is_empty() {
                "disabled"
            } else {
                now.as_str()
            }
        ),
    )];
    if !on {
        if now.is_empty() || now == "disabled" {
            cursor.plan(findings, Vec::new())?;
            return cursor.reply(format!(
                "{} automatic replies are already off; nothing to change.",
                capitalise(&whose(&person))
            ));
        }
        cursor.plan(
            findings.clone(),
            vec![format!(
                "exchange.auto_reply.disable — turn off {}'s automatic replies",
                person.name
            )],
        )?;
        let who = capitalise(&whose(&person));
        return change(
            cursor,
            "exchange.auto_reply.disable",
            json!({"user": upn}),
            &format!("turn off {} automatic replies", whose(&person)),
            findings,
            |verified| {
                format!(
                    "{who} automatic replies are off{}.",
                    if verified { " (checked)" } else { "" }
                )
            },
        );
    }
    let text = message
        .map(str::to_owned)
        .unwrap_or_else(|| default_message(&person.name, end));
    let mut params = json!({"user": upn, "message": text});
    if let (Some(start), Some(end)) = (start, end) {
        params["start"] = Value::String(start.to_owned());
        params["end"] = Value::String(end.to_owned());
    }
    let period = match (start, end) {
        (Some(start), Some(end)) => format!("from {start} until {end} (UTC)"),
        _ => "until you turn them off".to_owned(),
    };
    cursor.plan(
        findings.clone(),
        vec![format!(
            "exchange.auto_reply.set — automatic replies for {} {period}",
            person.name
        )],
    )?;
    let who = capitalise(&whose(&person));
    let off_hint = if start.is_none() {
        " Tell me when you're back and I'll turn them off."
    } else {
        ""
    };
    change(
        cursor,
        "exchange.auto_reply.set",
        params,
        &format!("turn on {} automatic replies", whose(&person)),
        findings,
        |verified| {
            format!(
                "{who} automatic replies are on {period}{}. People writing in will get: \"{text}\".{off_hint}",
                if verified { " (checked)" } else { "" }
            )
        },
    )
}

/// Shares the owner's calendar with someone, unless they already have that access.
pub(super) fn calendar_share(
    cursor: &mut Cursor<'_>,
    input: &ReasonerInput<'_>,
    owner: &Subject,
    with: &Subject,
    role: &str,
) -> Flow<()> {
    let Some(owner) = find_person(cursor, input, owner)? else {
        return Ok(());
    };
    let Some(sharee) = find_person(cursor, input, with)? else {
        return Ok(());
    };
    let current = cursor.investigate(
        "exchange.calendar.list_permissions",
        json!({"user": owner.upn}),
        "see who already has access to the calendar",
    )?;
    let existing = current.as_ref().ok().map(|v| items(v)).unwrap_or_default();
    let held = existing.iter().find(|p| {
        p.pointer("/emailAddress/address")
            .and_then(Value::as_str)
            .is_some_and(|a| a.eq_ignore_ascii_case(&sharee.upn))
    });
    let findings = vec![finding(
        "calendar.permissions",
        format!(
            "{}'s calendar is shared with {} people or groups",
            owner.upn,
            existing.len()
        ),
    )];
    if let Some(held) = held
        && field(held, "role") == role
    {
        cursor.plan(findings, Vec::new())?;
        return cursor.reply(format!(
            "{} already has that access to {} calendar; nothing to change.",
            sharee.name,
            whose(&owner)
        ));
    }
    let plain = match role {
        "write" => "can view and edit",
        "delegateWithoutPrivateEventAccess" | "delegateWithPrivateEventAccess" => {
            "is a delegate on"
        }
        "freeBusyRead" => "can see the free/busy times of",
        _ => "can view",
    };
    cursor.plan(
        findings.clone(),
        vec![format!(
            "exchange.calendar.share — {} {plain} {}'s calendar ({role})",
            sharee.name, owner.name
        )],
    )?;
    let (sharee_name, owner_whose) = (sharee.name.clone(), whose(&owner));
    change(
        cursor,
        "exchange.calendar.share",
        json!({"user": owner.upn, "with": sharee.upn, "role": role}),
        &format!("share {} calendar with {}", whose(&owner), sharee.name),
        findings,
        |verified| {
            format!(
                "Done: {sharee_name} {plain} {owner_whose} calendar now{}. It shows up in their Outlook under shared calendars.",
                if verified { " (checked)" } else { "" }
            )
        },
    )
}

/// Finds inbox rules that forward mail outside the organisation and removes them.
pub(super) fn forwarding(
    cursor: &mut Cursor<'_>,
    input: &ReasonerInput<'_>,
    subject: &Subject,
) -> Flow<()> {
    let Some(person) = find_person(cursor, input, subject)? else {
        return Ok(());
    };
    let upn = person.upn.clone();
    let Some(rules) = read_or_hand_over(
        cursor,
        ("exchange.inbox_rules.list", json!({"user": upn})),
        "find inbox rules that forward mail",
        &format!("{} inbox rules", whose(&person)),
        "mailbox.unreadable",
    )?
    else {
        return Ok(());
    };
    let rules = items(&rules);
    let outside: Vec<String> = rules
        .iter()
        .filter(|r| {
            r.get("forwardsOutside")
                .and_then(Value::as_array)
                .is_some_and(|a| !a.is_empty())
        })
        .map(|r| {
            let to: Vec<&str> = r["forwardsOutside"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            format!("\"{}\" → {}", field(r, "displayName"), to.join(", "))
        })
        .collect();
    if outside.is_empty() {
        let findings = vec![finding(
            "mailbox.no_external_forwarding",
            format!(
                "{upn} has {} inbox rule(s); none forwards outside the organisation",
                rules.len()
            ),
        )];
        cursor.plan(findings, Vec::new())?;
        return cursor.reply(format!(
            "I checked {} inbox rules: none of them forwards mail outside the organisation, so there's nothing to remove. If mail still goes somewhere it shouldn't, reply with an example and I'll pass it on.",
            whose(&person)
        ));
    }
    let findings = vec![finding(
        "mailbox.external_forwarding",
        format!(
            "{upn} forwards outside the organisation: {}",
            outside.join("; ")
        ),
    )];
    cursor.plan(findings.clone(), vec![format!("exchange.inbox_rules.remove_external_forwarding — delete {} rule(s) forwarding {}'s mail outside", outside.len(), first_name(&person))])?;
    let list = outside.join("; ");
    change(
        cursor,
        "exchange.inbox_rules.remove_external_forwarding",
        json!({"user": upn}),
        &format!(
            "remove the rules forwarding {} mail outside the organisation",
            whose(&person)
        ),
        findings,
        |verified| {
            format!(
                "Removed the inbox rule(s) forwarding mail outside the organisation: {list}{}. Other rules were left alone.",
                if verified { " (checked)" } else { "" }
            )
        },
    )
}

/// Shared mailbox access is an Exchange mailbox permission, which Graph does not expose: hand
/// over with what was asked.
pub(super) fn shared_mailbox(cursor: &mut Cursor<'_>, mailbox: &str) -> Flow<()> {
    let which = if mailbox.is_empty() {
        "the shared mailbox".to_owned()
    } else {
        mailbox.to_owned()
    };
    hand_over(
        cursor,
        format!(
            "access to {which} is an Exchange mailbox permission (Full Access / Send As), which Steward cannot grant through Microsoft Graph"
        ),
        vec![finding(
            "system.not_connected",
            format!(
                "shared mailbox permissions for {which} are managed in Exchange Online, not through Graph"
            ),
        )],
        format!(
            "Access to {which} is set in Exchange Online, which I can't change myself. I've passed your request to the IT team with the details; nothing was changed."
        ),
    )
}
