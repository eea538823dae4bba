use serde::Deserialize;

/// Which wire format a provider speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProviderKind {
    /// OpenAI chat completions and the servers that copy it (Ollama, vLLM, llama.cpp server):
    /// `POST {base_url}/chat/completions`, `Authorization: Bearer`.
    Openai,
    /// Azure OpenAI: the same body at `{base_url}/chat/completions?api-version=…`, where
    /// `base_url` is the deployment's URL, with the key in `api-key`.
    AzureOpenai,
    /// Anthropic Messages: `POST {base_url}/messages` with `x-api-key` and `anthropic-version`.
    Anthropic,
}

/// A language-model provider, described as data in Steward's configuration. The key itself is
/// never in the file: `api_key_env` names the environment variable holding it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    /// A name to refer to it by (tenants pick a provider by name).
    pub name: String,
    /// The wire format.
    pub kind: ProviderKind,
    /// The API root, e.g. `https://api.openai.com/v1`, `http://127.0.0.1:11434/v1`,
    /// `https://api.anthropic.com/v1`.
    pub base_url: String,
    /// The model (or Azure deployment) to ask; never checked against a list.
    pub model: String,
    /// The environment variable holding the API key; none for local servers without keys.
    #[serde(default)]
    pub api_key_env: Option<String>,
    /// Azure's `api-version` query parameter.
    #[serde(default)]
    pub api_version: Option<String>,
    /// Stream replies (server-sent events); the reply is still used only once complete.
    #[serde(default = "default_stream")]
    pub stream: bool,
    /// Limit for one attempt, streaming included.
    #[serde(default = "default_timeout")]
    pub timeout_seconds: u64,
    /// Further attempts after a timeout, a broken connection, 408, 429 or 5xx.
    #[serde(default = "default_retries")]
    pub max_retries: u32,
    /// Longest wait before a retry, whatever `Retry-After` asks.
    #[serde(default = "default_max_backoff")]
    pub max_backoff_seconds: u64,
    /// Output token limit per request (required by Anthropic; sent to OpenAI-compatible servers
    /// only when set).
    #[serde(default)]
    pub max_tokens: Option<u32>,
}

fn default_stream() -> bool {
    true
}

fn default_timeout() -> u64 {
    60
}

fn default_retries() -> u32 {
    2
}

fn default_max_backoff() -> u64 {
    20
}

impl ProviderConfig {
    /// A provider with the defaults, for tests and programmatic use.
    pub fn new(name: &str, kind: ProviderKind, base_url: &str, model: &str) -> Self {
        Self {
            name: name.to_owned(),
            kind,
            base_url: base_url.to_owned(),
            model: model.to_owned(),
            api_key_env: None,
            api_version: None,
            stream: default_stream(),
            timeout_seconds: default_timeout(),
            max_retries: default_retries(),
            max_backoff_seconds: default_max_backoff(),
            max_tokens: None,
        }
    }
}
