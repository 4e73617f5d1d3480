//! The in-memory fake of every store port and the usage ledger. One mutex guards all state, so
//! every operation is atomic; it passes the same contract suite as the SQL adapters.

use chrono::{DateTime, Utc};
use domain::account::Session;
use domain::audit::AuditEntry;
use domain::budget::*;
use domain::conversation::SealedMessage;
use domain::library::{Document, Passage};
use domain::ports::*;
use domain::*;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

#[path = "billing_memory.rs"]
mod billing;
#[path = "safety_plan_memory.rs"]
mod safety_plan;

#[derive(Default)]
struct State {
    users: BTreeMap<UserId, User>,
    companies: BTreeMap<CompanyId, Company>,
    invitations: HashMap<String, Invitation>,
    sessions: HashMap<String, Session>,
    audit: Vec<AuditEntry>,
    messages: BTreeMap<MessageId, SealedMessage>,
    documents: BTreeMap<DocumentId, Document>,
    passages: BTreeMap<PassageId, Passage>,
    counters: HashMap<(Subject, i64), Counter>,
    topups: HashMap<Subject, TopUp>,
    reservations: HashMap<ReservationId, Reservation>,
    leases: HashMap<String, (String, DateTime<Utc>, String)>,
    crisis: BTreeMap<i64, u64>,
    values: HashMap<String, Vec<u8>>,
    billing: billing::BillingState,
    safety_plans: HashMap<UserId, domain::safety_plan::SealedSafetyPlan>,
}

#[derive(Clone, Default)]
pub struct MemoryStore {
    state: Arc<Mutex<State>>,
}

impl MemoryStore {
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock only happens in a failing test; keep going.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Readiness for MemoryStore {
    async fn ping(&self) -> StoreResult<()> {
        Ok(())
    }
}

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

impl ConversationStore for MemoryStore {
    async fn insert_messages(&self, messages: &[SealedMessage]) -> StoreResult<()> {
        insert_messages(&mut self.state(), messages)
    }

    async fn messages_page(
        &self,
        user: UserId,
        before: Option<MessageId>,
        limit: u64,
    ) -> StoreResult<Vec<SealedMessage>> {
        let s = self.state();
        Ok(s.messages
            .values()
            .rev()
            .filter(|m| m.user_id == user && before.is_none_or(|b| m.id < b))
            .take(limit.max(1) as usize)
            .cloned()
            .collect())
    }

    async fn delete_messages(&self, user: UserId) -> StoreResult<u64> {
        let mut s = self.state();
        let before = s.messages.len();
        s.messages.retain(|_, m| m.user_id != user);
        Ok((before - s.messages.len()) as u64)
    }
}

impl LibraryStore for MemoryStore {
    async fn document_by_source(&self, source: &str) -> StoreResult<Option<Document>> {
        Ok(self
            .state()
            .documents
            .values()
            .find(|d| d.source == source)
            .cloned())
    }

    async fn replace_document(&self, document: &Document, passages: &[Passage]) -> StoreResult<()> {
        let mut s = self.state();
        let old: Vec<DocumentId> = s
            .documents
            .values()
            .filter(|d| d.source == document.source)
            .map(|d| d.id)
            .collect();
        s.documents.retain(|id, _| !old.contains(id));
        s.passages.retain(|_, p| !old.contains(&p.document_id));
        s.documents.insert(document.id, document.clone());
        for p in passages {
            s.passages.insert(p.id, p.clone());
        }
        Ok(())
    }

    async fn retire_document(&self, id: DocumentId) -> StoreResult<()> {
        let mut s = self.state();
        s.documents.remove(&id).ok_or(StoreError::NotFound)?;
        s.passages.retain(|_, p| p.document_id != id);
        Ok(())
    }

    async fn list_documents(&self) -> StoreResult<Vec<Document>> {
        let mut list: Vec<Document> = self.state().documents.values().cloned().collect();
        list.sort_by(|a, b| a.title.cmp(&b.title));
        Ok(list)
    }

