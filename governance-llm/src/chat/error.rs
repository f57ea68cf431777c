//! Errors of the chat-completions client. Each message names the endpoint and the fix, and
//! none contains the API key.

/// A failed chat completion.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ChatError {
    /// The client config is invalid; the message names the field and the fix.
    #[error("invalid chat client config: {0}")]
    Config(String),

    /// Every attempt timed out.
    #[error(
        "chat request to {endpoint} timed out after {timeout_ms} ms on each of {attempts} \
         attempt(s): the server is slow or stalled; raise timeout_ms, use a smaller model, or \
         check the server's load"
    )]
    Timeout {
        /// The chat-completions URL.
        endpoint: String,
        /// The per-attempt timeout in milliseconds.
        timeout_ms: u64,
        /// Attempts made.
        attempts: u32,
    },

    /// The connection failed on every attempt.
    #[error(
        "cannot reach {endpoint} after {attempts} attempt(s): {message}; check that the server \
         is running and that base_url is right"
    )]
    Connect {
        /// The chat-completions URL.
        endpoint: String,
        /// Attempts made.
        attempts: u32,
        /// The transport error.
        message: String,
    },

    /// The server replied with an HTTP error status. For 429 and 5xx this is reported only after
    /// every attempt failed.
    #[error(
        "{endpoint} returned HTTP {status} after {attempts} attempt(s): {hint}; body: {excerpt:?}"
    )]
    Status {
        /// The chat-completions URL.
        endpoint: String,
        /// The HTTP status code.
        status: u16,
        /// Attempts made.
        attempts: u32,
        /// Next step for the caller, for this status.
        hint: &'static str,
        /// The start of the response body.
        excerpt: String,
    },

    /// The body is not a chat completion.
    #[error(
        "{endpoint} returned a body that is not a chat completion ({message}): {excerpt:?}; \
         check that the server implements the OpenAI chat-completions API"
    )]
    MalformedJson {
        /// The chat-completions URL.
        endpoint: String,
        /// Reason the body is invalid.
        message: String,
        /// The start of the body.
        excerpt: String,
    },

    /// The completion has no choice with text.
    #[error(
        "{endpoint} returned a completion without choices or text: check the model name and \
         the server's log (a context window too small for the prompt is a common cause)"
    )]
    EmptyChoices {
        /// The chat-completions URL.
        endpoint: String,
    },

    /// Another transport failure, such as a body cut off mid-way.
    #[error("chat request to {endpoint} failed: {message}")]
    Transport {
        /// The chat-completions URL.
        endpoint: String,
        /// The transport error.
        message: String,
    },
}

/// Returns the advice for an HTTP error status.
pub(crate) fn status_hint(status: u16) -> &'static str {
    match status {
        401 | 403 => "the server rejected the credentials; check the API key or api_key_env",
        404 => {
            "the endpoint or model was not found; check base_url (the client appends \
             /v1/chat/completions) and the model name"
        }
        400 | 422 => "the server rejected the request; check the model name and the prompt size",
        429 => "the server is rate-limiting; wait, or raise max_attempts and backoff_max_ms",
        500..=599 => "the server failed; check its log, or retry later",
        _ => "unexpected status; check that base_url points at an OpenAI-compatible server",
    }
}

/// Returns at most the first 200 characters of `text`, cut at a character boundary.
pub(crate) fn excerpt(text: &str) -> String {
    const MAX_CHARS: usize = 200;
    let mut chars = text.chars();
    let head: String = chars.by_ref().take(MAX_CHARS).collect();
    if chars.next().is_some() {
        format!("{head}...")
    } else {
        head
    }
}
