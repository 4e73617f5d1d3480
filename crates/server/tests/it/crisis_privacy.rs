//! The crisis path, the storage side: a crisis turn is stored like an ordinary
//! one, on SQLite and on MySQL, so that only the aggregate daily counter remembers that a
//! crisis answer was given; and when the database cannot store anything (SQLite's disk full,
//! MySQL stopped) the crisis answer still comes back, over JSON and the event stream.
//!
//! The MySQL outage is `#[ignore]`d like the one in `faults.rs`: `cargo xtask test --slow`
//! (what CI runs) includes it.

use crate::support::chat::{PERSON, model_settings};
use crate::support::crisis::{
    Database, EN_PERSON, MessageRow, assert_crisis, sqlite_server, tokens_for, turn,
};
use crate::support::daemons::PrivateMysql;
use crate::support::db::Snapshot;
use crate::support::disk::{Mount, fill};
use crate::support::{TestServer, settings};
use diesel::connection::SimpleConnection;
use diesel::{Connection, SqliteConnection};
use domain::Locale;
use domain::safety::crisis_reply;
use model_openai::stub::{Reply, StubServer};
use persistence_mysql::MysqlStore;
use std::collections::BTreeSet;

const WANT_TO_DIE: &str = "não aguento mais, quero morrer";
const END_MY_LIFE: &str = "I want to end my life";
const ORDINARY: &str = "Como dormir melhor quando a cabeça não para?";

/// The padded size of a sealed text of `len` bytes below 16 KiB (`app::crypto`, format 2).
fn bucket(len: usize) -> usize {
    (len + 4).next_power_of_two().max(256)
}

/// A model reply about as long as the crisis answer: the same padding bucket.
fn reply_like_the_crisis_answer() -> String {
    let crisis = crisis_reply(Locale::PtBr, false, false);
    let reply: String = "Entendo como isso pesa. Vamos com calma, um passo de cada vez. "
        .chars()
        .cycle()
        .take(crisis.len() - 40)
        .collect();
    let reply = format!("{}.", reply.trim_end());
    assert!(bucket(crisis.len()) >= 256);
    assert_eq!(
        bucket(reply.len()),
        bucket(crisis.len()),
        "pick another length"
    );
    assert_eq!(bucket(ORDINARY.len()), bucket(WANT_TO_DIE.len()));
    reply
}

/// One ordinary turn, then one crisis turn, by the same person: the rows of both look alike,
/// and the crisis counter went up by one with the crisis turn only. `between` runs after
/// each turn.
async fn stored_alike(
    server: &TestServer,
    token: &str,
    db: &Database,
    reply: &str,
    mut between: impl FnMut(),
) {
    assert!(db.messages().await.is_empty());
    let ordinary = turn(server, token, ORDINARY, false).await;
    assert_eq!(ordinary.status, 200, "{}", ordinary.raw);
    assert_eq!(ordinary.reply(), reply);
    assert_eq!(db.crisis_count().await, 0);
    between();
    let crisis = turn(server, token, WANT_TO_DIE, false).await;
    assert_crisis(&crisis, "188");
    assert_eq!(crisis.reply(), crisis_reply(Locale::PtBr, false, false));
    assert_eq!(db.crisis_count().await, 1);
    between();

    let rows = db.messages().await;
    let authors: Vec<&str> = rows.iter().map(|r| r.author.as_str()).collect();
    assert_eq!(
        authors,
        ["user", "assistant", "user", "assistant"],
        "{rows:?}"
    );
    let [ordinary_user, ordinary_reply, crisis_user, crisis_reply]: [MessageRow; 4] =
        rows.clone().try_into().unwrap();
    assert!(
        rows.iter().all(|r| r.user_id == rows[0].user_id),
        "{rows:?}"
    );
    assert_eq!(
        (ordinary_user.tokens, crisis_user.tokens),
        (0, 0),
        "{rows:?}"
    );
    assert!(ordinary_reply.tokens > 0, "{rows:?}");
    assert!(
        crisis_reply.tokens > 0,
        "the crisis reply must not stand out: {rows:?}"
    );
    assert_eq!(ordinary_user.sealed_len, crisis_user.sealed_len, "{rows:?}");
    assert_eq!(
        ordinary_reply.sealed_len, crisis_reply.sealed_len,
        "{rows:?}"
    );
}

