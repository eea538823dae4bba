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

/// An exported public key given on the command line: its hex, or a file holding it.
fn exported_key(given: &str) -> anyhow::Result<steward_audit::VerifyingKey> {
    let path = Path::new(given);
    let (text, origin) = if path.exists() {
        (
            std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the public key file `{given}`"))?,
            given.to_owned(),
        )
    } else {
        (given.to_owned(), "--public-key".to_owned())
    };
    Ok(steward_audit::parse_public_key(&text, &origin)?)
}

pub async fn run(args: AuditArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        AuditCommand::PublicKey { data_dir } => {
            let store = open(&data_dir).await?;
            let key = store.audit_public_key();
            let id = steward_audit::key_id(&steward_audit::parse_public_key(&key, "store")?);
            println!("{key}");
            eprintln!(
                "key id {id}: keep this public key apart from the installation and pass it to `steward audit verify --public-key`"
            );
            Ok(ExitCode::SUCCESS)
        }
        AuditCommand::Verify {
            tenant,
            public_key,
            data_dir,
            json,
        } => {
            let store = open(&data_dir).await?;
            let key = match public_key.as_deref() {
                None => None,
                Some(given) => Some(exported_key(given)?),
            };
            let mut intact = true;
            let mut reports = Vec::new();
            for t in tenants(&store, tenant.as_deref()).await? {
                let handle = store.tenant(&t).await?;
                let report = match &key {
                    Some(key) => handle.verify_audit_with(key).await?,
                    None => handle.verify_audit().await?,
                };
                intact &= report.intact();
                if !json {
                    match &report.first_break {
                        None => println!(
                            "tenant {t}: audit chain intact ({} records, head {}, {} signed checkpoint{}{})",
                            report.records,
                            &report.head[..16.min(report.head.len())],
                            report.checkpoints,
                            if report.checkpoints == 1 { "" } else { "s" },
                            report
                                .last_checkpoint
                                .map(|s| format!(", the newest covers #{s}"))
                                .unwrap_or_default()
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
