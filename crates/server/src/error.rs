//! One error type for every handler; the mapping from domain errors to HTTP statuses lives here
//! and only here. Bodies are `{"error": "..."}` with a message safe to show (no internals).

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::Role;
use domain::model::ModelError;
use domain::ports::StoreError;
use domain::services::accounts::AccountError;
use domain::services::billing::BillingError;
use domain::services::budgets::BudgetError;
use domain::services::chat::ChatError;
use domain::services::companies::CompanyError;
use domain::services::library::LibraryError;
use domain::services::reports::ReportError;
use domain::services::safety_plan::SafetyPlanError;
use serde_json::json;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    /// Seconds, sent as `Retry-After` (429 and 503 answers).
    pub retry_after: Option<u64>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
            retry_after: None,
        }
    }

    pub fn too_many(message: impl Into<String>, retry_after_secs: u64) -> ApiError {
        ApiError {
            retry_after: Some(retry_after_secs.max(1)),
            ..ApiError::new(StatusCode::TOO_MANY_REQUESTS, message)
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
        let mut response = (self.status, Json(json!({ "error": self.message }))).into_response();
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
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

/// Malformed JSON bodies get the same `{"error": …}` shape as every other error.
impl From<JsonRejection> for ApiError {
    fn from(e: JsonRejection) -> Self {
        ApiError::new(e.status(), e.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(e: QueryRejection) -> Self {
        ApiError::new(e.status(), e.body_text())
    }
}

impl From<ChatError> for ApiError {
    fn from(e: ChatError) -> Self {
        match e {
            ChatError::Empty | ChatError::TooLong => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.to_string())
            }
            ChatError::RateLimited { retry_after_secs } => {
                ApiError::too_many(e.to_string(), retry_after_secs)
            }
            ChatError::OverBudget { role, .. } => {
                ApiError::new(StatusCode::PAYMENT_REQUIRED, over_budget_message(role))
            }
            ChatError::Model(model) => {
                let status = match model {
                    ModelError::Timeout => StatusCode::GATEWAY_TIMEOUT,
                    ModelError::RateLimited => StatusCode::SERVICE_UNAVAILABLE,
                    ModelError::Unavailable(_) | ModelError::Protocol(_) => StatusCode::BAD_GATEWAY,
                };
                tracing::warn!(error = %model, "model failure");
                ApiError::new(
                    status,
                    format!("{model}. Nothing was charged for this message; please try again."),
                )
            }
            ChatError::Cancelled => ApiError::new(StatusCode::BAD_REQUEST, e.to_string()),
            ChatError::Unauthenticated => ApiError::unauthenticated(),
            ChatError::Unavailable(detail) => ApiError::unavailable(&detail),
        }
    }
}

/// What to do when the tokens run out depends on who pays for them.
fn over_budget_message(role: Role) -> &'static str {
    match role {
        Role::Individual => {
            "You have used this month's tokens. Buy a token pack or move to a larger plan on the \
             Plans page (/plans); your allowance renews at the start of next month."
        }
        Role::Employee => {
            "The tokens available to you this month are used up (your company's pool or your \
             personal cap). Ask your company manager for more; they renew at the start of next month."
        }
        Role::CompanyManager => {
            "Your company's tokens for this month are used up. Buy a token pack or upgrade the \
             company plan on the Plans page (/plans)."
        }
        Role::PlatformAdmin => "The token budget for this period is used up.",
    }
}

impl From<LibraryError> for ApiError {
    fn from(e: LibraryError) -> Self {
        match e {
            LibraryError::Forbidden => ApiError::new(StatusCode::FORBIDDEN, e.to_string()),
            LibraryError::NotFound => ApiError::new(StatusCode::NOT_FOUND, e.to_string()),
            LibraryError::Extract(inner) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, inner.to_string())
            }
            LibraryError::Store(inner) => ApiError::from(inner),
        }
    }
}

impl From<BillingError> for ApiError {
    fn from(e: BillingError) -> Self {
        let status = match &e {
            BillingError::NotConfigured => StatusCode::SERVICE_UNAVAILABLE,
            BillingError::Forbidden => StatusCode::FORBIDDEN,
            BillingError::UnknownItem | BillingError::NoCustomer => StatusCode::NOT_FOUND,
            BillingError::NotForSale | BillingError::InvalidInput(_) => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            BillingError::Provider(detail) => {
                tracing::warn!(error = %detail, "payment provider failure");
                return ApiError::new(
                    StatusCode::BAD_GATEWAY,
                    "the payment provider did not answer; please try again",
                );
            }
            BillingError::Storage(inner) => return ApiError::from(inner.clone()),
        };
        ApiError::new(status, e.to_string())
    }
}

impl From<ReportError> for ApiError {
    fn from(e: ReportError) -> Self {
        let status = match &e {
            ReportError::Forbidden => StatusCode::FORBIDDEN,
            ReportError::NotFound => StatusCode::NOT_FOUND,
            ReportError::InvalidInput(_) => StatusCode::BAD_REQUEST,
            ReportError::Storage(inner) => return ApiError::from(inner.clone()),
        };
        ApiError::new(status, e.to_string())
    }
}

impl From<SafetyPlanError> for ApiError {
    fn from(e: SafetyPlanError) -> Self {
        match e {
            SafetyPlanError::Empty | SafetyPlanError::TooLong(_) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.to_string())
            }
            SafetyPlanError::Undecryptable => ApiError::unavailable(&e),
            SafetyPlanError::Storage(inner) => ApiError::from(inner),
        }
    }
}
