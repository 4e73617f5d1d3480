//! Ports: the traits the domain needs from the outside world. Adapters implement them; services
//! are generic over them. Async methods return `impl Future + Send` so no boxing is needed.

use crate::account::User;
use crate::company::{Company, Invitation};
use crate::conversation::SealedMessage;
use crate::{AuditId, CompanyId, Email, UserId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::future::Future;

/// Failure of a store. Services translate it into their own errors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A unique key is taken (e-mail already registered, duplicate id…).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The database cannot be reached or failed; the caller may retry later.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// The current time; a port so tests can move it (period boundaries, expiries).
#[cfg_attr(test, mockall::automock)]
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

/// Application-chosen ids, unique across instances, roughly ordered by time.
#[cfg_attr(test, mockall::automock)]
pub trait IdGenerator: Send + Sync + 'static {
    fn next_id(&self) -> i64;
}

/// Unguessable secrets (session tokens, invitation links) and their one-way hash for storage.
#[cfg_attr(test, mockall::automock)]
pub trait Secrets: Send + Sync + 'static {
    /// A fresh URL-safe secret with at least 256 bits of entropy.
    fn new_secret(&self) -> String;
    /// The digest stored in place of the secret (hex SHA-256).
    fn digest(&self, secret: &str) -> String;
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(pub String);

/// Password hashing (argon2id in production). Async because a hash costs tens of milliseconds.
#[cfg_attr(test, mockall::automock)]
pub trait PasswordHasher: Send + Sync + 'static {
    fn hash(&self, password: String) -> impl Future<Output = Result<String, HashError>> + Send;
    fn verify(&self, password: String, hash: String) -> impl Future<Output = bool> + Send;
}

/// Counts tokens the way the model does (a real BPE tokenizer).
#[cfg_attr(test, mockall::automock)]
pub trait TokenCounter: Send + Sync + 'static {
    fn count(&self, text: &str) -> u64;

    /// Tokens a whole chat request costs as a prompt, counted the way OpenAI documents it:
    /// each message costs its role and content plus a fixed overhead, and the reply is primed.
    fn count_request(&self, messages: &[crate::model::ChatTurn]) -> u64 {
        crate::model::prompt_tokens(messages.iter().map(|turn| self.count(&turn.content)))
    }
}

/// Whether the storage answers, for `/readyz`.
#[cfg_attr(test, mockall::automock)]
pub trait Readiness: Send + Sync + 'static {
    fn ping(&self) -> impl Future<Output = StoreResult<()>> + Send;
}

/// Filters for listing users.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserQuery {
    /// Matches e-mail or display name, case-insensitively.
    pub search: Option<String>,
    pub company_id: Option<CompanyId>,
    pub offset: u64,
    pub limit: u64,
}

#[cfg_attr(test, mockall::automock)]
pub trait UserStore: Send + Sync + 'static {
    /// `Conflict` when the e-mail is registered already.
    fn insert_user(&self, user: &User) -> impl Future<Output = StoreResult<()>> + Send;
    fn user_by_id(&self, id: UserId) -> impl Future<Output = StoreResult<Option<User>>> + Send;
    fn user_by_email(
        &self,
        email: &Email,
    ) -> impl Future<Output = StoreResult<Option<User>>> + Send;
    /// `NotFound` when the user does not exist.
    fn update_user(&self, user: &User) -> impl Future<Output = StoreResult<()>> + Send;
    /// Deletes the user with their sessions and messages.
    fn delete_user(&self, id: UserId) -> impl Future<Output = StoreResult<()>> + Send;
    fn list_users(&self, query: &UserQuery) -> impl Future<Output = StoreResult<Vec<User>>> + Send;
    fn count_users(&self) -> impl Future<Output = StoreResult<u64>> + Send;
    /// Managers and employees of a company.
    fn count_company_members(
        &self,
        company: CompanyId,
    ) -> impl Future<Output = StoreResult<u64>> + Send;
}

