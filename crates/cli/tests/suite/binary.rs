//! The `steward` binary as a user runs it.

use std::process::Command;

use anyhow::Context as _;
use serde_json::Value;

fn steward() -> Command {
    Command::new(env!("CARGO_BIN_EXE_steward"))
}

#[tokio::test]
async fn ask_json_then_audit_verify_then_tamper_is_named() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let data = dir.path().to_str().context("path")?;
    let report = adele_report(data)?;
    assert_eq!(report["status"], "resolved");
    assert_eq!(report["actions"][0]["decision"]["outcome"], "auto");

    let verify = steward()
        .args(["audit", "verify", "--data-dir", data])
        .output()?;
    let text = String::from_utf8_lossy(&verify.stdout);
    assert!(verify.status.success() && text.contains("intact"), "{text}");

    // Edit one record behind Steward's back.
    let store = steward_store::Store::open(&dir.path().join("steward.db")).await?;
    let edited = store
        .execute_unchecked(
            "UPDATE audit_records SET entry = replace(entry, 'adele@', 'eve@') WHERE seq = 6",
        )
        .await?;
    assert_eq!(edited, 1);
    drop(store);
    let verify = steward()
        .args(["audit", "verify", "--data-dir", data])
        .output()?;
    let text = String::from_utf8_lossy(&verify.stdout);
    assert_eq!(verify.status.code(), Some(1), "{text}");
    assert!(text.contains("BROKEN at record #6"), "{text}");
    Ok(())
}

#[tokio::test]
async fn a_chain_cut_short_past_its_signed_checkpoint_fails_against_the_exported_key()
-> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let data = dir.path().to_str().context("path")?;
    let out = steward()
        .args([
            "ask",
            "--data-dir",
            data,
            "--seed",
            "../sim/seeds/demo.json",
            "--json",
            "--as",
            "adele@larkspur.example",
            "I forgot my password and now I'm locked out",
        ])
        .output()?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The auditor keeps the public key apart from the installation.
    let key = steward()
        .args(["audit", "public-key", "--data-dir", data])
        .output()?;
    assert!(
        key.status.success(),
        "{}",
        String::from_utf8_lossy(&key.stderr)
    );
    let key_file = dir.path().join("auditor.pub");
    std::fs::write(&key_file, &key.stdout)?;
    let key_arg = key_file.to_str().context("path")?;
    let verify = steward()
        .args([
            "audit",
            "verify",
            "--data-dir",
            data,
            "--public-key",
            key_arg,
        ])
        .output()?;
    let text = String::from_utf8_lossy(&verify.stdout);
    assert!(verify.status.success(), "{text}");
    // `ask` signs what it wrote before exiting: one checkpoint covering the last record.
    assert!(
        text.contains("intact") && text.contains("1 signed checkpoint, the newest covers #"),
        "{text}"
    );

    // Someone cuts the chain short: the shorter chain is still a valid chain, but not the one
    // the checkpoint signed.
    let store = steward_store::Store::open(&dir.path().join("steward.db")).await?;
    let last: i64 = store
        .fetch_text_unchecked("SELECT CAST(MAX(seq) AS TEXT) FROM audit_records")
        .await?
        .concat()
        .parse()?;
    store
        .execute_unchecked(&format!(
            "DELETE FROM audit_records WHERE seq > {}",
            last - 3
        ))
        .await?;
    drop(store);
    let verify = steward()
        .args([
            "audit",
            "verify",
            "--data-dir",
            data,
            "--public-key",
            key_arg,
        ])
        .output()?;
    let text = String::from_utf8_lossy(&verify.stdout);
    assert_eq!(verify.status.code(), Some(1), "{text}");
    assert!(
        text.contains(&format!("BROKEN at record #{}", last - 2)) && text.contains("were removed"),
        "{text}"
    );

    // A key that is not the installation's does not verify its checkpoints either.
    let other = "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c";
    let verify = steward()
        .args(["audit", "verify", "--data-dir", data, "--public-key", other])
        .output()?;
    let text = String::from_utf8_lossy(&verify.stdout);
    assert_eq!(verify.status.code(), Some(1), "{text}");
    assert!(text.contains("does not verify"), "{text}");
    // A malformed key is a clear error, not a verdict.
    let verify = steward()
        .args([
            "audit",
            "verify",
            "--data-dir",
            data,
            "--public-key",
            "not-a-key",
        ])
        .output()?;
    assert_eq!(verify.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&verify.stderr).contains("malformed"));
    Ok(())
}

