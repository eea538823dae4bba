//! The `steward serve` configuration file (TOML). Secrets are never in the file: refresh tokens
//! are read from the environment variable the file names.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde::Deserialize;

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where the SQLite file (by default) and the key files live.
    pub data_dir: PathBuf,
    /// The database, when not the SQLite file in `data_dir`: a PostgreSQL URL (several replicas
    /// share one) or a SQLite path. `$STEWARD_DATABASE_URL` overrides it (keep passwords there).
    #[serde(default)]
    pub database: Option<String>,
    /// Address to listen on (keep it on loopback until the console's sign-in exists).
    #[serde(default = "default_listen")]
    pub listen: String,
    /// How long a started change is its process's to finish before another replica may
    /// reconcile it as in doubt (longer than any connector call with its retries).
    #[serde(default = "default_intent_lease")]
    pub intent_lease_seconds: u64,
    /// Replica mode: requests become work items that every `steward serve` sharing the
    /// (PostgreSQL) database may run; a replica that dies mid-request leaves its work to the
    /// others. Default: on for PostgreSQL, off for SQLite.
    #[serde(default)]
    pub replicas: Option<bool>,
    /// How long a replica's claim on a request lasts without renewal (renewed while it works).
    #[serde(default = "default_work_lease")]
    pub work_lease_seconds: u64,
    /// Requests one replica works on at once.
    #[serde(default = "default_workers")]
    pub workers: usize,
    /// How often each replica looks for changes a dead replica left in doubt.
    #[serde(default = "default_reconcile_every")]
    pub reconcile_every_seconds: u64,
    /// Language-model providers a tenant may use as its reasoner (`[[providers]]`); keys come
    /// from the environment variables they name.
    #[serde(default)]
    pub providers: Vec<steward_llm::ProviderConfig>,
    /// The tenants served.
    pub tenants: Vec<TenantSection>,
}

fn default_work_lease() -> u64 {
    30
}

fn default_workers() -> usize {
    4
}

fn default_reconcile_every() -> u64 {
    15
}

fn default_intent_lease() -> u64 {
    steward_agent::DEFAULT_INTENT_LEASE.as_secs()
}

fn default_listen() -> String {
    "127.0.0.1:8080".into()
}

/// One tenant.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantSection {
    pub id: String,
    pub name: String,
    pub domain: String,
    pub policy_dir: PathBuf,
    /// A candidate policy set decided beside the enforced one (shadow mode).
    #[serde(default)]
    pub shadow_policy_dir: Option<PathBuf>,
    #[serde(default = "default_admins")]
    pub it_admins_group: String,
    #[serde(default)]
    pub protected_identities: Vec<String>,
    #[serde(default)]
    pub utc_offset_minutes: i32,
    /// Hours an approval request waits before it expires and the requester is told.
    #[serde(default = "default_ttl")]
    pub approval_ttl_hours: u64,
    pub graph: GraphSection,
    /// The provider (by name, from `[[providers]]`) whose model reasons for this tenant; without
    /// it, the builtin offline reasoner does.
    #[serde(default)]
    pub reasoner: Option<String>,
    /// The ITSM tool escalations are also filed in (`[tenants.itsm]`, `kind` = jira, servicenow
    /// or sysaid); without it, they stay in Steward's queue only.
    #[serde(default)]
    pub itsm: Option<steward_connectors::itsm::ItsmConfig>,
    /// The Slack workspace whose people reach this tenant (`[tenants.slack]`; one tenant at
    /// most).
    #[serde(default)]
    pub slack: Option<SlackSection>,
    /// The Teams bot whose users reach this tenant (`[tenants.teams]`; one tenant at most).
    #[serde(default)]
    pub teams: Option<TeamsSection>,
    /// The web console's sign-in (`[tenants.console]`; one tenant at most).
    #[serde(default)]
    pub console: Option<ConsoleSection>,
    /// The tenant's Okta org (`[tenants.okta]`), where people whose password Okta masters are
    /// repaired.
    #[serde(default)]
    pub okta: Option<crate::okta_wiring::OktaSection>,
    /// The tenant's Google Workspace (`[tenants.google]`).
    #[serde(default)]
    pub google: Option<crate::google_wiring::GoogleSection>,
}

