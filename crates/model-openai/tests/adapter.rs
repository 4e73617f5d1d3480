//! The adapter against the in-process stub: streaming, retries, timeouts and broken connections.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use domain::model::{ChatRole, ChatTurn, ModelError, ModelEvent, ModelRequest, ModelUsage};
use domain::ports::{ChatModel, TokenCounter};
use futures::StreamExt;
use model_openai::stub::{Reply, StubServer};
use model_openai::{OpenAiConfig, OpenAiModel, TiktokenCounter};

const KEY: &str = "sk-test-very-secret";
const ANSWER: &str =
    "Entendo. Parece que o trabalho tem pesado bastante; quer conversar sobre isso?";

fn config(base_url: &str) -> OpenAiConfig {
    let mut config = OpenAiConfig::new(base_url, "stub-model");
    config.api_key = Some(KEY.into());
    config.connect_timeout = Duration::from_millis(200);
    config.first_token_timeout = Duration::from_millis(500);
    config.idle_timeout = Duration::from_millis(300);
    config.max_retries = 2;
    config.retry_base_delay = Duration::from_millis(5);
    config.max_retry_delay = Duration::from_millis(50);
    config
}

fn model(server: &StubServer) -> OpenAiModel {
    OpenAiModel::new(config(&server.base_url)).unwrap()
}

fn request() -> ModelRequest {
    ModelRequest {
        messages: vec![
            ChatTurn {
                role: ChatRole::System,
                content: "Você é um assistente de psicologia acolhedor.".into(),
            },
            ChatTurn {
                role: ChatRole::User,
                content: "Tenho me sentido muito cansado com o trabalho.".into(),
            },
        ],
        sources: Vec::new(),
        max_output_tokens: 200,
    }
}

/// Every event of one reply, or the error `stream` returned.
async fn events(model: &OpenAiModel) -> Result<Vec<Result<ModelEvent, ModelError>>, ModelError> {
    Ok(model.stream(request()).await?.collect().await)
}

fn text_of(events: &[Result<ModelEvent, ModelError>]) -> String {
    events
        .iter()
        .filter_map(|e| match e {
            Ok(ModelEvent::Delta(text)) => Some(text.as_str()),
            _ => None,
        })
        .collect()
}

fn expected_usage() -> ModelUsage {
    let counter = TiktokenCounter::new();
    ModelUsage {
        prompt_tokens: counter.count_request(&request().messages),
        completion_tokens: counter.count(ANSWER),
    }
}

#[tokio::test]
async fn streams_the_reply_in_chunks_with_usage() {
    let server = StubServer::start(Reply::text(ANSWER).chunks(4)).await;
    let model = model(&server);
    assert_eq!(model.name(), "stub-model");
    let events = events(&model).await.unwrap();
    assert_eq!(events.len(), 5, "{events:?}");
    assert_eq!(text_of(&events), ANSWER);
    assert_eq!(
        events.last(),
        Some(&Ok(ModelEvent::Done {
            usage: Some(expected_usage())
        }))
    );
    let sent = server.last_request().unwrap();
    assert_eq!(sent["model"], "stub-model");
    assert_eq!(sent["stream"], true);
    assert_eq!(sent["stream_options"]["include_usage"], true);
    assert_eq!(sent["max_tokens"], 200);
    assert_eq!(sent["messages"][1]["role"], "user");
}

#[tokio::test]
async fn events_split_across_reads_are_reassembled() {
    let server = StubServer::start(Reply::text(ANSWER).chunks(6).fragmented()).await;
    let events = events(&model(&server)).await.unwrap();
    assert_eq!(text_of(&events), ANSWER);
    assert_eq!(
        events.last(),
        Some(&Ok(ModelEvent::Done {
            usage: Some(expected_usage())
        }))
    );
}

#[tokio::test]
async fn missing_usage_gives_done_without_usage() {
    let server = StubServer::start(Reply::text(ANSWER).chunks(2).without_usage()).await;
    let events = events(&model(&server)).await.unwrap();
    assert_eq!(text_of(&events), ANSWER);
    assert_eq!(events.last(), Some(&Ok(ModelEvent::Done { usage: None })));
}

#[tokio::test]
async fn a_non_streamed_answer_is_accepted() {
    let server = StubServer::start(Reply::json(ANSWER)).await;
    let events = events(&model(&server)).await.unwrap();
    assert_eq!(
        events,
        vec![
            Ok(ModelEvent::Delta(ANSWER.into())),
            Ok(ModelEvent::Done {
                usage: Some(expected_usage())
            })
        ]
    );
}

#[tokio::test]
async fn rate_limits_are_retried_then_one_reply() {
    let server = StubServer::start(vec![
        Reply::status(429).retry_after(0),
        Reply::status(429).retry_after(0),
        Reply::text(ANSWER).chunks(3),
    ])
    .await;
    let events = events(&model(&server)).await.unwrap();
    assert_eq!(text_of(&events), ANSWER);
    assert_eq!(server.requests(), 3);
}

