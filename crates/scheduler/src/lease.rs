//! A job's lease in the database, held while the job runs.

use crate::{Context, JobError};
use chrono::{DateTime, Duration, Utc};
use domain::ports::JobLeases;

pub(crate) struct Lease<'a, S: JobLeases> {
    store: &'a S,
    job: &'static str,
    holder: &'a str,
    ttl: Duration,
}

impl<'a, S: JobLeases> Lease<'a, S> {
    /// Takes the job's lease, with the cursor a previous holder saved; `None` when another
    /// scheduler holds it.
    pub(crate) async fn acquire(
        store: &'a S,
        job: &'static str,
        ctx: &'a Context,
        now: DateTime<Utc>,
    ) -> Result<Option<(Lease<'a, S>, String)>, JobError> {
        let taken = store
            .acquire_lease(job, &ctx.holder, now, ctx.lease_ttl)
            .await?;
        Ok(taken.map(|cursor| {
            let lease = Lease {
                store,
                job,
                holder: &ctx.holder,
                ttl: ctx.lease_ttl,
            };
            (lease, cursor)
        }))
    }

    /// Saves progress and renews the lease; fails when another scheduler took it over.
    pub(crate) async fn save(&self, cursor: &str, now: DateTime<Utc>) -> Result<(), JobError> {
        if self
            .store
            .save_progress(self.job, self.holder, cursor, now, self.ttl)
            .await?
        {
            Ok(())
        } else {
            Err(JobError::LeaseLost(self.job))
        }
    }

    /// Lets another scheduler run the job at once (the cursor stays). A failure only delays
    /// that until the lease expires, so it is logged, not returned.
    pub(crate) async fn release(self) {
        if let Err(e) = self.store.release_lease(self.job, self.holder).await {
            tracing::warn!(job = self.job, error = %e, "lease not released; it will expire");
        }
    }
}
