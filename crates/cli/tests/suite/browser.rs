//! The web console in real Chromium (Debian `chromium`, driven by `playwright-core` from
//! `e2e/`): an employee asks for something that needs approval, an IT admin approves it in
//! another browser context, the change runs, the employee sees the result, and the audit view
//! shows the records; then the admin hands Steward an API's OpenAPI document in the chat, gives
//! its secret in the Integrations form, accepts the proposed policies and runs one of its actions
//! from the "run action" form against the Jira simulator.
//! Screenshots land in `target/screenshots/`. Never skipped: without
//! Chromium or Node the test fails saying what to install (`.ci/run` installs both).

use std::path::PathBuf;

use anyhow::Context as _;

use super::support::Harness;

fn repository() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[tokio::test(flavor = "multi_thread")]
async fn an_employee_request_is_approved_in_another_browser_and_seen_done() -> anyhow::Result<()> {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    anyhow::ensure!(
        std::path::Path::new(&chromium).is_file(),
        "the console's browser test needs Chromium at {chromium}: `apt-get install chromium` (or set CHROMIUM)"
    );
    let e2e = repository().join("e2e");
    if !e2e.join("node_modules/playwright-core").is_dir() {
        let status = std::process::Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&e2e)
            .status()
            .context("the console's browser test needs Node.js and npm")?;
        anyhow::ensure!(status.success(), "`npm ci` in e2e/ failed");
    }

    let h = Harness::new().await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let app = super::console::console_app(&h, &format!("{url}/console/callback"))?;
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    // An API nobody wrote a connector for, and its document as an admin would upload it.
    let jira = steward_sim::itsm::RunningItsm::start(steward_sim::itsm::ItsmAccount {
        user: "steward@larkspur.example".into(),
        secret: "jira-api-token-7Q".into(),
    })
    .await?;
    let issue = jira.raise_issue(
        "sam@larkspur.example",
        "",
        "Badge reader at the lobby is dead",
        "",
    );
    let spec_file = h.data_dir().join("jira-openapi.json");
    std::fs::write(
        &spec_file,
        super::support::reference_text("jira-cloud-platform-v3-it-subset.json")?,
    )?;

    let shots = repository().join("target/screenshots");
    std::fs::create_dir_all(&shots)?;
    let out = tokio::process::Command::new("node")
        .arg("console.mjs")
        .current_dir(&e2e)
        .env("STEWARD_URL", &url)
        .env("SCREENSHOTS", &shots)
        .env("CHROMIUM", &chromium)
        .env("API_DOCUMENT", &spec_file)
        .env("API_BASE_URL", &jira.base_url)
        .env("API_ISSUE", &issue)
        .output()
        .await
        .context("cannot run node")?;
    server.abort();
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "the browser test failed:\n{log}");

    // The tenant: Jamal's MFA methods were reset by the approved change.
    let records = h.runtime().store.audit_records(None).await?;
    assert!(
        records
            .iter()
            .any(|r| r.entry.kind.to_string() == "approvalDecided")
    );
    // The uploaded integration was accepted in the browser, by the admin who signed in.
    let imported = h.runtime().store.integration("jiraops").await?;
    assert_eq!(imported.status, "enabled");
    assert_eq!(
        imported.accepted.map(|a| a.0).as_deref(),
        Some("nestor@larkspur.example")
    );
    for page in [
        "employee-waiting",
        "admin-approval-queue",
        "employee-resolved",
        "admin-audit",
        "admin-chat-import",
        "admin-integration",
    ] {
        let file = shots.join(format!("{page}.png"));
        assert!(
            std::fs::metadata(&file).is_ok_and(|m| m.len() > 1000),
            "no screenshot {}",
            file.display()
        );
    }
    Ok(())
}
