//! Bot Framework for Steward's Teams channel: the signing keys Bot Framework publishes (from its
//! OpenID metadata, cached, fetched again for a key id not seen before), and the Bot Connector
//! API a bot answers through — with a token from the client-credentials grant, kept until it
//! nearly expires.

use std::time::{Duration, Instant};

use serde_json::Value;
use thiserror::Error;
use tokio::sync::Mutex;

/// The scope of a Bot Connector token.
const SCOPE: &str = "https://api.botframework.com/.default";
/// Keys are fetched again at most this often (an unknown key id cannot make Steward hammer the
/// metadata endpoint).
const REFETCH_AFTER: Duration = Duration::from_secs(60);

/// Why a Bot Framework call failed.
#[derive(Debug, Error)]
pub enum BotError {
    /// Bot Framework refused (bad app credentials, unknown conversation), with its message.
    #[error("Bot Framework refused {what}: HTTP {status}: {message}")]
    Refused {
        /// What was asked.
        what: &'static str,
        /// HTTP status.
        status: u16,
        /// Its message.
        message: String,
    },
    /// It could not be reached or answered something unreadable.
    #[error("Bot Framework could not be reached for {what}: {reason}")]
    Unreachable {
        /// What was asked.
        what: &'static str,
        /// Why.
        reason: String,
    },
}

fn unreachable(what: &'static str) -> impl Fn(reqwest::Error) -> BotError {
    move |e| BotError::Unreachable {
        what,
        reason: e.to_string(),
    }
}

/// Bot Framework's published signing keys.
pub struct SigningKeys {
    http: reqwest::Client,
    metadata_url: String,
    cache: Mutex<(Option<Instant>, Vec<Value>)>,
}

impl std::fmt::Debug for SigningKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKeys")
            .field("metadata_url", &self.metadata_url)
            .finish_non_exhaustive()
    }
}

impl SigningKeys {
    /// Keys found through `metadata_url` (`https://login.botframework.com/v1/.well-known/openidconfiguration`).
    pub fn new(metadata_url: &str) -> Self {
        Self {
            http: reqwest::Client::new(),
            metadata_url: metadata_url.to_owned(),
            cache: Mutex::new((None, Vec::new())),
        }
    }

    async fn fetch(&self) -> Result<Vec<Value>, BotError> {
        let what = "its signing keys";
        let metadata: Value = self
            .http
            .get(&self.metadata_url)
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .map_err(unreachable(what))?
            .json()
            .await
            .map_err(unreachable(what))?;
        let jwks_uri = metadata["jwks_uri"].as_str().ok_or(BotError::Unreachable {
            what,
            reason: "the OpenID metadata has no jwks_uri".into(),
        })?;
        let keys: Value = self
            .http
            .get(jwks_uri)
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .map_err(unreachable(what))?
            .json()
            .await
            .map_err(unreachable(what))?;
        Ok(keys["keys"].as_array().cloned().unwrap_or_default())
    }

    /// The JWK with id `kid`, if Bot Framework publishes one.
    pub async fn key(&self, kid: &str) -> Result<Option<Value>, BotError> {
        let mut cache = self.cache.lock().await;
        let find = |keys: &[Value]| keys.iter().find(|k| k["kid"] == kid).cloned();
        if let Some(k) = find(&cache.1) {
            return Ok(Some(k));
        }
        if cache.0.is_some_and(|t| t.elapsed() < REFETCH_AFTER) {
            return Ok(None);
        }
        let keys = self.fetch().await?;
        *cache = (Some(Instant::now()), keys);
        Ok(find(&cache.1))
    }
}

/// The Bot Connector API, as the bot.
pub struct BotConnector {
    http: reqwest::Client,
    app_id: String,
    app_password: String,
    token_url: String,
    token: Mutex<Option<(String, Instant)>>,
}

impl std::fmt::Debug for BotConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BotConnector")
            .field("app_id", &self.app_id)
            .finish_non_exhaustive()
    }
}

