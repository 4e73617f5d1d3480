//! JSON API under `/api/v1` for integrations: bearer tokens, the caller's profile and usage.

use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult};
use crate::limits;
use crate::routes::openapi::ErrorBody;
use crate::state::AppState;
use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum_extra::extract::WithRejection;
use domain::account::SessionKind;
use domain::budget::UsageSummary;
use domain::ports::Persistence;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
pub struct TokenRequest {
    email: String,
    password: String,
}

#[derive(Serialize, ToSchema)]
pub struct TokenResponse {
    token: String,
    expires_at: chrono::DateTime<chrono::Utc>,
}

/// `POST /api/v1/auth/token`: exchanges e-mail and password for a bearer token.
#[utoipa::path(post, path = "/api/v1/auth/token", tag = "auth", request_body = TokenRequest,
    responses((status = 201, body = TokenResponse), (status = 401, body = ErrorBody),
              (status = 429, description = "too many attempts (Retry-After)", body = ErrorBody)))]
pub async fn create_token<S: Persistence>(
    State(state): State<AppState<S>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    WithRejection(Json(body), _): WithRejection<Json<TokenRequest>, ApiError>,
) -> ApiResult<(StatusCode, Json<TokenResponse>)> {
    limits::sign_in_attempt(&state, Some(peer.ip()), &body.email).await?;
    let (_, issued) = state
        .accounts
        .sign_in(&body.email, &body.password, SessionKind::Api)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(TokenResponse {
            token: issued.token,
            expires_at: issued.session.expires_at,
        }),
    ))
}

/// `DELETE /api/v1/auth/token`: revokes the token used for this request.
#[utoipa::path(delete, path = "/api/v1/auth/token", tag = "auth", security(("bearer" = [])),
    responses((status = 204, description = "revoked"), (status = 401, body = ErrorBody)))]
pub async fn revoke_token<S: Persistence>(
    State(state): State<AppState<S>>,
    auth: Authenticated,
) -> ApiResult<StatusCode> {
    state.accounts.revoke(&auth.session).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct CompanyView {
    #[schema(value_type = i64)]
    id: domain::CompanyId,
    name: String,
}

#[derive(Serialize, ToSchema)]
pub struct PeriodView {
    start: chrono::DateTime<chrono::Utc>,
    end: chrono::DateTime<chrono::Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct MeResponse {
    #[schema(value_type = i64)]
    id: domain::UserId,
    email: String,
    display_name: String,
    #[schema(value_type = String, example = "individual")]
    role: domain::Role,
    #[schema(value_type = String, example = "pt-BR")]
    locale: domain::Locale,
    plan: String,
    company: Option<CompanyView>,
    /// `{"used","reserved","limit","remaining"}` for the current period.
    #[schema(value_type = Object)]
    usage: UsageSummary,
    /// The allowance period: the calendar month (UTC), or the invoice period of the payer's
    /// Stripe subscription (a month of it for an annual one).
    period: PeriodView,
}

/// `GET /api/v1/me`: who the caller is and what they have left this period.
#[utoipa::path(get, path = "/api/v1/me", tag = "account", security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = MeResponse), (status = 401, body = ErrorBody)))]
pub async fn me<S: Persistence>(
    State(state): State<AppState<S>>,
    auth: Authenticated,
) -> ApiResult<Json<MeResponse>> {
    let user = auth.user;
    let usage = state.budgets.usage(&user).await?;
    let plan = usage
        .company
        .as_ref()
        .map_or_else(|| user.plan_id.clone(), |c| c.plan_id.clone());
    let period = usage.period;
    Ok(Json(MeResponse {
        id: user.id,
        email: user.email.to_string(),
        display_name: user.display_name,
        role: user.role,
        locale: user.locale,
        plan,
        company: usage.company.map(|c| CompanyView {
            id: c.id,
            name: c.name,
        }),
        usage: usage.summary,
        period: PeriodView {
            start: period.start,
            end: period.end,
        },
    }))
}

/// Unknown API routes answer JSON, not an HTML page.
pub async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "no such API route")
}
