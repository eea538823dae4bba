//! Several requests in one message ("I'm locked out and also need my out of office on", "Reset
//! Bob's password and add him to Project Phoenix"): split into clauses, each understood on its
//! own, a pronoun in a later clause standing for the person an earlier one named.

use super::{Intent, Subject, understand};

/// Verbs that start a new request after " and ".
const REQUEST_VERBS: &[&str] = &[
    "add", "remove", "reset", "unlock", "turn", "set", "give", "share", "make", "put", "create",
    "assign", "sign", "log", "lock", "wipe", "disable", "enable", "revoke", "issue", "clear",
    "take", "switch", "need", "please",
];

/// Nouns after which "her" is a possessive ("her password"), not an object ("add her").
const OWNED: &[&str] = &[
    "password",
    "account",
    "mfa",
    "phone",
    "laptop",
    "mailbox",
    "calendar",
    "out",
    "auto",
    "automatic",
    "device",
    "licence",
    "license",
    "access",
    "sessions",
    "email",
    "ooo",
];

/// Byte offsets where a new request starts in `lower` (ASCII-lower-cased, so offsets match the
/// original text).
fn boundaries(lower: &str) -> Vec<(usize, usize)> {
    let mut cuts: Vec<(usize, usize)> = Vec::new();
    for separator in [
        ". ",
        "! ",
        "? ",
        "; ",
        "\n",
        " and also ",
        " also ",
        " plus ",
        " and then ",
    ] {
        let mut from = 0;
        while let Some(i) = lower.get(from..).and_then(|rest| rest.find(separator)) {
            let at = from + i;
            cuts.push((at, at + separator.len()));
            from = at + separator.len();
        }
    }
    let mut from = 0;
    while let Some(i) = lower.get(from..).and_then(|rest| rest.find(" and ")) {
        let at = from + i;
        let next = lower
            .get(at + 5..)
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_default();
        if REQUEST_VERBS.contains(&next) {
            cuts.push((at, at + 5));
        }
        from = at + 5;
    }
    cuts.sort_unstable();
    cuts
}

fn clauses(message: &str) -> Vec<String> {
    let lower = message.to_ascii_lowercase();
    let mut out = Vec::new();
    let mut start = 0;
    for (cut, resume) in boundaries(&lower) {
        if cut < start {
            continue;
        }
        if let Some(part) = message.get(start..cut) {
            out.push(part.trim().to_owned());
        }
        start = resume;
    }
    if let Some(rest) = message.get(start..) {
        out.push(rest.trim().to_owned());
    }
    out.retain(|c| c.split_whitespace().count() >= 2);
    out
}

/// The person an intent is about, when it names one.
fn named(intent: &Intent) -> Option<&str> {
    let subject = match intent {
        Intent::SignInTrouble { subject, .. }
        | Intent::AccountDisabled { subject }
        | Intent::MfaReset { subject }
        | Intent::TemporaryAccessPass { subject }
        | Intent::SignOutEverywhere { subject }
        | Intent::Compromised { subject }
        | Intent::AutoReply { subject, .. }
        | Intent::LostDevice { subject, .. }
        | Intent::DeviceCompliance { subject, .. }
        | Intent::Licence { subject, .. } => subject,
        Intent::GroupMembership { person, .. }
        | Intent::DepartmentMove { person, .. }
        | Intent::Offboarding { person } => person,
        _ => return None,
    };
    match subject {
        Subject::Named(name) => Some(name),
        _ => None,
    }
}

/// `clause` with he/him/his/her/they/them/their standing for `name`.
fn resolve_pronouns(clause: &str, name: &str) -> String {
    let words: Vec<&str> = clause.split_whitespace().collect();
    let mut out = Vec::with_capacity(words.len());
    for (i, word) in words.iter().enumerate() {
        let bare = word
            .trim_matches(|c: char| !c.is_alphanumeric())
            .to_lowercase();
        let next = words
            .get(i + 1)
            .map(|w| {
                w.trim_matches(|c: char| !c.is_alphanumeric())
                    .to_lowercase()
            })
            .unwrap_or_default();
        let replaced = match bare.as_str() {
            "him" | "them" | "he" | "she" | "they" => Some(name.to_owned()),
            "his" | "their" => Some(format!("{name}'s")),
            "her" if OWNED.contains(&next.as_str()) => Some(format!("{name}'s")),
            "her" => Some(name.to_owned()),
            _ => None,
        };
        out.push(match replaced {
            Some(r) => word
                .replacen(&bare, &r, 1)
                .replacen(&bare.to_uppercase(), &r, 1),
            None => (*word).to_owned(),
        });
    }
    out.join(" ")
}

/// Every request in `message`, in order: one when the message holds one request (understood
/// whole, as before), several when two or more clauses are requests of different kinds.
pub(crate) fn understand_all(message: &str) -> Vec<Intent> {
    let whole = understand(message);
    let parts = clauses(message);
    if parts.len() < 2 {
        return vec![whole];
    }
    let mut intents: Vec<Intent> = Vec::new();
    let mut last_named: Option<String> = None;
    for part in parts {
        let part = match &last_named {
            Some(name) => resolve_pronouns(&part, name),
            None => part,
        };
        let intent = understand(&part);
        if intent == Intent::Unknown {
            continue;
        }
        if let Some(name) = named(&intent) {
            last_named = Some(name.to_owned());
        }
        if !intents.iter().any(|i| i.name() == intent.name()) {
            intents.push(intent);
        }
    }
    if intents.len() < 2 {
        return vec![whole];
    }
    intents
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_request_stays_whole() {
        assert_eq!(
            understand_all("I can't remember my password. Could you reset it?").len(),
            1
        );
        assert_eq!(
            understand_all("Sam Oduya is moving from Marketing to Sales, starting Monday. New manager will be Victor.").len(),
            1
        );
    }

    #[test]
    fn two_requests_with_a_pronoun() {
        let all = understand_all("Reset Bob's password and add him to Project Phoenix");
        let names: Vec<_> = all.iter().filter_map(Intent::name).collect();
        assert_eq!(names, ["signin.trouble", "group.add_member"]);
        assert_eq!(
            all[1],
            Intent::GroupMembership {
                add: true,
                person: Subject::Named("bob".into()),
                group: "project phoenix".into()
            }
        );
        let all =
            understand_all("I'm locked out and also please turn on my out of office until Monday");
        let names: Vec<_> = all.iter().filter_map(Intent::name).collect();
        assert_eq!(names, ["signin.trouble", "mailbox.auto_reply_on"]);
    }
}
