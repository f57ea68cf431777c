//! The HTTP client: request, retries with backoff, and parsing of the reply.

use std::time::Duration;

use governance_core::chat::{ChatFuture, ChatMessage, ChatModel};
use reqwest::header::{ACCEPT, CONTENT_TYPE, RETRY_AFTER};
use serde::{Deserialize, Serialize};

use super::error::{excerpt, status_hint};
use super::sse::StreamAssembler;
use super::{ApiKey, ChatClientConfig, ChatError};

/// A client of the OpenAI-compatible chat-completions API, and the HTTP [`ChatModel`].
///
/// Each call sends `POST {base_url}/v1/chat/completions` with the model, the messages, the
/// temperature and, when configured, `stream: true`. A timeout, a connection error, HTTP 429
/// or HTTP 5xx is retried up to `max_attempts` in total, waiting `backoff_initial_ms`, then
/// twice that, and so on up to `backoff_max_ms` (or the server's `Retry-After` in seconds,
/// capped at the same value). Other statuses and malformed bodies fail at once.
#[derive(Debug, Clone)]
pub struct ChatClient {
    config: ChatClientConfig,
    endpoint: String,
    api_key: Option<ApiKey>,
    http: reqwest::Client,
}

/// The request body.
#[derive(Debug, Serialize)]
struct CompletionRequest<'a> {
    model: &'a str,
    messages: &'a [ChatMessage],
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f32>,
    stream: bool,
}

/// A completion that was not streamed; only the fields the client reads.
#[derive(Debug, Deserialize)]
struct Completion {
    choices: Vec<CompletionChoice>,
}

#[derive(Debug, Deserialize)]
struct CompletionChoice {
    #[serde(default)]
    message: Option<CompletionMessage>,
}

#[derive(Debug, Deserialize)]
struct CompletionMessage {
    #[serde(default)]
    content: Option<String>,
}

/// The failure of one attempt.
enum Failure {
    /// The attempt ran past `timeout_ms` or `connect_timeout_ms`.
    Timeout,
    /// The connection failed or broke.
    Connect(String),
    /// An HTTP error status, with the body's start and the server's `Retry-After`.
    Status {
        status: u16,
        excerpt: String,
        retry_after: Option<Duration>,
    },
    /// A failure that no retry can fix.
    Final(ChatError),
}

impl Failure {
    fn is_retryable(&self) -> bool {
        match self {
            Failure::Timeout | Failure::Connect(_) => true,
            Failure::Status { status, .. } => *status == 429 || *status >= 500,
            Failure::Final(_) => false,
        }
    }

    fn describe(&self) -> String {
        match self {
            Failure::Timeout => "timed out".to_string(),
            Failure::Connect(message) => message.clone(),
            Failure::Status { status, .. } => format!("HTTP {status}"),
            Failure::Final(error) => error.to_string(),
        }
    }
}

