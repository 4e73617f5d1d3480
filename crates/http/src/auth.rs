//! Who is calling: the `Authorization: Bearer` token of API clients (browser cookies come with
//! the pages). Resolved through the account service, so disabled or signed-out accounts are
//! refused everywhere.

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use domain::ports::{Persistence, Session};
use domain::{Actor, User};
use std::net::SocketAddr;

pub struct Authenticated {
    pub user: User,
    pub session: Session,
    pub actor: Actor,
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

impl<S: Persistence> FromRequestParts<AppState<S>> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState<S>) -> Result<Self, ApiError> {
        let token = bearer(parts).ok_or_else(ApiError::unauthenticated)?;
        let (user, session) = state.accounts.authenticate(token).await?;
        let actor = Actor::of(&user, client_ip(parts));
        Ok(Authenticated {
            user,
            session,
            actor,
        })
    }
}