/// Runs Adele's locked-out request in-process against `data` (`ask --json`); returns the report.
fn adele_report(data: &str) -> anyhow::Result<Value> {
    let out = steward()
        .args([
            "ask",
            "--data-dir",
            data,
            "--seed",
            "../sim/seeds/demo.json",
            "--json",
            "--as",
            "adele@larkspur.example",
            "I forgot my password and now I'm locked out",
        ])
        .output()?;
    anyhow::ensure!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(serde_json::from_slice(&out.stdout)?)
}

/// Runs Adele's request; returns the temporary password Steward showed her.
fn ask_adele(data: &str) -> anyhow::Result<String> {
    let report = adele_report(data)?;
    let reply = report["reply"].as_str().context("reply")?;
    let password = reply
        .rsplit(": ")
        .next()
        .filter(|p| p.len() >= 8 && !p.contains(' '))
        .context("a temporary password in the reply")?;
    Ok(password.to_owned())
}

#[test]
fn audit_export_prints_jsonl_and_ocsf_by_time_range_and_follows_new_records() -> anyhow::Result<()>
{
    use std::io::BufRead as _;
    let dir = tempfile::tempdir()?;
    let data = dir.path().to_str().context("path")?;
    let password = ask_adele(data)?;

    let jsonl = steward()
        .args(["audit", "export", "--data-dir", data])
        .output()?;
    assert!(
        jsonl.status.success(),
        "{}",
        String::from_utf8_lossy(&jsonl.stderr)
    );
    let records: Vec<Value> = String::from_utf8(jsonl.stdout)?
        .lines()
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    assert!(records.len() > 5);
    let seqs: Vec<i64> = records.iter().filter_map(|r| r["seq"].as_i64()).collect();
    assert_eq!(seqs, (1..=records.len() as i64).collect::<Vec<_>>());
    assert_eq!(records[0]["entry"]["kind"], "requestReceived");

    let ocsf = steward()
        .args(["audit", "export", "--format", "ocsf", "--data-dir", data])
        .output()?;
    let events: Vec<Value> = String::from_utf8(ocsf.stdout)?
        .lines()
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    assert_eq!(events.len(), records.len());
    assert!(
        events
            .iter()
            .all(|e| e["class_uid"] == 6003 && e["category_uid"] == 6)
    );
    let reset = events
        .iter()
        .find(|e| {
            e["metadata"]["event_code"] == "outcome"
                && e["api"]["operation"] == "entra.user.reset_password"
        })
        .context("the reset's outcome is exported")?;
    assert_eq!(reset["status_id"], 1);
    assert_eq!(reset["type_uid"], 600303);
    // The temporary password never leaves in an export: it never entered a record.
    let everything = format!(
        "{}{}",
        serde_json::to_string(&events)?,
        serde_json::to_string(&records)?
    );
    assert!(
        !everything.contains(&password),
        "the temporary password was exported"
    );

    // A range in the future is empty; one around now holds everything.
    let later = steward()
        .args([
            "audit",
            "export",
            "--since",
            "2999-01-01T00:00:00Z",
            "--data-dir",
            data,
        ])
        .output()?;
    assert!(later.status.success() && later.stdout.is_empty());
    let all = steward()
        .args([
            "audit",
            "export",
            "--since",
            "2000-01-01T00:00:00Z",
            "--until",
            "2999-01-01T00:00:00Z",
            "--data-dir",
            data,
        ])
        .output()?;
    assert_eq!(
        String::from_utf8(all.stdout)?.lines().count(),
        records.len()
    );
    let bad = steward()
        .args([
            "audit",
            "export",
            "--since",
            "yesterday",
            "--data-dir",
            data,
        ])
        .output()?;
    assert_eq!(bad.status.code(), Some(2));

    // Following: existing records first, then those of the next conversation as they land.
    let mut follower = steward()
        .args(["audit", "export", "--follow", "--data-dir", data])
        .stdout(std::process::Stdio::piped())
        .spawn()?;
    let stdout = follower.stdout.take().context("stdout")?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let wait = std::time::Duration::from_secs(20);
    for _ in 0..records.len() {
        rx.recv_timeout(wait)?;
    }
    ask_adele(data)?;
    let next: Value = serde_json::from_str(&rx.recv_timeout(wait)?)?;
    follower.kill()?;
    let _ = follower.wait();
    assert_eq!(next["seq"], records.len() as i64 + 1);
    assert_eq!(next["entry"]["kind"], "requestReceived");
    Ok(())
}

