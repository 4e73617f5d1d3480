//! Small stores of the scheduler and the server: job leases ([`domain::ports::JobLeases`]),
//! the daily crisis count ([`domain::ports::SafetyCounter`]) and write-once values
//! ([`domain::ports::KeyValue`]).

/// Implements the job-lease, crisis-counter and key-value stores for `$store` (see
/// [`crate::impl_sql_stores!`]).
#[doc(hidden)]
#[macro_export]
macro_rules! impl_job_stores {
    ($store:ty) => {
        const _: () = {
            use domain::ports::*;
            use $crate::db_err;
            use $crate::reexports::diesel;
            use $crate::reexports::diesel::prelude::*;
            use $crate::reexports::diesel_async::RunQueryDsl;
            use $crate::reexports::domain;
            use $crate::rows::*;
            use $crate::schema::*;

            impl JobLeases for $store {
                async fn acquire_lease(
                    &self,
                    job: &str,
                    holder: &str,
                    now: chrono::DateTime<chrono::Utc>,
                    ttl: chrono::Duration,
                ) -> StoreResult<Option<String>> {
                    let mut conn = self.conn().await?;
                    let expires = millis(now + ttl);
                    let inserted = diesel::insert_or_ignore_into(job_leases::table)
                        .values((
                            job_leases::job.eq(job),
                            job_leases::holder.eq(holder),
                            job_leases::expires_at.eq(expires),
                            job_leases::progress.eq(""),
                        ))
                        .execute(&mut *conn)
                        .await
                        .map_err(db_err)?;
                    if inserted == 1 {
                        return Ok(Some(String::new()));
                    }
                    // Ours already, or its holder stopped renewing it: take it over.
                    let taken = diesel::update(
                        job_leases::table.filter(job_leases::job.eq(job)).filter(
                            job_leases::holder
                                .eq(holder)
                                .or(job_leases::expires_at.lt(millis(now))),
                        ),
                    )
                    .set((
                        job_leases::holder.eq(holder),
                        job_leases::expires_at.eq(expires),
                    ))
                    .execute(&mut *conn)
                    .await
                    .map_err(db_err)?;
                    if taken == 0 {
                        return Ok(None);
                    }
                    let cursor = job_leases::table
                        .find(job)
                        .select(job_leases::progress)
                        .first::<String>(&mut *conn)
                        .await
                        .map_err(db_err)?;
                    Ok(Some(cursor))
                }

                async fn save_progress(
                    &self,
                    job: &str,
                    holder: &str,
                    cursor: &str,
                    now: chrono::DateTime<chrono::Utc>,
                    ttl: chrono::Duration,
                ) -> StoreResult<bool> {
                    let mut conn = self.conn().await?;
                    let n = diesel::update(
                        job_leases::table
                            .filter(job_leases::job.eq(job))
                            .filter(job_leases::holder.eq(holder)),
                    )
                    .set((
                        job_leases::progress.eq(cursor),
                        job_leases::expires_at.eq(millis(now + ttl)),
                    ))
                    .execute(&mut *conn)
                    .await
                    .map_err(db_err)?;
                    Ok(n == 1)
                }

                async fn release_lease(&self, job: &str, holder: &str) -> StoreResult<()> {
                    let mut conn = self.conn().await?;
                    diesel::update(
                        job_leases::table
                            .filter(job_leases::job.eq(job))
                            .filter(job_leases::holder.eq(holder)),
                    )
                    .set(job_leases::expires_at.eq(0_i64))
                    .execute(&mut *conn)
                    .await
                    .map_err(db_err)?;
                    Ok(())
                }
            }

            impl SafetyCounter for $store {
                async fn count_crisis(&self, day: i64) -> StoreResult<()> {
                    let mut conn = self.conn().await?;
                    diesel::insert_or_ignore_into(safety_events::table)
                        .values((safety_events::day.eq(day), safety_events::count.eq(0_i64)))
                        .execute(&mut *conn)
                        .await
                        .map_err(db_err)?;
                    diesel::update(safety_events::table.find(day))
                        .set(safety_events::count.eq(safety_events::count + 1_i64))
                        .execute(&mut *conn)
                        .await
                        .map_err(db_err)?;
                    Ok(())
                }

                async fn crisis_total(&self, since_day: i64) -> StoreResult<u64> {
                    let mut conn = self.conn().await?;
                    // Summed here: SUM(BIGINT) is DECIMAL on MySQL, and there is one row a day.
                    let counts: Vec<i64> = safety_events::table
                        .filter(safety_events::day.ge(since_day))
                        .select(safety_events::count)
                        .load(&mut *conn)
                        .await
                        .map_err(db_err)?;
                    Ok(counts.into_iter().map(to_u64).sum())
                }
            }

            impl KeyValue for $store {
                async fn get_value(&self, name: &str) -> StoreResult<Option<Vec<u8>>> {
                    let mut conn = self.conn().await?;
                    kv::table
                        .find(name)
                        .select(kv::value)
                        .first::<Vec<u8>>(&mut *conn)
                        .await
                        .optional()
                        .map_err(db_err)
                }

                async fn put_value_once(&self, name: &str, value: &[u8]) -> StoreResult<bool> {
                    let mut conn = self.conn().await?;
                    let n = diesel::insert_or_ignore_into(kv::table)
                        .values((kv::name.eq(name), kv::value.eq(value)))
                        .execute(&mut *conn)
                        .await
                        .map_err(db_err)?;
                    Ok(n == 1)
                }
            }
        };
    };
}
