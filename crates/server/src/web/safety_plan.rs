//! The safety plan's pages (fill in, save, export, delete with a confirmation step) and the
//! grounding exercise. The plan's text is the person's own: these pages are never cached, and
//! a refused save shows the form again with what they wrote rather than losing it.

use super::*;
use crate::routes::{attachment, no_store};
use axum::extract::{Query, State};
use chrono::{DateTime, Utc};
use domain::safety_plan::SafetyPlan;
use domain::services::safety_plan::{SafetyPlanError, Step, export_markdown};

/// One step as the form shows it.
struct StepView {
    key: &'static str,
    number: Option<usize>,
    title: &'static str,
    hint: String,
    example: String,
    text: String,
    /// The step the last save was refused for.
    invalid: bool,
}

#[derive(Template)]
#[template(path = "safety_plan.html")]
struct PlanPage<'a> {
    page: &'a PageContext,
    steps: Vec<StepView>,
    /// When the plan was last saved; `None` before the first save.
    saved: Option<String>,
    /// Why the plan was not saved.
    problem: Option<String>,
}

fn steps(
    page: &PageContext,
    locale: Locale,
    plan: &SafetyPlan,
    invalid: Option<Step>,
) -> Vec<StepView> {
    Step::ALL
        .into_iter()
        .map(|step| {
            let name = step.key().replace('_', "-");
            StepView {
                key: step.key(),
                number: step.number(),
                title: step.title(locale),
                hint: page.t(&format!("safety-plan-{name}-hint")),
                example: page.t(&format!("safety-plan-{name}-example")),
                text: step.of(plan).to_string(),
                invalid: invalid == Some(step),
            }
        })
        .collect()
}

/// When a plan was saved, the way the person's language writes dates.
pub(super) fn saved_at(at: DateTime<Utc>, locale: Locale) -> String {
    let format = match locale {
        Locale::PtBr => "%d/%m/%Y %H:%M UTC",
        Locale::En => "%Y-%m-%d %H:%M UTC",
    };
    at.format(format).to_string()
}

/// `GET /safety-plan`: the six steps and the reasons for living, filled with the saved plan.
pub async fn plan_page<S: Persistence>(
    State(state): State<AppState<S>>,
    signed: SignedIn,
    Query(notice): Query<Notice>,
) -> Response {
    let page = signed.context(&notice);
    let locale = signed.user.locale;
    let (plan, saved) = match state.safety_plans.get(&signed.actor).await {
        Ok(Some((plan, at))) => (plan, Some(saved_at(at, locale))),
        Ok(None) => (SafetyPlan::default(), None),
        Err(e) => return api_error_page(&page, e.into()),
    };
    no_store(render(&PlanPage {
        steps: steps(&page, locale, &plan, None),
        page: &page,
        saved,
        problem: None,
    }))
}

/// `POST /safety-plan`: saves and goes back to the page. A refused save, or one the storage
/// failed, shows the form again with what the person wrote: their words are never lost.
pub async fn save<S: Persistence>(
    State(state): State<AppState<S>>,
    submitted: SignedInForm<SafetyPlan>,
) -> Response {
    let SignedInForm { signed, form } = submitted;
    let (status, invalid, problem) =
        match state.safety_plans.save(&signed.actor, form.clone()).await {
            Ok(_) => return back("/safety-plan", Ok("safety-plan-saved")),
            Err(SafetyPlanError::Empty) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                "safety-plan-error-empty",
            ),
            Err(SafetyPlanError::TooLong(step)) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(step),
                "safety-plan-error-too-long",
            ),
            Err(e) => (ApiError::from(e).status, None, "error-unavailable"),
        };
    let page = signed.context(&Notice::default());
    // The saved date is left out: what the form shows now is not what is saved.
    no_store(render_with_status(
        status,
        &PlanPage {
            steps: steps(&page, signed.user.locale, &form, invalid),
            problem: Some(page.t(problem)),
            page: &page,
            saved: None,
        },
    ))
}

#[derive(Template)]
#[template(path = "safety_plan_delete.html")]
struct DeletePage<'a> {
    page: &'a PageContext,
}

#[derive(serde::Deserialize)]
pub struct DeleteForm {
    #[serde(default)]
    confirm: String,
}

/// `POST /safety-plan/delete`: without `confirm=yes`, asks first (a page that works without
/// script); with it, really deletes.
pub async fn delete<S: Persistence>(
    State(state): State<AppState<S>>,
    submitted: SignedInForm<DeleteForm>,
) -> Response {
    let SignedInForm { signed, form } = submitted;
    if form.confirm != "yes" {
        return render(&DeletePage {
            page: &signed.context(&Notice::default()),
        });
    }
    outcome(
        &signed,
        "/safety-plan",
        state.safety_plans.delete(&signed.actor).await,
        "safety-plan-deleted",
    )
}

/// `GET /safety-plan/export`: the plan as a Markdown file to keep or print.
pub async fn export<S: Persistence>(
    State(state): State<AppState<S>>,
    signed: SignedIn,
) -> Response {
    match state.safety_plans.get(&signed.actor).await {
        Ok(Some((plan, at))) => attachment(
            "text/markdown; charset=utf-8",
            &format!("safety-plan-{}.md", at.format("%Y-%m-%d")),
            export_markdown(&plan, signed.user.locale),
        ),
        Ok(None) => back("/safety-plan", Ok("safety-plan-nothing")),
        Err(e) => failed(&signed, "/safety-plan", e),
    }
}

#[derive(Template)]
#[template(path = "grounding.html")]
struct GroundingPage<'a> {
    page: &'a PageContext,
}

/// `GET /grounding`: paced breathing and the 5-4-3-2-1 senses, with the crisis lines.
pub async fn grounding(signed: SignedIn) -> Response {
    render(&GroundingPage {
        page: &signed.context(&Notice::default()),
    })
}
