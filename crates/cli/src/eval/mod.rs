//! `steward eval`: runs a case set on fresh simulated tenants and reports how many requests were
//! handled correctly, judged by each tenant's end state rather than by Steward's own account.

pub mod case;
pub mod diff;
pub mod expect;
pub mod report;
pub mod run;

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};
use tokio::sync::Semaphore;

use crate::cli::{EvalArgs, EvalReasoner};
use case::load_cases;
use report::Report;
use run::{CaseRun, run_case};

/// Runs `steward eval`.
pub async fn run(args: EvalArgs) -> anyhow::Result<ExitCode> {
    let seed = steward_sim::load_seed(&args.seed)
        .with_context(|| format!("the seed `{}` is not usable", args.seed.display()))?;
    let mut cases = load_cases(&args.cases)?;
    if !args.case.is_empty() {
        cases.retain(|c| {
            args.case
                .iter()
                .any(|wanted| c.id.starts_with(wanted.as_str()))
        });
        if cases.is_empty() {
            anyhow::bail!("no case id starts with any of {:?}", args.case);
        }
    }
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, std::num::NonZero::get));
    let progress = ProgressBar::new(u64::try_from(cases.len()).unwrap_or(u64::MAX));
    progress.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} cases  {elapsed}  {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let provider = match args.reasoner {
        EvalReasoner::Builtin => None,
        EvalReasoner::Llm => {
            let path = args
                .provider
                .as_deref()
                .context("`--reasoner llm` needs `--provider FILE`")?;
            let provider = crate::wiring::load_provider(path)?;
            // Checked once here, so a missing key stops the run instead of failing every case.
            steward_llm::ModelClient::new(provider.clone())?;
            Some(provider)
        }
    };
    let reasoner_name = provider
        .as_ref()
        .map_or_else(|| "builtin".to_owned(), |p| format!("llm:{}", p.name));
    let provider = Arc::new(provider);
    let seed = Arc::new(seed);
    let limit = Arc::new(Semaphore::new(jobs.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for (index, case) in cases.into_iter().enumerate() {
        let (seed, limit, progress) = (seed.clone(), limit.clone(), progress.clone());
        let provider = provider.clone();
        tasks.spawn(async move {
            let _permit = limit.acquire_owned().await;
            let run = run_case(&seed, &case, provider.as_ref().as_ref()).await;
            progress.set_message(case.id.clone());
            progress.inc(1);
            (index, run)
        });
    }
    let mut runs: Vec<(usize, CaseRun)> = Vec::new();
    while let Some(done) = tasks.join_next().await {
        runs.push(done.context("a case's task failed")?);
    }
    progress.finish_and_clear();
    runs.sort_by_key(|(i, _)| *i);
    let report = Report::new(&reasoner_name, runs.into_iter().map(|(_, r)| r).collect());
    print!("{}", report.render());
    let failures = report.render_failures();
    if !failures.is_empty() && !args.quiet {
        println!("\nFailed cases:\n{failures}");
    }
    if let Some(path) = &args.report {
        std::fs::write(path, serde_json::to_vec_pretty(&report)?)
            .with_context(|| format!("cannot write the report `{}`", path.display()))?;
        eprintln!("report written to {}", path.display());
    }
    if let Some(min) = args.min_rate
        && report.correct_rate < min
    {
        eprintln!(
            "correct rate {:.1}% is below --min-rate {:.1}%",
            report.correct_rate * 100.0,
            min * 100.0
        );
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}
