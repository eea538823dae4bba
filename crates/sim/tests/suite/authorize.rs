//! The authorization-code flow with PKCE: sign-in page, redirect with a one-time code, and the
//! token endpoint's checks of that code (redirect URI, code_verifier, single use).

use base64::Engine as _;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::support::{Sim, upn};

const CLIENT: &str = "5e3ce6c0-2b1f-4285-8d4b-75ee78787346";
const REDIRECT: &str = "http://127.0.0.1:8765/connect/msgraph/callback";
const VERIFIER: &str = "k2Vn4sQ0tZyXw8uJ1pLm6RaHd3FbOcEgYi9jT5eUqKs7NvBzWxAy";

fn challenge(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier))
}

fn authorize_url(s: &Sim, client: &str, redirect: &str) -> anyhow::Result<String> {
    let mut url = url::Url::parse(&s.sim.token_url().replace("/token", "/authorize"))?;
    url.query_pairs_mut()
        .append_pair("client_id", client)
        .append_pair("response_type", "code")
        .append_pair("redirect_uri", redirect)
        .append_pair(
            "scope",
            "https://graph.microsoft.com/User.Read.All offline_access",
        )
        .append_pair("state", "st-42")
        .append_pair("code_challenge", &challenge(VERIFIER))
        .append_pair("code_challenge_method", "S256");
    Ok(url.to_string())
}

/// Signs in on the page and returns where the browser is sent next.
async fn sign_in(s: &Sim, who: &str, password: &str) -> anyhow::Result<reqwest::Response> {
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let url = authorize_url(s, CLIENT, REDIRECT)?;
    let page = browser.get(&url).send().await?;
    anyhow::ensure!(page.status().is_success(), "{}", page.status());
    let html = page.text().await?;
    anyhow::ensure!(html.contains("name=\"passwd\""), "{html}");
    let q: Vec<(String, String)> = url::Url::parse(&url)?
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .chain([
            ("login".into(), upn(who)),
            ("passwd".into(), password.into()),
        ])
        .collect();
    Ok(browser.post(&url).form(&q).send().await?)
}

fn redirect_params(
    r: &reqwest::Response,
) -> anyhow::Result<std::collections::HashMap<String, String>> {
    let location = r
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| anyhow::anyhow!("no redirect: {}", r.status()))?;
    anyhow::ensure!(location.starts_with(REDIRECT), "{location}");
    Ok(url::Url::parse(location)?
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect())
}

async fn redeem(s: &Sim, code: &str, verifier: &str) -> anyhow::Result<Value> {
    s.token_request(&[
        ("grant_type", "authorization_code"),
        ("client_id", CLIENT),
        ("code", code),
        ("redirect_uri", REDIRECT),
        ("code_verifier", verifier),
        (
            "scope",
            "https://graph.microsoft.com/User.Read.All offline_access",
        ),
    ])
    .await
}

#[tokio::test]
async fn a_code_from_the_sign_in_page_is_redeemed_once_with_its_verifier() -> anyhow::Result<()> {
    let s = Sim::start().await?;
    let r = sign_in(&s, "nestor", "Demo-Nestor-2026!").await?;
    assert_eq!(r.status().as_u16(), 302);
    let back = redirect_params(&r)?;
    assert_eq!(back.get("state").map(String::as_str), Some("st-42"));
    let code = back.get("code").cloned().unwrap_or_default();

    // The wrong verifier is refused, and so is the right one after the code was redeemed.
    let wrong = redeem(
        &s,
        &code,
        "not-the-verifier-not-the-verifier-not-the-verifier",
    )
    .await?;
    assert_eq!(wrong["error"], "invalid_grant");
    assert_eq!(wrong["error_codes"][0], 50148);
    let tokens = redeem(&s, &code, VERIFIER).await?;
    let access = tokens["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        tokens["refresh_token"]
            .as_str()
            .is_some_and(|t| !t.is_empty()),
        "{tokens}"
    );
    let again = redeem(&s, &code, VERIFIER).await?;
    assert_eq!(again["error_codes"][0], 54005, "{again}");

    // The token acts as the person who signed in, with what was consented.
    let me = s.get("/v1.0/me", &access).await?;
    assert_eq!(me.status.as_u16(), 200);
    assert_eq!(me.body["userPrincipalName"], upn("nestor"));
    Ok(())
}

#[tokio::test]
async fn a_bad_password_stays_on_the_page_and_untrusted_apps_never_get_a_code() -> anyhow::Result<()>
{
    let s = Sim::start().await?;
    let r = sign_in(&s, "nestor", "wrong").await?;
    assert_eq!(r.status().as_u16(), 200, "no redirect with a code");
    assert!(r.text().await?.contains("AADSTS50126"));

    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let unknown = browser
        .get(authorize_url(
            &s,
            "00000000-0000-0000-0000-000000000000",
            REDIRECT,
        )?)
        .send()
        .await?;
    assert_eq!(unknown.status().as_u16(), 400);
    assert!(unknown.text().await?.contains("AADSTS700016"));
    let elsewhere = browser
        .get(authorize_url(&s, CLIENT, "https://attacker.example/cb")?)
        .send()
        .await?;
    assert_eq!(elsewhere.status().as_u16(), 400);
    assert!(elsewhere.text().await?.contains("AADSTS50011"));
    Ok(())
}
