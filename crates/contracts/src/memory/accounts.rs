//! The accounts part of the in-memory fake: users, companies, invitations, sessions, audit.

use super::MemoryStore;
use chrono::{DateTime, Utc};
use domain::account::Session;
use domain::audit::AuditEntry;
use domain::conversation::SealedMessage;
use domain::ports::*;
use domain::*;

impl UserStore for MemoryStore {
    async fn insert_user(&self, user: &User) -> StoreResult<()> {
        let mut s = self.state();
        if s.users.contains_key(&user.id) || s.users.values().any(|u| u.email == user.email) {
            return Err(StoreError::Conflict("users.email".into()));
        }
        s.users.insert(user.id, user.clone());
        Ok(())
    }

    async fn user_by_id(&self, id: UserId) -> StoreResult<Option<User>> {
        Ok(self.state().users.get(&id).cloned())
    }

    async fn user_by_email(&self, email: &Email) -> StoreResult<Option<User>> {
        Ok(self
            .state()
            .users
            .values()
            .find(|u| &u.email == email)
            .cloned())
    }

    async fn update_user(&self, user: &User) -> StoreResult<()> {
        let mut s = self.state();
        if s.users
            .values()
            .any(|u| u.email == user.email && u.id != user.id)
        {
            return Err(StoreError::Conflict("users.email".into()));
        }
        match s.users.get_mut(&user.id) {
            Some(slot) => {
                // Only payment events write the billing period (as in the SQL stores).
                let billing_period = slot.billing_period;
                *slot = User {
                    billing_period,
                    ..user.clone()
                };
                Ok(())
            }
            None => Err(StoreError::NotFound),
        }
    }

    async fn delete_user(&self, id: UserId) -> StoreResult<()> {
        let mut s = self.state();
        s.users.remove(&id).ok_or(StoreError::NotFound)?;
        s.sessions.retain(|_, v| v.user_id != id);
        s.messages.retain(|_, m| m.user_id != id);
        s.safety_plans.remove(&id);
        Ok(())
    }

    async fn list_users(&self, query: &UserQuery) -> StoreResult<Vec<User>> {
        let s = self.state();
        let needle = query.search.as_deref().map(|n| n.trim().to_lowercase());
        let mut users: Vec<User> = s
            .users
            .values()
            .filter(|u| query.company_id.is_none_or(|c| u.company_id == Some(c)))
            .filter(|u| match needle.as_deref() {
                None | Some("") => true,
                Some(n) => {
                    u.email.as_str().contains(n) || u.display_name.to_lowercase().contains(n)
                }
            })
            .cloned()
            .collect();
        users.sort_by(|a, b| a.email.as_str().cmp(b.email.as_str()));
        Ok(users
            .into_iter()
            .skip(query.offset as usize)
            .take(query.limit.max(1) as usize)
            .collect())
    }

    async fn count_users(&self) -> StoreResult<u64> {
        Ok(self.state().users.len() as u64)
    }

    async fn count_company_members(&self, company: CompanyId) -> StoreResult<u64> {
        let s = self.state();
        Ok(s.users
            .values()
            .filter(|u| u.company_id == Some(company))
            .count() as u64)
    }
}

impl CompanyStore for MemoryStore {
    async fn insert_company(&self, company: &Company) -> StoreResult<()> {
        let mut s = self.state();
        if s.companies.contains_key(&company.id) {
            return Err(StoreError::Conflict("companies.id".into()));
        }
        s.companies.insert(company.id, company.clone());
        Ok(())
    }

    async fn company_by_id(&self, id: CompanyId) -> StoreResult<Option<Company>> {
        Ok(self.state().companies.get(&id).cloned())
    }

    async fn update_company(&self, company: &Company) -> StoreResult<()> {
        match self.state().companies.get_mut(&company.id) {
            Some(slot) => {
                let billing_period = slot.billing_period;
                *slot = Company {
                    billing_period,
                    ..company.clone()
                };
                Ok(())
            }
            None => Err(StoreError::NotFound),
        }
    }

    async fn delete_company(&self, id: CompanyId) -> StoreResult<()> {
        let mut s = self.state();
        s.companies.remove(&id).ok_or(StoreError::NotFound)?;
        let members: Vec<UserId> = s
            .users
            .values()
            .filter(|u| u.company_id == Some(id))
            .map(|u| u.id)
            .collect();
        s.users.retain(|_, u| u.company_id != Some(id));
        s.sessions.retain(|_, v| !members.contains(&v.user_id));
        s.messages.retain(|_, m| !members.contains(&m.user_id));
        s.safety_plans.retain(|user, _| !members.contains(user));
        s.invitations.retain(|_, i| i.company_id != id);
        Ok(())
    }

