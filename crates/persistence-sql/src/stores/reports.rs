//! What the scheduler's usage reports read: [`domain::ports::UsageReports`].

use crate::rows::to_u64;
use domain::budget::Subject;
use domain::ports::{CompanyMembers, Member, StoreError, StoreResult};
use domain::{CompanyId, Role, UserId};
use std::collections::HashMap;

/// Adds a counter's `used` tokens to its person's usage; company counters are skipped. Several
/// counters of one person in the month (billing periods) are summed.
pub fn add_person_usage(usage: &mut HashMap<UserId, u64>, subject: &str, used: i64) {
    if let Some(Subject::User(id)) = Subject::parse_key(subject) {
        *usage.entry(id).or_default() += to_u64(used);
    }
}

/// The members of the companies `ids` (ascending), from `(company_id, id, email,
/// display_name, role)` rows in the same order. A row of a company not in `ids` (created after
/// they were read) is left for the next run.
pub fn members_by_company(
    ids: &[i64],
    rows: Vec<(Option<i64>, i64, String, String, String)>,
) -> StoreResult<Vec<CompanyMembers>> {
    let mut out: Vec<CompanyMembers> = ids
        .iter()
        .map(|&id| CompanyMembers {
            company_id: CompanyId(id),
            people: Vec::new(),
        })
        .collect();
    let mut slot = 0;
    for (company_id, user_id, email, display_name, role) in rows {
        let Some(company_id) = company_id else {
            continue;
        };
        while out.get(slot).is_some_and(|c| c.company_id.0 < company_id) {
            slot += 1;
        }
        // A company created after the id query above: left for the next run.
        let Some(company) = out.get_mut(slot).filter(|c| c.company_id.0 == company_id) else {
            continue;
        };
        company.people.push(Member {
            user_id: UserId(user_id),
            role: Role::parse(&role)
                .ok_or_else(|| StoreError::Unavailable(format!("unknown role {role}")))?,
            email,
            display_name,
        });
    }
    Ok(out)
}

/// Implements [`domain::ports::UsageReports`] for `$store` (see [`crate::impl_sql_stores!`]).
#[doc(hidden)]
#[macro_export]
macro_rules! impl_usage_reports {
    ($store:ty) => {
        const _: () = {
            use domain::budget::*;
            use domain::ports::*;
            use domain::*;
            use $crate::db_err;
            use $crate::reexports::diesel;
            use $crate::reexports::diesel::prelude::*;
            use $crate::reexports::diesel_async::RunQueryDsl;
            use $crate::reexports::domain;
            use $crate::rows::*;
            use $crate::schema::*;
            use $crate::stores::reports::{add_person_usage, members_by_company};

            impl UsageReports for $store {
                async fn usage_by_person(
                    &self,
                    period: Period,
                ) -> StoreResult<std::collections::HashMap<UserId, u64>> {
                    use $crate::reexports::futures::TryStreamExt;
                    let mut conn = self.conn().await?;
                    // One range scan of the index on (period_key, subject, used), streamed.
                    // Company counters are skipped here, not in SQL: a filter on `subject`
                    // makes MySQL scan the primary key, every month of history included.
                    let rows = usage_counters::table
                        .filter(usage_counters::period_key.ge(period.key()))
                        .filter(usage_counters::period_key.lt(period.end.timestamp()))
                        .select((usage_counters::subject, usage_counters::used))
                        .load_stream::<(String, i64)>(&mut *conn)
                        .await
                        .map_err(db_err)?;
                    rows.map_err(db_err)
                        .try_fold(
                            std::collections::HashMap::new(),
                            async |mut usage, (subject, used)| {
                                add_person_usage(&mut usage, &subject, used);
                                Ok(usage)
                            },
                        )
                        .await
                }

                async fn company_members(
                    &self,
                    after: Option<CompanyId>,
                    limit: u64,
                ) -> StoreResult<Vec<CompanyMembers>> {
                    let mut conn = self.conn().await?;
                    let ids: Vec<i64> = companies::table
                        .filter(companies::id.gt(after.map_or(i64::MIN, |c| c.0)))
                        .select(companies::id)
                        .order(companies::id.asc())
                        .limit(to_i64(limit.max(1)))
                        .load(&mut *conn)
                        .await
                        .map_err(db_err)?;
                    // `as_slice`: diesel's `RunQueryDsl::first` would shadow the slice's.
                    let (Some(&first), Some(&last)) = (ids.as_slice().first(), ids.last()) else {
                        return Ok(Vec::new());
                    };
                    // Read from the index on (company_id, id, email, display_name, role) alone,
                    // already in report order.
                    let rows: Vec<(Option<i64>, i64, String, String, String)> = users::table
                        .filter(users::company_id.ge(first))
                        .filter(users::company_id.le(last))
                        .select((
                            users::company_id,
                            users::id,
                            users::email,
                            users::display_name,
                            users::role,
                        ))
                        .order((users::company_id.asc(), users::id.asc()))
                        .load(&mut *conn)
                        .await
                        .map_err(db_err)?;
                    members_by_company(&ids, rows)
                }
            }
        };
    };
}
