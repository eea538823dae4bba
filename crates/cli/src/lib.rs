//! The `steward` program as a library: argument parsing, wiring a tenant (simulator or real
//! Graph, store, policies, agent) and rendering results. `main.rs` only calls [`run`]; tests call
//! the wiring directly.

mod actions_cmd;
mod approvals_cmd;
mod ask;
mod audit_cmd;
mod audit_webhook;
mod bench;
mod bench_audit;
pub mod cli;
mod config;
mod connect;
mod database;
pub mod demo;
mod escalations_cmd;
pub mod eval;
pub mod google_wiring;
pub mod grant;
mod integrations_cmd;
pub mod okta_wiring;
mod playbook_cmd;
mod policy_cmd;
pub mod render;
mod serve;
pub mod wiring;

/// Runs one command.
pub async fn run(args: cli::Cli) -> anyhow::Result<std::process::ExitCode> {
    use cli::Command;
    match args.command {
        Command::Demo(a) => demo::run(a).await,
        Command::Serve(a) => serve::run(a).await,
        Command::Connect(a) => connect::run(a).await,
        Command::Actions(a) => actions_cmd::run(a),
        Command::Ask(a) => ask::run(a).await,
        Command::Playbook(a) => playbook_cmd::run(a).await,
        Command::Audit(a) => audit_cmd::run(a).await,
        Command::Policy(a) => policy_cmd::run(a).await,
        Command::Approvals(a) => approvals_cmd::run(a).await,
        Command::Escalations(a) => escalations_cmd::run(a).await,
        Command::Integrations(a) => integrations_cmd::run(a).await,
        Command::Bench(a) => bench::run(a).await,
        Command::Eval(a) => eval::run(a).await,
    }
}
