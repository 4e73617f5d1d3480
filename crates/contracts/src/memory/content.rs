//! The content part of the in-memory fake: conversations and the document library.

use super::{MemoryStore, State};
use domain::conversation::SealedMessage;
use domain::library::{Document, Passage};
use domain::ports::*;
use domain::*;

impl ConversationStore for MemoryStore {
    async fn insert_messages(&self, messages: &[SealedMessage]) -> StoreResult<()> {
        insert_messages(&mut self.state(), messages)
    }

    async fn messages_page(
        &self,
        user: UserId,
        before: Option<MessageId>,
        limit: u64,
    ) -> StoreResult<Vec<SealedMessage>> {
        let s = self.state();
        Ok(s.messages
            .values()
            .rev()
            .filter(|m| m.user_id == user && before.is_none_or(|b| m.id < b))
            .take(limit.max(1) as usize)
            .cloned()
            .collect())
    }

    async fn delete_messages(&self, user: UserId) -> StoreResult<u64> {
        let mut s = self.state();
        let before = s.messages.len();
        s.messages.retain(|_, m| m.user_id != user);
        Ok((before - s.messages.len()) as u64)
    }
}

impl LibraryStore for MemoryStore {
    async fn document_by_source(&self, source: &str) -> StoreResult<Option<Document>> {
        Ok(self
            .state()
            .documents
            .values()
            .find(|d| d.source == source)
            .cloned())
    }

    async fn replace_document(&self, document: &Document, passages: &[Passage]) -> StoreResult<()> {
        let mut s = self.state();
        let old: Vec<DocumentId> = s
            .documents
            .values()
            .filter(|d| d.source == document.source)
            .map(|d| d.id)
            .collect();
        s.documents.retain(|id, _| !old.contains(id));
        s.passages.retain(|_, p| !old.contains(&p.document_id));
        s.documents.insert(document.id, document.clone());
        for p in passages {
            s.passages.insert(p.id, p.clone());
        }
        Ok(())
    }

    async fn retire_document(&self, id: DocumentId) -> StoreResult<()> {
        let mut s = self.state();
        s.documents.remove(&id).ok_or(StoreError::NotFound)?;
        s.passages.retain(|_, p| p.document_id != id);
        Ok(())
    }

    async fn list_documents(&self) -> StoreResult<Vec<Document>> {
        let mut list: Vec<Document> = self.state().documents.values().cloned().collect();
        list.sort_by(|a, b| a.title.cmp(&b.title));
        Ok(list)
    }

    async fn all_passages(&self) -> StoreResult<Vec<Passage>> {
        let mut list: Vec<Passage> = self.state().passages.values().cloned().collect();
        list.sort_by_key(|p| (p.document_id, p.ordinal));
        Ok(list)
    }
}

pub(super) fn insert_messages(s: &mut State, messages: &[SealedMessage]) -> StoreResult<()> {
    if messages.iter().any(|m| s.messages.contains_key(&m.id)) {
        return Err(StoreError::Conflict("messages.id".into()));
    }
    for m in messages {
        s.messages.insert(m.id, m.clone());
    }
    Ok(())
}
