//! Row types and their conversion to and from domain types. Times are stored as Unix
//! milliseconds and ids as BIGINT so every backend stores the same values.

use crate::schema::*;
use chrono::{DateTime, TimeZone, Utc};
use diesel::prelude::*;
use domain::account::{Session, SessionKind};
use domain::audit::AuditEntry;
use domain::conversation::{Author, SealedMessage};
use domain::library::{Document, Passage};
use domain::ports::StoreError;
use domain::{
    AuditId, Company, CompanyId, DocumentId, Email, Invitation, Locale, MessageId, PassageId,
    Period, Role, User, UserId,
};

mod ledger;

pub use ledger::{CounterRow, ReservationRow, TopUpRow};

pub fn millis(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub fn from_millis(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

/// A period stored as two nullable millisecond columns.
pub fn period_from_millis(start: Option<i64>, end: Option<i64>) -> Option<Period> {
    match (start, end) {
        (Some(start), Some(end)) => Some(Period {
            start: from_millis(start),
            end: from_millis(end),
        }),
        _ => None,
    }
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Unavailable(format!("corrupt row: {what}"))
}

/// Counts are `u64` in the domain and `BIGINT` in SQL; they never get near `i64::MAX`.
pub fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

pub fn to_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

#[derive(Queryable, Selectable, Insertable, AsChangeset, Debug, Clone)]
#[diesel(table_name = users, treat_none_as_null = true)]
pub struct UserRow {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    pub password_hash: String,
    pub role: String,
    pub company_id: Option<i64>,
    pub personal_cap: Option<i64>,
    pub plan_id: String,
    pub locale: String,
    pub disabled: bool,
    pub created_at: i64,
    /// Written only by payment events (`impl_billing_store!`): a user or company saved from a
    /// copy read before an event must not undo it.
    #[diesel(skip_update)]
    pub billing_period_start: Option<i64>,
    #[diesel(skip_update)]
    pub billing_period_end: Option<i64>,
}

impl From<&User> for UserRow {
    fn from(u: &User) -> Self {
        UserRow {
            id: u.id.0,
            email: u.email.to_string(),
            display_name: u.display_name.clone(),
            password_hash: u.password_hash.clone(),
            role: u.role.as_str().to_string(),
            company_id: u.company_id.map(|c| c.0),
            personal_cap: u.personal_cap.map(to_i64),
            plan_id: u.plan_id.clone(),
            locale: u.locale.as_str().to_string(),
            disabled: u.disabled,
            created_at: millis(u.created_at),
            billing_period_start: u.billing_period.map(|p| millis(p.start)),
            billing_period_end: u.billing_period.map(|p| millis(p.end)),
        }
    }
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;
    fn try_from(r: UserRow) -> Result<Self, StoreError> {
        Ok(User {
            id: UserId(r.id),
            email: Email::parse(&r.email).map_err(|_| corrupt("users.email"))?,
            display_name: r.display_name,
            password_hash: r.password_hash,
            role: Role::parse(&r.role).ok_or_else(|| corrupt("users.role"))?,
            company_id: r.company_id.map(CompanyId),
            personal_cap: r.personal_cap.map(to_u64),
            plan_id: r.plan_id,
            locale: Locale::parse(&r.locale).unwrap_or_default(),
            disabled: r.disabled,
            created_at: from_millis(r.created_at),
            billing_period: period_from_millis(r.billing_period_start, r.billing_period_end),
        })
    }
}

#[derive(Queryable, Selectable, Insertable, AsChangeset, Debug, Clone)]
#[diesel(table_name = companies, treat_none_as_null = true)]
pub struct CompanyRow {
    pub id: i64,
    pub name: String,
    pub seat_limit: i32,
    pub plan_id: String,
    pub system_prompt: Option<String>,
    pub created_at: i64,
    /// Written only by payment events, like the users' columns.
    #[diesel(skip_update)]
    pub billing_period_start: Option<i64>,
    #[diesel(skip_update)]
    pub billing_period_end: Option<i64>,
}

impl From<&Company> for CompanyRow {
    fn from(c: &Company) -> Self {
        CompanyRow {
            id: c.id.0,
            name: c.name.clone(),
            seat_limit: i32::try_from(c.seat_limit).unwrap_or(i32::MAX),
            plan_id: c.plan_id.clone(),
            system_prompt: c.system_prompt.clone(),
            created_at: millis(c.created_at),
            billing_period_start: c.billing_period.map(|p| millis(p.start)),
            billing_period_end: c.billing_period.map(|p| millis(p.end)),
        }
    }
}

impl From<CompanyRow> for Company {
    fn from(r: CompanyRow) -> Self {
        Company {
            id: CompanyId(r.id),
            name: r.name,
            seat_limit: u32::try_from(r.seat_limit).unwrap_or(0),
            plan_id: r.plan_id,
            system_prompt: r.system_prompt,
            created_at: from_millis(r.created_at),
            billing_period: period_from_millis(r.billing_period_start, r.billing_period_end),
        }
    }
}

#[derive(Queryable, Selectable, Insertable, Debug, Clone)]
#[diesel(table_name = invitations)]
pub struct InvitationRow {
    pub token_hash: String,
    pub company_id: i64,
    pub email: String,
    pub role: String,
    pub invited_by: i64,
    pub created_at: i64,
    pub expires_at: i64,
    pub accepted_at: Option<i64>,
}

impl From<&Invitation> for InvitationRow {
    fn from(i: &Invitation) -> Self {
        InvitationRow {
            token_hash: i.token_hash.clone(),
            company_id: i.company_id.0,
            email: i.email.to_string(),
            role: i.role.as_str().to_string(),
            invited_by: i.invited_by.0,
            created_at: millis(i.created_at),
            expires_at: millis(i.expires_at),
            accepted_at: i.accepted_at.map(millis),
        }
    }
}

impl TryFrom<InvitationRow> for Invitation {
    type Error = StoreError;
    fn try_from(r: InvitationRow) -> Result<Self, StoreError> {
        Ok(Invitation {
            token_hash: r.token_hash,
            company_id: CompanyId(r.company_id),
            email: Email::parse(&r.email).map_err(|_| corrupt("invitations.email"))?,
            role: Role::parse(&r.role).ok_or_else(|| corrupt("invitations.role"))?,
            invited_by: UserId(r.invited_by),
            created_at: from_millis(r.created_at),
            expires_at: from_millis(r.expires_at),
            accepted_at: r.accepted_at.map(from_millis),
        })
    }
}

#[derive(Queryable, Selectable, Insertable, Debug, Clone)]
#[diesel(table_name = sessions)]
pub struct SessionRow {
    pub token_hash: String,
    pub user_id: i64,
    pub kind: String,
    pub csrf_token: String,
    pub created_at: i64,
    pub expires_at: i64,
}

impl From<&Session> for SessionRow {
    fn from(s: &Session) -> Self {
        SessionRow {
            token_hash: s.token_hash.clone(),
            user_id: s.user_id.0,
            kind: s.kind.as_str().to_string(),
            csrf_token: s.csrf_token.clone(),
            created_at: millis(s.created_at),
            expires_at: millis(s.expires_at),
        }
    }
}

impl TryFrom<SessionRow> for Session {
    type Error = StoreError;
    fn try_from(r: SessionRow) -> Result<Self, StoreError> {
        Ok(Session {
            token_hash: r.token_hash,
            user_id: UserId(r.user_id),
            kind: SessionKind::parse(&r.kind).ok_or_else(|| corrupt("sessions.kind"))?,
            csrf_token: r.csrf_token,
            created_at: from_millis(r.created_at),
            expires_at: from_millis(r.expires_at),
        })
    }
}

#[derive(Queryable, Selectable, Insertable, Debug, Clone)]
#[diesel(table_name = audit_log)]
pub struct AuditRow {
    pub id: i64,
    pub at: i64,
    pub actor: Option<i64>,
    pub action: String,
    pub target: String,
    pub ip: Option<String>,
    pub detail: String,
}

impl From<&AuditEntry> for AuditRow {
    fn from(a: &AuditEntry) -> Self {
        AuditRow {
            id: a.id.0,
            at: millis(a.at),
            actor: a.actor.map(|u| u.0),
            action: a.action.clone(),
            target: a.target.clone(),
            ip: a.ip.clone(),
            detail: a.detail.clone(),
        }
    }
}

impl From<AuditRow> for AuditEntry {
    fn from(r: AuditRow) -> Self {
        AuditEntry {
            id: AuditId(r.id),
            at: from_millis(r.at),
            actor: r.actor.map(UserId),
            action: r.action,
            target: r.target,
            ip: r.ip,
            detail: r.detail,
        }
    }
}

#[derive(Queryable, Selectable, Insertable, Debug, Clone)]
#[diesel(table_name = messages)]
pub struct MessageRow {
    pub id: i64,
    pub user_id: i64,
    pub author: String,
    pub sealed: Vec<u8>,
    pub created_at: i64,
    pub tokens: i64,
}

impl From<&SealedMessage> for MessageRow {
    fn from(m: &SealedMessage) -> Self {
        MessageRow {
            id: m.id.0,
            user_id: m.user_id.0,
            author: m.author.as_str().to_string(),
            sealed: m.sealed.clone(),
            created_at: millis(m.created_at),
            tokens: to_i64(m.tokens),
        }
    }
}

impl TryFrom<MessageRow> for SealedMessage {
    type Error = StoreError;
    fn try_from(r: MessageRow) -> Result<Self, StoreError> {
        Ok(SealedMessage {
            id: MessageId(r.id),
            user_id: UserId(r.user_id),
            author: Author::parse(&r.author).ok_or_else(|| corrupt("messages.author"))?,
            sealed: r.sealed,
            created_at: from_millis(r.created_at),
            tokens: to_u64(r.tokens),
        })
    }
}

#[derive(Queryable, Selectable, Insertable, Debug, Clone)]
#[diesel(table_name = documents)]
pub struct DocumentRow {
    pub id: i64,
    pub title: String,
    pub source: String,
    pub content_hash: String,
    pub format: String,
    pub pages: i32,
    pub ingested_at: i64,
}

impl From<&Document> for DocumentRow {
    fn from(d: &Document) -> Self {
        DocumentRow {
            id: d.id.0,
            title: d.title.clone(),
            source: d.source.clone(),
            content_hash: d.content_hash.clone(),
            format: d.format.clone(),
            pages: i32::try_from(d.pages).unwrap_or(i32::MAX),
            ingested_at: millis(d.ingested_at),
        }
    }
}

impl From<DocumentRow> for Document {
    fn from(r: DocumentRow) -> Self {
        Document {
            id: DocumentId(r.id),
            title: r.title,
            source: r.source,
            content_hash: r.content_hash,
            format: r.format,
            pages: u32::try_from(r.pages).unwrap_or(0),
            ingested_at: from_millis(r.ingested_at),
        }
    }
}

#[derive(Queryable, Selectable, Insertable, Debug, Clone)]
#[diesel(table_name = passages)]
pub struct PassageRow {
    pub id: i64,
    pub document_id: i64,
    pub ordinal: i32,
    pub text: String,
    pub page: Option<i32>,
    pub heading: Option<String>,
    pub token_count: i32,
}

impl From<&Passage> for PassageRow {
    fn from(p: &Passage) -> Self {
        PassageRow {
            id: p.id.0,
            document_id: p.document_id.0,
            ordinal: i32::try_from(p.ordinal).unwrap_or(i32::MAX),
            text: p.text.clone(),
            page: p.page.and_then(|n| i32::try_from(n).ok()),
            heading: p.heading.clone(),
            token_count: i32::try_from(p.token_count).unwrap_or(i32::MAX),
        }
    }
}

impl From<PassageRow> for Passage {
    fn from(r: PassageRow) -> Self {
        Passage {
            id: PassageId(r.id),
            document_id: DocumentId(r.document_id),
            ordinal: u32::try_from(r.ordinal).unwrap_or(0),
            text: r.text,
            page: r.page.and_then(|n| u32::try_from(n).ok()),
            heading: r.heading,
            token_count: u32::try_from(r.token_count).unwrap_or(0),
        }
    }
}
