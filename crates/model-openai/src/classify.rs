//! The crisis screen's second opinion on the wire: one short structured-output request, the
//! verdict read from its answer, and the metrics of these calls.

use std::sync::LazyLock;

use domain::model::{
    ModelError, ModelUsage, RISK_CLASSIFIER_SCHEMA, RiskQuestion, RiskVerdict,
    risk_classifier_messages,
};
use serde_json::{Value, json};

use crate::config::{OpenAiConfig, OutputLimitField};
use crate::wire::Completion;

/// `{"risk":false,"imminent":false}` is about a dozen tokens; the rest leaves room for a fence.
const MAX_VERDICT_TOKENS: u32 = 40;
/// Reasoning models (those that take `max_completion_tokens`) spend tokens thinking before they
/// answer, and refuse a `temperature`: they get room to think and no temperature.
const MAX_REASONING_VERDICT_TOKENS: u32 = 512;

const CALLS: &str = "safety_classifier_calls_total";
const TOKENS: &str = "safety_classifier_tokens_total";

static SCHEMA: LazyLock<Value> = LazyLock::new(|| {
    serde_json::from_str(RISK_CLASSIFIER_SCHEMA).expect("RISK_CLASSIFIER_SCHEMA is valid JSON")
});

pub(crate) fn request_body(config: &OpenAiConfig, question: &RiskQuestion) -> Value {
    let mut body = json!({
        "model": config.classifier_model(),
        "messages": risk_classifier_messages(question),
        "stream": false,
        "response_format": {
            "type": "json_schema",
            "json_schema": { "name": "risk_screen", "strict": true, "schema": *SCHEMA },
        },
    });
    let limit = match config.output_limit_field {
        OutputLimitField::MaxCompletionTokens => MAX_REASONING_VERDICT_TOKENS,
        _ => {
            body["temperature"] = json!(0);
            MAX_VERDICT_TOKENS
        }
    };
    body[config.output_limit_field.key()] = json!(limit);
    body
}

/// The verdict in a whole `chat.completion` answer. The tokens the server reports are counted
/// even when the content is unusable: they were spent.
pub(crate) fn read_answer(body: &[u8]) -> Result<RiskVerdict, ModelError> {
    let completion: Completion = serde_json::from_slice(body).map_err(|_| {
        ModelError::Protocol("the classification answer is not a chat completion".into())
    })?;
    if let Some(usage) = completion.usage() {
        count_tokens(usage);
    }
    if completion.is_error() || !completion.has_choices() {
        return Err(ModelError::Protocol(
            "the classification answer has no choice".into(),
        ));
    }
    verdict(&completion.text())
}

/// The JSON verdict, alone or in a Markdown code fence (some servers ignore `response_format`).
fn verdict(content: &str) -> Result<RiskVerdict, ModelError> {
    let content = content.trim();
    let json = content
        .strip_prefix("```json")
        .or_else(|| content.strip_prefix("```"))
        .and_then(|fenced| fenced.strip_suffix("```"))
        .unwrap_or(content);
    // The content is not logged or returned: a confused model may echo the person's message.
    serde_json::from_str(json.trim())
        .map_err(|_| ModelError::Protocol("the classification is not a verdict".into()))
}

/// The `outcome` label of a finished call.
pub(crate) fn outcome(result: &Result<RiskVerdict, ModelError>) -> &'static str {
    match result {
        // An imminent act without risk is contradictory: the safer reading wins.
        Ok(verdict) if verdict.risk || verdict.imminent => "risk",
        Ok(_) => "no_risk",
        Err(ModelError::Timeout) => "timeout",
        Err(_) => "error",
    }
}

pub(crate) fn count_call(result: &Result<RiskVerdict, ModelError>) {
    metrics::counter!(CALLS, "outcome" => outcome(result)).increment(1);
}

fn count_tokens(usage: ModelUsage) {
    metrics::counter!(TOKENS)
        .increment(usage.prompt_tokens.saturating_add(usage.completion_tokens));
}

