//! Settings of the OpenAI-compatible adapter.

use std::fmt;
use std::time::Duration;

/// Which request field carries the output limit. OpenAI's newer models (o-series, GPT-5) only
/// accept `max_completion_tokens`; Ollama, vLLM and llama.cpp all understand `max_tokens`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum OutputLimitField {
    #[default]
    MaxTokens,
    MaxCompletionTokens,
}

impl OutputLimitField {
    pub(crate) fn key(self) -> &'static str {
        match self {
            Self::MaxTokens => "max_tokens",
            Self::MaxCompletionTokens => "max_completion_tokens",
        }
    }
}

/// How to reach the model server and how patient to be with it.
#[derive(Clone)]
pub struct OpenAiConfig {
    /// The API root including the version, e.g. `https://api.openai.com/v1` or
    /// `http://localhost:11434/v1` (Ollama); `/chat/completions` is appended.
    pub base_url: String,
    /// Sent as a bearer token; `None` for local servers that need none.
    pub api_key: Option<String>,
    /// The model id, e.g. `gpt-4o-mini` or `llama3.1:8b`.
    pub model: String,
    pub output_limit_field: OutputLimitField,
    /// Time allowed to open the TCP (and TLS) connection.
    pub connect_timeout: Duration,
    /// Time allowed, per attempt, from sending the request to the first piece of the reply.
    pub first_token_timeout: Duration,
    /// Longest silence allowed between two pieces of a reply once it has started.
    pub idle_timeout: Duration,
    /// Extra attempts after a 429, a 5xx or a connection failure before the first token.
    pub max_retries: u32,
    /// The first backoff; each retry doubles it, with jitter.
    pub retry_base_delay: Duration,
    /// No wait between attempts is longer than this, even if the server's `Retry-After` asks
    /// for more: a person is waiting for the reply.
    pub max_retry_delay: Duration,
    /// The whole risk classification call (connect, send, read); it is never retried, since
    /// the crisis screen falls back to its rules rather than keep a person waiting.
    pub classification_timeout: Duration,
    /// The model that classifies risk; `None` means `model`.
    pub classifier_model: Option<String>,
}

impl OpenAiConfig {
    /// Settings with sensible timeouts for `model` at `base_url`.
    pub fn new(base_url: impl Into<String>, model: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into(),
            api_key: None,
            model: model.into(),
            output_limit_field: OutputLimitField::default(),
            connect_timeout: Duration::from_secs(5),
            first_token_timeout: Duration::from_secs(60),
            idle_timeout: Duration::from_secs(30),
            max_retries: 2,
            retry_base_delay: Duration::from_millis(500),
            max_retry_delay: Duration::from_secs(8),
            classification_timeout: Duration::from_secs(2),
            classifier_model: None,
        }
    }

    /// The model id sent with classification calls.
    pub(crate) fn classifier_model(&self) -> &str {
        self.classifier_model.as_deref().unwrap_or(&self.model)
    }
}

// The API key must never reach a log line.
impl fmt::Debug for OpenAiConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenAiConfig")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("model", &self.model)
            .field("output_limit_field", &self.output_limit_field)
            .field("connect_timeout", &self.connect_timeout)
            .field("first_token_timeout", &self.first_token_timeout)
            .field("idle_timeout", &self.idle_timeout)
            .field("max_retries", &self.max_retries)
            .field("retry_base_delay", &self.retry_base_delay)
            .field("max_retry_delay", &self.max_retry_delay)
            .field("classification_timeout", &self.classification_timeout)
            .field("classifier_model", &self.classifier_model)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_api_key() {
        let mut config = OpenAiConfig::new("http://x/v1", "m");
        config.api_key = Some("sk-secret-123".into());
        let shown = format!("{config:?}");
        assert!(!shown.contains("sk-secret-123"));
        assert!(shown.contains("<redacted>"));
    }
}
