//! Server-rendered pages: sign-in and sign-up, chat, the safety plan and grounding, profile,
//! plans, the company manager's pages and the admin dashboard. Templates (askama, escaped by
//! default) live in `crates/server/templates`, texts in `crates/server/locales` (Fluent, pt-BR and
//! en), the stylesheet and scripts in `crates/server/static` (served from here: the CSP allows no
//! inline script and no other origin).
//!
//! Every state-changing form carries a CSRF token: the session's for signed-in pages, a
//! double-submit cookie before there is a session (sign-in, sign-up, invitations).

mod account;
mod admin;
mod chat;
mod manager;
mod reports;
mod safety_plan;

use crate::auth::{SESSION_COOKIE, client_ip, tokens_match, verify_csrf};
use crate::error::ApiError;
use crate::state::AppState;
use askama::Template;
use axum::Router;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use domain::account::Session;
use domain::ports::Persistence;
use domain::{Actor, Locale, Role, User};
use fluent_templates::{LanguageIdentifier, Loader, static_loader};
use serde::de::DeserializeOwned;

static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "pt-BR",
    };
}

/// The page routes, merged into the app by [`crate::router`].
pub fn routes<S: Persistence>() -> Router<AppState<S>> {
    Router::new()
        .route("/", get(account::home::<S>))
        .route(
            "/signin",
            get(account::signin_page::<S>).post(account::signin::<S>),
        )
        .route(
            "/signup",
            get(account::signup_page::<S>).post(account::signup::<S>),
        )
        .route("/signout", post(account::signout::<S>))
        .route("/profile", get(account::profile::<S>))
        .route("/profile/password", post(account::change_password::<S>))
        .route("/profile/language", post(account::change_language::<S>))
        .route("/plans", get(account::plans::<S>))
        .route("/plans/checkout", post(account::buy::<S>))
        .route("/plans/portal", post(account::manage::<S>))
        .route(
            "/invite/{secret}",
            get(account::invite_page::<S>).post(account::accept_invite::<S>),
        )
        .route("/chat", get(chat::chat_page::<S>))
        .route(
            "/safety-plan",
            get(safety_plan::plan_page::<S>).post(safety_plan::save::<S>),
        )
        .route("/safety-plan/delete", post(safety_plan::delete::<S>))
        .route("/safety-plan/export", get(safety_plan::export::<S>))
        .route("/grounding", get(safety_plan::grounding))
        .route("/manager", get(manager::manager_page::<S>))
        .route("/manager/invite", post(manager::invite::<S>))
        .route("/manager/members/{id}/remove", post(manager::remove::<S>))
        .route("/manager/members/{id}/cap", post(manager::set_cap::<S>))
        .route("/manager/invitations/revoke", post(manager::revoke::<S>))
        .route("/manager/reports/{file}", get(reports::download::<S>))
        .route("/admin", get(admin::dashboard::<S>))
        .route("/admin/companies", post(admin::create_company::<S>))
        .route(
            "/admin/companies/{id}",
            get(admin::company_page::<S>).post(admin::update_company::<S>),
        )
        .route(
            "/admin/companies/{id}/delete",
            post(admin::delete_company::<S>),
        )
        .route("/admin/users/{id}/role", post(admin::set_role::<S>))
        .route("/admin/users/{id}/disabled", post(admin::set_disabled::<S>))
        .route("/admin/users/{id}/plan", post(admin::assign_plan::<S>))
        .route(
            "/admin/users/{id}/tokens",
            post(admin::grant_user_tokens::<S>),
        )
        .route(
            "/admin/companies/{id}/tokens",
            post(admin::grant_company_tokens::<S>),
        )
        .route("/admin/audit", get(admin::audit::<S>))
        .route("/static/{file}", get(static_file))
}

