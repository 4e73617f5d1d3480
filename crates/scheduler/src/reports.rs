//! The report jobs: `rollover` closes the month that just ended (its reports, then the month is
//! marked closed), `report` refreshes the reports of the running month, and of last month while
//! a billing period that began in it may still run.
//!
//! Neither resets anything: counters are keyed by period, so the new month's allowance is fresh
//! the moment the clock crosses the boundary, and purchased top-ups are separate balances that
//! no job touches. A Stripe-billed subscription's period starts on its invoice date, so its
//! counter carries on across the calendar boundary, and the month it began in keeps being
//! refreshed by `report` until it ends. Old counter rows are kept (one row per person per
//! month): they are the usage history pages read, and deleting them would make the rollover
//! rewrite rows for no gain.

use crate::lease::Lease;
use crate::{Context, JobError, JobStore, Outcome};
use chrono::Duration;
use domain::ports::{Clock, CompanyMembers, ReportArchive, StoreError};
use domain::services::reports::render_csv;
use domain::{CompanyId, Period, UserId};
use std::collections::HashMap;
use std::sync::Arc;

/// The calendar month before the one containing `now`: what a rollover at `now` closes.
pub fn previous_month(now: chrono::DateTime<chrono::Utc>) -> Period {
    Period::calendar_month(Period::calendar_month(now).start - Duration::seconds(1))
}

/// The months whose reports may still change at `now`, oldest first. A month's report counts the
/// allowance periods that began in it; a calendar month ends with it, but a Stripe-billed one
/// begins on its invoice date and runs up to 31 days (`Period::current`), into the next month.
/// With one day of slack for a daily job, every month that began up to 32 days ago qualifies.
pub fn months_with_running_periods(now: chrono::DateTime<chrono::Utc>) -> Vec<Period> {
    let mut month = Period::calendar_month(now - Duration::days(32));
    let mut months = vec![month];
    while !month.contains(now) {
        month = Period::calendar_month(month.end);
        months.push(month);
    }
    months
}

/// The key-value entry that records a month as closed.
pub fn closed_marker(period: &Period) -> String {
    format!("period_closed:{}", period.label())
}

pub(crate) async fn rollover<S, A, C>(
    store: &S,
    archive: &A,
    clock: &C,
    ctx: &Context,
) -> Result<Outcome, JobError>
where
    S: JobStore,
    A: ReportArchive,
    C: Clock + ?Sized,
{
    let period = previous_month(clock.now());
    let marker = closed_marker(&period);
    // A closed month costs one read: this is all a repeated run does.
    if store.get_value(&marker).await?.is_some() {
        return Ok(Outcome::Ran { changed: 0 });
    }
    let Some((lease, cursor)) = Lease::acquire(store, "rollover", ctx, clock.now()).await? else {
        return Ok(Outcome::Busy);
    };
    let result = async {
        // The scheduler that held the lease until just now may have finished the month.
        if store.get_value(&marker).await?.is_some() {
            return Ok(0);
        }
        let changed = write_reports(store, archive, clock, ctx, &lease, period, &cursor).await?;
        let closed_at = clock.now().to_rfc3339();
        store.put_value_once(&marker, closed_at.as_bytes()).await?;
        lease.save("", clock.now()).await?;
        tracing::info!(month = %period.label(), reports = changed, "month closed");
        Ok(changed)
    }
    .await;
    lease.release().await;
    result.map(|changed| Outcome::Ran { changed })
}

pub(crate) async fn refresh<S, A, C>(
    store: &S,
    archive: &A,
    clock: &C,
    ctx: &Context,
) -> Result<Outcome, JobError>
where
    S: JobStore,
    A: ReportArchive,
    C: Clock + ?Sized,
{
    let periods = months_with_running_periods(clock.now());
    let Some((lease, cursor)) = Lease::acquire(store, "report", ctx, clock.now()).await? else {
        return Ok(Outcome::Busy);
    };
    let result = async {
        let mut changed = 0;
        for period in periods {
            changed += write_reports(store, archive, clock, ctx, &lease, period, &cursor).await?;
        }
        // The next refresh starts again from the first company.
        lease.save("", clock.now()).await?;
        Ok(changed)
    }
    .await;
    lease.release().await;
    result.map(|changed| Outcome::Ran { changed })
}

