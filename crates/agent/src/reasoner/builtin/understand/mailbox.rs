//! Mailbox requests: automatic replies, calendar sharing, forwarding, shared mailboxes.

use std::sync::LazyLock;

use regex::Regex;

use super::{EMAIL, Intent, Subject, captures, is_match, leading_name, re, subject_from};

static AUTO_REPLY: LazyLock<Option<Regex>> = LazyLock::new(|| {
    re(
        r"\b(out[- ]of[- ](the[- ])?office|ooo|oof|auto[- ]?reply|auto[- ]?replies|automatic repl(y|ies)|away message|vacation (reply|responder|message)|holiday (reply|message))\b",
    )
});
static OFF: LazyLock<Option<Regex>> = LazyLock::new(|| {
    re(
        r"\b(turn(ed)? off|switch(ed)? off|disable|remove|stop|cancel|i'm back|i am back|back (from|in the office|at work)|still on|still sending|won't turn off|get rid of)\b",
    )
});
/// "my out of office" or another's: "set up an out of office for Bob", "Bob's out of office".
static AUTO_REPLY_FOR: LazyLock<Option<Regex>> =
    LazyLock::new(|| re(r"\b(?:for|on)\s+([a-z][\w.@-]*(?:\s[a-z][\w.-]*)?)"));
static POSSESSIVE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    re(
        r"\b([a-z][\w.@-]*(?:\s[a-z][\w.-]*)?)'s\s+(?:out of|auto|automatic|calendar|mailbox|email|inbox)",
    )
});
/// A message in quotes.
static QUOTED: LazyLock<Option<Regex>> =
    LazyLock::new(|| re(r#"["\u{201C}\u{201D}]([^"\u{201C}\u{201D}]{3,})["\u{201C}\u{201D}]"#));
/// "set vacation reply: 'Out until 3 Jan'" — a reply given after a colon, in single quotes or
/// none.
static COLON_QUOTED: LazyLock<Option<Regex>> =
    LazyLock::new(|| re(r"(?i)(?:reply|message|office|ooo|responder)\s*:\s*'([^']{3,})'"));
static SAYING: LazyLock<Option<Regex>> =
    LazyLock::new(|| re(r"\b(?:saying|that says|message:|text:|reading)\s+(.{3,})$"));
static CALENDAR: LazyLock<Option<Regex>> = LazyLock::new(|| re(r"\b(calendar|diary|schedule)\b"));
/// "share my calendar with X", "give X access to my calendar", "make X a delegate on my calendar".
static SHARE_WITH: LazyLock<Option<Regex>> = LazyLock::new(|| {
    re(
        r"\bshare\s+(?:my|the|(?:[a-z][\w.-]*(?:\s[a-z][\w.-]*)?)'s)\s+(?:calendar|diary)\s+with\s+([a-z][\w.@-]*(?:\s[a-z][\w.-]*)?)",
    )
});
static GIVE_ACCESS: LazyLock<Option<Regex>> = LazyLock::new(|| {
    re(
        r"\b(?:give|grant|let|allow)\s+([a-z][\w.@-]*(?:\s[a-z][\w.-]*)?)\s+(?:access to|to see|to view|to edit|to manage|edit access to|delegate access to|see|view|edit|manage)\s+(?:my|the)\s+(?:calendar|diary)",
    )
});
static DELEGATE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    re(
        r"\b(?:make|set|add)\s+([a-z][\w.@-]*(?:\s[a-z][\w.-]*)?)\s+(?:as\s+)?(?:a\s+|my\s+)?(?:calendar\s+)?delegate",
    )
});
static FORWARDING: LazyLock<Option<Regex>> = LazyLock::new(|| {
    re(
        r"\b(mail|email|e-mail|external|outside|auto)[- ]?forward(ing|s)?\b|\b(forward(ing|ed|s)?|redirect(ing|ed|s)?)\b.*\b(rule|rules|mail|mailbox|email|e-mail|emails|messages|inbox|gmail|outside|external|yahoo|hotmail|address)\b|\b(mail|email|emails|messages)\b.*\b(being |getting |are |is )?(forwarded|redirected)\b",
    )
});
static SHARED_MAILBOX: LazyLock<Option<Regex>> = LazyLock::new(|| {
    re(r"\b(shared (mail ?box|inbox|email|e-mail|mail)|(full access|send as|send on behalf)\b)")
});