#[cfg_attr(test, mockall::automock)]
pub trait CompanyStore: Send + Sync + 'static {
    fn insert_company(&self, company: &Company) -> impl Future<Output = StoreResult<()>> + Send;
    fn company_by_id(
        &self,
        id: CompanyId,
    ) -> impl Future<Output = StoreResult<Option<Company>>> + Send;
    fn update_company(&self, company: &Company) -> impl Future<Output = StoreResult<()>> + Send;
    /// Deletes the company, its invitations and its members (with their sessions and messages),
    /// in one transaction.
    fn delete_company(&self, id: CompanyId) -> impl Future<Output = StoreResult<()>> + Send;
    fn list_companies(&self) -> impl Future<Output = StoreResult<Vec<Company>>> + Send;
}

#[cfg_attr(test, mockall::automock)]
pub trait InvitationStore: Send + Sync + 'static {
    fn insert_invitation(
        &self,
        invitation: &Invitation,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    fn invitation_by_hash(
        &self,
        token_hash: &str,
    ) -> impl Future<Output = StoreResult<Option<Invitation>>> + Send;
    /// Marks the invitation used; `false` if it was used already (so a link works once, even
    /// when two requests race).
    fn mark_invitation_accepted(
        &self,
        token_hash: &str,
        at: DateTime<Utc>,
    ) -> impl Future<Output = StoreResult<bool>> + Send;
    fn invitations_of_company(
        &self,
        company: CompanyId,
    ) -> impl Future<Output = StoreResult<Vec<Invitation>>> + Send;
    fn delete_invitation(&self, token_hash: &str) -> impl Future<Output = StoreResult<()>> + Send;
    /// Removes invitations expired before `now`; returns how many.
    fn purge_expired_invitations(
        &self,
        now: DateTime<Utc>,
    ) -> impl Future<Output = StoreResult<u64>> + Send;
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

#[cfg_attr(test, mockall::automock)]
pub trait SessionStore: Send + Sync + 'static {
    fn insert_session(&self, session: &Session) -> impl Future<Output = StoreResult<()>> + Send;
    /// The session of a token hash and the person it belongs to, read together (every
    /// authenticated request starts here).
    fn session_with_user(
        &self,
        token_hash: &str,
    ) -> impl Future<Output = StoreResult<Option<(Session, User)>>> + Send;
    /// [`session_with_user`](Self::session_with_user) and the person's `limit` newest messages,
    /// newest first, in one round trip where the store can: a chat turn needs all three, and
    /// at hundreds of turns a second a round trip less is a good part of the database's work.
    fn session_with_recent_messages(
        &self,
        token_hash: &str,
        limit: u64,
    ) -> impl Future<Output = StoreResult<Option<(Session, User, Vec<SealedMessage>)>>> + Send;
    fn delete_session(&self, token_hash: &str) -> impl Future<Output = StoreResult<()>> + Send;
    /// Signs a person out everywhere (password change, disabling, role change).
    fn delete_user_sessions(&self, user: UserId) -> impl Future<Output = StoreResult<u64>> + Send;
    fn purge_expired_sessions(
        &self,
        now: DateTime<Utc>,
    ) -> impl Future<Output = StoreResult<u64>> + Send;
}

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

#[cfg_attr(test, mockall::automock)]
pub trait AuditLog: Send + Sync + 'static {
    fn record(&self, entry: &AuditEntry) -> impl Future<Output = StoreResult<()>> + Send;
    /// Newest first.
    fn recent(
        &self,
        offset: u64,
        limit: u64,
    ) -> impl Future<Output = StoreResult<Vec<AuditEntry>>> + Send;
}

/// Who runs a scheduled job: a lease in the database that one holder has until it expires, so two
/// schedulers never run the same job at once and a crashed holder is taken over.
#[cfg_attr(test, mockall::automock)]
pub trait JobLeases: Send + Sync + 'static {
    /// Takes the lease if free, expired, or already ours. Returns the saved cursor (progress of
    /// an unfinished run, empty when none) when taken, `None` when someone else holds it.
    fn acquire_lease(
        &self,
        job: &str,
        holder: &str,
        now: DateTime<Utc>,
        ttl: chrono::Duration,
    ) -> impl Future<Output = StoreResult<Option<String>>> + Send;
    /// Saves progress and extends the lease; `false` if the lease was lost (stop working).
    fn save_progress(
        &self,
        job: &str,
        holder: &str,
        cursor: &str,
        now: DateTime<Utc>,
        ttl: chrono::Duration,
    ) -> impl Future<Output = StoreResult<bool>> + Send;
    /// Ends our lease (keeping the cursor) so another scheduler may run the job at once.
    fn release_lease(
        &self,
        job: &str,
        holder: &str,
    ) -> impl Future<Output = StoreResult<()>> + Send;
}

