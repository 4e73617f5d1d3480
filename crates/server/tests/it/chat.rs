//! The conversation over HTTP against the real server: the offline responder, an OpenAI-compatible
//! model server started inside the test (streaming, usage, 429, 500, stalls, drops), exact
//! charging, crisis answers with no tokens left, history, export, deletion, encryption at rest,
//! and the over-budget race across two instances on MySQL.

use crate::support::chat::{
    PASSWORD, PERSON, TINY_PLANS, charged, cost_of_one_turn, model_settings, parse_sse, plans_with,
    prepare, say, usage,
};
use crate::support::{FetchJson, TestServer, settings};
use model_openai::stub::{Reply, StubServer};
use persistence_sqlite::SqliteStore;
use serde_json::{Value, json};
use std::time::Duration;

/// A fresh SQLite server with `extra` settings, the person signed up and the library seeded.
async fn server(dir: &std::path::Path, extra: &str) -> TestServer {
    let settings = settings(dir, extra);
    let db = dir.join("test.db").display().to_string();
    prepare(
        SqliteStore::open(&db).await.unwrap(),
        &settings,
        &[PERSON, "other@test.local", "pessoa@en.test"],
    )
    .await;
    TestServer::start(SqliteStore::open(&db).await.unwrap(), settings).await
}

async fn history(server: &TestServer, token: &str, query: &str) -> Value {
    server
        .client
        .get(server.url(&format!("/api/v1/chat/history{query}")))
        .bearer_auth(token)
        .fetch_json()
        .await
}

