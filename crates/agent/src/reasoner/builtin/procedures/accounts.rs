//! Account procedures: licences, department moves, new starters and leavers.

use serde_json::{Value, json};

use super::super::cursor::{Acted, Cursor, Flow, finding};
use super::super::resolve;
use super::super::understand::{NewStarter, PRODUCTS, Subject};
use super::{
    Progress, change, field, find_person, hand_over, items, read_or_hand_over, unresolved, whose,
};
use crate::reasoner::ReasonerInput;

/// The tenant's subscription that carries `product` (by the product's part numbers, or the
/// part number itself when the requester named one).
fn subscription<'a>(skus: &'a [Value], product: &str) -> Option<&'a Value> {
    let parts: Vec<&str> = PRODUCTS
        .iter()
        .find(|(name, _, _)| name.eq_ignore_ascii_case(product))
        .map(|(_, parts, _)| parts.to_vec())
        .unwrap_or_else(|| vec![product]);
    parts.iter().find_map(|part| {
        skus.iter()
            .find(|s| field(s, "skuPartNumber").eq_ignore_ascii_case(part))
    })
}

/// A licence asked for: the tenant must have the subscription and a free seat; then it is
/// assigned (usually after an approval, since licences cost money).
pub(super) fn licence(
    cursor: &mut Cursor<'_>,
    input: &ReasonerInput<'_>,
    subject: &Subject,
    product: Option<&str>,
) -> Flow<()> {
    let Some(person) = find_person(cursor, input, subject)? else {
        return Ok(());
    };
    let Some(skus) = read_or_hand_over(
        cursor,
        ("entra.license.list_skus", json!({})),
        "see which licences the organisation has and how many are free",
        "the organisation's licences",
        "licences.unreadable",
    )?
    else {
        return Ok(());
    };
    let skus = items(&skus);
    let owned: Vec<String> = skus
        .iter()
        .map(|s| format!("{} ({} free)", field(s, "skuPartNumber"), s["free"]))
        .collect();
    let mut findings = vec![finding("licences.owned", owned.join(", "))];
    let product = match product {
        Some(p) => p.to_owned(),
        None => cursor.ask(
            "Which licence do you need (for example Visio, Project, Power BI or Microsoft 365 E5)?"
                .into(),
            skus.iter().map(|s| field(s, "skuPartNumber")).collect(),
        )?,
    };
    let product = PRODUCTS
        .iter()
        .find(|(name, _, words)| {
            let p = product.to_lowercase();
            name.eq_ignore_ascii_case(&p) || words.iter().any(|w| p.contains(w))
        })
        .map_or(product.trim().to_owned(), |(name, _, _)| (*name).to_owned());
    let Some(sku) = subscription(&skus, &product) else {
        findings.push(finding(
            "licence.not_owned",
            format!("the organisation has no {product} subscription"),
        ));
        return hand_over(
            cursor,
            format!(
                "{} asked for {product}, which the organisation has no subscription for; buying one is IT's decision",
                person.upn
            ),
            findings,
            format!(
                "The organisation doesn't have {product} licences at the moment, so I can't assign one. Buying licences is the IT team's decision; I've passed your request on. Nothing was changed."
            ),
        );
    };
    let part = field(sku, "skuPartNumber");
    if sku["free"].as_i64().unwrap_or(0) <= 0 {
        findings.push(finding(
            "licence.no_seats",
            format!("all {} {part} licences are in use", sku["total"]),
        ));
        return hand_over(
            cursor,
            format!(
                "no free {part} seat for {}: more licences must be bought or one freed",
                person.upn
            ),
            findings,
            format!(
                "Every {product} licence ({part}) is in use right now, so I can't assign one. I've passed this to the IT team, who can free one up or buy more. Nothing was changed."
            ),
        );
    }
    cursor.plan(
        findings.clone(),
        vec![format!(
            "entra.user.assign_license — {part} for {}",
            person.name
        )],
    )?;
    let who = whose(&person);
    change(
        cursor,
        "entra.user.assign_license",
        json!({"user": person.upn, "sku": field(sku, "skuId")}),
        &format!("assign {product} to {}", person.name),
        findings,
        |verified| {
            format!(
                "Done: {who} {product} licence ({part}) is assigned{}. The apps can take up to an hour to show it; sign out and back in if they don't.",
                if verified { " (checked)" } else { "" }
            )
        },
    )
}

