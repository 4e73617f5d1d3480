//! Rate limiting.

use crate::ratelimit::{Decision, LimiterError, Quota};
use std::future::Future;

#[cfg_attr(test, mockall::automock)]
pub trait RateLimiter: Send + Sync + 'static {
    fn check(
        &self,
        quota: Quota,
        key: &str,
    ) -> impl Future<Output = Result<Decision, LimiterError>> + Send;
}
