//! The person's stored conversation: reading it page by page, exporting it, clearing it.

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