/// A SIEM collector on loopback that fails its first `failures` requests with 503.
async fn collector(
    failures: usize,
    status_after: u16,
) -> anyhow::Result<(
    String,
    std::sync::Arc<std::sync::Mutex<Vec<Value>>>,
    std::sync::Arc<std::sync::atomic::AtomicUsize>,
)> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};

    use axum::response::IntoResponse as _;
    let received: Arc<Mutex<Vec<Value>>> = Arc::default();
    let requests: Arc<AtomicUsize> = Arc::default();
    let (r, n) = (received.clone(), requests.clone());
    let app = axum::Router::new().route(
        "/ingest",
        axum::routing::post(move |body: String| {
            let (r, n) = (r.clone(), n.clone());
            async move {
                let seen = n.fetch_add(1, Ordering::SeqCst);
                if seen < failures {
                    return (
                        axum::http::StatusCode::SERVICE_UNAVAILABLE,
                        [("retry-after", "0")],
                    )
                        .into_response();
                }
                let status = axum::http::StatusCode::from_u16(status_after)
                    .unwrap_or(axum::http::StatusCode::OK);
                if status.is_success()
                    && let Ok(mut lines) = r.lock()
                {
                    lines.extend(
                        body.lines()
                            .filter_map(|l| serde_json::from_str::<Value>(l).ok()),
                    );
                }
                status.into_response()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/ingest", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok((url, received, requests))
}

async fn run_steward(args: Vec<String>) -> anyhow::Result<std::process::Output> {
    Ok(tokio::task::spawn_blocking(move || steward().args(args).output()).await??)
}

#[tokio::test]
async fn the_webhook_sink_retries_delivers_in_order_once_and_resumes_after_its_cursor()
-> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let data = dir.path().to_str().context("path")?.to_owned();
    ask_adele(&data)?;
    let (url, received, requests) = collector(2, 200).await?;
    let export = |url: &str| {
        [
            "audit",
            "export",
            "--format",
            "ocsf",
            "--webhook",
            url,
            "--data-dir",
            &data,
        ]
        .map(str::to_owned)
        .to_vec()
    };

    let out = run_steward(export(&url)).await?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("503") && stderr.contains("retrying"),
        "{stderr}"
    );
    let first: Vec<String> = received
        .lock()
        .map_err(|_| anyhow::anyhow!("lock"))?
        .iter()
        .filter_map(|e| e["metadata"]["uid"].as_str().map(str::to_owned))
        .collect();
    let n = first.len();
    assert!(n > 5);
    let expected: Vec<String> = (1..=n).map(|i| format!("larkspur-labs:{i}")).collect();
    assert_eq!(first, expected, "every record once, in order");
    assert_eq!(
        requests.load(std::sync::atomic::Ordering::SeqCst),
        3,
        "two refusals, then one batch"
    );

    // Nothing new: nothing re-sent.
    let out = run_steward(export(&url)).await?;
    assert!(out.status.success());
    assert_eq!(
        received.lock().map_err(|_| anyhow::anyhow!("lock"))?.len(),
        n
    );

    // The next conversation's records, and only those.
    ask_adele(&data)?;
    let out = run_steward(export(&url)).await?;
    assert!(out.status.success());
    let all = received
        .lock()
        .map_err(|_| anyhow::anyhow!("lock"))?
        .clone();
    assert!(all.len() > n);
    assert_eq!(
        all[n]["metadata"]["uid"],
        format!("larkspur-labs:{}", n + 1)
    );

    // A collector that refuses (a wrong token, say) is an error naming what was delivered.
    let (refusing, _, _) = collector(0, 401).await?;
    let out = run_steward(export(&refusing)).await?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("refused") && stderr.contains("rerun to resume"),
        "{stderr}"
    );
    Ok(())
}

