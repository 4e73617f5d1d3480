//! The language-model port: any chat-completions server, or the offline responder.

use futures::stream::BoxStream;
use serde::{Deserialize, Serialize};
use std::future::Future;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChatRole {
    System,
    User,
    Assistant,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatTurn {
    pub role: ChatRole,
    pub content: String,
}

/// Tokens the chat format adds around every message (`<|start|>role … <|end|>`, the role name
/// being one token), as OpenAI documents the accounting of chat requests.
pub const TOKENS_PER_MESSAGE: u64 = 4;
/// Tokens that prime the assistant's reply after the last message.
pub const TOKENS_PER_REQUEST: u64 = 3;

/// The prompt tokens of a request whose messages' contents count `content_tokens` each: the one
/// place the framing overheads are added, for the turn's reservation and for the stub server.
pub fn prompt_tokens(content_tokens: impl IntoIterator<Item = u64>) -> u64 {
    content_tokens
        .into_iter()
        .map(|tokens| TOKENS_PER_MESSAGE + tokens)
        .sum::<u64>()
        + TOKENS_PER_REQUEST
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelRequest {
    /// System prompt first, then history, then the new user message.
    pub messages: Vec<ChatTurn>,
    /// The library passages retrieved for this turn, best first. They are already quoted in the
    /// system message for a language model; the offline responder quotes them to the person.
    pub sources: Vec<crate::prompt::Source>,
    pub max_output_tokens: u32,
}

/// Token usage as the model server reports it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelUsage {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelEvent {
    /// A piece of the reply, in order.
    Delta(String),
    /// The end of the reply; `usage` is `None` when the server did not report it.
    Done { usage: Option<ModelUsage> },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    #[error("the language model is busy; please try again in a moment")]
    RateLimited,
    #[error("the language model did not answer in time")]
    Timeout,
    #[error("the language model is unavailable: {0}")]
    Unavailable(String),
    #[error("the language model answered something unexpected: {0}")]
    Protocol(String),
}

pub type ModelStream = BoxStream<'static, Result<ModelEvent, ModelError>>;

#[cfg_attr(test, mockall::automock)]
pub trait ChatModel: Send + Sync + 'static {
    /// Starts a streamed reply. Errors before the first event are returned here (after the
    /// adapter's own bounded retries); later failures arrive in the stream.
    fn stream(
        &self,
        request: ModelRequest,
    ) -> impl Future<Output = Result<ModelStream, ModelError>> + Send;

    /// A short name for pages and logs (e.g. the model id, or "offline").
    fn name(&self) -> String;
}
