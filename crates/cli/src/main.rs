//! `steward`: the command-line program. A thin shell over the libraries: it parses arguments,
//! wires a tenant (simulator or real Graph, store, policies, agent) and prints results.

mod approvals_cmd;
mod ask;
mod audit_cmd;
mod cli;
mod config;
mod demo;
mod policy_cmd;
mod render;
mod serve;
mod wiring;

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = cli::Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_env("STEWARD_LOG").unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
    match run(args).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}

async fn run(args: cli::Cli) -> anyhow::Result<std::process::ExitCode> {
    use cli::Command;
    match args.command {
        Command::Demo(a) => demo::run(a).await,
        Command::Serve(a) => serve::run(a).await,
        Command::Ask(a) => ask::run(a).await,
        Command::Audit(a) => audit_cmd::run(a).await,
        Command::Policy(a) => policy_cmd::run(a),
        Command::Approvals(a) => approvals_cmd::run(a).await,
    }
}
