//! Sign-in methods and account security: a new phone, a Temporary Access Pass, signing out
//! everywhere, a compromised account, a privileged role asked for.

use std::sync::LazyLock;

use regex::Regex;

use super::{Intent, Subject, captures, is_match, leading_name, re, sign_in_subject, subject_from};

static COMPROMISED: LazyLock<Option<Regex>> = LazyLock::new(|| {
    re(
        r"\b(hacked|compromised|breached|phish(ed|ing)?|clicked (on )?(a|the|that|some) (bad |dodgy |suspicious |malicious )?(link|attachment)|entered my password (on|into|in) (a|some|the)|someone (else )?(is |has been )?(logging|signing|logged|signed) ?(in|into|on)|(log ?ins?|sign-?ins?) from (another|a different|an unknown|a foreign) (country|location|place)|from another country|someone (else )?(has|got|knows) my password|sent (emails|mails|messages) i (didn't|did not) send|spam(ming)? (from|sent from) my|suspicious (sign-?ins?|log ?ins?|activity)|impossible travel|unfamiliar (sign-?in|location))\b",
    )
});
static MFA: LazyLock<Option<Regex>> = LazyLock::new(|| {
    re(
        r"\b(mfa|2fa|two[- ]factor|multi[- ]factor|authenticator|verification code|auth app|security key|sign-?in method|approve (the )?(sign-?in|request)|number matching)\b",
    )
});
static NEW_PHONE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    re(
        r"\b(new|replaced|replacement|changed|lost|broke|broken|stolen|reset|wiped|different|upgraded) (my )?(phone|mobile|iphone|android|handset|cell|number)|(phone|mobile|iphone) (was |got |is )?(lost|stolen|broken|replaced|wiped|reset|dead)\b",
    )
});
static MFA_ACTION: LazyLock<Option<Regex>> = LazyLock::new(|| {
    re(
        r"\b(reset|re-?register|register|set ?up|clear|remove|wipe|re-?enrol|re-?enroll|move|transfer|not working|doesn't work|isn't working|stopped working|no longer|can't|don't get|not getting|not receiving|lost|new)\b",
    )
});
static TAP: LazyLock<Option<Regex>> =
    LazyLock::new(|| re(r"\b(temporary access pass|temp access pass|\btap\b|access pass)\b"));
static SIGN_OUT: LazyLock<Option<Regex>> = LazyLock::new(|| {
    re(
        r"\b((sign|log|kick|boot)(ged)? (me |him |her |them |[a-z]+ )?out (of )?(everywhere|everything|all|every)|(revoke|kill|end|terminate|invalidate) (all )?(my |his |her |their |the )?(sessions?|sign-?ins?|logins?|tokens?)|sign(ed)? out (on|from) (all|every))\b",
    )
});
static PRIVILEGED: LazyLock<Option<Regex>> = LazyLock::new(|| {
    re(
        r"\b(global admin(istrator)?|domain admin|tenant admin|admin rights|admin(istrator)? (access|rights|role|privileges|permissions)|local admin|privileged role|exchange admin(istrator)?|user admin(istrator)?|security admin(istrator)?|make (me|him|her|them|[a-z]+) (an? )?admin)\b",
    )
});

/// "make Omar an admin": who the role is asked for.
static MAKE_ADMIN: LazyLock<Option<Regex>> = LazyLock::new(|| {
    re(r"\bmake\s+([a-z][\w.@-]*(?:\s[a-z][\w.-]*)?)\s+(?:an?\s+)?(?:global\s+)?admin")
});
/// "kick Quinn out of all sessions": whom to sign out.
static SIGN_OUT_NAMED: LazyLock<Option<Regex>> = LazyLock::new(|| {
    re(r"\b(?:sign|log|kick|boot)(?:ged)?\s+([a-z][\w.@-]*(?:\s[a-z][\w.-]*)?)\s+out\b")
});
static FOR_NAME: LazyLock<Option<Regex>> = LazyLock::new(|| {
    re(
        r"\b(?:pass|tap|mfa|2fa|authenticator|methods?|sessions?)\s+(?:for|of)\s+(?:user\s+)?([a-z][\w.@-]*(?:\s[a-z][\w.-]*)?)",
    )
});

/// Whose account: an address or a name in the usual phrasings ("reset MFA for Chloe", "Ben
/// replaced his phone"), else the requester.
fn account_subject(text: &str) -> Subject {
    if let Some(s) = captures(&FOR_NAME, text)
        .and_then(|c| c.get(1))
        .and_then(|m| subject_from(m.as_str()))
    {
        return s;
    }
    match sign_in_subject(text) {
        Subject::Unclear | Subject::Requester => {
            leading_name(text).unwrap_or_else(|| sign_in_subject(text))
        }
        named => named,
    }
}

/// Recognises a security request in `text` (normalised).
pub(super) fn recognise(text: &str) -> Option<Intent> {
    if is_match(&PRIVILEGED, text) && !is_match(&COMPROMISED, text) {
        let role = captures(&PRIVILEGED, text)
            .and_then(|c| c.get(1))
            .map(|m| m.as_str().to_owned())
            .unwrap_or_default();
        let subject = captures(&MAKE_ADMIN, text)
            .and_then(|c| c.get(1))
            .and_then(|m| subject_from(m.as_str()))
            .unwrap_or_else(|| sign_in_subject(text));
        return Some(Intent::PrivilegedRole { subject, role });
    }
    if is_match(&COMPROMISED, text) {
        return Some(Intent::Compromised {
            subject: account_subject(text),
        });
    }
    if is_match(&TAP, text) {
        return Some(Intent::TemporaryAccessPass {
            subject: account_subject(text),
        });
    }
    let mfa = is_match(&MFA, text) && is_match(&MFA_ACTION, text);
    let new_phone = is_match(&NEW_PHONE, text)
        && (is_match(&MFA, text)
            || text.contains("sign in")
            || text.contains("log in")
            || text.contains("code"));
    if mfa || new_phone {
        return Some(Intent::MfaReset {
            subject: account_subject(text),
        });
    }
    if is_match(&SIGN_OUT, text) {
        let subject = captures(&SIGN_OUT_NAMED, text)
            .and_then(|c| c.get(1))
            .and_then(|m| subject_from(m.as_str()))
            .unwrap_or_else(|| account_subject(text));
        return Some(Intent::SignOutEverywhere { subject });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pattern_compiles() {
        for r in [
            &*COMPROMISED,
            &*MFA,
            &*NEW_PHONE,
            &*MFA_ACTION,
            &*TAP,
            &*SIGN_OUT,
            &*PRIVILEGED,
            &*MAKE_ADMIN,
            &*SIGN_OUT_NAMED,
            &*FOR_NAME,
        ] {
            assert!(r.is_some());
        }
    }
}
