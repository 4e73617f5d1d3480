//! Safety: the crisis screen, the count of crisis answers and the safety plans.

use super::StoreResult;
use crate::UserId;
use crate::safety::{Assessment, CrisisDetector};
use crate::safety_plan::SealedSafetyPlan;
use std::future::Future;

/// Recognises messages showing risk of suicide or self-harm, in the context of the person's
/// recent messages (oldest first).
#[cfg_attr(test, mockall::automock)]
pub trait CrisisScreen: Send + Sync + 'static {
    fn assess(&self, message: &str, earlier: &[String]) -> Assessment;
}

impl CrisisScreen for CrisisDetector {
    fn assess(&self, message: &str, earlier: &[String]) -> Assessment {
        let earlier: Vec<&str> = earlier.iter().map(String::as_str).collect();
        CrisisDetector::assess(self, message, &earlier)
    }
}

/// The only trace a crisis answer leaves: a count per UTC day.
#[cfg_attr(test, mockall::automock)]
pub trait SafetyCounter: Send + Sync + 'static {
    fn count_crisis(&self, day: i64) -> impl Future<Output = StoreResult<()>> + Send;
    /// Total crisis answers on days `>= since_day`.
    fn crisis_total(&self, since_day: i64) -> impl Future<Output = StoreResult<u64>> + Send;
}

/// Where safety plans live (one per person).
#[cfg_attr(test, mockall::automock)]
pub trait SafetyPlanStore: Send + Sync + 'static {
    fn safety_plan(
        &self,
        user: UserId,
    ) -> impl Future<Output = StoreResult<Option<SealedSafetyPlan>>> + Send;
    /// Creates or replaces the person's plan.
    fn put_safety_plan(
        &self,
        plan: &SealedSafetyPlan,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// Really deletes it; `true` if there was one.
    fn delete_safety_plan(&self, user: UserId) -> impl Future<Output = StoreResult<bool>> + Send;
}
