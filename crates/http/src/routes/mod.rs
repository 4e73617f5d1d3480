pub mod api;
pub mod billing;
pub mod chat;
pub mod health;
pub mod library;
pub mod openapi;
pub mod reports;
pub mod safety_plan;

use axum::http::header;
use axum::response::{IntoResponse, Response};

/// A file the browser saves rather than shows, never kept by a cache: every download is a
/// person's private data or a company's report. `filename` must need no quoting.
pub fn attachment(content_type: &'static str, filename: &str, body: impl IntoResponse) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
        ],
        body,
    )
        .into_response()
}
