//! People, companies, invitations and sessions.

use super::StoreResult;
use crate::account::{Session, User};
use crate::company::{Company, Invitation};
use crate::conversation::SealedMessage;
use crate::{CompanyId, Email, UserId};
use chrono::{DateTime, Utc};
use std::future::Future;

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
