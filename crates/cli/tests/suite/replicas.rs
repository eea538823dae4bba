//! Three `steward serve` replicas on loopback sharing one PostgreSQL database, killed with
//! SIGKILL at random points — and all at once while Graph holds a change, once after it was
//! applied and once before — while a stream of conversations and approvals runs through them.
//! Afterwards: every request was answered, each conversation exists once, no approval was lost,
//! no change was made twice (the simulator's own log of change requests), and the audit trail
//! verifies.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use serde_json::{Value, json};
use tokio::sync::Mutex;

const TENANT: &str = "larkspur-labs";
/// Every replica shares the master key (as an installation's replicas must).
const MASTER_KEY: &str = "8f1e2d3c4b5a69788f1e2d3c4b5a69788f1e2d3c4b5a69788f1e2d3c4b5a6978";

struct Cluster {
    dir: PathBuf,
    sim: steward_sim::RunningSim,
    seed: Value,
    ports: Vec<u16>,
    children: Vec<Option<Child>>,
    starts: usize,
    kills: usize,
    schema: String,
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

fn write_config(
    dir: &Path,
    port: u16,
    url: &str,
    sim: &steward_sim::RunningSim,
    client_id: &str,
    owner: &str,
) -> anyhow::Result<PathBuf> {
    let text = format!(
        r#"data_dir = "{data}"
database = "{url}"
listen = "127.0.0.1:{port}"
replicas = true
work_lease_seconds = 2
intent_lease_seconds = 15
reconcile_every_seconds = 1
workers = 2

[[tenants]]
id = "{TENANT}"
name = "Larkspur Labs"
domain = "{domain}"
policy_dir = "{data}/policies/{TENANT}"
it_admins_group = "IT Admins"

[tenants.graph]
base_url = "{base}"
token_url = "{token}"
client_id = "{client_id}"
credential_owner = "{owner}"
refresh_token_env = "STEWARD_TEST_REFRESH_TOKEN"
employee_owner = "steward-svc@larkspur.example"
employee_refresh_token_env = "STEWARD_TEST_EMPLOYEE_TOKEN"
"#,
        data = dir.display(),
        domain = sim.domain,
        base = sim.base_url,
        token = sim.token_url(),
    );
    let path = dir.join(format!("replica-{port}.toml"));
    std::fs::write(&path, text)?;
    Ok(path)
}

impl Cluster {
    async fn start(replicas: usize) -> anyhow::Result<Self> {
        let mut seed = steward_sim::demo_seed()?;
        // Three more people whose accounts an administrator disabled.
        for user in seed["users"].as_array_mut().into_iter().flatten() {
            let upn = user["userPrincipalName"].as_str().unwrap_or_default();
            if ["mei@", "diego@", "chloe@"]
                .iter()
                .any(|p| upn.starts_with(p))
            {
                user["accountEnabled"] = json!(false);
            }
        }
        let sim = steward_sim::start(seed.clone(), None).await?;
        let dir = tempfile::tempdir()?.keep();
        steward_cli::wiring::install_default_policies(&dir.join("policies").join(TENANT))?;
        let base = steward_store::testing::test_postgres_url();
        let (schema, url) = steward_store::testing::scratch_schema(&base, "steward_t")
            .await
            .with_context(|| format!("the replica test needs PostgreSQL at {base}"))?;
        std::fs::write(dir.join("database-url"), &url)?;
        let (client_id, owner, _) =
            steward_cli::demo::sim_credential(&seed, &sim.token_url()).await?;
        let mut ports = Vec::new();
        for _ in 0..replicas {
            let port = free_port()?;
            write_config(&dir, port, &url, &sim, &client_id, &owner)?;
            ports.push(port);
        }
        let mut cluster = Self {
            dir,
            sim,
            seed,
            ports,
            children: (0..replicas).map(|_| None).collect(),
            starts: 0,
            kills: 0,
            schema,
        };
        // One at a time at first: the first creates the audit signing key the others load.
        for i in 0..replicas {
            cluster.restart(i).await?;
        }
        Ok(cluster)
    }