#[tokio::test]
async fn offline_responder_answers_from_the_library_with_sources() {
    let dir = tempfile::tempdir().unwrap();
    let server = server(dir.path(), "").await;
    let token = server.bearer(PERSON, PASSWORD).await;
    let (status, body) = say(
        &server,
        &token,
        "Não consigo dormir direito, como melhorar o sono?",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let reply = body["reply"].as_str().unwrap();
    assert!(reply.contains("modelo de linguagem configurado"), "{reply}");
    assert!(reply.contains("> Manter horários regulares"), "{reply}");
    assert!(reply.contains("Fonte: Guia do sono, p. 1"), "{reply}");
    assert_eq!(body["sources"][0]["title"], "Guia do sono");
    assert_eq!(body["sources"][0]["page"], 1);
    assert_eq!(body["crisis"], false);
    // Counted with the tokenizer, charged, and reported as what is left.
    let charged = body["usage"]["prompt_tokens"].as_u64().unwrap()
        + body["usage"]["completion_tokens"].as_u64().unwrap();
    assert!(charged > 0);
    let usage = usage(&server, &token).await;
    assert_eq!(usage["used"].as_u64().unwrap(), charged);
    assert_eq!(usage["reserved"], 0);
    assert_eq!(body["remaining"].as_u64().unwrap(), 20_000 - charged);
    server.stop().await;
}

#[tokio::test]
async fn a_model_server_streams_and_exactly_the_reported_usage_is_charged() {
    let stub =
        StubServer::start(Reply::text("Respire fundo. Que tal contar mais sobre isso?").chunks(4))
            .await;
    let dir = tempfile::tempdir().unwrap();
    let server = server(dir.path(), &model_settings(&stub, 2)).await;
    let token = server.bearer(PERSON, PASSWORD).await;

    let (status, body) = say(&server, &token, "Estou cansada e sem sono").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["reply"],
        "Respire fundo. Que tal contar mais sobre isso?"
    );
    let first = body["usage"]["prompt_tokens"].as_u64().unwrap()
        + body["usage"]["completion_tokens"].as_u64().unwrap();
    assert_eq!(
        usage(&server, &token).await["used"].as_u64().unwrap(),
        first
    );
    // The library passage went to the model in the system message.
    let sent = stub.last_request().unwrap();
    assert!(
        sent["messages"][0]["content"]
            .as_str()
            .unwrap()
            .contains("Guia do sono")
    );
    assert_eq!(sent["stream"], true);

    // The same turn as server-sent events.
    let response = server
        .client
        .post(server.url("/api/v1/chat"))
        .bearer_auth(&token)
        .header("accept", "text/event-stream")
        .json(&json!({ "message": "E como dormir melhor?" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let text = response.text().await.unwrap();
    let events = parse_sse(&text);
    let deltas: String = events
        .iter()
        .filter(|(name, _)| name == "delta")
        .map(|(_, data)| data["text"].as_str().unwrap().to_string())
        .collect();
    assert!(
        events.iter().filter(|(n, _)| n == "delta").count() >= 2,
        "{text}"
    );
    assert_eq!(deltas, "Respire fundo. Que tal contar mais sobre isso?");
    let (name, done) = events.last().unwrap();
    assert_eq!(name, "done");
    assert_eq!(done["reply"], deltas.as_str());
    let second = done["usage"]["prompt_tokens"].as_u64().unwrap()
        + done["usage"]["completion_tokens"].as_u64().unwrap();
    let usage = usage(&server, &token).await;
    assert_eq!(usage["used"].as_u64().unwrap(), first + second);
    assert_eq!(usage["reserved"], 0);
    assert_eq!(done["remaining"].as_u64().unwrap(), 20_000 - first - second);
    // The first exchange, read with the session, went to the model before the new message.
    let sent = stub.last_request().unwrap();
    let said: Vec<(&str, &str)> = sent["messages"]
        .as_array()
        .unwrap()
        .iter()
        .skip(1)
        .map(|m| (m["role"].as_str().unwrap(), m["content"].as_str().unwrap()))
        .collect();
    assert_eq!(
        said,
        [
            ("user", "Estou cansada e sem sono"),
            (
                "assistant",
                "Respire fundo. Que tal contar mais sobre isso?"
            ),
            ("user", "E como dormir melhor?"),
        ]
    );
    server.stop().await;
}

#[tokio::test]
async fn a_busy_model_is_retried_and_the_reply_charged_once() {
    let stub = StubServer::start(vec![
        Reply::status(429).retry_after(0),
        Reply::text("Estou aqui com você.").chunks(2),
    ])
    .await;
    let dir = tempfile::tempdir().unwrap();
    let server = server(dir.path(), &model_settings(&stub, 2)).await;
    let token = server.bearer(PERSON, PASSWORD).await;
    let (status, body) = say(&server, &token, "Oi").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["reply"], "Estou aqui com você.");
    assert_eq!(stub.requests(), 2);
    let charged = body["usage"]["prompt_tokens"].as_u64().unwrap()
        + body["usage"]["completion_tokens"].as_u64().unwrap();
    assert_eq!(
        usage(&server, &token).await["used"].as_u64().unwrap(),
        charged
    );
    server.stop().await;
}

/// Every failure: a clear error, nothing charged, nothing reserved, nothing saved.
#[tokio::test]
async fn model_failures_cost_nothing() {
    let cases = [
        (Reply::status(500), 502, "unavailable"),
        (
            Reply::text("nunca chega").delay_first(Duration::from_millis(1500)),
            504,
            "in time",
        ),
        (
            Reply::text("começa e para de repente")
                .chunks(4)
                .drop_after(1),
            502,
            "model",
        ),
        (
            Reply::text("começa e trava no meio")
                .chunks(4)
                .stall_after(1, Duration::from_millis(1500)),
            200,
            "in time",
        ),
    ];
    for (reply, json_status, words) in cases {
        let stub = StubServer::start(reply.clone()).await;
        let dir = tempfile::tempdir().unwrap();
        let server = server(dir.path(), &model_settings(&stub, 1)).await;
        let token = server.bearer(PERSON, PASSWORD).await;
        let (status, body) = say(&server, &token, "Oi").await;
        if json_status == 200 {
            // A stall after the reply started: the JSON answer is an error as well.
            assert!(status == 504 || status == 502, "{reply:?}: {status} {body}");
        } else {
            assert_eq!(status, json_status, "{reply:?}: {body}");
        }
        let error = body["error"].as_str().unwrap();
        assert!(
            error.contains(words) && error.contains("Nothing was charged"),
            "{error}"
        );
        let usage = usage(&server, &token).await;
        assert_eq!(
            (usage["used"].as_u64(), usage["reserved"].as_u64()),
            (Some(0), Some(0)),
            "{reply:?}"
        );
        assert_eq!(history(&server, &token, "").await["messages"], json!([]));
        server.stop().await;
    }
}

#[tokio::test]
async fn a_failure_mid_stream_ends_the_event_stream_with_an_error_and_costs_nothing() {
    let stub = StubServer::start(
        Reply::text("uma resposta que cai no meio")
            .chunks(5)
            .drop_after(2),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let server = server(dir.path(), &model_settings(&stub, 0)).await;
    let token = server.bearer(PERSON, PASSWORD).await;
    let text = server
        .client
        .post(server.url("/api/v1/chat"))
        .bearer_auth(&token)
        .header("accept", "text/event-stream")
        .json(&json!({ "message": "Oi" }))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let events = parse_sse(&text);
    assert!(events.iter().any(|(n, _)| n == "delta"), "{text}");
    let (name, error) = events.last().unwrap();
    assert_eq!(name, "error", "{text}");
    assert!(
        error["error"]
            .as_str()
            .unwrap()
            .contains("Nothing was charged")
    );
    let usage = usage(&server, &token).await;
    assert_eq!(
        (usage["used"].as_u64(), usage["reserved"].as_u64()),
        (Some(0), Some(0))
    );
    server.stop().await;
}

#[tokio::test]
async fn over_budget_is_refused_clearly_but_the_crisis_answer_is_always_given() {
    let dir = tempfile::tempdir().unwrap();
    let server = server(dir.path(), TINY_PLANS).await;
    let token = server.bearer(PERSON, PASSWORD).await;
    let (status, body) = say(&server, &token, "Como dormir melhor?").await;
    assert_eq!(status, 402, "{body}");
    assert!(body["error"].as_str().unwrap().contains("/plans"), "{body}");
    assert_eq!(usage(&server, &token).await["used"], 0);

    let (status, body) = say(&server, &token, "nao aguento mais, quero morrer").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["crisis"], true);
    assert!(body["reply"].as_str().unwrap().contains("188"));
    assert!(body["reply"].as_str().unwrap().contains("cvv.org.br"));
    assert_eq!(
        body["usage"],
        json!({ "prompt_tokens": 0, "completion_tokens": 0 })
    );

    let english = server.bearer("pessoa@en.test", PASSWORD).await;
    let (status, body) = say(&server, &english, "I just want to end it all").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["crisis"], true);
    assert!(body["reply"].as_str().unwrap().contains("988"));
    // The message right after a crisis keeps the crisis answer; after that, someone out of
    // tokens is answered with care, not only "buy more".
    let (status, body) = say(&server, &token, "estou morrendo de rir com isso").await;
    assert_eq!(
        (status, body["crisis"].as_bool()),
        (200, Some(true)),
        "{body}"
    );
    let (status, body) = say(&server, &token, "estou morrendo de rir com isso").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["crisis"].as_bool(), body["support"].as_str()),
        (Some(false), Some("check_in"))
    );
    assert!(body["reply"].as_str().unwrap().contains("188"));
    // Idioms are ordinary messages: refused here only because the budget is spent.
    let other = server.bearer("other@test.local", PASSWORD).await;
    let (status, _) = say(&server, &other, "estou morrendo de rir com isso").await;
    assert_eq!(status, 402);
    server.stop().await;
}

