//! Dates as people write them in a request ("until Friday", "from Dec 1 to Dec 5", "back on
//! the 12th of January", "2026-12-01"), as ISO dates.

use std::sync::LazyLock;

use chrono::{Datelike, Days, NaiveDate, Utc, Weekday};
use regex::Regex;

use super::re;

const MONTHS: &[(&str, u32)] = &[
    ("january", 1),
    ("february", 2),
    ("march", 3),
    ("april", 4),
    ("may", 5),
    ("june", 6),
    ("july", 7),
    ("august", 8),
    ("september", 9),
    ("october", 10),
    ("november", 11),
    ("december", 12),
    ("jan", 1),
    ("feb", 2),
    ("mar", 3),
    ("apr", 4),
    ("jun", 6),
    ("jul", 7),
    ("aug", 8),
    ("sep", 9),
    ("sept", 9),
    ("oct", 10),
    ("nov", 11),
    ("dec", 12),
];
const WEEKDAYS: &[(&str, Weekday)] = &[
    ("monday", Weekday::Mon),
    ("tuesday", Weekday::Tue),
    ("wednesday", Weekday::Wed),
    ("thursday", Weekday::Thu),
    ("friday", Weekday::Fri),
    ("saturday", Weekday::Sat),
    ("sunday", Weekday::Sun),
    ("mon", Weekday::Mon),
    ("tue", Weekday::Tue),
    ("wed", Weekday::Wed),
    ("thu", Weekday::Thu),
    ("fri", Weekday::Fri),
];

/// One date expression.
const DATE: &str = r"(\d{4}-\d{2}-\d{2}|(?:the\s+)?\d{1,2}(?:st|nd|rd|th)?(?:\s+of)?\s+[a-z]{3,9}\.?|[a-z]{3,9}\.?\s+\d{1,2}(?:st|nd|rd|th)?|tomorrow|(?:next\s+)?(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tue|wed|thu|fri)|next week|the\s+\d{1,2}(?:st|nd|rd|th))";

static FROM_TO: LazyLock<Option<Regex>> = LazyLock::new(|| {
    re(&format!(
        r"\b(?:from|starting|between)\s+{DATE}\s*(?:to|until|till|through|thru|and|-|–)\s*{DATE}"
    ))
});
static UNTIL: LazyLock<Option<Regex>> =
    LazyLock::new(|| re(&format!(r"\b(?:until|till|til|through|thru|to)\s+{DATE}")));
static BACK_ON: LazyLock<Option<Regex>> =
    LazyLock::new(|| re(&format!(r"\b(?:back|returning|return)\s+(?:on\s+)?{DATE}")));
static DAY_MONTH: LazyLock<Option<Regex>> =
    LazyLock::new(|| re(r"^(?:the\s+)?(\d{1,2})(?:st|nd|rd|th)?(?:\s+of)?\s+([a-z]{3,9})\.?$"));
static MONTH_DAY: LazyLock<Option<Regex>> =
    LazyLock::new(|| re(r"^([a-z]{3,9})\.?\s+(\d{1,2})(?:st|nd|rd|th)?$"));
static DAY_ONLY: LazyLock<Option<Regex>> =
    LazyLock::new(|| re(r"^the\s+(\d{1,2})(?:st|nd|rd|th)$"));

fn month(name: &str) -> Option<u32> {
    MONTHS.iter().find(|(n, _)| *n == name).map(|(_, m)| *m)
}

/// The next date (today or later) with this month and day.
fn upcoming(today: NaiveDate, month: u32, day: u32) -> Option<NaiveDate> {
    let this_year = NaiveDate::from_ymd_opt(today.year(), month, day)?;
    if this_year >= today {
        Some(this_year)
    } else {
        NaiveDate::from_ymd_opt(today.year() + 1, month, day)
    }
}

