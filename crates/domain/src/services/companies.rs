//! Companies (platform admin) and their members (company manager).

use super::{Env, audit};
use crate::company::{Invitation, check_company_name};
use crate::plan::{PlanAudience, PlanCatalog};
use crate::ports::{AuditLog, CompanyStore, InvitationStore, StoreError, UserQuery, UserStore};
use crate::{Actor, Company, CompanyId, Email, Role, User, UserId};
use chrono::Duration;
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CompanyError {
    #[error("not allowed")]
    Forbidden,
    /// Also what another company's manager gets, so ids of other companies reveal nothing.
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    InvalidInput(&'static str),
    #[error("the company has no free seat (limit {0})")]
    SeatLimitReached(u32),
    #[error("this invitation is invalid, used or expired")]
    InvitationInvalid,
    #[error("this e-mail is already registered")]
    EmailTaken,
    #[error(transparent)]
    Storage(StoreError),
}

impl From<StoreError> for CompanyError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => CompanyError::NotFound,
            other => CompanyError::Storage(other),
        }
    }
}

/// Fields the admin sets on a company.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompanyDraft {
    pub name: String,
    pub seat_limit: u32,
    pub plan_id: String,
    pub system_prompt: Option<String>,
}

pub struct CompanyService<S, E> {
    pub store: Arc<S>,
    pub env: Arc<E>,
    pub catalog: Arc<PlanCatalog>,
    pub invitation_ttl: Duration,
}

impl<S, E> Clone for CompanyService<S, E> {
    fn clone(&self) -> Self {
        CompanyService {
            store: self.store.clone(),
            env: self.env.clone(),
            catalog: self.catalog.clone(),
            invitation_ttl: self.invitation_ttl,
        }
    }
}

pub const MAX_SEATS: u32 = 100_000;
pub const MAX_SYSTEM_PROMPT_CHARS: usize = 8_000;

