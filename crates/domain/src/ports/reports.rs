//! What the monthly usage reports read and where they are kept.

use super::StoreResult;
use crate::{CompanyId, Period, Role, UserId};
use std::collections::HashMap;
use std::future::Future;

/// One person's line in a company's usage report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub user_id: UserId,
    pub email: String,
    pub display_name: String,
    pub role: Role,
}

/// A company and its members, in user-id order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompanyMembers {
    pub company_id: CompanyId,
    pub people: Vec<Member>,
}

/// What the monthly reports read. The usage of a month comes in one read and the members in
/// batches of companies, joined in memory: looking each member's counter up in the database cost
/// one index probe per person, which dominated the rollover at a million people.
#[cfg_attr(test, mockall::automock)]
pub trait UsageReports: Send + Sync + 'static {
    /// Tokens each person used in `period`, summed over every counter whose period starts
    /// within it (the calendar month, or a billing period that began in it). People without a
    /// counter in it are absent.
    fn usage_by_person(
        &self,
        period: Period,
    ) -> impl Future<Output = StoreResult<HashMap<UserId, u64>>> + Send;
    /// Up to `limit` companies with an id above `after`, in id order (so a job can resume after
    /// the last company it finished), each with its members.
    fn company_members(
        &self,
        after: Option<CompanyId>,
        limit: u64,
    ) -> impl Future<Output = StoreResult<Vec<CompanyMembers>>> + Send;
}

/// Where the finished usage reports (CSV) are kept and served from.
#[cfg_attr(test, mockall::automock)]
pub trait ReportArchive: Send + Sync + 'static {
    /// Stores each company's report for `period`; an identical report already stored is left
    /// untouched. Returns how many reports were new or changed.
    fn put_reports(
        &self,
        period: Period,
        reports: Vec<(CompanyId, Vec<u8>)>,
    ) -> impl Future<Output = StoreResult<u64>> + Send;
    fn get_report(
        &self,
        company: CompanyId,
        period: Period,
    ) -> impl Future<Output = StoreResult<Option<Vec<u8>>>> + Send;
    /// Labels (`2026-03`) of the company's stored reports, newest first.
    fn list_reports(
        &self,
        company: CompanyId,
    ) -> impl Future<Output = StoreResult<Vec<String>>> + Send;
}
