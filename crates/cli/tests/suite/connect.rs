//! `steward connect`: an administrator signs in through the identity platform (authorization code
//! with PKCE); Steward keeps the delegated grant sealed in its store, and `steward serve` acts with
//! it — no refresh token in the environment or the config file.

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::Context as _;
use serde_json::{Value, json};

const OWNER: &str = "nestor@larkspur.example";
const OWNER_PASSWORD: &str = "Demo-Nestor-2026!";

fn steward() -> Command {
    Command::new(env!("CARGO_BIN_EXE_steward"))
}

fn write_config(
    dir: &Path,
    sim: &steward_sim::RunningSim,
    port: u16,
) -> anyhow::Result<std::path::PathBuf> {
    steward_cli::wiring::install_default_policies(&dir.join("policies/larkspur-labs"))?;
    let path = dir.join("steward.toml");
    std::fs::write(
        &path,
        format!(
            r#"data_dir = "{data}"
listen = "127.0.0.1:{port}"

[[tenants]]
id = "larkspur-labs"
name = "Larkspur Labs"
domain = "{domain}"
policy_dir = "{data}/policies/larkspur-labs"

[tenants.graph]
base_url = "{base}"
token_url = "{token}"
client_id = "5e3ce6c0-2b1f-4285-8d4b-75ee78787346"
credential_owner = "{OWNER}"
employee_owner = "steward-svc@larkspur.example"
"#,
            data = dir.display(),
            domain = sim.domain,
            base = sim.base_url,
            token = sim.token_url(),
        ),
    )?;
    Ok(path)
}

/// The browser's part: open the address, sign in on the page, follow the redirect home.
async fn sign_in_in_browser(url: &str, login: &str, password: &str) -> anyhow::Result<()> {
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let page = browser.get(url).send().await?;
    anyhow::ensure!(
        page.status().is_success(),
        "sign-in page: {}",
        page.status()
    );
    let form: Vec<(String, String)> = url::Url::parse(url)?
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .chain([
            ("login".into(), login.into()),
            ("passwd".into(), password.into()),
        ])
        .collect();
    let signed_in = browser.post(url).form(&form).send().await?;
    let home = signed_in
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .context("no redirect after signing in")?
        .to_owned();
    let landed = browser.get(&home).send().await?;
    anyhow::ensure!(
        landed.status().is_success(),
        "callback: {}",
        landed.status()
    );
    Ok(())
}

/// Runs `steward connect` and signs in as `login`; returns the command's exit status and output.
async fn connect(config: &Path, login: &str, password: &str) -> anyhow::Result<(bool, String)> {
    connect_for(config, "admin", login, password).await
}

