//! The stub server itself, as other crates' tests will rely on it.

use futures::StreamExt;
use model_openai::stub::{Behaviour, Reply, StubServer};
use serde_json::{Value, json};

fn body(stream: bool) -> Value {
    json!({
        "model": "any",
        "messages": [{ "role": "user", "content": "Olá" }],
        "stream": stream,
        "stream_options": { "include_usage": true },
    })
}

async fn post(server: &StubServer, body: &Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{}/chat/completions", server.base_url))
        .json(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn counts_requests_and_keeps_the_last_body() {
    let server = StubServer::start(vec![Reply::status(503), Reply::text("oi")]).await;
    assert_eq!(server.requests(), 0);
    assert!(server.last_request().is_none());
    assert_eq!(post(&server, &body(true)).await.status(), 503);
    assert_eq!(post(&server, &body(true)).await.status(), 200);
    assert_eq!(
        post(&server, &body(true)).await.status(),
        200,
        "the last reply repeats"
    );
    assert_eq!(server.requests(), 3);
    assert_eq!(
        server.last_request().unwrap()["messages"][0]["content"],
        "Olá"
    );
}

#[tokio::test]
async fn answers_a_non_streaming_request_with_json() {
    let server = StubServer::start(vec![]).await;
    let answer: Value = post(&server, &body(false)).await.json().await.unwrap();
    assert_eq!(answer["choices"][0]["message"]["content"], "ok");
    assert!(answer["usage"]["prompt_tokens"].as_u64().unwrap() > 0);
    assert_eq!(answer["usage"]["completion_tokens"], 1);
}

#[tokio::test]
async fn status_replies_carry_retry_after() {
    let server = StubServer::start(Reply::status(429).retry_after(3)).await;
    let response = post(&server, &body(true)).await;
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()["retry-after"], "3");
}

#[tokio::test]
async fn fragmented_replies_arrive_in_many_reads() {
    let text = "Respire fundo: você não está sozinho.";
    let server = StubServer::start(Reply::text(text).chunks(2).fragmented()).await;
    let reads: Vec<_> = post(&server, &body(true))
        .await
        .bytes_stream()
        .collect()
        .await;
    let whole: Vec<u8> = reads
        .iter()
        .flat_map(|r| r.as_ref().unwrap().to_vec())
        .collect();
    let whole = String::from_utf8(whole).unwrap();
    assert!(reads.len() > 10, "only {} reads", reads.len());
    assert!(whole.ends_with("data: [DONE]\n\n"));
    assert!(whole.contains("\"usage\":{"));
}

#[tokio::test]
async fn classification_requests_get_a_verdict_and_are_counted_apart() {
    let server = StubServer::start(
        Behaviour::from(Reply::status(503)).classifications(vec![Reply::verdict(true, true)]),
    )
    .await;
    let mut classification = body(true);
    classification["response_format"] = json!({ "type": "json_schema" });
    let response = post(&server, &classification).await;
    assert_eq!(response.status(), 200);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(
        answer["choices"][0]["message"]["content"],
        r#"{"risk":true,"imminent":true}"#
    );
    assert!(answer["usage"]["prompt_tokens"].as_u64().unwrap() > 0);
    assert_eq!(server.classifications(), 1);
    assert_eq!(server.requests(), 0);
    assert!(server.last_request().is_none());
    assert_eq!(post(&server, &body(true)).await.status(), 503);
    assert_eq!(server.requests(), 1);
    assert_eq!(
        server.last_classification().unwrap()["response_format"]["type"],
        "json_schema"
    );
}
