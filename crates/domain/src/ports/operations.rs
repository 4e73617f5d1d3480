//! What running the service needs from storage: readiness, job leases, named values.

use super::StoreResult;
use chrono::{DateTime, Utc};
use std::future::Future;

/// Whether the storage answers, for `/readyz`.
#[cfg_attr(test, mockall::automock)]
pub trait Readiness: Send + Sync + 'static {
    fn ping(&self) -> impl Future<Output = StoreResult<()>> + Send;
}

/// Who runs a scheduled job: a lease in the database that one holder has until it expires, so two
/// schedulers never run the same job at once and a crashed holder is taken over.
#[cfg_attr(test, mockall::automock)]
pub trait JobLeases: Send + Sync + 'static {
    /// Takes the lease if free, expired, or already ours. Returns the saved cursor (progress of
    /// an unfinished run, empty when none) when taken, `None` when someone else holds it.
    fn acquire_lease(
        &self,
        job: &str,
        holder: &str,
        now: DateTime<Utc>,
        ttl: chrono::Duration,
    ) -> impl Future<Output = StoreResult<Option<String>>> + Send;
    /// Saves progress and extends the lease; `false` if the lease was lost (stop working).
    fn save_progress(
        &self,
        job: &str,
        holder: &str,
        cursor: &str,
        now: DateTime<Utc>,
        ttl: chrono::Duration,
    ) -> impl Future<Output = StoreResult<bool>> + Send;
    /// Ends our lease (keeping the cursor) so another scheduler may run the job at once.
    fn release_lease(
        &self,
        job: &str,
        holder: &str,
    ) -> impl Future<Output = StoreResult<()>> + Send;
}

/// Small named values kept with the data (e.g. the encryption-key canary).
#[cfg_attr(test, mockall::automock)]
pub trait KeyValue: Send + Sync + 'static {
    fn get_value(&self, name: &str) -> impl Future<Output = StoreResult<Option<Vec<u8>>>> + Send;
    /// Stores `value` unless the name exists; returns whether it was stored.
    fn put_value_once(
        &self,
        name: &str,
        value: &[u8],
    ) -> impl Future<Output = StoreResult<bool>> + Send;
}