/// A department move: the department, the manager when named, and the department groups
/// swapped (each change decided and audited on its own).
pub(super) fn department_move(
    cursor: &mut Cursor<'_>,
    input: &ReasonerInput<'_>,
    subject: &Subject,
    department: &str,
    manager: Option<&Subject>,
) -> Flow<()> {
    let Some(person) = find_person(cursor, input, subject)? else {
        return Ok(());
    };
    let current = match cursor.investigate(
        "entra.user.get",
        json!({"user": person.upn}),
        "read the current department",
    )? {
        Ok(v) => field(v, "department"),
        Err(_) => String::new(),
    };
    let new_group = match resolve::group(cursor, department)? {
        Ok(g) => g,
        Err(message) => return unresolved(cursor, "department.unresolved", message),
    };
    let department = new_group.name.clone();
    if current.eq_ignore_ascii_case(&department) {
        cursor.plan(
            vec![finding(
                "department.same",
                format!("{} is already in {department}", person.upn),
            )],
            Vec::new(),
        )?;
        return cursor.reply(format!(
            "{} is already in {department}; nothing to change.",
            person.name
        ));
    }
    let old_group = if current.is_empty() {
        None
    } else {
        resolve::group(cursor, &current)?.ok()
    };
    let new_manager = match manager {
        Some(m) => match find_person(cursor, input, m)? {
            Some(p) => Some(p),
            None => return Ok(()),
        },
        None => None,
    };
    let findings = vec![finding(
        "department.current",
        format!(
            "{} is in {}",
            person.upn,
            if current.is_empty() {
                "no department"
            } else {
                current.as_str()
            }
        ),
    )];
    let mut steps = vec![format!(
        "entra.user.update_profile — department {current} → {department}"
    )];
    if let Some(m) = &new_manager {
        steps.push(format!(
            "entra.user.set_manager — {} reports to {}",
            person.name, m.name
        ));
    }
    if let Some(g) = &old_group {
        steps.push(format!("entra.group.remove_member — leave {}", g.name));
    }
    steps.push(format!("entra.group.add_member — join {}", new_group.name));
    cursor.plan(findings.clone(), steps)?;
    let mut progress = Progress::default();
    let acted = cursor.act(
        "entra.user.update_profile",
        json!({"user": person.upn, "department": department}),
        &format!("move {} to {department}", person.name),
    )?;
    progress.note(acted, format!("department set to {department}"));
    if let Some(m) = &new_manager {
        let acted = cursor.act(
            "entra.user.set_manager",
            json!({"user": person.upn, "manager": m.upn}),
            &format!("{} now reports to {}", person.name, m.name),
        )?;
        progress.note(acted, format!("manager set to {}", m.name));
    }
    if let Some(g) = &old_group {
        let acted = cursor.act(
            "entra.group.remove_member",
            json!({"group": g.id, "user": person.upn}),
            &format!("take {} out of {}", person.name, g.name),
        )?;
        progress.note(acted, format!("removed from {}", g.name));
    }
    let acted = cursor.act(
        "entra.group.add_member",
        json!({"group": new_group.id, "user": person.upn}),
        &format!("add {} to {}", person.name, new_group.name),
    )?;
    progress.note(acted, format!("added to {}", new_group.name));
    let waiting = progress.only_waiting();
    let Progress { done, not_done } = progress;
    if not_done.is_empty() {
        return cursor.reply(format!(
            "Done: {} has moved to {department} — {}.",
            person.name,
            done.join(", ")
        ));
    }
    if waiting {
        return cursor.reply(format!(
            "{} is moving to {department}. {}Still to come: {} — I'll finish once approved.",
            person.name,
            if done.is_empty() {
                String::new()
            } else {
                format!("Done so far: {}. ", done.join(", "))
            },
            not_done.join("; ")
        ));
    }
    hand_over(
        cursor,
        format!("moving {} to {department} was only partly done", person.upn),
        findings,
        format!(
            "I moved {} only partly: {}. Not done: {}. I've passed the rest to the IT team.",
            person.name,
            if done.is_empty() {
                "nothing".to_owned()
            } else {
                done.join(", ")
            },
            not_done.join("; ")
        ),
    )
}