#[tokio::test]
async fn history_pages_exports_and_is_deleted_for_real_and_never_stored_in_plaintext() {
    let stub = StubServer::start(Reply::text("Resposta guardada com cuidado.")).await;
    let dir = tempfile::tempdir().unwrap();
    let server = server(dir.path(), &model_settings(&stub, 2)).await;
    let token = server.bearer(PERSON, PASSWORD).await;
    let secrets = ["segredo-alfa-112", "segredo-beta-358", "segredo-gama-771"];
    for secret in secrets {
        assert_eq!(
            say(&server, &token, &format!("Meu {secret} de hoje"))
                .await
                .0,
            200
        );
    }

    let page = history(&server, &token, "?limit=4").await;
    assert_eq!(page["messages"].as_array().unwrap().len(), 4);
    assert_eq!(page["messages"][0]["author"], "assistant");
    assert_eq!(page["messages"][1]["text"], "Meu segredo-gama-771 de hoje");
    let before = page["next_before"].as_i64().unwrap();
    let rest = history(&server, &token, &format!("?limit=4&before={before}")).await;
    assert_eq!(rest["messages"].as_array().unwrap().len(), 2);
    assert_eq!(rest["messages"][1]["text"], "Meu segredo-alfa-112 de hoje");
    assert_eq!(rest["next_before"], Value::Null);

    // Another person sees none of it.
    let other = server.bearer("other@test.local", PASSWORD).await;
    assert_eq!(history(&server, &other, "").await["messages"], json!([]));

    let export = |format: &'static str| {
        server
            .client
            .get(server.url(&format!("/api/v1/chat/export?format={format}")))
            .bearer_auth(&token)
            .send()
    };
    let md = export("md").await.unwrap();
    assert_eq!(md.status(), 200);
    assert!(
        md.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains(".md")
    );
    let md = md.text().await.unwrap();
    assert!(md.find("segredo-alfa-112").unwrap() < md.find("segredo-gama-771").unwrap());
    let exported: Value = export("json").await.unwrap().json().await.unwrap();
    assert_eq!(exported["messages"].as_array().unwrap().len(), 6);
    assert_eq!(export("xml").await.unwrap().status(), 400);

    // Encrypted at rest: no message text in the database files.
    for file in ["test.db", "test.db-wal"] {
        let Ok(bytes) = std::fs::read(dir.path().join(file)) else {
            continue;
        };
        for needle in secrets.iter().copied().chain(["Resposta guardada"]) {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                "{needle} in plaintext in {file}"
            );
        }
    }

    let deleted: Value = server
        .client
        .delete(server.url("/api/v1/chat/history"))
        .bearer_auth(&token)
        .fetch_json()
        .await;
    assert_eq!(deleted["deleted"], 6);
    assert_eq!(history(&server, &token, "").await["messages"], json!([]));
    // Nothing of the deleted history goes to the model any more: only the system message and
    // the new one.
    assert_eq!(say(&server, &token, "Recomeçando").await.0, 200);
    let sent = stub.last_request().unwrap();
    assert_eq!(sent["messages"].as_array().unwrap().len(), 2, "{sent}");
    assert_eq!(sent["messages"][1]["content"], "Recomeçando");
    server.stop().await;
}