/// The stylesheet and scripts, compiled in.
async fn static_file(axum::extract::Path(file): axum::extract::Path<String>) -> Response {
    let (body, content_type) = match file.as_str() {
        "app.css" => (
            include_str!("../../static/app.css"),
            "text/css; charset=utf-8",
        ),
        "chat.js" => (
            include_str!("../../static/chat.js"),
            "text/javascript; charset=utf-8",
        ),
        "forms.js" => (
            include_str!("../../static/forms.js"),
            "text/javascript; charset=utf-8",
        ),
        "favicon.svg" => (include_str!("../../static/favicon.svg"), "image/svg+xml"),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

/// What every page's layout needs: the language, who is signed in, the CSRF token for forms.
pub struct PageContext {
    pub lang: LanguageIdentifier,
    pub user: Option<User>,
    pub csrf: String,
    pub notice: Option<String>,
    pub error: Option<String>,
}

impl PageContext {
    /// The text for `key` in the page's language.
    pub fn t(&self, key: &str) -> String {
        LOCALES.lookup(&self.lang, key)
    }

    /// The message for `?notice=KEY` (only known keys: the query string is not trusted text).
    pub fn notice_text(&self) -> Option<String> {
        let key = format!("notice-{}", self.notice.as_deref()?);
        LOCALES.try_lookup(&self.lang, &key)
    }

    pub fn lang_code(&self) -> String {
        self.lang.to_string()
    }

    pub fn role_is(&self, role: &str) -> bool {
        self.user
            .as_ref()
            .is_some_and(|u| role_name(&u.role) == role)
    }

    pub fn signed_in(&self) -> bool {
        self.user.is_some()
    }
}

pub fn role_name(role: &Role) -> &'static str {
    match role {
        Role::PlatformAdmin => "admin",
        Role::CompanyManager => "manager",
        Role::Employee => "employee",
        Role::Individual => "individual",
    }
}

fn lang_of(locale: Locale) -> LanguageIdentifier {
    locale.as_str().parse().unwrap_or_default()
}

/// The language for a visitor: the `bp_lang` cookie, then `Accept-Language`, then pt-BR.
fn visitor_locale(headers: &HeaderMap) -> Locale {
    let jar = CookieJar::from_headers(headers);
    if let Some(locale) = jar.get(LANG_COOKIE).and_then(|c| Locale::parse(c.value())) {
        return locale;
    }
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.split(',')
                .map(|part| part.split(';').next().unwrap_or("").trim())
                .find_map(Locale::parse)
        })
        .unwrap_or_default()
}

const LANG_COOKIE: &str = "bp_lang";
/// Double-submit CSRF cookie for the forms shown before there is a session.
const FORM_COOKIE: &str = "bp_form";

/// A signed-in person on a page. Anyone else is sent to the sign-in page.
pub struct SignedIn {
    pub user: User,
    pub session: Session,
    pub actor: Actor,
    pub token: String,
}

impl SignedIn {
    pub fn context(&self, query: &Notice) -> PageContext {
        PageContext {
            lang: lang_of(self.user.locale),
            user: Some(self.user.clone()),
            csrf: self.session.csrf_token.clone(),
            notice: query.notice.clone(),
            error: query.error.clone(),
        }
    }
}

impl<S: Persistence> FromRequestParts<AppState<S>> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState<S>) -> Result<Self, Response> {
        let jar = CookieJar::from_headers(&parts.headers);
        let Some(token) = jar.get(SESSION_COOKIE).map(|c| c.value().to_string()) else {
            return Err(Redirect::to("/signin").into_response());
        };
        match state.accounts.authenticate(&token).await {
            Ok((user, session)) => Ok(SignedIn {
                actor: Actor::of(&user, client_ip(parts)),
                user,
                session,
                token,
            }),
            Err(_) => Err(Redirect::to("/signin").into_response()),
        }
    }
}

/// A form posted by a signed-in person, with its CSRF token checked: a missing or wrong token
/// gets 403 and the handler never runs.
pub struct SignedInForm<T> {
    pub signed: SignedIn,
    pub form: T,
}

#[derive(serde::Deserialize)]
struct CsrfField {
    #[serde(default)]
    csrf: String,
}

impl<S: Persistence, T: DeserializeOwned> FromRequest<AppState<S>> for SignedInForm<T> {
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState<S>) -> Result<Self, Response> {
        let (mut parts, body) = request.into_parts();
        let signed = SignedIn::from_request_parts(&mut parts, state).await?;
        let page = signed.context(&Notice::default());
        let bytes = axum::body::to_bytes(body, state.settings.upload_limit_bytes)
            .await
            .map_err(|_| error_page(&page, StatusCode::PAYLOAD_TOO_LARGE, "error-too-large"))?;
        let csrf: CsrfField = serde_urlencoded::from_bytes(&bytes).unwrap_or(CsrfField {
            csrf: String::new(),
        });
        if !verify_csrf(&signed.session, &csrf.csrf) {
            return Err(error_page(&page, StatusCode::FORBIDDEN, "error-csrf"));
        }
        let form = serde_urlencoded::from_bytes(&bytes)
            .map_err(|_| error_page(&page, StatusCode::BAD_REQUEST, "error-bad-form"))?;
        Ok(SignedInForm { signed, form })
    }
}

