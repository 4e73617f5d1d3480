//! The checks a loaded configuration must pass before anything starts.

use super::{Settings, SettingsError, bad};

/// The fastest rate a limiter quota can express: one request a microsecond.
const MAX_PER_MINUTE: u32 = 60_000_000;

impl Settings {
    pub(super) fn validate(&self) -> Result<(), SettingsError> {
        self.socket_addr()?;
        self.database()?;
        if let Some(url) = &self.redis_url
            && url.scheme() != "redis"
        {
            return Err(bad("REDIS_URL", "must start with redis:// (or be empty)"));
        }
        if !(self.public_url.starts_with("http://") || self.public_url.starts_with("https://")) {
            return Err(bad("PUBLIC_URL", "must start with http:// or https://"));
        }
        if let Some(url) = &self.llm_base_url
            && !matches!(url.scheme(), "http" | "https")
        {
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
}
