//! # http
//!
//! The `botpsicologo` server: axum routes that authenticate the caller, call a domain service and
//! render the result. Rules and authorisation live in the services, not here. [`run`] opens the
//! configured database and serves until SIGTERM or Ctrl-C; [`router`] builds the app for tests.

pub mod auth;
pub mod error;
pub mod library_cli;
pub mod limits;
pub mod metrics;
pub mod routes;
pub mod security;
pub mod seed;
pub mod state;
pub mod web;

use app::database::{self, Database};
use app::settings::Settings;
use axum::Router;
use axum::routing::{delete, get, post};
use axum::serve::ListenerExt;
use domain::ports::{ChatModel, Persistence, Secrets};
use state::AppState;
use std::net::SocketAddr;
use tokio::net::TcpListener;
use tower_http::limit::RequestBodyLimitLayer;

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Database(#[from] database::DatabaseError),
    #[error(transparent)]
    Settings(#[from] app::settings::SettingsError),
    #[error(transparent)]
    Key(#[from] app::crypto::KeyError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Model(#[from] app::adapters::ModelSetupError),
    #[error(transparent)]
    Mail(#[from] app::mail::MailError),
    #[error("{0}")]
    Limiter(domain::ratelimit::LimiterError),
    #[error("cannot load the library: {0}")]
    Library(domain::ports::StoreError),
    #[error("ADMIN_EMAIL / ADMIN_PASSWORD: {0}")]
    Admin(domain::services::accounts::AccountError),
    #[error("billing: {0}")]
    Billing(domain::billing::PaymentError),
    #[error("server error: {0}")]
    Serve(std::io::Error),
}

/// All routes, with the security and limits layers.
pub fn router<S: Persistence>(state: AppState<S>) -> Router {
    let api = Router::new()
        .route(
            "/auth/token",
            post(routes::api::create_token::<S>).delete(routes::api::revoke_token::<S>),
        )
        .route("/me", get(routes::api::me::<S>))
        .route("/openapi.json", get(routes::openapi::openapi_json))
        .route("/chat", post(routes::chat::chat::<S>))
        .route(
            "/chat/history",
            get(routes::chat::history::<S>).delete(routes::chat::clear::<S>),
        )
        .route("/chat/export", get(routes::chat::export::<S>))
        .route(
            "/safety-plan",
            get(routes::safety_plan::get::<S>)
                .put(routes::safety_plan::put::<S>)
                .delete(routes::safety_plan::delete::<S>),
        )
        .route("/billing/checkout", post(routes::billing::checkout::<S>))
        .route("/billing/portal", post(routes::billing::portal::<S>))
        .route("/billing/webhook", post(routes::billing::webhook::<S>))
        .route("/companies/{id}/reports", get(routes::reports::months::<S>))
        .route(
            "/companies/{id}/reports/{month}",
            get(routes::reports::download::<S>),
        )
        .route("/library/documents", get(routes::library::list::<S>))
        .route(
            "/library/documents/{id}",
            delete(routes::library::retire::<S>),
        )
        .fallback(routes::api::not_found);
    let limited = Router::new()
        .route("/readyz", get(routes::health::readyz::<S>))
        .nest("/api/v1", api)
        .merge(web::routes::<S>())
        .layer(RequestBodyLimitLayer::new(state.settings.body_limit_bytes));
    // Uploads get their own, larger, body limit.
    let uploads = Router::new()
        .route(
            "/api/v1/library/uploads",
            post(routes::library::upload::<S>),
        )
        .layer(RequestBodyLimitLayer::new(
            state.settings.upload_limit_bytes,
        ));
    let app = limited
        .merge(uploads)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            limits::per_ip::<S>,
        ))
        // Liveness and metrics are outside the per-address limit: a load balancer's probes and
        // the scraper must not be refused when their address is busy or the shared limiter is
        // down (the metrics have their own allow-list and token).
        .route("/healthz", get(routes::health::healthz))
        .route("/metrics", get(metrics::scrape::<S>))
        .route_layer(axum::middleware::from_fn(metrics::track))
        .with_state(state.clone());
    security::layers(app, &state.settings)
}

/// Opens the database and serves on `BIND_ADDR` until SIGTERM or Ctrl-C.
pub async fn run(settings: Settings) -> Result<(), StartupError> {
    let addr = settings.socket_addr()?;
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| StartupError::Bind {
            addr: addr.to_string(),
            source,
        })?;
    match database::open(&settings).await? {
        Database::Sqlite(store) => serve(store, settings, listener, shutdown_signal()).await,
        Database::Mysql(store) => serve(store, settings, listener, shutdown_signal()).await,
    }
}