/// A path segment percent-encoded (conversation ids hold `:`, `;` and `@`).
fn segment(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// `{serviceUrl}/v3/conversations/{conversation}/activities[/{activity}]`.
fn activities_url(service_url: &str, conversation: &str, activity: Option<&str>) -> String {
    let mut url = format!(
        "{}/v3/conversations/{}/activities",
        service_url.trim_end_matches('/'),
        segment(conversation)
    );
    if let Some(a) = activity {
        url.push('/');
        url.push_str(&segment(a));
    }
    url
}

impl BotConnector {
    /// The bot `app_id` with its password, getting tokens from `token_url`
    /// (`https://login.microsoftonline.com/botframework.com/oauth2/v2.0/token`).
    pub fn new(app_id: &str, app_password: &str, token_url: &str) -> Self {
        Self {
            http: reqwest::Client::new(),
            app_id: app_id.to_owned(),
            app_password: app_password.to_owned(),
            token_url: token_url.to_owned(),
            token: Mutex::new(None),
        }
    }

    async fn bearer(&self) -> Result<String, BotError> {
        let mut held = self.token.lock().await;
        if let Some((t, until)) = held.as_ref()
            && Instant::now() < *until
        {
            return Ok(t.clone());
        }
        let what = "a connector token";
        let response = self
            .http
            .post(&self.token_url)
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", self.app_id.as_str()),
                ("client_secret", self.app_password.as_str()),
                ("scope", SCOPE),
            ])
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .map_err(unreachable(what))?;
        let status = response.status().as_u16();
        let body: Value = response.json().await.map_err(unreachable(what))?;
        let Some(token) = body["access_token"].as_str().filter(|_| status == 200) else {
            return Err(BotError::Refused {
                what,
                status,
                message: body["error_description"]
                    .as_str()
                    .or(body["error"].as_str())
                    .unwrap_or("no message")
                    .to_owned(),
            });
        };
        let lifetime = body["expires_in"]
            .as_u64()
            .unwrap_or(300)
            .saturating_sub(60);
        *held = Some((
            token.to_owned(),
            Instant::now() + Duration::from_secs(lifetime),
        ));
        Ok(token.to_owned())
    }

    async fn activity(
        &self,
        what: &'static str,
        method: reqwest::Method,
        url: String,
        activity: &Value,
    ) -> Result<String, BotError> {
        let token = self.bearer().await?;
        let response = self
            .http
            .request(method, url)
            .bearer_auth(token)
            .json(activity)
            .timeout(Duration::from_secs(15))
            .send()
            .await
            .map_err(unreachable(what))?;
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if !(200..300).contains(&status) {
            return Err(BotError::Refused {
                what,
                status,
                message: body
                    .pointer("/error/message")
                    .or(body.get("message"))
                    .and_then(Value::as_str)
                    .unwrap_or("no message")
                    .to_owned(),
            });
        }
        Ok(body["id"].as_str().unwrap_or_default().to_owned())
    }

    /// Replies to `activity_id` in a conversation; the new activity's id.
    pub async fn reply(
        &self,
        service_url: &str,
        conversation: &str,
        activity_id: &str,
        activity: &Value,
    ) -> Result<String, BotError> {
        let url = activities_url(service_url, conversation, Some(activity_id));
        self.activity("a reply", reqwest::Method::POST, url, activity)
            .await
    }

    /// Opens a personal chat between the bot and `member` (in Teams tenant `tenant`); its
    /// conversation id.
    pub async fn create_conversation(
        &self,
        service_url: &str,
        bot: &Value,
        member: &Value,
        tenant: &str,
    ) -> Result<String, BotError> {
        let url = format!("{}/v3/conversations", service_url.trim_end_matches('/'));
        let body = serde_json::json!({
            "bot": bot,
            "members": [member],
            "isGroup": false,
            "tenantId": tenant,
            "channelData": {"tenant": {"id": tenant}},
        });
        self.activity("a personal chat", reqwest::Method::POST, url, &body)
            .await
    }

    /// Sends an activity to a conversation (not as a reply).
    pub async fn send(
        &self,
        service_url: &str,
        conversation: &str,
        activity: &Value,
    ) -> Result<String, BotError> {
        let url = activities_url(service_url, conversation, None);
        self.activity("a message", reqwest::Method::POST, url, activity)
            .await
    }

    /// Replaces an activity the bot sent (an approval card, once decided).
    pub async fn update(
        &self,
        service_url: &str,
        conversation: &str,
        activity_id: &str,
        activity: &Value,
    ) -> Result<(), BotError> {
        let url = activities_url(service_url, conversation, Some(activity_id));
        self.activity("an update", reqwest::Method::PUT, url, activity)
            .await
            .map(|_| ())
    }
}
