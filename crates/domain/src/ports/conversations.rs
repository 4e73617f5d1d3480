//! Stored conversations and the cipher that seals their text.

use super::StoreResult;
use crate::conversation::{CipherError, SealedMessage};
use crate::{MessageId, UserId};
use std::future::Future;

#[cfg_attr(test, mockall::automock)]
pub trait ConversationStore: Send + Sync + 'static {
    fn insert_messages(
        &self,
        messages: &[SealedMessage],
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// Newest first, strictly older than `before` when given.
    fn messages_page(
        &self,
        user: UserId,
        before: Option<MessageId>,
        limit: u64,
    ) -> impl Future<Output = StoreResult<Vec<SealedMessage>>> + Send;
    /// Really deletes (no soft delete of content); returns how many.
    fn delete_messages(&self, user: UserId) -> impl Future<Output = StoreResult<u64>> + Send;
}

/// Authenticated encryption of message text, bound to its owner (the user id is associated data,
/// so a row copied to another person's history does not open).
#[cfg_attr(test, mockall::automock)]
pub trait MessageCipher: Send + Sync + 'static {
    fn seal(&self, owner: UserId, plaintext: &str) -> Vec<u8>;
    fn open(&self, owner: UserId, sealed: &[u8]) -> Result<String, CipherError>;
}
