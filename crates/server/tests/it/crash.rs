//! A server killed with SIGKILL in the middle of a streamed turn: its reservation outlives it
//! only until the lease expires, is then reclaimed, and nothing is ever charged for the turn.

use crate::support::process::ServerProcess;
use crate::support::{FetchJson, TestServer, sign_up};
use botpsicologo::state::AppState;
use domain::Locale;
use domain::ports::UsageLedger;
use model_openai::stub::{Reply, StubServer};
use persistence_sqlite::SqliteStore;
use serde_json::{Value, json};
use std::time::Duration;

const PERSON: &str = "pessoa@test.local";
const PASSWORD: &str = "person-password-123";
const LEASE_SECS: u64 = 2;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_server_leaves_no_charge_once_its_lease_expires() {
    // The model starts a reply, then goes silent for longer than the test.
    let stub = StubServer::start(
        Reply::text("Uma resposta que nunca termina de chegar.")
            .chunks(4)
            .stall_after(1, Duration::from_secs(60)),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("crash.db").display().to_string();
    let mut child = ServerProcess::new(
        dir.path(),
        &[
            ("DATABASE_URL", format!("sqlite://{db}")),
            ("LLM_BASE_URL", stub.base_url.clone()),
            ("LLM_IDLE_TIMEOUT_MS", "120000".to_string()),
            ("RESERVATION_LEASE_SECS", LEASE_SECS.to_string()),
        ],
    );
    let settings = child.settings();
    let state = AppState::new(SqliteStore::open(&db).await.unwrap(), settings.clone()).unwrap();
    sign_up(&state, PERSON, PASSWORD, Locale::PtBr).await;
    child.start().await;
    let client = reqwest::Client::new();
    let base = child.base.clone();
    let token: Value = client
        .post(format!("{base}/api/v1/auth/token"))
        .json(&json!({ "email": PERSON, "password": PASSWORD }))
        .fetch_json()
        .await;
    let token = token["token"].as_str().unwrap().to_string();

    let mut stream = client
        .post(format!("{base}/api/v1/chat"))
        .bearer_auth(&token)
        .header("accept", "text/event-stream")
        .json(&json!({ "message": "Oi, tudo bem?" }))
        .send()
        .await
        .unwrap();
    let first = stream.chunk().await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&first).contains("delta"));
    let me: Value = client
        .get(format!("{base}/api/v1/me"))
        .bearer_auth(&token)
        .fetch_json()
        .await;
    assert!(me["usage"]["reserved"].as_u64().unwrap() > 0, "{me}");

    child.kill(); // SIGKILL: no shutdown code runs
    drop(stream);

    // Before the lease expires the reservation still holds; after it, it is reclaimed.
    let store = SqliteStore::open(&db).await.unwrap();
    assert_eq!(store.reclaim_expired(chrono::Utc::now()).await.unwrap(), 0);
    tokio::time::sleep(Duration::from_secs(LEASE_SECS + 1)).await;
    assert_eq!(store.reclaim_expired(chrono::Utc::now()).await.unwrap(), 1);

    let server = TestServer::start(store, settings).await;
    let me: Value = server
        .me(&server.bearer(PERSON, PASSWORD).await)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["usage"]["used"], 0, "{me}");
    assert_eq!(me["usage"]["reserved"], 0, "{me}");
    server.stop().await;
}
