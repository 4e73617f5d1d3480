//! The safety paths of a conversation turn beside `chat/`: what the
//! crisis screen's judgement means for the turn, the second opinion of the model on ambiguous
//! messages, and the answers the platform gives itself (the crisis answer, how to help someone
//! else, a caring check-in). These answers are free, come before every limit and failure path,
//! and are stored like any other turn, so that no column tells who reached them; the only trace
//! is the aggregate daily counter.

use super::Env;
use super::budgets::usage_summary;
use super::chat::{ChatError, ChatService, Support, TurnOutcome, TurnSink};
use crate::conversation::{Author, Message};
use crate::model::{ModelRequest, ModelUsage, RiskQuestion};
use crate::ports::{
    ChatModel, CompanyStore, ConversationStore, CrisisScreen, MessageCipher, RateLimiter,
    Retriever, SafetyCounter, SafetyPlanStore, TokenCounter, UsageLedger, UserStore,
};
use crate::prompt::Source;
use crate::safety::replies::check_in;
use crate::safety::{Assessment, Concern, crisis_reply, someone_else_reply};
use crate::{Locale, User};
use chrono::{DateTime, Duration, Utc};

/// Earlier messages older than this are no longer the conversation's context for the screen.
const CONTEXT_WINDOW: Duration = Duration::hours(24);

/// What the screen's judgement means for a turn.
pub(super) enum SafetyPath {
    /// The platform answers itself, before any limit.
    Answer(SafeAnswer),
    /// The turn goes on to the model, with this much care.
    Continue(Care),
}

/// The answers the platform gives without the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SafeAnswer {
    Crisis { imminent: bool },
    SomeoneElse,
    CheckIn,
}

/// How a turn that reaches the model is handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Care {
    Ordinary,
    /// After distress or a crisis: the safety-oriented system prompt, the reply held back until
    /// checked for method content, and (`check_in`) a caring line added to it.
    Careful {
        check_in: bool,
    },
}

/// The person's newest messages, opened.
#[derive(Debug, Default)]
pub(super) struct OpenedHistory {
    /// The newest that fit the prompt's history budget, oldest first.
    pub history: Vec<Message>,
    /// The tokens of each of `history`.
    pub costs: Vec<u64>,
    /// Every one that opened, oldest first.
    pub all: Vec<Message>,
}

impl OpenedHistory {
    /// The person's own messages of the last day, oldest first: the screen's context.
    pub fn earlier_from_person(&self, now: DateTime<Utc>) -> Vec<String> {
        self.all
            .iter()
            .filter(|m| m.author == Author::User && now - m.created_at <= CONTEXT_WINDOW)
            .map(|m| m.text.clone())
            .collect()
    }
}

/// A turn's model request, ready to reserve for and send.
pub(super) struct PreparedTurn {
    pub request: ModelRequest,
    pub prompt_tokens: u64,
    pub sources: Vec<Source>,
}

/// Replies follow the language the person wrote in, else their profile's.
pub(super) fn reply_locale(user: &User, assessment: &Assessment) -> Locale {
    assessment.language.unwrap_or(user.locale)
}

/// The caring line added to a careful reply.
pub(super) fn check_in_text(locale: Locale) -> &'static str {
    check_in(locale)
}

impl<Store, Model, Tokens, Cipher, Limiter, Library, Screen, Environment>
    ChatService<Store, Model, Tokens, Cipher, Limiter, Library, Screen, Environment>
