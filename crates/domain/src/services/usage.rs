//! One place for "how much is left": every page and API answer that shows usage asks this
//! service, which reads the time from the `Clock` port (so tests and the server agree on the
//! period) and decides which budgets apply with the rules of `budgets.rs`.

use super::budgets::{
    BudgetError, CompanyUsage, allowance_period, company_pools, company_usage, usage_summary,
};
use crate::budget::UsageSummary;
use crate::plan::PlanCatalog;
use crate::ports::{Clock, CompanyStore, UsageLedger};
use crate::{Company, Period, User};
use std::sync::Arc;

/// A person's usage this period, with the company whose pool they draw on (if any).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonUsage {
    pub summary: UsageSummary,
    pub period: Period,
    pub company: Option<Company>,
}

pub struct BudgetService<S, C> {
    pub store: Arc<S>,
    pub clock: Arc<C>,
    pub catalog: Arc<PlanCatalog>,
}

impl<S, C> Clone for BudgetService<S, C> {
    fn clone(&self) -> Self {
        BudgetService {
            store: self.store.clone(),
            clock: self.clock.clone(),
            catalog: self.catalog.clone(),
        }
    }
}

impl<S: CompanyStore + UsageLedger, C: Clock> BudgetService<S, C> {
    /// What `user` has used and has left in the current period.
    pub async fn usage(&self, user: &User) -> Result<PersonUsage, BudgetError> {
        let now = self.clock.now();
        let company = match user.company_budget() {
            Some(id) => self.store.company_by_id(id).await?,
            None => None,
        };
        let summary = usage_summary(
            self.store.as_ref(),
            &self.catalog,
            user,
            company.as_ref(),
            now,
        )
        .await?;
        Ok(PersonUsage {
            summary,
            period: allowance_period(user, company.as_ref(), now),
            company,
        })
    }

    /// A company's pool and each member's share of it, this period.
    pub async fn company(
        &self,
        company: &Company,
        members: &[User],
    ) -> Result<CompanyUsage, BudgetError> {
        company_usage(
            self.store.as_ref(),
            &self.catalog,
            company,
            members,
            self.clock.now(),
        )
        .await
    }

    /// Each company's pool this period, in the order given.
    pub async fn pools(&self, companies: &[Company]) -> Result<Vec<UsageSummary>, BudgetError> {
        company_pools(
            self.store.as_ref(),
            &self.catalog,
            companies,
            self.clock.now(),
        )
        .await
    }
}
