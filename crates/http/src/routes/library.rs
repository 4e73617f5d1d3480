//! The library over the API: the admin uploads a document (the raw file as the body, its name in
//! `?name=`), lists the documents, or retires one. Extraction runs on the blocking pool.

use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum_extra::extract::WithRejection;
use domain::DocumentId;
use domain::library::{Document, ExtractError, TextExtractor};
use domain::ports::Persistence;
use domain::services::library::IngestOutcome;
use ingest_docs::Extractor;
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
pub struct UploadQuery {
    name: String,
}

#[derive(Serialize)]
pub struct UploadResult {
    document: Document,
    /// `false` when the same bytes were already in the library (nothing was written).
    changed: bool,
    passages: usize,
}

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

/// `DELETE /api/v1/library/documents/{id}`: retires a document and its passages.
pub async fn retire<S: Persistence>(
    State(state): State<AppState<S>>,
    auth: Authenticated,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    state.library.retire(&auth.actor, DocumentId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}
