//! Sign-in, sign-up, sign-out, the profile (plan, usage, password, language), the plans and the
//! invitation link.

use super::*;
use crate::limits;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::response::Redirect;
use domain::account::SessionKind;
use domain::billing::CheckoutKind;
use domain::budget::UsageSummary;
use domain::company::Invitation;
use domain::plan::{Plan, PlanAudience, TokenPack};
use domain::services::accounts::NewAccount;
use domain::services::billing::{BillingError, payer_of};
use std::net::SocketAddr;

/// `/`: the chat for people signed in, the sign-in page for everyone else.
pub async fn home<S: Persistence>(State(state): State<AppState<S>>, jar: CookieJar) -> Redirect {
    let signed_in = match jar.get(SESSION_COOKIE) {
        Some(cookie) => state.accounts.authenticate(cookie.value()).await.is_ok(),
        None => false,
    };
    Redirect::to(if signed_in { "/chat" } else { "/signin" })
}

#[derive(Template)]
#[template(path = "signin.html")]
struct SigninPage<'a> {
    page: &'a PageContext,
    email: String,
}

pub async fn signin_page<S: Persistence>(
    State(state): State<AppState<S>>,
    headers: HeaderMap,
    jar: CookieJar,
    Query(notice): Query<Notice>,
) -> Response {
    let (page, jar) = visitor_context(&state, &headers, jar, &notice);
    (
        jar,
        render(&SigninPage {
            page: &page,
            email: String::new(),
        }),
    )
        .into_response()
}

#[derive(serde::Deserialize)]
pub struct SigninForm {
    #[serde(default)]
    csrf: String,
    email: String,
    password: String,
}

/// Where a person lands after signing in.
fn landing(role: Role) -> &'static str {
    match role {
        Role::PlatformAdmin => "/admin",
        Role::CompanyManager => "/manager",
        Role::Employee | Role::Individual => "/chat",
    }
}

pub async fn signin<S: Persistence>(
    State(state): State<AppState<S>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    jar: CookieJar,
    axum::Form(form): axum::Form<SigninForm>,
) -> Response {
    let (page, jar) = visitor_context(&state, &headers, jar, &Notice::default());
    if !visitor_form_ok(&jar, &form.csrf) {
        return error_page(&page, StatusCode::FORBIDDEN, "error-csrf");
    }
    if let Err(e) = limits::sign_in_attempt(&state, Some(peer.ip()), &form.email).await {
        return api_error_page(&page, e);
    }
    match state
        .accounts
        .sign_in(&form.email, &form.password, SessionKind::Web)
        .await
    {
        Ok((user, issued)) => {
            // A new session at every sign-in: a token planted before sign-in is worthless.
            let jar = jar.add(session_cookie(issued.token, state.settings.uses_tls()));
            (jar, Redirect::to(landing(user.role))).into_response()
        }
        Err(e) => {
            let page = PageContext {
                error: Some(message(e)),
                ..page
            };
            let html = render_with_status(
                StatusCode::UNAUTHORIZED,
                &SigninPage {
                    page: &page,
                    email: form.email,
                },
            );
            (jar, html).into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "signup.html")]
struct SignupPage<'a> {
    page: &'a PageContext,
    email: String,
    name: String,
}

pub async fn signup_page<S: Persistence>(
    State(state): State<AppState<S>>,
    headers: HeaderMap,
    jar: CookieJar,
    Query(notice): Query<Notice>,
) -> Response {
    let (page, jar) = visitor_context(&state, &headers, jar, &notice);
    let html = render(&SignupPage {
        page: &page,
        email: String::new(),
        name: String::new(),
    });
    (jar, html).into_response()
}

#[derive(serde::Deserialize)]
pub struct SignupForm {
    #[serde(default)]
    csrf: String,
    email: String,
    name: String,
    password: String,
}

pub async fn signup<S: Persistence>(
    State(state): State<AppState<S>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    jar: CookieJar,
    axum::Form(form): axum::Form<SignupForm>,
) -> Response {
    let locale = visitor_locale(&headers);
    let (page, jar) = visitor_context(&state, &headers, jar, &Notice::default());
    if !visitor_form_ok(&jar, &form.csrf) {
        return error_page(&page, StatusCode::FORBIDDEN, "error-csrf");
    }
    if let Err(e) = limits::sign_in_attempt(&state, Some(peer.ip()), &form.email).await {
        return api_error_page(&page, e);
    }
    let created = state
        .accounts
        .sign_up(NewAccount {
            email: &form.email,
            password: &form.password,
            display_name: &form.name,
            locale,
        })
        .await;
    let signed_in = match created {
        Ok(_) => {
            state
                .accounts
                .sign_in(&form.email, &form.password, SessionKind::Web)
                .await
        }
        Err(e) => Err(e),
    };
    match signed_in {
        Ok((_, issued)) => {
            let jar = jar.add(session_cookie(issued.token, state.settings.uses_tls()));
            (jar, Redirect::to("/chat")).into_response()
        }
        Err(e) => {
            let page = PageContext {
                error: Some(message(e)),
                ..page
            };
            let html = render_with_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &SignupPage {
                    page: &page,
                    email: form.email,
                    name: form.name,
                },
            );
            (jar, html).into_response()
        }
    }
}

