//! Rate limits applied at the edge, through the limiter port (governor in-process, or Redis):
//! every request per client IP, and sign-in attempts per IP and per account. Answers 429 with
//! `Retry-After`; a limiter that refuses (Redis down with `REDIS_FALLBACK=refuse`) answers 503.

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use domain::ports::{Persistence, RateLimiter};
use domain::ratelimit::{Decision, Quota};
use domain::services::chat::EdgeDecision;
use std::net::{IpAddr, SocketAddr};

/// Sign-in attempts, per client IP and per account: 5 at once, then one a minute, so no minute
/// ever sees more than 5 (a plain 5-per-minute GCRA would refill one every 12 s).
pub const SIGN_IN_IP: Quota = sign_in_quota("sign_in_ip");
pub const SIGN_IN_ACCOUNT: Quota = sign_in_quota("sign_in_account");

const fn sign_in_quota(rule: &'static str) -> Quota {
    Quota {
        rule,
        burst: 5,
        period: std::time::Duration::from_secs(5 * 60),
    }
}

async fn check<S: Persistence>(
    state: &AppState<S>,
    quota: Quota,
    key: &str,
) -> Result<(), ApiError> {
    let decision = state.limiter.check(quota, key).await;
    if let Ok(decision) = &decision {
        crate::metrics::limiter_decision(quota.rule, *decision == Decision::Allowed);
    }
    match decision {
        Ok(Decision::Allowed) => Ok(()),
        Ok(Decision::Limited { retry_after }) => Err(ApiError::too_many(
            "too many requests; please wait and try again",
            retry_after.as_secs_f64().ceil() as u64,
        )),
        Err(e) => {
            tracing::warn!(error = %e, "rate limiter unavailable");
            Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "the service is temporarily unavailable; please try again shortly",
            ))
        }
    }
}

/// Counts a sign-in attempt against both the IP's and the account's quota (both are always
/// counted, so probing many accounts from one IP and one account from many IPs are both slowed).
pub async fn sign_in_attempt<S: Persistence>(
    state: &AppState<S>,
    ip: Option<IpAddr>,
    email: &str,
) -> Result<(), ApiError> {
    let by_ip = match ip {
        Some(ip) => check(state, SIGN_IN_IP, &ip.to_string()).await,
        None => Ok(()),
    };
    let by_account = check(state, SIGN_IN_ACCOUNT, &email.trim().to_lowercase()).await;
    by_ip.and(by_account)
}

/// `POST /api/v1/chat`: the one request whose refusal waits for the crisis screen.
fn is_chat_turn(request: &Request) -> bool {
    request.method() == axum::http::Method::POST && request.uri().path() == "/api/v1/chat"
}

/// Middleware: every request counts against its client IP's quota.
pub async fn per_ip<S: Persistence>(
    State(state): State<AppState<S>>,
    request: Request,
    next: Next,
) -> Response {
    let ip = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    let mut request = request;
    if let Some(ip) = ip {
        let quota = Quota::per_minute("ip", state.settings.ip_requests_per_minute.max(1));
        match check(&state, quota, &ip.to_string()).await {
            Ok(()) => {}
            // A chat turn is screened for crisis first; the turn enforces this refusal after.
            Err(e) if is_chat_turn(&request) && e.status == StatusCode::TOO_MANY_REQUESTS => {
                let retry_after_secs = e.retry_after.unwrap_or(60);
                request
                    .extensions_mut()
                    .insert(EdgeDecision::Limited { retry_after_secs });
            }
            Err(e) => {
                let response = e.into_response();
                crate::metrics::refused_before_routing(
                    request.method().as_str(),
                    response.status(),
                );
                return response;
            }
        }
    }
    next.run(request).await
}
