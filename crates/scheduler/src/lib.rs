//! # scheduler
//!
//! Jobs that keep the system tidy. None of them is needed for correctness: usage is keyed by
//! period (a new month starts fresh whether or not anything runs) and an expired lease never
//! blocks a turn for long, because reclaiming it is also safe to do late.

use chrono::{DateTime, Utc};
use domain::budget::UsageLedger;
use domain::ports::{InvitationStore, SessionStore, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Job {
    /// Release token reservations whose lease expired (a server crashed mid-turn).
    Reclaim,
    /// Delete expired sessions and invitations.
    Purge,
}

#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("storage unavailable: {0}")]
    Storage(#[from] StoreError),
    #[error("ledger unavailable: {0}")]
    Ledger(#[from] domain::budget::LedgerError),
}

/// What a job run did, for logs and exit status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobReport {
    pub job: Job,
    pub changed: u64,
}

pub async fn run_job<S>(store: &S, job: Job, now: DateTime<Utc>) -> Result<JobReport, JobError>
where
    S: UsageLedger + SessionStore + InvitationStore,
{
    let changed = match job {
        Job::Reclaim => store.reclaim_expired(now).await?,
        Job::Purge => {
            store.purge_expired_sessions(now).await? + store.purge_expired_invitations(now).await?
        }
    };
    Ok(JobReport { job, changed })
}
