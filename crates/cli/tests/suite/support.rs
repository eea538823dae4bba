use std::time::Duration;

use anyhow::Context as _;
use serde_json::Value;
use steward_agent::TenantRuntime;
use steward_cli::demo::{DemoTenant, start_tenant};
use steward_connectors::msgraph::RetryPolicy;
use steward_domain::Channel;
use steward_domain::report::TurnReport;
use steward_store::Store;

pub const DOMAIN: &str = "larkspur.example";

/// How patiently the tests' connectors retry: a few attempts, short waits.
pub fn test_retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 4,
        max_wait: Duration::from_secs(2),
        default_wait: Duration::from_millis(200),
    }
}

pub fn upn(local: &str) -> String {
    format!("{local}@{DOMAIN}")
}

/// A demo tenant in a temporary data directory, with a Global Administrator's token for reading
/// the tenant back through Graph.
pub struct Harness {
    _dir: tempfile::TempDir,
    pub store: Store,
    pub tenant: DemoTenant,
    http: reqwest::Client,
    reader_token: String,
}

impl Harness {
    pub async fn new() -> anyhow::Result<Self> {
        Self::with_seed(steward_sim::demo_seed()?, &upn("grace"), "Demo-Grace-2026!").await
    }

    /// The demo tenant with its store on the test PostgreSQL server (a schema of its own) instead
    /// of a SQLite file; returns the store's URL too, for the binary's `--database`.
    pub async fn on_postgres() -> anyhow::Result<(Self, String)> {
        let dir = tempfile::tempdir()?;
        let base = steward_store::testing::test_postgres_url();
        let (_schema, url) = steward_store::testing::scratch_schema(&base, "steward_t")
            .await
            .with_context(|| format!("these tests need PostgreSQL at {base}"))?;
        let store = Store::open_at(&steward_store::Location::parse(&url), dir.path()).await?;
        let harness = Self::start(
            dir,
            store,
            steward_sim::demo_seed()?,
            &upn("grace"),
            "Demo-Grace-2026!",
        )
        .await?;
        Ok((harness, url))
    }

    /// The demo tenant with `who` also holding directory role `role` (Nestor, whose grant Steward
    /// acts with, needs a security or authentication role for some actions).
    pub async fn with_role(who: &str, role: &str) -> anyhow::Result<Self> {
        Self::with_roles(who, &[role]).await
    }

    /// The demo tenant with `who` also holding each of `roles`.
    pub async fn with_roles(who: &str, roles: &[&str]) -> anyhow::Result<Self> {
        let mut seed = steward_sim::demo_seed()?;
        for user in seed["users"].as_array_mut().into_iter().flatten() {
            if user["userPrincipalName"] == upn(who).as_str()
                && let Some(held) = user
                    .pointer_mut("/x-steward-sim/directoryRoles")
                    .and_then(Value::as_array_mut)
            {
                held.extend(roles.iter().map(|r| Value::String((*r).to_owned())));
            }
        }
        Self::with_seed(seed, &upn("grace"), "Demo-Grace-2026!").await
    }

    /// The demo tenant with `who` holding exactly `roles` (the demo gives Nestor, whose grant
    /// Steward acts with, every role its actions need; a test of a refusal takes some away).
    pub async fn with_only_roles(who: &str, roles: &[&str]) -> anyhow::Result<Self> {
        Self::with_seed(
            seed_with_only_roles(who, roles)?,
            &upn("grace"),
            "Demo-Grace-2026!",
        )
        .await
    }

    /// The data directory (key files; the SQLite file when there is one).
    pub fn data_dir(&self) -> &std::path::Path {
        self._dir.path()
    }

