//! The OpenAPI 3.1 document of the JSON API, generated from the handlers' annotations and served
//! at `GET /api/v1/openapi.json`.

use super::{api, billing, chat, library, reports, safety_plan};
use axum::Json;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

/// Every error answer (`ApiError`): a message safe to show.
#[derive(ToSchema)]
#[schema(example = json!({"error": "not signed in or session expired"}))]
pub struct ErrorBody {
    #[allow(dead_code)] // only documents the shape `ApiError` serialises
    error: String,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "BOTPSICOLOGO API",
        description = "Accounts, usage, the conversation, the personal safety plan, the library, billing and the monthly usage reports. Bearer tokens come from \
                       POST /api/v1/auth/token; browser sessions use the `bp_session` cookie and \
                       must send `X-CSRF-Token` on state-changing requests."
    ),
    paths(
        api::create_token, api::revoke_token, api::me,
        chat::chat, chat::history, chat::clear, chat::export,
        safety_plan::get, safety_plan::put, safety_plan::delete,
        library::upload, library::list, library::retire,
        billing::checkout, billing::portal, billing::webhook,
        reports::months, reports::download,
        openapi_json,
    ),
    modifiers(&Security),
)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new("bp_session"))),
        );
    }
}

/// `GET /api/v1/openapi.json`: this document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "meta",
    responses((status = 200, description = "the OpenAPI document")))]
pub async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
