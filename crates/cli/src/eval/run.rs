//! Running one case on a fresh simulated tenant and judging it by the tenant's end state.

use std::time::Instant;

use anyhow::Context as _;
use serde::Serialize;
use serde_json::Value;
use steward_agent::ApprovalDecision;
use steward_connectors::msgraph::{self, RetryPolicy};
use steward_domain::report::{ActionStatus, TurnReport, TurnStatus};
use steward_domain::{Channel, Outcome as Decided};
use steward_store::Store;

use super::case::{Case, Decided as Approval, GraphRequest, Level, Outcome};
use super::{diff, expect};
use crate::demo::{DemoTenant, password_grant, seed_client_id, start_tenant_with};
use crate::wiring::http_client;

/// How one case went.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CaseRun {
    /// The case's id.
    pub id: String,
    /// Its level.
    pub level: Level,
    /// Its request type.
    #[serde(rename = "type")]
    pub kind: String,
    /// How the conversation ended (absent when the case could not run).
    pub outcome: Option<Outcome>,
    /// What the case expected, as written.
    pub expected: String,
    /// Whether the case can be resolved at all.
    pub resolvable: bool,
    /// Outcome, state and changes all as expected.
    pub correct: bool,
    /// Steward said it was resolved, and it was not (or should not have been).
    pub false_resolution: bool,
    /// Expected reads that did not hold.
    pub mismatches: Vec<String>,
    /// Changes to objects no expected read names (snapshot paths).
    pub unexpected_changes: Vec<String>,
    /// Changes made in a case where nothing may change.
    pub unauthorized_actions: usize,
    /// Calls refused by policy.
    pub blocked: usize,
    /// Investigations and actions, all turns.
    pub steps: usize,
    /// Wall time of the conversation (turns and approvals), milliseconds.
    pub latency_ms: u64,
    /// Model tokens used (0 for the builtin reasoner).
    pub tokens: u64,
    /// The intent Steward recognised.
    pub intent: Option<String>,
    /// Steward's last reply.
    pub reply: String,
    /// Why the case could not run.
    pub error: Option<String>,
}

/// The seed's Global Administrator who sets the scene and reads the end state: enabled, with a
/// simulator password, preferring one that is not a protected identity.
fn checker_identity(seed: &Value) -> anyhow::Result<(String, String)> {
    let users = seed
        .get("users")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let admins: Vec<(&str, &str)> = users
        .iter()
        .filter(|u| u.get("accountEnabled") != Some(&Value::Bool(false)))
        .filter(|u| {
            u.pointer("/x-steward-sim/directoryRoles")
                .and_then(Value::as_array)
                .is_some_and(|r| r.iter().any(|r| r == "Global Administrator"))
        })
        .filter_map(|u| {
            Some((
                u.get("userPrincipalName")?.as_str()?,
                u.pointer("/x-steward-sim/password")?.as_str()?,
            ))
        })
        .collect();
    admins
        .iter()
        .find(|(upn, _)| !upn.starts_with("breakglass"))
        .or(admins.first())
        .map(|(u, p)| ((*u).to_owned(), (*p).to_owned()))
        .context("the seed has no enabled Global Administrator with an `x-steward-sim.password` to set up cases and read their end state")
}

/// Graph through the simulator as the seed's Global Administrator.
struct Checker {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Checker {
    async fn sign_in(seed: &Value, tenant: &DemoTenant) -> anyhow::Result<Self> {
        let (upn, password) = checker_identity(seed)?;
        let answer = password_grant(
            &tenant.sim.token_url(),
            seed_client_id(seed),
            &upn,
            &password,
            msgraph::SCOPES,
        )
        .await?;
        let token = answer
            .get("access_token")
            .and_then(Value::as_str)
            .context("the token answer has no access token")?
            .to_owned();
        Ok(Self {
            http: http_client()?,
            base: format!("{}/v1.0", tenant.sim.base_url),
            token,
        })
    }

