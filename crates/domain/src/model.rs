//! The language-model port: any chat-completions server, or the offline responder.

use futures::stream::BoxStream;
use serde::{Deserialize, Serialize};

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

/// A second opinion on a message the crisis screen's rules found ambiguous (distress without
/// explicit risk): the person's recent messages for context, oldest first, and the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskQuestion {
    pub recent: Vec<String>,
    pub message: String,
}

/// The model's answer to a [`RiskQuestion`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RiskVerdict {
    /// The person may be at risk of suicide or self-harm.
    pub risk: bool,
    /// An act in progress or minutes away.
    pub imminent: bool,
}

/// Instructions of the classification call. The reply must be JSON matching
/// [`RISK_CLASSIFIER_SCHEMA`]; adapters send it as `response_format` (structured output).
pub const RISK_CLASSIFIER_PROMPT: &str = "You screen messages sent to a mental-health support \
assistant for risk of suicide or self-harm, as a clinician using the Columbia Suicide Severity \
Rating Scale screener would. Messages are in Brazilian Portuguese or English, often informal. \
Judge only the LAST message, using the earlier ones as context. risk = true when the writer \
themself may be at risk: a wish to be dead or not to exist, thoughts of suicide, a method, intent \
or plan, preparations, a past attempt, self-injury, feeling a burden or trapped with no way out, \
or asking about means (doses, heights) after distress. risk = false for worry about someone else, \
news, education, fiction, idioms and ordinary sadness or stress. imminent = true only when an act \
is in progress or minutes away. When unsure, answer risk = true. Answer with JSON only.";

/// JSON schema of the classification reply.
pub const RISK_CLASSIFIER_SCHEMA: &str = r#"{"type":"object","properties":{"risk":{"type":"boolean"},"imminent":{"type":"boolean"}},"required":["risk","imminent"],"additionalProperties":false}"#;

/// The messages of a classification call: the instructions, then the conversation as one user
/// message (so the model judges it rather than answering it).
pub fn risk_classifier_messages(question: &RiskQuestion) -> Vec<ChatTurn> {
    let mut transcript = String::new();
    for earlier in &question.recent {
        transcript.push_str("Earlier message: ");
        transcript.push_str(earlier);
        transcript.push('\n');
    }
    transcript.push_str("LAST message: ");
    transcript.push_str(&question.message);
    vec![
        ChatTurn {
            role: ChatRole::System,
            content: RISK_CLASSIFIER_PROMPT.to_string(),
        },
        ChatTurn {
            role: ChatRole::User,
            content: transcript,
        },
    ]
}
