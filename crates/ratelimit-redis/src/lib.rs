//! # ratelimit-redis
//!
//! Rate limits shared by several app instances through Redis.
//!
//! - [`RedisLimiter`]: GCRA whose whole decision (read the state, compare, write it back with a
//!   TTL) is one Lua script run with `EVALSHA`, on Redis server time, so instances with skewed
//!   clocks still agree and concurrent requests can never both take the last slot.
//! - [`ResilientLimiter`]: the Redis limiter with a short per-call timeout and a
//!   [`FallbackPolicy`] for outages (the in-process governor limiter, or a refusal); Redis is
//!   used again as soon as it answers.

mod redis_limiter;
mod resilient;
#[cfg(feature = "test-support")]
pub mod test_support;

pub use redis_limiter::{RedisLimiter, RedisOptions};
pub use resilient::{FallbackPolicy, ResilientLimiter, ResilientOptions};