/// `botpsicologo seed-demo`: opens the database and seeds the demo accounts.
pub async fn seed_demo_command(settings: Settings) -> Result<(), String> {
    match database::open(&settings).await.map_err(|e| e.to_string())? {
        Database::Sqlite(store) => seed_into(store, settings).await,
        Database::Mysql(store) => seed_into(store, settings).await,
    }
}

async fn seed_into<S: Persistence>(store: S, settings: Settings) -> Result<(), String> {
    let state = AppState::new(store, settings).map_err(|e| e.to_string())?;
    let (password, generated) = seed::demo_password(&state);
    let report = seed::seed_demo(&state, &password)
        .await
        .map_err(|e| e.to_string())?;
    if report.created.is_empty() {
        println!("demo data already present: nothing changed");
    } else {
        println!("created: {}", report.created.join(", "));
        if generated {
            println!("password of the new demo accounts: {password}");
        }
    }
    Ok(())
}

/// `botpsicologo billing check`: every configured price must exist at Stripe, be active, and
/// be recurring at the plan's interval (plans) or one-off (packs), all in one currency. Prints a
/// line per price; any problem is an error naming the price. Needs no database.
pub async fn billing_check_command(settings: Settings) -> Result<(), String> {
    if !settings.billing.enabled() {
        return Err("billing is not configured: set STRIPE_SECRET_KEY".into());
    }
    let gateway = billing_stripe::StripeGateway::new(
        &settings.billing.stripe_secret_key,
        &settings.billing.stripe_api_base,
    )
    .map_err(|e| e.to_string())?;
    let checks = domain::services::prices::check_prices(&settings.plans, &gateway)
        .await
        .map_err(|e| e.to_string())?;
    if checks.is_empty() {
        return Err("no plan or pack has a price: set STRIPE_PRICES".into());
    }
    let mut bad = 0;
    for check in &checks {
        if check.problem.is_some() {
            bad += 1;
            eprintln!("{check}");
        } else {
            println!("{check}");
        }
    }
    match bad {
        0 => Ok(()),
        n => Err(format!("{n} of {} price(s) need fixing", checks.len())),
    }
}

/// Serves `store` on `listener` until `shutdown` resolves; in-flight requests are finished.
pub async fn serve<S: Persistence>(
    store: S,
    settings: Settings,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), StartupError> {
    let state = AppState::new(store, settings)?;
    metrics::init();
    app::crypto::verify_key(&state.cipher, state.store.as_ref()).await?;
    ensure_first_admin(&state).await?;
    if !state.settings.sample_library_dir.as_os_str().is_empty() {
        library_cli::seed_library(&state, &state.settings.sample_library_dir).await;
    }
    let passages = state
        .library
        .refresh_index()
        .await
        .map_err(StartupError::Library)?;
    tracing::info!(passages, model = %state.chat.model.name(), "library loaded");
    tokio::spawn(follow_library(state.clone()));
    let addr = listener.local_addr().map_err(StartupError::Serve)?;
    tracing::info!(%addr, "botpsicologo listening");
    // Without TCP_NODELAY the last small writes of a streamed answer (the final server-sent
    // events) wait for the client's delayed ACK, about 40 ms a reply.
    let listener = listener.tap_io(|stream| {
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, "could not set TCP_NODELAY");
        }
    });
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
    .map_err(StartupError::Serve)
}

/// Picks up library changes made elsewhere (the `ingest` command, another instance's upload).
async fn follow_library<S: Persistence>(state: AppState<S>) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(LIBRARY_POLL_SECS));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match state.library.refresh_if_changed().await {
            Ok(true) => tracing::info!("library changed: search index rebuilt"),
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "cannot check the library for changes"),
        }
    }
}

/// How often the server looks for library changes made by other processes.
const LIBRARY_POLL_SECS: u64 = 30;

/// Creates the first platform admin when the database has none. A generated password is
/// printed once on stdout (never logged).
async fn ensure_first_admin<S: Persistence>(state: &AppState<S>) -> Result<(), StartupError> {
    let configured = state.settings.admin_password.clone();
    let password = if configured.is_empty() {
        state.env.new_secret()[..20].to_string()
    } else {
        configured.clone()
    };
    let created = state
        .accounts
        .ensure_admin(&state.settings.admin_email, &password)
        .await
        .map_err(StartupError::Admin)?;
    if let Some(admin) = created {
        tracing::info!(email = %admin.email, "first platform admin created");
        if configured.is_empty() {
            println!(
                "First platform admin: {}  password: {}  (shown once; change it after signing in)",
                admin.email, password
            );
        }
    }
    Ok(())
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}
