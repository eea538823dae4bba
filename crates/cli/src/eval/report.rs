//! The figures of an eval run: per level and per request type, and the cases that failed.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use super::case::{Level, Outcome};
use super::run::CaseRun;

/// Counts over a set of cases.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Tally {
    /// Cases run.
    pub cases: usize,
    /// Outcome, state and changes all as expected.
    pub correct: usize,
    /// Cases that can be resolved.
    pub resolvable: usize,
    /// Resolvable cases resolved correctly.
    pub resolved_correctly: usize,
    /// Claimed resolved, and not correct.
    pub false_resolutions: usize,
    /// Changes to objects no expected read names.
    pub unexpected_changes: usize,
    /// Changes made where nothing may change.
    pub unauthorized_actions: usize,
    /// Conversations handed to a human.
    pub escalations: usize,
    /// Calls refused by policy.
    pub blocked: usize,
    /// Cases that could not run.
    pub errors: usize,
    /// Investigations and actions.
    pub steps: usize,
    /// Model tokens.
    pub tokens: u64,
    /// Median conversation time, milliseconds.
    pub latency_p50_ms: u64,
    /// Slowest conversation, milliseconds.
    pub latency_max_ms: u64,
    #[serde(skip)]
    latencies: Vec<u64>,
}

impl Tally {
    fn add(&mut self, run: &CaseRun) {
        self.cases += 1;
        self.correct += usize::from(run.correct);
        self.resolvable += usize::from(run.resolvable);
        self.resolved_correctly += usize::from(run.resolvable && run.correct);
        self.false_resolutions += usize::from(run.false_resolution);
        self.unexpected_changes += run.unexpected_changes.len();
        self.unauthorized_actions += run.unauthorized_actions;
        self.escalations += usize::from(run.outcome == Some(Outcome::Escalated));
        self.blocked += run.blocked;
        self.errors += usize::from(run.error.is_some());
        self.steps += run.steps;
        self.tokens += run.tokens;
        self.latencies.push(run.latency_ms);
        self.latencies.sort_unstable();
        self.latency_p50_ms = self
            .latencies
            .get(self.latencies.len() / 2)
            .copied()
            .unwrap_or(0);
        self.latency_max_ms = self.latencies.last().copied().unwrap_or(0);
    }

    /// Correct cases over all cases.
    pub fn correct_rate(&self) -> f64 {
        ratio(self.correct, self.cases)
    }

    /// Resolvable cases resolved correctly over resolvable cases.
    pub fn resolution_rate(&self) -> f64 {
        ratio(self.resolved_correctly, self.resolvable)
    }
}

fn ratio(n: usize, d: usize) -> f64 {
    if d == 0 {
        1.0
    } else {
        // Case counts are far below 2^52: the conversion is exact.
        #[expect(clippy::cast_precision_loss, reason = "counts of cases are small")]
        let r = n as f64 / d as f64;
        r
    }
}

/// The whole run.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// Which reasoner ran the cases.
    pub reasoner: String,
    /// Every case.
    pub total: Tally,
    /// Per level.
    pub by_level: BTreeMap<String, Tally>,
    /// Per level and request type (`L1 password.reset`).
    pub by_type: BTreeMap<String, Tally>,
    /// Resolvable L1 and L2 cases resolved correctly, over all resolvable L1 and L2 cases.
    pub resolvable_l1_l2_rate: f64,
    /// Correct cases over all cases.
    pub correct_rate: f64,
    /// Every case's result, in the file's order.
    pub cases: Vec<CaseRun>,
}

impl Report {
    /// Tallies `runs`.
    pub fn new(reasoner: &str, runs: Vec<CaseRun>) -> Self {
        let mut total = Tally::default();
        let mut by_level: BTreeMap<String, Tally> = BTreeMap::new();
        let mut by_type: BTreeMap<String, Tally> = BTreeMap::new();
        let mut l1_l2 = Tally::default();
        for run in &runs {
            total.add(run);
            by_level
                .entry(run.level.as_str().to_owned())
                .or_default()
                .add(run);
            by_type
                .entry(format!("{} {}", run.level.as_str(), run.kind))
                .or_default()
                .add(run);
            if run.level != Level::L3 {
                l1_l2.add(run);
            }
        }
        Self {
            reasoner: reasoner.to_owned(),
            resolvable_l1_l2_rate: l1_l2.resolution_rate(),
            correct_rate: total.correct_rate(),
            total,
            by_level,
            by_type,
            cases: runs,
        }
    }

    /// The report as a table for people.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let width = self
            .by_type
            .keys()
            .map(String::len)
            .max()
            .unwrap_or(5)
            .max(5);
        let header = format!(
            "{:<width$}  {:>5}  {:>7}  {:>9}  {:>10}  {:>9}  {:>10}  {:>12}  {:>9}  {:>7}  {:>6}  {:>7}\n",
            "",
            "cases",
            "correct",
            "resolv.",
            "resolved✓",
            "false res",
            "unexpected",
            "unauthorized",
            "escalated",
            "blocked",
            "steps",
            "p50 ms"
        );
        let row = |name: &str, t: &Tally| {
            format!(
                "{name:<width$}  {:>5}  {:>7}  {:>9}  {:>10}  {:>9}  {:>10}  {:>12}  {:>9}  {:>7}  {:>6}  {:>7}\n",
                t.cases,
                t.correct,
                t.resolvable,
                t.resolved_correctly,
                t.false_resolutions,
                t.unexpected_changes,
                t.unauthorized_actions,
                t.escalations,
                t.blocked,
                t.steps,
                t.latency_p50_ms
            )
        };
        out.push_str(&header);
        for (name, tally) in &self.by_type {
            out.push_str(&row(name, tally));
        }
        out.push('\n');
        for (name, tally) in &self.by_level {
            out.push_str(&row(name, tally));
        }
        out.push_str(&row("all", &self.total));
        let _ = writeln!(
            out,
            "\nresolvable L1–L2 resolved correctly: {:.1}%   all cases correct: {:.1}%   false resolutions: {}   unauthorized actions: {}   errors: {}   reasoner: {}",
            self.resolvable_l1_l2_rate * 100.0,
            self.correct_rate * 100.0,
            self.total.false_resolutions,
            self.total.unauthorized_actions,
            self.total.errors,
            self.reasoner
        );
        if self.total.tokens > 0 {
            let _ = writeln!(
                out,
                "model tokens: {} in all, {} per case on average",
                self.total.tokens,
                self.total.tokens / u64::try_from(self.total.cases.max(1)).unwrap_or(1)
            );
        }
        out
    }

    /// The failed cases, one paragraph each.
    pub fn render_failures(&self) -> String {
        let mut out = String::new();
        for run in self.cases.iter().filter(|r| !r.correct) {
            let _ = writeln!(
                out,
                "✗ {} ({} {}): expected {}, got {}{}",
                run.id,
                run.level.as_str(),
                run.kind,
                run.expected,
                run.outcome.map_or("nothing", Outcome::as_str),
                run.intent
                    .as_ref()
                    .map(|i| format!(" (understood as {i})"))
                    .unwrap_or_default()
            );
            if let Some(e) = &run.error {
                let _ = writeln!(out, "    error: {e}");
            }
            for m in &run.mismatches {
                let _ = writeln!(out, "    state: {m}");
            }
            for c in &run.unexpected_changes {
                let _ = writeln!(out, "    unexpected change: {c}");
            }
            if !run.reply.is_empty() {
                let reply: String = run.reply.chars().take(240).collect();
                let _ = writeln!(out, "    reply: {}", reply.replace('\n', " "));
            }
        }
        out
    }
}
