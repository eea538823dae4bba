//! Account lifecycle requests: licences, department moves, new starters and leavers.

use std::sync::LazyLock;

use regex::Regex;

use super::{EMAIL, Intent, Subject, captures, is_match, re, subject_from};

/// Products people ask for: the name shown, the licence part numbers that carry it, and the
/// words people use for it (matched as whole words).
pub(crate) const PRODUCTS: &[(&str, &[&str], &[&str])] = &[
    (
        "Visio",
        &["VISIOCLIENT", "VISIO_PLAN2", "VISIO_PLAN1"],
        &["visio"],
    ),
    (
        "Project",
        &["PROJECTPROFESSIONAL", "PROJECT_P3", "PROJECTPREMIUM"],
        &[
            "project plan",
            "ms project",
            "microsoft project",
            "project professional",
            "project license",
            "project licence",
        ],
    ),
    (
        "Power BI Pro",
        &["POWER_BI_PRO", "PBI_PREMIUM_PER_USER"],
        &["power bi", "powerbi", "pbi"],
    ),
    (
        "Microsoft 365 E5",
        &["SPE_E5", "ENTERPRISEPREMIUM"],
        &["e5"],
    ),
    (
        "Microsoft 365 E3",
        &["SPE_E3", "ENTERPRISEPACK"],
        &[
            "e3",
            "office 365",
            "o365",
            "m365",
            "microsoft 365",
            "office",
            "office apps",
            "outlook",
            "word",
            "excel",
        ],
    ),
    (
        "Teams Phone",
        &["MCOEV", "MCOTEAMS_ESSENTIALS"],
        &["teams phone", "phone system", "calling plan"],
    ),
    ("Copilot", &["Microsoft_365_Copilot"], &["copilot"]),
];

static LICENCE: LazyLock<Option<Regex>> =
    LazyLock::new(|| re(r"\b(licen[cs]e[sd]?|subscription|seat)\b"));
static NEED: LazyLock<Option<Regex>> = LazyLock::new(|| {
    re(
        r"\b(need|needs|request|requesting|assign|give|get|add|want|would like|can i have|install|access to|buy|purchase|provision)\b",
    )
});
static FOR_WHOM: LazyLock<Option<Regex>> = LazyLock::new(|| {
    re(r"\b(?:for|to)\s+([a-z][\w.@-]*(?:\s[a-z][\w.-]*)?)\s*(?:please)?\s*[.!?]*$")
});
static MOVE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    re(
        r"\b([a-z][\w.@-]*(?:\s[a-z][\w.-]*)?)\s+(?:is|has|will be)\s+(?:moving|transferring|moved|transferred|switching|joining|going)\s+(?:over\s+)?(?:from\s+[a-z][\w ]*?\s+)?(?:to|into)\s+(?:the\s+)?([a-z][\w&-]*(?:\s[a-z][\w&-]*)?)(?:\s+(?:team|department|dept))?\b",
    )
});
static MOVE_VERB: LazyLock<Option<Regex>> = LazyLock::new(|| {
    re(
        r"\b(?:move|transfer|switch)\s+([a-z][\w.@-]*(?:\s[a-z][\w.-]*)?)\s+(?:from\s+[a-z][\w ]*?\s+)?(?:to|into)\s+(?:the\s+)?([a-z][\w&-]*(?:\s[a-z][\w&-]*)?)(?:\s+(?:team|department|dept))?\b",
    )
});
static NEW_MANAGER: LazyLock<Option<Regex>> = LazyLock::new(|| {
    re(
        r"\b(?:new manager|reporting to|reports to|report to|manager (?:will be|is|should be))\s+(?:is\s+|will be\s+)?([a-z][\w.@-]*(?:\s[a-z][\w.-]*)?)",
    )
});
static LEAVER: LazyLock<Option<Regex>> = LazyLock::new(|| {
    re(
        r"\b(leaver|leaving (the company|us|the business|the organi[sz]ation)|last day (at|with|in|was|is|will be)|offboard(ing)?|off-board(ing)?|terminat(ed|ion)|resigned|has left (the company|us|the business|the organi[sz]ation)|let go|exit(ing)? the (company|business))\b",
    )
});
/// Where a leaver's name stands: "offboard X", "leaver: X", "X is leaving".
static LEAVER_NAME: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    [
        r"\b(?:offboard|off-board)\s+([a-z][\w.@-]*(?:\s[a-z][\w.-]*)?)",
        r"\bleaver:?\s+([a-z][\w.@-]*(?:\s[a-z][\w.-]*)?)",
        r"\b([a-z][\w.@-]*(?:\s[a-z][\w.-]*)?)\s+(?:is leaving|has left the company|has resigned|resigned|is a leaver|was let go|leaves the company)",
    ]
    .iter()
    .filter_map(|p| re(p))
    .collect()
});
static STARTER: LazyLock<Option<Regex>> = LazyLock::new(|| {
    re(
        r"\b(new starter|new hire|new joiner|new employee|onboard(ing)?|(new|a) [a-z]+ (is )?(starting|joining)|joining (us|the company)|set ?up (an? |the )?(new )?account for)\b",
    )
});