#[test]
fn a_broken_policy_file_stops_start_up_with_file_and_line() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let policies = dir.path().join("policies").join("larkspur-labs");
    std::fs::create_dir_all(&policies)?;
    std::fs::write(
        policies.join("tenant.cedar"),
        "@id(\"tenant.ok\")\n@layer(\"tenant\")\npermit (principal, action, resource)\nwhen { principal.itAdmin ;\n",
    )?;
    let out = steward()
        .args([
            "demo",
            "--port",
            "0",
            "--data-dir",
            dir.path().to_str().context("path")?,
        ])
        .output()?;
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("tenant.cedar:4"), "{err}");

    std::fs::write(
        policies.join("tenant.cedar"),
        "@id(\"tenant.vip\")\n@layer(\"tenant\")\npermit (principal, action == Action::\"entra.user.teleport\", resource);\n",
    )?;
    let out = steward()
        .args([
            "demo",
            "--port",
            "0",
            "--data-dir",
            dir.path().to_str().context("path")?,
        ])
        .output()?;
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("tenant.cedar:") && err.contains("tenant.vip"),
        "{err}"
    );
    Ok(())
}

#[test]
fn policy_explain_names_deciding_policies_and_layers() -> anyhow::Result<()> {
    let out = steward()
        .args([
            "policy",
            "explain",
            "--action",
            "entra.user.reset_password",
            "--target",
            "other",
            "--json",
        ])
        .output()?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout)?;
    assert_eq!(v["decision"]["outcome"], "deny");
    assert_eq!(
        v["decision"]["deciding"][0]["id"],
        "global.self-service-own-objects-only"
    );
    assert_eq!(v["decision"]["deciding"][0]["layer"], "global");
    let out = steward()
        .args([
            "policy",
            "explain",
            "--action",
            "entra.user.enable",
            "--target",
            "requester",
        ])
        .output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("→ ask") && text.contains("action.enable-needs-approval (action)"),
        "{text}"
    );
    // What an approval would change, and the rule "approve always" would link.
    assert!(
        text.contains("approved by someone else → auto")
            && text.contains(r#"action == Action::"entra.user.enable""#),
        "{text}"
    );
    let out = steward()
        .args([
            "policy",
            "explain",
            "--action",
            "entra.user.reset_password",
            "--target",
            "privileged",
            "--it-admin",
            "--json",
        ])
        .output()?;
    let v: Value = serde_json::from_slice(&out.stdout)?;
    assert_eq!(v["decision"]["outcome"], "ask");
    assert_eq!(v["withApproval"]["outcome"], "auto");
    assert_eq!(v["withOwnApproval"]["outcome"], "deny");
    assert_eq!(
        v["withOwnApproval"]["deciding"][0]["id"],
        "global.privileged-needs-other-approver"
    );
    assert_eq!(v["approveAlwaysOffered"], false);
    Ok(())
}

