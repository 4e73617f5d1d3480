//! [`ResilientLimiter`]: Redis first, the in-process limiter (or a refusal) while Redis is down.

use crate::redis_limiter::{RedisFailure, RedisLimiter, RedisOptions};
use domain::ports::RateLimiter;
use domain::ratelimit::{Decision, LimiterError, Quota};
use ratelimit_governor::GovernorLimiter;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// What to answer while Redis is unreachable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FallbackPolicy {
    /// Decide with a per-instance limiter: limits hold per instance instead of globally.
    #[default]
    InProcess,
    /// Return the [`LimiterError`] (the caller answers 503).
    Refuse,
}

/// Tuning of a [`ResilientLimiter`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResilientOptions {
    pub policy: FallbackPolicy,
    /// Longest a request waits for Redis before the fallback answers.
    pub call_timeout: Duration,
    /// After a failure, Redis is left alone this long, so an outage does not add `call_timeout`
    /// to every request; the first call after it tries Redis again.
    pub retry_redis_after: Duration,
    /// At most one warning per this interval while Redis keeps failing.
    pub warn_every: Duration,
}

impl Default for ResilientOptions {
    fn default() -> Self {
        Self {
            policy: FallbackPolicy::InProcess,
            call_timeout: Duration::from_millis(250),
            retry_redis_after: Duration::from_secs(1),
            warn_every: Duration::from_secs(30),
        }
    }
}

/// A [`RedisLimiter`] that keeps answering when Redis does not, per its [`FallbackPolicy`].
pub struct ResilientLimiter {
    redis: RedisLimiter,
    fallback: GovernorLimiter,
    options: ResilientOptions,
    // Instants as nanoseconds since `epoch`, in atomics so the hot path takes no lock.
    epoch: Instant,
    skip_redis_until: AtomicU64,
    next_warning_at: AtomicU64,
    degraded: AtomicBool,
}

impl ResilientLimiter {
    pub fn new(redis: RedisLimiter, options: ResilientOptions) -> Self {
        Self {
            redis,
            fallback: GovernorLimiter::new(),
            options,
            epoch: Instant::now(),
            skip_redis_until: AtomicU64::new(0),
            next_warning_at: AtomicU64::new(0),
            degraded: AtomicBool::new(false),
        }
    }

    /// Does not connect: succeeds while Redis is down (only a malformed URL is an error).
    pub fn open(url: &str, prefix: &str, options: ResilientOptions) -> Result<Self, LimiterError> {
        let redis = RedisLimiter::open(url, prefix, RedisOptions::default())?;
        Ok(Self::new(redis, options))
    }

    async fn decide(&self, quota: Quota, key: &str) -> Result<Decision, LimiterError> {
        let unavailable = match self.try_redis(quota, key).await {
            Ok(decision) => return Ok(decision),
            Err(RedisFailure::InvalidQuota(rule)) => {
                return Err(RedisFailure::InvalidQuota(rule).into());
            }
            Err(unavailable) => unavailable,
        };
        match self.options.policy {
            FallbackPolicy::InProcess => self.fallback.decide(quota, key),
            FallbackPolicy::Refuse => Err(unavailable.into()),
        }
    }

    async fn try_redis(&self, quota: Quota, key: &str) -> Result<Decision, RedisFailure> {
        let now = self.now();
        if now < self.skip_redis_until.load(Ordering::Relaxed) {
            return Err(RedisFailure::Unavailable);
        }
        let result = tokio::time::timeout(self.options.call_timeout, self.redis.decide(quota, key))
            .await
            .unwrap_or(Err(RedisFailure::Timeout(self.options.call_timeout)));
        match &result {
            Ok(_) => {
                if self.degraded.swap(false, Ordering::Relaxed) {
                    tracing::info!("Redis answers again: rate limits are shared again");
                }
            }
            Err(RedisFailure::InvalidQuota(_)) => {}
            Err(failure) => self.failed(now, failure),
        }
        result
    }

    fn failed(&self, now: u64, failure: &RedisFailure) {
        self.degraded.store(true, Ordering::Relaxed);
        self.skip_redis_until.store(
            now.saturating_add(nanos(self.options.retry_redis_after)),
            Ordering::Relaxed,
        );
        let due = self.next_warning_at.load(Ordering::Relaxed);
        let next = now.saturating_add(nanos(self.options.warn_every));
        // Only the caller that moves the deadline warns, however many fail at once.
        if now >= due
            && self
                .next_warning_at
                .compare_exchange(due, next, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            tracing::warn!(
                error = %failure,
                policy = ?self.options.policy,
                "Redis rate limiter unavailable: using the fallback policy"
            );
        }
    }

    fn now(&self) -> u64 {
        nanos(self.epoch.elapsed())
    }
}

fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

impl RateLimiter for ResilientLimiter {
    fn check(
        &self,
        quota: Quota,
        key: &str,
    ) -> impl Future<Output = Result<Decision, LimiterError>> + Send {
        self.decide(quota, key)
    }
}
