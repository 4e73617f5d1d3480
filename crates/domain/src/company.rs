use crate::{CompanyId, Email, Role, UserId};
use chrono::{DateTime, Utc};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Company {
    pub id: CompanyId,
    pub name: String,
    /// How many members (managers and employees) the company may have.
    pub seat_limit: u32,
    pub plan_id: String,
    /// A custom system prompt set by the platform admin; `None` uses the default.
    pub system_prompt: Option<String>,
    pub created_at: DateTime<Utc>,
    /// Current billing period of the company's subscription, set only by payment events; its
    /// members' allowance periods follow it. See [`crate::Period::current`].
    pub billing_period: Option<crate::Period>,
}

/// A one-time invitation to join a company. Only the hash of its secret is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    pub token_hash: String,
    pub company_id: CompanyId,
    pub email: Email,
    pub role: Role,
    pub invited_by: UserId,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
}

impl Invitation {
    pub fn is_usable(&self, now: DateTime<Utc>) -> bool {
        self.accepted_at.is_none() && now < self.expires_at
    }
}

/// Company names are shown everywhere; keep them short and printable.
pub fn check_company_name(name: &str) -> Result<String, &'static str> {
    let name = name.trim();
    if name.is_empty() {
        return Err("company name is required");
    }
    if name.chars().count() > 120 {
        return Err("company name must have at most 120 characters");
    }
    if name.chars().any(char::is_control) {
        return Err("company name has control characters");
    }
    Ok(name.to_string())
}
