//! `steward bench audit`: durable audit appends per second with group commit beside a naive
//! one-commit-per-record writer, in the same run and on the same disk, then the time
//! `audit verify` takes over a long chain.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context as _;
use serde_json::json;
use steward_audit::{AuditEntry, RecordKind};
use steward_domain::TenantId;
use steward_store::{Location, Store, TenantStore};

/// A record of realistic size: an intent with parameters, targets and detail.
fn entry(writer: usize, i: usize) -> AuditEntry {
    let mut e = AuditEntry::new("bench", RecordKind::Intent);
    e.conversation = Some(format!("0193a0c4-0000-7000-8000-{writer:06}{i:06}"));
    e.requester = Some(format!("person{writer}@bench.example"));
    e.actor = Some("admin@bench.example".into());
    e.actor_scopes = vec![
        "User.ReadWrite.All".into(),
        "Directory.AccessAsUser.All".into(),
    ];
    e.channel = Some("slack".into());
    e.action = Some("entra.user.revoke_sessions".into());
    e.params = json!({"user": format!("person{i}@bench.example")});
    e.targets = vec![format!("Person::\"{i:08}-0000-4000-8000-000000000000\"")];
    e.detail =
        json!({"policySetHash": "9f2c4e1a7b3d5f60", "idempotencyKey": format!("{writer}-{i}")});
    e
}