    /// A tenant from `seed`, read back through Graph as `reader` (a Global Administrator).
    pub async fn with_seed(
        seed: Value,
        reader: &str,
        reader_password: &str,
    ) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let store = Store::open(&dir.path().join("steward.db")).await?;
        Self::start(dir, store, seed, reader, reader_password).await
    }

    /// The demo tenant with Steward retrying Graph as `retry` says (a test of faults may need
    /// more patience than the default test policy).
    pub async fn with_retry(retry: RetryPolicy) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let store = Store::open(&dir.path().join("steward.db")).await?;
        Self::start_with(
            dir,
            store,
            steward_sim::demo_seed()?,
            &upn("grace"),
            "Demo-Grace-2026!",
            retry,
        )
        .await
    }

    async fn start(
        dir: tempfile::TempDir,
        store: Store,
        seed: Value,
        reader: &str,
        reader_password: &str,
    ) -> anyhow::Result<Self> {
        let retry = test_retry();
        Self::start_with(dir, store, seed, reader, reader_password, retry).await
    }

    async fn start_with(
        dir: tempfile::TempDir,
        store: Store,
        seed: Value,
        reader: &str,
        reader_password: &str,
        retry: RetryPolicy,
    ) -> anyhow::Result<Self> {
        let tenant = start_tenant(seed, &store, dir.path(), retry).await?;
        let http = reqwest::Client::new();
        let reader_token =
            access_token(&http, &tenant.sim.token_url(), reader, reader_password).await?;
        Ok(Self {
            _dir: dir,
            store,
            tenant,
            http,
            reader_token,
        })
    }

    /// Stops this Steward and starts a new one on the same data directory (the simulated tenant
    /// restarts from its seed, as a real tenant would simply still be there).
    pub async fn restart(self) -> anyhow::Result<Self> {
        let Self {
            _dir: dir,
            store,
            tenant,
            http,
            ..
        } = self;
        drop(tenant);
        drop(store);
        let store = Store::open(&dir.path().join("steward.db")).await?;
        let retry = test_retry();
        let tenant = start_tenant(steward_sim::demo_seed()?, &store, dir.path(), retry).await?;
        let reader_token = access_token(
            &http,
            &tenant.sim.token_url(),
            &upn("grace"),
            "Demo-Grace-2026!",
        )
        .await?;
        Ok(Self {
            _dir: dir,
            store,
            tenant,
            http,
            reader_token,
        })
    }

    pub fn runtime(&self) -> &TenantRuntime {
        &self.tenant.runtime
    }

    /// The audit records of a turn's conversation, in chain order.
    pub async fn audit_of(
        &self,
        report: &TurnReport,
    ) -> anyhow::Result<Vec<steward_audit::AuditRecord>> {
        Ok(self
            .runtime()
            .store
            .audit_records(Some(&report.conversation_id.to_string()))
            .await?)
    }

    pub async fn ask(&self, who: &str, message: &str) -> anyhow::Result<TurnReport> {
        Ok(self
            .runtime()
            .handle(&upn(who), Channel::Cli, message, None)
            .await?)
    }

    /// Asks as `who` and expects the turn to wait for an approval; returns the report and the
    /// approval's id.
    pub async fn awaiting_approval(
        &self,
        who: &str,
        message: &str,
    ) -> anyhow::Result<(TurnReport, steward_domain::ApprovalId)> {
        let report = self.ask(who, message).await?;
        anyhow::ensure!(
            report.status == steward_domain::report::TurnStatus::AwaitingApproval,
            "expected to wait for an approval: {}",
            report.reply
        );
        let id = report
            .actions
            .first()
            .and_then(|a| a.approval_id)
            .context("no approval id")?;
        Ok((report, id))
    }

    /// Calls one action through the gateway as `who` (all eight steps: policy, audit, the
    /// connector, the read-back), outside any conversation turn.
    pub async fn call_action(
        &self,
        who: &str,
        action: &str,
        params: Value,
        kind: steward_agent::CallKind,
    ) -> anyhow::Result<steward_agent::GatewayOutcome> {
        let principal = self.runtime().identify(&upn(who)).await?;
        let ctx = steward_agent::CallContext {
            principal: &principal,
            channel: Channel::Cli,
            conversation: steward_domain::ConversationId::new(),
            purpose: "test",
            blast_radius: None,
            turn: None,
        };
        let call = steward_domain::ActionCall {
            action: steward_domain::ActionName::new(action)?,
            params,
        };
        Ok(self.runtime().gateway().call(&ctx, &call, kind).await)
    }

    /// GET a Graph path (e.g. `/v1.0/users/x`) as the Global Administrator.
    pub async fn graph(&self, path_and_query: &str) -> anyhow::Result<Value> {
        let r = self
            .http
            .get(format!("{}{path_and_query}", self.tenant.sim.base_url))
            .bearer_auth(&self.reader_token)
            .send()
            .await?;
        let status = r.status();
        let body: Value = r.json().await?;
        anyhow::ensure!(
            status.is_success(),
            "GET {path_and_query} -> {status}: {body}"
        );
        Ok(body)
    }

    /// Disables an account directly in the tenant (as its Global Administrator would).
    pub async fn disable(&self, local: &str) -> anyhow::Result<()> {
        let grace = sign_in(
            &self.http,
            &self.tenant.sim.token_url(),
            &upn("grace"),
            "Demo-Grace-2026!",
            "User.ReadWrite.All",
        )
        .await?;
        let token = grace
            .get("access_token")
            .and_then(Value::as_str)
            .context("no token")?;
        let r = self
            .http
            .patch(format!(
                "{}/v1.0/users/{}",
                self.tenant.sim.base_url,
                upn(local)
            ))
            .bearer_auth(token)
            .json(&serde_json::json!({"accountEnabled": false}))
            .send()
            .await?;
        anyhow::ensure!(r.status().is_success(), "disable {local}: {}", r.status());
        Ok(())
    }

    pub async fn user(&self, local: &str) -> anyhow::Result<Value> {
        self.graph(&format!(
            "/v1.0/users/{}?$select=id,userPrincipalName,accountEnabled,lastPasswordChangeDateTime,signInSessionsValidFromDateTime,jobTitle",
            upn(local)
        ))
        .await
    }

    pub async fn group_id(&self, name: &str) -> anyhow::Result<String> {
        let found = self
            .graph(&format!(
                "/v1.0/groups?$filter=displayName%20eq%20'{}'",
                name.replace(' ', "%20")
            ))
            .await?;
        found
            .pointer("/value/0/id")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .with_context(|| format!("no group {name}"))
    }

    pub async fn member_upns(&self, group: &str) -> anyhow::Result<Vec<String>> {
        let id = self.group_id(group).await?;
        let members = self
            .graph(&format!(
                "/v1.0/groups/{id}/members?$select=userPrincipalName"
            ))
            .await?;
        Ok(members["value"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|m| m["userPrincipalName"].as_str().map(str::to_owned))
            .collect())
    }

    pub async fn directory_audits(&self) -> anyhow::Result<Vec<Value>> {
        Ok(
            self.graph("/v1.0/auditLogs/directoryAudits").await?["value"]
                .as_array()
                .cloned()
                .unwrap_or_default(),
        )
    }

    /// A password sign-in at the simulated identity platform: `Ok(token answer)` or the AADSTS code.
    pub async fn try_sign_in(
        &self,
        local: &str,
        password: &str,
    ) -> anyhow::Result<Result<Value, i64>> {
        let answer = sign_in(
            &self.http,
            &self.tenant.sim.token_url(),
            &upn(local),
            password,
            "User.Read.All",
        )
        .await?;
        Ok(
            match answer
                .get("error_codes")
                .and_then(|c| c.get(0))
                .and_then(Value::as_i64)
            {
                Some(code) => Err(code),
                None => Ok(answer),
            },
        )
    }

    pub async fn inject_fault(&self, fault: Value) -> anyhow::Result<()> {
        let r = self
            .http
            .post(format!("{}/_sim/faults", self.tenant.sim.base_url))
            .json(&fault)
            .send()
            .await?;
        anyhow::ensure!(
            r.status().is_success(),
            "fault not accepted: {}",
            r.status()
        );
        Ok(())
    }

    /// Drops every pending fault (so the test can read the end state undisturbed).
    pub async fn clear_faults(&self) -> anyhow::Result<()> {
        let r = self
            .http
            .delete(format!("{}/_sim/faults", self.tenant.sim.base_url))
            .send()
            .await?;
        anyhow::ensure!(
            r.status().is_success(),
            "faults not cleared: {}",
            r.status()
        );
        Ok(())
    }

    pub async fn faults_served(&self) -> anyhow::Result<u64> {
        let v: Value = self
            .http
            .get(format!("{}/_sim/faults", self.tenant.sim.base_url))
            .send()
            .await?
            .json()
            .await?;
        v["served"].as_u64().context("no count")
    }
}

