//! The safety-plan store, written once for both backends like [`crate::impl_sql_stores!`]. A
//! plan is one sealed row per person; the database deletes it with the person (the foreign key
//! cascades), so `delete_user` and `delete_company` need not know about plans.

use crate::rows::{from_millis, millis};
use crate::schema::safety_plans;
use diesel::prelude::*;
use domain::UserId;
use domain::safety_plan::SealedSafetyPlan;

#[derive(Queryable, Selectable, Insertable, Debug, Clone)]
#[diesel(table_name = safety_plans)]
pub struct SafetyPlanRow {
    pub user_id: i64,
    pub sealed: Vec<u8>,
    pub updated_at: i64,
}

impl From<&SealedSafetyPlan> for SafetyPlanRow {
    fn from(p: &SealedSafetyPlan) -> Self {
        SafetyPlanRow {
            user_id: p.user_id.0,
            sealed: p.sealed.clone(),
            updated_at: millis(p.updated_at),
        }
    }
}

impl From<SafetyPlanRow> for SealedSafetyPlan {
    fn from(r: SafetyPlanRow) -> Self {
        SealedSafetyPlan {
            user_id: UserId(r.user_id),
            sealed: r.sealed,
            updated_at: from_millis(r.updated_at),
        }
    }
}

/// Implements [`domain::ports::SafetyPlanStore`] for `$store` (the store type of
/// [`crate::impl_sql_stores!`]).
#[macro_export]
macro_rules! impl_safety_plan_store {
    ($store:ty) => {
        const _: () = {
            use domain::UserId;
            use domain::ports::SafetyPlanStore;
            use domain::ports::StoreResult;
            use domain::safety_plan::SealedSafetyPlan;
            use $crate::db_err;
            use $crate::reexports::diesel;
            use $crate::reexports::diesel::prelude::*;
            use $crate::reexports::diesel_async::RunQueryDsl;
            use $crate::reexports::domain;
            use $crate::safety_plans::SafetyPlanRow;
            use $crate::schema::safety_plans;

            impl SafetyPlanStore for $store {
                async fn safety_plan(&self, user: UserId) -> StoreResult<Option<SealedSafetyPlan>> {
                    let mut conn = self.conn().await?;
                    let row = safety_plans::table
                        .find(user.0)
                        .select(SafetyPlanRow::as_select())
                        .first(&mut *conn)
                        .await
                        .optional()
                        .map_err(db_err)?;
                    Ok(row.map(SealedSafetyPlan::from))
                }

                async fn put_safety_plan(&self, plan: &SealedSafetyPlan) -> StoreResult<()> {
                    let mut conn = self.conn().await?;
                    // `REPLACE INTO` on both backends: one statement creates or replaces.
                    diesel::replace_into(safety_plans::table)
                        .values(SafetyPlanRow::from(plan))
                        .execute(&mut *conn)
                        .await
                        .map_err(db_err)?;
                    Ok(())
                }

                async fn delete_safety_plan(&self, user: UserId) -> StoreResult<bool> {
                    let mut conn = self.conn().await?;
                    let n = diesel::delete(safety_plans::table.find(user.0))
                        .execute(&mut *conn)
                        .await
                        .map_err(db_err)?;
                    Ok(n > 0)
                }
            }
        };
    };
}