/// One expression as a date, counted from `today`.
fn parse(expr: &str, today: NaiveDate) -> Option<NaiveDate> {
    let expr = expr.trim();
    if let Ok(d) = NaiveDate::parse_from_str(expr, "%Y-%m-%d") {
        return Some(d);
    }
    if expr == "tomorrow" {
        return today.checked_add_days(Days::new(1));
    }
    if expr == "next week" {
        let to_monday = 7 - u64::from(today.weekday().num_days_from_monday());
        return today.checked_add_days(Days::new(to_monday));
    }
    let bare = expr.trim_start_matches("next ").trim();
    if let Some((_, weekday)) = WEEKDAYS.iter().find(|(n, _)| *n == bare) {
        let ahead =
            (7 + weekday.num_days_from_monday() - today.weekday().num_days_from_monday()) % 7;
        let ahead = if ahead == 0 { 7 } else { ahead };
        return today.checked_add_days(Days::new(u64::from(ahead)));
    }
    let caps = |r: &Option<Regex>| r.as_ref().and_then(|r| r.captures(expr));
    if let Some(c) = caps(&DAY_MONTH) {
        let day = c.get(1)?.as_str().parse().ok()?;
        return upcoming(today, month(c.get(2)?.as_str())?, day);
    }
    if let Some(c) = caps(&MONTH_DAY)
        && let Some(m) = c.get(1).and_then(|m| month(m.as_str()))
    {
        let day = c.get(2)?.as_str().parse().ok()?;
        return upcoming(today, m, day);
    }
    if let Some(c) = caps(&DAY_ONLY) {
        let day: u32 = c.get(1)?.as_str().parse().ok()?;
        let this_month = NaiveDate::from_ymd_opt(today.year(), today.month(), day);
        return match this_month {
            Some(d) if d >= today => Some(d),
            _ => {
                let next = today.checked_add_months(chrono::Months::new(1))?;
                NaiveDate::from_ymd_opt(next.year(), next.month(), day)
            }
        };
    }
    None
}

/// The start and end (ISO dates) of a period in `text`: "from A to B" (B inclusive: the reply
/// stops at the end of B), "until B", "back on B" (the reply stops as B begins).
pub(super) fn range(text: &str) -> (Option<String>, Option<String>) {
    range_from(text, Utc::now().date_naive())
}

fn range_from(text: &str, today: NaiveDate) -> (Option<String>, Option<String>) {
    let iso = |d: NaiveDate| d.format("%Y-%m-%d").to_string();
    let day_after = |d: NaiveDate| d.checked_add_days(Days::new(1));
    let caps = |r: &Option<Regex>| r.as_ref().and_then(|r| r.captures(text));
    if let Some(c) = caps(&FROM_TO)
        && let (Some(a), Some(b)) = (
            c.get(1).and_then(|m| parse(m.as_str(), today)),
            c.get(2).and_then(|m| parse(m.as_str(), today)),
        )
    {
        // "from Dec 28 to Jan 3": the end lies after the start.
        let b = if b < a {
            b.with_year(b.year() + 1).unwrap_or(b)
        } else {
            b
        };
        return (Some(iso(a)), day_after(b).map(iso));
    }
    if let Some(end) = caps(&BACK_ON)
        .and_then(|c| c.get(1))
        .and_then(|m| parse(m.as_str(), today))
    {
        return (Some(iso(today)), Some(iso(end)));
    }
    if let Some(end) = caps(&UNTIL)
        .and_then(|c| c.get(1))
        .and_then(|m| parse(m.as_str(), today))
        .and_then(day_after)
    {
        return (Some(iso(today)), Some(iso(end)));
    }
    (None, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
    }

    #[test]
    fn periods_in_everyday_wording() {
        // Tuesday, 24 November 2026.
        let today = day(2026, 11, 24);
        let r = |t: &str| range_from(t, today);
        let some = |a: &str, b: &str| (Some(a.to_owned()), Some(b.to_owned()));
        assert_eq!(
            r("ooo from dec 1 to dec 5"),
            some("2026-12-01", "2026-12-06")
        );
        assert_eq!(
            r("out of office from 28 december until 3rd of jan"),
            some("2026-12-28", "2027-01-04")
        );
        assert_eq!(r("on leave until friday"), some("2026-11-24", "2026-11-28"));
        assert_eq!(r("i'm back on monday"), some("2026-11-24", "2026-11-30"));
        assert_eq!(r("away till 2026-12-10"), some("2026-11-24", "2026-12-11"));
        assert_eq!(r("away until the 2nd"), some("2026-11-24", "2026-12-03"));
        assert_eq!(r("turn on my out of office"), (None, None));
    }
}
