//! The company manager's page: employees (invite, remove, personal monthly cap), pending
//! invitations, the seat limit, and the company's usage this month per person (token counts
//! only, never message text). An admin may open it for any company with `?company=ID`.

use super::*;
use axum::extract::{Path, Query, State};
use domain::company::{Company, Invitation};
use domain::services::budgets::CompanyUsage;
use domain::{CompanyId, UserId};

#[derive(serde::Deserialize, Default)]
pub struct ManagerQuery {
    company: Option<i64>,
    #[serde(flatten)]
    notice: NoticeFields,
}

#[derive(serde::Deserialize, Default)]
pub struct NoticeFields {
    notice: Option<String>,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "manager.html")]
struct ManagerPage<'a> {
    page: &'a PageContext,
    company: Company,
    members: Vec<(User, u64)>,
    invitations: Vec<Invitation>,
    usage: CompanyUsage,
    link: Option<String>,
    /// Months with a usage report to download, newest first.
    reports: Vec<String>,
}

fn invitation_link(public_url: &str, secret: &str) -> String {
    format!("{}/invite/{secret}", public_url.trim_end_matches('/'))
}

/// The company asked for with `?company=`, else the person's own. The service decides whether
/// they may see it: another company's manager gets 404, like any unknown company.
fn company_of(signed: &SignedIn, asked: Option<i64>) -> Option<CompanyId> {
    asked.map(CompanyId).or(signed.user.company_id)
}

pub async fn manager_page<S: Persistence>(
    State(state): State<AppState<S>>,
    signed: SignedIn,
    Query(query): Query<ManagerQuery>,
) -> Response {
    let mut page = signed.context(&Notice {
        notice: query.notice.notice.clone(),
        error: None,
    });
    // An invitation link is passed back once, to be handed on when no e-mail is sent.
    let link = query
        .notice
        .notice
        .as_deref()
        .and_then(|n| n.strip_prefix("invited:"))
        .map(|secret| invitation_link(&state.settings.public_url, secret));
    if link.is_some() {
        page.notice = Some("invited".into());
    }
    page.error = query.notice.error;
    let Some(id) = company_of(&signed, query.company) else {
        return error_page(&page, StatusCode::FORBIDDEN, "error-forbidden");
    };
    let actor = &signed.actor;
    let loaded = async {
        let company = state.companies.company(actor, id).await?;
        let members = state.companies.members(actor, id).await?;
        let invitations = state.companies.pending_invitations(actor, id).await?;
        let reports = super::reports::months(&state, &signed, id).await?;
        Ok::<_, ApiError>((company, members, invitations, reports))
    };
    let (company, members, invitations, reports) = match loaded.await {
        Ok(loaded) => loaded,
        Err(e) => return api_error_page(&page, e),
    };
    let usage = match state.budgets.company(&company, &members).await {
        Ok(usage) => usage,
        Err(e) => return api_error_page(&page, e.into()),
    };
    let members = members
        .into_iter()
        .map(|m| {
            let used = usage
                .members
                .iter()
                .find(|(id, _)| *id == m.id)
                .map_or(0, |(_, c)| c.used);
            (m, used)
        })
        .collect();
    render(&ManagerPage {
        page: &page,
        company,
        members,
        invitations,
        usage,
        link,
        reports,
    })
}

/// Where to go back to after an action on company `id`.
fn manager_path(signed: &SignedIn, id: CompanyId) -> String {
    if signed.user.role == Role::PlatformAdmin {
        format!("/manager?company={id}")
    } else {
        "/manager".into()
    }
}

#[derive(serde::Deserialize)]
pub struct InviteForm {
    company: i64,
    email: String,
    role: String,
}

pub async fn invite<S: Persistence>(
    State(state): State<AppState<S>>,
    submitted: SignedInForm<InviteForm>,
) -> Response {
    let SignedInForm { signed, form } = submitted;
    let id = CompanyId(form.company);
    let path = manager_path(&signed, id);
    let role = if form.role == "manager" {
        Role::CompanyManager
    } else {
        Role::Employee
    };
    let (invitation, secret) = match state
        .companies
        .invite(&signed.actor, id, &form.email, role)
        .await
    {
        Ok(created) => created,
        Err(e) => return failed(&signed, &path, e),
    };
    if !state.mailer.is_enabled() {
        return back(&path, Ok(&format!("invited:{secret}")));
    }
    let company = state
        .store
        .company_by_id(id)
        .await
        .ok()
        .flatten()
        .map(|c| c.name)
        .unwrap_or_default();
    let link = invitation_link(&state.settings.public_url, &secret);
    match state
        .mailer
        .send_invitation(
            invitation.email.as_str(),
            &company,
            &link,
            signed.user.locale,
        )
        .await
    {
        Ok(_) => back(&path, Ok("invitation-sent")),
        Err(e) => {
            // The invitation exists: hand the link to the manager rather than lose it.
            tracing::warn!(error = %e, "invitation e-mail not sent");
            back(&path, Ok(&format!("invited:{secret}")))
        }
    }
}

#[derive(serde::Deserialize)]
pub struct CompanyForm {
    company: i64,
}

pub async fn remove<S: Persistence>(
    State(state): State<AppState<S>>,
    Path(user): Path<i64>,
    submitted: SignedInForm<CompanyForm>,
) -> Response {
    let SignedInForm { signed, form } = submitted;
    let id = CompanyId(form.company);
    let path = manager_path(&signed, id);
    outcome(
        &signed,
        &path,
        state
            .companies
            .remove_member(&signed.actor, id, UserId(user))
            .await,
        "member-removed",
    )
}

#[derive(serde::Deserialize)]
pub struct CapForm {
    company: i64,
    /// Empty means no personal cap.
    cap: String,
}

pub async fn set_cap<S: Persistence>(
    State(state): State<AppState<S>>,
    Path(user): Path<i64>,
    submitted: SignedInForm<CapForm>,
) -> Response {
    let SignedInForm { signed, form } = submitted;
    let id = CompanyId(form.company);
    let path = manager_path(&signed, id);
    let cap = match form.cap.trim() {
        "" => None,
        text => match text.parse::<u64>() {
            Ok(cap) => Some(cap),
            Err(_) => {
                return back(
                    &path,
                    Err("the cap must be a whole number of tokens".into()),
                );
            }
        },
    };
    outcome(
        &signed,
        &path,
        state
            .companies
            .set_personal_cap(&signed.actor, id, UserId(user), cap)
            .await,
        "cap-saved",
    )
}

#[derive(serde::Deserialize)]
pub struct RevokeForm {
    company: i64,
    token_hash: String,
}

pub async fn revoke<S: Persistence>(
    State(state): State<AppState<S>>,
    submitted: SignedInForm<RevokeForm>,
) -> Response {
    let SignedInForm { signed, form } = submitted;
    let id = CompanyId(form.company);
    let path = manager_path(&signed, id);
    outcome(
        &signed,
        &path,
        state
            .companies
            .revoke_invitation(&signed.actor, id, &form.token_hash)
            .await,
        "invitation-revoked",
    )
}
