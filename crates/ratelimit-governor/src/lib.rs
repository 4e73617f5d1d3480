//! # ratelimit-governor
//!
//! The in-process [`RateLimiter`]: keyed GCRA from the `governor` crate, one keyed limiter per
//! [`Quota`], created on first use. It is the embedded default for a single instance, and the
//! fallback of the Redis limiter when Redis is unreachable.
//!
//! governor keeps a state per key until told to forget it, so every
//! [`GovernorLimiter::with_sweep_every`] checks the limiter drops the keys whose state has fully
//! refilled (indistinguishable from a fresh key), keeping memory bounded by the active keys.

use domain::ports::RateLimiter;
use domain::ratelimit::{Decision, LimiterError, Quota};
use governor::DefaultKeyedRateLimiter;
use governor::clock::Clock;
use std::collections::HashMap;
use std::future::Future;
use std::num::{NonZeroU32, NonZeroU64};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

type KeyedLimiter = DefaultKeyedRateLimiter<String>;

/// Checks between two sweeps of idle keys by default: rare enough to cost nothing per check.
const DEFAULT_SWEEP_EVERY: NonZeroU64 = NonZeroU64::new(10_000).expect("non-zero");

/// In-process keyed rate limiter. Cheap to share behind an `Arc`; all methods take `&self`.
pub struct GovernorLimiter {
    // Read-mostly: the set of quotas is small and fixed after warm-up, so checks take the read lock.
    limiters: RwLock<HashMap<Quota, Arc<KeyedLimiter>>>,
    checks: AtomicU64,
    sweep_every: NonZeroU64,
}

impl Default for GovernorLimiter {
    fn default() -> Self {
        Self::new()
    }
}

impl GovernorLimiter {
    pub fn new() -> Self {
        Self::with_sweep_every(DEFAULT_SWEEP_EVERY)
    }

    /// Forgets fully refilled keys once every `checks` decisions.
    pub fn with_sweep_every(checks: NonZeroU64) -> Self {
        Self {
            limiters: RwLock::new(HashMap::new()),
            checks: AtomicU64::new(0),
            sweep_every: checks,
        }
    }

    /// The decision for one request, synchronously (no I/O is involved).
    pub fn decide(&self, quota: Quota, key: &str) -> Result<Decision, LimiterError> {
        let limiter = self.limiter_for(quota)?;
        let decision = match limiter.check_key(&key.to_owned()) {
            Ok(()) => Decision::Allowed,
            Err(not_until) => Decision::Limited {
                retry_after: not_until.wait_time_from(limiter.clock().now()),
            },
        };
        if self.checks.fetch_add(1, Ordering::Relaxed) % self.sweep_every.get()
            == self.sweep_every.get() - 1
        {
            self.sweep();
        }
        Ok(decision)
    }

    /// Number of keys currently tracked, over all quotas (an estimate under concurrency).
    pub fn tracked_keys(&self) -> usize {
        self.read().values().map(|limiter| limiter.len()).sum()
    }

    /// Drops every key whose state has fully refilled.
    pub fn sweep(&self) {
        for limiter in self.read().values() {
            limiter.retain_recent();
        }
    }

    fn limiter_for(&self, quota: Quota) -> Result<Arc<KeyedLimiter>, LimiterError> {
        if let Some(limiter) = self.read().get(&quota) {
            return Ok(Arc::clone(limiter));
        }
        let gcra = governor_quota(quota)?;
        let mut limiters = self
            .limiters
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        // Another task may have created it between the two locks: keep theirs, it may hold state.
        let limiter = limiters
            .entry(quota)
            .or_insert_with(|| Arc::new(KeyedLimiter::keyed(gcra)));
        Ok(Arc::clone(limiter))
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<Quota, Arc<KeyedLimiter>>> {
        // A panic elsewhere cannot leave the map half-updated (inserts are single calls).
        self.limiters.read().unwrap_or_else(PoisonError::into_inner)
    }
}

fn governor_quota(quota: Quota) -> Result<governor::Quota, LimiterError> {
    let burst = NonZeroU32::new(quota.burst).ok_or_else(|| invalid(quota))?;
    let gcra =
        governor::Quota::with_period(quota.emission_interval()).ok_or_else(|| invalid(quota))?;
    Ok(gcra.allow_burst(burst))
}

fn invalid(quota: Quota) -> LimiterError {
    LimiterError(format!(
        "invalid quota {:?}: burst and period must be non-zero",
        quota.rule
    ))
}

impl RateLimiter for GovernorLimiter {
    fn check(
        &self,
        quota: Quota,
        key: &str,
    ) -> impl Future<Output = Result<Decision, LimiterError>> + Send {
        std::future::ready(self.decide(quota, key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn idle_keys_are_swept_periodically() {
        let limiter = GovernorLimiter::with_sweep_every(NonZeroU64::new(50).expect("non-zero"));
        let quota = Quota {
            rule: "sweep",
            burst: 1,
            period: Duration::from_millis(10),
        };
        for i in 0..40 {
            limiter.decide(quota, &format!("k{i}")).expect("decide");
        }
        assert_eq!(limiter.tracked_keys(), 40);
        std::thread::sleep(Duration::from_millis(30));
        // Ten more checks reach the 50th, which sweeps the 40 refilled keys.
        for _ in 0..10 {
            limiter.decide(quota, "busy").expect("decide");
        }
        assert!(limiter.tracked_keys() <= 1, "{}", limiter.tracked_keys());
    }
}
