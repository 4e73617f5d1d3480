//! The language model and the tokenizer that counts its tokens.

use crate::model::{
    ChatTurn, ModelError, ModelRequest, ModelStream, RiskQuestion, RiskVerdict, prompt_tokens,
};
use std::future::Future;

#[cfg_attr(test, mockall::automock)]
pub trait ChatModel: Send + Sync + 'static {
    /// Starts a streamed reply. Errors before the first event are returned here (after the
    /// adapter's own bounded retries); later failures arrive in the stream.
    fn stream(
        &self,
        request: ModelRequest,
    ) -> impl Future<Output = Result<ModelStream, ModelError>> + Send;

    /// A short name for pages and logs (e.g. the model id, or "offline").
    fn name(&self) -> String;

    /// The crisis screen's second opinion on an ambiguous message: one short call with
    /// structured output (see
    /// [`risk_classifier_messages`](crate::model::risk_classifier_messages)), answered within
    /// the adapter's
    /// classification timeout (2 s by default) or failed. Its tokens are the platform's cost,
    /// never a person's: adapters count them in the metrics. Without a model (offline) it fails
    /// at once with [`ModelError::Unavailable`] and the rules decide alone.
    fn classify_risk(
        &self,
        question: &RiskQuestion,
    ) -> impl Future<Output = Result<RiskVerdict, ModelError>> + Send;
}

/// Counts tokens the way the model does (a real BPE tokenizer).
#[cfg_attr(test, mockall::automock)]
pub trait TokenCounter: Send + Sync + 'static {
    fn count(&self, text: &str) -> u64;

    /// Tokens a whole chat request costs as a prompt, counted the way OpenAI documents it:
    /// each message costs its role and content plus a fixed overhead, and the reply is primed.
    fn count_request(&self, messages: &[ChatTurn]) -> u64 {
        prompt_tokens(messages.iter().map(|turn| self.count(&turn.content)))
    }
}
