//! The chat-completions wire format: the request we send and the parts of the answers we read.

use domain::model::{ModelRequest, ModelUsage};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::config::OpenAiConfig;

/// Longest server error message we keep for the logs.
const MAX_LOGGED_MESSAGE: usize = 300;

pub(crate) fn request_body(config: &OpenAiConfig, request: &ModelRequest) -> Value {
    let mut body = json!({
        "model": config.model,
        "messages": request.messages,
        "stream": true,
        // Asks for a last chunk carrying the usage, so quotas settle on the server's own count.
        "stream_options": { "include_usage": true },
    });
    body[config.output_limit_field.key()] = json!(request.max_output_tokens);
    body
}

/// A streamed chunk (`chat.completion.chunk`) or a whole answer (`chat.completion`): the first
/// has `delta`s, the second `message`s; both may carry `usage` (or `null`) and `error`.
#[derive(Debug, Deserialize)]
pub(crate) struct Completion {
    #[serde(default)]
    choices: Vec<Choice>,
    #[serde(default)]
    usage: Option<Usage>,
    #[serde(default)]
    error: Option<Value>,
    /// vLLM reports errors as `{"object":"error",…}` rather than under `error`.
    #[serde(default)]
    object: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Choice {
    #[serde(default)]
    delta: Option<Content>,
    #[serde(default)]
    message: Option<Content>,
}

#[derive(Debug, Deserialize)]
struct Content {
    #[serde(default)]
    content: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Usage {
    #[serde(default)]
    prompt_tokens: u64,
    #[serde(default)]
    completion_tokens: u64,
}

impl Completion {
    /// Whether the server put an error where the reply should be.
    pub fn is_error(&self) -> bool {
        self.error.is_some() || self.object.as_deref() == Some("error")
    }

    pub fn has_choices(&self) -> bool {
        !self.choices.is_empty()
    }

    /// The text this chunk or answer adds (we ask for one choice, so this is its text).
    pub fn text(&self) -> String {
        self.choices
            .iter()
            .filter_map(|c| c.delta.as_ref().or(c.message.as_ref()))
            .filter_map(|c| c.content.as_deref())
            .collect()
    }

    pub fn usage(&self) -> Option<ModelUsage> {
        self.usage.as_ref().map(|u| ModelUsage {
            prompt_tokens: u.prompt_tokens,
            completion_tokens: u.completion_tokens,
        })
    }
}

/// The message of an error body (`{"error":{"message":…}}` or `{"error":"…"}`), cut short and
/// with the API key blanked out, because some servers echo the key back.
pub(crate) fn loggable_error(body: &str, api_key: Option<&str>) -> String {
    let message = serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| match &v["error"] {
            Value::String(s) => Some(s.clone()),
            e => e["message"].as_str().map(str::to_owned),
        })
        .unwrap_or_else(|| body.to_owned());
    redact(&message, api_key)
}

pub(crate) fn redact(text: &str, api_key: Option<&str>) -> String {
    let text = match api_key {
        Some(key) if !key.is_empty() => text.replace(key, "<redacted>"),
        _ => text.to_owned(),
    };
    match text.char_indices().nth(MAX_LOGGED_MESSAGE) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::OutputLimitField;
    use domain::model::{ChatRole, ChatTurn};

    #[test]
    fn body_asks_for_a_stream_with_usage_and_the_limit() {
        let mut config = OpenAiConfig::new("http://x/v1", "gpt-4o-mini");
        let request = ModelRequest {
            messages: vec![ChatTurn {
                role: ChatRole::User,
                content: "oi".into(),
            }],
            sources: Vec::new(),
            max_output_tokens: 256,
        };
        let body = request_body(&config, &request);
        assert_eq!(body["stream"], true);
        assert_eq!(body["stream_options"]["include_usage"], true);
        assert_eq!(body["max_tokens"], 256);
        assert_eq!(body["messages"][0]["role"], "user");
        config.output_limit_field = OutputLimitField::MaxCompletionTokens;
        let body = request_body(&config, &request);
        assert_eq!(body["max_completion_tokens"], 256);
        assert!(body.get("max_tokens").is_none());
    }

    #[test]
    fn reads_chunks_answers_and_null_usage() {
        let chunk: Completion = serde_json::from_str(
            r#"{"choices":[{"index":0,"delta":{"content":"Olá"}}],"usage":null}"#,
        )
        .unwrap();
        assert_eq!(chunk.text(), "Olá");
        assert_eq!(chunk.usage(), None);
        let role_only: Completion =
            serde_json::from_str(r#"{"choices":[{"delta":{"role":"assistant","content":null}}]}"#)
                .unwrap();
        assert_eq!(role_only.text(), "");
        let whole: Completion = serde_json::from_str(
            r#"{"choices":[{"message":{"role":"assistant","content":"Oi"}}],"usage":{"prompt_tokens":9,"completion_tokens":1,"total_tokens":10}}"#,
        )
        .unwrap();
        assert_eq!(whole.text(), "Oi");
        assert_eq!(
            whole.usage(),
            Some(ModelUsage {
                prompt_tokens: 9,
                completion_tokens: 1
            })
        );
    }

    #[test]
    fn error_messages_are_redacted_and_cut() {
        let body = r#"{"error":{"message":"Incorrect API key provided: sk-live-42"}}"#;
        let shown = loggable_error(body, Some("sk-live-42"));
        assert_eq!(shown, "Incorrect API key provided: <redacted>");
        assert_eq!(
            loggable_error(r#"{"error":"model not found"}"#, None),
            "model not found"
        );
        assert!(loggable_error(&"é".repeat(1000), None).chars().count() <= MAX_LOGGED_MESSAGE + 1);
    }
}
