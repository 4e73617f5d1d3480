//! Where settings come from, in order: the embedded defaults, `CONFIG_FILE`, `.env`, then the
//! environment. Also the readers of optional values, for which empty means "not set".

use super::{Settings, SettingsError, bad};
use figment::Figment;
use figment::providers::{Env, Format, Toml};
use serde::{Deserialize, Deserializer, de::Error as _};
use std::path::Path;
use url::Url;

/// The documented defaults, compiled in so the binary runs from any directory.
pub const DEFAULTS: &str = include_str!("../../../../config/default.toml");

/// Keys that environment variables may set (upper-cased). Kept next to the struct.
pub(super) const ENV_KEYS: &[&str] = &[
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
        let mut settings: Settings = figment.extract().map_err(name_the_key)?;
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
}

/// A figment error, led by the environment variable's name of the key it is about (an invalid
/// `llm_base_url` reads "LLM_BASE_URL: …").
fn name_the_key(error: figment::Error) -> SettingsError {
    match error.path.last() {
        Some(key) => SettingsError::Invalid(format!("{}: {error}", key.to_uppercase())),
        None => SettingsError::Invalid(error.to_string()),
    }
}

/// An optional URL: empty (or blank) is `None`, anything else must parse. The message does not
/// repeat the value, which may hold a password.
pub(super) fn optional_url<'de, D: Deserializer<'de>>(input: D) -> Result<Option<Url>, D::Error> {
    let text = String::deserialize(input)?;
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    Url::parse(text)
        .map(Some)
        .map_err(|e| D::Error::custom(format!("not a valid URL ({e})")))
}

/// Optional text: blank is `None`, anything else is kept trimmed.
pub(super) fn optional_text<'de, D: Deserializer<'de>>(
    input: D,
) -> Result<Option<String>, D::Error> {
    let text = String::deserialize(input)?;
    let text = text.trim();
    Ok((!text.is_empty()).then(|| text.to_string()))
}
