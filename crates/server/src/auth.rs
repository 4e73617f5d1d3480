//! Who is calling. API clients send `Authorization: Bearer <token>`; browsers carry the session
//! cookie. A cookie-authenticated request that changes state must also prove it came from our
//! own page (CSRF): the `X-CSRF-Token` header for API calls (forms use [`verify_csrf`] on their
//! `csrf` field). Resolved through the account service, so disabled or signed-out accounts are
//! refused everywhere.

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum_extra::extract::cookie::CookieJar;
use axum_extra::headers::authorization::Bearer;
use axum_extra::headers::{Authorization, HeaderMapExt};
use domain::account::Session;
use domain::ports::Persistence;
use domain::services::chat::TurnContext;
use domain::{Actor, User};
use std::net::SocketAddr;
use subtle::ConstantTimeEq;

/// The browser session cookie (HttpOnly, SameSite=Lax, Secure under TLS).
pub const SESSION_COOKIE: &str = "bp_session";
/// Header carrying the session's CSRF token on cookie-authenticated API calls.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// How the caller proved who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    Bearer,
    Cookie,
}

pub struct Authenticated {
    pub user: User,
    pub session: Session,
    pub actor: Actor,
    pub credential: Credential,
}

/// The token of an `Authorization: Bearer …` header, if there is one.
pub fn bearer(headers: &axum::http::HeaderMap) -> Option<String> {
    let header = headers.typed_get::<Authorization<Bearer>>()?;
    Some(header.token().trim().to_string()).filter(|t| !t.is_empty())
}

pub fn client_ip(parts: &Parts) -> Option<std::net::IpAddr> {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip())
}

/// Compares a submitted CSRF token with the session's in constant time.
pub fn verify_csrf(session: &Session, submitted: &str) -> bool {
    tokens_match(&session.csrf_token, submitted)
}

/// Equal non-empty tokens, compared in constant time (no timing hint of how much matched).
pub fn tokens_match(expected: &str, given: &str) -> bool {
    !expected.is_empty() && bool::from(expected.as_bytes().ct_eq(given.as_bytes()))
}

fn changes_state(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The caller's token and how it came.
fn credential(parts: &Parts) -> Result<(String, Credential), ApiError> {
    if let Some(token) = bearer(&parts.headers) {
        return Ok((token, Credential::Bearer));
    }
    match CookieJar::from_headers(&parts.headers).get(SESSION_COOKIE) {
        Some(cookie) => Ok((cookie.value().to_string(), Credential::Cookie)),
        None => Err(ApiError::unauthenticated()),
    }
}

/// A cookie-authenticated request that changes state must show the session's CSRF token.
fn check_csrf(parts: &Parts, session: &Session, credential: Credential) -> Result<(), ApiError> {
    if credential == Credential::Cookie && changes_state(&parts.method) {
        let header = parts
            .headers
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !verify_csrf(session, header) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "missing or invalid CSRF token",
            ));
        }
    }
    Ok(())
}

/// Lets in the person of a valid session, once [`check_csrf`] passes.
fn admit(
    parts: &Parts,
    user: User,
    session: Session,
    credential: Credential,
) -> Result<Authenticated, ApiError> {
    check_csrf(parts, &session, credential)?;
    let actor = Actor::of(&user, client_ip(parts));
    Ok(Authenticated {
        user,
        session,
        actor,
        credential,
    })
}

impl<S: Persistence> FromRequestParts<AppState<S>> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState<S>) -> Result<Self, ApiError> {
        let (token, credential) = credential(parts)?;
        let (user, session) = state.accounts.authenticate(&token).await?;
        admit(parts, user, session, credential)
    }
}

/// The caller of a chat turn, with the same checks as [`Authenticated`]: the turn's
/// [`TurnContext`] (the person and their newest messages, read with the session in one round
/// trip by the domain).
pub struct TurnCaller(pub TurnContext);

impl<S: Persistence> FromRequestParts<AppState<S>> for TurnCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState<S>) -> Result<Self, ApiError> {
        let (token, credential) = credential(parts)?;
        let context = state.accounts.turn_context(&token).await?;
        check_csrf(parts, context.session(), credential)?;
        Ok(TurnCaller(context))
    }
}
