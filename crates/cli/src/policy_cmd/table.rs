//! `steward policy test FILE`: a table of hypothetical requests and the outcomes expected of the
//! policy set, like `cedar run-tests`. Any mismatch makes the command fail.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use serde::Deserialize;
use steward_domain::Outcome;

use super::PolicyContext;
use super::hypothetical::Hypothetical;
use crate::cli::ExplainTarget;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Table {
    #[serde(rename = "case")]
    cases: Vec<Case>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    action: String,
    #[serde(default)]
    it_admin: bool,
    #[serde(default = "requester")]
    target: String,
    department: Option<String>,
    #[serde(default = "cli")]
    channel: String,
    #[serde(default)]
    approved: bool,
    #[serde(default = "one")]
    blast_radius: i64,
    #[serde(default = "one")]
    recent_count: i64,
    #[serde(default = "noon")]
    local_hour: i64,
    expect: String,
    /// If given, exactly these policy ids must decide.
    deciding: Option<Vec<String>>,
}

fn requester() -> String {
    "requester".into()
}
fn cli() -> String {
    "cli".into()
}
fn one() -> i64 {
    1
}
fn noon() -> i64 {
    12
}

fn target(name: &str) -> anyhow::Result<ExplainTarget> {
    Ok(match name {
        "requester" => ExplainTarget::Requester,
        "other" => ExplainTarget::Other,
        "privileged" => ExplainTarget::Privileged,
        "protected" => ExplainTarget::Protected,
        "group" => ExplainTarget::Group,
        "tenant" => ExplainTarget::Tenant,
        "own-device" => ExplainTarget::OwnDevice,
        "device" => ExplainTarget::Device,
        other => anyhow::bail!(
            "unknown target `{other}` (requester, other, privileged, protected, group, tenant, own-device, device)"
        ),
    })
}

fn outcome(name: &str) -> anyhow::Result<Outcome> {
    Ok(match name {
        "auto" => Outcome::Auto,
        "ask" => Outcome::Ask,
        "deny" => Outcome::Deny,
        other => anyhow::bail!("unknown outcome `{other}` (auto, ask, deny)"),
    })
}

/// Runs every case of `file` against the policy set; exit 1 on any mismatch.
pub fn run(
    ctx: &PolicyContext,
    file: &Path,
    policy_dir: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("cannot read `{}`", file.display()))?;
    let table: Table = toml::from_str(&text)
        .with_context(|| format!("`{}` is not a policy test table", file.display()))?;
    let (engine, _) = ctx.engine(policy_dir)?;
    let catalog = ctx.catalog();
    let mut failed = 0;
    for case in &table.cases {
        let expected = outcome(&case.expect).with_context(|| format!("case `{}`", case.name))?;
        let h = Hypothetical {
            action: case.action.clone(),
            it_admin: case.it_admin,
            target: target(&case.target)
                .with_context(|| format!("case `{}`", case.name))?
                .into(),
            department: case.department.clone(),
            channel: case.channel.clone(),
            approved: case.approved,
            blast_radius: case.blast_radius,
            recent_count: case.recent_count,
            local_hour: case.local_hour,
        };
        let (_, decision) = h
            .decide(&engine, catalog)
            .with_context(|| format!("case `{}`", case.name))?;
        let mut ids: Vec<String> = decision.deciding.iter().map(|p| p.id.clone()).collect();
        ids.sort();
        let ids_ok = case.deciding.as_ref().is_none_or(|want| {
            let mut want = want.clone();
            want.sort();
            want == ids
        });
        if decision.outcome == expected && ids_ok {
            println!("ok    {}", case.name);
        } else {
            failed += 1;
            println!(
                "FAIL  {}: expected {expected}{}, got {} by [{}]",
                case.name,
                case.deciding
                    .as_ref()
                    .map(|d| format!(" by [{}]", d.join(", ")))
                    .unwrap_or_default(),
                decision.outcome,
                ids.join(", ")
            );
        }
    }
    println!("{} cases, {failed} failed", table.cases.len());
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
