//! The audit trail's entries.

use crate::{AuditId, UserId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One audited action: who did what to which target, when, from where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: AuditId,
    pub at: DateTime<Utc>,
    pub actor: Option<UserId>,
    pub action: String,
    pub target: String,
    pub ip: Option<String>,
    /// Non-sensitive detail (never message text or secrets).
    pub detail: String,
}