/// Writes every company's report for `period`, in company-id order from the cursor on, saving
/// the cursor (`2026-03/<last company id>`) after each batch. Returns how many reports changed.
///
/// The month's usage is read once, up front, and joined in memory with each batch of members
/// (one entry per person who used tokens). A run that takes over reads it again: a resumed run
/// is as correct as a fresh one, only its first read is repeated.
async fn write_reports<S, A, C>(
    store: &S,
    archive: &A,
    clock: &C,
    ctx: &Context,
    lease: &Lease<'_, S>,
    period: Period,
    cursor: &str,
) -> Result<u64, JobError>
where
    S: JobStore,
    A: ReportArchive,
    C: Clock + ?Sized,
{
    let label = period.label();
    let after = resume_after(cursor, &label);
    if let Some(company) = after {
        tracing::info!(month = %label, after = %company, "resuming an unfinished run");
    }
    let (usage, first) = tokio::join!(
        store.usage_by_person(period),
        store.company_members(after, ctx.batch_size)
    );
    let usage = Arc::new(usage?);
    let mut batch = first?;
    // Three batches at once: the one rendered last is written (then its cursor saved) while the
    // next is rendered on the blocking pool and the one after is read.
    let mut rendered: Option<(CompanyId, Reports)> = None;
    let mut changed = 0;
    loop {
        let last = batch.last().map(|c| c.company_id);
        let full = batch.len() as u64 >= ctx.batch_size;
        let read = async {
            match last {
                Some(last) if full => Ok(store.company_members(Some(last), ctx.batch_size).await?),
                _ => Ok(Vec::new()),
            }
        };
        let write = async {
            let Some((last, files)) = rendered else {
                return Ok(0);
            };
            let written = archive.put_reports(period, files).await?;
            lease.save(&format!("{label}/{last}"), clock.now()).await?;
            Ok(written)
        };
        let (written, files, next) = tokio::try_join!(write, render(batch, usage.clone()), read)?;
        changed += written;
        let Some(last) = last else {
            break;
        };
        rendered = Some((last, files));
        batch = next;
    }
    Ok(changed)
}

/// A batch's CSV files by company, as `ReportArchive::put_reports` takes them.
type Reports = Vec<(CompanyId, Vec<u8>)>;

/// Each company's CSV, rendered on the blocking pool (a batch takes tens of milliseconds).
async fn render(
    batch: Vec<CompanyMembers>,
    usage: Arc<HashMap<UserId, u64>>,
) -> Result<Reports, JobError> {
    if batch.is_empty() {
        return Ok(Vec::new());
    }
    let files = tokio::task::spawn_blocking(move || {
        batch
            .iter()
            .map(|company| (company.company_id, render_csv(company, &usage)))
            .collect()
    })
    .await
    .map_err(|e| StoreError::Unavailable(format!("rendering reports: {e}")))?;
    Ok(files)
}

/// The last company a run for `label` finished, from a saved cursor. A cursor of another month
/// (a run that never finished and whose month is over) is ignored.
fn resume_after(cursor: &str, label: &str) -> Option<CompanyId> {
    let (month, company) = cursor.split_once('/')?;
    if month != label {
        return None;
    }
    company.parse().ok().map(CompanyId)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    #[test]
    fn previous_month_of_the_first_instant_of_april_is_march() {
        let april = Utc.with_ymd_and_hms(2026, 4, 1, 0, 0, 0).unwrap();
        assert_eq!(previous_month(april).label(), "2026-03");
        let january = Utc.with_ymd_and_hms(2027, 1, 31, 23, 59, 59).unwrap();
        assert_eq!(previous_month(january).label(), "2026-12");
    }

    #[test]
    fn last_month_is_refreshed_while_a_period_begun_in_it_may_run() {
        let labels = |at| {
            months_with_running_periods(at)
                .iter()
                .map(Period::label)
                .collect::<Vec<_>>()
        };
        // A period begun on March 31 ends on April 30: the run of May 1 still sees it end.
        let may_1 = Utc.with_ymd_and_hms(2026, 5, 1, 3, 0, 0).unwrap();
        assert_eq!(labels(may_1), ["2026-03", "2026-04", "2026-05"]);
        let may_20 = Utc.with_ymd_and_hms(2026, 5, 20, 3, 0, 0).unwrap();
        assert_eq!(labels(may_20), ["2026-04", "2026-05"]);
    }

    #[test]
    fn cursor_resumes_only_its_own_month() {
        assert_eq!(resume_after("2026-03/42", "2026-03"), Some(CompanyId(42)));
        assert_eq!(resume_after("2026-02/42", "2026-03"), None);
        assert_eq!(resume_after("", "2026-03"), None);
        assert_eq!(resume_after("2026-03/x", "2026-03"), None);
    }
}
