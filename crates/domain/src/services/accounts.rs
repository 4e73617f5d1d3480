//! Sign-up, sign-in, sessions, passwords and the platform admin's user management.

use super::chat::{HISTORY_MESSAGES, TurnContext};
use super::{Env, audit};
use crate::account::{Session, SessionKind, check_password_strength};
use crate::plan::{PlanAudience, PlanCatalog};
use crate::ports::{
    AuditLog, CompanyStore, PasswordHasher, SessionStore, StoreError, UserQuery, UserStore,
};
use crate::{Actor, CompanyId, Email, Locale, Role, User, UserId};
use chrono::Duration;
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountError {
    #[error("invalid e-mail address")]
    InvalidEmail,
    #[error("{0}")]
    WeakPassword(&'static str),
    #[error("{0}")]
    InvalidInput(&'static str),
    #[error("this e-mail is already registered")]
    EmailTaken,
    /// Same message whether the e-mail or the password is wrong.
    #[error("wrong e-mail or password")]
    InvalidCredentials,
    #[error("this account is disabled")]
    Disabled,
    #[error("not signed in or session expired")]
    Unauthenticated,
    #[error("not allowed")]
    Forbidden,
    #[error("not found")]
    NotFound,
    #[error("password hashing failed")]
    Hashing,
    #[error(transparent)]
    Storage(StoreError),
}

impl From<StoreError> for AccountError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AccountError::NotFound,
            other => AccountError::Storage(other),
        }
    }
}

/// The secret half of a session, handed to the client once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedSession {
    pub token: String,
    pub session: Session,
}

pub struct NewAccount<'a> {
    pub email: &'a str,
    pub password: &'a str,
    pub display_name: &'a str,
    pub locale: Locale,
}

pub struct AccountService<S, H, E> {
    pub store: Arc<S>,
    pub hasher: Arc<H>,
    pub env: Arc<E>,
    pub catalog: Arc<PlanCatalog>,
    pub session_ttl: Duration,
}

impl<S, H, E> Clone for AccountService<S, H, E> {
    fn clone(&self) -> Self {
        AccountService {
            store: self.store.clone(),
            hasher: self.hasher.clone(),
            env: self.env.clone(),
            catalog: self.catalog.clone(),
            session_ttl: self.session_ttl,
        }
    }
}

pub fn check_display_name(name: &str) -> Result<String, AccountError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 80 || name.chars().any(char::is_control) {
        return Err(AccountError::InvalidInput(
            "name must have 1 to 80 printable characters",
        ));
    }
    Ok(name.to_string())
}