    async fn all_passages(&self) -> StoreResult<Vec<Passage>> {
        let mut list: Vec<Passage> = self.state().passages.values().cloned().collect();
        list.sort_by_key(|p| (p.document_id, p.ordinal));
        Ok(list)
    }
}

impl UsageLedger for MemoryStore {
    async fn reserve(&self, request: ReservationRequest) -> Result<Reservation, LedgerError> {
        let mut s = self.state();
        if s.reservations.contains_key(&request.id) {
            return Err(LedgerError::DuplicateReservation);
        }
        let parts = plan_parts(request.amount, &request.lines, |line| {
            s.balance(line.subject, line.period.key(), line.may_use_topup)
        })
        .map_err(|subject| LedgerError::InsufficientBudget { subject })?;
        for part in &parts {
            let with_topup = part.from_topup > 0;
            let mut balance = s.balance(part.subject, part.period_key, with_topup);
            part.hold(&mut balance);
            s.put_balance(part.subject, part.period_key, balance, with_topup);
        }
        let reservation = Reservation {
            id: request.id,
            amount: request.amount,
            parts,
            expires_at: request.expires_at,
        };
        s.reservations.insert(request.id, reservation.clone());
        Ok(reservation)
    }

    async fn settle(&self, id: ReservationId, actual: u64) -> Result<bool, LedgerError> {
        Ok(settle(&mut self.state(), id, actual))
    }

    async fn settle_turn(
        &self,
        reservation: &Reservation,
        actual: u64,
        exchange: &[SealedMessage; 2],
        lines: &[BudgetLine],
    ) -> Result<SettledTurn, LedgerError> {
        // One lock for all: the same all-or-nothing as the SQL adapters' transaction.
        let mut s = self.state();
        insert_messages(&mut s, exchange).map_err(|e| LedgerError::Unavailable(e.to_string()))?;
        let settled = settle(&mut s, reservation.id, actual);
        let balances = lines
            .iter()
            .map(|l| s.balance(l.subject, l.period.key(), l.may_use_topup))
            .collect();
        Ok(SettledTurn { settled, balances })
    }

    async fn reclaim_expired(&self, now: DateTime<Utc>) -> Result<u64, LedgerError> {
        let expired: Vec<ReservationId> = self
            .state()
            .reservations
            .values()
            .filter(|r| r.expires_at < now)
            .map(|r| r.id)
            .collect();
        let mut reclaimed = 0;
        for id in expired {
            if self.settle(id, 0).await? {
                reclaimed += 1;
            }
        }
        Ok(reclaimed)
    }

    async fn counter(&self, subject: Subject, period_key: i64) -> Result<Counter, LedgerError> {
        Ok(self
            .state()
            .counters
            .get(&(subject, period_key))
            .copied()
            .unwrap_or_default())
    }

    async fn topup(&self, subject: Subject) -> Result<TopUp, LedgerError> {
        Ok(self
            .state()
            .topups
            .get(&subject)
            .copied()
            .unwrap_or_default())
    }

    async fn add_topup(&self, subject: Subject, tokens: i64) -> Result<TopUp, LedgerError> {
        let mut s = self.state();
        let topup = s.topups.entry(subject).or_default();
        let balance = (topup.balance as i64 + tokens)
            .max(topup.reserved as i64)
            .max(0);
        topup.balance = balance as u64;
        Ok(*topup)
    }

    async fn topups_of(
        &self,
        subjects: Vec<Subject>,
    ) -> Result<Vec<(Subject, TopUp)>, LedgerError> {
        let s = self.state();
        Ok(subjects
            .into_iter()
            .filter_map(|subject| s.topups.get(&subject).map(|t| (subject, *t)))
            .collect())
    }

    async fn counters_in_period(
        &self,
        subjects: Vec<Subject>,
        period_key: i64,
    ) -> Result<Vec<(Subject, Counter)>, LedgerError> {
        let s = self.state();
        Ok(subjects
            .into_iter()
            .filter_map(|subject| {
                s.counters
                    .get(&(subject, period_key))
                    .map(|c| (subject, *c))
            })
            .collect())
    }
}

impl JobLeases for MemoryStore {
    async fn acquire_lease(
        &self,
        job: &str,
        holder: &str,
        now: DateTime<Utc>,
        ttl: chrono::Duration,
    ) -> StoreResult<Option<String>> {
        let mut s = self.state();
        match s.leases.get_mut(job) {
            None => {
                s.leases.insert(
                    job.to_string(),
                    (holder.to_string(), now + ttl, String::new()),
                );
                Ok(Some(String::new()))
            }
            Some((owner, expires, cursor)) if owner == holder || *expires < now => {
                *owner = holder.to_string();
                *expires = now + ttl;
                Ok(Some(cursor.clone()))
            }
            Some(_) => Ok(None),
        }
    }