where
    Store: UserStore
        + CompanyStore
        + UsageLedger
        + ConversationStore
        + SafetyCounter
        + SafetyPlanStore,
    Model: ChatModel,
    Tokens: TokenCounter,
    Cipher: MessageCipher,
    Limiter: RateLimiter,
    Library: Retriever,
    Screen: CrisisScreen,
    Environment: Env,
{
    /// Decides the turn's safety path. Ambiguous messages (distress without explicit risk) get
    /// the model's second opinion; when it fails or no model is configured, the rules decide
    /// and lean to safety: a careful reply with a check-in.
    pub(super) async fn safety_path(
        &self,
        assessment: &Assessment,
        earlier: &[String],
        message: &str,
    ) -> SafetyPath {
        match assessment.concern {
            Concern::Imminent => SafetyPath::Answer(SafeAnswer::Crisis { imminent: true }),
            Concern::Risk => SafetyPath::Answer(SafeAnswer::Crisis { imminent: false }),
            Concern::SomeoneElse => SafetyPath::Answer(SafeAnswer::SomeoneElse),
            Concern::Distress => {
                let question = RiskQuestion {
                    recent: earlier.to_vec(),
                    message: message.to_string(),
                };
                match self.model.classify_risk(&question).await {
                    // An imminent act without risk is contradictory: the safer reading wins.
                    Ok(verdict) if verdict.risk || verdict.imminent => {
                        SafetyPath::Answer(SafeAnswer::Crisis {
                            imminent: verdict.imminent,
                        })
                    }
                    Ok(_) => SafetyPath::Continue(Care::Careful { check_in: false }),
                    Err(_) => SafetyPath::Continue(Care::Careful { check_in: true }),
                }
            }
            Concern::None if assessment.after_crisis => {
                SafetyPath::Continue(Care::Careful { check_in: true })
            }
            // Distress earlier, even one the second opinion found no risk in: the reply is
            // still checked for method content before it goes out.
            Concern::None if assessment.after_distress => {
                SafetyPath::Continue(Care::Careful { check_in: false })
            }
            Concern::None => SafetyPath::Continue(Care::Ordinary),
        }
    }

    /// A turn the platform answers itself: free, exempt from every limit, given even when the
    /// database is down, and stored like an ordinary turn (with the tokens such a turn would
    /// have cost) so that nothing in the row tells it apart.
    pub(super) async fn safe_turn(
        &self,
        user: &User,
        answer: SafeAnswer,
        assessment: &Assessment,
        opened: &OpenedHistory,
        message: &str,
        sink: &mut impl TurnSink,
    ) -> Result<TurnOutcome, ChatError> {
        let locale = reply_locale(user, assessment);
        let (reply, support, has_plan) = match answer {
            SafeAnswer::Crisis { imminent } => {
                // A plan that cannot be read now is simply not mentioned.
                let has_plan = matches!(self.store.safety_plan(user.id).await, Ok(Some(_)));
                let reply = crisis_reply(locale, imminent, has_plan);
                (reply, Support::crisis(imminent), has_plan)
            }
            SafeAnswer::SomeoneElse => (someone_else_reply(locale), Support::SomeoneElse, false),
            SafeAnswer::CheckIn => (check_in(locale).trim().to_string(), Support::CheckIn, false),
        };
        sink.delta(&reply);
        let crisis = matches!(answer, SafeAnswer::Crisis { .. });
        let company = self.company_of(user).await.ok().flatten();
        let remaining = usage_summary(
            self.store.as_ref(),
            &self.catalog,
            user,
            company.as_ref(),
            self.env.now(),
        )
        .await
        .ok()
        .and_then(|s| s.remaining);
        let outcome = TurnOutcome {
            reply,
            usage: ModelUsage::default(),
            charged: 0,
            remaining,
            sources: Vec::new(),
            crisis,
            support,
            safety_plan_saved: has_plan,
        };
        // The person has their answer before any write: a database that is slow to write
        // (a locked SQLite file waits out its busy timeout) must not hold it back. Failures to
        // count or to store are deliberately ignored.
        sink.answered(&outcome);
        if crisis {
            let day = self.env.now().timestamp().div_euclid(86_400);
            let _ = self.store.count_crisis(day).await;
        }
        let ordinary = self.prepare(user, company.as_ref(), opened, message, Care::Ordinary);
        let tokens = ordinary.prompt_tokens + self.tokens.count(&outcome.reply);
        let exchange = self.seal_exchange(user.id, message, &outcome.reply, tokens);
        let _ = self.store.insert_messages(&exchange).await;
        Ok(outcome)
    }

    /// The crisis answer for a message whose sender cannot be identified because the database
    /// is unavailable: `None` unless the message shows risk. Nothing is stored (nothing can
    /// be); the daily counter is tried.
    pub async fn crisis_without_person(&self, message: &str) -> Option<TurnOutcome> {
        let assessment = self.screen.assess(message.trim(), &[]);
        if !assessment.is_crisis() {
            return None;
        }
        let imminent = assessment.concern == Concern::Imminent;
        let locale = assessment.language.unwrap_or(Locale::PtBr);
        let day = self.env.now().timestamp().div_euclid(86_400);
        let _ = self.store.count_crisis(day).await;
        Some(TurnOutcome {
            reply: crisis_reply(locale, imminent, false),
            usage: ModelUsage::default(),
            charged: 0,
            remaining: None,
            sources: Vec::new(),
            crisis: true,
            support: Support::crisis(imminent),
            safety_plan_saved: false,
        })
    }
}
