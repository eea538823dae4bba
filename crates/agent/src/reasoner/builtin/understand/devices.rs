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

static THIRD_PERSON: LazyLock<Option<Regex>> = LazyLock::new(|| {
    re(
        r"\b(his|her|their)\s+(?:work\s+|company\s+|new\s+)?(?:laptop|notebook|macbook|computer|pc|desktop|device|phone|mobile|iphone|ipad|tablet|handset)",
    )
});

/// Whose device: "Maria's laptop" is Maria's; "his phone" is someone's Steward must ask about
/// (never the requester's by default); otherwise the requester's own.
fn owner(text: &str) -> Subject {
    captures(&OWNER, text)
        .and_then(|c| c.get(1))
        .and_then(|m| subject_from(m.as_str()))
        .unwrap_or_else(|| {
            if is_match(&THIRD_PERSON, text) {
                Subject::Unclear
            } else {
                Subject::Requester
            }
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pattern_compiles() {
        for r in [&*DEVICE, &*LOST, &*COMPLIANCE, &*OWNER, &*THIRD_PERSON] {
            assert!(r.is_some());
        }
    }

    #[test]
    fn a_device_is_the_requesters_only_when_nothing_says_otherwise() {
        assert_eq!(
            owner("my laptop was stolen on the train"),
            Subject::Requester
        );
        assert!(matches!(owner("maria's laptop was stolen"), Subject::Named(n) if n == "maria"));
        assert_eq!(
            owner("please sign bob out, he lost his phone"),
            Subject::Unclear
        );
        assert_eq!(
            owner("she left her work laptop in a taxi"),
            Subject::Unclear
        );
    }
}