#[derive(serde::Deserialize)]
pub struct Empty {}

/// Ends the session everywhere it is used and forgets the cookie.
pub async fn signout<S: Persistence>(
    State(state): State<AppState<S>>,
    jar: CookieJar,
    submitted: SignedInForm<Empty>,
) -> Response {
    let _ = state.accounts.sign_out(&submitted.signed.token).await;
    let jar = jar.remove(Cookie::build(SESSION_COOKIE).path("/"));
    (jar, Redirect::to("/signin")).into_response()
}

#[derive(Template)]
#[template(path = "profile.html")]
struct ProfilePage<'a> {
    page: &'a PageContext,
    user: &'a User,
    plan: String,
    usage: UsageSummary,
    /// When the person's safety plan was last saved (`None`: not yet).
    plan_saved: Option<String>,
}

pub async fn profile<S: Persistence>(
    State(state): State<AppState<S>>,
    signed: SignedIn,
    Query(notice): Query<Notice>,
) -> Response {
    let page = signed.context(&notice);
    let user = &signed.user;
    let usage = match state.budgets.usage(user).await {
        Ok(usage) => usage,
        Err(e) => return api_error_page(&page, e.into()),
    };
    let plan_id = usage.company.as_ref().map_or(&user.plan_id, |c| &c.plan_id);
    let plan = state
        .catalog
        .get(plan_id)
        .map_or_else(|| plan_id.clone(), |p| p.name.clone());
    let plan_saved = match state.safety_plans.get(&signed.actor).await {
        Ok(saved) => saved.map(|(_, at)| super::safety_plan::saved_at(at, user.locale)),
        Err(e) => return api_error_page(&page, e.into()),
    };
    render(&ProfilePage {
        page: &page,
        user,
        plan,
        usage: usage.summary,
        plan_saved,
    })
}

#[derive(serde::Deserialize)]
pub struct PasswordForm {
    current: String,
    new: String,
}

/// Changes the password; every other session ends and this browser gets a fresh one.
pub async fn change_password<S: Persistence>(
    State(state): State<AppState<S>>,
    jar: CookieJar,
    submitted: SignedInForm<PasswordForm>,
) -> Response {
    let SignedInForm { signed, form } = submitted;
    match state
        .accounts
        .change_password(&signed.actor, &form.current, &form.new, SessionKind::Web)
        .await
    {
        Ok(issued) => {
            let jar = jar.add(session_cookie(issued.token, state.settings.uses_tls()));
            (jar, back("/profile", Ok("password-changed"))).into_response()
        }
        Err(e) => failed(&signed, "/profile", e),
    }
}

#[derive(serde::Deserialize)]
pub struct LanguageForm {
    locale: String,
}

pub async fn change_language<S: Persistence>(
    State(state): State<AppState<S>>,
    submitted: SignedInForm<LanguageForm>,
) -> Response {
    let SignedInForm { signed, form } = submitted;
    let Some(locale) = Locale::parse(&form.locale) else {
        return back("/profile", Err("unknown language".into()));
    };
    outcome(
        &signed,
        "/profile",
        state.accounts.set_locale(&signed.actor, locale).await,
        "language-changed",
    )
}

#[derive(Template)]
#[template(path = "plans.html")]
struct PlansPage<'a> {
    page: &'a PageContext,
    plans: Vec<&'a Plan>,
    packs: Vec<&'a TokenPack>,
    current: String,
    /// Whether online payment is configured at all.
    billing: bool,
    /// Whether this person may buy (individuals, and managers for their company).
    can_buy: bool,
}

pub async fn plans<S: Persistence>(
    State(state): State<AppState<S>>,
    signed: SignedIn,
    Query(notice): Query<Notice>,
) -> Response {
    let page = signed.context(&notice);
    let company_plan = match signed.user.company_id {
        Some(id) => state
            .store
            .company_by_id(id)
            .await
            .ok()
            .flatten()
            .map(|c| c.plan_id),
        None => None,
    };
    let audience_is_company = signed.user.role.belongs_to_company();
    let plans = state
        .catalog
        .plans
        .iter()
        .filter(|p| {
            p.company_only.is_none() && (p.audience == PlanAudience::Company) == audience_is_company
        })
        .collect();
    let can_buy = payer_of(&signed.actor).is_ok();
    render(&PlansPage {
        page: &page,
        plans,
        packs: state.catalog.packs.iter().collect(),
        current: company_plan.unwrap_or_else(|| signed.user.plan_id.clone()),
        billing: state.billing.configured(),
        can_buy,
    })
}

