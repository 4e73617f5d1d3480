//! What every handler can reach: the services, wired with the adapters chosen at start-up.

use crate::StartupError;
use app::adapters::{Limiter, Model};
use app::crypto::{AeadCipher, Argon2Hasher};
use app::mail::Mailer;
use app::reports::FileReports;
use app::settings::Settings;
use app::system::SystemEnv;
use billing_stripe::StripeGateway;
use chrono::Duration;
use domain::chunking::ChunkSize;
use domain::plan::PlanCatalog;
use domain::ports::Persistence;
use domain::retrieval::LibraryIndex;
use domain::safety::CrisisDetector;
use domain::services::accounts::AccountService;
use domain::services::billing::{BillingService, BillingUrls};
use domain::services::chat::{ChatLimits, ChatService};
use domain::services::companies::CompanyService;
use domain::services::library::LibraryService;
use domain::services::reports::ReportService;
use domain::services::safety_plan::SafetyPlanService;
use domain::services::usage::BudgetService;
use model_openai::{CachedTokenCounter, TiktokenCounter};
use std::sync::Arc;

/// The conversation service as wired in the server.
pub type Chat<S> = ChatService<
    S,
    Model,
    CachedTokenCounter,
    AeadCipher,
    Limiter,
    LibraryIndex,
    CrisisDetector,
    SystemEnv,
>;

/// Billing as wired in the server: Stripe when a secret key is configured.
pub type Billing<S> = BillingService<S, StripeGateway, SystemEnv>;

/// Safety plans as wired in the server: sealed with the messages' key.
pub type SafetyPlans<S> = SafetyPlanService<S, AeadCipher, SystemEnv>;

/// What every handler can reach. axum clones it for every request and middleware, so it is
/// one `Arc`: a clone costs one reference count rather than one for each part of each service.
pub struct AppState<S>(Arc<Services<S>>);

impl<S> Clone for AppState<S> {
    fn clone(&self) -> Self {
        AppState(self.0.clone())
    }
}

impl<S> std::ops::Deref for AppState<S> {
    type Target = Services<S>;

    fn deref(&self) -> &Services<S> {
        &self.0
    }
}

pub struct Services<S> {
    pub store: Arc<S>,
    pub env: Arc<SystemEnv>,
    pub settings: Arc<Settings>,
    pub catalog: Arc<PlanCatalog>,
    pub limiter: Arc<Limiter>,
    pub cipher: Arc<AeadCipher>,
    pub mailer: Arc<Mailer>,
    pub accounts: AccountService<S, Argon2Hasher, SystemEnv>,
    pub companies: CompanyService<S, SystemEnv>,
    pub library: LibraryService<S, TiktokenCounter, SystemEnv>,
    pub chat: Chat<S>,
    pub billing: Billing<S>,
    /// The usage reports the scheduler writes under the data directory.
    pub reports: ReportService<FileReports, S, S, SystemEnv>,
    pub safety_plans: SafetyPlans<S>,
    /// What each person and company has used and has left.
    pub budgets: BudgetService<S, SystemEnv>,
}

impl<S: Persistence> AppState<S> {
    /// Wires the services. Loads (or creates) the message key and builds the model and limiter
    /// adapters the settings select; the library index starts empty (see `serve`).
    pub fn new(store: S, settings: Settings) -> Result<AppState<S>, StartupError> {
        let store = Arc::new(store);
        let env = Arc::new(SystemEnv::default());
        let catalog = Arc::new(settings.plans.clone());
        let cipher = Arc::new(AeadCipher::load(
            &settings.encryption_key,
            &settings.data_dir,
        )?);
        let index = Arc::new(LibraryIndex::default());
        let tokens = Arc::new(TiktokenCounter::new());
        // Chat turns resend the same history again and again; the library's passages are
        // counted once each, so only the chat's counter caches.
        let chat_tokens = Arc::new(CachedTokenCounter::new());
        let limiter = Arc::new(Limiter::from_settings(&settings).map_err(StartupError::Limiter)?);
        let model = Arc::new(Model::from_settings(&settings)?);
        let mailer = Arc::new(Mailer::from_settings(&settings)?);
        let gateway = if settings.billing.enabled() {
            let gateway = StripeGateway::new(
                &settings.billing.stripe_secret_key,
                &settings.billing.stripe_api_base,
            )
            .map_err(StartupError::Billing)?;
            Some(Arc::new(gateway))
        } else {
            None
        };
        let billing = BillingService {
            store: store.clone(),
            gateway,
            env: env.clone(),
            catalog: catalog.clone(),
            urls: BillingUrls {
                success: settings.checkout_success_url(),
                cancel: settings.checkout_cancel_url(),
                portal_return: settings.portal_return_url(),
            },
        };
        let reports = ReportService {
            archive: Arc::new(FileReports::new(&settings.data_dir)),
            audit: store.clone(),
            companies: store.clone(),
            env: env.clone(),
        };
        let budgets = BudgetService {
            store: store.clone(),
            clock: env.clone(),
            catalog: catalog.clone(),
        };
        let safety_plans = SafetyPlanService {
            store: store.clone(),
            cipher: cipher.clone(),
            clock: env.clone(),
        };
        let settings = Arc::new(settings);
        Ok(AppState(Arc::new(Services {
            billing,
            budgets,
            reports,
            safety_plans,
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
            library: LibraryService {
                store: store.clone(),
                tokens: tokens.clone(),
                env: env.clone(),
                index: index.clone(),
                chunk_size: ChunkSize::default(),
            },
            chat: ChatService {
                store: store.clone(),
                model,
                tokens: chat_tokens,
                cipher: cipher.clone(),
                limiter: limiter.clone(),
                retriever: index,
                screen: Arc::new(CrisisDetector::default()),
                env: env.clone(),
                catalog: catalog.clone(),
                limits: ChatLimits {
                    max_output_tokens: settings.max_output_tokens,
                    per_minute: settings.chat_messages_per_minute,
                    lease: Duration::seconds(
                        i64::try_from(settings.reservation_lease_secs).unwrap_or(i64::MAX),
                    ),
                },
            },
            store,
            env,
            settings,
            catalog,
            limiter,
            cipher,
            mailer,
        })))
    }
}
