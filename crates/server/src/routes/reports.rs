//! The monthly usage reports over the API: the months a company has a report for, and one
//! report's CSV. The admin may read any company's, a company manager their own (the service
//! decides; another company's id answers 404 to a manager, as if it did not exist).

use crate::auth::Authenticated;
use crate::error::ApiResult;
use crate::routes::openapi::ErrorBody;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::response::Response;
use domain::CompanyId;
use domain::ports::Persistence;
use domain::services::reports::report_month;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct ReportMonths {
    /// `2026-03` labels, newest first.
    months: Vec<String>,
}

#[utoipa::path(get, path = "/api/v1/companies/{id}/reports", tag = "reports",
    params(("id" = i64, Path, description = "company id")),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = ReportMonths), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
/// `GET /api/v1/companies/{id}/reports`: the months with a usage report, newest first.
pub async fn months<S: Persistence>(
    State(state): State<AppState<S>>,
    auth: Authenticated,
    Path(id): Path<i64>,
) -> ApiResult<Json<ReportMonths>> {
    let months = state.reports.months(&auth.actor, CompanyId(id)).await?;
    Ok(Json(ReportMonths { months }))
}

#[utoipa::path(get, path = "/api/v1/companies/{id}/reports/{month}", tag = "reports",
    params(("id" = i64, Path, description = "company id"),
           ("month" = String, Path, description = "the month, e.g. 2026-03")),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "the report: `user_id,email,name,role,used_tokens`, one row per person, then the total",
               content_type = "text/csv", body = String),
              (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
/// `GET /api/v1/companies/{id}/reports/{month}`: one month's report as CSV.
pub async fn download<S: Persistence>(
    State(state): State<AppState<S>>,
    auth: Authenticated,
    Path((id, month)): Path<(i64, String)>,
) -> ApiResult<Response> {
    let period = report_month(&month)?;
    let company = CompanyId(id);
    let csv = state.reports.download(&auth.actor, company, period).await?;
    Ok(csv_attachment(company, &period.label(), csv))
}

/// A report as a CSV file the browser saves (its name is made of digits and `-` only).
pub fn csv_attachment(company: CompanyId, month: &str, csv: Vec<u8>) -> Response {
    super::attachment(
        "text/csv; charset=utf-8",
        &format!("usage-{company}-{month}.csv"),
        csv,
    )
}
