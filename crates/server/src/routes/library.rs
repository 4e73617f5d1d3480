//! The library over the API: the admin uploads a document (the raw file as the body, its name in
//! `?name=`), lists the documents, or retires one. Extraction runs on the blocking pool.

use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult};
use crate::routes::openapi::ErrorBody;
use crate::state::AppState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum_extra::extract::WithRejection;
use domain::DocumentId;
use domain::library::{Document, ExtractError};
use domain::ports::{Persistence, TextExtractor};
use domain::services::library::IngestOutcome;
use ingest_docs::Extractor;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Deserialize, IntoParams)]
pub struct UploadQuery {
    /// The file name; its extension picks the format.
    name: String,
}

#[derive(Serialize, ToSchema)]
pub struct UploadResult {
    #[schema(value_type = Object)]
    document: Document,
    /// `false` when the same bytes were already in the library (nothing was written).
    changed: bool,
    passages: usize,
}

#[utoipa::path(post, path = "/api/v1/library/uploads", tag = "library", params(UploadQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 201, body = UploadResult), (status = 200, body = UploadResult, description = "unchanged"),
              (status = 403, body = ErrorBody), (status = 413, description = "too large"), (status = 422, body = ErrorBody)))]
/// `POST /api/v1/library/uploads?name=guide.pdf`: ingests one file (admins only).
pub async fn upload<S: Persistence>(
    State(state): State<AppState<S>>,
    auth: Authenticated,
    WithRejection(Query(query), _): WithRejection<Query<UploadQuery>, ApiError>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<UploadResult>)> {
    let name = query
        .name
        .trim()
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or("")
        .to_string();
    if name.is_empty() || body.is_empty() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "send the file as the body and its name in ?name=",
        ));
    }
    let (file_name, bytes) = (name.clone(), body.clone());
    let extract = || async move {
        tokio::task::spawn_blocking(move || Extractor::default().extract(&file_name, &bytes))
            .await
            .unwrap_or_else(|_| Err(ExtractError::Malformed("the extractor crashed".into())))
    };
    let outcome = state
        .library
        .upload(&auth.actor, &format!("upload/{name}"), &body, extract)
        .await?;
    Ok(match outcome {
        IngestOutcome::Unchanged(document) => (
            StatusCode::OK,
            Json(UploadResult {
                document,
                changed: false,
                passages: 0,
            }),
        ),
        IngestOutcome::Ingested {
            document, passages, ..
        } => (
            StatusCode::CREATED,
            Json(UploadResult {
                document,
                changed: true,
                passages,
            }),
        ),
    })
}

#[utoipa::path(get, path = "/api/v1/library/documents", tag = "library",
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "every document", body = Vec<Object>), (status = 403, body = ErrorBody)))]
/// `GET /api/v1/library/documents`: every document (admins only).
pub async fn list<S: Persistence>(
    State(state): State<AppState<S>>,
    auth: Authenticated,
) -> ApiResult<Json<Vec<Document>>> {
    if auth.user.role != domain::Role::PlatformAdmin {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "only a platform admin may see the library",
        ));
    }
    Ok(Json(state.library.documents().await?))
}

#[utoipa::path(delete, path = "/api/v1/library/documents/{id}", tag = "library",
    params(("id" = i64, Path, description = "document id")),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 204, description = "retired"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
/// `DELETE /api/v1/library/documents/{id}`: retires a document and its passages.
pub async fn retire<S: Persistence>(
    State(state): State<AppState<S>>,
    auth: Authenticated,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    state.library.retire(&auth.actor, DocumentId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}
