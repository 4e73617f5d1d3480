//! The rate-limiter contract: what every [`RateLimiter`] adapter (governor, Redis, the resilient
//! wrapper) must do. Adapters run it through [`limiter_contract_tests!`](crate::limiter_contract_tests),
//! with a factory returning a fresh limiter (a fresh key prefix for Redis).
//!
//! Timings are real: the short quotas refill in tens of milliseconds, with margins wide enough for
//! a loaded machine but narrow enough that a limiter that never refills or refills all at once fails.

use domain::ports::RateLimiter;
use domain::ratelimit::{Decision, Quota};
use std::sync::Arc;
use std::time::Duration;

/// Generates one `#[tokio::test]` per limiter contract case. `$make` is an async fn returning
/// `Option<L>`: a fresh limiter, or `None` when its server is unavailable and the run may skip
/// (never under `CI=true`: the factory must panic there).
#[macro_export]
macro_rules! limiter_contract_tests {
    ($make:path) => {
        $crate::limiter_contract_tests!(@cases $make;
            burst_then_limited, keys_are_independent, rules_are_independent,
            refills_after_emission_interval, retry_after_decreases, sixth_sign_in_is_limited,
            concurrent_checks_allow_exactly_burst, zero_burst_is_an_error
        );
    };
    (@cases $make:path; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $case() {
                let Some(limiter) = $make().await else { return };
                $crate::limiter::$case(limiter).await;
            }
        )*
    };
}

const fn quota(rule: &'static str, burst: u32, period_ms: u64) -> Quota {
    Quota {
        rule,
        burst,
        period: Duration::from_millis(period_ms),
    }
}

async fn decide<L: RateLimiter>(limiter: &L, quota: Quota, key: &str) -> Decision {
    limiter
        .check(quota, key)
        .await
        .unwrap_or_else(|e| panic!("check {}/{key}: {e}", quota.rule))
}

async fn retry_after<L: RateLimiter>(limiter: &L, quota: Quota, key: &str) -> Duration {
    match decide(limiter, quota, key).await {
        Decision::Limited { retry_after } => retry_after,
        Decision::Allowed => panic!("{}/{key} should be limited", quota.rule),
    }
}

async fn exhaust<L: RateLimiter>(limiter: &L, quota: Quota, key: &str) {
    for i in 0..quota.burst {
        assert_eq!(
            decide(limiter, quota, key).await,
            Decision::Allowed,
            "request {i} of a burst of {}",
            quota.burst
        );
    }
}

pub async fn burst_then_limited<L: RateLimiter>(limiter: L) {
    let q = quota("burst", 3, 60_000);
    exhaust(&limiter, q, "k").await;
    let wait = retry_after(&limiter, q, "k").await;
    assert!(wait > Duration::ZERO && wait <= q.period, "{wait:?}");
    // One request is refilled every period / burst: that is the longest a caller should wait.
    assert!(wait <= q.emission_interval(), "{wait:?}");
}

pub async fn keys_are_independent<L: RateLimiter>(limiter: L) {
    let q = quota("keys", 2, 60_000);
    exhaust(&limiter, q, "a").await;
    retry_after(&limiter, q, "a").await;
    exhaust(&limiter, q, "b").await;
    retry_after(&limiter, q, "b").await;
}

pub async fn rules_are_independent<L: RateLimiter>(limiter: L) {
    let first = quota("rule_one", 2, 60_000);
    let second = quota("rule_two", 2, 60_000);
    exhaust(&limiter, first, "same-key").await;
    retry_after(&limiter, first, "same-key").await;
    exhaust(&limiter, second, "same-key").await;
    retry_after(&limiter, first, "same-key").await;
}

pub async fn refills_after_emission_interval<L: RateLimiter>(limiter: L) {
    // Burst 2 per 200 ms: one request comes back every 100 ms.
    let q = quota("refill", 2, 200);
    exhaust(&limiter, q, "k").await;
    let wait = retry_after(&limiter, q, "k").await;
    tokio::time::sleep(wait + Duration::from_millis(15)).await;
    assert_eq!(decide(&limiter, q, "k").await, Decision::Allowed);
    // Only one came back, not the whole burst.
    retry_after(&limiter, q, "k").await;
    tokio::time::sleep(q.period + Duration::from_millis(30)).await;
    exhaust(&limiter, q, "k").await;
}

pub async fn retry_after_decreases<L: RateLimiter>(limiter: L) {
    let q = quota("decreasing", 1, 2_000);
    exhaust(&limiter, q, "k").await;
    let first = retry_after(&limiter, q, "k").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let second = retry_after(&limiter, q, "k").await;
    assert!(
        second + Duration::from_millis(200) <= first,
        "{first:?} then {second:?}"
    );
    assert!(second > Duration::ZERO);
}

pub async fn sixth_sign_in_is_limited<L: RateLimiter>(limiter: L) {
    let q = Quota::per_minute("sign_in_account", 5);
    exhaust(&limiter, q, "someone@example.com").await;
    let wait = retry_after(&limiter, q, "someone@example.com").await;
    assert!(
        wait > Duration::ZERO && wait <= Duration::from_secs(60),
        "{wait:?}"
    );
}

pub async fn concurrent_checks_allow_exactly_burst<L: RateLimiter>(limiter: L) {
    // A long period so nothing refills while the 200 checks run.
    let q = quota("concurrent", 50, 3_600_000);
    let limiter = Arc::new(limiter);
    let tasks: Vec<_> = (0..200)
        .map(|_| {
            let limiter = Arc::clone(&limiter);
            tokio::spawn(async move { decide(&*limiter, q, "shared").await })
        })
        .collect();
    let mut allowed = 0;
    for task in tasks {
        if task.await.expect("task") == Decision::Allowed {
            allowed += 1;
        }
    }
    assert_eq!(allowed, q.burst);
}

pub async fn zero_burst_is_an_error<L: RateLimiter>(limiter: L) {
    let q = quota("zero", 0, 60_000);
    assert!(limiter.check(q, "k").await.is_err());
}
