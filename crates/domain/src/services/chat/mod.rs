//! The conversation turn: crisis first, real tokens, no overspend, sealed history, grounded answers.
//!
//! 1. Crisis first: a message showing risk gets the crisis resources at once, free of charge and
//!    exempt from quota and rate limits; only an aggregate daily counter remembers it.
//! 2. Rate limit per person, then the prompt: system prompt (the company's, or the default for
//!    the person's language), the most relevant library passages, recent history, the message.
//! 3. Reserve the worst case (prompt tokens + max output) against every budget line at once.
//! 4. Stream the reply to the caller; on any failure or disconnect release the reservation (a
//!    failed turn costs nothing); on success settle to the usage the model reported.
//! 5. Store both messages sealed, in the same transaction as the charge (which also reads what
//!    is left); return the reply, usage, what is left and the sources.

use super::Env;
use super::budgets::{BudgetError, budget_lines, summarize, usage_summary};
use super::crisis::{
    Care, OpenedHistory, PreparedTurn, SafeAnswer, SafetyPath, check_in_text, reply_locale,
};
use crate::account::Session;
use crate::budget::{LedgerError, ReservationRequest};
use crate::company::Company;
use crate::conversation::{Author, Message, SealedMessage};
use crate::model::{ChatRole, ChatTurn, ModelError, ModelEvent, ModelRequest, ModelUsage};
use crate::plan::PlanCatalog;
use crate::ports::{
    ChatModel, CompanyStore, ConversationStore, CrisisScreen, MessageCipher, RateLimiter,
    Retriever, SafetyCounter, SafetyPlanStore, StoreError, TokenCounter, UsageLedger, UserStore,
};
use crate::prompt::{Source, default_system_prompt, system_message_parts};
use crate::ratelimit::{Decision, Quota};
use crate::safety::{method_content, safety_prompt};
use crate::{Actor, Locale, MessageId, ReservationId, Role, User, UserId};
use chrono::Duration;
use futures::StreamExt;
use std::sync::Arc;

/// Longest message a person may send, in characters.
pub const MAX_MESSAGE_CHARS: usize = 4_000;
/// The default of [`ChatLimits::per_minute`]: turns per person per minute.
pub const CHAT_PER_MINUTE: u32 = 20;
/// Recent messages offered to the model as context.
pub const HISTORY_MESSAGES: u64 = 12;
/// Token budgets within the prompt.
const HISTORY_TOKENS: u64 = 1_500;
const SOURCES_TOKENS: u64 = 1_200;
const SOURCES_WANTED: usize = 6;
/// The default of [`ChatLimits::lease`].
pub const LEASE: Duration = Duration::minutes(5);

mod history;
mod prompting;
mod turn;

pub use history::export_markdown;
pub use turn::*;

pub struct ChatService<Store, Model, Tokens, Cipher, Limiter, Library, Screen, Environment> {
    pub store: Arc<Store>,
    pub model: Arc<Model>,
    pub tokens: Arc<Tokens>,
    pub cipher: Arc<Cipher>,
    pub limiter: Arc<Limiter>,
    pub retriever: Arc<Library>,
    pub screen: Arc<Screen>,
    pub env: Arc<Environment>,
    pub catalog: Arc<PlanCatalog>,
    pub limits: ChatLimits,
}

