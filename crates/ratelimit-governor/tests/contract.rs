//! The in-process limiter passes the shared rate-limiter contract.

use ratelimit_governor::GovernorLimiter;

async fn fresh() -> Option<GovernorLimiter> {
    Some(GovernorLimiter::new())
}

contracts::limiter_contract_tests!(fresh);
