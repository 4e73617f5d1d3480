//! Typed settings: embedded defaults (`config/default.toml`), an optional file named in
//! `CONFIG_FILE`, a `.env` file, then environment variables. Validated once at start-up; a bad
//! value stops the process with a message naming the key.
//!
//! This file defines the settings and what they mean; [`load`](self::Settings::load) layers the
//! sources (in `load.rs`) and `validate.rs` checks them. A key that may be left out is an
//! `Option`: empty in a file or in the environment (`REDIS_URL=`) means `None`.

use domain::plan::PlanCatalog;
use serde::Deserialize;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use url::Url;

mod load;
mod validate;

#[cfg(test)]
mod tests;

pub use load::DEFAULTS;

/// Payments through Stripe; see `[billing]` in config/default.toml.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BillingSettings {
    pub stripe_secret_key: String,
    pub stripe_webhook_secret: String,
    pub stripe_api_base: String,
    /// `id=price_…` pairs, comma-separated: price ids of plans and packs from the environment.
    pub stripe_prices: String,
}

impl BillingSettings {
    /// Billing is on when there is a secret key (validation makes sure the rest is there).
    pub fn enabled(&self) -> bool {
        !self.stripe_secret_key.is_empty()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RedisFallback {
    InProcess,
    Refuse,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    Pretty,
    Json,
}

/// Cron expressions (UTC) of the scheduler's jobs; see `[scheduler]` in config/default.toml.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchedulerSettings {
    pub rollover: String,
    pub reclaim: String,
    pub purge: String,
    pub report: String,
    pub lease_seconds: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub bind_addr: String,
    pub data_dir: PathBuf,
    pub sample_library_dir: PathBuf,
    pub database_url: String,
    pub mysql_pool_size: usize,
    /// Rate limits shared through Redis; `None`: the in-process limiter.
    #[serde(deserialize_with = "load::optional_url")]
    pub redis_url: Option<Url>,
    pub redis_fallback: RedisFallback,
    pub redis_key_prefix: String,
    pub admin_email: String,
    pub admin_password: String,
    pub encryption_key: String,
    pub public_url: String,
    /// Invitations by e-mail; `None`: the link is shown to the manager.
    #[serde(deserialize_with = "load::optional_url")]
    pub smtp_url: Option<Url>,
    pub smtp_from: String,
    pub session_ttl_hours: u32,
    pub invitation_ttl_days: u32,
    pub body_limit_bytes: usize,
    pub upload_limit_bytes: usize,
    pub request_timeout_secs: u64,
    /// An OpenAI-compatible server; `None`: the offline responder.
    #[serde(deserialize_with = "load::optional_url")]
    pub llm_base_url: Option<Url>,
    pub llm_api_key: String,
    pub llm_model: String,
    pub llm_first_token_timeout_ms: u64,
    pub llm_idle_timeout_ms: u64,
    pub llm_max_retries: u32,
    pub llm_classifier_timeout_ms: u64,
    /// The model that screens for risk; `None`: `llm_model`.
    #[serde(deserialize_with = "load::optional_text")]
    pub llm_classifier_model: Option<String>,
    pub max_output_tokens: u32,
    pub chat_messages_per_minute: u32,
    pub ip_requests_per_minute: u32,
    pub reservation_lease_secs: u64,
    pub metrics_allow: Vec<IpAddr>,
    pub metrics_token: String,
    pub log_format: LogFormat,
    pub log_level: String,
    pub plans: PlanCatalog,
    pub scheduler: SchedulerSettings,
    pub billing: BillingSettings,
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("configuration: {0}")]
    Invalid(String),
    #[error("configuration: {key}: {message}")]
    Key { key: &'static str, message: String },
}

fn bad(key: &'static str, message: impl Into<String>) -> SettingsError {
    SettingsError::Key {
        key,
        message: message.into(),
    }
}

/// Which database an URL selects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseKind {
    Sqlite(String),
    Mysql(String),
}

impl Settings {
    /// Where Checkout sends the buyer back to: the plans page, saying what happened.
    pub fn checkout_success_url(&self) -> String {
        format!("{}/plans?notice=checkout-success", self.public_base())
    }

    pub fn checkout_cancel_url(&self) -> String {
        format!("{}/plans?notice=checkout-cancelled", self.public_base())
    }

    pub fn portal_return_url(&self) -> String {
        format!("{}/plans", self.public_base())
    }

    fn public_base(&self) -> &str {
        self.public_url.trim_end_matches('/')
    }

    pub fn socket_addr(&self) -> Result<SocketAddr, SettingsError> {
        self.bind_addr.parse().map_err(|_| {
            bad(
                "BIND_ADDR",
                format!("`{}` is not an address like 127.0.0.1:8080", self.bind_addr),
            )
        })
    }

    /// The database selected by `DATABASE_URL` (SQLite under the data directory when empty).
    pub fn database(&self) -> Result<DatabaseKind, SettingsError> {
        let url = self.database_url.trim();
        if url.is_empty() {
            let path = self.data_dir.join("botpsicologo.db");
            return Ok(DatabaseKind::Sqlite(path.display().to_string()));
        }
        if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            if path.is_empty() {
                return Err(bad("DATABASE_URL", "sqlite:// needs a file path"));
            }
            return Ok(DatabaseKind::Sqlite(path.to_string()));
        }
        if let Some(rest) = url.strip_prefix("mysql://") {
            let host_and_db = rest.rsplit('@').next().unwrap_or(rest);
            if !host_and_db.contains('/') || host_and_db.ends_with('/') {
                return Err(bad(
                    "DATABASE_URL",
                    "mysql:// needs a database name: mysql://user:password@host:3306/name",
                ));
            }
            return Ok(DatabaseKind::Mysql(url.to_string()));
        }
        Err(bad(
            "DATABASE_URL",
            "unsupported database: use sqlite://path or mysql://user:password@host:3306/name",
        ))
    }

    pub fn uses_tls(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}