#[derive(serde::Deserialize)]
pub struct BuyForm {
    kind: CheckoutKind,
    item: String,
}

/// `POST /plans/checkout`: sends the buyer to the payment provider's checkout page.
pub async fn buy<S: Persistence>(
    State(state): State<AppState<S>>,
    submitted: SignedInForm<BuyForm>,
) -> Response {
    let SignedInForm { signed, form } = submitted;
    match state
        .billing
        .checkout(&signed.actor, form.kind, &form.item)
        .await
    {
        Ok(url) => Redirect::to(&url).into_response(),
        Err(e) => failed(&signed, "/plans", e),
    }
}

#[derive(serde::Deserialize)]
pub struct EmptyForm {}

/// `POST /plans/portal`: the provider's page to change or cancel the subscription.
pub async fn manage<S: Persistence>(
    State(state): State<AppState<S>>,
    submitted: SignedInForm<EmptyForm>,
) -> Response {
    let SignedInForm {
        signed,
        form: EmptyForm {},
    } = submitted;
    match state.billing.portal(&signed.actor).await {
        Ok(url) => Redirect::to(&url).into_response(),
        // Nothing bought yet is no refusal: back to the plans, which say how to buy.
        Err(e @ BillingError::NoCustomer) => back("/plans", Err(message(e))),
        Err(e) => failed(&signed, "/plans", e),
    }
}

#[derive(Template)]
#[template(path = "invite.html")]
struct InvitePage<'a> {
    page: &'a PageContext,
    invitation: &'a Invitation,
    company: String,
    secret: String,
}

pub async fn invite_page<S: Persistence>(
    State(state): State<AppState<S>>,
    headers: HeaderMap,
    jar: CookieJar,
    Path(secret): Path<String>,
    Query(notice): Query<Notice>,
) -> Response {
    let (page, jar) = visitor_context(&state, &headers, jar, &notice);
    let invitation = match state.companies.invitation(&secret).await {
        Ok(invitation) => invitation,
        Err(_) => {
            return (jar, error_page(&page, StatusCode::GONE, "error-invitation")).into_response();
        }
    };
    let company = state
        .store
        .company_by_id(invitation.company_id)
        .await
        .ok()
        .flatten()
        .map(|c| c.name)
        .unwrap_or_default();
    let html = render(&InvitePage {
        page: &page,
        invitation: &invitation,
        company,
        secret,
    });
    (jar, html).into_response()
}

#[derive(serde::Deserialize)]
pub struct AcceptForm {
    #[serde(default)]
    csrf: String,
    name: String,
    password: String,
}

/// Creates the invitee's account with the invitation's role and company, once, and signs in.
pub async fn accept_invite<S: Persistence>(
    State(state): State<AppState<S>>,
    headers: HeaderMap,
    jar: CookieJar,
    Path(secret): Path<String>,
    axum::Form(form): axum::Form<AcceptForm>,
) -> Response {
    let locale = visitor_locale(&headers);
    let (page, jar) = visitor_context(&state, &headers, jar, &Notice::default());
    if !visitor_form_ok(&jar, &form.csrf) {
        return error_page(&page, StatusCode::FORBIDDEN, "error-csrf");
    }
    let path = format!("/invite/{secret}");
    let invitation = match state.companies.invitation(&secret).await {
        Ok(invitation) => invitation,
        Err(_) => return error_page(&page, StatusCode::GONE, "error-invitation"),
    };
    let email = invitation.email.to_string();
    let user = match state
        .accounts
        .new_user(
            NewAccount {
                email: &email,
                password: &form.password,
                display_name: &form.name,
                locale,
            },
            invitation.role,
            Some(invitation.company_id),
        )
        .await
    {
        Ok(user) => user,
        Err(e) => return back(&path, Err(message(e))),
    };
    if let Err(e) = state.companies.accept(&secret, &user).await {
        return back(&path, Err(message(e)));
    }
    match state
        .accounts
        .sign_in(&email, &form.password, SessionKind::Web)
        .await
    {
        Ok((user, issued)) => {
            let jar = jar.add(session_cookie(issued.token, state.settings.uses_tls()));
            (jar, Redirect::to(landing(user.role))).into_response()
        }
        Err(_) => Redirect::to("/signin").into_response(),
    }
}
