//! `steward playbook onboard|offboard`: through a running Steward, or in-process against a
//! seeded simulator (like `steward ask`).

use std::process::ExitCode;

use anyhow::Context as _;
use serde_json::{Value, json};
use steward_agent::playbooks::{Offboarding, Onboarding, PlaybookReport};
use steward_connectors::msgraph::RetryPolicy;
use steward_domain::Channel;
use steward_store::Store;

use crate::ask::{post, running_server};
use crate::cli::{PlaybookArgs, PlaybookCommand, PlaybookRunner};
use crate::demo::{read_seed, start_tenant};

/// The playbook to run, as the API takes it.
enum Plan {
    Onboard(Onboarding),
    Offboard(Offboarding),
}

impl Plan {
    fn path(&self) -> &'static str {
        match self {
            Self::Onboard(_) => "onboard",
            Self::Offboard(_) => "offboard",
        }
    }

    fn body(&self, requester: &str) -> anyhow::Result<Value> {
        let mut body = match self {
            Self::Onboard(p) => serde_json::to_value(p)?,
            Self::Offboard(p) => serde_json::to_value(p)?,
        };
        body["as"] = json!(requester);
        body["channel"] = json!("cli");
        Ok(body)
    }
}

pub async fn run(args: PlaybookArgs) -> anyhow::Result<ExitCode> {
    let (runner, plan) = match args.command {
        PlaybookCommand::Onboard {
            runner,
            name,
            upn,
            department,
            job_title,
            usage_location,
            manager,
            groups,
            licences,
        } => (
            runner,
            Plan::Onboard(Onboarding {
                display_name: name,
                user_principal_name: upn,
                department,
                job_title,
                usage_location,
                manager,
                groups,
                licences,
            }),
        ),
        PlaybookCommand::Offboard {
            runner,
            user,
            auto_reply,
        } => (runner, Plan::Offboard(Offboarding { user, auto_reply })),
    };
    let report = run_plan(&runner, &plan).await?;
    if runner.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.render());
    }
    Ok(if report.complete() {
        ExitCode::SUCCESS
    } else {
        // Some step is not done: the caller's script must not take it as finished.
        ExitCode::from(3)
    })
}

async fn run_plan(runner: &PlaybookRunner, plan: &Plan) -> anyhow::Result<PlaybookReport> {
    let server = if runner.seed.is_some() {
        None
    } else {
        running_server(runner.server.as_deref(), &runner.data_dir).await?
    };
    if let Some(url) = server {
        let answer = post(
            &format!("{url}/api/v1/playbooks/{}", plan.path()),
            &plan.body(&runner.requester)?,
        )
        .await?;
        return serde_json::from_value(answer).context("unexpected answer from Steward");
    }
    eprintln!(
        "(no running Steward found; running one in-process against a fresh simulated tenant — its changes last only for this command)"
    );
    let seed = read_seed(runner.seed.as_deref())?;
    std::fs::create_dir_all(&runner.data_dir)?;
    let store = Store::open(&runner.data_dir.join("steward.db")).await?;
    let tenant = start_tenant(seed, &store, &runner.data_dir, RetryPolicy::default()).await?;
    let report = match plan {
        Plan::Onboard(p) => {
            tenant
                .runtime
                .onboard(&runner.requester, Channel::Cli, p)
                .await?
        }
        Plan::Offboard(p) => {
            tenant
                .runtime
                .offboard(&runner.requester, Channel::Cli, p)
                .await?
        }
    };
    // This process ends here: sign the records it wrote.
    store.sign_pending_checkpoints().await?;
    Ok(report)
}
