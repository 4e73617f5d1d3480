//! The platform admin's dashboard: companies (create, edit, delete with confirmation, custom
//! system prompt), users (search, role, disable), usage per company, the audit log, and the
//! library upload form.

use super::*;
use axum::extract::{Path, Query, State};
use domain::audit::AuditEntry;
use domain::budget::{Subject, UsageSummary};
use domain::company::Company;
use domain::library::Document;
use domain::ports::UserQuery;
use domain::services::companies::CompanyDraft;
use domain::{CompanyId, UserId};

#[derive(serde::Deserialize, Default)]
pub struct DashboardQuery {
    q: Option<String>,
    notice: Option<String>,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "admin.html")]
struct Dashboard<'a> {
    page: &'a PageContext,
    companies: Vec<(Company, UsageSummary)>,
    users: Vec<User>,
    search: String,
    plans: Vec<String>,
    documents: Vec<Document>,
}

/// The plans a company can be on (individual plans are not offered in company forms).
fn company_plans(catalog: &domain::plan::PlanCatalog) -> Vec<String> {
    catalog
        .plans
        .iter()
        .filter(|p| p.audience == domain::plan::PlanAudience::Company)
        .map(|p| p.id.clone())
        .collect()
}

/// Users listed per page of the dashboard.
const USERS_SHOWN: u64 = 100;

pub async fn dashboard<S: Persistence>(
    State(state): State<AppState<S>>,
    signed: SignedIn,
    Query(query): Query<DashboardQuery>,
) -> Response {
    let page = signed.context(&Notice {
        notice: query.notice,
        error: query.error,
    });
    let actor = &signed.actor;
    let search = query.q.unwrap_or_default();
    let loaded = async {
        let companies = state.companies.list(actor).await?;
        let users = state
            .accounts
            .list_users(
                actor,
                &UserQuery {
                    search: Some(search.trim().to_string()).filter(|s| !s.is_empty()),
                    company_id: None,
                    offset: 0,
                    limit: USERS_SHOWN,
                },
            )
            .await?;
        let documents = state.library.documents().await?;
        Ok::<_, ApiError>((companies, users, documents))
    };
    let (companies, users, documents) = match loaded.await {
        Ok(loaded) => loaded,
        Err(e) => return api_error_page(&page, e),
    };
    let pools = state
        .budgets
        .pools(&companies)
        .await
        .unwrap_or_else(|_| vec![Default::default(); companies.len()]);
    let with_usage = companies.into_iter().zip(pools).collect();
    render(&Dashboard {
        page: &page,
        companies: with_usage,
        users,
        search,
        plans: company_plans(&state.catalog),
        documents,
    })
}

#[derive(serde::Deserialize)]
pub struct CompanyForm {
    name: String,
    seats: u32,
    plan: String,
    #[serde(default)]
    system_prompt: String,
}

impl CompanyForm {
    fn draft(self) -> CompanyDraft {
        CompanyDraft {
            name: self.name,
            seat_limit: self.seats,
            plan_id: self.plan,
            system_prompt: Some(self.system_prompt.trim().to_string()).filter(|p| !p.is_empty()),
        }
    }
}

pub async fn create_company<S: Persistence>(
    State(state): State<AppState<S>>,
    submitted: SignedInForm<CompanyForm>,
) -> Response {
    let SignedInForm { signed, form } = submitted;
    match state.companies.create(&signed.actor, &form.draft()).await {
        Ok(company) => back(
            &format!("/admin/companies/{}", company.id),
            Ok("company-created"),
        ),
        Err(e) => failed(&signed, "/admin", e),
    }
}

#[derive(Template)]
#[template(path = "admin_company.html")]
struct CompanyPage<'a> {
    page: &'a PageContext,
    company: Company,
    plans: Vec<String>,
}

pub async fn company_page<S: Persistence>(
    State(state): State<AppState<S>>,
    signed: SignedIn,
    Path(id): Path<i64>,
    Query(notice): Query<Notice>,
) -> Response {
    let page = signed.context(&notice);
    if signed.user.role != Role::PlatformAdmin {
        return error_page(&page, StatusCode::FORBIDDEN, "error-forbidden");
    }
    match state.companies.company(&signed.actor, CompanyId(id)).await {
        Ok(company) => render(&CompanyPage {
            page: &page,
            company,
            plans: company_plans(&state.catalog),
        }),
        Err(e) => api_error_page(&page, e.into()),
    }
}

pub async fn update_company<S: Persistence>(
    State(state): State<AppState<S>>,
    Path(id): Path<i64>,
    submitted: SignedInForm<CompanyForm>,
) -> Response {
    let SignedInForm { signed, form } = submitted;
    let path = format!("/admin/companies/{id}");
    outcome(
        &signed,
        &path,
        state
            .companies
            .update(&signed.actor, CompanyId(id), &form.draft())
            .await,
        "company-saved",
    )
}

