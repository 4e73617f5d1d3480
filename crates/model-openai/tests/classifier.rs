//! `classify_risk` against the in-process stub: verdicts, the request it sends, its one timeout
//! and its errors.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use domain::model::{
    ModelError, ModelRequest, RISK_CLASSIFIER_PROMPT, RISK_CLASSIFIER_SCHEMA, RiskQuestion,
    RiskVerdict,
};
use domain::ports::ChatModel;
use futures::StreamExt;
use model_openai::stub::{Behaviour, Reply, StubServer};
use model_openai::{OpenAiConfig, OpenAiModel};
use serde_json::Value;

const KEY: &str = "sk-test-very-secret";
const MESSAGE: &str = "Às vezes penso que seria melhor não acordar amanhã.";

/// The default classification timeout (2 s): the tests check the configured behaviour.
fn model(server: &StubServer) -> OpenAiModel {
    let mut config = OpenAiConfig::new(&server.base_url, "chat-model");
    config.api_key = Some(KEY.into());
    OpenAiModel::new(config).unwrap()
}

fn question() -> RiskQuestion {
    RiskQuestion {
        recent: vec!["O trabalho está insuportável.".into()],
        message: MESSAGE.into(),
    }
}

async fn classify_with(replies: Vec<Reply>) -> (Result<RiskVerdict, ModelError>, StubServer) {
    let server = StubServer::start(Behaviour::from(vec![]).classifications(replies)).await;
    let result = model(&server).classify_risk(&question()).await;
    (result, server)
}

#[tokio::test]
async fn each_kind_of_verdict_is_read() {
    for (risk, imminent) in [(false, false), (true, false), (true, true)] {
        let (result, server) = classify_with(vec![Reply::verdict(risk, imminent)]).await;
        assert_eq!(result, Ok(RiskVerdict { risk, imminent }));
        assert_eq!(server.classifications(), 1);
        assert_eq!(server.requests(), 0, "not counted as a chat request");
    }
}

#[tokio::test]
async fn the_stub_answers_no_risk_by_default() {
    let server = StubServer::start(Reply::text("ok")).await;
    let verdict = model(&server).classify_risk(&question()).await;
    assert_eq!(
        verdict,
        Ok(RiskVerdict {
            risk: false,
            imminent: false
        })
    );
}

#[tokio::test]
async fn the_request_carries_the_prompt_the_schema_and_no_stream() {
    let (result, server) = classify_with(vec![Reply::verdict(true, false)]).await;
    assert!(result.is_ok());
    let sent = server.last_classification().unwrap();
    assert_eq!(sent["model"], "chat-model");
    assert_eq!(sent["stream"], false);
    assert_eq!(sent["temperature"], 0);
    assert_eq!(sent["max_tokens"], 40);
    assert_eq!(sent["messages"][0]["role"], "system");
    assert_eq!(sent["messages"][0]["content"], RISK_CLASSIFIER_PROMPT);
    let transcript = sent["messages"][1]["content"].as_str().unwrap();
    assert!(transcript.contains("O trabalho está insuportável."));
    assert!(transcript.ends_with(MESSAGE));
    let format = &sent["response_format"];
    assert_eq!(format["type"], "json_schema");
    assert_eq!(format["json_schema"]["name"], "risk_screen");
    assert_eq!(format["json_schema"]["strict"], true);
    let schema: Value = serde_json::from_str(RISK_CLASSIFIER_SCHEMA).unwrap();
    assert_eq!(format["json_schema"]["schema"], schema);
}

#[tokio::test]
async fn a_separate_classifier_model_is_sent_when_configured() {
    let server = StubServer::start(Reply::text("ok")).await;
    let mut config = OpenAiConfig::new(&server.base_url, "chat-model");
    config.classifier_model = Some("small-model".into());
    let model = OpenAiModel::new(config).unwrap();
    assert!(model.classify_risk(&question()).await.is_ok());
    assert_eq!(
        server.last_classification().unwrap()["model"],
        "small-model"
    );
    assert_eq!(model.name(), "chat-model");
}

