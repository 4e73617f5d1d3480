//! A personal safety plan (Stanley–Brown Safety Planning Intervention): the person's own words
//! for the steps that help them through a crisis. Private like messages: sealed by the
//! [`MessageCipher`](crate::ports::MessageCipher) as one JSON document, readable only by
//! its owner, exportable and really deletable.

use crate::UserId;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The plan's steps in the order the intervention fills them in. Every field is free text
/// written by the person (one item a line); empty means not filled in yet.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SafetyPlan {
    /// 1. Warning signs: thoughts, moods, situations that tell a crisis may be coming.
    pub warning_signs: String,
    /// 2. Things I can do on my own to cope.
    pub coping_strategies: String,
    /// 3. People and places that take my mind off it.
    pub distractions: String,
    /// 4. People I can ask for help (names and numbers).
    pub people_to_ask: String,
    /// 5. Professionals and services (with numbers: CVV 188, SAMU 192, CAPS…).
    pub professionals: String,
    /// 6. Making my surroundings safer (means restriction).
    pub safe_environment: String,
    /// Reasons for living (many plans add it).
    pub reasons_for_living: String,
}

/// The plan as stored: sealed, so the store never sees its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedSafetyPlan {
    pub user_id: UserId,
    pub sealed: Vec<u8>,
    pub updated_at: DateTime<Utc>,
}
