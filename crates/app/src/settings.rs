//! Typed settings: embedded defaults (`config/default.toml`), an optional file named in
//! `CONFIG_FILE`, a `.env` file, then environment variables. Validated once at start-up; a bad
//! value stops the process with a message naming the key.

use domain::plan::PlanCatalog;
use figment::Figment;
use figment::providers::{Env, Format, Toml};
use serde::Deserialize;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

/// The documented defaults, compiled in so the binary runs from any directory.
pub const DEFAULTS: &str = include_str!("../../../config/default.toml");

/// Keys that environment variables may set (upper-cased). Kept next to the struct.
const ENV_KEYS: &[&str] = &[
    "bind_addr",
    "data_dir",
    "sample_library_dir",
    "database_url",
    "mysql_pool_size",
    "redis_url",
    "redis_fallback",
    "redis_key_prefix",
    "admin_email",
    "admin_password",
    "encryption_key",
    "public_url",
    "smtp_url",
    "smtp_from",
    "session_ttl_hours",
    "invitation_ttl_days",
    "body_limit_bytes",
    "upload_limit_bytes",
    "request_timeout_secs",
    "llm_base_url",
    "llm_api_key",
    "llm_model",
    "llm_first_token_timeout_ms",
    "llm_idle_timeout_ms",
    "llm_max_retries",
    "llm_classifier_timeout_ms",
    "llm_classifier_model",
    "max_output_tokens",
    "chat_messages_per_minute",
    "ip_requests_per_minute",
    "reservation_lease_secs",
    "metrics_allow",
    "metrics_token",
    "log_format",
    "log_level",
];

/// Environment variables of the `[billing]` section (`STRIPE_SECRET_KEY` sets
/// `billing.stripe_secret_key`, …).
const BILLING_ENV_KEYS: &[&str] = &[
    "stripe_secret_key",
    "stripe_webhook_secret",
    "stripe_api_base",
    "stripe_prices",
];

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