impl<S, E> CompanyService<S, E>
where
    S: CompanyStore + UserStore + InvitationStore + AuditLog,
    E: Env,
{
    fn require_admin(actor: &Actor) -> Result<(), CompanyError> {
        if actor.is_admin() {
            Ok(())
        } else {
            Err(CompanyError::Forbidden)
        }
    }

    /// The company, if the actor may manage it. Another company's manager gets `NotFound`.
    pub async fn company(&self, actor: &Actor, id: CompanyId) -> Result<Company, CompanyError> {
        if !actor.can_manage_company(id) {
            return Err(if actor.role == Role::CompanyManager {
                CompanyError::NotFound
            } else {
                CompanyError::Forbidden
            });
        }
        self.store
            .company_by_id(id)
            .await?
            .ok_or(CompanyError::NotFound)
    }

    /// Checks a draft for company `id` (`None`: a company not created yet).
    fn check_draft(
        &self,
        draft: &CompanyDraft,
        id: Option<CompanyId>,
    ) -> Result<CompanyDraft, CompanyError> {
        let name = check_company_name(&draft.name).map_err(CompanyError::InvalidInput)?;
        if draft.seat_limit == 0 || draft.seat_limit > MAX_SEATS {
            return Err(CompanyError::InvalidInput(
                "seat limit must be between 1 and 100000",
            ));
        }
        let Some(plan) = self
            .catalog
            .get(&draft.plan_id)
            .filter(|p| p.audience == PlanAudience::Company)
        else {
            return Err(CompanyError::InvalidInput("unknown company plan"));
        };
        // A custom plan is for its one company only.
        if plan
            .company_only
            .is_some_and(|only| id != Some(CompanyId(only)))
        {
            return Err(CompanyError::InvalidInput(
                "this custom plan belongs to another company",
            ));
        }
        let system_prompt = draft
            .system_prompt
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_string);
        if system_prompt
            .as_ref()
            .is_some_and(|p| p.chars().count() > MAX_SYSTEM_PROMPT_CHARS)
        {
            return Err(CompanyError::InvalidInput("system prompt is too long"));
        }
        Ok(CompanyDraft {
            name,
            seat_limit: draft.seat_limit,
            plan_id: draft.plan_id.clone(),
            system_prompt,
        })
    }

    pub async fn create(
        &self,
        actor: &Actor,
        draft: &CompanyDraft,
    ) -> Result<Company, CompanyError> {
        Self::require_admin(actor)?;
        let draft = self.check_draft(draft, None)?;
        let company = Company {
            id: CompanyId(self.env.next_id()),
            name: draft.name,
            seat_limit: draft.seat_limit,
            plan_id: draft.plan_id,
            system_prompt: draft.system_prompt,
            created_at: self.env.now(),
            billing_period: None,
        };
        self.store.insert_company(&company).await?;
        self.audit(actor, "company.create", company.id, company.name.clone())
            .await?;
        Ok(company)
    }

    pub async fn update(
        &self,
        actor: &Actor,
        id: CompanyId,
        draft: &CompanyDraft,
    ) -> Result<Company, CompanyError> {
        Self::require_admin(actor)?;
        let mut company = self
            .store
            .company_by_id(id)
            .await?
            .ok_or(CompanyError::NotFound)?;
        let draft = self.check_draft(draft, Some(id))?;
        let members = self.store.count_company_members(id).await?;
        if u64::from(draft.seat_limit) < members {
            return Err(CompanyError::InvalidInput(
                "seat limit is below the number of current members",
            ));
        }
        company.name = draft.name;
        company.seat_limit = draft.seat_limit;
        company.plan_id = draft.plan_id;
        company.system_prompt = draft.system_prompt;
        self.store.update_company(&company).await?;
        self.audit(
            actor,
            "company.update",
            id,
            format!("seats={} plan={}", company.seat_limit, company.plan_id),
        )
        .await?;
        Ok(company)
    }

    /// Deletes the company with its members and invitations. The caller must repeat the exact
    /// company name as confirmation.
    pub async fn delete(
        &self,
        actor: &Actor,
        id: CompanyId,
        confirm_name: &str,
    ) -> Result<(), CompanyError> {
        Self::require_admin(actor)?;
        let company = self
            .store
            .company_by_id(id)
            .await?
            .ok_or(CompanyError::NotFound)?;
        if confirm_name.trim() != company.name {
            return Err(CompanyError::InvalidInput(
                "type the company name to confirm",
            ));
        }
        self.store.delete_company(id).await?;
        self.audit(actor, "company.delete", id, company.name)
            .await?;
        Ok(())
    }

    pub async fn list(&self, actor: &Actor) -> Result<Vec<Company>, CompanyError> {
        Self::require_admin(actor)?;
        Ok(self.store.list_companies().await?)
    }

    pub async fn members(&self, actor: &Actor, id: CompanyId) -> Result<Vec<User>, CompanyError> {
        self.company(actor, id).await?;
        Ok(self
            .store
            .list_users(&UserQuery {
                company_id: Some(id),
                limit: u64::from(MAX_SEATS),
                ..UserQuery::default()
            })
            .await?)
    }

    pub async fn pending_invitations(
        &self,
        actor: &Actor,
        id: CompanyId,
    ) -> Result<Vec<Invitation>, CompanyError> {
        self.company(actor, id).await?;
        let now = self.env.now();
        let mut list = self.store.invitations_of_company(id).await?;
        list.retain(|i| i.is_usable(now));
        Ok(list)
    }

    /// Invites someone by e-mail. Managers invite employees; the admin may also invite managers.
    /// Members plus pending invitations never exceed the seat limit. Returns the invitation and
    /// its one-time secret (to mail, or to show to the manager).
    pub async fn invite(
        &self,
        actor: &Actor,
        id: CompanyId,
        email: &str,
        role: Role,
    ) -> Result<(Invitation, String), CompanyError> {
        let company = self.company(actor, id).await?;
        let allowed = match role {
            Role::Employee => true,
            Role::CompanyManager => actor.is_admin() || actor.role == Role::CompanyManager,
            _ => false,
        };
        if !allowed {
            return Err(CompanyError::InvalidInput(
                "invitations are for managers or employees",
            ));
        }
        let email = Email::parse(email)
            .map_err(|_| CompanyError::InvalidInput("invalid e-mail address"))?;
        if self.store.user_by_email(&email).await?.is_some() {
            return Err(CompanyError::EmailTaken);
        }
        let pending = self.pending_invitations(actor, id).await?;
        let members = self.store.count_company_members(id).await?;
        if members + pending.len() as u64 >= u64::from(company.seat_limit) {
            return Err(CompanyError::SeatLimitReached(company.seat_limit));
        }
        let secret = self.env.new_secret();
        let now = self.env.now();
        let invitation = Invitation {
            token_hash: self.env.digest(&secret),
            company_id: id,
            email,
            role,
            invited_by: actor.user_id,
            created_at: now,
            expires_at: now + self.invitation_ttl,
            accepted_at: None,
        };
        self.store.insert_invitation(&invitation).await?;
        self.audit(
            actor,
            "company.invite",
            id,
            format!("{} as {}", invitation.email, role.as_str()),
        )
        .await?;
        Ok((invitation, secret))
    }

    /// The invitation behind a link, if it can still be used.
    pub async fn invitation(&self, secret: &str) -> Result<Invitation, CompanyError> {
        let invitation = self
            .store
            .invitation_by_hash(&self.env.digest(secret))
            .await?
            .ok_or(CompanyError::InvitationInvalid)?;
        if !invitation.is_usable(self.env.now()) {
            return Err(CompanyError::InvitationInvalid);
        }
        Ok(invitation)
    }

    /// Accepts an invitation: `user` is the account the invitee just set up (built by the account
    /// service with the invitation's role and company). The link works once, even under races.
    pub async fn accept(&self, secret: &str, user: &User) -> Result<(), CompanyError> {
        let invitation = self.invitation(secret).await?;
        if user.email != invitation.email
            || user.role != invitation.role
            || user.company_id != Some(invitation.company_id)
        {
            return Err(CompanyError::InvitationInvalid);
        }
        let company = self
            .store
            .company_by_id(invitation.company_id)
            .await?
            .ok_or(CompanyError::InvitationInvalid)?;
        if self.store.count_company_members(company.id).await? >= u64::from(company.seat_limit) {
            return Err(CompanyError::SeatLimitReached(company.seat_limit));
        }
        if !self
            .store
            .mark_invitation_accepted(&invitation.token_hash, self.env.now())
            .await?
        {
            return Err(CompanyError::InvitationInvalid);
        }
        match self.store.insert_user(user).await {
            Err(StoreError::Conflict(_)) => Err(CompanyError::EmailTaken),
            other => Ok(other?),
        }
    }

    pub async fn revoke_invitation(
        &self,
        actor: &Actor,
        id: CompanyId,
        token_hash: &str,
    ) -> Result<(), CompanyError> {
        self.company(actor, id).await?;
        let invitation = self
            .store
            .invitation_by_hash(token_hash)
            .await?
            .filter(|i| i.company_id == id)
            .ok_or(CompanyError::NotFound)?;
        self.store.delete_invitation(&invitation.token_hash).await?;
        self.audit(
            actor,
            "company.revoke_invitation",
            id,
            invitation.email.to_string(),
        )
        .await?;
        Ok(())
    }

    async fn member(
        &self,
        actor: &Actor,
        id: CompanyId,
        user: UserId,
    ) -> Result<User, CompanyError> {
        self.company(actor, id).await?;
        self.store
            .user_by_id(user)
            .await?
            .filter(|u| u.company_id == Some(id))
            .ok_or(CompanyError::NotFound)
    }

    /// Removes someone from the company. Their account stays theirs (with their private history)
    /// as an individual on the default plan.
    pub async fn remove_member(
        &self,
        actor: &Actor,
        id: CompanyId,
        user: UserId,
    ) -> Result<(), CompanyError> {
        let mut member = self.member(actor, id, user).await?;
        if member.id == actor.user_id {
            return Err(CompanyError::InvalidInput("you cannot remove yourself"));
        }
        member.role = Role::Individual;
        member.company_id = None;
        member.personal_cap = None;
        member.plan_id = self.catalog.default_individual.clone();
        self.store.update_user(&member).await?;
        self.audit(actor, "company.remove_member", id, format!("user:{user}"))
            .await?;
        Ok(())
    }

    /// Sets (or clears) a member's monthly cap within the company pool.
    pub async fn set_personal_cap(
        &self,
        actor: &Actor,
        id: CompanyId,
        user: UserId,
        cap: Option<u64>,
    ) -> Result<User, CompanyError> {
        let mut member = self.member(actor, id, user).await?;
        if cap.is_some_and(|c| c > 1_000_000_000) {
            return Err(CompanyError::InvalidInput("cap is too large"));
        }
        member.personal_cap = cap;
        self.store.update_user(&member).await?;
        let detail = cap.map_or_else(|| "none".to_string(), |c| c.to_string());
        self.audit(
            actor,
            "company.set_cap",
            id,
            format!("user:{user} cap={detail}"),
        )
        .await?;
        Ok(member)
    }

    async fn audit(
        &self,
        actor: &Actor,
        action: &str,
        id: CompanyId,
        detail: String,
    ) -> Result<(), CompanyError> {
        Ok(audit(
            self.store.as_ref(),
            self.env.as_ref(),
            actor,
            action,
            format!("company:{id}"),
            detail,
        )
        .await?)
    }
}
