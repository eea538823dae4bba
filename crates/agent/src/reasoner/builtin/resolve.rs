//! Turning the names people use into directory objects, asking when more than one fits.

use serde_json::{Value, json};

use super::cursor::{Cursor, Flow};
use super::understand::{Subject, normalize};
use crate::reasoner::ReasonerInput;

/// A person found in the directory.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Person {
    pub upn: String,
    pub name: String,
    pub is_requester: bool,
}

/// A group found in the directory.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct GroupRef {
    pub id: String,
    pub name: String,
}

fn text(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn describe(v: &Value) -> String {
    let dept = text(v, "department");
    let title = text(v, "jobTitle");
    let mut what: Vec<String> = Vec::new();
    if !dept.is_empty() {
        what.push(dept);
    }
    // Job titles are free text from the directory: shown to people, never interpreted.
    if !title.is_empty() && title.len() <= 60 {
        what.push(title);
    }
    format!(
        "{} — {} ({})",
        text(v, "displayName"),
        what.join(", "),
        text(v, "userPrincipalName")
    )
}

const ORDINALS: &[&[&str]] = &[
    &["1", "first", "1st"],
    &["2", "second", "2nd"],
    &["3", "third", "3rd"],
    &["4", "fourth", "4th"],
];

/// Picks the candidate an answer points at: by sign-in name, full name, surname, department or
/// position in the list; `None` when the answer fits none or several equally.
pub(crate) fn pick(answer: &str, candidates: &[Value]) -> Option<usize> {
    let answer = normalize(answer);
    let words: Vec<&str> = answer
        .split(|c: char| !c.is_alphanumeric() && c != '@' && c != '.')
        .filter(|w| !w.is_empty())
        .collect();
    for (i, ordinal) in ORDINALS.iter().enumerate() {
        if i < candidates.len() && words.iter().any(|w| ordinal.contains(w)) && words.len() <= 4 {
            return Some(i);
        }
    }
    let scores: Vec<u32> = candidates
        .iter()
        .map(|c| {
            let upn = text(c, "userPrincipalName").to_lowercase();
            let name = text(c, "displayName").to_lowercase();
            let surname = name
                .split_whitespace()
                .last()
                .unwrap_or_default()
                .to_owned();
            let dept = text(c, "department").to_lowercase();
            let mut score = 0;
            if !upn.is_empty() && answer.contains(&upn) {
                score += 4;
            }
            if !name.is_empty() && answer.contains(&name) {
                score += 3;
            }
            if !surname.is_empty() && words.contains(&surname.as_str()) {
                score += 2;
            }
            if !dept.is_empty() && words.iter().any(|w| *w == dept) {
                score += 1;
            }
            score
        })
        .collect();
    let best = scores.iter().copied().max().unwrap_or(0);
    if best == 0 || scores.iter().filter(|s| **s == best).count() != 1 {
        return None;
    }
    scores.iter().position(|s| *s == best)
}

/// How many other names a first name is tried as before giving up on finding someone.
const NICKNAMES_TRIED: usize = 3;

/// Resolves who a request is about. `Ok(Err(message))` when nobody (or nobody clearly) fits.
pub(crate) fn person(
    cursor: &mut Cursor<'_>,
    input: &ReasonerInput<'_>,
    subject: &Subject,
) -> Flow<Result<Person, String>> {
    let name = match subject {
        Subject::Requester => {
            return Ok(Ok(Person {
                upn: input.requester.upn.clone(),
                name: input.requester.display_name.clone(),
                is_requester: true,
            }));
        }
        Subject::Named(name) => name.trim().to_owned(),
        Subject::Unclear => {
            let answer = cursor.ask(
                "Who is this for? Tell me their name or e-mail address.".into(),
                Vec::new(),
            )?;
            let answer = normalize(&answer);
            let answer = answer.trim().trim_end_matches(['.', '!', '?']).trim();
            if ["me", "myself", "i", "it's me", "for me", "mine"].contains(&answer) {
                return Ok(Ok(Person {
                    upn: input.requester.upn.clone(),
                    name: input.requester.display_name.clone(),
                    is_requester: true,
                }));
            }
            // "it's for Maria Lopez" -> "maria lopez"
            let answer = ["it's for ", "it is for ", "for ", "it's ", "its "]
                .iter()
                .fold(answer.to_owned(), |a, p| {
                    a.strip_prefix(p).map_or(a.clone(), str::to_owned)
                });
            if answer.is_empty() {
                return Ok(Err("I couldn't tell who this is for".into()));
            }
            answer
        }
    };
    // Requests are matched lower-cased; people read names capitalised.
    let shown = title_case(&name);
    let me = |v: &Value| text(v, "userPrincipalName").eq_ignore_ascii_case(&input.requester.upn);
    if name.contains('@') {
        return Ok(
            match cursor.investigate(
                "entra.user.get",
                json!({"user": name}),
                &format!("look up {name}"),
            )? {
                Ok(user) => Ok(Person {
                    upn: text(user, "userPrincipalName"),
                    name: text(user, "displayName"),
                    is_requester: me(user),
                }),
                Err(reason) => Err(format!(
                    "I couldn't find {shown} in the directory ({reason})"
                )),
            },
        );
    }
    let mut found = match cursor.investigate(
        "entra.user.search",
        json!({"query": name, "top": 10}),
        &format!("find who \"{shown}\" is"),
    )? {
        Ok(found) => found.as_array().cloned().unwrap_or_default(),
        Err(reason) => {
            return Ok(Err(format!(
                "I couldn't search the directory for {shown}: {reason}"
            )));
        }
    };
    // Nobody by that name: the other names their first name goes by ("Bob" for Robert).
    let mut name = name;
    if found.is_empty() {
        for other in super::nicknames::alternatives(&name, NICKNAMES_TRIED) {
            if let Ok(more) = cursor.investigate(
                "entra.user.search",
                json!({"query": other, "top": 10}),
                &format!("find who \"{shown}\" is, as \"{}\"", title_case(&other)),
            )? && let Some(more) = more.as_array().filter(|m| !m.is_empty())
            {
                found = more.clone();
                name = other;
                break;
            }
        }
    }
    // A full name narrows to exact matches when there are any.
    let exact: Vec<Value> = found
        .iter()
        .filter(|u| text(u, "displayName").eq_ignore_ascii_case(&name))
        .cloned()
        .collect();
    let candidates = if exact.is_empty() { found } else { exact };
    let chosen = match candidates.len() {
        0 => {
            return Ok(Err(format!(
                "I couldn't find anyone called \"{shown}\" in the directory"
            )));
        }
        1 => candidates[0].clone(),
        n => {
            let options: Vec<String> = candidates.iter().map(describe).collect();
            let answer = cursor.ask(
                format!("I found {n} people matching \"{shown}\". Which one do you mean?"),
                options,
            )?;
            match pick(&answer, &candidates) {
                Some(i) => candidates[i].clone(),
                None => {
                    return Ok(Err(format!(
                        "I couldn't tell which \"{shown}\" you meant from \"{answer}\""
                    )));
                }
            }
        }
    };
    Ok(Ok(Person {
        upn: text(&chosen, "userPrincipalName"),
        name: text(&chosen, "displayName"),
        is_requester: me(&chosen),
    }))
}

fn title_case(name: &str) -> String {
    if name.contains('@') {
        return name.to_owned();
    }
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

/// Resolves a group by name. `Ok(Err(message))` when none (or none clearly) fits.
pub(crate) fn group(cursor: &mut Cursor<'_>, name: &str) -> Flow<Result<GroupRef, String>> {
    let shown = title_case(name);
    let found = match cursor.investigate(
        "entra.group.search",
        json!({"query": name, "top": 10}),
        &format!("find the group \"{shown}\""),
    )? {
        Ok(found) => found.as_array().cloned().unwrap_or_default(),
        Err(reason) => {
            return Ok(Err(format!(
                "I couldn't search for the group {shown}: {reason}"
            )));
        }
    };
    let exact: Vec<Value> = found
        .iter()
        .filter(|g| text(g, "displayName").eq_ignore_ascii_case(name))
        .cloned()
        .collect();
    let candidates = if exact.is_empty() { found } else { exact };
    let chosen = match candidates.len() {
        0 => return Ok(Err(format!("there is no group called \"{shown}\""))),
        1 => candidates[0].clone(),
        n => {
            let options: Vec<String> = candidates
                .iter()
                .map(|g| format!("{} ({})", text(g, "displayName"), text(g, "mail")))
                .collect();
            let answer =
                cursor.ask(format!("{n} groups match \"{shown}\". Which one?"), options)?;
            let answer_n = normalize(&answer);
            match candidates
                .iter()
                .position(|g| answer_n.contains(&text(g, "displayName").to_lowercase()))
            {
                Some(i) => candidates[i].clone(),
                None => {
                    return Ok(Err(format!(
                        "I couldn't tell which group you meant from \"{answer}\""
                    )));
                }
            }
        }
    };
    Ok(Ok(GroupRef {
        id: text(&chosen, "id"),
        name: text(&chosen, "displayName"),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_pick_the_right_candidate() {
        let c = vec![
            json!({"displayName": "Maria Lopez", "userPrincipalName": "maria.lopez@x.example", "department": "Sales"}),
            json!({"displayName": "Maria Chen", "userPrincipalName": "maria.chen@x.example", "department": "Engineering"}),
        ];
        assert_eq!(pick("Maria Chen", &c), Some(1));
        assert_eq!(pick("the one in sales", &c), Some(0));
        assert_eq!(pick("maria.chen@x.example please", &c), Some(1));
        assert_eq!(pick("the second one", &c), Some(1));
        assert_eq!(pick("Lopez", &c), Some(0));
        assert_eq!(pick("Maria", &c), None);
        assert_eq!(pick("no idea", &c), None);
    }
}
