//! The model and rate-limiter adapters chosen by configuration, each behind one enum so the
//! server is wired with a single concrete type whatever the settings say.

use crate::offline::OfflineResponder;
use crate::settings::{RedisFallback, Settings};
use domain::model::{ModelError, ModelRequest, ModelStream, RiskQuestion, RiskVerdict};
use domain::ports::{ChatModel, RateLimiter};
use domain::ratelimit::{Decision, LimiterError, Quota};
use model_openai::{OpenAiConfig, OpenAiModel};
use ratelimit_governor::GovernorLimiter;
use ratelimit_redis::{FallbackPolicy, ResilientLimiter, ResilientOptions};
use std::time::Duration;

/// `LLM_BASE_URL` set: an OpenAI-compatible server; empty: the offline responder.
pub enum Model {
    Remote(OpenAiModel),
    Offline(OfflineResponder),
}

#[derive(Debug, thiserror::Error)]
#[error("LLM_BASE_URL: {0}")]
pub struct ModelSetupError(String);

impl Model {
    pub fn from_settings(settings: &Settings) -> Result<Model, ModelSetupError> {
        let Some(base_url) = &settings.llm_base_url else {
            return Ok(Model::Offline(OfflineResponder));
        };
        let mut config = OpenAiConfig::new(base_url.as_str(), settings.llm_model.trim());
        let key = settings.llm_api_key.trim();
        config.api_key = (!key.is_empty()).then(|| key.to_string());
        config.first_token_timeout = Duration::from_millis(settings.llm_first_token_timeout_ms);
        config.idle_timeout = Duration::from_millis(settings.llm_idle_timeout_ms);
        config.max_retries = settings.llm_max_retries;
        config.classification_timeout = Duration::from_millis(settings.llm_classifier_timeout_ms);
        config.classifier_model = settings.llm_classifier_model.clone();
        OpenAiModel::new(config)
            .map(Model::Remote)
            .map_err(|e| ModelSetupError(e.to_string()))
    }
}

impl ChatModel for Model {
    async fn stream(&self, request: ModelRequest) -> Result<ModelStream, ModelError> {
        match self {
            Model::Remote(model) => model.stream(request).await,
            Model::Offline(model) => model.stream(request).await,
        }
    }

    fn name(&self) -> String {
        match self {
            Model::Remote(model) => model.name(),
            Model::Offline(model) => model.name(),
        }
    }

    async fn classify_risk(&self, question: &RiskQuestion) -> Result<RiskVerdict, ModelError> {
        match self {
            Model::Remote(model) => model.classify_risk(question).await,
            Model::Offline(model) => model.classify_risk(question).await,
        }
    }
}

/// `REDIS_URL` set: limits shared through Redis (with the configured fallback); empty: in-process.
pub enum Limiter {
    Local(GovernorLimiter),
    Shared(ResilientLimiter),
}

impl Limiter {
    pub fn from_settings(settings: &Settings) -> Result<Limiter, LimiterError> {
        let Some(redis_url) = &settings.redis_url else {
            return Ok(Limiter::Local(GovernorLimiter::new()));
        };
        let options = ResilientOptions {
            policy: match settings.redis_fallback {
                RedisFallback::InProcess => FallbackPolicy::InProcess,
                RedisFallback::Refuse => FallbackPolicy::Refuse,
            },
            ..ResilientOptions::default()
        };
        ResilientLimiter::open(redis_url.as_str(), &settings.redis_key_prefix, options)
            .map(Limiter::Shared)
            .map_err(|e| LimiterError(format!("REDIS_URL: {}", e.0)))
    }
}

impl RateLimiter for Limiter {
    async fn check(&self, quota: Quota, key: &str) -> Result<Decision, LimiterError> {
        match self {
            Limiter::Local(limiter) => limiter.check(quota, key).await,
            Limiter::Shared(limiter) => limiter.check(quota, key).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn remote(toml: &str) -> String {
        let settings = Settings::with_overrides(&format!(
            "llm_base_url = \"http://127.0.0.1:9/v1\"\nllm_model = \"chat\"\n{toml}"
        ))
        .unwrap();
        let Model::Remote(model) = Model::from_settings(&settings).unwrap() else {
            panic!("a base URL selects the remote model");
        };
        format!("{model:?}")
    }

    #[test]
    fn classifier_settings_reach_the_model() {
        let shown = remote("");
        assert!(shown.contains("classification_timeout: 2s"), "{shown}");
        assert!(shown.contains("classifier_model: None"), "{shown}");
        let shown = remote("llm_classifier_timeout_ms = 500\nllm_classifier_model = \" small \"");
        assert!(shown.contains("classification_timeout: 500ms"), "{shown}");
        assert!(
            shown.contains("classifier_model: Some(\"small\")"),
            "{shown}"
        );
    }
}