#[test]
fn a_bad_seed_file_is_refused_with_a_clear_error() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let seed = dir.path().join("seed.json");
    std::fs::write(
        &seed,
        r#"{"organization": {"id": "t", "displayName": "X", "verifiedDomains": [{"name": "x.example"}]}, "users": [{"id": "1", "userPrincipalName": "a@x.example", "displayName": "A", "favouriteColour": "blue"}]}"#,
    )?;
    let out = steward()
        .args([
            "ask",
            "--data-dir",
            dir.path().to_str().context("path")?,
            "--seed",
            seed.to_str().context("path")?,
            "--as",
            "a@x.example",
            "hi",
        ])
        .output()?;
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("favouriteColour"), "{err}");
    Ok(())
}

/// Stops the demo when the test ends, whatever happens.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn the_demo_serves_the_page_and_the_cli_talks_to_it_through_an_approval() -> anyhow::Result<()>
{
    let dir = tempfile::tempdir()?;
    let data = dir.path().to_str().context("path")?.to_owned();
    let _demo = Child(
        steward()
            .args(["demo", "--port", "0", "--data-dir", &data])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()?,
    );
    let record = dir.path().join("server.json");
    let mut url = None;
    for _ in 0..300 {
        if let Ok(text) = std::fs::read_to_string(&record)
            && let Some(u) = serde_json::from_str::<Value>(&text)
                .ok()
                .and_then(|v| v["url"].as_str().map(str::to_owned))
        {
            url = Some(u);
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let url = url.context("the demo did not record its address")?;

    let page = reqwest::get(format!("{url}/")).await?.text().await?;
    assert!(page.contains("<title>Steward demo</title>"));
    let people: Value = reqwest::get(format!("{url}/api/v1/demo/people"))
        .await?
        .json()
        .await?;
    assert!(people["people"].as_array().is_some_and(|p| p.len() > 30));

    let out = steward()
        .args([
            "ask",
            "--data-dir",
            &data,
            "--json",
            "--as",
            "tom@larkspur.example",
            "my account is disabled",
        ])
        .output()?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("in-process"),
        "used the running demo"
    );
    let report: Value = serde_json::from_slice(&out.stdout)?;
    assert_eq!(report["status"], "awaitingApproval");
    let id = report["actions"][0]["approvalId"]
        .as_str()
        .context("approval id")?
        .to_owned();

    let list = steward()
        .args(["approvals", "list", "--data-dir", &data])
        .output()?;
    let listed = String::from_utf8_lossy(&list.stdout);
    assert!(listed.contains(&id), "{listed}");
    assert!(
        listed.contains("change: tom@larkspur.example accountEnabled: false → true"),
        "{listed}"
    );

    let refused = steward()
        .args([
            "approvals",
            "approve",
            &id,
            "--as",
            "adele@larkspur.example",
            "--data-dir",
            &data,
        ])
        .output()?;
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("not an approver"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );

    let approved = steward()
        .args([
            "approvals",
            "approve",
            &id,
            "--as",
            "nestor@larkspur.example",
            "--data-dir",
            &data,
        ])
        .output()?;
    let text = String::from_utf8_lossy(&approved.stdout);
    assert!(
        approved.status.success(),
        "{}",
        String::from_utf8_lossy(&approved.stderr)
    );
    assert!(
        text.contains("executed") && text.contains("re-enabled"),
        "{text}"
    );

    // The account is enabled now: the same request finds nothing to re-enable.
    let out = steward()
        .args([
            "ask",
            "--data-dir",
            &data,
            "--json",
            "--as",
            "tom@larkspur.example",
            "my account is disabled",
        ])
        .output()?;
    let report: Value = serde_json::from_slice(&out.stdout)?;
    assert!(
        report["findings"]
            .as_array()
            .into_iter()
            .flatten()
            .all(|f| f["code"] != "account.disabled"),
        "{report}"
    );
    assert_eq!(
        report["actions"],
        serde_json::json!([]),
        "nothing to do for an enabled account"
    );
    assert_eq!(report["status"], "answered");

    let verify = steward()
        .args(["audit", "verify", "--data-dir", &data])
        .output()?;
    assert!(verify.status.success() && String::from_utf8_lossy(&verify.stdout).contains("intact"));
    Ok(())
}

// Multi-threaded: the simulator keeps serving while this thread waits on the child processes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_runs_a_configured_tenant_with_a_delegated_credential_from_the_environment()
-> anyhow::Result<()> {
    use std::io::BufRead as _;

    let sim = steward_sim::start(steward_sim::demo_seed()?, None).await?;
    let answer = super::support::sign_in(&reqwest::Client::new(), &sim.token_url(), "nestor@larkspur.example", "Demo-Nestor-2026!", "User.ReadWrite.All User.RevokeSessions.All UserAuthenticationMethod.ReadWrite.All GroupMember.ReadWrite.All AuditLog.Read.All").await?;
    let refresh = answer["refresh_token"]
        .as_str()
        .context("refresh token")?
        .to_owned();
    let dir = tempfile::tempdir()?;
    std::fs::create_dir_all(dir.path().join("policies"))?;
    for (name, text) in steward_policy::DEFAULT_TENANT_POLICIES {
        std::fs::write(dir.path().join("policies").join(name), text)?;
    }
    let config = format!(
        r#"data_dir = "data"
listen = "127.0.0.1:0"

[[tenants]]
id = "larkspur"
name = "Larkspur Labs"
domain = "larkspur.example"
policy_dir = "policies"
protected_identities = ["breakglass@larkspur.example"]

[tenants.graph]
base_url = "{}"
token_url = "{}"
client_id = "steward-test"
credential_owner = "nestor@larkspur.example"
refresh_token_env = "TEST_LARKSPUR_REFRESH_TOKEN"
employee_owner = "steward-svc@larkspur.example"
employee_refresh_token_env = "TEST_LARKSPUR_EMPLOYEE_TOKEN"
"#,
        sim.base_url,
        sim.token_url()
    );
    let path = dir.path().join("steward.toml");
    std::fs::write(&path, config)?;

    // Without the secret in the environment, start-up says which variable is missing.
    let out = steward()
        .args(["serve", "--config", path.to_str().context("path")?])
        .env_remove("TEST_LARKSPUR_REFRESH_TOKEN")
        .output()?;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("TEST_LARKSPUR_REFRESH_TOKEN"));

    let mut child = Child(
        steward()
            .args(["serve", "--config", path.to_str().context("path")?])
            .env("TEST_LARKSPUR_REFRESH_TOKEN", &refresh)
            .env(
                "TEST_LARKSPUR_EMPLOYEE_TOKEN",
                steward_cli::demo::sim_employee_credential(
                    &steward_sim::demo_seed()?,
                    &sim.token_url(),
                )
                .await?
                .map(|(_, token)| token)
                .unwrap_or_default(),
            )
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()?,
    );
    let stdout = child.0.stdout.take().context("stdout")?;
    let mut first = String::new();
    std::io::BufReader::new(stdout).read_line(&mut first)?;
    let url = first
        .split_whitespace()
        .last()
        .context("no address printed")?
        .to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{first}");

    let out = steward()
        .args([
            "ask",
            "--server",
            &url,
            "--json",
            "--as",
            "adele@larkspur.example",
            "I'm locked out",
        ])
        .output()?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout)?;
    assert_eq!(report["status"], "resolved");
    assert_eq!(report["tenant"], "larkspur");
    assert!(dir.path().join("data").join("steward.db").exists());
    Ok(())
}

