//! The monthly usage reports the scheduler writes (one CSV per company and month): listed on the
//! manager page, downloaded from `/manager/reports/2026-03.csv?company=ID`. Who may have which
//! report is the `ReportService`'s decision (the admin any company's, a manager their own).

use super::*;
use crate::routes::reports::csv_attachment;
use axum::extract::{Path, Query, State};
use domain::CompanyId;
use domain::services::reports::report_month;

#[derive(serde::Deserialize)]
pub struct ReportQuery {
    company: Option<i64>,
}

/// The company asked for, else the signed-in person's own. Not narrowed to their own company
/// here: another company's id must be refused by the service, not silently swapped.
fn company_asked(signed: &SignedIn, asked: Option<i64>) -> Option<CompanyId> {
    asked.map(CompanyId).or(signed.user.company_id)
}

/// Months with a report for the manager page's company, newest first.
pub(super) async fn months<S: Persistence>(
    state: &AppState<S>,
    signed: &SignedIn,
    company: CompanyId,
) -> Result<Vec<String>, ApiError> {
    Ok(state.reports.months(&signed.actor, company).await?)
}

pub async fn download<S: Persistence>(
    State(state): State<AppState<S>>,
    signed: SignedIn,
    Path(file): Path<String>,
    Query(query): Query<ReportQuery>,
) -> Response {
    let page = signed.context(&Notice::default());
    // The month is parsed into a date before it comes near a file name: no path traversal.
    let Some(period) = file.strip_suffix(".csv").map(report_month) else {
        return error_page(&page, StatusCode::NOT_FOUND, "error-not-found");
    };
    let period = match period {
        Ok(period) => period,
        Err(e) => return api_error_page(&page, e.into()),
    };
    let Some(company) = company_asked(&signed, query.company) else {
        return error_page(&page, StatusCode::FORBIDDEN, "error-forbidden");
    };
    match state.reports.download(&signed.actor, company, period).await {
        Ok(csv) => csv_attachment(company, &period.label(), csv),
        Err(e) => api_error_page(&page, e.into()),
    }
}
