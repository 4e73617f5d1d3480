//! [`RedisLimiter`]: GCRA state in Redis, one `EVALSHA` per decision.

use deadpool::managed::{self, Metrics, RecycleError, RecycleResult};
use deadpool_redis::redis::aio::MultiplexedConnection;
use deadpool_redis::redis::{self, AsyncConnectionConfig, RedisError, Script};
use deadpool_redis::{BuildError, PoolError, Runtime};
use domain::ports::RateLimiter;
use domain::ratelimit::{Decision, LimiterError, Quota};
use std::sync::LazyLock;
use std::time::Duration;

// `Script` sends EVALSHA and, when Redis answers NOSCRIPT (restart, SCRIPT FLUSH), loads the
// script and retries.
static GCRA: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("gcra.lua")));

/// A pooled connection, and whether a command found it broken.
struct Link {
    conn: MultiplexedConnection,
    broken: bool,
}

/// Opens connections like deadpool-redis' manager (whose settings it wraps) but hands them out
/// again without the `PING` that manager sends on every checkout, which would double the round
/// trips of a decision. A dead connection is found by the command that fails on it instead, and
/// is then dropped from the pool.
struct Links(deadpool_redis::Manager);

impl managed::Manager for Links {
    type Type = Link;
    type Error = RedisError;

    async fn create(&self) -> Result<Link, RedisError> {
        Ok(Link {
            conn: self.0.create().await?,
            broken: false,
        })
    }

    async fn recycle(&self, link: &mut Link, _: &Metrics) -> RecycleResult<RedisError> {
        if link.broken {
            Err(RecycleError::message("connection found broken"))
        } else {
            Ok(())
        }
    }
}

type Pool = managed::Pool<Links>;

/// Pool and timeouts of a [`RedisLimiter`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RedisOptions {
    /// Connections in the pool (each one is multiplexed).
    pub pool_size: usize,
    /// Opening a connection, and waiting for a free one from the pool.
    pub connect_timeout: Duration,
    /// Waiting for Redis to answer a command.
    pub response_timeout: Duration,
}

impl Default for RedisOptions {
    fn default() -> Self {
        Self {
            pool_size: 16,
            connect_timeout: Duration::from_secs(1),
            response_timeout: Duration::from_secs(1),
        }
    }
}

/// Why a Redis decision could not be made. Converted to the port's [`LimiterError`]; messages
/// never include the URL (it may carry a password).
#[derive(Debug, thiserror::Error)]
pub(crate) enum RedisFailure {
    #[error("invalid Redis URL: {0}")]
    Url(#[source] RedisError),
    #[error("cannot build the Redis pool: {0}")]
    Build(#[from] BuildError),
    #[error("no Redis connection: {0}")]
    Pool(#[from] PoolError),
    #[error("Redis command failed: {0}")]
    Command(#[from] RedisError),
    #[error("invalid quota {0:?}: burst and period must be non-zero")]
    InvalidQuota(&'static str),
    #[error("Redis did not answer within {0:?}")]
    Timeout(Duration),
    #[error("Redis unavailable: waiting before trying it again")]
    Unavailable,
}

impl From<RedisFailure> for LimiterError {
    fn from(failure: RedisFailure) -> Self {
        LimiterError(failure.to_string())
    }
}

/// Rate limiter shared by every app instance that uses the same Redis and key prefix.
///
/// Keys are `{prefix}:{rule}:{key}` and expire once their state is back to fresh. Quotas with the
/// same rule name share keys, so one rule name must always mean one quota.
#[derive(Clone)]
pub struct RedisLimiter {
    pool: Pool,
    prefix: String,
}

impl RedisLimiter {
    /// Connects with the default [`RedisOptions`], failing fast when Redis does not answer.
    pub async fn connect(url: &str, prefix: &str) -> Result<Self, LimiterError> {
        Self::connect_with(url, prefix, RedisOptions::default()).await
    }

    /// Connects and checks that Redis answers a `PING` within the connect timeout.
    pub async fn connect_with(
        url: &str,
        prefix: &str,
        options: RedisOptions,
    ) -> Result<Self, LimiterError> {
        let limiter = Self::open(url, prefix, options)?;
        let mut link = limiter.pool.get().await.map_err(RedisFailure::from)?;
        redis::cmd("PING")
            .query_async::<()>(&mut link.conn)
            .await
            .map_err(RedisFailure::from)?;
        Ok(limiter)
    }

    /// Builds the pool without connecting: connections are opened on first use, so this succeeds
    /// while Redis is down (what [`crate::ResilientLimiter`] needs at start-up).
    pub fn open(url: &str, prefix: &str, options: RedisOptions) -> Result<Self, LimiterError> {
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(options.connect_timeout))
            .set_response_timeout(Some(options.response_timeout));
        let manager =
            deadpool_redis::Manager::new_with_config(url, config).map_err(RedisFailure::Url)?;
        let pool = Pool::builder(Links(manager))
            .max_size(options.pool_size)
            .runtime(Runtime::Tokio1)
            .create_timeout(Some(options.connect_timeout))
            .wait_timeout(Some(options.connect_timeout))
            .build()
            .map_err(RedisFailure::from)?;
        Ok(Self {
            pool,
            prefix: prefix.to_owned(),
        })
    }

    pub(crate) async fn decide(&self, quota: Quota, key: &str) -> Result<Decision, RedisFailure> {
        let interval_us = u64::try_from(quota.emission_interval().as_micros()).unwrap_or(u64::MAX);
        if quota.burst == 0 || interval_us == 0 {
            return Err(RedisFailure::InvalidQuota(quota.rule));
        }
        let mut link = self.pool.get().await?;
        let wait_us: u64 = GCRA
            .key(format!("{}:{}:{key}", self.prefix, quota.rule))
            .arg(interval_us)
            .arg(quota.burst)
            .invoke_async(&mut link.conn)
            .await
            .inspect_err(|e| {
                link.broken = e.is_io_error()
                    || e.is_connection_dropped()
                    || e.is_unrecoverable_error()
                    || e.is_timeout();
            })?;
        Ok(match wait_us {
            0 => Decision::Allowed,
            wait => Decision::Limited {
                retry_after: Duration::from_micros(wait),
            },
        })
    }
}

impl RateLimiter for RedisLimiter {
    async fn check(&self, quota: Quota, key: &str) -> Result<Decision, LimiterError> {
        Ok(self.decide(quota, key).await?)
    }
}