#[test]
fn policy_test_tables_pass_and_a_mismatch_fails() -> anyhow::Result<()> {
    let out = steward()
        .args([
            "policy",
            "test",
            "../policy/policies/default-tenant.tests.toml",
        ])
        .output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("38 cases, 0 failed"), "{text}");

    let dir = tempfile::tempdir()?;
    let table = dir.path().join("t.toml");
    std::fs::write(
        &table,
        "[[case]]\nname = \"wrong on purpose\"\naction = \"entra.user.disable\"\nexpect = \"auto\"\n",
    )?;
    let out = steward()
        .args(["policy", "test", table.to_str().context("path")?])
        .output()?;
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("FAIL  wrong on purpose: expected auto"));

    let out = steward()
        .args(["policy", "prove", "../policy/policies/default-tenant"])
        .output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for invariant in [
        "self-service-own-objects",
        "privileged-second-person",
        "critical-needs-approval",
        "no-self-approval-on-privileged",
    ] {
        assert!(text.contains(&format!("holds   {invariant}")), "{text}");
    }

    let out = steward()
        .args(["policy", "validate", "../policy/policies/default-tenant"])
        .output()?;
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).contains("57 policies"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    Ok(())
}

#[test]
fn actions_list_prints_the_whole_catalogue_with_what_each_action_needs() -> anyhow::Result<()> {
    let out = steward().args(["actions", "list", "--json"]).output()?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listed: Value = serde_json::from_slice(&out.stdout)?;
    let actions = listed["actions"].as_array().context("no actions")?;
    assert_eq!(actions.len(), steward_connectors::builtin_catalog().len());
    let revoke = actions
        .iter()
        .find(|a| a["name"] == "entra.user.revoke_sessions")
        .context("revoke sessions missing")?;
    assert_eq!(revoke["system"], "entra");
    assert_eq!(revoke["mutating"], true);
    assert_eq!(revoke["permissions"][0], "User.RevokeSessions.All");
    assert_eq!(revoke["calls"][0], "POST /users/{id}/revokeSignInSessions");
    let enable = actions
        .iter()
        .find(|a| a["name"] == "entra.user.enable")
        .context("enable missing")?;
    assert_eq!(enable["undo"], "entra.user.disable");

    let table = steward().args(["actions", "list"]).output()?;
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(
        text.contains("entra.user.reset_password")
            && text.contains("UserAuthenticationMethod.ReadWrite.All"),
        "{text}"
    );
    Ok(())
}

