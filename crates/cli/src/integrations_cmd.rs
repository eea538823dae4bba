//! `steward integrations`: import an API description as a new integration (disabled, with the
//! policies Steward proposes), list and show them, and accept the policies — which enables it.

use std::io::Read as _;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use serde_json::json;
use steward_openapi::{AuthScheme, Integration, policy_file_name, proposed_policy};
use steward_policy::{PolicyEngine, PolicySource};
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
async fn tenant_of(store: &Store, asked: Option<&str>) -> anyhow::Result<TenantStore> {
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

/// The scheme a secret is for: the one asked for, else the first static one (API key, bearer,
/// basic) the operations accept. An OAuth 2.0 scheme is used only when named: its token comes
/// from a person's sign-in, not from a secret pasted once.
fn pick_scheme(integration: &Integration, asked: Option<&str>) -> anyhow::Result<AuthScheme> {
    if let Some(name) = asked {
        let scheme = integration
            .auth
            .iter()
            .find(|s| s.scheme() == name)
            .with_context(|| format!("the document defines no security scheme `{name}`"))?;
        if let AuthScheme::Unsupported { what, .. } = scheme {
            bail!("the scheme `{name}` is {what}, which Steward cannot use");
        }
        return Ok(scheme.clone());
    }
    let accepted: Vec<&String> = integration
        .operations
        .iter()
        .flat_map(|o| o.security.iter().flatten())
        .collect();
    integration
        .auth
        .iter()
        .filter(|s| matches!(s, AuthScheme::ApiKey { .. } | AuthScheme::Bearer { .. } | AuthScheme::Basic { .. }))
        .find(|s| accepted.is_empty() || accepted.iter().any(|a| a.as_str() == s.scheme()))
        .cloned()
        .context("the document defines no static security scheme (API key, bearer or basic) its operations accept; name the one the secret is for with --scheme")
}

/// Validates `candidate` with every policy already in `dir`, over the Graph catalog, the
/// enabled integrations' actions and the candidate's own.
async fn validate_with_dir(
    tenant: &TenantStore,
    integration: &Integration,
    dir: &Path,
    candidate: &str,
) -> anyhow::Result<()> {
    let mut catalog = steward_connectors::builtin_catalog();
    for row in tenant.integrations().await? {
        if row.status == "enabled" && row.name != integration.name {
            let other: Integration = serde_json::from_value(row.definition)
                .with_context(|| format!("the stored integration `{}` is unreadable", row.name))?;
            catalog.extend(other.actions());
        }
    }
    catalog.extend(integration.actions());
    let mut sources: Vec<PolicySource> = policy_sources(Some(dir))?;
    let file = dir.join(policy_file_name(&integration.name));
    sources.retain(|s| Path::new(&s.origin) != file);
    sources.push(PolicySource {
        origin: file.display().to_string(),
        text: candidate.to_owned(),
        global: false,
    });
    PolicyEngine::new(&catalog, &sources).context(
        "the proposed policies do not load together with the tenant's others; nothing was changed",
    )?;
    Ok(())
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
            let integration = steward_openapi::import(&text, &name, base_url.as_deref())
                .with_context(|| format!("`{}` cannot be imported", spec.display()))?;
            let policy = proposed_policy(&integration);
            if dry_run {
                if json {
                    println!(
                        "{}",
                        serde_json::to_string_pretty(
                            &json!({"integration": integration, "proposedPolicy": policy})
                        )?
                    );
                } else {
                    print!("{}", render(&integration));
                    println!("dry run: nothing was saved");
                }
                return Ok(ExitCode::SUCCESS);
            }
            let by =
                by.context("say who imports it with --as UPN (recorded with the integration)")?;
            if integration.base_url.is_none() {
                bail!("the document names no absolute server URL: give --base-url");
            }
            let secret = match &secret_env {
                Some(var) => {
                    let value = std::env::var(var)
                        .with_context(|| format!("the environment variable `{var}` is not set"))?;
                    if value.trim().is_empty() {
                        bail!("the environment variable `{var}` is empty");
                    }
                    Some((pick_scheme(&integration, scheme.as_deref())?, value))
                }
                None => None,
            };
            let store =
                crate::database::open_existing(args.database.as_deref(), &args.data_dir).await?;
            let tenant = tenant_of(&store, args.tenant.as_deref()).await?;
            if let Some((scheme, value)) = &secret {
                tenant
                    .put_credential(
                        &steward_agent::integrations::secret_id(&name),
                        &by,
                        &[scheme.scheme().to_owned()],
                        value,
                    )
                    .await?;
            }
            tenant
                .put_integration(&name, &serde_json::to_value(&integration)?, &policy, &by)
                .await?;
            print!("{}", render(&integration));
            println!("\nsaved DISABLED. Steward proposes these policies:\n\n{policy}");
            println!(
                "review them (`steward integrations show {name}`), then enable the integration with\n  steward integrations accept {name} --as <your sign-in name> --policy-dir <the tenant's policy directory>"
            );
            if secret.is_none() {
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
            let row = tenant.integration(&name).await?;
            if row.status != "disabled" {
                bail!("integration `{name}` is already {}", row.status);
            }
            let integration: Integration = serde_json::from_value(row.definition)
                .context("the stored integration is unreadable")?;
            if !policy_dir.is_dir() {
                bail!("`{}` is not a directory", policy_dir.display());
            }
            validate_with_dir(&tenant, &integration, &policy_dir, &row.policy).await?;
            // Written whole under a temporary name, then renamed: a reader never sees half.
            let file = policy_dir.join(policy_file_name(&name));
            let partial = policy_dir.join(format!(".{}.partial", policy_file_name(&name)));
            std::fs::write(&partial, &row.policy)
                .with_context(|| format!("cannot write `{}`", partial.display()))?;
            if let Err(e) = tenant.accept_integration(&name, &by).await {
                let _ = std::fs::remove_file(&partial);
                return Err(e.into());
            }
            std::fs::rename(&partial, &file)
                .with_context(|| format!("cannot put `{}` in place", file.display()))?;
            println!(
                "integration {name} enabled by {by}; its policies are in {} (a running Steward loads both at its next policy reload)",
                file.display()
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}
