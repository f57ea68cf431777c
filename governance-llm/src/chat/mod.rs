//! A client of the OpenAI-compatible chat-completions HTTP API, used as a
//! [`ChatModel`](governance_core::chat::ChatModel) by the question answering of
//! `governance-analyze`.
//!
//! [`ChatClient`] sends `POST {base_url}/v1/chat/completions` with reqwest (0.12, plain HTTP,
//! no TLS in this build). It has a connect timeout and a timeout per attempt, retries
//! timeouts, connection errors, HTTP 429 and HTTP 5xx with exponential backoff, and can
//! stream the reply as server-sent events. An API key is optional: set it in the config or
//! name an environment variable that contains it. The key is sent only in the `Authorization`
//! header and never logged or put in an error.
//!
//! ```no_run
//! use governance_core::chat::ChatMessage;
//! use governance_llm::chat::{ChatClient, ChatClientConfig};
//!
//! let config = ChatClientConfig::new("http://127.0.0.1:8080", "qwen2.5-coder")
//!     .with_timeout_ms(30_000)
//!     .with_api_key_env("OPENAI_API_KEY");
//! let client = ChatClient::new(config)?;
//! let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
//! let reply = runtime.block_on(client.chat(&[ChatMessage::user("Say hello.")]))?;
//! println!("{reply}");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod client;
mod config;
mod error;
mod sse;

pub use client::ChatClient;
pub use config::{ApiKey, ChatClientConfig};
pub use error::ChatError;
pub use governance_core::chat::{ChatMessage, ChatModel, ChatRole};