impl ChatClient {
    /// Creates the client after checking the config and reading the API key.
    pub fn new(config: ChatClientConfig) -> Result<Self, ChatError> {
        let endpoint = config.endpoint()?;
        let api_key = config.resolve_api_key()?;
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_millis(config.connect_timeout_ms))
            .timeout(Duration::from_millis(config.timeout_ms))
            // A redirect is reported as an HTTP status, so the request and its key never
            // go to a URL the caller did not configure.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|error| ChatError::Config(format!("cannot build the HTTP client: {error}")))?;
        Ok(ChatClient {
            config,
            endpoint,
            api_key,
            http,
        })
    }

    /// Returns the chat-completions URL.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Returns the config; its API key, if any, stays hidden in `Debug` output.
    pub fn config(&self) -> &ChatClientConfig {
        &self.config
    }

    /// Sends `messages` and returns the reply text, retrying as the type's docs describe.
    pub async fn chat(&self, messages: &[ChatMessage]) -> Result<String, ChatError> {
        let request = CompletionRequest {
            model: &self.config.model,
            messages,
            temperature: self.config.temperature,
            stream: self.config.stream,
        };
        let mut attempt = 1;
        loop {
            let failure = match self.attempt(&request).await {
                Ok(text) => return Ok(text),
                Err(failure) => failure,
            };
            if !failure.is_retryable() || attempt >= self.config.max_attempts {
                return Err(self.error(failure, attempt));
            }
            let backoff = self.config.backoff(attempt + 1);
            let wait = match &failure {
                Failure::Status {
                    retry_after: Some(retry_after),
                    ..
                } => (*retry_after).min(Duration::from_millis(self.config.backoff_max_ms)),
                _ => backoff,
            };
            tracing::warn!(
                endpoint = %self.endpoint,
                attempt,
                max_attempts = self.config.max_attempts,
                wait_ms = wait.as_millis() as u64,
                reason = %failure.describe(),
                "chat request failed, retrying"
            );
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    /// Makes one attempt: sends the request and reads the whole reply.
    async fn attempt(&self, request: &CompletionRequest<'_>) -> Result<String, Failure> {
        let mut builder = self.http.post(&self.endpoint).json(request);
        if request.stream {
            builder = builder.header(ACCEPT, "text/event-stream");
        }
        if let Some(key) = &self.api_key {
            builder = builder.bearer_auth(key.expose());
        }
        let mut response = builder.send().await.map_err(classify)?;

        let status = response.status();
        if !status.is_success() {
            let retry_after = response
                .headers()
                .get(RETRY_AFTER)
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            let body = response.text().await.unwrap_or_default();
            return Err(Failure::Status {
                status: status.as_u16(),
                excerpt: excerpt(&body),
                retry_after,
            });
        }

        let is_event_stream = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.contains("text/event-stream"));
        // A server that ignores `stream: true` sends one JSON completion, which is
        // read as if streaming were off.
        if !is_event_stream {
            let body = response.text().await.map_err(classify)?;
            return self.parse_completion(&body).map_err(Failure::Final);
        }

        let mut assembler = StreamAssembler::default();
        while let Some(bytes) = response.chunk().await.map_err(classify)? {
            assembler
                .push(&bytes)
                .map_err(|problem| Failure::Final(self.stream_error(problem)))?;
        }
        let (text, saw_choice) = assembler
            .finish()
            .map_err(|problem| Failure::Final(self.stream_error(problem)))?;
        if !saw_choice || text.is_empty() {
            return Err(Failure::Final(ChatError::EmptyChoices {
                endpoint: self.endpoint.clone(),
            }));
        }
        Ok(text)
    }

    /// Reads the text of the first choice of a completion that was not streamed.
    fn parse_completion(&self, body: &str) -> Result<String, ChatError> {
        let completion: Completion =
            serde_json::from_str(body).map_err(|error| ChatError::MalformedJson {
                endpoint: self.endpoint.clone(),
                message: error.to_string(),
                excerpt: excerpt(body),
            })?;
        completion
            .choices
            .into_iter()
            .next()
            .and_then(|choice| choice.message)
            .and_then(|message| message.content)
            .filter(|content| !content.is_empty())
            .ok_or_else(|| ChatError::EmptyChoices {
                endpoint: self.endpoint.clone(),
            })
    }

    fn stream_error(&self, problem: super::sse::StreamProblem) -> ChatError {
        ChatError::MalformedJson {
            endpoint: self.endpoint.clone(),
            message: problem.message,
            excerpt: excerpt(&problem.event),
        }
    }

    /// Turns the last attempt's failure into the caller's error.
    fn error(&self, failure: Failure, attempts: u32) -> ChatError {
        let endpoint = self.endpoint.clone();
        match failure {
            Failure::Timeout => ChatError::Timeout {
                endpoint,
                timeout_ms: self.config.timeout_ms,
                attempts,
            },
            Failure::Connect(message) => ChatError::Connect {
                endpoint,
                attempts,
                message,
            },
            Failure::Status {
                status, excerpt, ..
            } => ChatError::Status {
                endpoint,
                status,
                attempts,
                hint: status_hint(status),
                excerpt,
            },
            Failure::Final(error) => error,
        }
    }
}

/// Sorts a transport error into a timeout or a connection failure, with its causes.
fn classify(error: reqwest::Error) -> Failure {
    if error.is_timeout() {
        return Failure::Timeout;
    }
    let error = error.without_url();
    let mut message = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    Failure::Connect(message)
}

impl ChatModel for ChatClient {
    fn complete<'a>(&'a self, messages: &'a [ChatMessage]) -> ChatFuture<'a> {
        Box::pin(async move { self.chat(messages).await.map_err(Into::into) })
    }

    fn describe(&self) -> String {
        format!("model {:?} at {}", self.config.model, self.endpoint)
    }
}
