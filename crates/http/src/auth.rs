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
use domain::ports::{Persistence, Session};
use domain::{Actor, User};
use std::net::SocketAddr;

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

fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))?;
    Some(token.trim()).filter(|t| !t.is_empty())
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
    let (expected, given) = (expected.as_bytes(), given.as_bytes());
    !expected.is_empty()
        && expected.len() == given.len()
        && expected
            .iter()
            .zip(given)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

fn changes_state(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

impl<S: Persistence> FromRequestParts<AppState<S>> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState<S>) -> Result<Self, ApiError> {
        let jar = CookieJar::from_headers(&parts.headers);
        let (token, credential) = match bearer(parts) {
            Some(token) => (token.to_string(), Credential::Bearer),
            None => match jar.get(SESSION_COOKIE) {
                Some(cookie) => (cookie.value().to_string(), Credential::Cookie),
                None => return Err(ApiError::unauthenticated()),
            },
        };
        let (user, session) = state.accounts.authenticate(&token).await?;
        if credential == Credential::Cookie && changes_state(&parts.method) {
            let header = parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if !verify_csrf(&session, header) {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "missing or invalid CSRF token",
                ));
            }
        }
        let actor = Actor::of(&user, client_ip(parts));
        Ok(Authenticated {
            user,
            session,
            actor,
            credential,
        })
    }
}