    async fn save_progress(
        &self,
        job: &str,
        holder: &str,
        cursor: &str,
        now: DateTime<Utc>,
        ttl: chrono::Duration,
    ) -> StoreResult<bool> {
        let mut s = self.state();
        match s.leases.get_mut(job) {
            Some((owner, expires, saved)) if owner == holder => {
                *expires = now + ttl;
                *saved = cursor.to_string();
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn release_lease(&self, job: &str, holder: &str) -> StoreResult<()> {
        if let Some((owner, expires, _)) = self.state().leases.get_mut(job)
            && owner == holder
        {
            *expires = DateTime::<Utc>::UNIX_EPOCH;
        }
        Ok(())
    }
}

impl SafetyCounter for MemoryStore {
    async fn count_crisis(&self, day: i64) -> StoreResult<()> {
        *self.state().crisis.entry(day).or_default() += 1;
        Ok(())
    }

    async fn crisis_total(&self, since_day: i64) -> StoreResult<u64> {
        Ok(self.state().crisis.range(since_day..).map(|(_, n)| n).sum())
    }
}

impl KeyValue for MemoryStore {
    async fn get_value(&self, name: &str) -> StoreResult<Option<Vec<u8>>> {
        Ok(self.state().values.get(name).cloned())
    }

    async fn put_value_once(&self, name: &str, value: &[u8]) -> StoreResult<bool> {
        let mut s = self.state();
        if s.values.contains_key(name) {
            return Ok(false);
        }
        s.values.insert(name.to_string(), value.to_vec());
        Ok(true)
    }
}

impl UsageReports for MemoryStore {
    async fn usage_by_person(&self, period: Period) -> StoreResult<HashMap<UserId, u64>> {
        let s = self.state();
        let mut usage = HashMap::new();
        for ((subject, key), counter) in &s.counters {
            if let Subject::User(id) = subject
                && (period.key()..period.end.timestamp()).contains(key)
            {
                *usage.entry(*id).or_default() += counter.used;
            }
        }
        Ok(usage)
    }

    async fn company_members(
        &self,
        after: Option<CompanyId>,
        limit: u64,
    ) -> StoreResult<Vec<CompanyMembers>> {
        let s = self.state();
        let start = after.map_or(std::ops::Bound::Unbounded, std::ops::Bound::Excluded);
        Ok(s.companies
            .range((start, std::ops::Bound::Unbounded))
            .take(limit.max(1) as usize)
            .map(|(&company_id, _)| CompanyMembers {
                company_id,
                people: s
                    .users
                    .values()
                    .filter(|u| u.company_id == Some(company_id))
                    .map(|u| Member {
                        user_id: u.id,
                        email: u.email.as_str().to_string(),
                        display_name: u.display_name.clone(),
                        role: u.role,
                    })
                    .collect(),
            })
            .collect())
    }
}

/// Charges `actual` of reservation `id` and releases the rest; `false` when it is gone.
fn settle(s: &mut State, id: ReservationId, actual: u64) -> bool {
    let Some(reservation) = s.reservations.remove(&id) else {
        return false;
    };
    for part in &reservation.parts {
        let with_topup = part.from_topup > 0;
        let mut balance = s.balance(part.subject, part.period_key, with_topup);
        part.settle(actual, &mut balance);
        s.put_balance(part.subject, part.period_key, balance, with_topup);
    }
    true
}

impl State {
    /// A line's balance; the top-up is left at zero unless `with_topup`.
    fn balance(&self, subject: Subject, period_key: i64, with_topup: bool) -> Balance {
        Balance {
            counter: self
                .counters
                .get(&(subject, period_key))
                .copied()
                .unwrap_or_default(),
            topup: if with_topup {
                self.topups.get(&subject).copied().unwrap_or_default()
            } else {
                TopUp::default()
            },
        }
    }

    /// Stores a balance read by [`State::balance`] with the same `with_topup`.
    fn put_balance(
        &mut self,
        subject: Subject,
        period_key: i64,
        balance: Balance,
        with_topup: bool,
    ) {
        self.counters.insert((subject, period_key), balance.counter);
        if with_topup {
            self.topups.insert(subject, balance.topup);
        }
    }
}

fn insert_messages(s: &mut State, messages: &[SealedMessage]) -> StoreResult<()> {
    if messages.iter().any(|m| s.messages.contains_key(&m.id)) {
        return Err(StoreError::Conflict("messages.id".into()));
    }
    for m in messages {
        s.messages.insert(m.id, m.clone());
    }
    Ok(())
}
