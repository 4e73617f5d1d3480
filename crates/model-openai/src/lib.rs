//! BOTPSICOLOGO's language-model adapter.
//!
//! - [`OpenAiModel`] implements the domain's `ChatModel` port against any OpenAI-compatible
//!   `/chat/completions` server (OpenAI, Ollama, vLLM, llama.cpp server), streaming the reply.
//!   Before the first token it retries 429s, 5xxs and connection failures a bounded number of
//!   times (exponential backoff with jitter, honouring `Retry-After`); after it, failures arrive
//!   in the stream, so no text is ever repeated. A reply that stops without `[DONE]` is an error,
//!   never a silent end. Its `classify_risk` is one structured-output call within
//!   `classification_timeout`, never retried, counted in `safety_classifier_calls_total{outcome}`
//!   and `safety_classifier_tokens_total` (see [`describe_metrics`]).
//! - [`TiktokenCounter`] implements the `TokenCounter` port with o200k_base (a whole request is
//!   priced by the port's `count_request`); [`CachedTokenCounter`] remembers the counts of
//!   texts already seen.
//! - `stub` (cargo feature `stub`): an in-process OpenAI-compatible server with scripted
//!   replies (and risk verdicts for classification requests), for tests and benchmarks.

mod classify;
mod config;
mod openai;
mod reply;
mod sse;
mod tokens;
mod wire;

#[cfg(feature = "stub")]
pub mod stub;

pub use classify::describe_metrics;
pub use config::{OpenAiConfig, OutputLimitField};
pub use openai::{OpenAiModel, SetupError};
pub use tokens::{CachedTokenCounter, TiktokenCounter};