#[derive(serde::Deserialize)]
pub struct DeleteForm {
    confirm: String,
}

pub async fn delete_company<S: Persistence>(
    State(state): State<AppState<S>>,
    Path(id): Path<i64>,
    submitted: SignedInForm<DeleteForm>,
) -> Response {
    let SignedInForm { signed, form } = submitted;
    match state
        .companies
        .delete(&signed.actor, CompanyId(id), &form.confirm)
        .await
    {
        Ok(()) => back("/admin", Ok("company-deleted")),
        Err(e) => failed(&signed, &format!("/admin/companies/{id}"), e),
    }
}

#[derive(serde::Deserialize)]
pub struct RoleForm {
    role: String,
    #[serde(default)]
    company: String,
}

pub async fn set_role<S: Persistence>(
    State(state): State<AppState<S>>,
    Path(id): Path<i64>,
    submitted: SignedInForm<RoleForm>,
) -> Response {
    let SignedInForm { signed, form } = submitted;
    let role = match form.role.as_str() {
        "admin" => Role::PlatformAdmin,
        "manager" => Role::CompanyManager,
        "employee" => Role::Employee,
        "individual" => Role::Individual,
        _ => return back("/admin", Err("unknown role".into())),
    };
    let company = form.company.trim().parse::<i64>().ok().map(CompanyId);
    outcome(
        &signed,
        "/admin",
        state
            .accounts
            .set_role(&signed.actor, UserId(id), role, company)
            .await,
        "user-saved",
    )
}

#[derive(serde::Deserialize)]
pub struct DisabledForm {
    disabled: bool,
}

pub async fn set_disabled<S: Persistence>(
    State(state): State<AppState<S>>,
    Path(id): Path<i64>,
    submitted: SignedInForm<DisabledForm>,
) -> Response {
    let SignedInForm { signed, form } = submitted;
    outcome(
        &signed,
        "/admin",
        state
            .accounts
            .set_disabled(&signed.actor, UserId(id), form.disabled)
            .await,
        "user-saved",
    )
}

#[derive(serde::Deserialize)]
pub struct PlanForm {
    plan: String,
}

/// The admin assigns an individual plan by hand (billing off, goodwill, support); audited.
pub async fn assign_plan<S: Persistence>(
    State(state): State<AppState<S>>,
    Path(id): Path<i64>,
    submitted: SignedInForm<PlanForm>,
) -> Response {
    let SignedInForm { signed, form } = submitted;
    outcome(
        &signed,
        "/admin",
        state
            .accounts
            .assign_plan(&signed.actor, UserId(id), form.plan.trim())
            .await,
        "user-saved",
    )
}

#[derive(serde::Deserialize)]
pub struct TokensForm {
    /// Negative takes tokens back.
    tokens: String,
}

async fn grant<S: Persistence>(
    state: &AppState<S>,
    signed: &SignedIn,
    subject: Subject,
    tokens: &str,
    path: &str,
) -> Response {
    let Ok(tokens) = tokens.trim().parse::<i64>() else {
        return back(
            path,
            Err("the number of tokens must be a whole number".into()),
        );
    };
    outcome(
        signed,
        path,
        state
            .billing
            .grant_tokens(&signed.actor, subject, tokens)
            .await,
        "tokens-granted",
    )
}

/// The admin adds purchased tokens to a person by hand; audited.
pub async fn grant_user_tokens<S: Persistence>(
    State(state): State<AppState<S>>,
    Path(id): Path<i64>,
    submitted: SignedInForm<TokensForm>,
) -> Response {
    let SignedInForm { signed, form } = submitted;
    let subject = Subject::User(UserId(id));
    grant(&state, &signed, subject, &form.tokens, "/admin").await
}

/// The admin adds purchased tokens to a company's pool by hand; audited.
pub async fn grant_company_tokens<S: Persistence>(
    State(state): State<AppState<S>>,
    Path(id): Path<i64>,
    submitted: SignedInForm<TokensForm>,
) -> Response {
    let SignedInForm { signed, form } = submitted;
    let path = format!("/admin/companies/{id}");
    let subject = Subject::Company(CompanyId(id));
    grant(&state, &signed, subject, &form.tokens, &path).await
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage<'a> {
    page: &'a PageContext,
    entries: Vec<AuditEntry>,
}

pub async fn audit<S: Persistence>(
    State(state): State<AppState<S>>,
    signed: SignedIn,
    Query(notice): Query<Notice>,
) -> Response {
    let page = signed.context(&notice);
    match state.accounts.audit_log(&signed.actor, 0, 200).await {
        Ok(entries) => render(&AuditPage {
            page: &page,
            entries,
        }),
        Err(e) => api_error_page(&page, e.into()),
    }
}
