//! The `ChatModel` adapter: one streamed chat completion, with bounded retries before the first
//! token and timeouts all the way through; and the risk classification call, bounded by one
//! timeout and never retried.

use std::sync::Arc;
use std::time::Duration;

use domain::model::{ModelError, ModelRequest, ModelStream, RiskQuestion, RiskVerdict};
use domain::ports::ChatModel;
use futures::stream::{self, StreamExt};
use reqwest::header::{CONTENT_TYPE, RETRY_AFTER};
use reqwest::{Response, StatusCode, Url};
use serde_json::Value;

use crate::classify;
use crate::config::OpenAiConfig;
use crate::reply::{self, ReplyReader};
use crate::wire;

/// Longest error body we read from a refusing server.
const MAX_ERROR_BODY: usize = 4096;

/// Why the model could not be built from its settings.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("the model server URL {url:?} is not valid: {reason}")]
    InvalidBaseUrl { url: String, reason: String },
    #[error("the HTTP client could not be built: {0}")]
    Client(#[source] reqwest::Error),
}

/// A chat model behind any OpenAI-compatible `/chat/completions` endpoint (OpenAI, Ollama, vLLM,
/// llama.cpp server). Cheap to clone: clones share one connection pool.
#[derive(Clone, Debug)]
pub struct OpenAiModel {
    client: reqwest::Client,
    endpoint: Url,
    config: Arc<OpenAiConfig>,
}

/// A failed attempt, and whether another one may help.
struct Failure {
    error: ModelError,
    retryable: bool,
    retry_after: Option<Duration>,
}

impl Failure {
    fn fatal(error: ModelError) -> Self {
        Self {
            error,
            retryable: false,
            retry_after: None,
        }
    }

    fn transient(error: ModelError) -> Self {
        Self {
            error,
            retryable: true,
            retry_after: None,
        }
    }
}

impl OpenAiModel {
    pub fn new(config: OpenAiConfig) -> Result<Self, SetupError> {
        let invalid = |reason: String| SetupError::InvalidBaseUrl {
            url: config.base_url.clone(),
            reason,
        };
        let root = config.base_url.trim_end_matches('/');
        let endpoint =
            Url::parse(&format!("{root}/chat/completions")).map_err(|e| invalid(e.to_string()))?;
        if !matches!(endpoint.scheme(), "http" | "https") {
            return Err(invalid("only http and https are supported".into()));
        }
        let client = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .build()
            .map_err(SetupError::Client)?;
        Ok(Self {
            client,
            endpoint,
            config: Arc::new(config),
        })
    }

    /// One request, up to its first event. Runs under the first-token timeout.
    async fn attempt(&self, body: &Value) -> Result<ModelStream, Failure> {
        let response = self.send(body).await?;
        if !response.status().is_success() {
            return Err(self.refusal(response).await);
        }
        if is_json(&response) {
            let body = response.bytes().await.map_err(|_| {
                Failure::transient(ModelError::Unavailable(
                    "the connection was lost during the reply".into(),
                ))
            })?;
            let events = reply::whole_answer(&body).map_err(Failure::fatal)?;
            return Ok(stream::iter(events.into_iter().map(Ok)).boxed());
        }
        let mut reader =
            ReplyReader::new(response.bytes_stream().boxed(), self.config.api_key.clone());
        match reader.next_event().await {
            Some(Ok(first)) => Ok(stream::once(async { Ok(first) })
                .chain(reader.into_stream(self.config.idle_timeout))
                .boxed()),
            // Nothing reached the person yet, so a lost connection can safely be retried.
            Some(Err(error @ ModelError::Unavailable(_))) => Err(Failure::transient(error)),
            Some(Err(error)) => Err(Failure::fatal(error)),
            None => Err(Failure::fatal(ModelError::Protocol(
                "the reply was empty".into(),
            ))),
        }
    }

    /// Posts `body` to the endpoint, with the API key.
    async fn send(&self, body: &Value) -> Result<Response, Failure> {
        let mut request = self.client.post(self.endpoint.clone()).json(body);
        if let Some(key) = &self.config.api_key {
            request = request.bearer_auth(key);
        }
        request.send().await.map_err(|error| {
            tracing::warn!(error = %error, "model server unreachable");
            if error.is_builder() {
                Failure::fatal(ModelError::Protocol(
                    "the request could not be built".into(),
                ))
            } else {
                Failure::transient(ModelError::Unavailable(
                    "the model server could not be reached".into(),
                ))
            }
        })
    }

    /// One classification request and its answer; no retries, the caller has its rules.
    async fn classify(&self, body: &Value) -> Result<RiskVerdict, ModelError> {
        let response = self.send(body).await.map_err(|failure| failure.error)?;
        if !response.status().is_success() {
            return Err(self.refusal(response).await.error);
        }
        let body = response.bytes().await.map_err(|_| {
            ModelError::Unavailable("the connection was lost during the reply".into())
        })?;
        classify::read_answer(&body)
    }

