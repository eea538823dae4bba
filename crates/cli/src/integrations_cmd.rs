//! `steward integrations`: import an API description as a new integration (disabled, with the
//! policies Steward proposes), list and show them, and accept the policies — which enables it.

use std::io::Read as _;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use serde_json::json;
use steward_agent::integrations::{self, GivenSecret, Imported};
use steward_openapi::{AuthScheme, Integration};
use steward_store::{Store, TenantStore};

use crate::cli::{IntegrationsArgs, IntegrationsCommand};
use crate::wiring::policy_sources;

fn read_spec(spec: &Path) -> anyhow::Result<String> {
    if spec == Path::new("-") {
        let mut text = String::new();
        std::io::stdin()
            .take(u64::try_from(steward_openapi::MAX_DOCUMENT_BYTES).unwrap_or(u64::MAX) + 1)
            .read_to_string(&mut text)
            .context("cannot read the document from standard input")?;
        return Ok(text);
    }
    let size = std::fs::metadata(spec)
        .with_context(|| format!("cannot read `{}`", spec.display()))?
        .len();
    if size > u64::try_from(steward_openapi::MAX_DOCUMENT_BYTES).unwrap_or(u64::MAX) {
        bail!(
            "`{}` is {size} bytes; the importer reads at most {}",
            spec.display(),
            steward_openapi::MAX_DOCUMENT_BYTES
        );
    }
    std::fs::read_to_string(spec)
        .with_context(|| format!("cannot read `{}` as text", spec.display()))
}

/// One line per action, for people.
fn render(integration: &Integration) -> String {
    let mut out = format!(
        "{} — {} ({}), {} actions, calls go to {}\n",
        integration.name,
        integration.title,
        integration.spec_version.label(),
        integration.operations.len(),
        integration
            .base_url
            .as_deref()
            .unwrap_or("(no base URL: give --base-url)")
    );
    for op in &integration.operations {
        out.push_str(&format!(
            "  {:<60} {:<6} {:<45} {} {}\n",
            op.spec.name.as_str(),
            op.method,
            op.path,
            if op.spec.mutating { "change" } else { "read" },
            op.spec.risk.as_str()
        ));
    }
    for s in &integration.skipped {
        out.push_str(&format!("  left out: {} ({})\n", s.operation, s.reason));
    }
    for scheme in &integration.auth {
        let what = match scheme {
            AuthScheme::ApiKey { param, place, .. } => format!("API key in {place:?} `{param}`"),
            AuthScheme::Bearer { .. } => "bearer token".into(),
            AuthScheme::Basic { .. } => "basic (user:password)".into(),
            AuthScheme::OAuth2Code { token_url, .. } => {
                format!("OAuth 2.0 authorization code (token endpoint {token_url})")
            }
            AuthScheme::Unsupported { what, .. } => format!("not usable: {what}"),
        };
        out.push_str(&format!("  authentication `{}`: {what}\n", scheme.scheme()));
    }
    out
}

/// The tenant the command works on: `--tenant`, or the only one.
pub(crate) async fn tenant_of(store: &Store, asked: Option<&str>) -> anyhow::Result<TenantStore> {
    let tenants = store.tenants().await?;
    let id = match asked {
        Some(a) => tenants
            .into_iter()
            .find(|t| t.as_str() == a)
            .with_context(|| format!("no tenant `{a}` in this store"))?,
        None => match tenants.as_slice() {
            [only] => only.clone(),
            [] => {
                bail!("the store has no tenant yet (run `steward demo` or `steward serve` first)")
            }
            _ => bail!("the store has several tenants: name one with --tenant"),
        },
    };
    Ok(store.tenant(&id).await?)
}

/// Runs a `steward integrations` command.
pub async fn run(args: IntegrationsArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        IntegrationsCommand::Import {
            spec,
            name,
            base_url,
            dry_run,
            by,
            secret_env,
            scheme,
            json,
        } => {
            let text = read_spec(&spec)?;
            let secret = match &secret_env {
                Some(var) => Some(GivenSecret {
                    value: std::env::var(var)
                        .with_context(|| format!("the environment variable `{var}` is not set"))?,
                    scheme: scheme.clone(),
                }),
                None => None,
            };
            if dry_run {
                let imported = integrations::preview(&text, &name, base_url.as_deref())
                    .with_context(|| format!("`{}` cannot be imported", spec.display()))?;
                if json {
                    println!(
                        "{}",
                        serde_json::to_string_pretty(
                            &json!({"integration": imported.integration, "proposedPolicy": imported.policy})
                        )?
                    );
                } else {
                    print!("{}", render(&imported.integration));
                    println!("dry run: nothing was saved");
                }
                return Ok(ExitCode::SUCCESS);
            }
            let by =
                by.context("say who imports it with --as UPN (recorded with the integration)")?;
            let store =
                crate::database::open_existing(args.database.as_deref(), &args.data_dir).await?;
            let tenant = tenant_of(&store, args.tenant.as_deref()).await?;
            let given = secret.is_some();
            let Imported {
                integration,
                policy,
            } = integrations::import(&tenant, &text, &name, base_url.as_deref(), &by, secret)
                .await
                .with_context(|| format!("`{}` cannot be imported", spec.display()))?;
            print!("{}", render(&integration));
            println!("\nsaved DISABLED. Steward proposes these policies:\n\n{policy}");
            println!(
                "review them (`steward integrations show {name}`), then enable the integration with\n  steward integrations accept {name} --as <your sign-in name> --policy-dir <the tenant's policy directory>\nor in the web console's Integrations section"
            );
            if !given {
                println!(
                    "no secret was given (--secret-env): calls will go without authentication"
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        IntegrationsCommand::List => {
            let store =
                crate::database::open_existing(args.database.as_deref(), &args.data_dir).await?;
            let tenant = tenant_of(&store, args.tenant.as_deref()).await?;
            let rows = tenant.integrations().await?;
            if rows.is_empty() {
                println!("no integrations imported");
            }
            for row in rows {
                let count = row.definition["operations"].as_array().map_or(0, Vec::len);
                println!(
                    "{}  [{}] {count} actions, imported by {} at {}{}",
                    row.name,
                    row.status,
                    row.imported.0,
                    row.imported.1,
                    row.accepted
                        .map(|(by, at)| format!(", accepted by {by} at {at}"))
                        .unwrap_or_default()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        IntegrationsCommand::Show { name } => {
            let store =
                crate::database::open_existing(args.database.as_deref(), &args.data_dir).await?;
            let tenant = tenant_of(&store, args.tenant.as_deref()).await?;
            let row = tenant.integration(&name).await?;
            let integration: Integration = serde_json::from_value(row.definition)
                .context("the stored integration is unreadable")?;
            print!("{}", render(&integration));
            println!("status: {}\n\npolicies:\n{}", row.status, row.policy);
            Ok(ExitCode::SUCCESS)
        }
        IntegrationsCommand::Accept {
            name,
            by,
            policy_dir,
        } => {
            let store =
                crate::database::open_existing(args.database.as_deref(), &args.data_dir).await?;
            let tenant = tenant_of(&store, args.tenant.as_deref()).await?;
            let sources = match &policy_dir {
                Some(dir) if !dir.is_dir() => bail!("`{}` is not a directory", dir.display()),
                dir => policy_sources(dir.as_deref())?,
            };
            integrations::accept(
                &tenant,
                &name,
                &by,
                steward_connectors::builtin_catalog(),
                &sources,
            )
            .await?;
            println!(
                "integration {name} enabled by {by}; its policies are kept with it in the store, and a running Steward puts both in force within seconds"
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}
