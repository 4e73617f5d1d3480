//! The rate-limiter port. Decisions are per key (an IP, an account, a user) and per quota.

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// `burst` requests at once, refilled at one every `period / burst`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Quota {
    /// Name of the rule (`ip`, `sign_in_ip`, `sign_in_account`, `chat_user`); namespaces keys.
    pub rule: &'static str,
    pub burst: u32,
    pub period: Duration,
}

impl Quota {
    pub const fn per_minute(rule: &'static str, count: u32) -> Quota {
        Quota {
            rule,
            burst: count,
            period: Duration::from_secs(60),
        }
    }

    /// Time between two requests at the sustained rate.
    pub fn emission_interval(&self) -> Duration {
        self.period / self.burst.max(1)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allowed,
    Limited { retry_after: Duration },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("rate limiter unavailable: {0}")]
pub struct LimiterError(pub String);
