//! A REST API nobody wrote a connector for, connected from its OpenAPI document: imported with
//! the `steward` binary (dry run first), disabled until an admin accepts the proposed policies,
//! then used from the console's "run action" form through the gateway — a read at once, a
//! change only after another IT admin approves — against the Jira simulator, checked by what
//! the simulator holds afterwards.

use std::process::Command;

use anyhow::Context as _;
use axum::http::StatusCode;
use serde_json::json;
use steward_sim::itsm::{ItsmAccount, RunningItsm};

use super::console::world;
use super::support::reference_text;

fn steward() -> Command {
    Command::new(env!("CARGO_BIN_EXE_steward"))
}

fn run(cmd: &mut Command) -> anyhow::Result<String> {
    let out = cmd.output()?;
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    anyhow::ensure!(
        out.status.success(),
        "{cmd:?} failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(stdout)
}

#[tokio::test]
async fn an_imported_api_is_used_only_after_its_policies_are_accepted() -> anyhow::Result<()> {
    let w = world().await?;
    let jira = RunningItsm::start(ItsmAccount {
        user: "steward@larkspur.example".into(),
        secret: "jira-api-token-7Q".into(),
    })
    .await?;
    let spec_file = w.h.data_dir().join("jira.json");
    std::fs::write(
        &spec_file,
        reference_text("jira-cloud-platform-v3-it-subset.json")?,
    )?;
    let data = w.h.data_dir().to_str().context("path")?.to_owned();
    let tenant = w.h.runtime().config.id.to_string();
    let policy_dir = w.h.data_dir().join("policies").join(&tenant);

    // A dry run lists the actions and saves nothing.
    let dry = run(steward()
        .args(["integrations", "import"])
        .arg(&spec_file)
        .args([
            "--name",
            "jiraops",
            "--base-url",
            &jira.base_url,
            "--dry-run",
            "--data-dir",
            &data,
        ]))?;
    assert!(
        dry.contains("jiraops.issue.create_issue")
            && dry.contains("POST")
            && dry.contains("/rest/api/3/issue"),
        "{dry}"
    );
    assert!(dry.contains("nothing was saved"), "{dry}");
    assert!(w.h.runtime().store.integrations().await?.is_empty());

    // Imported for real, with its secret: saved disabled, the secret sealed.
    let saved = run(steward()
        .args(["integrations", "import"])
        .arg(&spec_file)
        .args([
            "--name",
            "jiraops",
            "--base-url",
            &jira.base_url,
            "--data-dir",
            &data,
        ])
        .args([
            "--as",
            "nestor@larkspur.example",
            "--secret-env",
            "JIRAOPS_SECRET",
        ])
        .env(
            "JIRAOPS_SECRET",
            "steward@larkspur.example:jira-api-token-7Q",
        ))?;
    assert!(
        saved.contains("saved DISABLED")
            && saved.contains("integration.jiraops.changes-need-approval"),
        "{saved}"
    );
    let row = w.h.runtime().store.integration("jiraops").await?;
    assert_eq!(row.status, "disabled");
    let db = std::fs::read(w.h.data_dir().join("steward.db"))?;
    let wal = std::fs::read(w.h.data_dir().join("steward.db-wal")).unwrap_or_default();
    for bytes in [&db, &wal] {
        assert!(
            !bytes
                .windows(b"jira-api-token-7Q".len())
                .any(|w| w == b"jira-api-token-7Q"),
            "the secret is stored sealed"
        );
    }

    // Disabled: not offered, nothing reaches the API.
    let (nestor, _, csrf) = w.session("nestor", "Demo-Nestor-2026!").await?;
    w.h.runtime().refresh_integrations().await?;
    let read = json!({"action": "jiraops.issue.get_issue", "params": {"issueIdOrKey": "IT-1"}});
    let (status, _, refused) = w
        .call(
            "POST",
            "/console/api/actions/run",
            Some(&nestor),
            Some(&csrf),
            Some(read.clone()),
        )
        .await?;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert!(
        refused.to_string().contains("not an action Steward offers"),
        "{refused}"
    );

    // Accepted: the policies are kept with the integration in the store (no file is written
    // into the operator's directory) and the integration enabled; the running tenant brings both
    // in at its next look.
    let accept = || {
        let mut cmd = steward();
        cmd.args([
            "integrations",
            "accept",
            "jiraops",
            "--as",
            "nestor@larkspur.example",
        ])
        .args(["--data-dir", &data])
        .arg("--policy-dir")
        .arg(&policy_dir);
        cmd
    };
    let accepted = run(&mut accept())?;
    assert!(accepted.contains("enabled"), "{accepted}");
    assert!(!policy_dir.join("integration-jiraops.cedar").exists());
    assert_eq!(
        w.h.runtime().store.integration("jiraops").await?.status,
        "enabled"
    );
    let again = accept().output()?;
    assert!(!again.status.success(), "accepted once only");
    w.h.runtime().refresh_integrations().await?;
    // The policy tools know it when pointed at the store, as a running Steward does.
    let explained = run(steward()
        .args([
            "policy",
            "explain",
            "--action",
            "jiraops.issue.create_issue",
            "--it-admin",
            "--data-dir",
            &data,
            "--policy-dir",
        ])
        .arg(&policy_dir))?;
    assert!(
        explained.contains("integration.jiraops.changes-need-approval"),
        "{explained}"
    );
    let validated = run(steward()
        .args(["policy", "validate", "--data-dir", &data])
        .arg(&policy_dir))?;
    assert!(validated.contains("valid"), "{validated}");
    let unknown = steward()
        .args([
            "policy",
            "explain",
            "--action",
            "jiraops.issue.create_issue",
            "--it-admin",
        ])
        .output()?;
    assert!(!unknown.status.success(), "without the store it is unknown");
    let (_, _, listed) = w
        .call("GET", "/console/api/actions", Some(&nestor), None, None)
        .await?;
    assert!(
        listed.to_string().contains("jiraops.issue.create_issue"),
        "offered once accepted"
    );

    // A change waits for another IT admin; nothing was created meanwhile.
    let create = json!({"action": "jiraops.issue.create_issue", "params": {"body": {"fields": {
        "project": {"key": "IT"}, "issuetype": {"name": "Task"}, "summary": "Rotate the VPN certificate"
    }}}});
    let request = || async {
        let (status, _, waiting) = w
            .call(
                "POST",
                "/console/api/actions/run",
                Some(&nestor),
                Some(&csrf),
                Some(create.clone()),
            )
            .await?;
        anyhow::ensure!(
            status == StatusCode::OK && waiting["status"] == "awaitingApproval",
            "{status} {waiting}"
        );
        let id = waiting["approvalId"]
            .as_str()
            .context("approval id")?
            .to_owned();
        anyhow::Ok(format!("/console/api/approvals/{id}/approve"))
    };
    // The requester approving his own change does not make it run: the policy wants another
    // person's approval, so his is refused and the request stays pending for someone else.
    let path = request().await?;
    let (status, _, refused) = w
        .call("POST", &path, Some(&nestor), Some(&csrf), None)
        .await?;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
    assert!(jira.jira_issues().is_empty());
    let pending =
        w.h.runtime()
            .store
            .approvals(Some(steward_store::ApprovalStatus::Pending))
            .await?;
    assert_eq!(
        pending.len(),
        1,
        "still pending after a refused self-approval"
    );
    // Another IT admin's approval of the same request does.
    let (grace, _, grace_csrf) = w.session("grace", "Demo-Grace-2026!").await?;
    let (status, _, decided) = w
        .call("POST", &path, Some(&grace), Some(&grace_csrf), None)
        .await?;
    assert_eq!(status, StatusCode::OK, "{decided}");
    let issues = jira.jira_issues();
    assert_eq!(issues.len(), 1, "created once: {issues:?} {decided}");
    assert_eq!(issues[0]["fields"]["summary"], "Rotate the VPN certificate");
    let key = issues[0]["key"].as_str().context("key")?.to_owned();

    // A read runs at once for an IT admin in the console, with the stored secret.
    let read = json!({"action": "jiraops.issue.get_issue", "params": {"issueIdOrKey": key}});
    let (status, _, done) = w
        .call(
            "POST",
            "/console/api/actions/run",
            Some(&nestor),
            Some(&csrf),
            Some(read.clone()),
        )
        .await?;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(done["output"]["key"], key.as_str());
    assert!(
        done["decision"]
            .to_string()
            .contains("integration.jiraops.console-reads-for-it-admins"),
        "{done}"
    );
    // Arguments outside the operation's schema are refused before anything is sent.
    let bad =
        json!({"action": "jiraops.issue.get_issue", "params": {"issueIdOrKey": key, "extra": 1}});
    let (_, _, refused) = w
        .call(
            "POST",
            "/console/api/actions/run",
            Some(&nestor),
            Some(&csrf),
            Some(bad),
        )
        .await?;
    assert_eq!(refused["status"], "failed", "{refused}");

    // An employee has no run-action form at all.
    let (sam, _, sam_csrf) = w.session("sam", "Demo-Sam-2026!").await?;
    let (status, _, _) = w
        .call(
            "POST",
            "/console/api/actions/run",
            Some(&sam),
            Some(&sam_csrf),
            Some(read),
        )
        .await?;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Every call is in the audit trail under the integration's action names.
    let records = w.h.runtime().store.audit_records(None).await?;
    let named: Vec<&str> = records
        .iter()
        .filter_map(|r| r.entry.action.as_deref())
        .filter(|a| a.starts_with("jiraops."))
        .collect();
    assert!(
        named.contains(&"jiraops.issue.create_issue") && named.contains(&"jiraops.issue.get_issue"),
        "{named:?}"
    );
    Ok(())
}

#[tokio::test]
async fn an_api_document_uploaded_in_the_console_is_imported_reviewed_and_accepted_there()
-> anyhow::Result<()> {
    let w = world().await?;
    let jira = RunningItsm::start(ItsmAccount {
        user: "steward@larkspur.example".into(),
        secret: "jira-api-token-7Q".into(),
    })
    .await?;
    let key = jira.raise_issue(
        "sam@larkspur.example",
        "",
        "Printer on floor 3 jams",
        "It jams on every job.",
    );
    let document = reference_text("jira-cloud-platform-v3-it-subset.json")?;
    let upload = |dry_run: bool| {
        json!({"name": "jiraops", "baseUrl": jira.base_url, "document": document,
               "secret": "steward@larkspur.example:jira-api-token-7Q", "dryRun": dry_run})
    };
    let store = &w.h.runtime().store;

    // Employees cannot import.
    let (sam, _, sam_csrf) = w.session("sam", "Demo-Sam-2026!").await?;
    let (status, _, _) = w
        .call(
            "POST",
            "/console/api/integrations/import",
            Some(&sam),
            Some(&sam_csrf),
            Some(upload(false)),
        )
        .await?;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(store.integrations().await?.is_empty());

    // A dry run shows the actions and the proposed policies and saves nothing.
    let (nestor, _, csrf) = w.session("nestor", "Demo-Nestor-2026!").await?;
    let post = |path: &'static str, body: Option<serde_json::Value>| {
        let (nestor, csrf) = (nestor.clone(), csrf.clone());
        let w = &w;
        async move { w.call("POST", path, Some(&nestor), Some(&csrf), body).await }
    };
    let (status, _, dry) = post("/console/api/integrations/import", Some(upload(true))).await?;
    assert_eq!(status, StatusCode::OK, "{dry}");
    assert_eq!(dry["status"], "dryRun");
    assert!(
        dry["actions"]
            .as_array()
            .context("actions")?
            .iter()
            .any(|a| a["name"] == "jiraops.issue.get_issue" && a["mutating"] == false),
        "{dry}"
    );
    assert!(
        dry["proposedPolicy"]
            .as_str()
            .is_some_and(|p| p.contains("integration.jiraops.changes-need-approval"))
    );
    assert!(
        store.integrations().await?.is_empty(),
        "a dry run saves nothing"
    );

    // A document that is not an API description is refused, saying why; nothing is saved.
    let (status, _, refused) = post(
        "/console/api/integrations/import",
        Some(json!({"name": "jiraops", "baseUrl": jira.base_url, "document": "openapi: 9.1\npaths: {}\n"})),
    )
    .await?;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert!(
        refused["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty())
    );
    assert!(store.integrations().await?.is_empty());

    // Imported: saved disabled with its secret; its actions are not offered yet.
    let (status, _, saved) = post("/console/api/integrations/import", Some(upload(false))).await?;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(store.integration("jiraops").await?.status, "disabled");
    assert!(store.credential("integration:jiraops").await.is_ok());
    let (_, _, listed) = w
        .call(
            "GET",
            "/console/api/integrations/imported",
            Some(&nestor),
            None,
            None,
        )
        .await?;
    assert_eq!(listed["integrations"][0]["status"], "disabled", "{listed}");
    assert_eq!(
        listed["integrations"][0]["importedBy"],
        "nestor@larkspur.example"
    );
    let read = json!({"action": "jiraops.issue.get_issue", "params": {"issueIdOrKey": key}});
    let (status, _, _) = post("/console/api/actions/run", Some(read.clone())).await?;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "not offered before acceptance"
    );

    // Accepted in the console: in force at once, no policy file and no reload needed.
    let (status, _, accepted) =
        post("/console/api/integrations/imported/jiraops/accept", None).await?;
    assert_eq!(status, StatusCode::OK, "{accepted}");
    assert_eq!(store.integration("jiraops").await?.status, "enabled");
    let (status, _, done) = post("/console/api/actions/run", Some(read.clone())).await?;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(done["output"]["key"], key.as_str());
    assert_eq!(
        done["output"]["fields"]["summary"],
        "Printer on floor 3 jams"
    );
    let (status, _, _) = post("/console/api/integrations/imported/jiraops/accept", None).await?;
    assert_eq!(status, StatusCode::BAD_REQUEST, "accepted once only");

    // An accepted integration whose policies no longer load leaves its own actions
    // unpermitted, never the others without theirs.
    let broken =
        steward_agent::integrations::preview(&document, "brokenops", Some(&jira.base_url))?;
    store
        .put_integration(
            "brokenops",
            &serde_json::to_value(&broken.integration)?,
            "permit (principal, action == Action::\"nosuch.thing\", resource);",
            "nestor@larkspur.example",
        )
        .await?;
    store
        .accept_integration("brokenops", "nestor@larkspur.example")
        .await?;
    w.h.runtime().refresh_integrations().await?;
    let (_, _, still) = post("/console/api/actions/run", Some(read.clone())).await?;
    assert_eq!(still["status"], "done", "{still}");

    // Imported again (a changed document): disabled until reviewed again, and its actions
    // leave the catalog at the next look.
    let (status, _, _) = post("/console/api/integrations/import", Some(upload(false))).await?;
    assert_eq!(status, StatusCode::OK);
    w.h.runtime().refresh_integrations().await?;
    let (status, _, _) = post("/console/api/actions/run", Some(read)).await?;
    assert_eq!(status, StatusCode::BAD_REQUEST, "re-imported: not offered");
    // A policy of the operator's naming its actions still loads meanwhile (they stay in the
    // schema), so a re-import never stops the tenant's policies from reloading.
    let policy_dir =
        w.h.data_dir()
            .join("policies")
            .join(w.h.runtime().config.id.to_string());
    std::fs::write(
        policy_dir.join("jira-no-tickets.cedar"),
        "@id(\"tenant.jira-never-from-tickets\")\n@layer(\"tenant\")\nforbid (principal, action == Action::\"jiraops.issue.create_issue\", resource) when { context.channel == \"ticket\" };\n",
    )?;
    steward_cli::wiring::load_policies(
        w.h.runtime(),
        &policy_dir,
        steward_cli::wiring::PolicySlot::Enforced,
    )
    .await?;

    // The import and the acceptance are in the audit trail.
    let records = store.audit_records(None).await?;
    let outcomes: Vec<&str> = records
        .iter()
        .filter_map(|r| r.entry.outcome.as_deref())
        .collect();
    assert!(
        outcomes.contains(&"integrationImported") && outcomes.contains(&"integrationAccepted"),
        "{outcomes:?}"
    );
    Ok(())
}