/// How the console signs people in: the tenant's identity provider (OpenID Connect).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsoleSection {
    /// The authorization endpoint (`https://login.microsoftonline.com/<tenant-id>/oauth2/v2.0/authorize`).
    pub authorize_url: String,
    /// The token endpoint.
    pub token_url: String,
    /// The console's application (client) id, registered with `<public_url>/console/callback`.
    pub client_id: String,
    /// Where people reach Steward (`https://steward.contoso.com`); HTTPS makes cookies `Secure`.
    pub public_url: String,
    /// The issuer ID tokens must name (`https://login.microsoftonline.com/<tenant-id>/v2.0`).
    #[serde(default)]
    pub issuer: Option<String>,
}

/// A Bot Framework bot registration: its password comes from the environment variable named.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TeamsSection {
    /// The bot's Microsoft app id (incoming tokens must be addressed to it).
    pub app_id: String,
    /// The variable holding the app's client secret.
    pub app_password_env: String,
    /// Where Bot Framework's signing keys are described.
    #[serde(default = "default_bf_metadata")]
    pub openid_metadata_url: String,
    /// Where the bot gets its Bot Connector token.
    #[serde(default = "default_bf_token")]
    pub token_url: String,
}

fn default_bf_metadata() -> String {
    "https://login.botframework.com/v1/.well-known/openidconfiguration".into()
}

fn default_bf_token() -> String {
    "https://login.microsoftonline.com/botframework.com/oauth2/v2.0/token".into()
}

/// A Slack app: its signing secret and bot token come from the environment variables named.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlackSection {
    /// The variable holding the app's signing secret (request signatures are checked with it).
    pub signing_secret_env: String,
    /// The variable holding the bot token (`xoxb-…`).
    pub bot_token_env: String,
    /// The Web API root.
    #[serde(default = "default_slack_api")]
    pub api_base_url: String,
    /// The channel approval cards are posted in (default: the conversation's own channel).
    #[serde(default)]
    pub approvals_channel: Option<String>,
}

fn default_slack_api() -> String {
    "https://slack.com/api".into()
}

fn default_ttl() -> u64 {
    24
}

fn default_admins() -> String {
    "IT Admins".into()
}

/// How to reach Microsoft Graph and whose delegated credential to act with.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GraphSection {
    #[serde(default = "default_graph")]
    pub base_url: String,
    pub token_url: String,
    pub client_id: String,
    pub credential_owner: String,
    /// An environment variable holding the refresh token; without it (or when it is unset) the
    /// credential `steward connect` kept in the store is used.
    #[serde(default)]
    pub refresh_token_env: Option<String>,
    /// Whose delegated grant the employee channel (self-service) acts with, connected with
    /// `steward connect --for employees`; without a grant, self-service is refused.
    #[serde(default)]
    pub employee_owner: Option<String>,
    /// An environment variable holding the employee channel's refresh token (kept sealed in the
    /// store at start); without it, the grant `steward connect --for employees` kept is used.
    #[serde(default)]
    pub employee_refresh_token_env: Option<String>,
}

fn default_graph() -> String {
    "https://graph.microsoft.com".into()
}

