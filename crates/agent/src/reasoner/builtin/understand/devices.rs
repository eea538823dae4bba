//! Device requests: a lost or stolen device, a device reported not compliant or out of sync.

use std::sync::LazyLock;

use regex::Regex;

use super::{Intent, Subject, captures, is_match, re, subject_from};

/// Which kind of device a request is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DeviceKind {
    /// A phone or tablet.
    Mobile,
    /// A laptop or desktop.
    Computer,
    /// Not said.
    Any,
}

static DEVICE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    re(
        r"\b(laptop|notebook|macbook|computer|pc|desktop|surface|thinkpad|device|phone|mobile|iphone|ipad|android|tablet|handset|workstation)\b",
    )
});
static LOST: LazyLock<Option<Regex>> = LazyLock::new(|| {
    re(
        r"\b(lost|stolen|stole|missing|left (it |my [a-z]+ )?(on|in|at)|can't find|cannot find|misplaced|got nicked|was taken|been taken|robbed|theft)\b",
    )
});
static COMPLIANCE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    re(
        r"\b(not compliant|non-?compliant|noncompliant|compliance|isn't compliant|out of compliance|intune|company portal|not syncing|won't sync|doesn't sync|sync(hroni[sz]e)? (my |the )?(device|laptop|phone|pc)|device (is )?(blocked|not allowed)|access (is )?blocked (on|from) (my |this )?(device|laptop|phone|pc)|bitlocker|encryption)\b",
    )
});
static OWNER: LazyLock<Option<Regex>> = LazyLock::new(|| {
    re(
        r"\b([a-z][\w.@-]*(?:\s[a-z][\w.-]*)?)'s\s+(?:laptop|notebook|macbook|computer|pc|desktop|device|phone|mobile|iphone|ipad|tablet)",
    )
});

fn kind(text: &str) -> DeviceKind {
    let mobile = [
        "phone", "mobile", "iphone", "ipad", "android", "tablet", "handset",
    ];
    let computer = [
        "laptop",
        "notebook",
        "macbook",
        "computer",
        "pc",
        "desktop",
        "surface",
        "thinkpad",
        "workstation",
    ];
    let words: Vec<&str> = text.split(|c: char| !c.is_alphanumeric()).collect();
    if words.iter().any(|w| mobile.contains(w)) {
        DeviceKind::Mobile
    } else if words.iter().any(|w| computer.contains(w)) {
        DeviceKind::Computer
    } else {
        DeviceKind::Any
    }
}

fn owner(text: &str) -> Subject {
    captures(&OWNER, text)
        .and_then(|c| c.get(1))
        .and_then(|m| subject_from(m.as_str()))
        .unwrap_or(Subject::Requester)
}

/// Recognises a device request in `text` (normalised).
pub(super) fn recognise(text: &str) -> Option<Intent> {
    if !is_match(&DEVICE, text) && !is_match(&COMPLIANCE, text) {
        return None;
    }
    if is_match(&DEVICE, text) && is_match(&LOST, text) {
        return Some(Intent::LostDevice {
            subject: owner(text),
            kind: kind(text),
        });
    }
    if is_match(&COMPLIANCE, text) {
        return Some(Intent::DeviceCompliance {
            subject: owner(text),
            kind: kind(text),
        });
    }
    None
}