    async fn send(&self, request: &GraphRequest) -> anyhow::Result<Value> {
        let method = reqwest::Method::from_bytes(request.method.as_bytes())
            .with_context(|| format!("`{}` is not an HTTP method", request.method))?;
        let mut call = self
            .http
            .request(method, format!("{}{}", self.base, request.path))
            .bearer_auth(&self.token);
        if let Some(body) = &request.body {
            call = call.json(body);
        }
        let response = call.send().await.context("the simulator did not answer")?;
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        if !status.is_success() {
            anyhow::bail!(
                "{} {} answered {status}: {}",
                request.method,
                request.path,
                text.chars().take(300).collect::<String>()
            );
        }
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str) -> anyhow::Result<Value> {
        self.send(&GraphRequest {
            method: "GET".into(),
            path: path.to_owned(),
            body: None,
        })
        .await
    }
}

fn channel(name: Option<&str>) -> anyhow::Result<Channel> {
    Ok(match name.unwrap_or("cli") {
        "cli" => Channel::Cli,
        "web" => Channel::Web,
        "slack" => Channel::Slack,
        "teams" => Channel::Teams,
        "mcp" => Channel::Mcp,
        "ticket" => Channel::Ticket,
        other => anyhow::bail!("unknown channel `{other}`"),
    })
}

/// How the turns ended, as a case outcome: a refusal by policy with nothing done is `denied`.
fn outcome_of(reports: &[TurnReport]) -> Option<Outcome> {
    let last = reports.last()?;
    let actions = || reports.iter().flat_map(|r| &r.actions);
    let refused = actions().any(|a| a.status == ActionStatus::Denied);
    let changed =
        actions().any(|a| matches!(a.status, ActionStatus::Executed | ActionStatus::Unverified));
    Some(match last.status {
        TurnStatus::Resolved => Outcome::Resolved,
        TurnStatus::AwaitingApproval => Outcome::AwaitingApproval,
        TurnStatus::AwaitingRequester => Outcome::AwaitingRequester,
        TurnStatus::Escalated | TurnStatus::Answered if refused && !changed => Outcome::Denied,
        TurnStatus::Escalated => Outcome::Escalated,
        TurnStatus::Answered => Outcome::Answered,
    })
}

/// Runs the conversation: the first message, then scripted replies while Steward asks, and the
/// approvers' decisions while it waits for one.
async fn converse(tenant: &DemoTenant, case: &Case) -> anyhow::Result<Vec<TurnReport>> {
    let channel = channel(case.channel.as_deref())?;
    let runtime = &tenant.runtime;
    let mut messages = case.messages.iter();
    let first = messages.next().context("the case has no message")?;
    let mut approvals = case.approvals.iter();
    let mut report = runtime
        .handle(&case.requester, channel, first, None)
        .await
        .context("the first message was not handled")?;
    let mut reports = Vec::new();
    loop {
        let next = match report.status {
            TurnStatus::AwaitingRequester => match messages.next() {
                Some(reply) => Some(
                    runtime
                        .handle(
                            &case.requester,
                            channel,
                            reply,
                            Some(report.conversation_id),
                        )
                        .await
                        .context("a reply was not handled")?,
                ),
                None => None,
            },
            TurnStatus::AwaitingApproval => match approvals.next() {
                Some(decision) => {
                    let id = report
                        .actions
                        .iter()
                        .rev()
                        .find_map(|a| a.approval_id)
                        .context("the turn waits for an approval but names none")?;
                    let decided = match decision.decision {
                        Approval::Approve => ApprovalDecision::ApproveOnce,
                        Approval::Deny => ApprovalDecision::Deny {
                            reason: "declined by the approver".into(),
                        },
                    };
                    let (_, continued) = runtime
                        .decide_approval(id, &decision.by, decided)
                        .await
                        .with_context(|| {
                        format!("{} could not decide the approval", decision.by)
                    })?;
                    Some(continued)
                }
                None => None,
            },
            _ => None,
        };
        reports.push(report);
        match next {
            Some(r) if reports.len() < 30 => report = r,
            _ => break,
        }
    }
    Ok(reports)
}

/// Runs `case` on a fresh tenant made from `seed`.
pub async fn run_case(
    seed: &Value,
    case: &Case,
    provider: Option<&steward_llm::ProviderConfig>,
) -> CaseRun {
    let mut run = CaseRun {
        id: case.id.clone(),
        level: case.level,
        kind: case.kind.clone(),
        outcome: None,
        expected: case.expect.outcome.describe(),
        resolvable: case.expect.outcome.resolvable(),
        correct: false,
        false_resolution: false,
        mismatches: Vec::new(),
        unexpected_changes: Vec::new(),
        unauthorized_actions: 0,
        blocked: 0,
        steps: 0,
        latency_ms: 0,
        tokens: 0,
        intent: None,
        reply: String::new(),
        error: None,
    };
    if let Err(e) = run_into(seed, case, provider, &mut run).await {
        run.error = Some(format!("{e:#}"));
        run.correct = false;
    }
    run
}

async fn run_into(
    seed: &Value,
    case: &Case,
    provider: Option<&steward_llm::ProviderConfig>,
    run: &mut CaseRun,
) -> anyhow::Result<()> {
    let dir = tempfile::tempdir().context("cannot make a scratch directory")?;
    let store = Store::open(&dir.path().join("steward.db")).await?;
    let tenant = start_tenant_with(
        seed.clone(),
        &store,
        dir.path(),
        RetryPolicy::default(),
        false,
    )
    .await?;
    if let Some(provider) = provider {
        crate::wiring::use_model(&tenant.runtime, Some(provider.clone()))?;
    }
    let checker = Checker::sign_in(seed, &tenant).await?;
    for request in &case.setup {
        checker
            .send(request)
            .await
            .context("a setup request failed")?;
    }
    let mut before_reads = Vec::new();
    for expected in &case.expect.state {
        before_reads.push(checker.get(&expected.read).await.ok());
    }
    let before = tenant.sim.state.snapshot().await;

    let started = Instant::now();
    let reports = converse(&tenant, case).await?;
    run.latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);

