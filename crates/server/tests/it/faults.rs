//! Fault injection: Redis stopped, the SQLite data directory full or read-only, MySQL stopped for
//! 10 s under load, and the server killed with SIGKILL under load. Each test says what must be
//! observed; RELIABILITY.md reports the outcomes.
//!
//! The MySQL outage takes about half a minute and is `#[ignore]`d: `cargo xtask test --slow`
//! (what CI runs) includes it.

use crate::support::chat::{PASSWORD, plans_with, prepare};
use crate::support::daemons::{PrivateMysql, PrivateRedis};
use crate::support::disk::{Mount, fill};
use crate::support::process::ServerProcess;
use crate::support::{ADMIN_EMAIL, ADMIN_PASSWORD, TestServer, settings};
use app::settings::Settings;
use botpsicologo::state::AppState;
use domain::account::SessionKind;
use domain::ports::{Persistence, UsageLedger};
use model_openai::stub::{Reply, StubServer};
use persistence_sqlite::SqliteStore;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const UNAVAILABLE: &str = "temporarily unavailable";
/// Settings that keep the limits out of the way of the load the tests make.
const ROOMY: &str = "chat_messages_per_minute = 100000\nip_requests_per_minute = 10000000\n\
                     reservation_lease_secs = 2\nsample_library_dir = \"\"\n";

/// A client of one server, in-process or child process.
#[derive(Clone)]
struct Api {
    base: String,
    client: reqwest::Client,
}

impl Api {
    fn new(base: String) -> Api {
        Api {
            base,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .unwrap(),
        }
    }

    fn of(server: &TestServer) -> Api {
        Api::new(server.url(""))
    }

    /// One chat turn: the status (0 when the connection failed) and the JSON body.
    async fn turn(&self, token: &str, message: &str) -> (u16, Value) {
        let sent = self
            .client
            .post(format!("{}/api/v1/chat", self.base))
            .bearer_auth(token)
            .json(&json!({ "message": message }))
            .send()
            .await;
        match sent {
            Ok(response) => {
                let status = response.status().as_u16();
                let text = response.text().await.unwrap_or_default();
                (status, serde_json::from_str(&text).unwrap_or(json!(text)))
            }
            Err(e) => (0, json!(e.to_string())),
        }
    }

    async fn get(&self, token: &str, path: &str) -> (u16, Value) {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn usage(&self, token: &str) -> Value {
        let (status, me) = self.get(token, "/api/v1/me").await;
        assert_eq!(status, 200, "{me}");
        me["usage"].clone()
    }

    /// Every message of the person, oldest first.
    async fn history(&self, token: &str) -> Vec<Value> {
        let mut all = Vec::new();
        let mut before = String::new();
        loop {
            let (status, page) = self
                .get(token, &format!("/api/v1/chat/history?limit=200{before}"))
                .await;
            assert_eq!(status, 200, "{page}");
            let messages = page["messages"].as_array().unwrap().clone();
            let Some(oldest) = messages.last() else { break };
            before = format!("&before={}", oldest["id"]);
            all.extend(messages);
        }
        all.reverse();
        all
    }

    /// Checks one person's books after a fault: nothing reserved, every answered turn stored
    /// once with its reply, and the tokens used exactly those of the stored replies.
    async fn audit(&self, token: &str, answered: &[String]) {
        let history = self.history(token).await;
        let mut seen: HashMap<&str, usize> = HashMap::new();
        let mut stored_tokens = 0;
        for pair in history.chunks(2) {
            assert_eq!(pair.len(), 2, "a message without its reply: {pair:?}");
            assert_eq!(
                (pair[0]["author"].as_str(), pair[1]["author"].as_str()),
                (Some("user"), Some("assistant"))
            );
            *seen.entry(pair[0]["text"].as_str().unwrap()).or_default() += 1;
            stored_tokens += pair[1]["tokens"].as_u64().unwrap();
        }
        assert!(seen.values().all(|n| *n == 1), "a turn stored twice");
        for message in answered {
            assert!(
                seen.contains_key(message.as_str()),
                "answered turn lost: {message}"
            );
        }
        let usage = self.usage(token).await;
        assert_eq!(usage["reserved"], 0, "{usage}");
        assert_eq!(usage["used"].as_u64().unwrap(), stored_tokens, "{usage}");
    }
}

/// Signs the people up (with the seeded library) and returns an API token for each.
async fn tokens_for<S: Persistence + Clone>(
    store: S,
    settings: &Settings,
    people: &[String],
) -> Vec<String> {
    let emails: Vec<&str> = people.iter().map(String::as_str).collect();
    prepare(store.clone(), settings, &emails).await;
    let state = AppState::new(store, settings.clone()).unwrap();
    let mut tokens = Vec::new();
    for email in people {
        let (_, issued) = state
            .accounts
            .sign_in(email, PASSWORD, SessionKind::Api)
            .await
            .unwrap();
        tokens.push(issued.token);
    }
    tokens
}

fn people(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("pessoa{i}@test.local")).collect()
}

