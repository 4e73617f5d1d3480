//! What a turn starts from and gives back: its context, limits, sink, outcome and errors.

use super::*;

/// What a turn starts from: the person, the session they authenticated with and their
/// [`HISTORY_MESSAGES`] newest messages (newest first), read together in one round trip by
/// `AccountService::turn_context`. Only the domain builds one, so a caller cannot hand a turn
/// a history of its own making.
#[derive(Debug, Clone)]
pub struct TurnContext {
    pub(super) user: User,
    pub(super) session: Session,
    pub(super) recent: Vec<SealedMessage>,
}

impl TurnContext {
    pub(crate) fn new(user: User, session: Session, recent: Vec<SealedMessage>) -> TurnContext {
        TurnContext {
            user,
            session,
            recent,
        }
    }

    pub fn user(&self) -> &User {
        &self.user
    }

    pub fn session(&self) -> &Session {
        &self.session
    }
}

/// Operator-tunable limits of the conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChatLimits {
    /// Largest reply of one turn, in tokens (reserved before the call).
    pub max_output_tokens: u32,
    /// Turns per person per minute (crisis answers are exempt).
    pub per_minute: u32,
    /// A reservation left by a server that died is reclaimed after this long.
    pub lease: Duration,
}

impl ChatLimits {
    pub(super) fn quota(&self) -> Quota {
        Quota::per_minute("chat_user", self.per_minute.max(1))
    }
}

impl Default for ChatLimits {
    fn default() -> Self {
        ChatLimits {
            max_output_tokens: 800,
            per_minute: CHAT_PER_MINUTE,
            lease: LEASE,
        }
    }
}

/// Where the reply goes while it streams. `false` means the person left: stop and release.
pub trait TurnSink: Send {
    fn delta(&mut self, text: &str) -> bool;

    /// The whole answer is known before the turn's writes are done (the platform's own
    /// answers): the caller may be answered now, while the turn finishes its bookkeeping.
    fn answered(&mut self, _outcome: &TurnOutcome) {}
}

/// A sink that only collects (non-streaming API calls).
#[derive(Default)]
pub struct Collect;

impl TurnSink for Collect {
    fn delta(&mut self, _: &str) -> bool {
        true
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TurnOutcome {
    pub reply: String,
    pub usage: ModelUsage,
    /// Tokens charged to the budgets (the reported usage, never more than reserved).
    pub charged: u64,
    pub remaining: Option<u64>,
    pub sources: Vec<Source>,
    /// The crisis answer was given (free of charge).
    pub crisis: bool,
    /// Which answer of the safety paths, if any, this is.
    pub support: Support,
    /// With a crisis answer: the person has a saved safety plan, offered again.
    pub safety_plan_saved: bool,
}

/// The safety path a turn took, for the page to show it fittingly (tappable numbers, a safety
/// plan and a grounding exercise after a crisis).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Support {
    None,
    /// A caring line was added: distress without explicit risk.
    CheckIn,
    /// How to help someone else at risk.
    SomeoneElse,
    /// The crisis answer.
    Crisis,
    /// The crisis answer with the emergency number first: danger now.
    Imminent,
}

impl Support {
    /// The crisis answer, with the emergency number first when the danger is now.
    pub fn crisis(imminent: bool) -> Support {
        if imminent {
            Support::Imminent
        } else {
            Support::Crisis
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Support::None => "none",
            Support::CheckIn => "check_in",
            Support::SomeoneElse => "someone_else",
            Support::Crisis => "crisis",
            Support::Imminent => "imminent",
        }
    }
}

/// The per-address limiter's decision, taken at the edge for every request but enforced on a
/// chat turn only after the crisis screen (a person at risk is answered even when their
/// address is busy).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EdgeDecision {
    #[default]
    Allowed,
    Limited {
        retry_after_secs: u64,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChatError {
    #[error("write a message first")]
    Empty,
    #[error("the message is too long (at most {MAX_MESSAGE_CHARS} characters)")]
    TooLong,
    #[error("too many messages; wait {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    #[error("not enough tokens left this period for a reply")]
    OverBudget { remaining: Option<u64>, role: Role },
    #[error("{0}")]
    Model(ModelError),
    #[error("the reply was cancelled")]
    Cancelled,
    #[error("not signed in")]
    Unauthenticated,
    #[error("the service is temporarily unavailable")]
    Unavailable(String),
}

impl From<StoreError> for ChatError {
    fn from(e: StoreError) -> Self {
        ChatError::Unavailable(e.to_string())
    }
}

impl From<BudgetError> for ChatError {
    fn from(e: BudgetError) -> Self {
        ChatError::Unavailable(e.to_string())
    }
}

impl From<LedgerError> for ChatError {
    fn from(e: LedgerError) -> Self {
        ChatError::Unavailable(e.to_string())
    }
}