/// `?notice=…&error=…` after a redirect: what the last action did.
#[derive(Debug, Default, serde::Deserialize)]
pub struct Notice {
    pub notice: Option<String>,
    pub error: Option<String>,
}

/// Redirects to `path` telling the page what happened.
fn back(path: &str, outcome: Result<&str, String>) -> Response {
    let query = match outcome {
        Ok(notice) => serde_urlencoded::to_string([("notice", notice)]),
        Err(error) => serde_urlencoded::to_string([("error", error.as_str())]),
    }
    .unwrap_or_default();
    let separator = if path.contains('?') { '&' } else { '?' };
    Redirect::to(&format!("{path}{separator}{query}")).into_response()
}

/// Redirects back to `path` with `notice` when the action succeeded; see [`failed`] otherwise.
fn outcome<T, E: Into<ApiError>>(
    signed: &SignedIn,
    path: &str,
    result: Result<T, E>,
    notice: &str,
) -> Response {
    match result {
        Ok(_) => back(path, Ok(notice)),
        Err(e) => failed(signed, path, e),
    }
}

/// A refused action (403: not theirs to do; 404: an id that is unknown or another company's)
/// gets the error page with that status, saying no more than a page they may not open would.
/// Any other error is about the input of an action they may do: back to `path` with the message.
fn failed(signed: &SignedIn, path: &str, e: impl Into<ApiError>) -> Response {
    let e = e.into();
    if matches!(e.status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND) {
        api_error_page(&signed.context(&Notice::default()), e)
    } else {
        back(path, Err(e.message))
    }
}

/// The error's message as shown on a page (domain messages are safe to show).
fn message(e: impl Into<ApiError>) -> String {
    e.into().message
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    page: &'a PageContext,
    status: u16,
    message: String,
}

/// A generic error page: the status and a short message, nothing internal.
pub fn error_page(page: &PageContext, status: StatusCode, key: &str) -> Response {
    render_with_status(
        status,
        &ErrorPage {
            page,
            status: status.as_u16(),
            message: page.t(key),
        },
    )
}

/// An API error as a page: forbidden and not-found keep their status and say little.
fn api_error_page(page: &PageContext, e: ApiError) -> Response {
    let key = match e.status {
        StatusCode::FORBIDDEN => "error-forbidden",
        StatusCode::NOT_FOUND => "error-not-found",
        StatusCode::TOO_MANY_REQUESTS => "error-too-many",
        s if s.is_server_error() => "error-unavailable",
        _ => {
            return render_with_status(
                e.status,
                &ErrorPage {
                    page,
                    status: e.status.as_u16(),
                    message: e.message,
                },
            );
        }
    };
    let mut response = error_page(page, e.status, key);
    if let Some(secs) = e.retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, secs.into());
    }
    response
}

fn render(template: &impl Template) -> Response {
    render_with_status(StatusCode::OK, template)
}

fn render_with_status(status: StatusCode, template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

/// The session cookie: HttpOnly, SameSite=Lax, Secure when the public URL is https.
fn session_cookie(token: String, secure: bool) -> Cookie<'static> {
    Cookie::build((SESSION_COOKIE, token))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .build()
}

/// A page context for someone not signed in, with the double-submit form token (set as a
/// cookie in `jar` if not there yet).
fn visitor_context<S: Persistence>(
    state: &AppState<S>,
    headers: &HeaderMap,
    jar: CookieJar,
    notice: &Notice,
) -> (PageContext, CookieJar) {
    use domain::ports::Secrets;
    let (token, jar) = match jar.get(FORM_COOKIE).map(|c| c.value().to_string()) {
        Some(token) => (token, jar),
        None => {
            let token = state.env.new_secret();
            let cookie = Cookie::build((FORM_COOKIE, token.clone()))
                .path("/")
                .http_only(true)
                .same_site(SameSite::Strict)
                .secure(state.settings.uses_tls())
                .build();
            (token, jar.add(cookie))
        }
    };
    let page = PageContext {
        lang: lang_of(visitor_locale(headers)),
        user: None,
        csrf: token,
        notice: notice.notice.clone(),
        error: notice.error.clone(),
    };
    (page, jar)
}

/// Checks a visitor form's token against its cookie.
fn visitor_form_ok(jar: &CookieJar, submitted: &str) -> bool {
    jar.get(FORM_COOKIE)
        .is_some_and(|c| tokens_match(c.value(), submitted))
}