fn calendar_role(text: &str) -> &'static str {
    if text.contains("delegate") || text.contains("on my behalf") {
        "delegateWithoutPrivateEventAccess"
    } else if [
        "edit",
        "write",
        "manage",
        "change",
        "book",
        "schedule meetings",
        "add events",
    ]
    .iter()
    .any(|w| text.contains(w))
    {
        "write"
    } else if text.contains("free/busy")
        || text.contains("free busy")
        || text.contains("availability")
    {
        "freeBusyRead"
    } else {
        "read"
    }
}

/// Whose automatic replies: "Bob's out of office", "… for Bob", else the requester's. An
/// address in the text is usually the one to contact meanwhile, not the mailbox.
fn auto_reply_subject(text: &str) -> Subject {
    if let Some(s) = captures(&POSSESSIVE, text)
        .and_then(|c| c.get(1))
        .and_then(|m| subject_from(m.as_str()))
    {
        return s;
    }
    // "for Mei", "on ryan@…": every "for"/"on" phrase is tried, skipping "for my holiday",
    // "on Monday" and the like; the reply's own text (after a colon or in quotes) is not looked
    // at, since "for payroll questions contact Olivia" names no mailbox.
    let head = text.split([':', '"', '\u{201C}']).next().unwrap_or(text);
    let head = head.split(" '").next().unwrap_or(head);
    if let Some(r) = AUTO_REPLY_FOR.as_ref() {
        for c in r.captures_iter(head) {
            if let Some(s @ Subject::Named(_)) = c.get(1).and_then(|m| subject_from(m.as_str())) {
                return s;
            }
        }
    }
    leading_name(head).unwrap_or(Subject::Requester)
}

/// The message a requester gave for their automatic reply, from the original wording (case
/// kept): a quoted text, or what follows "saying".
fn message(original: &str) -> Option<String> {
    let lower = original.to_lowercase();
    if let Some(c) = captures(&QUOTED, original).and_then(|c| c.get(1)) {
        return Some(c.as_str().trim().to_owned());
    }
    if let Some(c) = captures(&COLON_QUOTED, original).and_then(|c| c.get(1)) {
        return Some(c.as_str().trim().to_owned());
    }
    captures(&SAYING, &lower).and_then(|c| c.get(1)).map(|m| {
        let start = m.start();
        original
            .get(start..)
            .unwrap_or(m.as_str())
            .trim()
            .trim_matches(['"', '\''])
            .to_owned()
    })
}

/// Recognises a mailbox request in `text` (normalised) written as `original`.
pub(super) fn recognise(text: &str, original: &str) -> Option<Intent> {
    if is_match(&SHARED_MAILBOX, text) {
        let mailbox = captures(&EMAIL, text)
            .and_then(|c| c.get(0))
            .map(|m| m.as_str().to_owned())
            .unwrap_or_default();
        return Some(Intent::SharedMailbox { mailbox });
    }
    if is_match(&AUTO_REPLY, text) {
        let on = !is_match(&OFF, text);
        let (start, end) = super::dates::range(text);
        return Some(Intent::AutoReply {
            subject: auto_reply_subject(text),
            on,
            message: if on { message(original) } else { None },
            start,
            end,
        });
    }
    if is_match(&CALENDAR, text) {
        for pattern in [&*SHARE_WITH, &*GIVE_ACCESS, &*DELEGATE] {
            if let Some(with) = captures(pattern, text)
                .and_then(|c| c.get(1))
                .and_then(|m| subject_from(m.as_str()))
            {
                let owner = captures(&POSSESSIVE, text)
                    .and_then(|c| c.get(1))
                    .and_then(|m| subject_from(m.as_str()))
                    .unwrap_or(Subject::Requester);
                return Some(Intent::CalendarShare {
                    owner,
                    with,
                    role: calendar_role(text),
                });
            }
        }
    }
    if is_match(&FORWARDING, text) {
        // An address here is where mail goes, not whose mailbox it is.
        let subject = captures(&POSSESSIVE, text)
            .and_then(|c| c.get(1))
            .and_then(|m| subject_from(m.as_str()))
            .or_else(|| leading_name(text))
            .unwrap_or(Subject::Requester);
        return Some(Intent::Forwarding { subject });
    }
    None
}
