//! `steward audit`: operator tools over the store (the one place that reads across tenants).

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use steward_domain::TenantId;
use steward_store::Store;

use crate::cli::{AuditArgs, AuditCommand};

async fn open(data_dir: &Path) -> anyhow::Result<Store> {
    let path = data_dir.join("steward.db");
    if !path.exists() {
        anyhow::bail!(
            "no Steward database at `{}` (run `steward demo` first, or pass --data-dir)",
            path.display()
        );
    }
    Store::open(&path).await.context("cannot open the database")
}

async fn tenants(store: &Store, only: Option<&str>) -> anyhow::Result<Vec<TenantId>> {
    match only {
        Some(t) => Ok(vec![TenantId::new(t)?]),
        None => Ok(store.tenants().await?),
    }
}

pub async fn run(args: AuditArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        AuditCommand::Verify {
            tenant,
            data_dir,
            json,
        } => {
            let store = open(&data_dir).await?;
            let mut intact = true;
            let mut reports = Vec::new();
            for t in tenants(&store, tenant.as_deref()).await? {
                let report = store.tenant(&t).await?.verify_audit().await?;
                intact &= report.intact();
                if !json {
                    match &report.first_break {
                        None => println!(
                            "tenant {t}: audit chain intact ({} records, head {})",
                            report.records,
                            &report.head[..16.min(report.head.len())]
                        ),
                        Some(b) => println!(
                            "tenant {t}: audit chain BROKEN at record #{}: {}",
                            b.seq, b.reason
                        ),
                    }
                }
                reports.push(report);
            }
            if json {
                println!("{}", serde_json::to_string_pretty(&reports)?);
            }
            Ok(if intact {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        AuditCommand::Show {
            tenant,
            conversation,
            data_dir,
        } => {
            let store = open(&data_dir).await?;
            for t in tenants(&store, tenant.as_deref()).await? {
                for r in store
                    .tenant(&t)
                    .await?
                    .audit_records(conversation.as_deref())
                    .await?
                {
                    println!("{}", serde_json::to_string(&r)?);
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
