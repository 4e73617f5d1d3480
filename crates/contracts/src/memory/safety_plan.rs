//! The in-memory fake of the safety-plan store: a child of `memory` so a plan goes with its
//! person, as the foreign key makes it in SQL.

use super::MemoryStore;
use domain::UserId;
use domain::ports::{SafetyPlanStore, StoreResult};
use domain::safety_plan::SealedSafetyPlan;

impl SafetyPlanStore for MemoryStore {
    async fn safety_plan(&self, user: UserId) -> StoreResult<Option<SealedSafetyPlan>> {
        Ok(self.state().safety_plans.get(&user).cloned())
    }

    async fn put_safety_plan(&self, plan: &SealedSafetyPlan) -> StoreResult<()> {
        self.state().safety_plans.insert(plan.user_id, plan.clone());
        Ok(())
    }

    async fn delete_safety_plan(&self, user: UserId) -> StoreResult<bool> {
        Ok(self.state().safety_plans.remove(&user).is_some())
    }
}