    /// Classifies a non-2xx answer. The body only goes to the logs, redacted.
    async fn refusal(&self, response: Response) -> Failure {
        let status = response.status();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let body = read_capped(response).await;
        let message = wire::loggable_error(&body, self.config.api_key.as_deref());
        tracing::warn!(status = status.as_u16(), %message, "model server refused the request");
        match status {
            StatusCode::TOO_MANY_REQUESTS => Failure {
                error: ModelError::RateLimited,
                retryable: true,
                retry_after,
            },
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                Failure::fatal(ModelError::Unavailable(format!(
                    "authentication failed (HTTP {}); check the API key",
                    status.as_u16()
                )))
            }
            s if s.is_server_error() || s == StatusCode::REQUEST_TIMEOUT => Failure {
                retry_after,
                ..Failure::transient(ModelError::Unavailable(format!(
                    "the model server failed (HTTP {})",
                    s.as_u16()
                )))
            },
            s => Failure::fatal(ModelError::Unavailable(format!(
                "the model server refused the request (HTTP {})",
                s.as_u16()
            ))),
        }
    }

    /// Exponential backoff with jitter, or the server's `Retry-After`; never above the cap.
    fn backoff(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        let delay = retry_after.unwrap_or_else(|| {
            let exponential = self
                .config
                .retry_base_delay
                .saturating_mul(1 << retry.min(16));
            // Jitter spreads out clients that failed together so they do not retry together.
            exponential.mul_f64(rand::random_range(0.5..1.0))
        });
        delay.min(self.config.max_retry_delay)
    }
}

impl ChatModel for OpenAiModel {
    async fn stream(&self, request: ModelRequest) -> Result<ModelStream, ModelError> {
        let body = wire::request_body(&self.config, &request);
        let mut retry = 0;
        loop {
            let failure =
                match tokio::time::timeout(self.config.first_token_timeout, self.attempt(&body))
                    .await
                {
                    Ok(Ok(stream)) => return Ok(stream),
                    Ok(Err(failure)) => failure,
                    // A retry would double the wait of someone already waiting too long.
                    Err(_) => {
                        tracing::warn!(model = %self.config.model, "no first token in time");
                        return Err(ModelError::Timeout);
                    }
                };
            if !failure.retryable || retry >= self.config.max_retries {
                return Err(failure.error);
            }
            let delay = self.backoff(retry, failure.retry_after);
            retry += 1;
            tracing::info!(
                model = %self.config.model,
                retry,
                delay_ms = delay.as_millis() as u64,
                error = %failure.error,
                "retrying the model request"
            );
            tokio::time::sleep(delay).await;
        }
    }

    fn name(&self) -> String {
        self.config.model.clone()
    }

    async fn classify_risk(&self, question: &RiskQuestion) -> Result<RiskVerdict, ModelError> {
        let body = classify::request_body(&self.config, question);
        let timeout = self.config.classification_timeout;
        let result = tokio::time::timeout(timeout, self.classify(&body))
            .await
            .unwrap_or(Err(ModelError::Timeout));
        if let Err(error) = &result {
            let model = self.config.classifier_model();
            tracing::warn!(%model, %error, "risk classification failed; the rules decide");
        }
        classify::count_call(&result);
        result
    }
}

fn is_json(response: &Response) -> bool {
    response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().starts_with("application/json"))
}

/// `Retry-After` in seconds (fractions accepted); the HTTP-date form falls back to backoff.
fn parse_retry_after(value: &str) -> Option<Duration> {
    let seconds: f64 = value.trim().parse().ok()?;
    (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds.min(3600.0)))
}

async fn read_capped(mut response: Response) -> String {
    let mut body = Vec::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        body.extend_from_slice(&chunk);
        if body.len() >= MAX_ERROR_BODY {
            body.truncate(MAX_ERROR_BODY);
            break;
        }
    }
    String::from_utf8_lossy(&body).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(base_url: &str) -> Result<OpenAiModel, SetupError> {
        OpenAiModel::new(OpenAiConfig::new(base_url, "m"))
    }

    #[test]
    fn endpoint_is_built_from_the_base_url() {
        let built = model("http://localhost:11434/v1/").unwrap();
        assert_eq!(
            built.endpoint.as_str(),
            "http://localhost:11434/v1/chat/completions"
        );
        assert_eq!(built.name(), "m");
        assert!(matches!(
            model("localhost:11434"),
            Err(SetupError::InvalidBaseUrl { .. })
        ));
        assert!(matches!(
            model("not a url"),
            Err(SetupError::InvalidBaseUrl { .. })
        ));
    }

    #[test]
    fn retry_after_is_seconds() {
        assert_eq!(parse_retry_after("2"), Some(Duration::from_secs(2)));
        assert_eq!(parse_retry_after(" 0.5 "), Some(Duration::from_millis(500)));
        assert_eq!(parse_retry_after("-1"), None);
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
    }

    #[test]
    fn backoff_grows_with_jitter_and_is_capped() {
        let mut config = OpenAiConfig::new("http://x/v1", "m");
        config.retry_base_delay = Duration::from_millis(100);
        config.max_retry_delay = Duration::from_millis(700);
        let model = OpenAiModel::new(config).unwrap();
        for _ in 0..50 {
            let first = model.backoff(0, None);
            assert!(first >= Duration::from_millis(50) && first <= Duration::from_millis(100));
            let third = model.backoff(2, None);
            assert!(third >= Duration::from_millis(200) && third <= Duration::from_millis(400));
            assert_eq!(model.backoff(10, None), Duration::from_millis(700));
        }
        assert_eq!(
            model.backoff(0, Some(Duration::from_millis(300))),
            Duration::from_millis(300)
        );
        assert_eq!(
            model.backoff(0, Some(Duration::from_secs(30))),
            Duration::from_millis(700)
        );
    }
}