#[tokio::test]
async fn bad_requests_are_refused_clearly_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = server(dir.path(), "").await;
    let token = server.bearer(PERSON, PASSWORD).await;
    let post = |body: &'static str, token: Option<&str>| {
        let mut request = server
            .client
            .post(server.url("/api/v1/chat"))
            .header("content-type", "application/json")
            .body(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };
    for (body, status) in [
        ("{\"message\": \"   \"}", 422),
        ("{\"message\": ", 400),
        ("{\"text\": \"oi\"}", 422),
        ("[1, 2]", 422),
    ] {
        let response = post(body, Some(&token)).await.unwrap();
        assert_eq!(response.status(), status, "{body}");
        let error: Value = response.json().await.unwrap();
        assert!(error["error"].is_string(), "{body}");
    }
    let long = json!({ "message": "a".repeat(4_001) });
    let response = server
        .client
        .post(server.url("/api/v1/chat"))
        .bearer_auth(&token)
        .json(&long)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    assert_eq!(
        post("{\"message\": \"oi\"}", None).await.unwrap().status(),
        401
    );
    assert_eq!(
        post("{\"message\": \"oi\"}", Some("not-a-token"))
            .await
            .unwrap()
            .status(),
        401
    );
    let bad_query = history(&server, &token, "?limit=lots").await;
    assert!(bad_query["error"].is_string());
    let usage = usage(&server, &token).await;
    assert_eq!(
        (usage["used"].as_u64(), usage["reserved"].as_u64()),
        (Some(0), Some(0))
    );
    assert_eq!(history(&server, &token, "").await["messages"], json!([]));
    server.stop().await;
}

/// Acceptance: a budget that fits 5 turns, 200 concurrent turns split over two instances sharing
/// one MySQL database: at most 5 succeed, the rest are told they are over budget, and usage never
/// exceeds the limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_never_overspend_a_shared_budget_on_mysql() {
    let Some(url) = persistence_mysql::test_support::fresh_database_url().await else {
        return;
    };
    let stub = StubServer::start(Reply::text("Uma resposta curta e igual para todos.")).await;
    let limits = "max_output_tokens = 16\nchat_messages_per_minute = 10000\n";
    let message = "Como dormir melhor?";
    let cost = cost_of_one_turn(&stub, limits, message).await;
    let limit = 5 * cost;
    let dir = tempfile::tempdir().unwrap();
    let extra = format!(
        "{}{limits}database_url = {url:?}\n{}",
        model_settings(&stub, 0),
        plans_with(limit)
    );
    let settings = settings(dir.path(), &extra);
    let open = || persistence_mysql::MysqlStore::open(&url, 8);
    prepare(open().await.unwrap(), &settings, &[PERSON]).await;
    let a = TestServer::start(open().await.unwrap(), settings.clone()).await;
    let b = TestServer::start(open().await.unwrap(), settings).await;
    let token = a.bearer(PERSON, PASSWORD).await;

    let turns = (0..200).map(|i| {
        let server = if i % 2 == 0 { &a } else { &b };
        say(server, &token, message)
    });
    let results = futures::future::join_all(turns).await;
    let ok = results.iter().filter(|(s, _)| *s == 200).count();
    let over = results.iter().filter(|(s, _)| *s == 402).count();
    eprintln!(
        "race: {ok} of 200 turns succeeded, {over} over budget (limit {limit}, one turn {cost})"
    );
    assert!((1..=5).contains(&ok), "{ok} turns succeeded");
    assert_eq!(
        ok + over,
        200,
        "every other turn gets the over-budget answer"
    );
    let usage = usage(&b, &token).await;
    let used = usage["used"].as_u64().unwrap();
    assert!(used <= limit, "used {used} > limit {limit}");
    assert_eq!(usage["reserved"], 0);
    assert_eq!(
        used,
        charged(&results),
        "exactly the reported usage is charged"
    );
    a.stop().await;
    b.stop().await;
}