/// An access token for reading the tenant back (users, groups, logs).
async fn access_token(
    http: &reqwest::Client,
    token_url: &str,
    who: &str,
    password: &str,
) -> anyhow::Result<String> {
    let answer = sign_in(
        http,
        token_url,
        who,
        password,
        "User.Read.All AuditLog.Read.All GroupMember.Read.All UserAuthenticationMethod.Read.All IdentityRiskyUser.Read.All LicenseAssignment.Read.All MailboxSettings.Read Calendars.Read DeviceManagementManagedDevices.Read.All DeviceManagementConfiguration.Read.All Files.Read.All Sites.Read.All TeamMember.Read.All Group.Read.All",
    )
    .await?;
    answer
        .get("access_token")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .context("no access token")
}

pub async fn sign_in(
    http: &reqwest::Client,
    token_url: &str,
    username: &str,
    password: &str,
    scopes: &str,
) -> anyhow::Result<Value> {
    let scope = scopes
        .split_whitespace()
        .map(|s| format!("https://graph.microsoft.com/{s}"))
        .collect::<Vec<_>>()
        .join(" ");
    let r = http
        .post(token_url)
        .form(&[
            ("grant_type", "password"),
            ("client_id", "test-client"),
            ("username", username),
            ("password", password),
            ("scope", &scope),
        ])
        .send()
        .await?;
    Ok(r.json().await?)
}

