//! `steward`: a thin shell over `steward_cli`.

use clap::Parser;

/// mimalloc instead of the system allocator: a policy decision makes many small short-lived
/// allocations (entities, context, Cedar's values), and glibc's allocator, once a large policy
/// set has been loaded, spends more time finding and coalescing free chunks than Steward spends
/// deciding (`steward bench policy` shows the difference).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = steward_cli::cli::Cli::parse();
    // The benchmark reports every failure in its figures; its hundreds of tenants' warnings
    // would only bury the progress bar.
    let default = match args.command {
        steward_cli::cli::Command::Eval(_) => "error",
        _ => "warn",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("STEWARD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    match steward_cli::run(args).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}