#[test]
fn a_playbook_from_the_command_line_reports_each_step_and_fails_when_one_is_not_done()
-> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let data = dir.path().to_str().context("path")?;
    // Nestor as a User Administrator only: the mailbox and OneDrive steps fail.
    let seed = dir.path().join("seed.json");
    std::fs::write(
        &seed,
        serde_json::to_vec(&super::support::seed_with_only_roles(
            "nestor",
            super::support::USER_ADMIN_ONLY,
        )?)?,
    )?;
    let out = steward()
        .args([
            "playbook",
            "offboard",
            "--data-dir",
            data,
            "--seed",
            seed.to_str().context("path")?,
            "--json",
            "--as",
            "nestor@larkspur.example",
            "--user",
            "tom@larkspur.example",
        ])
        .output()?;
    // Without an Exchange or SharePoint role those steps fail, so the command says the leaver is
    // not fully offboarded.
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout)?;
    assert_eq!(report["playbook"], "offboarding");
    assert_eq!(report["steps"][0]["action"], "entra.user.disable");
    assert_eq!(report["steps"][0]["status"], "done");
    assert!(
        report["steps"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|s| s["action"] == "exchange.auto_reply.set" && s["status"] == "failed")
    );

    let unknown = steward()
        .args([
            "playbook",
            "offboard",
            "--data-dir",
            data,
            "--seed",
            "../sim/seeds/demo.json",
            "--as",
            "nestor@larkspur.example",
            "--user",
            "nobody@larkspur.example",
        ])
        .output()?;
    assert!(!unknown.status.success());
    assert!(
        String::from_utf8_lossy(&unknown.stderr)
            .contains("cannot offboard `nobody@larkspur.example`"),
        "{}",
        String::from_utf8_lossy(&unknown.stderr)
    );
    Ok(())
}
