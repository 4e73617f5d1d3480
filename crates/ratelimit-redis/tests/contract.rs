//! Redis, and the resilient wrapper with Redis up and with Redis down, pass the same rate-limiter
//! contract as the in-process limiter.

use ratelimit_redis::test_support::{fresh_limiter, unique_prefix};
use ratelimit_redis::{RedisLimiter, ResilientLimiter, ResilientOptions};

mod redis {
    use super::*;

    async fn fresh() -> Option<RedisLimiter> {
        fresh_limiter().await
    }

    contracts::limiter_contract_tests!(fresh);
}

mod resilient_with_redis {
    use super::*;

    async fn fresh() -> Option<ResilientLimiter> {
        let redis = fresh_limiter().await?;
        Some(ResilientLimiter::new(redis, ResilientOptions::default()))
    }

    contracts::limiter_contract_tests!(fresh);
}

mod resilient_without_redis {
    use super::*;

    async fn fresh() -> Option<ResilientLimiter> {
        let limiter = ResilientLimiter::open(
            "redis://127.0.0.1:1",
            &unique_prefix(),
            ResilientOptions::default(),
        );
        Some(limiter.expect("a well-formed URL opens without connecting"))
    }

    contracts::limiter_contract_tests!(fresh);
}
