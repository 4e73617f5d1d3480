//! One error type for every handler; the mapping from domain errors to HTTP statuses lives here
//! and only here. Bodies are `{"error": "..."}` with a message safe to show (no internals).

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use domain::ports::StoreError;
use domain::services::accounts::AccountError;
use domain::services::budgets::BudgetError;
use domain::services::companies::CompanyError;
use serde_json::json;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
        }
    }

    pub fn unauthenticated() -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "not signed in or session expired")
    }

    /// Storage trouble: logged in full, answered with a generic 503.
    fn unavailable(detail: &dyn std::fmt::Display) -> ApiError {
        tracing::error!(error = %detail, "storage unavailable");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "the service is temporarily unavailable; please try again shortly",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({ "error": self.message }))).into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::new(StatusCode::NOT_FOUND, "not found"),
            StoreError::Conflict(_) => ApiError::new(StatusCode::CONFLICT, "conflict"),
            StoreError::Unavailable(detail) => ApiError::unavailable(&detail),
        }
    }
}

impl From<AccountError> for ApiError {
    fn from(e: AccountError) -> Self {
        let status = match &e {
            AccountError::InvalidEmail
            | AccountError::WeakPassword(_)
            | AccountError::InvalidInput(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AccountError::EmailTaken => StatusCode::CONFLICT,
            AccountError::InvalidCredentials | AccountError::Unauthenticated => {
                StatusCode::UNAUTHORIZED
            }
            AccountError::Disabled | AccountError::Forbidden => StatusCode::FORBIDDEN,
            AccountError::NotFound => StatusCode::NOT_FOUND,
            AccountError::Hashing => return ApiError::unavailable(&e),
            AccountError::Storage(inner) => return ApiError::from(inner.clone()),
        };
        ApiError::new(status, e.to_string())
    }
}

impl From<CompanyError> for ApiError {
    fn from(e: CompanyError) -> Self {
        let status = match &e {
            CompanyError::Forbidden => StatusCode::FORBIDDEN,
            CompanyError::NotFound => StatusCode::NOT_FOUND,
            CompanyError::InvalidInput(_) => StatusCode::UNPROCESSABLE_ENTITY,
            CompanyError::SeatLimitReached(_) | CompanyError::EmailTaken => StatusCode::CONFLICT,
            CompanyError::InvitationInvalid => StatusCode::GONE,
            CompanyError::Storage(inner) => return ApiError::from(inner.clone()),
        };
        ApiError::new(status, e.to_string())
    }
}

impl From<BudgetError> for ApiError {
    fn from(e: BudgetError) -> Self {
        match e {
            BudgetError::Storage(inner) => ApiError::from(inner),
            other => ApiError::unavailable(&other),
        }
    }
}