    /// Starts replica `i` (after a kill), with a refresh token of its own, and waits until it
    /// answers.
    async fn restart(&mut self, i: usize) -> anyhow::Result<()> {
        let (_, _, refresh) =
            steward_cli::demo::sim_credential(&self.seed, &self.sim.token_url()).await?;
        let employee =
            steward_cli::demo::sim_employee_credential(&self.seed, &self.sim.token_url())
                .await?
                .map(|(_, token)| token)
                .unwrap_or_default();
        let port = self.ports[i];
        self.starts += 1;
        let log =
            std::fs::File::create(self.dir.join(format!("replica-{port}-{}.log", self.starts)))?;
        let child = Command::new(env!("CARGO_BIN_EXE_steward"))
            .args(["serve", "--config"])
            .arg(self.dir.join(format!("replica-{port}.toml")))
            .env("STEWARD_TEST_REFRESH_TOKEN", refresh)
            .env("STEWARD_TEST_EMPLOYEE_TOKEN", employee)
            .env("STEWARD_MASTER_KEY", MASTER_KEY)
            .env_remove("STEWARD_DATABASE_URL")
            .stdout(Stdio::from(log.try_clone()?))
            .stderr(Stdio::from(log))
            .spawn()?;
        self.children[i] = Some(child);
        let http = reqwest::Client::new();
        for _ in 0..300 {
            if let Ok(r) = http
                .get(format!("http://127.0.0.1:{port}/healthz"))
                .send()
                .await
                && r.status().is_success()
            {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        anyhow::bail!(
            "replica on port {port} did not come up; see {}",
            self.dir.display()
        )
    }

    /// SIGKILL: no shutdown, no last checkpoint, work and calls cut off wherever they are.
    fn kill(&mut self, i: usize) {
        if let Some(mut child) = self.children[i].take() {
            let _ = child.kill();
            let _ = child.wait();
            self.kills += 1;
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for i in 0..self.children.len() {
            self.kill(i);
        }
    }
}

/// Sends `body` to `path` on the replicas in turn until one answers (the same `requestId`
/// every time, so a repeat joins the first attempt instead of starting another).
async fn until_answered(ports: &[u16], path: &str, body: &Value) -> anyhow::Result<Value> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(180);
    let mut n = 0usize;
    loop {
        anyhow::ensure!(
            tokio::time::Instant::now() < deadline,
            "no answer to {path} {body}"
        );
        let port = ports[n % ports.len()];
        n += 1;
        match http
            .post(format!("http://127.0.0.1:{port}{path}"))
            .json(body)
            .send()
            .await
        {
            Ok(r) if r.status().is_success() => return Ok(r.json().await?),
            Ok(r) if r.status().is_client_error() => {
                let status = r.status();
                anyhow::bail!("{path} {body} -> {status}: {}", r.text().await?)
            }
            // Killed mid-answer, or still running: ask again (another replica, same id).
            _ => tokio::time::sleep(Duration::from_millis(300)).await,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_replicas_killed_at_random_lose_nothing_and_do_nothing_twice() -> anyhow::Result<()> {
    let cluster = Arc::new(Mutex::new(Cluster::start(3).await?));
    let ports = cluster.lock().await.ports.clone();
    let upn = |who: &str| format!("{who}@larkspur.example");

    // The first account re-enable is held by Graph 10 s after it is applied, the group addition
    // 10 s before: every replica is killed while each is held. (A change's intent lease, 15 s,
    // outlasts the hold, as it must outlast any call: only then is the change in doubt.)
    {
        let c = cluster.lock().await;
        let http = reqwest::Client::new();
        for fault in [
            json!({"pathContains": "/v1.0/users/", "method": "PATCH", "count": 1, "delayMs": 10000, "delayAfter": true}),
            json!({"pathContains": "/members/$ref", "method": "POST", "count": 1, "delayMs": 10000}),
        ] {
            http.post(format!("{}/_sim/faults", c.sim.base_url))
                .json(&fault)
                .send()
                .await?;
        }
    }
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let chaos = {
        let (cluster, stop) = (cluster.clone(), stop.clone());
        tokio::spawn(async move {
            // The two held requests, each seen once: the first PATCH and the first addition.
            let (mut patch_seen, mut addition_seen) = (false, false);
            let mut tick = 0u64;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                tokio::time::sleep(Duration::from_millis(250)).await;
                tick += 1;
                let mut c = cluster.lock().await;
                let log = c.sim.requests().await;
                let patch = !patch_seen && log.iter().any(|r| r.method == "PATCH");
                let addition =
                    !addition_seen && log.iter().any(|r| r.path.ends_with("/members/$ref"));
                if patch || addition {
                    // A held change just reached Graph: kill everyone mid-call.
                    patch_seen |= patch;
                    addition_seen |= addition;
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    for i in 0..3 {
                        c.kill(i);
                    }
                    for i in 0..3 {
                        c.restart(i).await?;
                    }
                    continue;
                }
                // And one replica at a pseudo-random moment every couple of seconds.
                if tick.is_multiple_of(7) {
                    let i = usize::try_from((tick * 2_654_435_761) % 3).unwrap_or(0);
                    c.kill(i);
                    drop(c);
                    tokio::time::sleep(Duration::from_millis(400)).await;
                    cluster.lock().await.restart(i).await?;
                }
            }
            Ok::<_, anyhow::Error>(())
        })
    };

    // The stream: two requests Steward resolves itself, four that need an IT admin's approval.
    let asks = [
        ("adele", "I'm locked out"),
        ("nestor", "can you add Maria Chen to Finance?"),
        ("tom", "my account is disabled"),
        ("mei", "my account is disabled"),
        ("diego", "my account is disabled"),
        ("chloe", "my account is disabled"),
    ];
    let mut tasks = Vec::new();
    for (who, message) in asks {
        let ports = ports.clone();
        let requester = upn(who);
        tasks.push(tokio::spawn(async move {
            let request_id = uuid::Uuid::now_v7();
            let report = until_answered(
                &ports,
                "/api/v1/ask",
                &json!({"as": requester, "message": message, "requestId": request_id}),
            )
            .await?;
            let mut approved = None;
            if report["status"] == "awaitingApproval" {
                let id = report["actions"][0]["approvalId"]
                    .as_str()
                    .context("no approval id")?
                    .to_owned();
                let answer = until_answered(
                    &ports,
                    &format!("/api/v1/approvals/{id}/approve"),
                    &json!({"as": "nestor@larkspur.example", "requestId": uuid::Uuid::now_v7().to_string()}),
                )
                .await?;
                approved = Some((id, answer));
            }
            Ok::<_, anyhow::Error>((who, report, approved))
        }));
    }
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await??);
    }
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    chaos.await??;

    let c = cluster.lock().await;
    let url = std::fs::read_to_string(c.dir.join("database-url"))?;
    let store = steward_store::Store::connect(
        &steward_store::Location::parse(&url),
        steward_store::AuditOptions::in_dir(&c.dir),
        Arc::new(steward_store::MasterKey::from_hex(MASTER_KEY, "test")?),
    )
    .await?;
    let tenant = store
        .tenant(&steward_domain::TenantId::new(TENANT)?)
        .await?;

    // Every request was answered, and each conversation exists once.
    for (who, report, _) in &results {
        let status = report["status"].as_str().unwrap_or_default();
        assert!(
            ["resolved", "awaitingApproval"].contains(&status),
            "{who}: {report}"
        );
    }
    let conversations = store
        .fetch_text_unchecked("SELECT id FROM conversations")
        .await?;
    assert_eq!(conversations.len(), results.len(), "{conversations:?}");

    // No approval was lost: every one ran to the end.
    let approvals = tenant.approvals(None).await?;
    assert_eq!(approvals.len(), 4);
    for a in &approvals {
        assert_eq!(
            a.status,
            steward_store::ApprovalStatus::Executed,
            "{}: {:?}",
            a.requester,
            a.note
        );
    }

    // No change was made twice: per idempotency key, and per target.
    let log = c.sim.requests().await;
    let mut by_key: HashMap<String, usize> = HashMap::new();
    for r in log.iter().filter(|r| r.status != 0) {
        *by_key
            .entry(r.client_request_id.clone().unwrap_or_default())
            .or_default() += 1;
    }
    assert!(by_key.values().all(|&n| n == 1), "{log:#?}");
    let patches = log
        .iter()
        .filter(|r| r.method == "PATCH" && r.status != 0)
        .count();
    assert_eq!(patches, 4, "one re-enable per account: {log:#?}");
    let additions = log
        .iter()
        .filter(|r| r.path.ends_with("/members/$ref") && r.status != 0)
        .count();
    assert_eq!(additions, 1, "{log:#?}");
    let resets = log
        .iter()
        .filter(|r| r.path.ends_with("/resetPassword") && r.status != 0)
        .count();
    assert_eq!(resets, 1, "{log:#?}");

    // The kills were real: every replica died at least once, and the two changes Graph held
    // were cut off mid-call and settled by reading the target.
    assert!(c.kills >= 3, "kills: {}", c.kills);
    let records = tenant.audit_records(None).await?;
    let reconciled = records
        .iter()
        .filter(|r| r.entry.outcome.as_deref() == Some("reconciled"))
        .count();
    assert!(
        reconciled >= 2,
        "{reconciled} change(s) settled after the kills"
    );
    assert!(
        records
            .iter()
            .any(|r| r.entry.outcome.as_deref() == Some("reconciled")
                && r.entry.detail["found"] == "applied"),
        "the re-enable Graph applied before the kill was not found applied"
    );
    // And the audit trail verifies, through the binary as an operator runs it.
    let verify = Command::new(env!("CARGO_BIN_EXE_steward"))
        .args(["audit", "verify", "--data-dir"])
        .arg(&c.dir)
        .args(["--database", &url])
        .output()?;
    let text = String::from_utf8_lossy(&verify.stdout);
    assert!(verify.status.success() && text.contains("intact"), "{text}");

    // Passed: stop the replicas and remove what the run left (a failed run keeps its logs).
    let (dir, schema) = (c.dir.clone(), c.schema.clone());
    drop(c);
    drop(store);
    drop(cluster);
    let _ =
        steward_store::testing::drop_schema(&steward_store::testing::test_postgres_url(), &schema)
            .await;
    let _ = std::fs::remove_dir_all(dir);
    Ok(())
}
