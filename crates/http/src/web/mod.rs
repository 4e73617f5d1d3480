//! Server-rendered pages (being built): sign-in and sign-up, chat, profile, plans, the company
//! manager's pages and the admin dashboard.

use crate::state::AppState;
use axum::Router;
use domain::ports::Persistence;

/// The page routes, merged into the app by [`crate::router`].
pub fn routes<S: Persistence>() -> Router<AppState<S>> {
    Router::new()
}
