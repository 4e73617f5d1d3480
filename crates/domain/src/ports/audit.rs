//! The audit trail.

use super::StoreResult;
use crate::audit::AuditEntry;
use std::future::Future;

#[cfg_attr(test, mockall::automock)]
pub trait AuditLog: Send + Sync + 'static {
    fn record(&self, entry: &AuditEntry) -> impl Future<Output = StoreResult<()>> + Send;
    /// Newest first.
    fn recent(
        &self,
        offset: u64,
        limit: u64,
    ) -> impl Future<Output = StoreResult<Vec<AuditEntry>>> + Send;
}