    async fn list_companies(&self) -> StoreResult<Vec<Company>> {
        let mut list: Vec<Company> = self.state().companies.values().cloned().collect();
        list.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(list)
    }
}

impl InvitationStore for MemoryStore {
    async fn insert_invitation(&self, invitation: &Invitation) -> StoreResult<()> {
        let mut s = self.state();
        if s.invitations.contains_key(&invitation.token_hash) {
            return Err(StoreError::Conflict("invitations.token_hash".into()));
        }
        s.invitations
            .insert(invitation.token_hash.clone(), invitation.clone());
        Ok(())
    }

    async fn invitation_by_hash(&self, token_hash: &str) -> StoreResult<Option<Invitation>> {
        Ok(self.state().invitations.get(token_hash).cloned())
    }

    async fn mark_invitation_accepted(
        &self,
        token_hash: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let mut s = self.state();
        match s.invitations.get_mut(token_hash) {
            Some(i) if i.accepted_at.is_none() => {
                i.accepted_at = Some(at);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn invitations_of_company(&self, company: CompanyId) -> StoreResult<Vec<Invitation>> {
        let mut list: Vec<Invitation> = self
            .state()
            .invitations
            .values()
            .filter(|i| i.company_id == company)
            .cloned()
            .collect();
        list.sort_by_key(|i| std::cmp::Reverse(i.created_at));
        Ok(list)
    }

    async fn delete_invitation(&self, token_hash: &str) -> StoreResult<()> {
        self.state().invitations.remove(token_hash);
        Ok(())
    }

    async fn purge_expired_invitations(&self, now: DateTime<Utc>) -> StoreResult<u64> {
        let mut s = self.state();
        let before = s.invitations.len();
        s.invitations.retain(|_, i| i.expires_at >= now);
        Ok((before - s.invitations.len()) as u64)
    }
}

impl SessionStore for MemoryStore {
    async fn insert_session(&self, session: &Session) -> StoreResult<()> {
        let mut s = self.state();
        if s.sessions.contains_key(&session.token_hash) {
            return Err(StoreError::Conflict("sessions.token_hash".into()));
        }
        s.sessions
            .insert(session.token_hash.clone(), session.clone());
        Ok(())
    }

    async fn session_with_user(&self, token_hash: &str) -> StoreResult<Option<(Session, User)>> {
        let s = self.state();
        Ok(s.sessions.get(token_hash).and_then(|session| {
            let user = s.users.get(&session.user_id)?;
            Some((session.clone(), user.clone()))
        }))
    }

    async fn session_with_recent_messages(
        &self,
        token_hash: &str,
        limit: u64,
    ) -> StoreResult<Option<(Session, User, Vec<SealedMessage>)>> {
        let Some((session, user)) = self.session_with_user(token_hash).await? else {
            return Ok(None);
        };
        let recent = self.messages_page(user.id, None, limit).await?;
        Ok(Some((session, user, recent)))
    }

    async fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
        self.state().sessions.remove(token_hash);
        Ok(())
    }

    async fn delete_user_sessions(&self, user: UserId) -> StoreResult<u64> {
        let mut s = self.state();
        let before = s.sessions.len();
        s.sessions.retain(|_, v| v.user_id != user);
        Ok((before - s.sessions.len()) as u64)
    }

    async fn purge_expired_sessions(&self, now: DateTime<Utc>) -> StoreResult<u64> {
        let mut s = self.state();
        let before = s.sessions.len();
        s.sessions.retain(|_, v| v.expires_at > now);
        Ok((before - s.sessions.len()) as u64)
    }
}

impl AuditLog for MemoryStore {
    async fn record(&self, entry: &AuditEntry) -> StoreResult<()> {
        self.state().audit.push(entry.clone());
        Ok(())
    }

    async fn recent(&self, offset: u64, limit: u64) -> StoreResult<Vec<AuditEntry>> {
        let mut list = self.state().audit.clone();
        list.sort_by_key(|e| std::cmp::Reverse((e.at, e.id)));
        Ok(list
            .into_iter()
            .skip(offset as usize)
            .take(limit.max(1) as usize)
            .collect())
    }
}
