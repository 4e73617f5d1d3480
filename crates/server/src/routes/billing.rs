//! Billing API: start a Checkout for a plan or a token pack, open the customer portal, and the
//! Stripe webhook. Only the webhook (signed by Stripe, verified here) changes plans or tokens.

use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult};
use crate::routes::openapi::ErrorBody;
use crate::state::AppState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum_extra::extract::WithRejection;
use billing_stripe::webhook;
use domain::billing::{ApplyOutcome, CheckoutKind};
use domain::ports::Clock;
use domain::ports::Persistence;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
// Anything else in the body (a plan, a limit…) is refused rather than ignored.
#[serde(deny_unknown_fields)]
pub struct CheckoutBody {
    /// `plan` (a subscription) or `pack` (one-off tokens).
    #[schema(value_type = String, example = "plan")]
    kind: CheckoutKind,
    /// The plan or pack id of the catalog (not a provider price).
    price: String,
}

#[derive(Serialize, ToSchema)]
pub struct UrlResponse {
    url: String,
}

/// `POST /api/v1/billing/checkout`: `{"kind":"plan"|"pack","price":ID}` → `{"url"}`.
#[utoipa::path(post, path = "/api/v1/billing/checkout", tag = "billing", request_body = CheckoutBody,
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "the checkout page to send the buyer to", body = UrlResponse),
              (status = 403, description = "employees and admins do not buy", body = ErrorBody),
              (status = 404, description = "no such plan or pack for this buyer", body = ErrorBody),
              (status = 422, description = "not for sale online, or an unknown field", body = ErrorBody),
              (status = 503, description = "billing is not configured", body = ErrorBody)))]
pub async fn checkout<S: Persistence>(
    State(state): State<AppState<S>>,
    auth: Authenticated,
    WithRejection(Json(body), _): WithRejection<Json<CheckoutBody>, ApiError>,
) -> ApiResult<Json<UrlResponse>> {
    let url = state
        .billing
        .checkout(&auth.actor, body.kind, &body.price)
        .await?;
    Ok(Json(UrlResponse { url }))
}

/// `POST /api/v1/billing/portal` → `{"url"}` of the provider's page to manage the subscription.
#[utoipa::path(post, path = "/api/v1/billing/portal", tag = "billing",
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "the customer portal", body = UrlResponse),
              (status = 404, description = "nothing bought yet", body = ErrorBody),
              (status = 503, description = "billing is not configured", body = ErrorBody)))]
pub async fn portal<S: Persistence>(
    State(state): State<AppState<S>>,
    auth: Authenticated,
) -> ApiResult<Json<UrlResponse>> {
    let url = state.billing.portal(&auth.actor).await?;
    Ok(Json(UrlResponse { url }))
}

/// `POST /api/v1/billing/webhook`: Stripe's events. A bad signature or a stale timestamp gets
/// 400 and changes nothing; every verified event gets 200 (unknown ones too, so Stripe stops
/// retrying), except when storage fails (503: Stripe delivers it again later).
#[utoipa::path(post, path = "/api/v1/billing/webhook", tag = "billing",
    description = "Stripe events, verified by the Stripe-Signature header (no session, no CSRF).",
    request_body(content = Object, description = "a Stripe event"),
    responses((status = 200, description = "received (applied, duplicate or stale)"),
              (status = 400, description = "bad signature, stale timestamp or malformed event", body = ErrorBody),
              (status = 503, description = "billing is not configured or storage is down", body = ErrorBody)))]
pub async fn webhook<S: Persistence>(
    State(state): State<AppState<S>>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let secret = &state.settings.billing.stripe_webhook_secret;
    if secret.is_empty() {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "billing is not configured",
        ));
    }
    let signature = headers
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let event =
        webhook::construct_event(&body, signature, secret, state.env.now()).map_err(|e| {
            tracing::warn!(error = %e, "webhook refused");
            ApiError::new(StatusCode::BAD_REQUEST, e.to_string())
        })?;
    let handled = state.billing.handle_event(&event).await?;
    let outcome = match handled.outcome {
        ApplyOutcome::Applied => "applied",
        ApplyOutcome::Duplicate => "duplicate",
        ApplyOutcome::Stale => "stale",
    };
    if handled.without_effect {
        tracing::info!(event = %event.id, kind = %event.event_type, outcome,
            "billing event acknowledged without effect (unknown type, price or payer)");
    } else {
        tracing::info!(event = %event.id, kind = %event.event_type, outcome, "billing event");
    }
    Ok(Json(json!({ "received": true, "outcome": outcome })))
}
