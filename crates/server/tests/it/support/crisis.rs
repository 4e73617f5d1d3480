//! The crisis tests' helpers: people signed in without a request to the server (so its
//! per-address limit is the test's to spend), one turn over JSON or the event stream, the checks
//! of a crisis answer, and what the database keeps of a turn, read directly on SQLite or MySQL.

use super::TestServer;
use super::chat::{PASSWORD, parse_sse, prepare};
use app::settings::Settings;
use botpsicologo::state::AppState;
use diesel::sql_types::{BigInt, Text};
use diesel::{Connection, QueryableByName, SqliteConnection};
use diesel_async::{AsyncConnection, AsyncMysqlConnection};
use domain::account::SessionKind;
use domain::ports::Persistence;
use persistence_sqlite::SqliteStore;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// A person whose profile is in English.
pub const EN_PERSON: &str = "pessoa@en.test";

/// Signs `people` up on `store` (with the seeded library) and signs each in through the
/// services: no request reaches a server, so none counts against its per-address limit.
pub async fn tokens_for<S: Persistence + Clone>(
    store: S,
    settings: &Settings,
    people: &[&str],
) -> Vec<String> {
    prepare(store.clone(), settings, people).await;
    let state = AppState::new(store, settings.clone()).expect("state");
    let mut tokens = Vec::new();
    for email in people {
        let (_, issued) = state
            .accounts
            .sign_in(email, PASSWORD, SessionKind::Api)
            .await
            .expect("sign in");
        tokens.push(issued.token);
    }
    tokens
}

/// A server on SQLite (`dir/test.db`) with `extra` settings, and an API token for each of
/// `people`.
pub async fn sqlite_server(dir: &Path, extra: &str, people: &[&str]) -> (TestServer, Vec<String>) {
    let settings = super::settings(dir, extra);
    let store = SqliteStore::open(&dir.join("test.db").display().to_string())
        .await
        .expect("open sqlite");
    let tokens = tokens_for(store.clone(), &settings, people).await;
    (TestServer::start(store, settings).await, tokens)
}

/// One turn's answer: the status and the JSON body (for an event stream, the data of its last
/// event: `done` or `error`), and the raw text the server sent.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub raw: String,
}

impl Answer {
    pub fn reply(&self) -> &str {
        self.body["reply"].as_str().unwrap_or_default()
    }
}

/// One turn of `message`, as JSON or (`streaming`) as server-sent events. A streamed answer's
/// `delta` events must add up to the reply of its `done` event.
pub async fn turn(server: &TestServer, token: &str, message: &str, streaming: bool) -> Answer {
    let mut request = server
        .client
        .post(server.url("/api/v1/chat"))
        .bearer_auth(token)
        .json(&json!({ "message": message }));
    if streaming {
        request = request.header("accept", "text/event-stream");
    }
    let response = request.send().await.expect("the chat request");
    let status = response.status().as_u16();
    let stream = response.headers().get("content-type").is_some_and(|v| {
        v.to_str()
            .unwrap_or_default()
            .starts_with("text/event-stream")
    });
    let raw = response.text().await.expect("the chat answer");
    if !stream {
        assert!(
            !(streaming && status == 200),
            "a 200 answer to an event-stream request that is not a stream: {raw}"
        );
        let body = serde_json::from_str(&raw).unwrap_or(json!(raw));
        return Answer { status, body, raw };
    }
    let events = parse_sse(&raw);
    let deltas: String = events
        .iter()
        .filter(|(name, _)| name == "delta")
        .map(|(_, data)| data["text"].as_str().expect("a delta's text"))
        .collect();
    let (name, body) = events.last().cloned().expect("at least one event");
    if name == "done" {
        assert_eq!(
            body["reply"],
            deltas.as_str(),
            "deltas and reply differ: {raw}"
        );
    }
    Answer { status, body, raw }
}

/// A crisis answer: 200, `crisis: true`, the crisis line `line` (188, 988) in the reply, and
/// free of charge.
pub fn assert_crisis(answer: &Answer, line: &str) {
    assert_eq!(answer.status, 200, "{}", answer.raw);
    assert_eq!(answer.body["crisis"], true, "{}", answer.raw);
    assert!(
        matches!(answer.body["support"].as_str(), Some("crisis" | "imminent")),
        "{}",
        answer.raw
    );
    assert!(answer.reply().contains(line), "no {line}: {}", answer.raw);
    assert_eq!(
        answer.body["usage"],
        json!({ "prompt_tokens": 0, "completion_tokens": 0 }),
        "{}",
        answer.raw
    );
}

/// A server's database, read directly with SQL (the same statements on both backends).
pub enum Database {
    /// The SQLite file, opened read-only.
    Sqlite(PathBuf),
    /// The MySQL database URL.
    Mysql(String),
}

/// A `messages` row without its id, time and sealed bytes (only how many there are).
#[derive(QueryableByName, Debug, Clone, PartialEq, Eq)]
pub struct MessageRow {
    #[diesel(sql_type = BigInt)]
    pub user_id: i64,
    #[diesel(sql_type = Text)]
    pub author: String,
    #[diesel(sql_type = BigInt)]
    pub tokens: i64,
    #[diesel(sql_type = BigInt)]
    pub sealed_len: i64,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

impl Database {
    /// Every stored message, in the order stored (ids grow).
    pub async fn messages(&self) -> Vec<MessageRow> {
        self.load(
            "SELECT user_id, author, tokens, CAST(LENGTH(sealed) AS SIGNED) AS sealed_len \
             FROM messages ORDER BY id",
        )
        .await
    }

    /// The daily crisis counter (`safety_events`), summed over every day.
    pub async fn crisis_count(&self) -> i64 {
        let rows: Vec<Count> = self
            .load("SELECT CAST(COALESCE(SUM(count), 0) AS SIGNED) AS n FROM safety_events")
            .await;
        rows[0].n
    }

    async fn load<T>(&self, sql: &str) -> Vec<T>
    where
        T: QueryableByName<diesel::sqlite::Sqlite>
            + QueryableByName<diesel::mysql::Mysql>
            + Send
            + 'static,
    {
        match self {
            Database::Sqlite(path) => {
                let url = format!("file:{}?mode=ro", path.display());
                let mut conn = SqliteConnection::establish(&url).expect("open sqlite read-only");
                diesel::RunQueryDsl::load(diesel::sql_query(sql), &mut conn).expect(sql)
            }
            Database::Mysql(url) => {
                let mut conn = AsyncMysqlConnection::establish(url)
                    .await
                    .expect("connect to mysql");
                diesel_async::RunQueryDsl::load(diesel::sql_query(sql), &mut conn)
                    .await
                    .expect(sql)
            }
        }
    }
}
