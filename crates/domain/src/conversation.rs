//! Conversations are private health data: stored sealed (AEAD) and readable only by their owner.

use crate::{MessageId, UserId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Author {
    User,
    Assistant,
}

impl Author {
    pub fn as_str(self) -> &'static str {
        match self {
            Author::User => "user",
            Author::Assistant => "assistant",
        }
    }

    pub fn parse(s: &str) -> Option<Author> {
        match s {
            "user" => Some(Author::User),
            "assistant" => Some(Author::Assistant),
            _ => None,
        }
    }
}

/// A message as stored: the text is sealed by the [`MessageCipher`](crate::ports::MessageCipher);
/// stores never see plaintext.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedMessage {
    pub id: MessageId,
    pub user_id: UserId,
    pub author: Author,
    pub sealed: Vec<u8>,
    pub created_at: DateTime<Utc>,
    /// Tokens charged for the turn this message belongs to (assistant messages only).
    pub tokens: u64,
}

/// A message as its owner reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub id: MessageId,
    pub author: Author,
    pub text: String,
    pub created_at: DateTime<Utc>,
    pub tokens: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CipherError {
    /// Wrong key, tampering or a message sealed for someone else.
    #[error("message cannot be opened with the configured key")]
    Undecryptable,
}
