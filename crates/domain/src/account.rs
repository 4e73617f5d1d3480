//! People, their roles and the caller of a use case.

use crate::{CompanyId, Email, UserId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// What a person may do. Stored as the lower-case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Operator of the platform: companies, plans, users, library. Never reads conversations.
    PlatformAdmin,
    /// Manages the employees of one company.
    CompanyManager,
    /// Works for a client company; chats on the company's pool.
    Employee,
    /// Signed up alone; chats on a personal plan.
    Individual,
}

impl Role {
    pub const ALL: [Role; 4] = [
        Role::PlatformAdmin,
        Role::CompanyManager,
        Role::Employee,
        Role::Individual,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::PlatformAdmin => "platform_admin",
            Role::CompanyManager => "company_manager",
            Role::Employee => "employee",
            Role::Individual => "individual",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Managers and employees belong to a company; admins and individuals do not.
    pub fn belongs_to_company(self) -> bool {
        matches!(self, Role::CompanyManager | Role::Employee)
    }
}

/// Interface language. pt-BR is the default audience.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum Locale {
    #[default]
    #[serde(rename = "pt-BR")]
    PtBr,
    #[serde(rename = "en")]
    En,
}

impl Locale {
    pub fn as_str(self) -> &'static str {
        match self {
            Locale::PtBr => "pt-BR",
            Locale::En => "en",
        }
    }

    /// Accepts `pt-BR`, `pt`, `en`, `en-US`… ; anything else is `None`.
    pub fn parse(s: &str) -> Option<Locale> {
        let lower = s.trim().to_ascii_lowercase();
        if lower == "pt" || lower.starts_with("pt-") || lower.starts_with("pt_") {
            Some(Locale::PtBr)
        } else if lower == "en" || lower.starts_with("en-") || lower.starts_with("en_") {
            Some(Locale::En)
        } else {
            None
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub email: Email,
    pub display_name: String,
    /// PHC string from the password hasher; never leaves the server.
    pub password_hash: String,
    pub role: Role,
    pub company_id: Option<CompanyId>,
    /// Optional monthly cap for an employee, within the company pool.
    pub personal_cap: Option<u64>,
    /// Plan of an individual (ignored for company members, who use the company's plan).
    pub plan_id: String,
    pub locale: Locale,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
    /// Current billing period of the individual's own subscription, set only by payment events
    /// (`None`: no live subscription, the calendar month applies). See [`crate::Period::current`].
    pub billing_period: Option<crate::Period>,
}

impl User {
    /// The company whose pool this person's turns draw on: their company when their role
    /// belongs to one (`Role::belongs_to_company`), nobody's otherwise. Every place that looks
    /// up "the company of this person's budget" asks this.
    pub fn company_budget(&self) -> Option<CompanyId> {
        self.role
            .belongs_to_company()
            .then_some(self.company_id)
            .flatten()
    }
}

/// The authenticated caller of a use case. Services decide authorisation from this, so a route
/// that forgets a check is still refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    pub user_id: UserId,
    pub role: Role,
    pub company_id: Option<CompanyId>,
    /// Where the request came from, for the audit log.
    pub ip: Option<IpAddr>,
}

impl Actor {
    pub fn of(user: &User, ip: Option<IpAddr>) -> Actor {
        Actor {
            user_id: user.id,
            role: user.role,
            company_id: user.company_id,
            ip,
        }
    }

    pub fn is_admin(&self) -> bool {
        self.role == Role::PlatformAdmin
    }

    /// True for the platform admin and for the manager of that very company.
    pub fn can_manage_company(&self, company: CompanyId) -> bool {
        self.is_admin() || (self.role == Role::CompanyManager && self.company_id == Some(company))
    }
}

/// Password rules, checked before hashing.
pub fn check_password_strength(password: &str) -> Result<(), &'static str> {
    let chars = password.chars().count();
    if chars < 10 {
        return Err("password must have at least 10 characters");
    }
    if chars > 256 {
        return Err("password must have at most 256 characters");
    }
    Ok(())
}

/// Browser sessions and API bearer tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionKind {
    Web,
    Api,
}

impl SessionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionKind::Web => "web",
            SessionKind::Api => "api",
        }
    }

    pub fn parse(s: &str) -> Option<SessionKind> {
        match s {
            "web" => Some(SessionKind::Web),
            "api" => Some(SessionKind::Api),
            _ => None,
        }
    }
}

/// A server-side session. The cookie or bearer token holds the secret; only its digest is stored,
/// so a copy of the database cannot be used to sign in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub token_hash: String,
    pub user_id: UserId,
    pub kind: SessionKind,
    /// Synchroniser token for forms and cookie-authenticated API calls.
    pub csrf_token: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_round_trip_and_locale_parse() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("root"), None);
        assert_eq!(Locale::parse("pt-BR"), Some(Locale::PtBr));
        assert_eq!(Locale::parse("en-US"), Some(Locale::En));
        assert_eq!(Locale::parse("fr"), None);
    }

    #[test]
    fn manager_scope_is_own_company_only() {
        let manager = Actor {
            user_id: UserId(1),
            role: Role::CompanyManager,
            company_id: Some(CompanyId(7)),
            ip: None,
        };
        assert!(manager.can_manage_company(CompanyId(7)));
        assert!(!manager.can_manage_company(CompanyId(8)));
        let employee = Actor {
            role: Role::Employee,
            ..manager
        };
        assert!(!employee.can_manage_company(CompanyId(7)));
    }
}