fn product(text: &str) -> Option<&'static str> {
    let padded = format!(
        " {} ",
        text.replace(|c: char| !c.is_alphanumeric() && c != ' ', " ")
    );
    PRODUCTS
        .iter()
        .find(|(_, _, words)| words.iter().any(|w| padded.contains(&format!(" {w} "))))
        .map(|(name, _, _)| *name)
}

/// What an onboarding request says of the new starter.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct NewStarter {
    /// Their full name, lower-cased as the request was read.
    pub name: Option<String>,
    /// Words that may name their department (the first that is a group is taken).
    pub department: Vec<String>,
    /// Their job title.
    pub title: Option<String>,
    /// Who they will report to.
    pub manager: Option<Subject>,
}

/// Two or three words that read as a person's name.
const NAME: &str = r"([a-z][a-z'-]+(?:\s[a-z][a-z'-]+){1,2})";

static STARTER_NAME: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    [
        format!(r"\b(?:new (?:starter|hire|joiner|employee|colleague)|onboard(?:ing)?|account for)\s*[:,-]?\s+(?:named\s+|called\s+|is\s+)?{NAME}"),
        format!(r"(?:^|[,.]\s*){NAME}\s*(?:,|\s+(?:joins|is joining|starts|is starting|will join|will start))"),
    ]
    .iter()
    .filter_map(|p| re(p))
    .collect()
});
static JOINS: LazyLock<Option<Regex>> = LazyLock::new(|| {
    re(r"\b(?:joins|joining|join|in|into|to|for|with)\s+(?:the\s+)?([a-z][\w&-]*)")
});
static TITLE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    re(
        r"\bas\s+(?:an?\s+|the\s+|our\s+)?([a-z][a-z ]{2,40}?)(?:\s*(?:,|\.|;|$)|\s+(?:reporting|starting|from|on|in|and|with|who|under))",
    )
});
static REPORTS_TO: LazyLock<Option<Regex>> = LazyLock::new(|| {
    re(
        r"\b(?:reporting to|reports to|report to|manager(?:\s+is|\s+will be|:)?|under)\s+([a-z][\w.@-]*(?:\s[a-z][\w.-]*)?)",
    )
});

/// Words that end a name in a sentence ("Priyanka Shah joins Finance").
const NAME_ENDS: &[&str] = &[
    "joins",
    "joining",
    "starts",
    "starting",
    "is",
    "will",
    "on",
    "in",
    "as",
    "from",
    "reporting",
    "at",
    "to",
    "for",
    "with",
    "and",
    "who",
];

/// Words that are never a new starter's name.
const NOT_A_NAME: &[&str] = &[
    "starting", "joining", "next", "week", "monday", "the", "our", "a", "an", "please", "set",
    "up", "their", "his", "her", "account", "new", "we", "have",
];

fn new_starter(text: &str) -> NewStarter {
    // "priyanka shah joins finance": the name ends where the sentence goes on.
    let name = STARTER_NAME.iter().find_map(|r| {
        r.captures(text).and_then(|c| c.get(1)).and_then(|m| {
            let words: Vec<&str> = m
                .as_str()
                .split_whitespace()
                .take_while(|w| !NAME_ENDS.contains(w))
                .collect();
            (words.len() >= 2 && !words.iter().any(|w| NOT_A_NAME.contains(w)))
                .then(|| words.join(" "))
        })
    });
    let department = JOINS
        .as_ref()
        .map(|r| {
            r.captures_iter(text)
                .filter_map(|c| c.get(1).map(|m| m.as_str().to_owned()))
                .filter(|w| !NOT_A_NAME.contains(&w.as_str()) && !FILLERS.contains(&w.as_str()))
                .collect()
        })
        .unwrap_or_default();
    let title = captures(&TITLE, text)
        .and_then(|c| c.get(1))
        .map(|m| m.as_str().trim().to_owned());
    let manager = captures(&REPORTS_TO, text)
        .and_then(|c| c.get(1))
        .and_then(|m| subject_from(m.as_str()));
    NewStarter {
        name,
        department,
        title,
        manager,
    }
}

/// Words that end a department's name in a sentence ("to Sales next week", "to Finance on
/// Monday").
const FILLERS: &[&str] = &[
    "next",
    "on",
    "from",
    "starting",
    "as",
    "in",
    "at",
    "this",
    "tomorrow",
    "today",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "please",
    "effective",
    "and",
    "with",
    "asap",
];