/// The fastest rate a limiter quota can express: one request a microsecond.
const MAX_PER_MINUTE: u32 = 60_000_000;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub bind_addr: String,
    pub data_dir: PathBuf,
    pub sample_library_dir: PathBuf,
    pub database_url: String,
    pub mysql_pool_size: usize,
    pub redis_url: String,
    pub redis_fallback: RedisFallback,
    pub redis_key_prefix: String,
    pub admin_email: String,
    pub admin_password: String,
    pub encryption_key: String,
    pub public_url: String,
    pub smtp_url: String,
    pub smtp_from: String,
    pub session_ttl_hours: u32,
    pub invitation_ttl_days: u32,
    pub body_limit_bytes: usize,
    pub upload_limit_bytes: usize,
    pub request_timeout_secs: u64,
    pub llm_base_url: String,
    pub llm_api_key: String,
    pub llm_model: String,
    pub llm_first_token_timeout_ms: u64,
    pub llm_idle_timeout_ms: u64,
    pub llm_max_retries: u32,
    pub llm_classifier_timeout_ms: u64,
    pub llm_classifier_model: String,
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
    /// Loads the layered configuration from the process environment.
    pub fn load() -> Result<Settings, SettingsError> {
        // A missing .env is normal; a malformed one is worth stopping for.
        if let Err(e) = dotenvy::dotenv()
            && !e.not_found()
        {
            return Err(SettingsError::Invalid(format!(".env: {e}")));
        }
        let mut figment = Figment::from(Toml::string(DEFAULTS));
        if let Ok(file) = std::env::var("CONFIG_FILE") {
            if !Path::new(&file).is_file() {
                return Err(bad("CONFIG_FILE", format!("{file} is not a readable file")));
            }
            figment = figment.merge(Toml::file(file));
        }
        figment = figment.merge(Env::raw().only(ENV_KEYS)).merge(
            Env::raw()
                .only(BILLING_ENV_KEYS)
                .map(|key| format!("billing.{key}").into()),
        );
        Self::from_figment(figment)
    }

    /// The defaults with `toml` layered on top, ignoring the environment (tests, tools).
    pub fn with_overrides(toml: &str) -> Result<Settings, SettingsError> {
        Self::from_figment(Figment::from(Toml::string(DEFAULTS)).merge(Toml::string(toml)))
    }

    pub fn from_figment(figment: Figment) -> Result<Settings, SettingsError> {
        let mut settings: Settings = figment
            .extract()
            .map_err(|e| SettingsError::Invalid(e.to_string()))?;
        settings.apply_stripe_prices()?;
        settings.validate()?;
        Ok(settings)
    }

    /// Sets the price ids named in `STRIPE_PRICES` (`plus=price_1,pack-100k=price_2`) on the
    /// catalog's plans and packs, so deployments keep prices out of files.
    fn apply_stripe_prices(&mut self) -> Result<(), SettingsError> {
        let pairs = self.billing.stripe_prices.split(',').map(str::trim);
        for pair in pairs.filter(|p| !p.is_empty()) {
            let (id, price) = pair
                .split_once('=')
                .map(|(id, price)| (id.trim(), price.trim()))
                .filter(|(id, price)| !id.is_empty() && !price.is_empty())
                .ok_or_else(|| bad("STRIPE_PRICES", format!("`{pair}` is not id=price_id")))?;
            let catalog = &mut self.plans;
            let slot = match catalog.plans.iter_mut().find(|p| p.id == id) {
                Some(plan) => &mut plan.price_id,
                None => match catalog.packs.iter_mut().find(|p| p.id == id) {
                    Some(pack) => &mut pack.price_id,
                    None => {
                        return Err(bad(
                            "STRIPE_PRICES",
                            format!("`{id}` is not a plan or pack of the catalog"),
                        ));
                    }
                },
            };
            *slot = Some(price.to_string());
        }
        Ok(())
    }

    fn validate(&self) -> Result<(), SettingsError> {
        self.socket_addr()?;
        self.database()?;
        if !self.redis_url.is_empty() && !self.redis_url.starts_with("redis://") {
            return Err(bad("REDIS_URL", "must start with redis:// (or be empty)"));
        }
        if !(self.public_url.starts_with("http://") || self.public_url.starts_with("https://")) {
            return Err(bad("PUBLIC_URL", "must start with http:// or https://"));
        }
        let llm = &self.llm_base_url;
        if !(llm.is_empty() || llm.starts_with("http://") || llm.starts_with("https://")) {
            return Err(bad(
                "LLM_BASE_URL",
                "must start with http:// or https:// (or be empty)",
            ));
        }
        // A person in distress waits for this call: it must be short, and zero would fail them all.
        if !(1..=10_000).contains(&self.llm_classifier_timeout_ms) {
            return Err(bad(
                "LLM_CLASSIFIER_TIMEOUT_MS",
                "must be between 1 and 10000",
            ));
        }
        if self.mysql_pool_size == 0 {
            return Err(bad("MYSQL_POOL_SIZE", "must be at least 1"));
        }
        if self.session_ttl_hours == 0 || self.invitation_ttl_days == 0 {
            return Err(bad("SESSION_TTL_HOURS", "lifetimes must be positive"));
        }
        if self.chat_messages_per_minute == 0
            || self.ip_requests_per_minute == 0
            || self.reservation_lease_secs == 0
        {
            return Err(bad(
                "CHAT_MESSAGES_PER_MINUTE",
                "chat limits and RESERVATION_LEASE_SECS must be positive",
            ));
        }
        // The Redis limiter spaces requests in whole microseconds: a faster rate than one a
        // microsecond would round to zero and refuse every request.
        for (key, per_minute) in [
            ("CHAT_MESSAGES_PER_MINUTE", self.chat_messages_per_minute),
            ("IP_REQUESTS_PER_MINUTE", self.ip_requests_per_minute),
        ] {
            if per_minute > MAX_PER_MINUTE {
                return Err(bad(key, "must be at most 60000000 (one a microsecond)"));
            }
        }
        if self.max_output_tokens == 0 || self.max_output_tokens > 32_000 {
            return Err(bad("MAX_OUTPUT_TOKENS", "must be between 1 and 32000"));
        }
        if self.body_limit_bytes < 1_024 || self.upload_limit_bytes < self.body_limit_bytes {
            return Err(bad(
                "BODY_LIMIT_BYTES",
                "must be at least 1024 and at most UPLOAD_LIMIT_BYTES",
            ));
        }
        self.plans
            .validate()
            .map_err(|e| SettingsError::Invalid(e.to_string()))?;
        let billing = &self.billing;
        if billing.enabled() && billing.stripe_webhook_secret.is_empty() {
            return Err(bad(
                "STRIPE_WEBHOOK_SECRET",
                "is required when STRIPE_SECRET_KEY is set (events must be verified)",
            ));
        }
        let base = &billing.stripe_api_base;
        if !(base.starts_with("https://") || base.starts_with("http://")) {
            return Err(bad(
                "STRIPE_API_BASE",
                "must start with http:// or https://",
            ));
        }
        Ok(())
    }

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

