//! What every handler can reach: the services, wired with the adapters chosen at start-up.

use app::crypto::Argon2Hasher;
use app::settings::Settings;
use app::system::SystemEnv;
use chrono::Duration;
use domain::plan::PlanCatalog;
use domain::ports::Persistence;
use domain::services::accounts::AccountService;
use domain::services::companies::CompanyService;
use std::sync::Arc;

pub struct AppState<S> {
    pub store: Arc<S>,
    pub env: Arc<SystemEnv>,
    pub settings: Arc<Settings>,
    pub catalog: Arc<PlanCatalog>,
    pub accounts: AccountService<S, Argon2Hasher, SystemEnv>,
    pub companies: CompanyService<S, SystemEnv>,
}

impl<S> Clone for AppState<S> {
    fn clone(&self) -> Self {
        AppState {
            store: self.store.clone(),
            env: self.env.clone(),
            settings: self.settings.clone(),
            catalog: self.catalog.clone(),
            accounts: self.accounts.clone(),
            companies: self.companies.clone(),
        }
    }
}

impl<S: Persistence> AppState<S> {
    pub fn new(store: S, settings: Settings) -> AppState<S> {
        let store = Arc::new(store);
        let env = Arc::new(SystemEnv::default());
        let catalog = Arc::new(settings.plans.clone());
        let settings = Arc::new(settings);
        AppState {
            accounts: AccountService {
                store: store.clone(),
                hasher: Arc::new(Argon2Hasher),
                env: env.clone(),
                catalog: catalog.clone(),
                session_ttl: Duration::hours(i64::from(settings.session_ttl_hours)),
            },
            companies: CompanyService {
                store: store.clone(),
                env: env.clone(),
                catalog: catalog.clone(),
                invitation_ttl: Duration::days(i64::from(settings.invitation_ttl_days)),
            },
            store,
            env,
            settings,
            catalog,
        }
    }
}