/// One turn's outcome under load, stamped with when it started and ended.
struct Sent {
    at: Duration,
    done: Duration,
    message: String,
    status: u16,
    body: Value,
}

/// Each person sends turns one after another until `stop`; returns every outcome per person.
async fn load(api: &Api, tokens: &[String], stop: Arc<AtomicBool>) -> Vec<Vec<Sent>> {
    let start = Instant::now();
    let workers = tokens.iter().enumerate().map(|(person, token)| {
        let (api, token, stop) = (api.clone(), token.clone(), stop.clone());
        tokio::spawn(async move {
            let mut sent = Vec::new();
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                let message = format!("Como dormir melhor? (pessoa {person}, vez {i})");
                let at = start.elapsed();
                let (status, body) = api.turn(&token, &message).await;
                let done = start.elapsed();
                if status == 0 || status >= 500 {
                    // Do not spin while the server or its database is away.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                sent.push(Sent {
                    at,
                    done,
                    message,
                    status,
                    body,
                });
                i += 1;
            }
            sent
        })
    });
    futures::future::join_all(workers)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect()
}

/// Waits out the 2 s lease of `ROOMY`, then releases what expired (the scheduler's `reclaim`);
/// returns how many reservations that was.
async fn reclaim_after_the_lease(store: &impl UsageLedger) -> u64 {
    tokio::time::sleep(Duration::from_secs(3)).await;
    store.reclaim_expired(chrono::Utc::now()).await.unwrap()
}

