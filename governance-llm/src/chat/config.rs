//! Settings of the chat-completions client.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::ChatError;

/// An API key. Its `Debug` output hides the value, and it is never serialized, logged or
/// put in an error message.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct ApiKey(String);

impl ApiKey {
    /// Wraps a key.
    pub fn new(key: impl Into<String>) -> Self {
        ApiKey(key.into())
    }

    /// Returns the key, for the `Authorization` header only.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("ApiKey(<hidden>)")
    }
}

/// Settings of [`ChatClient`](super::ChatClient). Unknown fields are rejected.
///
/// Durations are in milliseconds. The client sends `POST {base_url}/v1/chat/completions`;
/// a `base_url` that already ends in `/v1` gets only `/chat/completions` appended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChatClientConfig {
    /// Base URL of the server, such as `http://127.0.0.1:8080`. Only `http` is supported,
    /// because this build has no TLS.
    pub base_url: String,
    /// Model name sent in the `model` field.
    pub model: String,
    /// Sampling temperature; `None` leaves it to the server. Default 0, so that the same
    /// question gets the same reply where the server allows.
    #[serde(default = "default_temperature")]
    pub temperature: Option<f32>,
    /// Maximum time to open the TCP connection, per attempt. Default 5,000.
    #[serde(default = "default_connect_timeout_ms")]
    pub connect_timeout_ms: u64,
    /// Maximum time of one attempt, from sending the request to the end of the reply body,
    /// streamed or not. Default 120,000.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// Attempts in total, the first included, for a timeout, a connection error, HTTP 429 or
    /// HTTP 5xx. Other errors are not retried. Default 3.
    #[serde(default = "default_max_attempts")]
    pub max_attempts: u32,
    /// Wait before the second attempt; each later wait doubles, up to `backoff_max_ms`.
    /// Default 500.
    #[serde(default = "default_backoff_initial_ms")]
    pub backoff_initial_ms: u64,
    /// Maximum wait between attempts, also the cap on a server's `Retry-After`. Default 8,000.
    #[serde(default = "default_backoff_max_ms")]
    pub backoff_max_ms: u64,
    /// Whether to request a streamed reply (server-sent events) and assemble its deltas.
    #[serde(default)]
    pub stream: bool,
    /// The API key, sent as `Authorization: Bearer`. It is never serialized.
    #[serde(default, skip_serializing)]
    pub api_key: Option<ApiKey>,
    /// Name of an environment variable to read the API key from when `api_key` is not set.
    #[serde(default)]
    pub api_key_env: Option<String>,
}

fn default_temperature() -> Option<f32> {
    Some(0.0)
}

fn default_connect_timeout_ms() -> u64 {
    5_000
}

fn default_timeout_ms() -> u64 {
    120_000
}

fn default_max_attempts() -> u32 {
    3
}

fn default_backoff_initial_ms() -> u64 {
    500
}

fn default_backoff_max_ms() -> u64 {
    8_000
}

impl ChatClientConfig {
    /// Creates a config for `model` at `base_url` with the defaults above.
    pub fn new(base_url: impl Into<String>, model: impl Into<String>) -> Self {
        ChatClientConfig {
            base_url: base_url.into(),
            model: model.into(),
            temperature: default_temperature(),
            connect_timeout_ms: default_connect_timeout_ms(),
            timeout_ms: default_timeout_ms(),
            max_attempts: default_max_attempts(),
            backoff_initial_ms: default_backoff_initial_ms(),
            backoff_max_ms: default_backoff_max_ms(),
            stream: false,
            api_key: None,
            api_key_env: None,
        }
    }

    /// Returns the config with the per-attempt timeout set, in milliseconds.
    pub fn with_timeout_ms(mut self, timeout_ms: u64) -> Self {
        self.timeout_ms = timeout_ms;
        self
    }

    /// Returns the config with the number of attempts and the first backoff wait set.
    pub fn with_retries(mut self, max_attempts: u32, backoff_initial_ms: u64) -> Self {
        self.max_attempts = max_attempts;
        self.backoff_initial_ms = backoff_initial_ms;
        self
    }

    /// Returns the config with streaming switched on or off.
    pub fn with_stream(mut self, stream: bool) -> Self {
        self.stream = stream;
        self
    }

    /// Returns the config with the API key set.
    pub fn with_api_key(mut self, key: ApiKey) -> Self {
        self.api_key = Some(key);
        self
    }

    /// Returns the config that reads the API key from the environment variable `name`.
    pub fn with_api_key_env(mut self, name: impl Into<String>) -> Self {
        self.api_key_env = Some(name.into());
        self
    }