impl Config {
    /// Reads and checks the file; relative paths are taken from the file's folder.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read `{}`", path.display()))?;
        let mut config: Config = toml::from_str(&text).with_context(|| {
            format!("`{}` is not a valid Steward configuration", path.display())
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        if config.data_dir.is_relative() {
            config.data_dir = base.join(&config.data_dir);
        }
        for t in &mut config.tenants {
            if t.policy_dir.is_relative() {
                t.policy_dir = base.join(&t.policy_dir);
            }
            if let Some(shadow) = t.shadow_policy_dir.as_mut().filter(|s| s.is_relative()) {
                *shadow = base.join(&*shadow);
            }
        }
        for t in &config.tenants {
            if let Some(name) = &t.reasoner
                && !config.providers.iter().any(|p| &p.name == name)
            {
                anyhow::bail!(
                    "`{}`: tenant `{}` uses the reasoner `{name}`, but no `[[providers]]` entry has that name",
                    path.display(),
                    t.id
                );
            }
        }
        if config
            .tenants
            .iter()
            .filter(|t| t.console.is_some())
            .count()
            > 1
        {
            anyhow::bail!(
                "`{}`: only one tenant may have a `[tenants.console]` section",
                path.display()
            );
        }
        if config.tenants.iter().filter(|t| t.teams.is_some()).count() > 1 {
            anyhow::bail!(
                "`{}`: only one tenant may have a `[tenants.teams]` section",
                path.display()
            );
        }
        if config.tenants.iter().filter(|t| t.slack.is_some()).count() > 1 {
            anyhow::bail!(
                "`{}`: only one tenant may have a `[tenants.slack]` section",
                path.display()
            );
        }
        if config.tenants.is_empty() {
            anyhow::bail!("`{}` configures no tenant", path.display());
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TENANT: &str = "[[tenants]]\nid = \"c\"\nname = \"C\"\ndomain = \"c.example\"\npolicy_dir = \"p\"\nreasoner = \"gpt\"\n[tenants.graph]\ntoken_url = \"https://t\"\nclient_id = \"x\"\ncredential_owner = \"a@c.example\"\n";

    fn load(text: &str) -> anyhow::Result<Config> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("steward.toml");
        std::fs::write(&path, text)?;
        Config::load(&path)
    }

    #[test]
    fn a_tenant_reasons_with_a_provider_described_in_the_file() -> anyhow::Result<()> {
        let providers = "data_dir = \"d\"\n[[providers]]\nname = \"gpt\"\nkind = \"openai\"\nbase_url = \"http://127.0.0.1:11434/v1\"\nmodel = \"llama3.1\"\n";
        let config = load(&format!("{providers}{TENANT}"))?;
        assert_eq!(config.providers[0].kind, steward_llm::ProviderKind::Openai);
        assert!(config.providers[0].stream);
        assert_eq!(config.tenants[0].reasoner.as_deref(), Some("gpt"));
        Ok(())
    }

    #[test]
    fn a_reasoner_naming_no_provider_or_an_unknown_kind_is_refused() {
        let missing = load(&format!("data_dir = \"d\"\n{TENANT}"))
            .err()
            .map(|e| format!("{e:#}"))
            .unwrap_or_default();
        assert!(missing.contains("no `[[providers]]` entry"), "{missing}");
        let kind = load(&format!("data_dir = \"d\"\n[[providers]]\nname = \"gpt\"\nkind = \"palm\"\nbase_url = \"x\"\nmodel = \"m\"\n{TENANT}")).err().map(|e| format!("{e:#}")).unwrap_or_default();
        assert!(
            kind.contains("palm") || kind.contains("unknown variant"),
            "{kind}"
        );
    }

    #[test]
    fn an_okta_org_is_described_with_its_grants_by_environment_variable() -> anyhow::Result<()> {
        let providers = "data_dir = \"d\"\n[[providers]]\nname = \"gpt\"\nkind = \"openai\"\nbase_url = \"http://127.0.0.1:11434/v1\"\nmodel = \"m\"\n";
        let okta = "[tenants.okta]\nbase_url = \"https://larkspur.okta.com\"\nclient_id = \"0oa1\"\ncredential_owner = \"admin@c.example\"\nrefresh_token_env = \"OKTA_RT\"\nemployee_owner = \"svc@c.example\"\nemployee_refresh_token_env = \"OKTA_EMPLOYEE_RT\"\n";
        let config = load(&format!("{providers}{TENANT}{okta}"))?;
        let section = config.tenants[0].okta.as_ref().context("okta")?;
        assert_eq!(section.credential_owner, "admin@c.example");
        assert_eq!(
            section.employee_refresh_token_env.as_deref(),
            Some("OKTA_EMPLOYEE_RT")
        );
        let typo = load(&format!(
            "{providers}{TENANT}{okta}refresh_token = \"pasted\"\n"
        ))
        .err()
        .map(|e| format!("{e:#}"))
        .unwrap_or_default();
        assert!(
            typo.contains("refresh_token"),
            "a secret is never written in the file: {typo}"
        );
        Ok(())
    }
}
