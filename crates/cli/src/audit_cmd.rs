//! `steward audit`: operator tools over the store (the one place that reads across tenants).

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use steward_domain::TenantId;
use steward_store::Store;

use steward_audit::{ExportFormat, export_line};

use crate::cli::{AuditArgs, AuditCommand, ExportFormatArg};

async fn open(database: Option<&str>, data_dir: &Path) -> anyhow::Result<Store> {
    crate::database::open_existing(database, data_dir).await
}

async fn tenants(store: &Store, only: Option<&str>) -> anyhow::Result<Vec<TenantId>> {
    match only {
        Some(t) => Ok(vec![TenantId::new(t)?]),
        None => Ok(store.tenants().await?),
    }
}

/// Records per page read while exporting.
const EXPORT_PAGE: i64 = 5_000;

/// Prints every tenant's records in range, then (following) new ones as they are written.
async fn export(
    tenants: &[steward_store::TenantStore],
    format: ExportFormat,
    since: Option<chrono::DateTime<chrono::Utc>>,
    until: Option<chrono::DateTime<chrono::Utc>>,
    follow: bool,
) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut last: Vec<i64> = vec![0; tenants.len()];
    let stop = tokio::signal::ctrl_c();
    tokio::pin!(stop);
    loop {
        let mut out = std::io::stdout().lock();
        for (t, after) in tenants.iter().zip(last.iter_mut()) {
            loop {
                let page = t
                    .audit_records_after(*after, since, until, EXPORT_PAGE)
                    .await?;
                for r in &page {
                    writeln!(out, "{}", export_line(r, format))?;
                }
                match page.last() {
                    Some(r) => *after = r.seq,
                    None => break,
                }
                if (page.len() as i64) < EXPORT_PAGE {
                    break;
                }
            }
        }
        out.flush()?;
        drop(out);
        if !follow {
            return Ok(());
        }
        tokio::select! {
            _ = &mut stop => return Ok(()),
            _ = tokio::time::sleep(std::time::Duration::from_millis(500)) => {}
        }
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
        AuditCommand::Export {
            tenant,
            format,
            since,
            until,
            follow,
            webhook,
            sink_name,
            data_dir,
            database,
        } => {
            let store = open(database.as_deref(), &data_dir).await?;
            let format = match format {
                ExportFormatArg::Jsonl => ExportFormat::JsonLines,
                ExportFormatArg::Ocsf => ExportFormat::Ocsf,
            };
            let handles = {
                let mut out = Vec::new();
                for t in tenants(&store, tenant.as_deref()).await? {
                    out.push(store.tenant(&t).await?);
                }
                out
            };
            match webhook {
                None => export(&handles, format, since, until, follow).await?,
                Some(url) => {
                    let webhook = crate::audit_webhook::Webhook {
                        sink: sink_name.unwrap_or_else(|| url.clone()),
                        url,
                        format,
                        follow,
                    };
                    let delivered = crate::audit_webhook::deliver(&webhook, &handles).await?;
                    for (t, n) in handles.iter().zip(delivered) {
                        eprintln!(
                            "tenant {}: {n} record(s) delivered to {}",
                            t.tenant(),
                            webhook.url
                        );
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        AuditCommand::PublicKey { data_dir, database } => {
            let store = open(database.as_deref(), &data_dir).await?;
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
            database,
            json,
        } => {
            let store = open(database.as_deref(), &data_dir).await?;
            let key = match public_key.as_deref() {
                None => None,
                Some(given) => Some(exported_key(given)?),
            };
            let mut intact = true;
            let mut reports = Vec::new();
            for t in tenants(&store, tenant.as_deref()).await? {
                let report = store.verify_audit_of(&t, key.as_ref()).await?;
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
            database,
        } => {
            let store = open(database.as_deref(), &data_dir).await?;
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
