//! Rate limits across instances: two servers sharing one Redis enforce one global sign-in limit;
//! a server whose Redis is unreachable keeps answering with its in-process limiter.

use crate::support::{ADMIN_EMAIL, TestServer, settings};
use persistence_sqlite::SqliteStore;
use ratelimit_redis::test_support::{limiter_on, redis_url, unique_prefix};

async fn instance(dir: &std::path::Path, name: &str, extra: &str) -> TestServer {
    let data = dir.join(name);
    std::fs::create_dir_all(&data).unwrap();
    let store = SqliteStore::open(&data.join("test.db").display().to_string())
        .await
        .unwrap();
    TestServer::start(store, settings(&data, extra)).await
}

#[tokio::test]
async fn two_instances_sharing_redis_enforce_one_sign_in_limit() {
    let prefix = unique_prefix();
    // Skips (loudly) outside CI when Redis is down; fails under CI=true.
    if limiter_on(&prefix).await.is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let extra = format!(
        "redis_url = {:?}\nredis_key_prefix = {prefix:?}",
        redis_url()
    );
    let a = instance(dir.path(), "a", &extra).await;
    let b = instance(dir.path(), "b", &extra).await;
    for (i, server) in [&a, &b, &a, &b, &a].into_iter().enumerate() {
        let status = server.token(ADMIN_EMAIL, "wrong-password-1").await.status();
        assert_eq!(status, 401, "attempt {}", i + 1);
    }
    // The sixth attempt is refused whichever instance gets it.
    for server in [&b, &a] {
        let response = server.token(ADMIN_EMAIL, "wrong-password-1").await;
        assert_eq!(response.status(), 429);
        assert!(response.headers().contains_key("retry-after"));
    }
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn a_server_without_its_redis_keeps_answering() {
    let dir = tempfile::tempdir().unwrap();
    let server = instance(dir.path(), "a", "redis_url = \"redis://127.0.0.1:1\"").await;
    let health = server
        .client
        .get(server.url("/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(
        server
            .token(ADMIN_EMAIL, crate::support::ADMIN_PASSWORD)
            .await
            .status(),
        201
    );
    // The in-process fallback still limits.
    for _ in 0..5 {
        server.token(ADMIN_EMAIL, "wrong-password-1").await;
    }
    assert_eq!(
        server.token(ADMIN_EMAIL, "wrong-password-1").await.status(),
        429
    );
    server.stop().await;
}
