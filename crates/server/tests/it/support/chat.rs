//! The chat helpers several test modules share: a signed-up person with a seeded library, the
//! model and plan settings, and one turn over the JSON API.

use super::{TestServer, settings, sign_up};
use app::settings::Settings;
use botpsicologo::state::AppState;
use domain::Locale;
use domain::library::{DocFormat, ExtractedDocument, TextBlock};
use domain::ports::Persistence;
use model_openai::stub::StubServer;
use serde_json::{Value, json};

pub const PERSON: &str = "pessoa@test.local";
pub const PASSWORD: &str = "person-password-123";

pub const SLEEP_TEXT: &str = "Manter horários regulares para dormir e acordar ajuda o corpo a \
regular o sono. Evite telas na hora antes de deitar e prefira uma luz fraca.";

/// Signs up the person (pt-BR, or en for `@en.` addresses) and adds a one-page document.
pub async fn prepare<S: Persistence>(store: S, settings: &Settings, people: &[&str]) {
    let state = AppState::new(store, settings.clone()).expect("state");
    for email in people {
        let locale = if email.contains("@en.") {
            Locale::En
        } else {
            Locale::PtBr
        };
        sign_up(&state, email, PASSWORD, locale).await;
    }
    state
        .library
        .ingest("guia-do-sono.txt", SLEEP_TEXT.as_bytes(), || async {
            Ok(ExtractedDocument {
                title: Some("Guia do sono".into()),
                format: DocFormat::Text,
                pages: 1,
                blocks: vec![TextBlock {
                    page: Some(1),
                    heading: None,
                    text: SLEEP_TEXT.into(),
                }],
            })
        })
        .await
        .expect("ingest");
}

pub fn model_settings(stub: &StubServer, retries: u32) -> String {
    format!(
        "llm_base_url = {:?}\nllm_model = \"stub\"\nllm_first_token_timeout_ms = 400\nllm_idle_timeout_ms = 400\nllm_max_retries = {retries}\n",
        stub.base_url
    )
}

pub async fn say(server: &TestServer, token: &str, message: &str) -> (u16, Value) {
    let response = server
        .client
        .post(server.url("/api/v1/chat"))
        .bearer_auth(token)
        .json(&json!({ "message": message }))
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

/// Tokens the answered turns among `results` were charged, by their own usage reports. A turn
/// that starts after another has finished carries it as history, so turns differ in cost.
pub fn charged(results: &[(u16, Value)]) -> u64 {
    results
        .iter()
        .filter(|(status, _)| *status == 200)
        .map(|(_, body)| {
            body["usage"]["prompt_tokens"].as_u64().unwrap()
                + body["usage"]["completion_tokens"].as_u64().unwrap()
        })
        .sum()
}

pub async fn usage(server: &TestServer, token: &str) -> Value {
    let me: Value = server.me(token).await.json().await.unwrap();
    me["usage"].clone()
}

pub const TINY_PLANS: &str = r#"
[plans]
default_individual = "free"
default_company = "company-basic"
[[plans.plans]]
id = "free"
name = "Gratuito"
audience = "individual"
monthly_tokens = 5
[[plans.plans]]
id = "company-basic"
name = "Empresa"
audience = "company"
tokens_per_seat = 100000
"#;

/// Plans giving individuals `tokens` a month.
pub fn plans_with(tokens: u64) -> String {
    TINY_PLANS.replace("monthly_tokens = 5", &format!("monthly_tokens = {tokens}"))
}

/// What one turn of `message` costs with the stub model and `extra` settings (empty history),
/// measured on a throwaway SQLite server.
pub async fn cost_of_one_turn(stub: &StubServer, extra: &str, message: &str) -> u64 {
    let dir = tempfile::tempdir().unwrap();
    let settings = settings(dir.path(), &format!("{}{extra}", model_settings(stub, 0)));
    let db = dir.path().join("test.db").display().to_string();
    let open = || persistence_sqlite::SqliteStore::open(&db);
    prepare(open().await.unwrap(), &settings, &[PERSON]).await;
    let server = TestServer::start(open().await.unwrap(), settings).await;
    let token = server.bearer(PERSON, PASSWORD).await;
    let (status, body) = say(&server, &token, message).await;
    assert_eq!(status, 200, "{body}");
    server.stop().await;
    body["usage"]["prompt_tokens"].as_u64().unwrap()
        + body["usage"]["completion_tokens"].as_u64().unwrap()
}

/// The events of a server-sent event stream: each event's name and its JSON data.
pub fn parse_sse(text: &str) -> Vec<(String, Value)> {
    text.split("\n\n")
        .filter_map(|block| {
            let mut name = String::from("message");
            let mut data = None;
            for line in block.lines() {
                if let Some(n) = line.strip_prefix("event: ").or(line.strip_prefix("event:")) {
                    name = n.trim().to_string();
                } else if let Some(d) = line.strip_prefix("data: ").or(line.strip_prefix("data:")) {
                    data = serde_json::from_str(d.trim()).ok();
                }
            }
            Some((name, data?))
        })
        .collect()
}
