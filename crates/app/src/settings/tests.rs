use super::load::ENV_KEYS;
use super::*;
use figment::Figment;
use figment::providers::{Format, Toml};

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

#[test]
fn optional_settings_are_none_when_empty() {
    let s = with("").unwrap();
    assert_eq!(s.redis_url, None);
    assert_eq!(s.llm_base_url, None);
    assert_eq!(s.smtp_url, None);
    assert_eq!(s.llm_classifier_model, None);
    let s = with("redis_url = \"  \"\nllm_classifier_model = \" small \"").unwrap();
    assert_eq!(s.redis_url, None);
    assert_eq!(s.llm_classifier_model.as_deref(), Some("small"));
    let s = with("llm_base_url = \"http://127.0.0.1:9/v1\"").unwrap();
    assert_eq!(
        s.llm_base_url.as_ref().map(url::Url::as_str),
        Some("http://127.0.0.1:9/v1")
    );
}

#[test]
fn an_invalid_url_is_a_start_up_error_naming_the_key() {
    for (key, name) in [
        ("llm_base_url", "LLM_BASE_URL"),
        ("redis_url", "REDIS_URL"),
        ("smtp_url", "SMTP_URL"),
    ] {
        let err = with(&format!("{key} = \"not a url\""))
            .unwrap_err()
            .to_string();
        assert!(err.contains(name), "{key}: {err}");
        assert!(err.contains("not a valid URL"), "{key}: {err}");
    }
    // The message never repeats the value: an SMTP URL may hold a password.
    let err = with("smtp_url = \"smtp://user:secret@[bad\"")
        .unwrap_err()
        .to_string();
    assert!(!err.contains("secret"), "{err}");
}

// `figment::Jail` hands back its own (large) error type; the size does not matter in a test.
#[allow(clippy::result_large_err)]
#[test]
fn the_environment_overrides_and_empty_means_not_set() {
    figment::Jail::expect_with(|jail| {
        jail.create_file("config.toml", "redis_url = \"redis://127.0.0.1:6379\"")?;
        jail.set_env("CONFIG_FILE", "config.toml");
        jail.set_env("LLM_BASE_URL", "http://127.0.0.1:9/v1");
        // Set in the file, emptied by the environment: not configured.
        jail.set_env("REDIS_URL", "");
        let s = Settings::load().map_err(|e| e.to_string())?;
        assert_eq!(s.redis_url, None);
        assert_eq!(
            s.llm_base_url.as_ref().map(url::Url::as_str),
            Some("http://127.0.0.1:9/v1")
        );
        jail.set_env("REDIS_URL", "redis://10.0.0.1:6379");
        let s = Settings::load().map_err(|e| e.to_string())?;
        assert_eq!(
            s.redis_url.as_ref().map(url::Url::as_str),
            Some("redis://10.0.0.1:6379")
        );
        jail.set_env("REDIS_URL", "::");
        let err = Settings::load().unwrap_err().to_string();
        assert!(err.contains("REDIS_URL"), "{err}");
        Ok(())
    });
}