fn department_name(raw: &str) -> String {
    let words: Vec<&str> = raw
        .split_whitespace()
        .take_while(|w| !FILLERS.contains(w))
        .collect();
    let name = words.join(" ");
    ["team", "department", "dept", "group"]
        .iter()
        .fold(name, |n, suffix| {
            n.strip_suffix(&format!(" {suffix}"))
                .map_or(n.clone(), str::to_owned)
        })
}

/// Recognises an account request in `text` (normalised).
pub(super) fn recognise(text: &str) -> Option<Intent> {
    for pattern in [&*MOVE, &*MOVE_VERB] {
        if let Some(c) = captures(pattern, text)
            && let (Some(person), Some(department)) = (
                c.get(1).and_then(|m| subject_from(m.as_str())),
                c.get(2).map(|m| department_name(m.as_str())),
            )
            && !department.is_empty()
        {
            let manager = captures(&NEW_MANAGER, text)
                .and_then(|c| c.get(1))
                .and_then(|m| subject_from(m.as_str()));
            return Some(Intent::DepartmentMove {
                person,
                department,
                manager,
            });
        }
    }
    if is_match(&LEAVER, text) {
        let person = captures(&EMAIL, text)
            .and_then(|c| c.get(0))
            .map(|m| Subject::Named(m.as_str().to_owned()))
            .or_else(|| {
                LEAVER_NAME.iter().find_map(|r| {
                    r.captures(text)
                        .and_then(|c| c.get(1))
                        .and_then(|m| subject_from(m.as_str()))
                })
            })
            .unwrap_or(Subject::Unclear);
        return Some(Intent::Offboarding { person });
    }
    // "our new hire keeps getting locked out" is a sign-in problem, not an onboarding.
    if is_match(&STARTER, text) && !is_match(&super::SIGNIN, text) {
        return Some(Intent::Onboarding(new_starter(text)));
    }
    // "assign Microsoft 365 E5 to Daniel" names a product without saying "licence".
    let assigned = text.contains("assign") && product(text).is_some();
    if is_match(&LICENCE, text) && is_match(&NEED, text) || assigned {
        let subject = captures(&EMAIL, text)
            .and_then(|c| c.get(0))
            .map(|m| Subject::Named(m.as_str().to_owned()))
            .or_else(|| {
                captures(&FOR_WHOM, text)
                    .and_then(|c| c.get(1))
                    .and_then(|m| subject_from(m.as_str()))
            })
            .unwrap_or(Subject::Requester);
        return Some(Intent::Licence {
            subject,
            product: product(text).map(str::to_owned),
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::super::understand;
    use super::*;

    #[test]
    fn every_pattern_compiles() {
        assert_eq!(LEAVER_NAME.len(), 3);
        assert_eq!(STARTER_NAME.len(), 2);
        for r in [
            &*LICENCE,
            &*NEED,
            &*FOR_WHOM,
            &*MOVE,
            &*MOVE_VERB,
            &*NEW_MANAGER,
            &*LEAVER,
            &*STARTER,
            &*JOINS,
            &*TITLE,
            &*REPORTS_TO,
        ] {
            assert!(r.is_some());
        }
    }

    #[test]
    fn leaving_a_project_is_not_leaving_the_company() {
        assert!(matches!(
            understand("Irene has left Project Phoenix, please take her off the group"),
            Intent::GroupMembership { add: false, .. }
        ));
        assert!(matches!(
            understand("Ryan Price is leaving the company today, please offboard him"),
            Intent::Offboarding { person: Subject::Named(n) } if n == "ryan price"
        ));
        assert!(matches!(
            understand("Nina has left the company"),
            Intent::Offboarding { .. }
        ));
    }

    #[test]
    fn a_new_starter_as_written() -> Result<(), String> {
        let Intent::Onboarding(s) = understand(
            "New starter: Priyanka Shah joins Finance on Monday as an accountant, reporting to Olivia.",
        ) else {
            return Err("not an onboarding".into());
        };
        assert_eq!(s.name.as_deref(), Some("priyanka shah"));
        assert_eq!(s.department.first().map(String::as_str), Some("finance"));
        assert_eq!(s.title.as_deref(), Some("accountant"));
        assert_eq!(s.manager, Some(Subject::Named("olivia".into())));
        let Intent::Onboarding(s) = understand(
            "we have a new hire starting next week in Engineering, Tobias Klein, manager Emma Lindgren",
        ) else {
            return Err("not an onboarding".into());
        };
        assert_eq!(s.name.as_deref(), Some("tobias klein"));
        assert!(
            s.department.iter().any(|d| d == "engineering"),
            "{:?}",
            s.department
        );
        assert_eq!(s.manager, Some(Subject::Named("emma lindgren".into())));
        Ok(())
    }
}
