use std::path::PathBuf;

use anyhow::Context as _;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use steward_sim::RunningSim;

pub const DOMAIN: &str = "larkspur.example";

pub fn upn(local: &str) -> String {
    format!("{local}@{DOMAIN}")
}

pub struct Sim {
    pub sim: RunningSim,
    pub http: reqwest::Client,
}

pub struct Answer {
    pub status: StatusCode,
    pub body: Value,
    pub location: Option<String>,
}

impl Sim {
    pub async fn start() -> anyhow::Result<Self> {
        Ok(Self {
            sim: steward_sim::start(steward_sim::demo_seed()?, None).await?,
            http: reqwest::Client::new(),
        })
    }

    /// A delegated token for `local` (demo password convention) with `scopes`.
    pub async fn token(&self, local: &str, given: &str, scopes: &str) -> anyhow::Result<String> {
        let scope = scopes
            .split_whitespace()
            .map(|s| format!("https://graph.microsoft.com/{s}"))
            .collect::<Vec<_>>()
            .join(" ");
        let password = format!("Demo-{given}-2026!");
        let r: Value = self
            .http
            .post(self.sim.token_url())
            .form(&[
                ("grant_type", "password"),
                ("client_id", "t"),
                ("username", &upn(local)),
                ("password", &password),
                ("scope", &scope),
            ])
            .send()
            .await?
            .json()
            .await?;
        r.get("access_token")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .with_context(|| format!("no token for {local}: {r}"))
    }

    /// A raw token request (any grant), answered as JSON.
    pub async fn token_request(&self, form: &[(&str, &str)]) -> anyhow::Result<Value> {
        Ok(self
            .http
            .post(self.sim.token_url())
            .form(form)
            .send()
            .await?
            .json()
            .await?)
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> anyhow::Result<Answer> {
        let url = if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}{path}", self.sim.base_url)
        };
        let mut req = self.http.request(method, url);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await?;
        let status = r.status();
        let location = r
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let text = r.text().await?;
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).with_context(|| format!("not JSON: {text}"))?
        };
        Ok(Answer {
            status,
            body,
            location,
        })
    }

    pub async fn get(&self, path: &str, token: &str) -> anyhow::Result<Answer> {
        self.call(Method::GET, path, Some(token), None).await
    }

    pub async fn id_of(&self, local: &str, token: &str) -> anyhow::Result<String> {
        let a = self
            .get(&format!("/v1.0/users/{}", upn(local)), token)
            .await?;
        a.body["id"].as_str().map(str::to_owned).context("no id")
    }
}

/// The Graph reference description (`msgraph-it-subset.yaml`).
pub fn reference() -> anyhow::Result<Value> {
    Ok(yaml_serde::from_str(&reference_text(
        "msgraph-it-subset.yaml",
    )?)?)
}

/// A file of the reference: `STEWARD_REFERENCE_DIR`, else `shared/reference` in the nearest
/// folder above the crate that has one (the repository sits beside `shared/`), else
/// `/work/shared/reference`. A missing reference is an error, never a skip.
pub fn reference_text(file: &str) -> anyhow::Result<String> {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let candidates: Vec<PathBuf> = std::env::var_os("STEWARD_REFERENCE_DIR")
        .map(PathBuf::from)
        .into_iter()
        .chain(
            manifest
                .ancestors()
                .map(|a| a.join("shared").join("reference")),
        )
        .chain([PathBuf::from("/work/shared/reference")])
        .collect();
    let path = candidates
        .iter()
        .map(|dir| dir.join(file))
        .find(|p| p.is_file())
        .with_context(|| format!("cannot find the reference {file}; looked in {candidates:?} (set STEWARD_REFERENCE_DIR)"))?;
    std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))
}