/// Appends `total` records from `writers` concurrent tasks; returns records per second.
async fn appends_per_second(
    tenant: &TenantStore,
    writers: usize,
    total: usize,
    naive: bool,
) -> anyhow::Result<f64> {
    let writers = writers.max(1);
    let each = total.div_ceil(writers);
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(writers);
    for w in 0..writers {
        let t = tenant.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..each {
                if naive {
                    t.append_audit_unbatched(entry(w, i)).await?;
                } else {
                    t.append_audit(entry(w, i)).await?;
                }
            }
            Ok::<_, steward_store::StoreError>(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    Ok((each * writers) as f64 / start.elapsed().as_secs_f64().max(1e-9))
}

/// The database one series of measurements runs on.
enum Target {
    /// SQLite files in this directory.
    Sqlite(std::path::PathBuf),
    /// This PostgreSQL URL (already pointing into the benchmark's schema), keys in `dir`.
    Postgres {
        url: String,
        dir: std::path::PathBuf,
    },
}

impl Target {
    fn describe(&self) -> String {
        match self {
            Target::Sqlite(dir) => format!("SQLite (WAL, synchronous=FULL) in `{}`", dir.display()),
            Target::Postgres { url, .. } => {
                format!("PostgreSQL at {}", Location::parse(url).redacted())
            }
        }
    }

    /// A store with an empty chain for tenant `name`.
    async fn fresh(&self, name: &str) -> anyhow::Result<(Store, TenantStore)> {
        let (location, dir) = match self {
            Target::Sqlite(dir) => {
                let path = dir.join(format!("{name}.db"));
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
                (Location::Sqlite(path), dir.as_path())
            }
            Target::Postgres { url, dir } => (Location::parse(url), dir.as_path()),
        };
        let store = Store::open_at(&location, dir).await.with_context(|| {
            format!(
                "cannot create the benchmark database `{}`",
                location.redacted()
            )
        })?;
        // Each measurement has a chain of its own (PostgreSQL measurements share one schema).
        let tenant = store
            .ensure_tenant(&TenantId::new(format!("bench-{name}"))?, "Bench")
            .await?;
        Ok((store, tenant))
    }
}

/// Appends at each concurrency, group commit beside naive, and prints one row per concurrency.
async fn appends_table(target: &Target, writers: &[usize], appends: usize) -> anyhow::Result<()> {
    println!(
        "durable audit appends on {}, {appends} records per measurement",
        target.describe()
    );
    println!(
        "{:<10}{:>18}{:>18}{:>10}",
        "writers", "group commit/s", "naive/s", "ratio"
    );
    for (n, &w) in writers.iter().enumerate() {
        let (_g, group_tenant) = target.fresh(&format!("group-{n}")).await?;
        let group = appends_per_second(&group_tenant, w, appends, false).await?;
        let (_n, naive_tenant) = target.fresh(&format!("naive-{n}")).await?;
        let naive = appends_per_second(&naive_tenant, w, appends, true).await?;
        for t in [&group_tenant, &naive_tenant] {
            let report = t.verify_audit().await?;
            anyhow::ensure!(report.intact(), "benchmark chain broken: {report:?}");
        }
        println!(
            "{w:<10}{group:>18.0}{naive:>18.0}{:>9.1}x",
            group / naive.max(1e-9)
        );
    }
    Ok(())
}

/// Writes a chain of `records` (256 writers, group commit) and times `audit verify` over it.
async fn verify_figure(target: &Target, verify_records: usize) -> anyhow::Result<()> {
    let (_store, tenant) = target.fresh("verify").await?;
    let seeding = Instant::now();
    let writers = 256;
    let each = verify_records.div_ceil(writers);
    let mut tasks = Vec::with_capacity(writers);
    for w in 0..writers {
        let t = tenant.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..each {
                t.append_audit(entry(w, i)).await?;
                if w == 0 && i % (each / 10).max(1) == 0 && i > 0 {
                    eprintln!("  seeding the chain: {}%", i * 100 / each);
                }
            }
            Ok::<_, steward_store::StoreError>(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    let seeded = seeding.elapsed();
    println!(
        "audit verify on {}: the chain was written in {:.1} s ({:.0} appends/s at 256 writers)",
        target.describe(),
        seeded.as_secs_f64(),
        verify_records as f64 / seeded.as_secs_f64().max(1e-9),
    );
    // Twice: straight after the writing (PostgreSQL still sets each new row's hint bits on its
    // first read) and again, as an auditor's later run finds it.
    for pass in ["first (just written)", "second"] {
        let start = Instant::now();
        let report = tenant.verify_audit().await?;
        let took = start.elapsed();
        anyhow::ensure!(report.intact(), "benchmark chain broken: {report:?}");
        println!(
            "  {pass} verify: {} records and {} signed checkpoints in {:.2} s ({:.0} records/s)",
            report.records,
            report.checkpoints,
            took.as_secs_f64(),
            report.records as f64 / took.as_secs_f64().max(1e-9),
        );
    }
    Ok(())
}

/// Runs the benchmark and prints its figures.
pub async fn run(
    writers: &[usize],
    appends: usize,
    verify_records: usize,
    dir: &Path,
    postgres: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let created = !dir.exists();
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the benchmark directory `{}`", dir.display()))?;
    let sqlite = Target::Sqlite(dir.to_path_buf());
    appends_table(&sqlite, writers, appends).await?;
    let pg = match postgres {
        Some(base) => {
            let (schema, url) = steward_store::testing::scratch_schema(base, "steward_bench")
                .await
                .context("cannot make the benchmark's PostgreSQL schema")?;
            let target = Target::Postgres {
                url,
                dir: dir.to_path_buf(),
            };
            let measured = appends_table(&target, writers, appends).await;
            Some((base, schema, target, measured))
        }
        None => {
            println!(
                "(PostgreSQL: pass --postgres URL, e.g. postgres://postgres@127.0.0.1:5432/test, for its rows)"
            );
            None
        }
    };
    let mut outcome = Ok(());
    if verify_records > 0 {
        outcome = verify_figure(&sqlite, verify_records).await;
    }
    if let Some((base, schema, target, measured)) = pg {
        outcome = outcome.and(measured);
        if verify_records > 0 && outcome.is_ok() {
            outcome = verify_figure(&target, verify_records).await;
        }
        if let Err(e) = steward_store::testing::drop_schema(base, &schema).await {
            eprintln!("could not drop the benchmark schema `{schema}`: {e:#}");
        }
    }
    if created {
        let _ = std::fs::remove_dir_all(dir);
    } else {
        for entry in std::fs::read_dir(dir)?.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.contains(".db") || name == "audit-signing.key" || name == "master.key" {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
    outcome?;
    if cfg!(debug_assertions) {
        println!("(debug build: run `cargo run --release -- bench audit` for meaningful figures)");
    }
    Ok(ExitCode::SUCCESS)
}
