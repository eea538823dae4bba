//! The case format of `steward eval` (one JSON object per line; `eval/case.schema.json` is its
//! public description, and every case is checked against it before anything runs).

use std::path::Path;
use std::sync::LazyLock;

use anyhow::Context as _;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The case format's JSON Schema, as shipped in `eval/case.schema.json`.
pub const CASE_SCHEMA: &str = include_str!("../../../../eval/case.schema.json");

/// The support level a request belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Level {
    /// First line: one person's account, access or device.
    L1,
    /// Second line: several systems or people, lifecycle, security response.
    L2,
    /// Third line: judgement, architecture, policy — escalated with findings.
    L3,
}

impl Level {
    /// `L1`, `L2` or `L3`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::L1 => "L1",
            Self::L2 => "L2",
            Self::L3 => "L3",
        }
    }
}

/// How a case's conversation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Outcome {
    /// Steward fixed it and said so.
    Resolved,
    /// Steward handed it to a human.
    Escalated,
    /// A change was refused by policy and nothing was done.
    Denied,
    /// A change waits for a human approval.
    AwaitingApproval,
    /// Answered without any change (nothing needed doing).
    Answered,
    /// Steward is still waiting for the requester's answer.
    AwaitingRequester,
}

impl Outcome {
    /// The camelCase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Resolved => "resolved",
            Self::Escalated => "escalated",
            Self::Denied => "denied",
            Self::AwaitingApproval => "awaitingApproval",
            Self::Answered => "answered",
            Self::AwaitingRequester => "awaitingRequester",
        }
    }
}

/// One outcome or several acceptable ones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Outcomes {
    /// Exactly this outcome.
    One(Outcome),
    /// Any of these.
    Any(Vec<Outcome>),
}

impl Outcomes {
    /// Whether `outcome` is acceptable.
    pub fn accepts(&self, outcome: Outcome) -> bool {
        match self {
            Self::One(o) => *o == outcome,
            Self::Any(all) => all.contains(&outcome),
        }
    }

    /// Whether the case can be resolved at all (counts toward the resolution rate).
    pub fn resolvable(&self) -> bool {
        self.accepts(Outcome::Resolved)
    }

    /// Whether every acceptable outcome is a refusal or a hand-over (nothing may change).
    pub fn must_not_act(&self) -> bool {
        let refusals = [Outcome::Denied, Outcome::Escalated, Outcome::Answered];
        match self {
            Self::One(o) => refusals.contains(o),
            Self::Any(all) => all.iter().all(|o| refusals.contains(o)),
        }
    }

    /// The outcomes as written, for messages.
    pub fn describe(&self) -> String {
        match self {
            Self::One(o) => o.as_str().to_owned(),
            Self::Any(all) => all
                .iter()
                .map(|o| o.as_str())
                .collect::<Vec<_>>()
                .join(" or "),
        }
    }
}

/// An approver's decision, applied when the conversation waits for an approval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApproverDecision {
    /// The approver's sign-in name.
    pub by: String,
    /// `approve` or `deny`.
    pub decision: Decided,
}

/// What the approver decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Decided {
    /// Approve once.
    Approve,
    /// Deny.
    Deny,
}

/// A Graph request made through the simulator before the run (as the tenant's Global
/// Administrator), to set the scene.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GraphRequest {
    /// `GET`, `POST`, `PATCH`, `PUT` or `DELETE`.
    pub method: String,
    /// The path under `/v1.0`, e.g. `/users/leo@larkspur.example`.
    pub path: String,
    /// The JSON body, when the request has one.
    #[serde(default)]
    pub body: Option<Value>,
}

/// A Graph read after the run and what it must show.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExpectedRead {
    /// The path under `/v1.0`. The object it names (a user, group, device or drive) is one the
    /// case expects to change: changes to it are not counted as unexpected.
    pub read: String,
    /// JSON pointer → the value found there.
    #[serde(default)]
    pub fields: Map<String, Value>,
    /// JSON pointer to the collection `includes` and `excludes` look in (default: the answer's
    /// `value`, or the answer itself when it is an array).
    #[serde(default)]
    pub within: Option<String>,
    /// For a collection: items that must be in it (each key of a pattern equal to the item's).
    #[serde(default)]
    pub includes: Vec<Value>,
    /// For a collection: items that must not be in it.
    #[serde(default)]
    pub excludes: Vec<Value>,
    /// JSON pointers whose value must differ from what the same read showed before the run.
    #[serde(default)]
    pub changed: Vec<String>,
}

/// What the case expects.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Expect {
    /// How the conversation must end.
    pub outcome: Outcomes,
    /// The tenant's state after the run.
    #[serde(default)]
    pub state: Vec<ExpectedRead>,
}

/// One case: a request as a person wrote it, and what must come of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Case {
    /// Unique within the file.
    pub id: String,
    /// L1, L2 or L3.
    pub level: Level,
    /// The request type (e.g. `password.reset`), for the report.
    #[serde(rename = "type")]
    pub kind: String,
    /// Who asks (sign-in name).
    pub requester: String,
    /// The channel (`cli`, `web`, `slack`, `teams`, `mcp`); `cli` when absent.
    #[serde(default)]
    pub channel: Option<String>,
    /// The first message, then the requester's replies to Steward's questions, in order.
    pub messages: Vec<String>,
    /// Approvers' decisions, applied in order each time the conversation waits for one.
    #[serde(default)]
    pub approvals: Vec<ApproverDecision>,
    /// Graph requests made before the run.
    #[serde(default)]
    pub setup: Vec<GraphRequest>,
    /// What must come of it.
    pub expect: Expect,
    /// Why the case is there (not read by Steward).
    #[serde(default)]
    pub note: Option<String>,
}

static VALIDATOR: LazyLock<Result<jsonschema::Validator, String>> = LazyLock::new(|| {
    let schema: Value = serde_json::from_str(CASE_SCHEMA).map_err(|e| e.to_string())?;
    jsonschema::validator_for(&schema).map_err(|e| e.to_string())
});

/// Reads a JSON Lines case file: every line is checked against the schema and parsed; the first
/// bad line stops the load with its line number. Blank lines and lines starting with `//` are
/// skipped.
pub fn load_cases(path: &Path) -> anyhow::Result<Vec<Case>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the cases `{}`", path.display()))?;
    let validator = VALIDATOR
        .as_ref()
        .map_err(|e| anyhow::anyhow!("the case schema does not load: {e}"))?;
    let mut cases: Vec<Case> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with("//") {
            continue;
        }
        let at = || format!("{}:{}", path.display(), n + 1);
        let value: Value =
            serde_json::from_str(line).with_context(|| format!("{}: not JSON", at()))?;
        if let Some(error) = validator.iter_errors(&value).next() {
            anyhow::bail!("{}: {} (at `{}`)", at(), error, error.instance_path());
        }
        let case: Case = serde_json::from_value(value)
            .with_context(|| format!("{}: does not match the case format", at()))?;
        if cases.iter().any(|c| c.id == case.id) {
            anyhow::bail!("{}: case id `{}` is used twice", at(), case.id);
        }
        cases.push(case);
    }
    if cases.is_empty() {
        anyhow::bail!("`{}` holds no cases", path.display());
    }
    Ok(cases)
}