impl<Store, Model, Tokens, Cipher, Limiter, Library, Screen, Environment> Clone
    for ChatService<Store, Model, Tokens, Cipher, Limiter, Library, Screen, Environment>
{
    fn clone(&self) -> Self {
        ChatService {
            store: self.store.clone(),
            model: self.model.clone(),
            tokens: self.tokens.clone(),
            cipher: self.cipher.clone(),
            limiter: self.limiter.clone(),
            retriever: self.retriever.clone(),
            screen: self.screen.clone(),
            env: self.env.clone(),
            catalog: self.catalog.clone(),
            limits: self.limits,
        }
    }
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
    async fn person(&self, actor: &Actor) -> Result<User, ChatError> {
        self.store
            .user_by_id(actor.user_id)
            .await?
            .filter(|u| !u.disabled)
            .ok_or(ChatError::Unauthenticated)
    }

    /// One turn of conversation, from its [`TurnContext`] (the person and their newest
    /// messages, read with the session: neither is read again, which would cost a round trip
    /// per turn for nothing). `edge` is the per-address limiter's decision, taken at the edge but
    /// enforced only here, after the crisis screen. The reply streams into `sink` as it arrives.
    ///
    /// The crisis screen runs before everything that could refuse the person: the length
    /// check, both rate limits, the budget and the model.
    pub async fn turn(
        &self,
        context: TurnContext,
        message: &str,
        edge: EdgeDecision,
        sink: &mut impl TurnSink,
    ) -> Result<TurnOutcome, ChatError> {
        let TurnContext { user, recent, .. } = context;
        let user = &user;
        let message = message.trim();
        if message.is_empty() {
            return Err(ChatError::Empty);
        }
        if user.disabled {
            return Err(ChatError::Unauthenticated);
        }
        let opened = self.open_recent(user.id, recent);
        let earlier = opened.earlier_from_person(self.env.now());
        let assessment = self.screen.assess(message, &earlier);
        let care = match self.safety_path(&assessment, &earlier, message).await {
            SafetyPath::Answer(answer) => {
                return self
                    .safe_turn(user, answer, &assessment, &opened, message, sink)
                    .await;
            }
            SafetyPath::Continue(care) => care,
        };
        if message.chars().count() > MAX_MESSAGE_CHARS {
            return Err(ChatError::TooLong);
        }
        if let EdgeDecision::Limited { retry_after_secs } = edge {
            return Err(ChatError::RateLimited { retry_after_secs });
        }
        match self
            .limiter
            .check(self.limits.quota(), &format!("user:{}", user.id))
            .await
        {
            Ok(Decision::Allowed) => {}
            Ok(Decision::Limited { retry_after }) => {
                return Err(ChatError::RateLimited {
                    retry_after_secs: retry_after.as_secs().max(1),
                });
            }
            Err(e) => return Err(ChatError::Unavailable(e.to_string())),
        }
        let company = self.company_of(user).await?;
        let prepared = self.prepare(user, company.as_ref(), &opened, message, care);
        let now = self.env.now();
        let lines = budget_lines(&self.catalog, user, company.as_ref(), now)?;
        let request_to_reserve = ReservationRequest {
            id: ReservationId(self.env.next_id()),
            amount: prepared.prompt_tokens + u64::from(self.limits.max_output_tokens),
            lines: lines.clone(),
            expires_at: now + self.limits.lease,
        };
        let reservation = match self.store.reserve(request_to_reserve).await {
            Ok(reservation) => reservation,
            Err(LedgerError::InsufficientBudget { .. }) if care != Care::Ordinary => {
                // Someone in distress is never answered with only "buy more tokens".
                return self
                    .safe_turn(
                        user,
                        SafeAnswer::CheckIn,
                        &assessment,
                        &opened,
                        message,
                        sink,
                    )
                    .await;
            }
            Err(LedgerError::InsufficientBudget { .. }) => {
                let summary = usage_summary(
                    self.store.as_ref(),
                    &self.catalog,
                    user,
                    company.as_ref(),
                    now,
                )
                .await?;
                return Err(ChatError::OverBudget {
                    remaining: summary.remaining,
                    role: user.role,
                });
            }
            Err(e) => return Err(e.into()),
        };
        let (reservation_id, reserved) = (reservation.id, reservation.amount);
        let streamed = match care {
            Care::Ordinary => self.stream_reply(prepared.request, sink).await,
            Care::Careful { .. } => self.stream_reply(prepared.request, &mut Collect).await,
        };
        let (mut reply, reported) = match streamed {
            Ok(done) => done,
            Err(e) => {
                // A failed or abandoned turn costs nothing.
                self.release(reservation_id).await;
                return Err(e);
            }
        };
        if care != Care::Ordinary && method_content(&reply) {
            // Safe-messaging guidance: no method content after distress. The model's reply is
            // replaced, and the person is not charged for it.
            self.release(reservation_id).await;
            let answer = SafeAnswer::Crisis { imminent: false };
            return self
                .safe_turn(user, answer, &assessment, &opened, message, sink)
                .await;
        }
        let usage = reported.unwrap_or(ModelUsage {
            prompt_tokens: prepared.prompt_tokens,
            completion_tokens: self.tokens.count(&reply),
        });
        let mut support = Support::None;
        if let Care::Careful { check_in } = care {
            // Careful replies were held back until checked; they go out whole.
            if check_in {
                reply.push_str(check_in_text(reply_locale(user, &assessment)));
                support = Support::CheckIn;
            }
            if !sink.delta(&reply) {
                self.release(reservation_id).await;
                return Err(ChatError::Cancelled);
            }
        }
        let charged = (usage.prompt_tokens + usage.completion_tokens).min(reserved);
        let exchange = self.seal_exchange(user.id, message, &reply, charged);
        let settled = self
            .store
            .settle_turn(
                &reservation,
                usage.prompt_tokens + usage.completion_tokens,
                &exchange,
                &lines,
            )
            .await;
        let balances = match settled {
            Ok(settled) => settled.balances,
            Err(e) => {
                // Neither charged nor saved: give the tokens back now rather than at lease expiry.
                self.release(reservation_id).await;
                return Err(e.into());
            }
        };
        Ok(TurnOutcome {
            reply,
            usage,
            charged,
            remaining: summarize(user, &lines, &balances).remaining,
            sources: prepared.sources,
            crisis: false,
            support,
            safety_plan_saved: false,
        })
    }

    /// The company whose prompt and budget apply to `user`, if any.
    pub(super) async fn company_of(&self, user: &User) -> Result<Option<Company>, ChatError> {
        Ok(match user.company_budget() {
            Some(id) => self.store.company_by_id(id).await?,
            None => None,
        })
    }

    pub(super) async fn release(&self, id: ReservationId) {
        // If this fails the lease still expires and the scheduler reclaims it.
        let _ = self.store.settle(id, 0).await;
    }

    async fn stream_reply(
        &self,
        request: ModelRequest,
        sink: &mut impl TurnSink,
    ) -> Result<(String, Option<ModelUsage>), ChatError> {
        let mut stream = self.model.stream(request).await.map_err(ChatError::Model)?;
        let mut reply = String::new();
        while let Some(event) = stream.next().await {
            match event.map_err(ChatError::Model)? {
                ModelEvent::Delta(text) => {
                    reply.push_str(&text);
                    if !sink.delta(&text) {
                        return Err(ChatError::Cancelled);
                    }
                }
                ModelEvent::Done { usage } => return Ok((reply, usage)),
            }
        }
        Err(ChatError::Model(ModelError::Protocol(
            "the reply ended abruptly".into(),
        )))
    }
}
