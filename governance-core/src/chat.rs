//! The chat-model abstraction: a conversation goes in, the assistant's reply text comes out.
//!
//! The trait lives here, in the core crate, so that analyzers (which depend only on
//! `governance-core`) can take any chat model, and model crates can implement it without
//! depending on the analyzers. `governance-llm` provides the HTTP implementation for
//! OpenAI-compatible servers.
//!
//! ```
//! use governance_core::chat::{ChatFuture, ChatMessage, ChatModel};
//!
//! /// A model that always replies with the same text, as a test double would.
//! struct Fixed(&'static str);
//!
//! impl ChatModel for Fixed {
//!     fn complete<'a>(&'a self, _messages: &'a [ChatMessage]) -> ChatFuture<'a> {
//!         Box::pin(async move { Ok(self.0.to_string()) })
//!     }
//!
//!     fn describe(&self) -> String {
//!         "fixed reply".to_string()
//!     }
//! }
//!
//! let model = Fixed("SELECT 1");
//! let runtime = tokio::runtime::Builder::new_current_thread().build()?;
//! let reply = runtime.block_on(model.complete(&[ChatMessage::user("one?")]))?;
//! assert_eq!(reply, "SELECT 1");
//! # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
//! ```

use std::future::Future;
use std::pin::Pin;

use serde::{Deserialize, Serialize};

use crate::BoxError;

/// The author of a chat message, with the names of the OpenAI chat-completions API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChatRole {
    /// Instructions that frame the conversation.
    System,
    /// The caller's message.
    User,
    /// A reply of the model.
    Assistant,
}

/// One message of a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// The author.
    pub role: ChatRole,
    /// The text.
    pub content: String,
}

impl ChatMessage {
    /// Creates a system message.
    pub fn system(content: impl Into<String>) -> Self {
        ChatMessage {
            role: ChatRole::System,
            content: content.into(),
        }
    }

    /// Creates a user message.
    pub fn user(content: impl Into<String>) -> Self {
        ChatMessage {
            role: ChatRole::User,
            content: content.into(),
        }
    }

    /// Creates an assistant message.
    pub fn assistant(content: impl Into<String>) -> Self {
        ChatMessage {
            role: ChatRole::Assistant,
            content: content.into(),
        }
    }
}

/// The future returned by [`ChatModel::complete`]: the reply text, or the model's error.
pub type ChatFuture<'a> = Pin<Box<dyn Future<Output = Result<String, BoxError>> + Send + 'a>>;

/// A chat model: sends a conversation and returns the assistant's reply.
///
/// The future is boxed so that callers can hold any model as `dyn ChatModel`. Errors are
/// boxed because each implementation has its own. Their messages should name the model or
/// endpoint and the fix, and never contain a secret such as an API key.
pub trait ChatModel: Send + Sync {
    /// Sends `messages` and returns the text of the assistant's reply.
    fn complete<'a>(&'a self, messages: &'a [ChatMessage]) -> ChatFuture<'a>;

    /// Describes the model for logs and errors, such as its endpoint and model name. It must
    /// not contain a secret.
    fn describe(&self) -> String;
}