#[tokio::test]
async fn a_crisis_turn_is_stored_like_an_ordinary_one_on_sqlite() {
    let reply = reply_like_the_crisis_answer();
    let stub = StubServer::start(Reply::text(reply.as_str())).await;
    let dir = tempfile::tempdir().unwrap();
    let (server, tokens) = sqlite_server(dir.path(), &model_settings(&stub, 0), &[PERSON]).await;
    let path = dir.path().join("test.db");
    let db = Database::Sqlite(path.clone());
    let mut snapshots = Vec::new();
    stored_alike(&server, &tokens[0], &db, &reply, || {
        snapshots.push(Snapshot::take(&path))
    })
    .await;
    // Every table the crisis turn changed: two rows in `messages`, like any turn, and the
    // daily counter; nothing charged, nothing of its own.
    let changes = snapshots[0].changes(&snapshots[1]);
    let changed: BTreeSet<&str> = changes.keys().map(String::as_str).collect();
    assert_eq!(changed, BTreeSet::from(["messages", "safety_events"]));
    let messages = &changes["messages"];
    assert_eq!((messages.added.len(), messages.removed.len()), (2, 0));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crisis_turn_is_stored_like_an_ordinary_one_on_mysql() {
    let Some(url) = persistence_mysql::test_support::fresh_database_url().await else {
        return;
    };
    let reply = reply_like_the_crisis_answer();
    let stub = StubServer::start(Reply::text(reply.as_str())).await;
    let dir = tempfile::tempdir().unwrap();
    let extra = format!("{}database_url = {url:?}\n", model_settings(&stub, 0));
    let settings = settings(dir.path(), &extra);
    let store = MysqlStore::open(&url, 4).await.unwrap();
    let tokens = tokens_for(store.clone(), &settings, &[PERSON]).await;
    let server = TestServer::start(store, settings).await;
    stored_alike(&server, &tokens[0], &Database::Mysql(url), &reply, || {}).await;
    server.stop().await;
}

/// Both crisis messages answered, as JSON and as an event stream.
async fn crisis_both_ways(server: &TestServer, pt: &str, en: &str) {
    for streaming in [false, true] {
        assert_crisis(&turn(server, pt, WANT_TO_DIE, streaming).await, "188");
        assert_crisis(&turn(server, en, END_MY_LIFE, streaming).await, "988");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_unable_to_write_still_gives_the_crisis_answer() {
    let dir = tempfile::tempdir().unwrap();
    let Some(mount) = Mount::tmpfs(&dir.path().join("data"), "8m") else {
        return;
    };
    let (server, tokens) = sqlite_server(&mount.0, "", &[PERSON, EN_PERSON]).await;
    assert_eq!(turn(&server, &tokens[0], ORDINARY, false).await.status, 200);
    // The write-ahead log emptied, then the disk filled: the next write has nowhere to go.
    // (A read-only remount is refused while the server holds the database open for writing,
    // and removing the file's permissions stops no one running as root.)
    let db = mount.0.join("test.db").display().to_string();
    let mut conn = SqliteConnection::establish(&db).unwrap();
    conn.batch_execute("PRAGMA wal_checkpoint(TRUNCATE)")
        .unwrap();
    let filler = fill(&mount.0);
    let refused = turn(&server, &tokens[0], ORDINARY, false).await;
    assert_eq!(refused.status, 503, "{}", refused.raw);

    crisis_both_ways(&server, &tokens[0], &tokens[1]).await;
    std::fs::remove_file(filler).unwrap();
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_sqlite_database_does_not_hold_back_the_crisis_answer() {
    let dir = tempfile::tempdir().unwrap();
    let (server, tokens) = sqlite_server(dir.path(), "", &[PERSON, EN_PERSON]).await;
    // Another process holds the write lock: every write waits out SQLite's busy timeout (10 s).
    let db = dir.path().join("test.db").display().to_string();
    let mut conn = SqliteConnection::establish(&db).unwrap();
    conn.batch_execute("BEGIN IMMEDIATE").unwrap();
    for streaming in [false, true] {
        let started = std::time::Instant::now();
        let answer = turn(&server, &tokens[0], WANT_TO_DIE, streaming).await;
        assert_crisis(&answer, "188");
        // The answer waits for the writes at most a grace second, never for the lock.
        let waited = started.elapsed();
        assert!(waited < std::time::Duration::from_secs(5), "{waited:?}");
    }
    conn.batch_execute("ROLLBACK").unwrap();
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "slow (a private MariaDB): run by `cargo xtask test --slow`, as CI does"]
async fn mysql_stopped_still_gives_the_crisis_answer() {
    let Some(mut mysql) = PrivateMysql::start().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let url = mysql.url();
    let settings = settings(dir.path(), &format!("database_url = {url:?}\n"));
    let store = MysqlStore::open(&url, 4).await.unwrap();
    let tokens = tokens_for(store.clone(), &settings, &[PERSON, EN_PERSON]).await;
    let server = TestServer::start(store, settings).await;
    assert_eq!(turn(&server, &tokens[0], ORDINARY, false).await.status, 200);

    mysql.stop().await;
    let refused = turn(&server, &tokens[0], ORDINARY, false).await;
    assert_eq!(refused.status, 503, "{}", refused.raw);
    crisis_both_ways(&server, &tokens[0], &tokens[1]).await;
    server.stop().await;
}