/// Like [`connect`], for the grant `grant` (`admin` or `employees`).
async fn connect_for(
    config: &Path,
    grant: &str,
    login: &str,
    password: &str,
) -> anyhow::Result<(bool, String)> {
    let mut child = steward()
        .args(["connect", "--config"])
        .arg(config)
        .args(["--timeout-seconds", "60", "--for", grant])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let stdout = child.stdout.take().context("no stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let url = loop {
        let line = lines
            .next()
            .context("connect ended before printing an address")??;
        if line.starts_with("http") {
            break line;
        }
    };
    sign_in_in_browser(&url, login, password).await?;
    let output = child.wait_with_output()?;
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let text = format!(
        "{}{}",
        rest.join("\n"),
        String::from_utf8_lossy(&output.stderr)
    );
    Ok((output.status.success(), text))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_signs_in_once_and_serve_acts_with_the_kept_grant() -> anyhow::Result<()> {
    let sim = steward_sim::start(steward_sim::demo_seed()?, None).await?;
    let dir = tempfile::tempdir()?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let config = write_config(dir.path(), &sim, port)?;

    // Without a credential, serve refuses to start and says how to connect.
    let refused = steward()
        .args(["serve", "--config"])
        .arg(&config)
        .output()?;
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("steward connect"), "{said}");

    // Someone other than the configured owner signs in: nothing is kept.
    let (ok, text) = connect(&config, "grace@larkspur.example", "Demo-Grace-2026!").await?;
    assert!(!ok && text.contains("nothing was saved"), "{text}");

    let (ok, text) = connect(&config, OWNER, OWNER_PASSWORD).await?;
    assert!(ok, "{text}");
    assert!(text.contains("Connected"), "{text}");

    // Kept sealed, with whose grant it is and its scopes; the sign-in is audited.
    let store = steward_store::Store::open(&dir.path().join("steward.db")).await?;
    let tenant = store
        .tenant(&steward_domain::TenantId::new("larkspur-labs")?)
        .await?;
    let kept = tenant.credential("msgraph").await?;
    assert_eq!(kept.owner, OWNER);
    assert!(
        kept.scopes.iter().any(|s| s == "User.ReadWrite.All"),
        "{:?}",
        kept.scopes
    );
    let raw = store
        .fetch_text_unchecked("SELECT secret FROM credentials")
        .await?
        .concat();
    assert!(raw.starts_with("enc1:") && !raw.contains(kept.refresh_token.as_str()));
    let records = tenant.audit_records(None).await?;
    let connected = records
        .iter()
        .find(|r| r.entry.kind == steward_audit::RecordKind::CredentialChange)
        .context("the sign-in was not audited")?;
    assert_eq!(connected.entry.actor.as_deref(), Some(OWNER));
    assert!(!connected.entry.actor_scopes.is_empty());
    let first_token = kept.refresh_token.to_string();
    drop(tenant);
    drop(store);

    // serve acts with it: a request is resolved through Graph with Nestor's grant.
    let mut serve = steward()
        .args(["serve", "--config"])
        .arg(&config)
        .env_remove("STEWARD_DATABASE_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let http = reqwest::Client::new();
    let mut up = false;
    for _ in 0..200 {
        if http
            .get(format!("http://127.0.0.1:{port}/healthz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let ask = |who: &'static str, message: &'static str| {
        let http = http.clone();
        async move {
            anyhow::Ok(
                http.post(format!("http://127.0.0.1:{port}/api/v1/ask"))
                    .json(&json!({"as": who, "message": message}))
                    .send()
                    .await?
                    .json::<Value>()
                    .await?,
            )
        }
    };
    let answers: anyhow::Result<Vec<Value>> = async {
        anyhow::ensure!(up, "serve did not come up");
        // An IT admin's request acts with the administrator's kept grant.
        let admin = ask(
            "hank@larkspur.example",
            "request to reset microsoft online services password for maria.chen@larkspur.example",
        )
        .await?;
        // Self-service has no grant of its own yet: refused, never done with Nestor's.
        let unconnected = ask("adele@larkspur.example", "I'm locked out").await?;
        // The employee channel's grant is connected while serve runs, and used at once.
        let (ok, text) = connect_for(
            &config,
            "employees",
            "steward-svc@larkspur.example",
            "Demo-Steward-2026!",
        )
        .await?;
        anyhow::ensure!(ok, "{text}");
        let connected = ask("adele@larkspur.example", "I'm locked out").await?;
        // Revoked: the very next self-service request is refused.
        let revoked = steward()
            .args(["connect", "--config"])
            .arg(&config)
            .args(["--for", "employees", "--revoke"])
            .output()?;
        anyhow::ensure!(
            revoked.status.success(),
            "{}",
            String::from_utf8_lossy(&revoked.stderr)
        );
        let after = ask("adele@larkspur.example", "I'm locked out again").await?;
        Ok(vec![admin, unconnected, connected, after])
    }
    .await;
    let _ = serve.kill();
    let _ = serve.wait();
    let answers = answers?;
    assert_eq!(answers[0]["status"], "resolved", "{}", answers[0]);
    assert_eq!(answers[1]["status"], "escalated", "{}", answers[1]);
    assert!(
        answers[1]
            .to_string()
            .contains("steward connect --for employees"),
        "{}",
        answers[1]
    );
    assert_eq!(answers[2]["status"], "resolved", "{}", answers[2]);
    assert_eq!(answers[3]["status"], "escalated", "{}", answers[3]);
    assert!(answers[3].to_string().contains("revoked"), "{}", answers[3]);

    // The platform rotated the refresh token when serve used it: the new one was kept.
    let store = steward_store::Store::open(&dir.path().join("steward.db")).await?;
    let tenant = store
        .tenant(&steward_domain::TenantId::new("larkspur-labs")?)
        .await?;
    let rotated = tenant.credential("msgraph").await?;
    assert_ne!(
        rotated.refresh_token.as_str(),
        first_token,
        "the rotated token was not kept"
    );
    Ok(())
}

/// `steward connect --system okta`: an Okta admin signs in to the org (authorization code with
/// PKCE); the grant is kept sealed under `okta` and is what Steward acts in Okta with.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_okta_admin_signs_in_and_the_grant_is_kept() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let sim = steward_sim::start(steward_sim::demo_seed()?, None).await?;
    let okta = steward_sim::okta::RunningOkta::start(&steward_sim::okta::okta_demo_seed()?).await?;
    let config = write_config(dir.path(), &sim, 0)?;
    let mut text = std::fs::read_to_string(&config)?;
    text.push_str(&format!(
        "\n[tenants.okta]\nbase_url = \"{}\"\nclient_id = \"0oa-steward-okta\"\ncredential_owner = \"{OWNER}\"\n",
        okta.base_url
    ));
    std::fs::write(&config, text)?;
    let (url, ok, said) = connect_with_form(
        &config,
        &["--system", "okta"],
        [("username", OWNER), ("password", OWNER_PASSWORD)],
        &[],
    )
    .await?;
    assert!(
        url.contains("/oauth2/v1/authorize")
            && url.contains("code_challenge_method=S256")
            && url.contains("okta.users.manage"),
        "{url}"
    );
    assert!(ok, "{said}");
    assert!(said.contains("Connected") && said.contains(OWNER), "{said}");

    // The grant is kept sealed, and acting with it reads Okta as Nestor.
    let store = steward_store::Store::open(&dir.path().join("steward.db")).await?;
    let tenant = store
        .tenant(&steward_domain::TenantId::new("larkspur-labs".to_owned())?)
        .await?;
    let kept = tenant
        .credential(steward_cli::okta_wiring::OKTA_CREDENTIAL)
        .await?;
    assert_eq!(kept.owner, OWNER);
    assert!(
        kept.scopes.iter().any(|s| s == "okta.users.manage"),
        "{:?}",
        kept.scopes
    );
    let connector = steward_cli::okta_wiring::connector(
        reqwest::Client::new(),
        &okta.base_url,
        "0oa-steward-okta",
        OWNER,
        kept.refresh_token.to_string(),
        steward_connectors::msgraph::RetryPolicy::default(),
    );
    let call = steward_domain::ActionCall {
        action: steward_domain::ActionName::new("okta.user.get")?,
        params: json!({"user": "leo@larkspur.example"}),
    };
    let read = steward_connectors::Connector::execute(connector.as_ref(), &call, "k").await?;
    assert_eq!(read.output["status"], "LOCKED_OUT");
    let _: Value = read.output;
    Ok(())
}

/// Runs `steward connect` with `args`, answers the sign-in page at the printed address with
/// `fields` (the platform's own form), and returns the address, whether the command succeeded
/// and what it printed after.
async fn connect_with_form(
    config: &Path,
    args: &[&str],
    fields: [(&str, &str); 2],
    envs: &[(&str, &str)],
) -> anyhow::Result<(String, bool, String)> {
    let mut child = steward()
        .arg("connect")
        .args(args)
        .args(["--timeout-seconds", "60", "--config"])
        .arg(config)
        .envs(envs.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let stdout = child.stdout.take().context("no stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let url = loop {
        let line = lines
            .next()
            .context("connect ended before printing an address")??;
        if line.starts_with("http") {
            break line;
        }
    };
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    anyhow::ensure!(browser.get(&url).send().await?.status().is_success());
    let form: Vec<(String, String)> = url::Url::parse(&url)?
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .chain(
            fields
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        )
        .collect();
    let signed_in = browser
        .post(url.split('?').next().unwrap_or_default())
        .form(&form)
        .send()
        .await?;
    let home = signed_in
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .context("no redirect after signing in")?
        .to_owned();
    anyhow::ensure!(browser.get(&home).send().await?.status().is_success());
    let output = child.wait_with_output()?;
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    Ok((
        url,
        output.status.success(),
        format!(
            "{}{}",
            rest.join("\n"),
            String::from_utf8_lossy(&output.stderr)
        ),
    ))
}

/// `steward connect --system google`: a Google admin signs in (authorization code with PKCE,
/// offline access, the OAuth client's secret); who signed in comes from OpenID Connect's user
/// info, and the grant kept sealed under `google` is what Steward acts in Google with.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_google_admin_signs_in_and_the_grant_is_kept() -> anyhow::Result<()> {
    use steward_sim::google::{DEMO_CLIENT_SECRET, RunningGoogle, google_demo_seed};
    let dir = tempfile::tempdir()?;
    let sim = steward_sim::start(steward_sim::demo_seed()?, None).await?;
    let google = RunningGoogle::start(&google_demo_seed()?).await?;
    let config = write_config(dir.path(), &sim, 0)?;
    let mut text = std::fs::read_to_string(&config)?;
    text.push_str(&format!(
        "\n[tenants.google]\nbase_url = \"{base}\"\ntoken_url = \"{token}\"\nauthorize_url = \"{auth}\"\nuserinfo_url = \"{info}\"\nclient_id = \"steward-google.apps.googleusercontent.com\"\nclient_secret_env = \"STEWARD_TEST_GOOGLE_SECRET\"\ncredential_owner = \"{OWNER}\"\n",
        base = google.base_url,
        token = google.token_url(),
        auth = google.authorize_url(),
        info = google.userinfo_url(),
    ));
    std::fs::write(&config, text)?;
    let secret = [("STEWARD_TEST_GOOGLE_SECRET", DEMO_CLIENT_SECRET)];
    let store = steward_store::Store::open(&dir.path().join("steward.db")).await?;
    let tenant = store
        .ensure_tenant(
            &steward_domain::TenantId::new("larkspur-labs")?,
            "Larkspur Labs",
        )
        .await?;

    // Someone else signing in is refused, and nothing is kept.
    let (_, ok, said) = connect_with_form(
        &config,
        &["--system", "google"],
        [
            ("identifier", "sam@larkspur.example"),
            ("password", "Demo-Sam-2026!"),
        ],
        &secret,
    )
    .await?;
    assert!(
        !ok && said.contains("sam@larkspur.example signed in"),
        "{said}"
    );
    assert!(tenant.credential("google").await.is_err(), "nothing kept");

    let (url, ok, said) = connect_with_form(
        &config,
        &["--system", "google"],
        [("identifier", OWNER), ("password", OWNER_PASSWORD)],
        &secret,
    )
    .await?;
    assert!(ok, "{said}");
    assert!(
        url.contains("access_type=offline")
            && url.contains("code_challenge_method=S256")
            && url.contains("admin.directory.user"),
        "{url}"
    );
    assert!(said.contains("Connected") && said.contains(OWNER), "{said}");

    let kept = tenant
        .credential(steward_cli::google_wiring::GOOGLE_CREDENTIAL)
        .await?;
    assert_eq!(kept.owner, OWNER);
    // Acting with it (a refresh with the client's secret) reads Google as Nestor.
    let endpoint = steward_cli::google_wiring::GoogleEndpoint {
        base_url: google.base_url.clone(),
        token_url: google.token_url(),
        client_id: "steward-google.apps.googleusercontent.com".into(),
        client_secret: Some(DEMO_CLIENT_SECRET.into()),
    };
    let connector = steward_cli::google_wiring::connector(
        reqwest::Client::new(),
        &endpoint,
        OWNER,
        kept.refresh_token.to_string(),
        None,
        steward_connectors::msgraph::RetryPolicy::default(),
    );
    let call = steward_domain::ActionCall {
        action: steward_domain::ActionName::new("google.user.get")?,
        params: json!({"user": "nina@larkspur.example"}),
    };
    let read = steward_connectors::Connector::execute(connector.as_ref(), &call, "k").await?;
    assert_eq!(read.output["suspended"], true, "{}", read.output);
    // Without the client's secret Google refuses the refresh.
    let no_secret = steward_cli::google_wiring::connector(
        reqwest::Client::new(),
        &steward_cli::google_wiring::GoogleEndpoint {
            client_secret: None,
            ..endpoint
        },
        OWNER,
        kept.refresh_token.to_string(),
        None,
        steward_connectors::msgraph::RetryPolicy::default(),
    );
    assert!(
        steward_connectors::Connector::execute(no_secret.as_ref(), &call, "k2")
            .await
            .is_err()
    );
    Ok(())
}

/// `steward connect --integration`: an API imported from its OpenAPI document with an OAuth 2.0
/// authorization code scheme (Okta's management API, its endpoints relative in the document) is
/// signed in to from the document's own endpoints; the grant is kept sealed, and the
/// integration's calls carry the signed-in person's access token, refreshed as needed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_imported_api_with_oauth_is_signed_in_to_and_called_with_the_grant() -> anyhow::Result<()>
{
    let dir = tempfile::tempdir()?;
    let sim = steward_sim::start(steward_sim::demo_seed()?, None).await?;
    let okta = steward_sim::okta::RunningOkta::start(&steward_sim::okta::okta_demo_seed()?).await?;
    let config = write_config(dir.path(), &sim, 0)?;
    let store = steward_store::Store::open(&dir.path().join("steward.db")).await?;
    let tenant = store
        .ensure_tenant(
            &steward_domain::TenantId::new("larkspur-labs")?,
            "Larkspur Labs",
        )
        .await?;
    let document = super::support::reference_text("okta-management-it-subset.yaml")?;
    steward_agent::integrations::import(
        &tenant,
        &document,
        "oktaops",
        Some(&okta.base_url),
        OWNER,
        None,
    )
    .await?;

    // Nothing to sign in to without an OAuth scheme's client.
    let refused = steward()
        .args([
            "connect",
            "--integration",
            "oktaops",
            "--owner",
            OWNER,
            "--config",
        ])
        .arg(&config)
        .output()?;
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("--client-id"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );

    let (url, ok, said) = connect_with_form(
        &config,
        &[
            "--integration",
            "oktaops",
            "--client-id",
            "0oa-steward-okta",
            "--owner",
            OWNER,
        ],
        [("username", OWNER), ("password", OWNER_PASSWORD)],
        &[],
    )
    .await?;
    assert!(ok, "{said}");
    assert!(
        url.starts_with(&format!("{}/oauth2/v1/authorize?", okta.base_url))
            && url.contains("okta.users.read")
            && url.contains("offline_access"),
        "{url}"
    );
    assert!(said.contains("as --owner declared"), "{said}");

    // Kept sealed: the grant and the client settings beside it.
    let grant = tenant.credential("integration:oktaops").await?;
    assert_eq!(grant.owner, OWNER);
    assert!(
        tenant
            .credential("integration:oktaops:client")
            .await
            .is_ok()
    );

    // The integration's calls carry Nestor's access token, exchanged from the kept grant.
    let row = tenant.integration("oktaops").await?;
    let connector = steward_agent::integrations::connector_for(&tenant, "oktaops", row.definition)
        .await
        .map_err(anyhow::Error::msg)?;
    let call = steward_domain::ActionCall {
        action: steward_domain::ActionName::new("oktaops.users.get_user")?,
        params: json!({"id": "leo@larkspur.example"}),
    };
    let read = steward_connectors::Connector::execute(&connector, &call, "k").await?;
    assert_eq!(read.output["status"], "LOCKED_OUT", "{}", read.output);

    // Revoking forgets both, and the integration can no longer call with them.
    let revoked = steward()
        .args([
            "connect",
            "--integration",
            "oktaops",
            "--revoke",
            "--config",
        ])
        .arg(&config)
        .output()?;
    assert!(
        revoked.status.success(),
        "{}",
        String::from_utf8_lossy(&revoked.stderr)
    );
    assert!(tenant.credential("integration:oktaops").await.is_err());
    assert!(
        tenant
            .credential("integration:oktaops:client")
            .await
            .is_err()
    );
    Ok(())
}