#[tokio::test]
async fn endless_rate_limits_end_in_rate_limited() {
    let server = StubServer::start(Reply::status(429)).await;
    assert_eq!(
        events(&model(&server)).await.unwrap_err(),
        ModelError::RateLimited
    );
    assert_eq!(server.requests(), 3, "one attempt and max_retries retries");
}

#[tokio::test]
async fn retry_after_is_honoured_but_capped() {
    let server =
        StubServer::start(vec![Reply::status(429).retry_after(1), Reply::text(ANSWER)]).await;
    let mut config = config(&server.base_url);
    config.retry_base_delay = Duration::from_millis(1);
    config.max_retry_delay = Duration::from_millis(150);
    let model = OpenAiModel::new(config).unwrap();
    let started = Instant::now();
    assert_eq!(text_of(&events(&model).await.unwrap()), ANSWER);
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(150), "{waited:?}");
    assert!(waited < Duration::from_millis(900), "{waited:?}");
}

#[tokio::test]
async fn server_errors_are_retried_then_unavailable() {
    let server = StubServer::start(Reply::status(500)).await;
    let error = events(&model(&server)).await.unwrap_err();
    assert!(
        matches!(error, ModelError::Unavailable(ref m) if m.contains("500")),
        "{error:?}"
    );
    assert_eq!(server.requests(), 3);
}

#[tokio::test]
async fn a_connection_lost_before_the_first_token_is_retried() {
    let server =
        StubServer::start(vec![Reply::text(ANSWER).drop_after(0), Reply::text(ANSWER)]).await;
    assert_eq!(text_of(&events(&model(&server)).await.unwrap()), ANSWER);
    assert_eq!(server.requests(), 2);
}

#[tokio::test]
async fn an_unreachable_server_is_unavailable() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let model = OpenAiModel::new(config(&format!("http://{address}/v1"))).unwrap();
    assert!(matches!(
        events(&model).await,
        Err(ModelError::Unavailable(_))
    ));
}

#[tokio::test]
async fn no_first_token_in_time_is_a_timeout_without_retry() {
    let server = StubServer::start(Reply::text(ANSWER).delay_first(Duration::from_secs(2))).await;
    let started = Instant::now();
    assert_eq!(
        events(&model(&server)).await.unwrap_err(),
        ModelError::Timeout
    );
    assert!(started.elapsed() < Duration::from_millis(1500));
    assert_eq!(server.requests(), 1);
}

#[tokio::test]
async fn a_stall_mid_reply_ends_the_stream_with_timeout() {
    let server = StubServer::start(
        Reply::text(ANSWER)
            .chunks(3)
            .stall_after(2, Duration::from_secs(2)),
    )
    .await;
    let events = events(&model(&server)).await.unwrap();
    assert!(
        matches!(
            events[..],
            [
                Ok(ModelEvent::Delta(_)),
                Ok(ModelEvent::Delta(_)),
                Err(ModelError::Timeout)
            ]
        ),
        "{events:?}"
    );
    assert_eq!(server.requests(), 1);
}

#[tokio::test]
async fn a_short_stall_within_the_idle_timeout_is_fine() {
    let server = StubServer::start(
        Reply::text(ANSWER)
            .chunks(3)
            .stall_after(1, Duration::from_millis(50)),
    )
    .await;
    let events = events(&model(&server)).await.unwrap();
    assert_eq!(text_of(&events), ANSWER);
    assert!(matches!(events.last(), Some(Ok(ModelEvent::Done { .. }))));
}

#[tokio::test]
async fn a_dropped_connection_mid_reply_is_an_error_not_a_done() {
    let server = StubServer::start(Reply::text(ANSWER).chunks(4).drop_after(2)).await;
    let events = events(&model(&server)).await.unwrap();
    assert!(
        matches!(
            events[..],
            [
                Ok(ModelEvent::Delta(_)),
                Ok(ModelEvent::Delta(_)),
                Err(ModelError::Unavailable(_))
            ]
        ),
        "{events:?}"
    );
    assert_eq!(server.requests(), 1, "no retry after the first token");
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
async fn authentication_failures_are_not_retried_and_never_show_the_key() {
    let logs = Logs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    for code in [401, 403] {
        let server = StubServer::start(Reply::status(code)).await;
        let error = events(&model(&server)).await.unwrap_err();
        let ModelError::Unavailable(message) = &error else {
            panic!("{error:?}");
        };
        assert!(message.contains("authentication failed"), "{message}");
        assert!(!format!("{error} {error:?}").contains(KEY));
        assert_eq!(server.requests(), 1);
    }
    let logs = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("refused"), "the refusal is logged: {logs}");
    assert!(!logs.contains(KEY), "{logs}");
}