/// All action names of a report, in order.
pub fn actions(report: &TurnReport) -> Vec<String> {
    report.actions.iter().map(|a| a.action.clone()).collect()
}

/// The summary of a call that ran and whose read-back (if any) passed; anything else fails the
/// test with the outcome.
pub fn verified(outcome: &steward_agent::GatewayOutcome) -> anyhow::Result<String> {
    match outcome {
        steward_agent::GatewayOutcome::Done {
            result,
            verification,
            ..
        } if verification.as_ref().is_none_or(|v| v.passed) => Ok(result.summary.clone()),
        other => anyhow::bail!("not done and verified: {other:?}"),
    }
}

/// The demo seed with `who` holding exactly `roles`.
pub fn seed_with_only_roles(who: &str, roles: &[&str]) -> anyhow::Result<Value> {
    let mut seed = steward_sim::demo_seed()?;
    for user in seed["users"].as_array_mut().into_iter().flatten() {
        if user["userPrincipalName"] == upn(who).as_str()
            && let Some(held) = user.pointer_mut("/x-steward-sim/directoryRoles")
        {
            *held = Value::Array(
                roles
                    .iter()
                    .map(|r| Value::String((*r).to_owned()))
                    .collect(),
            );
        }
    }
    Ok(seed)
}

/// The roles the demo's Nestor held before the demo gave him the workloads' administrator
/// roles: users and groups only.
pub const USER_ADMIN_ONLY: &[&str] = &["User Administrator", "Reports Reader"];

/// The text of a file under `shared/reference/` (`STEWARD_REFERENCE_DIR`, else the nearest
/// `shared/reference` above the crate, else `/work/shared/reference`); missing is an error, never
/// a skip.
pub fn reference_text(relative: &str) -> anyhow::Result<String> {
    let manifest = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let path = std::env::var_os("STEWARD_REFERENCE_DIR")
        .map(std::path::PathBuf::from)
        .into_iter()
        .chain(
            manifest
                .ancestors()
                .map(|a| a.join("shared").join("reference")),
        )
        .chain([std::path::PathBuf::from("/work/shared/reference")])
        .map(|d| d.join(relative))
        .find(|p| p.is_file())
        .with_context(|| {
            format!("cannot find shared/reference/{relative} (or set STEWARD_REFERENCE_DIR)")
        })?;
    Ok(std::fs::read_to_string(path)?)
}