fn answered(sent: &[Sent]) -> Vec<String> {
    sent.iter()
        .filter(|s| s.status == 200)
        .map(|s| s.message.clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_stopped_the_limiter_falls_back_or_refuses_as_configured() {
    let Some(mut redis) = PrivateRedis::start().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let server = |name: &'static str, fallback: &'static str| {
        let data = dir.path().join(name);
        let url = redis.url();
        async move {
            std::fs::create_dir_all(&data).unwrap();
            let store = SqliteStore::open(&data.join("t.db").display().to_string())
                .await
                .unwrap();
            let extra = format!("redis_url = {url:?}\nredis_fallback = {fallback:?}\n");
            TestServer::start(store, settings(&data, &extra)).await
        }
    };
    let falls_back = server("fallback", "in_process").await;
    let refuses = server("refuse", "refuse").await;
    let tokens = [
        falls_back.bearer(ADMIN_EMAIL, ADMIN_PASSWORD).await,
        refuses.bearer(ADMIN_EMAIL, ADMIN_PASSWORD).await,
    ];

    redis.stop().await;
    // "in_process": everything keeps working, and limits still hold (per instance).
    assert_eq!(falls_back.me(&tokens[0]).await.status(), 200);
    for _ in 0..5 {
        falls_back.token(ADMIN_EMAIL, "wrong-password-1").await;
    }
    assert_eq!(
        falls_back
            .token(ADMIN_EMAIL, "wrong-password-1")
            .await
            .status(),
        429
    );
    // "refuse": 503 with a clear message, but liveness still answers.
    let refused = refuses.me(&tokens[1]).await;
    assert_eq!(refused.status(), 503);
    let body: Value = refused.json().await.unwrap();
    assert!(
        body["error"].as_str().unwrap().contains(UNAVAILABLE),
        "{body}"
    );
    let health = refuses.client.get(refuses.url("/healthz")).send().await;
    assert_eq!(health.unwrap().status(), 200);

    // Redis back: the refusing server serves again without a restart.
    redis.start_again().await;
    let mut recovered = false;
    for _ in 0..50 {
        if refuses.me(&tokens[1]).await.status() == 200 {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(recovered, "the server did not recover once Redis was back");
    falls_back.stop().await;
    refuses.stop().await;
}

fn integrity_check(db: &Path) -> String {
    use diesel::{Connection, QueryableByName, RunQueryDsl, SqliteConnection};
    #[derive(QueryableByName)]
    struct Check {
        #[diesel(sql_type = diesel::sql_types::Text)]
        integrity_check: String,
    }
    let mut conn = SqliteConnection::establish(&db.display().to_string()).unwrap();
    let rows: Vec<Check> = diesel::sql_query("PRAGMA integrity_check")
        .load(&mut conn)
        .unwrap();
    rows.into_iter()
        .map(|r| r.integrity_check)
        .collect::<Vec<_>>()
        .join("; ")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_data_directory_full_or_read_only_gives_clear_errors_and_no_corruption() {
    let dir = tempfile::tempdir().unwrap();
    let Some(mount) = Mount::tmpfs(&dir.path().join("data"), "12m") else {
        return;
    };
    let data = mount.0.clone();
    let db = data.join("test.db");
    let db_url = db.display().to_string();
    let settings = settings(&data, &format!("{ROOMY}{}", plans_with(1_000_000_000)));
    let open = || SqliteStore::open(&db_url);
    let person = people(1);
    let token = tokens_for(open().await.unwrap(), &settings, &person).await[0].clone();
    let server = TestServer::start(open().await.unwrap(), settings.clone()).await;
    let api = Api::of(&server);
    // Long messages fill the disk sooner.
    let long = |i: usize| {
        let text = "Como dormir melhor quando a cabeça não para? ".repeat(80);
        format!("{i}: {}", text.trim_end())
    };
    let mut answered = Vec::new();
    let (status, body) = api.turn(&token, &long(0)).await;
    assert_eq!(status, 200, "{body}");
    answered.push(long(0));

    // Disk full: turns go on until a write fails; the failure is a clear 503.
    let filler = fill(&data);
    let mut failure = None;
    for i in 1..2_000 {
        let (status, body) = api.turn(&token, &long(i)).await;
        match status {
            200 => answered.push(long(i)),
            _ => {
                failure = Some((status, body));
                break;
            }
        }
    }
    let (status, body) = failure.expect("no write failed on a full disk");
    assert_eq!(status, 503, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains(UNAVAILABLE),
        "{body}"
    );
    eprintln!(
        "disk full: {} turns answered before the first 503",
        answered.len()
    );

    // Space freed: the same server carries on, and a reservation left by the failed turn is
    // reclaimed once its lease expires.
    std::fs::remove_file(filler).unwrap();
    let (status, body) = api.turn(&token, &long(9_999)).await;
    assert_eq!(status, 200, "{body}");
    answered.push(long(9_999));
    reclaim_after_the_lease(&open().await.unwrap()).await;
    api.audit(&token, &answered).await;

    server.stop().await;
    assert_eq!(integrity_check(&db), "ok");

    // Starting on a read-only data directory is a clear error naming the database. (A copy on
    // a second mount: the kernel refuses to remount read-only while the test holds files open.)
    let Some(read_only) = Mount::tmpfs(&dir.path().join("read-only"), "12m") else {
        return;
    };
    let copy = read_only.0.join("test.db");
    std::fs::copy(&db, &copy).unwrap();
    read_only.remount("ro");
    let error = SqliteStore::open(&copy.display().to_string())
        .await
        .err()
        .expect("opening a database on a read-only file system must fail");
    let message = error.to_string();
    assert!(message.contains(&copy.display().to_string()), "{message}");
    assert!(message.contains("Read-only file system"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "slow (about 30 s): run by `cargo xtask test --slow`, as CI does"]
async fn mysql_stopped_for_ten_seconds_under_load_gets_503_then_recovers_without_leaks() {
    let Some(mut mysql) = PrivateMysql::start().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let url = mysql.url();
    let settings = settings(
        dir.path(),
        &format!(
            "{ROOMY}database_url = {url:?}\n{}",
            plans_with(1_000_000_000)
        ),
    );
    let open = || persistence_mysql::MysqlStore::open(&url, 8);
    let person = people(4);
    let tokens = tokens_for(open().await.unwrap(), &settings, &person).await;
    let server = TestServer::start(open().await.unwrap(), settings).await;
    let api = Api::of(&server);

    let stop = Arc::new(AtomicBool::new(false));
    let traffic = {
        let (api, tokens, stop) = (api.clone(), tokens.clone(), stop.clone());
        tokio::spawn(async move { load(&api, &tokens, stop).await })
    };
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(3)).await;
    mysql.stop().await;
    let down_at = started.elapsed();
    tokio::time::sleep(Duration::from_secs(10)).await;
    mysql.start_again().await;
    let up_at = started.elapsed();
    tokio::time::sleep(Duration::from_secs(8)).await;
    stop.store(true, Ordering::Relaxed);
    let sent = traffic.await.unwrap();

    let all: Vec<&Sent> = sent.iter().flatten().collect();
    let count = |f: &dyn Fn(&Sent) -> bool| all.iter().filter(|s| f(s)).count();
    // Turns that ended while MySQL was down (a turn that waited for a connection through the
    // outage may succeed once it is back: that is fine).
    let outage = |s: &Sent| s.done > down_at + Duration::from_secs(1) && s.done < up_at;
    let slowest = all.iter().map(|s| s.done - s.at).max().unwrap_or_default();
    eprintln!(
        "mysql outage: {} turns, {} answered, {} got 503 ({} while down), {} answered after it; \
         slowest answer {:.1} s",
        all.len(),
        count(&|s| s.status == 200),
        count(&|s| s.status == 503),
        count(&|s| s.status == 503 && outage(s)),
        count(&|s| s.status == 200 && s.at > up_at),
        slowest.as_secs_f64(),
    );
    for s in &all {
        assert!(matches!(s.status, 200 | 503), "{} {}", s.status, s.body);
        if s.status == 503 {
            assert!(
                s.body["error"].as_str().unwrap_or("").contains(UNAVAILABLE),
                "{}",
                s.body
            );
        }
    }
    assert!(
        count(&|s| s.status == 503 && outage(s)) > 0,
        "no 503 while MySQL was down"
    );
    assert_eq!(count(&|s| s.status == 200 && outage(s)), 0);
    assert!(
        count(&|s| s.status == 200 && s.at > up_at + Duration::from_secs(3)) > 0,
        "the server did not recover without a restart"
    );

    // No leaks: once the leases of turns cut off by the outage expire, nothing stays reserved,
    // and every person was charged exactly for the replies stored.
    reclaim_after_the_lease(&open().await.unwrap()).await;
    for (token, sent) in tokens.iter().zip(&sent) {
        api.audit(token, &answered(sent)).await;
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_server_killed_under_load_loses_no_answered_turn_and_charges_none_twice() {
    // Every reply takes a moment to start, so turns are always in flight when the kill comes.
    let stub = StubServer::start(
        Reply::text("Tente manter horários regulares para dormir.")
            .chunks(3)
            .delay_first(Duration::from_millis(150)),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("kill.db").display().to_string();
    let mut server = ServerProcess::new(
        dir.path(),
        &[
            ("DATABASE_URL", format!("sqlite://{db}")),
            ("LLM_BASE_URL", stub.base_url.clone()),
            ("LLM_MODEL", "stub".to_string()),
            ("CHAT_MESSAGES_PER_MINUTE", "100000".to_string()),
            ("IP_REQUESTS_PER_MINUTE", "10000000".to_string()),
            ("RESERVATION_LEASE_SECS", "2".to_string()),
            ("SAMPLE_LIBRARY_DIR", String::new()),
        ],
    );
    let person = people(8);
    let tokens = tokens_for(
        SqliteStore::open(&db).await.unwrap(),
        &server.settings(),
        &person,
    )
    .await;
    server.start().await;
    let api = Api::new(server.base.clone());

    let stop = Arc::new(AtomicBool::new(false));
    let traffic = {
        let (api, tokens, stop) = (api.clone(), tokens.clone(), stop.clone());
        tokio::spawn(async move { load(&api, &tokens, stop).await })
    };
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    server.kill();
    stop.store(true, Ordering::Relaxed);
    let sent = traffic.await.unwrap();
    let all: Vec<&Sent> = sent.iter().flatten().collect();
    let ok = all.iter().filter(|s| s.status == 200).count();
    let cut = all.iter().filter(|s| s.status == 0).count();
    eprintln!("SIGKILL: {ok} turns answered before the kill, {cut} cut off by it");
    assert!(ok > 0 && cut > 0, "the kill must land under load");

    // The turns cut off held reservations; after their lease they are reclaimed, once.
    let store = SqliteStore::open(&db).await.unwrap();
    let reclaimed = reclaim_after_the_lease(&store).await;
    eprintln!("SIGKILL: {reclaimed} reservations reclaimed after the lease");
    assert!(reclaimed > 0);
    assert_eq!(store.reclaim_expired(chrono::Utc::now()).await.unwrap(), 0);

    server.start().await;
    for (token, sent) in tokens.iter().zip(&sent) {
        api.audit(token, &answered(sent)).await;
    }
    // And the restarted server serves as before.
    let (status, body) = api.turn(&tokens[0], "Voltou?").await;
    assert_eq!(status, 200, "{body}");
}