#[cfg(test)]
mod tests {
    use super::*;

    fn with(extra: &str) -> Result<Settings, SettingsError> {
        Settings::with_overrides(extra)
    }

    #[test]
    fn defaults_are_valid() {
        let s = with("").unwrap();
        assert_eq!(s.socket_addr().unwrap().port(), 8080);
        assert!(
            matches!(s.database().unwrap(), DatabaseKind::Sqlite(p) if p.ends_with("botpsicologo.db"))
        );
    }

    #[test]
    fn unknown_key_is_named() {
        let err = with("databse_url = \"x\"").unwrap_err().to_string();
        assert!(err.contains("databse_url"), "{err}");
    }

    #[test]
    fn bad_database_url_is_named() {
        for url in ["postgres://x/y", "mysql://host", "sqlite://", "nonsense"] {
            let err = with(&format!("database_url = \"{url}\""))
                .unwrap_err()
                .to_string();
            assert!(err.contains("DATABASE_URL"), "{url}: {err}");
        }
        assert!(matches!(
            with("database_url = \"mysql://root@127.0.0.1:3306/bp\"")
                .unwrap()
                .database()
                .unwrap(),
            DatabaseKind::Mysql(_)
        ));
    }

    #[test]
    fn billing_settings_and_prices() {
        let s = with("").unwrap();
        assert!(!s.billing.enabled());
        assert!(
            s.checkout_success_url()
                .ends_with("/plans?notice=checkout-success")
        );
        let err = with("[billing]\nstripe_secret_key = \"sk_test_1\"")
            .unwrap_err()
            .to_string();
        assert!(err.contains("STRIPE_WEBHOOK_SECRET"), "{err}");
        let s = with("[billing]\nstripe_prices = \"plus=price_p, pack-100k=price_k\"").unwrap();
        assert_eq!(
            s.plans.get("plus").unwrap().price_id.as_deref(),
            Some("price_p")
        );
        assert_eq!(
            s.plans.pack("pack-100k").unwrap().price_id.as_deref(),
            Some("price_k")
        );
        let err = with("[billing]\nstripe_prices = \"nope=price_x\"")
            .unwrap_err()
            .to_string();
        assert!(err.contains("STRIPE_PRICES"), "{err}");
    }

    #[test]
    fn bad_values_are_named() {
        assert!(
            with("bind_addr = \"localhost\"")
                .unwrap_err()
                .to_string()
                .contains("BIND_ADDR")
        );
        assert!(
            with("redis_url = \"http://x\"")
                .unwrap_err()
                .to_string()
                .contains("REDIS_URL")
        );
        assert!(with("mysql_pool_size = \"many\"").is_err());
        // Faster than one a microsecond: the Redis limiter would refuse every request.
        let err = with("ip_requests_per_minute = 60000001")
            .unwrap_err()
            .to_string();
        assert!(err.contains("IP_REQUESTS_PER_MINUTE"), "{err}");
        assert!(with("ip_requests_per_minute = 60000000").is_ok());
        for timeout in [0, 10_001] {
            let err = with(&format!("llm_classifier_timeout_ms = {timeout}"))
                .unwrap_err()
                .to_string();
            assert!(err.contains("LLM_CLASSIFIER_TIMEOUT_MS"), "{err}");
        }
    }

    #[test]
    fn every_top_level_setting_can_come_from_the_environment() {
        let defaults: std::collections::BTreeMap<String, figment::value::Value> =
            Figment::from(Toml::string(DEFAULTS)).extract().unwrap();
        for (key, value) in defaults {
            if !matches!(value, figment::value::Value::Dict(..)) {
                assert!(ENV_KEYS.contains(&key.as_str()), "{key} is not in ENV_KEYS");
            }
        }
    }
}