/// The only trace a crisis answer leaves: a count per UTC day.
#[cfg_attr(test, mockall::automock)]
pub trait SafetyCounter: Send + Sync + 'static {
    fn count_crisis(&self, day: i64) -> impl Future<Output = StoreResult<()>> + Send;
    /// Total crisis answers on days `>= since_day`.
    fn crisis_total(&self, since_day: i64) -> impl Future<Output = StoreResult<u64>> + Send;
}

/// Small named values kept with the data (e.g. the encryption-key canary).
#[cfg_attr(test, mockall::automock)]
pub trait KeyValue: Send + Sync + 'static {
    fn get_value(&self, name: &str) -> impl Future<Output = StoreResult<Option<Vec<u8>>>> + Send;
    /// Stores `value` unless the name exists; returns whether it was stored.
    fn put_value_once(
        &self,
        name: &str,
        value: &[u8],
    ) -> impl Future<Output = StoreResult<bool>> + Send;
}

/// Everything a full persistence adapter provides (SQLite, MySQL, the in-memory fake). Binaries
/// are generic over this one bound instead of listing every store port.
pub trait Persistence:
    Readiness
    + UserStore
    + CompanyStore
    + InvitationStore
    + SessionStore
    + AuditLog
    + crate::conversation::ConversationStore
    + crate::library::LibraryStore
    + crate::budget::UsageLedger
    + JobLeases
    + SafetyCounter
    + KeyValue
    + crate::billing::BillingStore
    + crate::safety_plan::SafetyPlanStore
{
}

impl<T> Persistence for T where
    T: Readiness
        + UserStore
        + CompanyStore
        + InvitationStore
        + SessionStore
        + AuditLog
        + crate::conversation::ConversationStore
        + crate::library::LibraryStore
        + crate::budget::UsageLedger
        + JobLeases
        + SafetyCounter
        + KeyValue
        + crate::billing::BillingStore
        + crate::safety_plan::SafetyPlanStore
{
}

/// One person's line in a company's usage report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub user_id: UserId,
    pub email: String,
    pub display_name: String,
    pub role: crate::Role,
}

/// A company and its members, in user-id order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompanyMembers {
    pub company_id: CompanyId,
    pub people: Vec<Member>,
}

/// What the monthly reports read. The usage of a month comes in one read and the members in
/// batches of companies, joined in memory: looking each member's counter up in the database cost
/// one index probe per person, which dominated the rollover at a million people.
#[cfg_attr(test, mockall::automock)]
pub trait UsageReports: Send + Sync + 'static {
    /// Tokens each person used in `period`, summed over every counter whose period starts
    /// within it (the calendar month, or a billing period that began in it). People without a
    /// counter in it are absent.
    fn usage_by_person(
        &self,
        period: crate::Period,
    ) -> impl Future<Output = StoreResult<std::collections::HashMap<UserId, u64>>> + Send;
    /// Up to `limit` companies with an id above `after`, in id order (so a job can resume after
    /// the last company it finished), each with its members.
    fn company_members(
        &self,
        after: Option<CompanyId>,
        limit: u64,
    ) -> impl Future<Output = StoreResult<Vec<CompanyMembers>>> + Send;
}

/// Where the finished usage reports (CSV) are kept and served from.
#[cfg_attr(test, mockall::automock)]
pub trait ReportArchive: Send + Sync + 'static {
    /// Stores each company's report for `period`; an identical report already stored is left
    /// untouched. Returns how many reports were new or changed.
    fn put_reports(
        &self,
        period: crate::Period,
        reports: Vec<(CompanyId, Vec<u8>)>,
    ) -> impl Future<Output = StoreResult<u64>> + Send;
    fn get_report(
        &self,
        company: CompanyId,
        period: crate::Period,
    ) -> impl Future<Output = StoreResult<Option<Vec<u8>>>> + Send;
    /// Labels (`2026-03`) of the company's stored reports, newest first.
    fn list_reports(
        &self,
        company: CompanyId,
    ) -> impl Future<Output = StoreResult<Vec<String>>> + Send;
}
