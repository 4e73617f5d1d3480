//! The server end to end over HTTP: health, readiness, restart with data kept, the first admin,
//! bearer tokens, `/api/v1/me`, security headers and refusals of bad input.

use crate::support::{ADMIN_EMAIL, ADMIN_PASSWORD, TestServer};

#[tokio::test]
async fn health_ready_and_restart_keeps_data() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::sqlite(dir.path()).await;
    let health = server
        .client
        .get(server.url("/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let ready = server
        .client
        .get(server.url("/readyz"))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    let token = server.bearer(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    server.stop().await;

    let again = TestServer::sqlite(dir.path()).await;
    assert_eq!(
        again.me(&token).await.status(),
        200,
        "sessions survive a restart"
    );
    assert_eq!(again.token(ADMIN_EMAIL, ADMIN_PASSWORD).await.status(), 201);
    again.stop().await;
}

#[tokio::test]
async fn me_reports_role_and_usage() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::sqlite(dir.path()).await;
    let token = server.bearer(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let me: serde_json::Value = server.me(&token).await.json().await.unwrap();
    assert_eq!(me["role"], "platform_admin");
    assert_eq!(me["email"], ADMIN_EMAIL);
    for key in ["used", "reserved", "limit", "remaining"] {
        assert!(me["usage"][key].is_u64(), "usage.{key} in {me}");
    }
    assert!(me.get("password_hash").is_none());
    server.stop().await;
}

#[tokio::test]
async fn refusals_are_clear_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::sqlite(dir.path()).await;
    let wrong = server.token(ADMIN_EMAIL, "not-the-password").await;
    assert_eq!(wrong.status(), 401);
    let unknown = server.token("nobody@test.local", "whatever-123").await;
    assert_eq!(unknown.status(), 401);
    let wrong_body: serde_json::Value = wrong.json().await.unwrap();
    let unknown_body: serde_json::Value = unknown.json().await.unwrap();
    assert_eq!(
        wrong_body, unknown_body,
        "no hint whether the e-mail exists"
    );

    assert_eq!(server.me("forged-token").await.status(), 401);
    let no_auth = server
        .client
        .get(server.url("/api/v1/me"))
        .send()
        .await
        .unwrap();
    assert_eq!(no_auth.status(), 401);

    let malformed = server
        .client
        .post(server.url("/api/v1/auth/token"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), 400);
    let oversized = server
        .client
        .post(server.url("/api/v1/auth/token"))
        .header("content-type", "application/json")
        .body(vec![b' '; 200_000])
        .send()
        .await
        .unwrap();
    assert_eq!(oversized.status(), 413);
    let missing = server
        .client
        .get(server.url("/api/v1/nothing"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let body: serde_json::Value = missing.json().await.unwrap();
    assert!(body["error"].is_string());
    server.stop().await;
}

#[tokio::test]
async fn revoked_token_stops_working() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::sqlite(dir.path()).await;
    let token = server.bearer(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let revoke = server
        .client
        .delete(server.url("/api/v1/auth/token"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(revoke.status(), 204);
    assert_eq!(server.me(&token).await.status(), 401);
    server.stop().await;
}

#[tokio::test]
async fn security_headers_on_every_response() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::sqlite(dir.path()).await;
    for path in ["/healthz", "/api/v1/me", "/nowhere"] {
        let response = server.client.get(server.url(path)).send().await.unwrap();
        let h = response.headers();
        assert!(
            h["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("script-src 'self'")
        );
        assert_eq!(h["x-frame-options"], "DENY");
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert!(h.contains_key("referrer-policy"));
        assert!(h.contains_key("permissions-policy"));
        assert!(h.contains_key("x-request-id"));
        assert!(
            !h.contains_key("strict-transport-security"),
            "no HSTS without TLS"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn generated_key_file_is_private() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::sqlite(dir.path()).await;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("message.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    server.stop().await;
}

#[tokio::test]
async fn works_on_mysql_too() {
    let Some(url) = persistence_mysql::test_support::fresh_database_url().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let settings = crate::support::settings(dir.path(), &format!("database_url = {url:?}"));
    let store = persistence_mysql::MysqlStore::open(&url, 4).await.unwrap();
    let server = TestServer::start(store, settings).await;
    let ready = server
        .client
        .get(server.url("/readyz"))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    let token = server.bearer(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(server.me(&token).await.status(), 200);
    server.stop().await;
}

#[tokio::test]
async fn metrics_only_for_allowed_addresses_or_the_token() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::sqlite_with(
        dir.path(),
        "metrics_allow = []\nmetrics_token = \"scrape-secret\"",
    )
    .await;
    server.token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let scrape = |token: Option<&'static str>| {
        let mut request = server.client.get(server.url("/metrics"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };
    assert_eq!(scrape(None).await.unwrap().status(), 403);
    assert_eq!(scrape(Some("wrong")).await.unwrap().status(), 403);
    let response = scrape(Some("scrape-secret")).await.unwrap();
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    assert!(text.contains("http_requests_total"), "{text}");
    assert!(text.contains("route=\"/api/v1/auth/token\""), "{text}");
    assert!(text.contains("http_request_duration_seconds"));
    assert!(text.contains("rate_limit_decisions_total"));
    assert!(text.contains("process_resident_memory_bytes"));
    server.stop().await;

    // The default allows the local machine.
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::sqlite(dir.path()).await;
    let response = server
        .client
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    server.stop().await;
}

/// The count of `GET` requests the per-address limit refused before routing, in the scrape
/// `text`. The recorder is the process's: every server a test in this binary starts adds to it.
fn refused_before_routing(text: &str) -> u64 {
    text.lines()
        .filter(|l| {
            l.starts_with("http_requests_total{")
                && l.contains("method=\"GET\"")
                && l.contains("route=\"(before routing)\"")
                && l.contains("status=\"429\"")
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

#[tokio::test]
async fn requests_over_the_address_limit_are_counted_in_the_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::sqlite_with(dir.path(), "ip_requests_per_minute = 3").await;
    // The scraper is not limited by its address. Other tests' servers in this process count
    // into the same recorder, so this one's refusals are what the count grows by, at least.
    let before = refused_before_routing(&server.get_text("/metrics").await);
    let statuses: Vec<u16> = futures::future::join_all(
        (0..5).map(|_| server.client.get(server.url("/api/v1/me")).send()),
    )
    .await
    .into_iter()
    .map(|r| r.unwrap().status().as_u16())
    .collect();
    let refused = statuses.iter().filter(|s| **s == 429).count() as u64;
    assert!(refused > 0, "{statuses:?}");
    let text = server.get_text("/metrics").await;
    assert!(
        refused_before_routing(&text) >= before + refused,
        "{refused} refusals not counted ({before} before): {text}"
    );
    server.stop().await;
}
