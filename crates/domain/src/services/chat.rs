//! The conversation turn (rules 1, 2, 4, 5 and 6 of the brief).
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

/// What a turn starts from: the person, the session they authenticated with and their
/// [`HISTORY_MESSAGES`] newest messages (newest first), read together in one round trip by
/// `AccountService::turn_context`. Only the domain builds one, so a caller cannot hand a turn
/// a history of its own making.
#[derive(Debug, Clone)]
pub struct TurnContext {
    user: User,
    session: Session,
    recent: Vec<SealedMessage>,
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
    fn quota(&self) -> Quota {
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

    /// The model request of a turn and its prompt tokens: the system prompt (the company's, or
    /// the default for the person's language, with the safety addendum when care is needed),
    /// the library passages, the history that fits, and the message.
    pub(super) fn prepare(
        &self,
        user: &User,
        company: Option<&Company>,
        opened: &OpenedHistory,
        message: &str,
        care: Care,
    ) -> PreparedTurn {
        let mut prompt = company
            .and_then(|c| c.system_prompt.clone())
            .unwrap_or_else(|| default_system_prompt(user.locale).to_string());
        if care != Care::Ordinary {
            prompt.push_str(safety_prompt(user.locale));
        }
        let sources = self.sources_for(message);
        let system = system_message_parts(&prompt, &sources, user.locale);
        // Each history message was counted once while fitting the history; only the system
        // message (prompt and sources, piece by piece: see `system_message_parts`) and the new
        // message remain to count.
        let system_tokens = system.iter().map(|part| self.tokens.count(part)).sum();
        let prompt_tokens = crate::model::prompt_tokens(
            opened
                .costs
                .iter()
                .copied()
                .chain([system_tokens, self.tokens.count(message)]),
        );
        let request = self.request(system.concat(), &sources, &opened.history, message);
        PreparedTurn {
            request,
            prompt_tokens,
            sources,
        }
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

    pub(super) fn sources_for(&self, message: &str) -> Vec<Source> {
        let mut budget = SOURCES_TOKENS;
        self.retriever
            .retrieve(message, SOURCES_WANTED)
            .into_iter()
            .take_while(|s| {
                let cost = self.tokens.count(&s.text);
                let fits = cost <= budget;
                budget = budget.saturating_sub(cost);
                fits
            })
            .collect()
    }

    /// Opens the newest messages (newest first, as read with the session): the latest that fit
    /// the history budget, oldest first with each one's tokens, and every one that opens, for
    /// the crisis screen's context.
    pub(super) fn open_recent(&self, user: UserId, sealed: Vec<SealedMessage>) -> OpenedHistory {
        let mut budget = HISTORY_TOKENS;
        let mut opened = OpenedHistory::default();
        let mut fitting = true;
        for m in sealed {
            // Messages that cannot be opened are left out rather than shown as garbage.
            let Ok(text) = self.cipher.open(user, &m.sealed) else {
                continue;
            };
            let message = Message {
                id: m.id,
                author: m.author,
                text,
                created_at: m.created_at,
                tokens: m.tokens,
            };
            if fitting {
                let cost = self.tokens.count(&message.text);
                if cost <= budget {
                    budget -= cost;
                    opened.costs.push(cost);
                    opened.history.push(message.clone());
                } else {
                    fitting = false;
                }
            }
            opened.all.push(message);
        }
        opened.history.reverse();
        opened.costs.reverse();
        opened.all.reverse();
        opened
    }

    pub(super) fn request(
        &self,
        system: String,
        sources: &[Source],
        history: &[Message],
        message: &str,
    ) -> ModelRequest {
        let mut messages = vec![ChatTurn {
            role: ChatRole::System,
            content: system,
        }];
        messages.extend(history.iter().map(|m| ChatTurn {
            role: match m.author {
                Author::User => ChatRole::User,
                Author::Assistant => ChatRole::Assistant,
            },
            content: m.text.clone(),
        }));
        messages.push(ChatTurn {
            role: ChatRole::User,
            content: message.to_string(),
        });
        ModelRequest {
            messages,
            sources: sources.to_vec(),
            max_output_tokens: self.limits.max_output_tokens,
        }
    }

    /// The person's message and the reply, sealed, ready to store.
    pub(super) fn seal_exchange(
        &self,
        user: UserId,
        message: &str,
        reply: &str,
        tokens: u64,
    ) -> [SealedMessage; 2] {
        let now = self.env.now();
        let sealed = |author, text: &str, tokens| SealedMessage {
            id: MessageId(self.env.next_id()),
            user_id: user,
            author,
            sealed: self.cipher.seal(user, text),
            created_at: now,
            tokens,
        };
        [
            sealed(Author::User, message, 0),
            sealed(Author::Assistant, reply, tokens),
        ]
    }

    /// The person's history, newest first, `limit` at a time before `before`.
    pub async fn history(
        &self,
        actor: &Actor,
        before: Option<MessageId>,
        limit: u64,
    ) -> Result<Vec<Message>, ChatError> {
        let user = self.person(actor).await?;
        let sealed = self
            .store
            .messages_page(user.id, before, limit.clamp(1, 200))
            .await?;
        Ok(sealed
            .into_iter()
            .filter_map(|m| {
                let text = self.cipher.open(user.id, &m.sealed).ok()?;
                Some(Message {
                    id: m.id,
                    author: m.author,
                    text,
                    created_at: m.created_at,
                    tokens: m.tokens,
                })
            })
            .collect())
    }

    /// Everything, oldest first, for export.
    pub async fn export(&self, actor: &Actor) -> Result<Vec<Message>, ChatError> {
        let mut all = Vec::new();
        let mut before = None;
        loop {
            let page = self.history(actor, before, 200).await?;
            let Some(last) = page.last() else { break };
            before = Some(last.id);
            let full = page.len() == 200;
            all.extend(page);
            if !full {
                break;
            }
        }
        all.reverse();
        Ok(all)
    }

    /// Really deletes the person's history. Returns how many messages went.
    pub async fn clear(&self, actor: &Actor) -> Result<u64, ChatError> {
        let user = self.person(actor).await?;
        Ok(self.store.delete_messages(user.id).await?)
    }
}

/// Markdown export: a heading per message with its time, the text as a quote-free paragraph.
pub fn export_markdown(messages: &[Message], locale: Locale) -> String {
    let (title, me, assistant) = match locale {
        Locale::PtBr => ("Minha conversa", "Eu", "Assistente"),
        Locale::En => ("My conversation", "Me", "Assistant"),
    };
    let mut out = format!("# {title}\n");
    for m in messages {
        let who = match m.author {
            Author::User => me,
            Author::Assistant => assistant,
        };
        out.push_str(&format!(
            "\n## {who} — {}\n\n{}\n",
            m.created_at.format("%Y-%m-%d %H:%M UTC"),
            m.text
        ));
    }
    out
}
