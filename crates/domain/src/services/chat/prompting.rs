//! A turn's prompt: the system message, the library passages, the history that fits (opened
//! with the cipher), the model request, and the exchange sealed for storage.

use super::*;

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
    /// The model request of a turn and its prompt tokens: the system prompt (the company's, or
    /// the default for the person's language, with the safety addendum when care is needed),
    /// the library passages, the history that fits, and the message.
    pub(in crate::services) fn prepare(
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

    pub(in crate::services) fn sources_for(&self, message: &str) -> Vec<Source> {
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
    pub(in crate::services) fn open_recent(
        &self,
        user: UserId,
        sealed: Vec<SealedMessage>,
    ) -> OpenedHistory {
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

    pub(in crate::services) fn request(
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
    pub(in crate::services) fn seal_exchange(
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
}