/// Describes this crate's metrics to the installed recorder (their `# HELP` lines).
pub fn describe_metrics() {
    metrics::describe_counter!(
        CALLS,
        "Risk classification calls to the language model, by outcome: risk, no_risk, timeout, error"
    );
    metrics::describe_counter!(
        TOKENS,
        metrics::Unit::Count,
        "Tokens the risk classification calls spent, as the model server reported them (the \
         platform's cost, never charged to a person)"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn question() -> RiskQuestion {
        RiskQuestion {
            recent: vec!["Tudo pesa.".into()],
            message: "Não aguento mais.".into(),
        }
    }

    #[test]
    fn body_is_one_structured_non_streaming_call() {
        let mut config = OpenAiConfig::new("http://x/v1", "chat-model");
        let body = request_body(&config, &question());
        assert_eq!(body["model"], "chat-model");
        assert_eq!(body["stream"], false);
        assert_eq!(body["temperature"], 0);
        assert_eq!(body["max_tokens"], MAX_VERDICT_TOKENS);
        assert!(body.get("stream_options").is_none());
        let format = &body["response_format"];
        assert_eq!(format["type"], "json_schema");
        assert_eq!(format["json_schema"]["name"], "risk_screen");
        assert_eq!(format["json_schema"]["strict"], true);
        assert_eq!(
            format["json_schema"]["schema"]["required"],
            json!(["risk", "imminent"])
        );
        assert_eq!(body["messages"][0]["role"], "system");
        assert_eq!(body["messages"][1]["role"], "user");

        config.classifier_model = Some("small-model".into());
        config.output_limit_field = OutputLimitField::MaxCompletionTokens;
        let body = request_body(&config, &question());
        assert_eq!(body["model"], "small-model");
        assert_eq!(body["max_completion_tokens"], MAX_REASONING_VERDICT_TOKENS);
        assert!(body.get("max_tokens").is_none() && body.get("temperature").is_none());
    }

    #[test]
    fn verdicts_bare_padded_or_fenced() {
        let expected = RiskVerdict {
            risk: true,
            imminent: false,
        };
        for content in [
            r#"{"risk":true,"imminent":false}"#,
            " \n{\"risk\": true, \"imminent\": false}\n ",
            "```json\n{\"risk\":true,\"imminent\":false}\n```",
            "```\n{\"risk\":true,\"imminent\":false}\n```",
        ] {
            assert_eq!(verdict(content), Ok(expected), "{content:?}");
        }
        for content in [
            "",
            "yes",
            r#"{"risk":true}"#,
            r#"{"risk":"true","imminent":false}"#,
            "```json\n{\"risk\":true,\"imminent\":false}",
        ] {
            assert!(
                matches!(verdict(content), Err(ModelError::Protocol(_))),
                "{content:?}"
            );
        }
    }

    #[test]
    fn answers_without_a_choice_are_protocol_errors() {
        for body in [
            "not json",
            r#"{"choices":[]}"#,
            r#"{"error":{"message":"bad schema"}}"#,
            r#"{"object":"error","message":"bad schema"}"#,
        ] {
            assert!(
                matches!(read_answer(body.as_bytes()), Err(ModelError::Protocol(_))),
                "{body}"
            );
        }
        let whole =
            r#"{"choices":[{"message":{"content":"{\"risk\":false,\"imminent\":false}"}}]}"#;
        assert_eq!(
            read_answer(whole.as_bytes()),
            Ok(RiskVerdict {
                risk: false,
                imminent: false
            })
        );
    }

    #[test]
    fn outcomes_label_every_result() {
        let verdict = |risk, imminent| Ok(RiskVerdict { risk, imminent });
        assert_eq!(outcome(&verdict(true, false)), "risk");
        assert_eq!(outcome(&verdict(false, true)), "risk");
        assert_eq!(outcome(&verdict(false, false)), "no_risk");
        assert_eq!(outcome(&Err(ModelError::Timeout)), "timeout");
        assert_eq!(outcome(&Err(ModelError::RateLimited)), "error");
        assert_eq!(outcome(&Err(ModelError::Protocol("x".into()))), "error");
    }
}