#[tokio::test]
async fn an_api_document_handed_over_in_the_chat_is_imported_disabled() -> anyhow::Result<()> {
    let w = world().await?;
    let document = reference_text("jira-cloud-platform-v3-it-subset.json")?;
    let handed = |message: &str| json!({"message": message, "fileName": "jira-cloud.json", "document": document});
    let store = &w.h.runtime().store;
    // An employee cannot connect an API from the chat.
    let (sam, _, sam_csrf) = w.session("sam", "Demo-Sam-2026!").await?;
    let (status, _, _) = w
        .call(
            "POST",
            "/console/api/ask/attachment",
            Some(&sam),
            Some(&sam_csrf),
            Some(handed(
                "connect this as chatops at https://jira.example.com",
            )),
        )
        .await?;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(store.integrations().await?.is_empty());

    let (nestor, _, csrf) = w.session("nestor", "Demo-Nestor-2026!").await?;
    let (status, _, answer) = w
        .call(
            "POST",
            "/console/api/ask/attachment",
            Some(&nestor),
            Some(&csrf),
            Some(handed(
                "please connect this as chatops at https://jira.example.com.",
            )),
        )
        .await?;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert!(
        answer["reply"]
            .as_str()
            .is_some_and(|r| r.contains("saved it as `chatops`, disabled")),
        "{answer}"
    );
    let row = store.integration("chatops").await?;
    assert_eq!(row.status, "disabled");
    assert_eq!(row.definition["baseUrl"], "https://jira.example.com");
    // Something that is not an API description is answered in the chat; nothing is saved.
    let (status, _, refused) = w
        .call(
            "POST",
            "/console/api/ask/attachment",
            Some(&nestor),
            Some(&csrf),
            Some(json!({"message": "and this one as other", "fileName": "notes.txt", "document": "just some notes"})),
        )
        .await?;
    assert_eq!(status, StatusCode::OK);
    assert!(
        refused["reply"]
            .as_str()
            .is_some_and(|r| r.contains("Nothing was saved")),
        "{refused}"
    );
    assert!(store.integration("other").await.is_err());
    Ok(())
}
