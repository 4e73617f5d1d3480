pub mod api;
pub mod billing;
pub mod chat;
pub mod health;
pub mod library;
pub mod openapi;
pub mod reports;
pub mod safety_plan;

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

/// Keeps `response` out of every cache, the browser's included: it holds a person's private
/// words or a company's report.
pub fn no_store(mut response: Response) -> Response {
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    response
}

/// A file the browser saves rather than shows, never cached. `filename` must need no quoting.
pub fn attachment(content_type: &'static str, filename: &str, body: impl IntoResponse) -> Response {
    no_store(
        (
            [
                (header::CONTENT_TYPE, content_type.to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{filename}\""),
                ),
            ],
            body,
        )
            .into_response(),
    )
}
