//! # scheduler
//!
//! Jobs that keep the system tidy. None of them is needed to enforce limits: usage is keyed by
//! period (a new month starts fresh whether or not anything runs) and an expired reservation is
//! reclaimed safely whenever the job gets to it.
//!
//! Every job runs under a lease in the database (`JobLeases`), so two schedulers never run the
//! same job at once and a crashed holder is taken over once its lease expires. Long jobs save a
//! cursor as they go, so a run that takes over resumes where the dead one stopped.

mod lease;
pub mod reports;
pub mod schedule;

use chrono::Duration;
use domain::ports::{
    Clock, InvitationStore, JobLeases, KeyValue, ReportArchive, SessionStore, StoreError,
    UsageLedger, UsageReports,
};
use lease::Lease;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Job {
    /// Close the month that just ended: write each company's final usage report, mark it closed.
    /// Its name on the command line and in the schedule is `rollover`, as operators know it.
    #[value(name = "rollover", alias = "close-month")]
    CloseMonth,
    /// Release token reservations whose lease expired (a server crashed mid-turn).
    Reclaim,
    /// Delete expired sessions and invitations.
    Purge,
    /// Refresh the running month's usage reports, and last month's while a billing period that
    /// began in it may still run.
    Report,
}

impl Job {
    pub const ALL: [Job; 4] = [Job::CloseMonth, Job::Reclaim, Job::Purge, Job::Report];

    /// The job's name in logs and in its database lease.
    pub fn name(self) -> &'static str {
        match self {
            Job::CloseMonth => "rollover",
            Job::Reclaim => "reclaim",
            Job::Purge => "purge",
            Job::Report => "report",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("storage unavailable: {0}")]
    Storage(#[from] StoreError),
    #[error("ledger unavailable: {0}")]
    Ledger(#[from] domain::budget::LedgerError),
    /// Another scheduler took the lease over (ours expired); it carries on from our cursor.
    #[error("lease of job `{0}` lost to another scheduler")]
    LeaseLost(&'static str),
}

/// What a run did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The job ran; `changed` counts what it changed (0: nothing was left to do).
    Ran { changed: u64 },
    /// Another scheduler holds the job's lease: it is running the job now.
    Busy,
}

/// Who this scheduler is and how it paces its work.
#[derive(Debug, Clone)]
pub struct Context {
    /// Unique per process (host, pid, random), stored as the lease holder.
    pub holder: String,
    /// How long the lease lasts without a renewal before another scheduler may take it over.
    pub lease_ttl: Duration,
    /// Companies per step of a report run; the cursor is saved (and the lease renewed) after each.
    pub batch_size: u64,
}

impl Context {
    pub const DEFAULT_BATCH: u64 = 500;

    /// The longest lease: a dead scheduler's job waits at most this long for a takeover, and
    /// larger settings would overflow the lease's expiry time.
    pub const MAX_LEASE_SECONDS: u64 = 86_400;

    pub fn new(holder: impl Into<String>, lease_seconds: u64) -> Context {
        let seconds = lease_seconds.clamp(1, Context::MAX_LEASE_SECONDS);
        Context {
            holder: holder.into(),
            lease_ttl: Duration::seconds(i64::try_from(seconds).unwrap_or(1)),
            batch_size: Context::DEFAULT_BATCH,
        }
    }
}

/// Everything a job reads or writes: the full store plus the report queries.
pub trait JobStore:
    UsageLedger + SessionStore + InvitationStore + JobLeases + KeyValue + UsageReports
{
}

impl<T> JobStore for T where
    T: UsageLedger + SessionStore + InvitationStore + JobLeases + KeyValue + UsageReports
{
}

/// Runs `job` once under its lease.
pub async fn run_job<S, A, C>(
    store: &S,
    archive: &A,
    clock: &C,
    ctx: &Context,
    job: Job,
) -> Result<Outcome, JobError>
where
    S: JobStore,
    A: ReportArchive,
    C: Clock + ?Sized,
{
    match job {
        Job::CloseMonth => reports::rollover(store, archive, clock, ctx).await,
        Job::Report => reports::refresh(store, archive, clock, ctx).await,
        Job::Reclaim | Job::Purge => {
            let Some((lease, _)) = Lease::acquire(store, job.name(), ctx, clock.now()).await?
            else {
                return Ok(Outcome::Busy);
            };
            let now = clock.now();
            let result = match job {
                Job::Reclaim => store.reclaim_expired(now).await.map_err(JobError::from),
                _ => purge(store, now).await,
            };
            lease.release().await;
            result.map(|changed| Outcome::Ran { changed })
        }
    }
}

async fn purge<S: SessionStore + InvitationStore>(
    store: &S,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<u64, JobError> {
    Ok(store.purge_expired_sessions(now).await? + store.purge_expired_invitations(now).await?)
}
