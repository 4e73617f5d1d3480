//! `botpsicologo seed-demo`: a demo company with a manager, two employees, an individual and a
//! platform admin, so a newcomer can try every role. Running it again changes nothing.

use crate::state::AppState;
use domain::ports::{Persistence, Secrets};
use domain::services::accounts::{AccountError, NewAccount};
use domain::services::companies::CompanyDraft;
use domain::{Actor, Locale, Role, User};

pub const DEMO_COMPANY: &str = "Demo Ltda";

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("seeding failed: {0}")]
    Account(#[from] AccountError),
    #[error("seeding failed: {0}")]
    Company(#[from] domain::services::companies::CompanyError),
    #[error("seeding failed: {0}")]
    Store(#[from] domain::ports::StoreError),
}

/// What the seed did: the accounts it created (empty on a second run).
#[derive(Debug, Default)]
pub struct SeedReport {
    pub created: Vec<String>,
}

async fn ensure_user<S: Persistence>(
    state: &AppState<S>,
    email: &str,
    name: &str,
    password: &str,
    role: Role,
    company: Option<domain::CompanyId>,
    report: &mut SeedReport,
) -> Result<User, SeedError> {
    let parsed = domain::Email::parse(email).map_err(|_| AccountError::InvalidEmail)?;
    if let Some(existing) = state.store.user_by_email(&parsed).await? {
        return Ok(existing);
    }
    let account = NewAccount {
        email,
        password,
        display_name: name,
        locale: Locale::PtBr,
    };
    let user = state.accounts.new_user(account, role, company).await?;
    state.store.insert_user(&user).await?;
    report.created.push(email.to_string());
    Ok(user)
}

pub async fn seed_demo<S: Persistence>(
    state: &AppState<S>,
    password: &str,
) -> Result<SeedReport, SeedError> {
    let mut report = SeedReport::default();
    let admin = ensure_user(
        state,
        "admin@demo.local",
        "Demo Admin",
        password,
        Role::PlatformAdmin,
        None,
        &mut report,
    )
    .await?;
    let actor = Actor::of(&admin, None);
    let companies = state.companies.list(&actor).await?;
    let company = match companies.into_iter().find(|c| c.name == DEMO_COMPANY) {
        Some(c) => c,
        None => {
            let draft = CompanyDraft {
                name: DEMO_COMPANY.into(),
                seat_limit: 10,
                plan_id: state.catalog.default_company.clone(),
                system_prompt: None,
            };
            state.companies.create(&actor, &draft).await?
        }
    };
    let members = [
        ("manager@demo.local", "Gestora Demo", Role::CompanyManager),
        ("employee1@demo.local", "Colaborador Um", Role::Employee),
        ("employee2@demo.local", "Colaboradora Dois", Role::Employee),
    ];
    for (email, name, role) in members {
        ensure_user(
            state,
            email,
            name,
            password,
            role,
            Some(company.id),
            &mut report,
        )
        .await?;
    }
    ensure_user(
        state,
        "individual@demo.local",
        "Pessoa Individual",
        password,
        Role::Individual,
        None,
        &mut report,
    )
    .await?;
    Ok(report)
}

/// The password for demo accounts: `DEMO_PASSWORD`, or a generated one (printed by the caller).
pub fn demo_password<S>(state: &AppState<S>) -> (String, bool) {
    match std::env::var("DEMO_PASSWORD") {
        Ok(p) if !p.is_empty() => (p, false),
        _ => (state.env.new_secret()[..16].to_string(), true),
    }
}