/// "priyanka shah" → "Priyanka Shah".
fn shown_name(name: &str) -> String {
    name.split_whitespace()
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A new starter's sign-in name: first.last at the tenant's domain, letters only.
fn sign_in_name(name: &str, domain: &str) -> String {
    let parts: Vec<String> = name
        .split_whitespace()
        .map(|w| {
            w.chars()
                .filter(char::is_ascii_alphanumeric)
                .collect::<String>()
        })
        .filter(|w| !w.is_empty())
        .collect();
    let local = match parts.as_slice() {
        [] => "new.starter".to_owned(),
        [one] => one.clone(),
        [first, .., last] => format!("{first}.{last}"),
    };
    format!("{local}@{domain}")
}

/// A new starter, asked for by an IT admin: their account (with department, title and manager)
/// and their department's group. What the request leaves out is asked; a name already in the
/// directory is handed over rather than guessed at.
pub(super) fn onboarding(
    cursor: &mut Cursor<'_>,
    input: &ReasonerInput<'_>,
    starter: &NewStarter,
) -> Flow<()> {
    if !input.requester.it_admin {
        return hand_over(
            cursor,
            "a new starter: accounts are created by the IT team".into(),
            vec![finding("playbook.onboard", "the request names a new starter; only IT admins create accounts")],
            "Thanks! New starters' accounts are set up by the IT team, so I've passed your request to them with the details; nothing was changed yet.".into(),
        );
    }
    let name = match &starter.name {
        Some(n) => n.clone(),
        None => cursor.ask("What is the new starter's full name?".into(), Vec::new())?,
    };
    let name = shown_name(name.trim().trim_end_matches('.'));
    if name.split_whitespace().count() < 2 {
        return hand_over(
            cursor,
            format!("a new starter without a full name (\"{name}\")"),
            vec![finding("playbook.onboard", "no full name for the new starter")],
            "I need the new starter's first and last name to make their account; I've passed this to the IT team. Nothing was changed.".into(),
        );
    }
    let upn = sign_in_name(&name.to_lowercase(), input.domain);
    let existing = match cursor.investigate(
        "entra.user.search",
        json!({"query": name, "top": 10}),
        "check the new starter has no account yet",
    )? {
        Ok(v) => items(v),
        Err(_) => Vec::new(),
    };
    let taken = existing.iter().any(|u| {
        field(u, "displayName").eq_ignore_ascii_case(&name)
            || field(u, "userPrincipalName").eq_ignore_ascii_case(&upn)
    });
    if taken {
        return hand_over(
            cursor,
            format!("{name} already has an account (or {upn} is taken)"),
            vec![finding(
                "onboard.exists",
                format!("{name} or {upn} is already in the directory"),
            )],
            format!(
                "There is already an account for {name} (or the sign-in name {upn} is taken), so I haven't made another. I've passed this to the IT team to check."
            ),
        );
    }
    let mut group = None;
    for candidate in &starter.department {
        if let Ok(g) = resolve::group(cursor, candidate)? {
            group = Some(g);
            break;
        }
    }
    let manager = match &starter.manager {
        Some(m) => match find_person(cursor, input, m)? {
            Some(p) => Some(p),
            None => return Ok(()),
        },
        None => None,
    };
    let mut params = json!({"displayName": name, "userPrincipalName": upn});
    if let Some(g) = &group {
        params["department"] = Value::String(g.name.clone());
    }
    if let Some(t) = &starter.title {
        params["jobTitle"] = Value::String(shown_name(t));
    }
    if let Some(m) = &manager {
        params["manager"] = Value::String(m.upn.clone());
    }
    let mut steps = vec![format!(
        "entra.user.create — {name} <{upn}>{}{}{}",
        group
            .as_ref()
            .map(|g| format!(", {}", g.name))
            .unwrap_or_default(),
        starter
            .title
            .as_ref()
            .map(|t| format!(", {}", shown_name(t)))
            .unwrap_or_default(),
        manager
            .as_ref()
            .map(|m| format!(", reporting to {}", m.name))
            .unwrap_or_default(),
    )];
    if let Some(g) = &group {
        steps.push(format!("entra.group.add_member — join {}", g.name));
    }
    let findings = vec![finding(
        "onboard.new",
        format!("no account yet for {name}; sign-in name {upn} is free"),
    )];
    cursor.plan(findings.clone(), steps)?;
    match cursor.act(
        "entra.user.create",
        params,
        &format!("create an account for the new starter {name}"),
    )? {
        Acted::Done { .. } => {}
        Acted::Pending(id) => {
            return cursor.reply(format!("Creating {name}'s account needs an approval first; I've asked for it (approval {id})."));
        }
        Acted::Denied(reason) | Acted::Failed(reason) => {
            let mut findings = findings;
            findings.push(finding("onboard.not_created", reason.clone()));
            return hand_over(
                cursor,
                format!("creating {upn} did not happen: {reason}"),
                findings,
                format!(
                    "I couldn't create {name}'s account ({reason}); I've passed this to the IT team."
                ),
            );
        }
    }
    let joined = match &group {
        Some(g) => match cursor.act(
            "entra.group.add_member",
            json!({"group": g.id, "user": upn}),
            &format!("add {name} to {}", g.name),
        )? {
            Acted::Done { .. } => format!(" and added to {}", g.name),
            Acted::Pending(id) => format!("; adding them to {} waits for approval {id}", g.name),
            Acted::Denied(r) | Acted::Failed(r) => {
                format!("; adding them to {} did not happen ({r})", g.name)
            }
        },
        None => String::new(),
    };
    cursor.reply(format!(
        "Done: {name}'s account {upn} is created{joined}. Give them the temporary password below on their first day; they'll choose their own at first sign-in. Licences and devices follow the onboarding checklist."
    ))
}

/// Whether an answer confirms ("yes", "yep, go ahead", "confirmed").
fn is_yes(answer: &str) -> bool {
    let a = answer.trim().to_lowercase();
    let first = a
        .split(|c: char| !c.is_alphanumeric())
        .find(|w| !w.is_empty())
        .unwrap_or_default();
    [
        "yes",
        "y",
        "yep",
        "yeah",
        "ok",
        "okay",
        "confirm",
        "confirmed",
        "correct",
        "sure",
        "go",
        "proceed",
        "ja",
    ]
    .contains(&first)
}

/// A leaver, asked for by someone allowed to (policy decides each step): the account disabled
/// and signed out first, their mailbox answering that they have left, their OneDrive handed to
/// their manager, and their group memberships removed. Every step runs even when an earlier one
/// waits or fails, since each closes a door of its own; the reply lists what was done and what
/// was not. Licences and sign-in methods are left to the offboarding playbook.
pub(super) fn offboarding(
    cursor: &mut Cursor<'_>,
    input: &ReasonerInput<'_>,
    subject: &Subject,
) -> Flow<()> {
    let Some(person) = find_person(cursor, input, subject)? else {
        return Ok(());
    };
    if person.is_requester {
        return hand_over(
            cursor,
            format!("{} asked to be offboarded themselves", person.upn),
            vec![finding("offboard.self", "a leaver's own request: HR and IT confirm a departure")],
            "Leaving is confirmed by HR and your manager, and the IT team then closes your account. I've let them know; nothing was changed.".into(),
        );
    }
    let upn = person.upn.clone();
    // Only IT admins offboard: anyone else's request goes to the IT team without a question
    // (self-service never touches another person's account).
    if !input.requester.it_admin {
        return hand_over(
            cursor,
            format!(
                "{} asked to offboard {upn}; offboarding is done by the IT team",
                input.requester.upn
            ),
            vec![finding(
                "offboard.requested",
                format!("leaver named: {upn}"),
            )],
            format!(
                "Thanks for letting us know. Offboarding {} is done by the IT team, so I've passed it to them with the details; nothing was changed.",
                person.name
            ),
        );
    }
    // Disabling an account is destructive: the requester confirms whom, in plain words, first.
    let answer = cursor.ask(
        format!(
            "Before I start: offboard {} ({upn})? This disables the account, signs them out everywhere, sets an automatic reply, hands their OneDrive to their manager and removes their group memberships. Reply yes to go ahead.",
            person.name
        ),
        vec!["yes".into(), "no".into()],
    )?;
    if !is_yes(&answer) {
        cursor.plan(
            vec![finding(
                "offboard.not_confirmed",
                format!("the requester answered \"{answer}\""),
            )],
            Vec::new(),
        )?;
        return cursor.reply(format!(
            "All right, I haven't changed anything for {}.",
            person.name
        ));
    }
    let groups: Vec<(String, String)> = match cursor.investigate(
        "entra.user.list_groups",
        json!({"user": upn}),
        "list the leaver's group memberships",
    )? {
        Ok(v) => items(v)
            .iter()
            .filter(|m| field(m, "@odata.type") == "#microsoft.graph.group")
            .map(|m| (field(m, "id"), field(m, "displayName")))
            .filter(|(id, _)| !id.is_empty())
            .collect(),
        Err(_) => Vec::new(),
    };
    let findings = vec![finding(
        "offboard.groups",
        format!(
            "{upn} is in {} group(s): {}",
            groups.len(),
            groups
                .iter()
                .map(|(_, n)| n.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    )];
    let mut steps = vec![
        format!("entra.user.disable — block {}'s sign-in", person.name),
        format!(
            "entra.user.revoke_sessions — end every session of {}",
            person.name
        ),
        format!(
            "exchange.auto_reply.set — {}'s mailbox answers that they have left",
            person.name
        ),
        format!(
            "onedrive.drive.handover_to_manager — {}'s manager gets their OneDrive",
            person.name
        ),
    ];
    steps.extend(
        groups
            .iter()
            .map(|(_, n)| format!("entra.group.remove_member — leave {n}")),
    );
    cursor.plan(findings.clone(), steps)?;
    let mut progress = Progress::default();
    let who = json!({"user": upn});
    let acted = cursor.act(
        "entra.user.disable",
        who.clone(),
        &format!("disable the leaver {}", person.name),
    )?;
    progress.note(acted, "account disabled");
    let acted = cursor.act(
        "entra.user.revoke_sessions",
        who.clone(),
        "end every session of a leaver",
    )?;
    progress.note(acted, "signed out everywhere");
    let message = format!(
        "{} no longer works here. For anything that was theirs, please contact their manager or the team.",
        person.name
    );
    let acted = cursor.act(
        "exchange.auto_reply.set",
        json!({"user": upn, "message": message}),
        "tell people writing to a leaver that they have left",
    )?;
    progress.note(acted, "automatic reply set");
    let acted = cursor.act(
        "onedrive.drive.handover_to_manager",
        who.clone(),
        "give the leaver's manager their OneDrive",
    )?;
    progress.note(acted, "OneDrive handed to the manager");
    for (id, name) in &groups {
        let acted = cursor.act(
            "entra.group.remove_member",
            json!({"group": id, "user": upn}),
            &format!("remove the leaver from {name}"),
        )?;
        progress.note(acted, format!("removed from {name}"));
    }
    let waiting = progress.only_waiting();
    let Progress { done, not_done } = progress;
    let text = format!(
        "Offboarding {}: {}.{}",
        person.name,
        if done.is_empty() {
            "nothing done yet".to_owned()
        } else {
            done.join(", ")
        },
        if not_done.is_empty() {
            " Licences and sign-in methods go with the full offboarding checklist.".to_owned()
        } else {
            format!(" Not done yet: {}.", not_done.join("; "))
        }
    );
    if waiting {
        return cursor.reply(text);
    }
    hand_over(
        cursor,
        format!("offboarding {upn} was only partly done"),
        findings,
        format!("{text} I've passed what's left to the IT team."),
    )
}