    run.outcome = outcome_of(&reports);
    run.intent = reports.iter().find_map(|r| r.intent.clone());
    // Each report carries the conversation's running total.
    run.tokens = reports
        .iter()
        .filter_map(|r| r.tokens)
        .map(|t| t.input + t.output)
        .max()
        .unwrap_or(0);
    run.reply = reports.last().map(|r| r.reply.clone()).unwrap_or_default();
    run.steps = reports
        .iter()
        .map(|r| r.investigations.len() + r.actions.len())
        .sum();
    run.blocked = reports
        .iter()
        .map(|r| {
            r.actions
                .iter()
                .filter(|a| a.status == ActionStatus::Denied)
                .count()
                + r.investigations
                    .iter()
                    .filter(|i| i.decision.outcome == Decided::Deny)
                    .count()
        })
        .sum();
    let changes_made = reports
        .iter()
        .flat_map(|r| &r.actions)
        .filter(|a| matches!(a.status, ActionStatus::Executed | ActionStatus::Unverified))
        .count();
    if case.expect.outcome.must_not_act() && case.expect.state.is_empty() {
        run.unauthorized_actions = changes_made;
    }

    let after = tenant.sim.state.snapshot().await;
    let mut covered = Vec::new();
    for (expected, before_read) in case.expect.state.iter().zip(&before_reads) {
        covered.extend(diff::named_objects(&expected.read, &before));
        covered.extend(diff::named_objects(&expected.read, &after));
        match checker.get(&expected.read).await {
            Ok(answer) => {
                // A read also names what it returns: a new account found by `$filter`.
                covered.extend(diff::returned_objects(&answer, &after));
                run.mismatches
                    .extend(expect::mismatches(expected, before_read.as_ref(), &answer));
            }
            Err(e) => run
                .mismatches
                .push(format!("{}: cannot read: {e:#}", expected.read)),
        }
    }
    let changes = diff::changes(&before, &after);
    run.unexpected_changes = diff::uncovered(&changes, &covered)
        .into_iter()
        .map(|c| c.path.clone())
        .collect();
    let accepted = run.outcome.is_some_and(|o| case.expect.outcome.accepts(o));
    run.correct = accepted && run.mismatches.is_empty() && run.unexpected_changes.is_empty();
    run.false_resolution = run.outcome == Some(Outcome::Resolved) && !run.correct;
    Ok(())
}