impl<S, H, E> AccountService<S, H, E>
where
    S: UserStore + SessionStore + AuditLog + CompanyStore,
    H: PasswordHasher,
    E: Env,
{
    /// Builds (but does not store) a new user with a hashed password.
    pub async fn new_user(
        &self,
        account: NewAccount<'_>,
        role: Role,
        company_id: Option<CompanyId>,
    ) -> Result<User, AccountError> {
        let email = Email::parse(account.email).map_err(|_| AccountError::InvalidEmail)?;
        check_password_strength(account.password).map_err(AccountError::WeakPassword)?;
        let display_name = check_display_name(account.display_name)?;
        let password_hash = self
            .hasher
            .hash(account.password.to_string())
            .await
            .map_err(|_| AccountError::Hashing)?;
        Ok(User {
            id: UserId(self.env.next_id()),
            email,
            display_name,
            password_hash,
            role,
            company_id,
            personal_cap: None,
            plan_id: self.catalog.default_individual.clone(),
            locale: account.locale,
            disabled: false,
            created_at: self.env.now(),
            billing_period: None,
        })
    }

    async fn insert(&self, user: &User) -> Result<(), AccountError> {
        match self.store.insert_user(user).await {
            Err(StoreError::Conflict(_)) => Err(AccountError::EmailTaken),
            other => Ok(other?),
        }
    }

    /// An individual signs up alone, on the default (free) plan.
    pub async fn sign_up(&self, account: NewAccount<'_>) -> Result<User, AccountError> {
        let user = self.new_user(account, Role::Individual, None).await?;
        self.insert(&user).await?;
        Ok(user)
    }

    /// Creates the first platform admin when there is none. Returns the user when created.
    pub async fn ensure_admin(
        &self,
        email: &str,
        password: &str,
    ) -> Result<Option<User>, AccountError> {
        let parsed = Email::parse(email).map_err(|_| AccountError::InvalidEmail)?;
        if self.store.user_by_email(&parsed).await?.is_some() {
            return Ok(None);
        }
        let admins = self
            .store
            .list_users(&UserQuery {
                limit: 1_000,
                ..UserQuery::default()
            })
            .await?;
        if admins.iter().any(|u| u.role == Role::PlatformAdmin) {
            return Ok(None);
        }
        let user = self
            .new_user(
                NewAccount {
                    email,
                    password,
                    display_name: "Admin",
                    locale: Locale::PtBr,
                },
                Role::PlatformAdmin,
                None,
            )
            .await?;
        self.insert(&user).await?;
        Ok(Some(user))
    }

    /// Checks the password and opens a new session (a fresh secret every time: sessions are
    /// rotated at sign-in). Unknown e-mails cost the same hashing time as wrong passwords.
    pub async fn sign_in(
        &self,
        email: &str,
        password: &str,
        kind: SessionKind,
    ) -> Result<(User, IssuedSession), AccountError> {
        let user = match Email::parse(email) {
            Ok(email) => self.store.user_by_email(&email).await?,
            Err(_) => None,
        };
        let Some(user) = user else {
            // Equalise timing with a real verification against a throwaway hash.
            let _ = self
                .hasher
                .verify(password.to_string(), DUMMY_HASH.to_string())
                .await;
            return Err(AccountError::InvalidCredentials);
        };
        if !self
            .hasher
            .verify(password.to_string(), user.password_hash.clone())
            .await
        {
            return Err(AccountError::InvalidCredentials);
        }
        if user.disabled {
            return Err(AccountError::Disabled);
        }
        let issued = self.open_session(user.id, kind).await?;
        Ok((user, issued))
    }

    async fn open_session(
        &self,
        user: UserId,
        kind: SessionKind,
    ) -> Result<IssuedSession, AccountError> {
        let token = self.env.new_secret();
        let now = self.env.now();
        let session = Session {
            token_hash: self.env.digest(&token),
            user_id: user,
            kind,
            csrf_token: self.env.new_secret(),
            created_at: now,
            expires_at: now + self.session_ttl,
        };
        self.store.insert_session(&session).await?;
        Ok(IssuedSession { token, session })
    }

    /// Resolves a cookie or bearer secret to its live session and enabled user.
    pub async fn authenticate(&self, token: &str) -> Result<(User, Session), AccountError> {
        let hash = self.env.digest(token);
        let found = self.store.session_with_user(&hash).await?;
        let (session, user) = found.ok_or(AccountError::Unauthenticated)?;
        self.admit(&hash, session, user).await
    }

    /// [`authenticate`](Self::authenticate) for a chat turn: the person's newest messages are
    /// read with the session, in one round trip, and the turn starts from them.
    pub async fn turn_context(&self, token: &str) -> Result<TurnContext, AccountError> {
        let hash = self.env.digest(token);
        let found = self
            .store
            .session_with_recent_messages(&hash, HISTORY_MESSAGES)
            .await?;
        let (session, user, recent) = found.ok_or(AccountError::Unauthenticated)?;
        let (user, session) = self.admit(&hash, session, user).await?;
        Ok(TurnContext::new(user, session, recent))
    }

    /// A session found by its token's hash lets its person in while it lasts and they are not
    /// disabled; an expired one is deleted.
    async fn admit(
        &self,
        hash: &str,
        session: Session,
        user: User,
    ) -> Result<(User, Session), AccountError> {
        if session.expires_at <= self.env.now() {
            self.store.delete_session(hash).await?;
            return Err(AccountError::Unauthenticated);
        }
        if user.disabled {
            return Err(AccountError::Disabled);
        }
        Ok((user, session))
    }

    pub async fn sign_out(&self, token: &str) -> Result<(), AccountError> {
        Ok(self.store.delete_session(&self.env.digest(token)).await?)
    }

    /// Ends `session`, the one the caller authenticated with (`DELETE /api/v1/auth/token`).
    pub async fn revoke(&self, session: &Session) -> Result<(), AccountError> {
        Ok(self.store.delete_session(&session.token_hash).await?)
    }

    /// Changes the caller's password, signs them out everywhere and opens a new session.
    pub async fn change_password(
        &self,
        actor: &Actor,
        current: &str,
        new: &str,
        kind: SessionKind,
    ) -> Result<IssuedSession, AccountError> {
        let mut user = self
            .store
            .user_by_id(actor.user_id)
            .await?
            .ok_or(AccountError::Unauthenticated)?;
        if !self
            .hasher
            .verify(current.to_string(), user.password_hash.clone())
            .await
        {
            return Err(AccountError::InvalidCredentials);
        }
        check_password_strength(new).map_err(AccountError::WeakPassword)?;
        user.password_hash = self
            .hasher
            .hash(new.to_string())
            .await
            .map_err(|_| AccountError::Hashing)?;
        self.store.update_user(&user).await?;
        self.store.delete_user_sessions(user.id).await?;
        self.open_session(user.id, kind).await
    }

    pub async fn set_locale(&self, actor: &Actor, locale: Locale) -> Result<(), AccountError> {
        let mut user = self.user(actor.user_id).await?;
        user.locale = locale;
        Ok(self.store.update_user(&user).await?)
    }

    async fn user(&self, id: UserId) -> Result<User, AccountError> {
        self.store
            .user_by_id(id)
            .await?
            .ok_or(AccountError::NotFound)
    }

    fn require_admin(actor: &Actor) -> Result<(), AccountError> {
        if actor.is_admin() {
            Ok(())
        } else {
            Err(AccountError::Forbidden)
        }
    }

    /// The audit log, newest first: who did what, when and from where. Admins only.
    pub async fn audit_log(
        &self,
        actor: &Actor,
        offset: u64,
        limit: u64,
    ) -> Result<Vec<crate::audit::AuditEntry>, AccountError> {
        Self::require_admin(actor)?;
        Ok(self.store.recent(offset, limit.clamp(1, 500)).await?)
    }

    pub async fn list_users(
        &self,
        actor: &Actor,
        query: &UserQuery,
    ) -> Result<Vec<User>, AccountError> {
        Self::require_admin(actor)?;
        Ok(self.store.list_users(query).await?)
    }

    pub async fn get_user(&self, actor: &Actor, id: UserId) -> Result<User, AccountError> {
        Self::require_admin(actor)?;
        self.user(id).await
    }

    /// The admin changes someone's role. Company roles need a company; others drop it. The person
    /// is signed out everywhere so the new role applies at once.
    pub async fn set_role(
        &self,
        actor: &Actor,
        id: UserId,
        role: Role,
        company_id: Option<CompanyId>,
    ) -> Result<User, AccountError> {
        Self::require_admin(actor)?;
        if id == actor.user_id {
            return Err(AccountError::InvalidInput(
                "you cannot change your own role",
            ));
        }
        let mut user = self.user(id).await?;
        if role.belongs_to_company() != company_id.is_some() {
            return Err(AccountError::InvalidInput(
                "managers and employees need a company; other roles have none",
            ));
        }
        if let Some(company) = company_id
            && self.store.company_by_id(company).await?.is_none()
        {
            return Err(AccountError::NotFound);
        }
        let before = user.role;
        user.role = role;
        user.company_id = company_id;
        self.store.update_user(&user).await?;
        self.store.delete_user_sessions(id).await?;
        audit(
            self.store.as_ref(),
            self.env.as_ref(),
            actor,
            "user.set_role",
            format!("user:{id}"),
            format!("{} -> {}", before.as_str(), role.as_str()),
        )
        .await?;
        Ok(user)
    }

    pub async fn set_disabled(
        &self,
        actor: &Actor,
        id: UserId,
        disabled: bool,
    ) -> Result<User, AccountError> {
        Self::require_admin(actor)?;
        if id == actor.user_id {
            return Err(AccountError::InvalidInput("you cannot disable yourself"));
        }
        let mut user = self.user(id).await?;
        user.disabled = disabled;
        self.store.update_user(&user).await?;
        if disabled {
            self.store.delete_user_sessions(id).await?;
        }
        let action = if disabled {
            "user.disable"
        } else {
            "user.enable"
        };
        audit(
            self.store.as_ref(),
            self.env.as_ref(),
            actor,
            action,
            format!("user:{id}"),
            String::new(),
        )
        .await?;
        Ok(user)
    }

    /// The admin assigns an individual plan by hand (billing not configured, goodwill, support).
    pub async fn assign_plan(
        &self,
        actor: &Actor,
        id: UserId,
        plan_id: &str,
    ) -> Result<User, AccountError> {
        Self::require_admin(actor)?;
        let plan = self
            .catalog
            .get(plan_id)
            .filter(|p| p.audience == PlanAudience::Individual)
            .ok_or(AccountError::InvalidInput("unknown individual plan"))?;
        let mut user = self.user(id).await?;
        user.plan_id = plan.id.clone();
        self.store.update_user(&user).await?;
        audit(
            self.store.as_ref(),
            self.env.as_ref(),
            actor,
            "user.assign_plan",
            format!("user:{id}"),
            plan.id.clone(),
        )
        .await?;
        Ok(user)
    }
}

/// An argon2id hash of a random string, used only to spend the same time on unknown e-mails.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$W8yv6VbdhBHgRwvc7Hyx0CmlwQoU0J7dfUJ0KhqY4h8";
