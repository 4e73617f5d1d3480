//! Limiters for tests and benches, each on its own key prefix so tests run in parallel.
//!
//! Redis comes from `TEST_REDIS_URL` (default `redis://127.0.0.1:6379`). When it cannot be
//! reached, tests are skipped with a loud message, except under `CI=true`, where they fail.

use crate::RedisLimiter;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

static COUNTER: AtomicU32 = AtomicU32::new(0);

pub fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_string())
}

/// A prefix no other test run uses (keys expire on their own, so nothing needs cleaning up).
pub fn unique_prefix() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "bp-test:{nanos}:{}:{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// A limiter on a fresh prefix, or `None` (after saying so) when Redis is unreachable outside CI.
pub async fn fresh_limiter() -> Option<RedisLimiter> {
    limiter_on(&unique_prefix()).await
}

/// A limiter (with its own pool) on `prefix`, or `None` as for [`fresh_limiter`].
pub async fn limiter_on(prefix: &str) -> Option<RedisLimiter> {
    let url = redis_url();
    match RedisLimiter::connect(&url, prefix).await {
        Ok(limiter) => Some(limiter),
        Err(e) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("Redis unreachable at {url} under CI=true: {e}")
        }
        Err(e) => {
            eprintln!("SKIPPED: Redis unreachable at {url}: {e}");
            None
        }
    }
}
