//! The caller's own safety plan over JSON: `GET`, `PUT` and `DELETE /api/v1/safety-plan`. There
//! is no way to name another person's plan: the service works on the caller's only.

use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult};
use crate::routes::openapi::ErrorBody;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::WithRejection;
use chrono::{DateTime, Utc};
use domain::ports::Persistence;
use domain::safety_plan::SafetyPlan;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The plan's steps, in the person's words (one item a line; empty: not filled in). Every
/// field is required, so a misspelt one is refused rather than saved as an empty step.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct SafetyPlanFields {
    /// 1. Warning signs: thoughts, moods, situations that tell a crisis may be coming.
    warning_signs: String,
    /// 2. Things I can do on my own to cope.
    coping_strategies: String,
    /// 3. People and places that take my mind off it.
    distractions: String,
    /// 4. People I can ask for help (names and numbers).
    people_to_ask: String,
    /// 5. Professionals and services (with numbers).
    professionals: String,
    /// 6. Making my surroundings safer.
    safe_environment: String,
    /// Reasons for living.
    reasons_for_living: String,
}

impl From<SafetyPlanFields> for SafetyPlan {
    fn from(f: SafetyPlanFields) -> Self {
        let SafetyPlanFields {
            warning_signs,
            coping_strategies,
            distractions,
            people_to_ask,
            professionals,
            safe_environment,
            reasons_for_living,
        } = f;
        SafetyPlan {
            warning_signs,
            coping_strategies,
            distractions,
            people_to_ask,
            professionals,
            safe_environment,
            reasons_for_living,
        }
    }
}

impl From<SafetyPlan> for SafetyPlanFields {
    fn from(p: SafetyPlan) -> Self {
        let SafetyPlan {
            warning_signs,
            coping_strategies,
            distractions,
            people_to_ask,
            professionals,
            safe_environment,
            reasons_for_living,
        } = p;
        SafetyPlanFields {
            warning_signs,
            coping_strategies,
            distractions,
            people_to_ask,
            professionals,
            safe_environment,
            reasons_for_living,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct SavedPlan {
    plan: SafetyPlanFields,
    updated_at: DateTime<Utc>,
}

/// The plan as an answer no cache keeps.
fn private(plan: SafetyPlan, updated_at: DateTime<Utc>) -> Response {
    super::no_store(
        Json(SavedPlan {
            plan: plan.into(),
            updated_at,
        })
        .into_response(),
    )
}

#[utoipa::path(get, path = "/api/v1/safety-plan", tag = "safety plan",
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = SavedPlan), (status = 401, body = ErrorBody),
              (status = 404, body = ErrorBody, description = "no plan saved yet")))]
/// `GET /api/v1/safety-plan`: the caller's plan and when it was last saved.
pub async fn get<S: Persistence>(
    State(state): State<AppState<S>>,
    auth: Authenticated,
) -> ApiResult<Response> {
    match state.safety_plans.get(&auth.actor).await? {
        Some((plan, updated_at)) => Ok(private(plan, updated_at)),
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "no safety plan saved yet",
        )),
    }
}

#[utoipa::path(put, path = "/api/v1/safety-plan", tag = "safety plan",
    request_body = SafetyPlanFields, security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = SavedPlan, description = "saved, each step trimmed"),
              (status = 401, body = ErrorBody),
              (status = 422, body = ErrorBody, description = "every step empty, a step over 2,000 characters, or a field missing")))]
/// `PUT /api/v1/safety-plan`: creates or replaces the caller's plan.
pub async fn put<S: Persistence>(
    State(state): State<AppState<S>>,
    auth: Authenticated,
    WithRejection(Json(body), _): WithRejection<Json<SafetyPlanFields>, ApiError>,
) -> ApiResult<Response> {
    let (plan, updated_at) = state.safety_plans.save(&auth.actor, body.into()).await?;
    Ok(private(plan, updated_at))
}

#[derive(Serialize, ToSchema)]
pub struct PlanDeleted {
    /// Whether there was a plan to delete.
    deleted: bool,
}

#[utoipa::path(delete, path = "/api/v1/safety-plan", tag = "safety plan",
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = PlanDeleted), (status = 401, body = ErrorBody)))]
/// `DELETE /api/v1/safety-plan`: really deletes the caller's plan (the row, not a flag).
pub async fn delete<S: Persistence>(
    State(state): State<AppState<S>>,
    auth: Authenticated,
) -> ApiResult<Json<PlanDeleted>> {
    let deleted = state.safety_plans.delete(&auth.actor).await?;
    Ok(Json(PlanDeleted { deleted }))
}