#[tokio::test]
async fn a_slow_server_is_a_timeout_at_two_seconds() {
    let server = StubServer::start(Behaviour::from(vec![]).classifications(vec![
        Reply::verdict(true, false).delay_first(Duration::from_secs(3)),
    ]))
    .await;
    let model = model(&server);
    let started = Instant::now();
    let result = model.classify_risk(&question()).await;
    let waited = started.elapsed();
    assert_eq!(result, Err(ModelError::Timeout));
    assert!(waited >= Duration::from_millis(1900), "{waited:?}");
    assert!(waited < Duration::from_millis(2900), "{waited:?}");
    assert_eq!(server.classifications(), 1, "no retry");
}

#[tokio::test]
async fn refusals_are_errors_without_retry() {
    let (result, server) = classify_with(vec![Reply::status(500)]).await;
    assert!(
        matches!(result, Err(ModelError::Unavailable(ref m)) if m.contains("500")),
        "{result:?}"
    );
    assert_eq!(server.classifications(), 1);
    let (result, server) = classify_with(vec![Reply::status(429).retry_after(0)]).await;
    assert_eq!(result, Err(ModelError::RateLimited));
    assert_eq!(server.classifications(), 1);
}

#[tokio::test]
async fn malformed_content_is_a_protocol_error_and_a_fence_is_not() {
    for content in ["talvez", r#"{"risk":true}"#, ""] {
        let (result, _) = classify_with(vec![Reply::json(content)]).await;
        assert!(
            matches!(result, Err(ModelError::Protocol(_))),
            "{content:?}: {result:?}"
        );
    }
    let fenced = "```json\n{\"risk\":true,\"imminent\":true}\n```\n";
    let (result, _) = classify_with(vec![Reply::json(fenced)]).await;
    assert_eq!(
        result,
        Ok(RiskVerdict {
            risk: true,
            imminent: true
        })
    );
}

#[tokio::test]
async fn an_unreachable_server_fails_at_once() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let model = OpenAiModel::new(OpenAiConfig::new(format!("http://{address}/v1"), "m")).unwrap();
    let started = Instant::now();
    let result = model.classify_risk(&question()).await;
    assert!(
        matches!(result, Err(ModelError::Unavailable(_))),
        "{result:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[tokio::test]
async fn chat_and_classification_scripts_are_independent() {
    let server = StubServer::start(
        Behaviour::from(vec![Reply::status(503), Reply::text("Estou aqui.")]).classifications(
            vec![Reply::verdict(true, false), Reply::verdict(false, false)],
        ),
    )
    .await;
    let model = model(&server);
    let risky = model.classify_risk(&question()).await.unwrap();
    assert!(risky.risk);
    let request = ModelRequest {
        messages: domain::model::risk_classifier_messages(&question()),
        sources: Vec::new(),
        max_output_tokens: 50,
    };
    let events: Vec<_> = model.stream(request).await.unwrap().collect().await;
    assert!(events.iter().all(Result::is_ok), "{events:?}");
    assert_eq!(server.requests(), 2, "the 503 and its retry");
    let calm = model.classify_risk(&question()).await.unwrap();
    assert!(!calm.risk);
    assert_eq!(server.classifications(), 2);
    assert!(
        server.last_request().unwrap()["response_format"].is_null(),
        "last_request keeps the chat request"
    );
}

/// Collects log output of the current thread (tokio tests run on one thread).
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn a_model_echoing_the_message_never_puts_it_in_logs_or_errors() {
    let logs = Logs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let (result, _) = classify_with(vec![Reply::json(MESSAGE)]).await;
    let error = result.unwrap_err();
    assert!(!format!("{error} {error:?}").contains(MESSAGE));
    let (result, _) = classify_with(vec![Reply::status(401)]).await;
    assert!(!format!("{result:?}").contains(KEY));
    let logs = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("risk classification failed"), "{logs}");
    assert!(!logs.contains(MESSAGE), "{logs}");
    assert!(!logs.contains(KEY), "{logs}");
}