    /// Checks the fields and returns the full URL of the chat-completions endpoint.
    pub(crate) fn endpoint(&self) -> Result<String, ChatError> {
        let base = self.base_url.trim().trim_end_matches('/');
        if base.starts_with("https://") {
            return Err(ChatError::Config(format!(
                "base_url {base:?} uses https, but this build has no TLS: use a server on \
                 http://127.0.0.1 or a TLS-terminating proxy there"
            )));
        }
        if !base.starts_with("http://") || base.len() <= "http://".len() {
            return Err(ChatError::Config(format!(
                "base_url {base:?} is not an http URL: give one such as http://127.0.0.1:8080"
            )));
        }
        if self.model.trim().is_empty() {
            return Err(ChatError::Config(
                "model is empty: give the model name the server serves".to_string(),
            ));
        }
        if self.timeout_ms == 0 || self.connect_timeout_ms == 0 {
            return Err(ChatError::Config(format!(
                "timeout_ms ({}) and connect_timeout_ms ({}) must be above 0",
                self.timeout_ms, self.connect_timeout_ms
            )));
        }
        if self.max_attempts == 0 {
            return Err(ChatError::Config(
                "max_attempts is 0: give 1 for no retry".to_string(),
            ));
        }
        if let Some(temperature) = self.temperature
            && !(0.0..=2.0).contains(&temperature)
        {
            return Err(ChatError::Config(format!(
                "temperature {temperature} is outside 0 to 2"
            )));
        }
        let path = if base.ends_with("/v1") {
            "/chat/completions"
        } else {
            "/v1/chat/completions"
        };
        Ok(format!("{base}{path}"))
    }

    /// Returns the API key from `api_key`, else from the environment variable `api_key_env`.
    pub(crate) fn resolve_api_key(&self) -> Result<Option<ApiKey>, ChatError> {
        if let Some(key) = &self.api_key {
            return Ok(Some(key.clone()));
        }
        let Some(name) = &self.api_key_env else {
            return Ok(None);
        };
        match std::env::var(name) {
            Ok(value) if !value.trim().is_empty() => Ok(Some(ApiKey::new(value.trim()))),
            _ => Err(ChatError::Config(format!(
                "environment variable {name:?} named by api_key_env is not set or empty: \
                 export it, or drop api_key_env for a server without a key"
            ))),
        }
    }

    /// Returns the wait before attempt `attempt` (2 for the first retry).
    pub(crate) fn backoff(&self, attempt: u32) -> Duration {
        let doublings = attempt.saturating_sub(2).min(20);
        let wait = self.backoff_initial_ms.saturating_mul(1_u64 << doublings);
        Duration::from_millis(wait.min(self.backoff_max_ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_appends_path() {
        let config = ChatClientConfig::new("http://127.0.0.1:8080/", "m");
        assert_eq!(
            config.endpoint().expect("valid"),
            "http://127.0.0.1:8080/v1/chat/completions"
        );
        let config = ChatClientConfig::new("http://127.0.0.1:8080/v1", "m");
        assert_eq!(
            config.endpoint().expect("valid"),
            "http://127.0.0.1:8080/v1/chat/completions"
        );
    }

    #[test]
    fn endpoint_rejects_https_and_junk() {
        let error = ChatClientConfig::new("https://example.invalid", "m")
            .endpoint()
            .expect_err("no TLS");
        assert!(error.to_string().contains("no TLS"), "{error}");
        let error = ChatClientConfig::new("localhost:8080", "m")
            .endpoint()
            .expect_err("no scheme");
        assert!(error.to_string().contains("not an http URL"), "{error}");
    }

    #[test]
    fn backoff_doubles_to_cap() {
        let config = ChatClientConfig::new("http://127.0.0.1:1", "m").with_retries(8, 100);
        let waits: Vec<u64> = (2..=8)
            .map(|attempt| config.backoff(attempt).as_millis() as u64)
            .collect();
        assert_eq!(waits, [100, 200, 400, 800, 1_600, 3_200, 6_400]);
        assert_eq!(config.backoff(30).as_millis(), 8_000);
    }

    #[test]
    fn api_key_hidden_in_debug() {
        let config =
            ChatClientConfig::new("http://127.0.0.1:1", "m").with_api_key(ApiKey::new("sk-123"));
        let shown = format!("{config:?}");
        assert!(!shown.contains("sk-123"), "{shown}");
        let json = serde_json::to_string(&config).expect("serializes");
        assert!(!json.contains("sk-123"), "{json}");
    }

    #[test]
    fn missing_key_variable_names_it() {
        let config = ChatClientConfig::new("http://127.0.0.1:1", "m")
            .with_api_key_env("GOVERNANCE_TEST_KEY_THAT_IS_NOT_SET");
        let error = config.resolve_api_key().expect_err("not set");
        assert!(
            error
                .to_string()
                .contains("GOVERNANCE_TEST_KEY_THAT_IS_NOT_SET"),
            "{error}"
        );
    }
}
